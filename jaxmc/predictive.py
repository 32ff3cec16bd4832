"""Prior and posterior predictive draws (PyMC 6's rules), vectorized over draws in chunks of bounded memory."""

from __future__ import annotations

import logging
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import chunks, config, convert, sharding
from jaxmc.exceptions import ImplicitFreezeWarning
from jaxmc.graph import TensorVariable
from jaxmc.graph.ancestral import ancestral_sample as graph_ancestral_sample
from jaxmc.graph.ancestral import prng_key
from jaxmc.model import modelcontext
from jaxmc.progress import ProgressBar
from jaxmc.sampling.settings import count
from jaxmc.seeds import int_seed
from jaxmc.trace_draws import read_trace

_log = logging.getLogger("jaxmc")


# ---------------------------------------------------------------------- predictive sampling
def ancestral_sample(outputs, key, env: dict):
    """Draw every random variable that outputs depend on and that env lacks; returns output values. As
    `jaxmc.graph.ancestral.ancestral_sample`, except that an observed variable without dims whose parameters no
    longer fit its data's shape (new predictors, observed data left as it was) takes the parameters' shape, as
    PyMC's does when its shape follows the predictors."""
    return graph_ancestral_sample(outputs, key, env, size_of=_predictive_size)


def _predictive_size(rv, params, size):
    if getattr(rv, "observed", None) is not None and not all(getattr(rv, "dims", None) or (None,)):
        return _observed_size(rv.owner, params, size)
    return size


def _observed_size(dist, params, data_shape):
    """The data's shape when the parameters broadcast to it, else the parameters' batch shape."""
    k = dist.ndims_params or (0,) * len(params)
    nsupp = dist.ndim_supp
    data_batch = tuple(data_shape[:len(data_shape) - nsupp])
    try:
        batch = jnp.broadcast_shapes(*[jnp.shape(p)[:jnp.ndim(p) - n] for p, n in zip(params, k)]) if params else ()
    except ValueError:
        return data_shape  # the parameters disagree among themselves: the draw reports it
    try:
        if jnp.broadcast_shapes(batch, data_batch) == data_batch:
            return data_shape
    except ValueError:
        pass
    return (*batch, *data_shape[len(data_shape) - nsupp:])


def _forward_program(model, out_names: tuple, given_names: tuple):
    """jit(vmap) of one ancestral draw of `out_names`, given values of `given_names`; cached per model."""
    return model.program("forward", (out_names, given_names),
                         lambda: _make_forward_program(model, out_names, given_names))


def _make_forward_program(model, out_names: tuple, given_names: tuple):
    outs = [model.named_vars[n] for n in out_names]
    given = [model.named_vars[n] for n in given_names]

    def one(key, values, data):
        env = model.data.env(data)
        for node in given:
            env[node] = values[node.name]
        res = ancestral_sample(outs, key, env)
        return {n: jnp.asarray(v) for n, v in zip(out_names, res)}

    def chunk(key, draw_index, values, data):
        """Draws number `draw_index` (one per row of `values`), each from the key folded with its number."""
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(draw_index)
        return jax.vmap(one, in_axes=(0, 0, None))(keys, values, data)

    return _Program(chunk)


class _Program:
    """A forward program compiled two ways, chosen by the size of the whole output (`for_values`): small outputs
    (new rows, a few parameters) with jaxmc's fast-compiling CPU options (`config.compiler_options`), large
    ones (at least LARGE elements) with XLA's defaults, whose vectorized loops draw millions of values faster
    (docs/predictive.md has the timings)."""

    LARGE = 4 * 2**20

    def __init__(self, fn):
        self.small = jax.jit(fn, compiler_options=config.compiler_options())
        self.large = jax.jit(fn)

    def eval_shape(self, *args):
        return jax.eval_shape(self.small, *args)  # the trace is cached per argument shapes

    def for_values(self, n_values: int):
        """The compiled program for `n_values` values of output in all (the calls, in chunks, share it)."""
        return self.large if n_values >= self.LARGE else self.small


