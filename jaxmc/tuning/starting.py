"""pm.find_MAP: the maximum a posteriori point (log density without Jacobian terms, over the unconstrained
free variables), by compiled L-BFGS or, for the gradient-free methods, scipy.optimize on the jitted density."""

from __future__ import annotations

import warnings

import numpy as np

from jaxmc.aot import AheadOfTime
from jaxmc.graph import TensorVariable, toposort
from jaxmc.model import modelcontext
from jaxmc.tuning import lbfgs

# scipy.optimize.minimize's methods (lower case -> name): the gradient methods all run as compiled L-BFGS
GRADIENT_METHODS = ("L-BFGS-B", "BFGS", "CG", "Newton-CG", "TNC", "SLSQP", "trust-constr", "dogleg", "trust-ncg",
                    "trust-exact", "trust-krylov")
GRADIENT_FREE_METHODS = ("Powell", "Nelder-Mead", "COBYLA", "COBYQA")
METHODS = {m.lower(): m for m in GRADIENT_METHODS + GRADIENT_FREE_METHODS}


def find_MAP(start=None, vars=None, method="L-BFGS-B", return_raw=False, include_transformed=True,
             progressbar=True, progressbar_theme=None, maxeval=50000, model=None, *args, seed=None,
             initvals=None, random_seed=None, jitter=False, jitter_max_retries=10, idata_kwargs=None, **kwargs):
    """The local maximum a posteriori point of a model (PyMC's `pm.find_MAP`).

    Maximises the model's log density without the Jacobian terms of the transforms (as PyMC does) over the
    unconstrained values of `vars` (default: every continuous free variable; the others stay at `start`),
    starting at `start` (a dict by variable name, constrained values by the variable's name or unconstrained
    ones by the value variable's name, e.g. ``sigma_log__``; missing variables start at
    ``model.initial_point()``). `initvals=` is PyMC 6's name for `start`.

    `method`: any `scipy.optimize.minimize` method name. The gradient methods ("L-BFGS-B", "BFGS", "CG",
    "Newton-CG", "TNC", "SLSQP", "trust-*", "dogleg") all run the same compiled L-BFGS (optax, zoom line
    search) with scipy L-BFGS-B's stopping rules, the whole loop inside one jitted program. The gradient-free
    ones ("Powell", "Nelder-Mead", "COBYLA", "COBYQA") run `scipy.optimize.minimize` on the jitted density
    (Python per iteration); discrete variables in `vars` switch to "Powell", as in PyMC.
    `maxeval` caps the density evaluations; `maxiter=`, `tol=` and `options={"maxiter", "maxfun", "ftol",
    "gtol", "maxcor"}` are read as scipy reads them.

    Returns {name: value}: the value variables (transformed ones such as ``sigma_log__`` only when
    `include_transformed`), the constrained values and the deterministics; with `return_raw` also the
    optimiser's result (a `scipy.optimize.OptimizeResult`, or a dict with its fields and
    attribute access for the compiled L-BFGS). A non-converged run warns, as PyMC; Ctrl-C returns the best
    point so far with a warning. `jitter=True` starts at `start` plus U(-1, 1) noise (seeded by
    `random_seed`/`seed`) on the optimised variables, retried until the density is finite.
    """
    if isinstance(start, str):  # PyMC 6: find_MAP(method, ...)
        start, method = None, start
    if args:
        raise TypeError(f"find_MAP takes no extra positional arguments; found {len(args)}: {args!r}. Pass "
                        "options of the optimiser by keyword (maxiter=, tol=, options=).")
    if start is not None and initvals is not None:
        raise ValueError("find_MAP: pass the starting point as `start` or as `initvals`, not both")
    if seed is not None and random_seed is not None:
        raise ValueError("find_MAP: pass the seed as `seed` or as `random_seed`, not both")
    if idata_kwargs is not None:
        include_transformed = dict(idata_kwargs).get("include_transformed", include_transformed)
    if kwargs.pop("return_inferencedata", False):
        raise ValueError("find_MAP(return_inferencedata=True) is not supported by jaxmc: it returns PyMC's dict of "
                         "values; pass return_inferencedata=False or leave it out")
    if kwargs.pop("compute_hessian", False):
        raise ValueError("find_MAP(compute_hessian=True) is not supported by jaxmc; call pm.find_hessian(point) on "
                         "the result instead")
    start = initvals if start is None else start
    random_seed = seed if random_seed is None else random_seed
    method = canonical_method(method)
    scipy_kwargs = {k: kwargs[k] for k in ("options", "tol") if k in kwargs}
    if "maxiter" in kwargs:
        scipy_kwargs["options"] = {"maxiter": kwargs["maxiter"], **dict(scipy_kwargs.get("options") or {})}
    settings, maxiter = optimiser_settings(maxeval, kwargs)
    check_progressbar(progressbar)

    model = modelcontext(model)
    cm = model.compiled(jacobian=False)
    data = model.data_values()
    slots = selected_slots(model, cm, vars)
    discrete = [s.rv.name for s in slots if s.rv.owner.discrete]
    if discrete and method in GRADIENT_METHODS:
        warnings.warn(f"find_MAP: the discrete variables {discrete} have no gradient; using the gradient-free "
                      f"method 'Powell' instead of {method!r}.", UserWarning, stacklevel=2)
        method = "Powell"
    moving = np.concatenate([np.arange(s.start, s.stop) for s in slots])
    x0 = start_flat(model, cm, data, start)
    if jitter:
        x0 = jittered(cm, data, x0, moving, random_seed, jitter_max_retries)
    if method not in GRADIENT_METHODS:
        check_start(cm, data, x0)  # (the compiled L-BFGS checks its start itself)

    if method in GRADIENT_METHODS:
        x, result, values = run_lbfgs(model, cm, data, slots, moving, x0, settings, maxiter, progressbar, method)
    else:
        from jaxmc.tuning.gradient_free import run_scipy

        x, result = run_scipy(cm, data, moving, x0, method, int(maxeval), progressbar, scipy_kwargs)
        values = None
    if values is None:
        expand = model.program("find_MAP expand", None, lambda: AheadOfTime(cm.expand, quick_below=lbfgs.SMALL_PROGRAM))
        values = expand(x, data)
    point = map_point(cm, values, x, include_transformed)
    return (point, result) if return_raw else point