def map_draws(prog, key, values: dict, n: int, data: dict, max_chunk_bytes: int = chunks.MAX_CHUNK_BYTES,
              progress=None) -> dict:
    """Run a forward program over n draws in chunks of bounded size, into preallocated numpy arrays."""
    def probe_shapes(size):
        vals = {k: jax.ShapeDtypeStruct((size, *v.shape[1:]), v.dtype) for k, v in values.items()}
        return prog.eval_shape(key, jax.ShapeDtypeStruct((size,), jnp.int64), vals, data)

    shapes = probe_shapes(n)  # the same shapes as the call when one chunk suffices: the trace is reused
    leaves = jax.tree_util.tree_leaves(shapes)
    per_row = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in leaves) // n
    size = chunks.rows_per_chunk(per_row, n, max_chunk_bytes)
    call = prog.for_values(sum(int(np.prod(a.shape)) for a in leaves))
    out = {k: np.empty(a.shape, a.dtype) for k, a in shapes.items()}

    def run(start, part):
        return call(key, jnp.arange(start, start + size, dtype=jnp.int64), part, data)

    return chunks.map_rows(run, values, n, size, out, progress)


def sample_prior_predictive(draws: int = 500, model=None, var_names=None, random_seed=None,
                            return_inferencedata: bool = True, idata_kwargs=None, samples=None, **kwargs):
    """Draws from the prior of every variable: groups `prior`, `prior_predictive`, `observed_data`."""

    if kwargs:
        raise TypeError(f"sample_prior_predictive got unknown keyword argument(s) {sorted(kwargs)}; accepted: "
                        "draws, model, var_names, random_seed, return_inferencedata, idata_kwargs")
    model = modelcontext(model).root  # inside a sub-model's `with`: the whole model
    draws = count("draws", samples if samples is not None else draws, 0, "sample_prior_predictive")
    random_seed = int_seed(random_seed, "sample_prior_predictive(random_seed=...)")
    labels = convert.check_idata_kwargs(idata_kwargs, "sample_prior_predictive")
    free = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    observed = [rv.name for rv in model.observed_RVs]
    names = ([var_names] if isinstance(var_names, str) else list(var_names)) if var_names is not None \
        else free + observed
    unknown = [n for n in names if n not in free + observed]
    if unknown:
        raise KeyError(f"sample_prior_predictive: unknown var_names {unknown}; available {free + observed}")
    prog = _forward_program(model, tuple(names), ())
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    out = map_draws(prog, prng_key(random_seed), {}, draws, data)
    prior = {k: v[None] for k, v in out.items() if k in free}
    prior_pred = {k: v[None] for k, v in out.items() if k in observed}
    if not return_inferencedata:
        return {**prior, **prior_pred}
    return convert.to_inference_data(model, {"prior": prior, "prior_predictive": prior_pred,
                                             "observed_data": convert.observed_data(model)}, **labels)


# ---------------------------------------------------------------------- what posterior predictive re-draws
def _as_names(arg, what: str) -> list[str] | None:
    if arg is None:
        return None
    names = [arg] if isinstance(arg, str) else list(arg)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"sample_posterior_predictive: {what} takes variable names (str or list of str), got {bad}")
    return list(dict.fromkeys(names))


def _changed_data(model, const: dict, obs: dict) -> set[str]:
    """pm.Data names whose current values differ from those stored with the trace (or are not stored there)."""
    observed_by_data = {rv.observed.name: rv.name for rv in model.observed_RVs}
    changed = set()
    for node in model.data_vars:
        now = model.data.value(node.name)
        old = const.get(node.name)
        if old is None:
            old = obs.get(observed_by_data.get(node.name, ""))
        if old is None or old.shape != now.shape:
            changed.add(node.name)
        elif old.dtype.kind == "f" or now.dtype.kind == "f":  # equal up to rounding, as PyMC compares
            if not np.allclose(old, now, equal_nan=True):
                changed.add(node.name)
        elif not np.array_equal(old, now):
            changed.add(node.name)
    return changed