# ---------------------------------------------------------------------------------------------- arguments
def canonical_method(method) -> str:
    """scipy's spelling of a method name given in any case, or the error listing the valid ones."""
    if callable(method):
        raise TypeError("find_MAP(method=...) takes the name of a scipy.optimize.minimize method, not a callable; "
                        f"valid names are {list(METHODS.values())}")
    if isinstance(method, str) and method.lower() in METHODS:
        return METHODS[method.lower()]
    raise ValueError(f"find_MAP: unknown method {method!r}; valid methods are {list(METHODS.values())} (the "
                     "gradient methods all run jaxmc's compiled L-BFGS)")


def optimiser_settings(maxeval, kwargs: dict):
    """The L-BFGS settings and the iteration cap from maxeval and scipy's `maxiter=`, `tol=`, `options=`;
    pops what it reads from kwargs and refuses keywords no scipy method knows."""
    maxeval = positive_int("maxeval", maxeval)
    options = dict(kwargs.pop("options", None) or {})
    if "maxiter" in kwargs:
        options.setdefault("maxiter", kwargs.pop("maxiter"))
    tol = kwargs.pop("tol", None)
    for name in ("use_grad", "use_hess", "use_hessp", "backend", "compile_kwargs", "callback", "jac", "hess",
                 "hessp", "bounds", "constraints"):
        kwargs.pop(name, None)  # PyMC / scipy keywords with no meaning for a compiled gradient run
    if kwargs:
        raise TypeError(f"find_MAP got unexpected keyword arguments {sorted(kwargs)}; it takes PyMC's arguments "
                        "and scipy.optimize.minimize's `maxiter`, `tol` and `options`")
    ftol = float(options.get("ftol", lbfgs.FTOL if tol is None else tol))
    gtol = float(options.get("gtol", lbfgs.GTOL if tol is None else tol))
    for name, value in (("ftol", ftol), ("gtol", gtol)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"find_MAP: {name} must be a finite number >= 0, found {value!r}")
    maxiter = positive_int("maxiter", options.get("maxiter", maxeval))
    maxfun = positive_int("maxfun", options.get("maxfun", maxeval))
    memory = positive_int("maxcor", options.get("maxcor", lbfgs.MEMORY))
    return lbfgs.Settings(ftol, gtol, min(maxfun, maxeval), memory), min(maxiter, maxeval)


def positive_int(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"find_MAP: {name} must be a positive integer, found {value!r}")
    return int(value)