def _changed_dims(model, trace_coords: dict) -> set[str]:
    """Dims whose coordinates differ from the trace's (labels where the model has labels, else the length), and
    dims the trace does not record."""
    changed = set()
    for dim, length in model.dim_lengths.items():
        old = trace_coords.get(dim)
        labels = model.coords.get(dim)
        if old is None:
            changed.add(dim)
        elif labels is not None:
            if len(labels) != len(old) or not np.all(np.asarray(labels) == np.asarray(old)):  # dtypes kept
                changed.add(dim)
        elif length != len(old):
            changed.add(dim)
    return changed


def _model_graph(model) -> tuple[dict[str, list[str]], list[str]]:
    """({name: the model variables and dims it depends on directly}, names with parents before children) over
    random variables, deterministics and potentials; data variables and dims are the roots."""
    named = model.named_vars

    def is_var(n):
        return n.name is not None and named.get(n.name) is n

    nodes = sorted([*model.basic_RVs, *model.deterministics, *model.potentials], key=lambda n: n.id)
    parents = {}
    for node in nodes:
        start = node.owner.params if node.kind == "rv" else node.inputs
        found, seen = [], set()
        stack = [p for p in start if isinstance(p, TensorVariable)]
        while stack:
            n = stack.pop()
            if n.id in seen:
                continue
            seen.add(n.id)
            if is_var(n):
                found.append(n.name)
                continue
            stack.extend(n.inputs)
            if n.kind == "rv" and n.owner is not None:  # a `.dist` inside an expression
                stack.extend(p for p in n.owner.params if isinstance(p, TensorVariable))
        if node.kind == "rv":  # its shape follows its dims' lengths
            found += [d for d in (getattr(node, "dims", None) or ()) if d is not None]
        parents[node.name] = found
    return parents, [n.name for n in nodes]


def _upstream(parents: dict, names, stop=frozenset()) -> set[str]:
    """Every model variable and dim that `names` depend on, however indirectly (not the names themselves); the
    search does not go past names in `stop`."""
    out, stack = set(), [p for n in names for p in parents.get(n, ())]
    while stack:
        n = stack.pop()
        if n not in out:
            out.add(n)
            if n not in stop:
                stack.extend(parents.get(n, ()))
    return out


class _Plan:
    """PyMC 6's rules for one posterior predictive call: which outputs are computed, which are copied from the
    trace, which trace values feed the computation, and which trace variables are frozen for a doubtful reason."""

    def __init__(self, model, graph, trace_names: set[str], changed: set[str], coords_changed_length: list,
                 outputs: list[str], sample_vars: list[str], freeze_vars: list[str]):
        parents, order = graph
        rv_names = [rv.name for rv in model.basic_RVs]
        sample, explicit = set(sample_vars), set(freeze_vars)
        auto = [n for n in rv_names if n in trace_names and n not in sample and n not in explicit]
        frozen = explicit | set(auto)
        volatile = set(changed)  # changed data and dims: the roots
        for name in order:
            if name in frozen:
                continue
            if (name in sample or (name in rv_names and name not in trace_names)
                    or any(p in volatile for p in parents[name])):
                volatile.add(name)
        self.computed = [n for n in outputs if not (n in trace_names and n not in volatile)]
        self.copied = [n for n in outputs if n not in self.computed]
        needed = _upstream(parents, self.computed, stop=frozen) | set(self.computed)
        self.given = [n for n in [*rv_names, *(d.name for d in model.deterministics)]
                      if n in needed and n in frozen and n not in self.computed]
        self.resampled = [n for n in rv_names if n in needed and n in volatile]
        resampled_sources = sample | {n for n in rv_names if n not in trace_names}
        reasons = {}
        for name in auto:
            up = _upstream(parents, [name])
            why = []
            data = sorted(up & changed)
            if data:
                why.append(f"upstream Data/coords changed ({', '.join(data)})")
            drawn = sorted(up & resampled_sources)
            if drawn:
                why.append(f"ancestor is resampled ({', '.join(drawn)})")
            if why:
                reasons[name] = why
        self.warning = None
        if reasons:
            details = "; ".join(f"{n!r} ({'; '.join(r)})" for n, r in sorted(reasons.items()))
            self.warning = (
                f"The following trace variables were implicitly frozen (their trace values are reused), but "
                f"something upstream of them suggests you may want them re-drawn: {details}. Pass them in "
                "`sample_vars` to re-draw them, or in `freeze_vars` to keep the trace values without this warning.")
            if coords_changed_length:
                moved = ", ".join(f"{d!r} ({a} -> {b})" for d, a, b in coords_changed_length)
                self.warning += (f" Coordinates changed length ({moved}); unless the affected variables are in "
                                 "`sample_vars`, their trace values no longer fit the model's shapes.")


def _output_names(model, parents: dict, var_names, sample_vars) -> list[str]:
    """var_names; else sample_vars; else the observed variables and the deterministics computed from them."""
    if var_names is not None:
        return var_names
    if sample_vars is not None:
        return sample_vars
    observed = {rv.name for rv in model.observed_RVs}
    rvs = {rv.name for rv in model.basic_RVs}

    def reaches_observed(name):  # through deterministics, not through other random variables
        stack, seen = list(parents.get(name, ())), set()
        while stack:
            n = stack.pop()
            if n in observed:
                return True
            if n in seen or n in rvs:
                continue
            seen.add(n)
            stack.extend(parents.get(n, ()))
        return False

    return [rv.name for rv in model.observed_RVs] + [d.name for d in model.deterministics
                                                     if reaches_observed(d.name)]


def sample_posterior_predictive(trace, model=None, var_names=None, predictions: bool = False,
                                extend_inferencedata: bool = False, random_seed=None, progressbar: bool = True,
                                return_inferencedata: bool = True, idata_kwargs=None, sample_dims=None, *,
                                sample_vars=None, freeze_vars=None, shard_dim=None, devices=None, **kwargs):
    """Posterior predictive draws, vectorized over draws and chunked in memory, with PyMC 6's rules.

    `sample_vars` (random variables or deterministics) are re-drawn or recomputed; random variables missing from
    the trace (observed ones included) are always drawn; changed data or coords (compared with the trace's
    `constant_data`, `observed_data` and coordinates) make what depends on them volatile. Volatility flows
    downstream through deterministics, which are recomputed, but stops at random variables that are in the
    trace: they keep their trace values (`ImplicitFreezeWarning` when something upstream of one is volatile),
    as do `freeze_vars`. `var_names` picks the outputs only (default: `sample_vars`, else the observed
    variables and the deterministics computed from them). `predictions=True` writes the `predictions` and
    `predictions_constant_data` groups. `shard_dim`/`devices` split the data over devices as in pm.sample
    (docs/scale.md).
    """

    for name in ("backend", "compile_kwargs", "progressbar_theme"):  # PyMC's compilation options: no effect
        kwargs.pop(name, None)
    if kwargs:
        raise TypeError(f"sample_posterior_predictive got unknown keyword argument(s) {sorted(kwargs)}; "
                        "accepted: trace, model, var_names, sample_vars, freeze_vars, predictions, "
                        "extend_inferencedata, random_seed, progressbar, return_inferencedata, idata_kwargs, "
                        "sample_dims, shard_dim, devices")
    idata_kwargs = convert.check_idata_kwargs(idata_kwargs, "sample_posterior_predictive")
    labels = {"coords": idata_kwargs.get("coords"), "dims": idata_kwargs.get("dims")}
    random_seed = int_seed(random_seed, "sample_posterior_predictive(random_seed=...)")
    model = modelcontext(model).root  # inside a sub-model's `with`: the whole model
    var_names = _as_names(var_names, "var_names")
    sample_vars = _as_names(sample_vars, "sample_vars")
    freeze_vars = _as_names(freeze_vars, "freeze_vars")
    for what, names in (("var_names", var_names), ("sample_vars", sample_vars), ("freeze_vars", freeze_vars)):
        unknown = [n for n in names or () if n not in model.named_vars]
        if unknown:
            raise KeyError(f"sample_posterior_predictive: unknown {what} {unknown}; the model's variables are "
                           f"{sorted(model.named_vars)}")
    rv_or_det = {rv.name for rv in model.basic_RVs} | {d.name for d in model.deterministics}
    not_rv = [n for n in sample_vars or () if n not in rv_or_det]
    if not_rv:
        raise ValueError(f"sample_vars {sorted(not_rv)} are not random variables or deterministics; only those "
                         "have values to re-draw or recompute")
    draws = read_trace(trace, sample_dims, model=model)
    const, obs, coords = draws.constant_data, draws.observed_data, draws.coords
    k = len(draws.sample_shape)
    traceable = {rv.name for rv in model.free_RVs} | {d.name for d in model.deterministics}
    trace_names = {n for n in draws.values if n in traceable and not _stale_imputation(model, n, draws.values[n], k)}
    not_in_trace = [n for n in freeze_vars or () if n not in trace_names]
    if not_in_trace:
        raise ValueError(f"freeze_vars {sorted(not_in_trace)} are not in the trace's posterior; only variables "
                         "with stored values can be frozen")
    both = sorted(set(sample_vars or ()) & set(freeze_vars or ()))
    if both:
        raise ValueError(f"Variables {both} are in both sample_vars and freeze_vars; a variable cannot be both "
                         "re-drawn and frozen")

    graph = _model_graph(model)
    out_names = list(dict.fromkeys(_output_names(model, graph[0], var_names, sample_vars)))
    length_changes = [(d, len(coords[d]), n) for d, n in model.dim_lengths.items()
                      if d in coords and len(coords[d]) != n]
    plan = _Plan(model, graph, trace_names, _changed_data(model, const, obs) | _changed_dims(model, coords),
                 length_changes, out_names, sample_vars or [], freeze_vars or [])
    if plan.warning:
        warnings.warn(plan.warning, ImplicitFreezeWarning, stacklevel=2)
    _log.info("Sampling: [%s]", ", ".join(plan.resampled))

    if model.potentials:
        warnings.warn("The effect of Potentials on other parameters is ignored during posterior predictive "
                      "sampling. This is likely to lead to invalid or biased predictive samples.", UserWarning,
                      stacklevel=2)
    n, shape = draws.n, draws.sample_shape
    result = {}
    if plan.computed:
        flat = draws.flat(plan.given)
        _check_frozen_shapes(model, flat)
        prog = _forward_program(model, tuple(plan.computed), tuple(plan.given))
        data = sharding.placed_data(model, shard_dim, devices, "sample_posterior_predictive")
        with ProgressBar("posterior predictive", n, progressbar) as bar:
            out = map_draws(prog, prng_key(random_seed), flat, n, data, progress=bar.update)
        result = {k: v.reshape(*shape, *v.shape[1:]) for k, v in out.items()}
    for name in plan.copied:
        result[name] = draws.values[name]
    result = {k: result[k] for k in out_names}
    if not return_inferencedata:
        return result
    group = "predictions" if predictions else "posterior_predictive"
    groups = {group: result}
    if predictions:
        groups["predictions_constant_data"] = convert.constant_data(model)
    sample = {"sample_dims_of": {group: draws.sample_dims}, "sample_coords": draws.sample_coords}
    if extend_inferencedata and draws.idata is not None:
        return convert.add_groups(draws.idata, model, groups, **sample, **labels)
    return convert.to_inference_data(model, groups, **sample, **labels)


def _stale_imputation(model, name: str, values, k: int) -> bool:
    """Whether trace variable `name` is the missing part of imputed data (`<name>_unobserved`) that now has a
    different number of missing values (a rebuilt model on other data): it is then drawn anew, as PyMC does."""
    node = model.named_vars[name]
    return getattr(node, "imputation_of", None) is not None and tuple(values.shape[k:]) != tuple(node.shape)


def _check_frozen_shapes(model, values: dict):
    """Trace values of variables with dims must still fit the dims' current lengths (values: flat draws)."""
    for name, v in values.items():  # v: (draws, ...)
        dims = model.named_vars_to_dims.get(name)
        if not dims or any(d is None for d in dims) or len(dims) != v.ndim - 1:
            continue
        now = tuple(model.dim_lengths[d] for d in dims)
        if tuple(v.shape[1:]) != now:
            raise ValueError(
                f"sample_posterior_predictive: the trace's {name!r} has shape {tuple(v.shape[1:])} along dims "
                f"{tuple(dims)}, which now have lengths {now}; pass {name!r} in sample_vars to re-draw it")