def check_progressbar(progressbar) -> None:
    if not isinstance(progressbar, (bool, np.bool_, str)):
        raise TypeError(f"find_MAP: progressbar must be True or False, found {type(progressbar).__name__}")


def selected_slots(model, cm, vars) -> list:
    """The slots (model order) of the variables to optimise: every continuous one by default; a Deterministic
    or Potential stands for the free variables it depends on (with a warning, as PyMC)."""
    if vars is None:
        slots = [s for s in cm.slots if not s.rv.owner.discrete]
        if not slots:
            raise ValueError("find_MAP: the model has no unobserved continuous variables to optimise")
        return slots
    vars = list(vars) if isinstance(vars, (list, tuple, set)) else [vars]
    by_name = {s.rv.name: s for s in cm.slots} | {s.name: s for s in cm.slots}
    chosen, derived = set(), []
    for var in vars:
        var = var.rv if isinstance(getattr(var, "rv", None), TensorVariable) else var  # value var -> its RV
        if not isinstance(var, (TensorVariable, str)):
            raise TypeError(f"find_MAP(vars=...): expected variables of the model or their names, found "
                            f"{type(var).__name__} {var!r}")
        name, node = (var, None) if isinstance(var, str) else (var.name, var)
        slot = by_name.get(name)
        if slot is not None and (node is None or node is slot.rv):
            chosen.add(slot.name)
            continue
        named = model.named_vars.get(name)
        if named is None or (node is not None and named is not node):
            raise ValueError(f"find_MAP(vars=...): {name!r} is not a variable of this model; its free variables "
                             f"are {[s.rv.name for s in cm.slots]}")
        inputs = free_inputs(cm, named)
        if not inputs:
            raise ValueError(f"find_MAP(vars=...): {name!r} is not a free variable and depends on none; pass "
                             f"free variables from {[s.rv.name for s in cm.slots]}")
        derived.append(name)
        chosen.update(s.name for s in inputs)
    if derived:
        warnings.warn(f"Intermediate variables (such as Deterministic or Potential) were passed ({derived}). "
                      "find_MAP will optimize the underlying free_RVs instead.", UserWarning, stacklevel=3)
    return [s for s in cm.slots if s.name in chosen]


def free_inputs(cm, node) -> list:
    """The free variables' slots a node (a Deterministic, Potential or observed variable) is computed from."""
    def stop_at_rvs(n):
        return () if n is not node and n in cm.slot_of else n.inputs

    found = {n for n in toposort([node], stop_at_rvs) if n is not node and n in cm.slot_of}
    return [s for s in cm.slots if s.rv in found]


def start_flat(model, cm, data, start) -> np.ndarray:
    """The flat unconstrained start: model.initial_point() overridden by `start` (constrained values by the
    variable's name, unconstrained ones by the value variable's name; deterministics' entries are ignored,
    so a previous find_MAP result is a valid start)."""
    base = np.array(cm.initial_flat())
    if start is None:
        return base
    if not hasattr(start, "items"):
        raise TypeError(f"find_MAP(start=...): expected a dict {{variable name: value}}, found "
                        f"{type(start).__name__}")
    transformed = {s.name: s for s in cm.slots if s.transform is not None}
    free = {s.rv.name for s in cm.slots}
    constrained, unconstrained = {}, {}
    for key, value in start.items():
        name = getattr(key, "name", key)
        if name in transformed:
            unconstrained[name] = value
        elif name in free:
            constrained[name] = value
        elif name not in {d.name for d in model.deterministics}:
            raise KeyError(f"find_MAP(start=...): {name!r} is not a free variable of the model; its free "
                           f"variables are {[s.rv.name for s in cm.slots]} (or their value variables "
                           f"{list(transformed)})")
    if constrained:
        from jaxmc.sampling.start import starting_points

        try:
            base = np.array(starting_points(model, cm, data, 1, initvals=constrained)[0][0])
        except (ValueError, TypeError, KeyError) as exc:
            raise type(exc)(str(exc).replace("initvals", "find_MAP start")) from None
    for name, value in unconstrained.items():
        slot = transformed[name]
        try:
            arr = np.asarray(value, dtype=base.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"find_MAP start[{name!r}] must be numeric, found {type(value).__name__}") from None
        try:
            arr = np.broadcast_to(arr, slot.shape)
        except ValueError:
            raise ValueError(f"find_MAP start[{name!r}] has shape {arr.shape} but {name!r} has shape "
                             f"{tuple(slot.shape)}; give an array of that shape (or a scalar)") from None
        base[slot.start:slot.stop] = arr.reshape(-1)
    return base


def jittered(cm, data, x0, moving, random_seed, tries: int):
    """x0 plus U(-1, 1) on the optimised coordinates, redrawn until the density is finite (up to `tries`)."""
    from jaxmc.seeds import seed_sequence

    rng = np.random.default_rng(seed_sequence(random_seed, "find_MAP(random_seed=...)"))
    x = x0
    for _ in range(max(int(tries), 1)):
        x = x0.copy()
        x[moving] += rng.uniform(-1.0, 1.0, moving.size)
        if np.isfinite(float(cm.logp_and_grad(x, data)[0])):
            break
    return x


def check_start(cm, data, x0, finite: bool | None = None) -> None:
    """PyMC's check of the starting point: the error naming the variables whose log density is not finite
    (`finite`: the caller's own evaluation of it, if it has one)."""
    if finite is None:
        finite = bool(np.isfinite(float(cm.logp_and_grad(x0, data)[0])))
    if finite:
        return
    from jaxmc.sampling import SamplingError

    terms = cm.point_function("terms")(cm.flat_to_point(x0))
    bad = {k: float(v) for k, v in terms.items() if not np.isfinite(v)}
    what = f"the log density is not finite at the starting point: {bad}" if bad else \
        "the gradient of the log density is not finite at the starting point"
    raise SamplingError(f"find_MAP: {what}. Starting point: "
                        f"{ {k: np.round(v, 3).tolist() for k, v in cm.flat_to_point(x0).items()} }. Pass "
                        "another `start`, or use model.debug() to see why.")


# ---------------------------------------------------------------------------------------------- running
def run_lbfgs(model, cm, data, slots, moving, x0, settings, maxiter, progressbar, method):
    """The compiled L-BFGS run: the flat optimum, the OptimizeResult for it and the named values there."""
    import jax.numpy as jnp

    from jaxmc.iterate import warn_interrupted

    everything = len(moving) == cm.size
    key = (None if everything else tuple(s.name for s in slots), settings)
    program = model.program("find_MAP", key, lambda: lbfgs.build(cm.logp, cm.expand, None if everything else
                                                                  jnp.asarray(moving), settings))
    state, interrupted, values = lbfgs.minimize(program, x0[moving], x0, data, maxiter, bool(progressbar))
    if int(state.nit) == 0 and int(state.status) == lbfgs.NOT_FINITE:
        check_start(cm, data, x0, finite=False)
    if int(state.nfev) == 0:  # Ctrl-C before the first evaluation
        state = state._replace(f=np.nan, g=np.full(len(moving), np.nan))
    z = np.asarray(state.z)
    x = x0.copy()
    x[moving] = z
    status = int(state.status)
    success = status in (lbfgs.CONVERGED_F, lbfgs.CONVERGED_G)
    message = "interrupted by Ctrl-C" if interrupted else lbfgs.message(status)
    result = lbfgs.OptimizeResult(x=z, fun=float(state.f), jac=np.asarray(state.g), nit=int(state.nit),
                            nfev=int(state.nfev), njev=int(state.nfev), status=0 if success else (
                                1 if status in (lbfgs.RUNNING, lbfgs.MAXEVAL) else 2),
                            success=success and not interrupted, message=message, method=method)
    if interrupted:
        warn_interrupted("find_MAP", int(state.nit), maxiter, stacklevel=4)
    elif not success:
        warnings.warn(f"The optimizer did not converge: {message}", UserWarning, stacklevel=4)
    return x, result, values


def map_point(cm, expanded: dict, x, include_transformed: bool) -> dict:
    """PyMC's result dict at flat x (`expanded`: cm.expand there): value variables (model order), constrained
    values of the transformed ones, deterministics; names ending in "__" (transformed values) only when
    include_transformed."""
    expanded = {k: np.asarray(v) for k, v in expanded.items()}
    flat = cm.flat_to_point(x)
    out = {}
    for s in cm.slots:
        out[s.name] = flat[s.name] if s.transform is not None else expanded[s.rv.name]
    for s in cm.slots:
        if s.transform is not None:
            out[s.rv.name] = expanded[s.rv.name]
    for det in cm.deterministics:
        out[det.name] = expanded[det.name]
    if not include_transformed:
        out = {k: v for k, v in out.items() if not k.endswith("__")}
    return out
