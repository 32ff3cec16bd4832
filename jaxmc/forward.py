"""Forward (ancestral) sampling: `pm.draw`, `.eval()`, and the shapes of variables at run time."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, aval_of, evaluate, toposort


def rv_shape(rv: TensorVariable, params, env) -> tuple[int, ...]:
    """Shape of a random variable given current data: dims follow the model's current dim lengths,
    observed variables follow their data, explicit shapes are fixed, otherwise the parameters decide."""
    dist = rv.owner
    model = getattr(rv, "model", None)
    dims = getattr(rv, "dims", None)
    if model is not None and dims and all(d is not None for d in dims):
        return tuple(model.dim_lengths[d] for d in dims)
    observed = getattr(rv, "observed", None)
    if observed is not None and observed in env:
        return tuple(jnp.shape(env[observed]))
    if dist.explicit_shape:
        return rv.shape
    k = dist.ndims_params or (0,) * len(params)
    batch = jnp.broadcast_shapes(*[jnp.shape(p)[: jnp.ndim(p) - n] for p, n in zip(params, k)]) \
        if params else ()
    supp = tuple(dist._supp_shape(*[aval_of(p) for p in params])) if dist.ndim_supp else ()
    return (*batch, *supp)


def rv_ancestors(outputs) -> list[TensorVariable]:
    """Random variables that outputs depend on, through parameters too, in creation order."""
    found: dict[int, TensorVariable] = {}
    frontier = [o for o in outputs if isinstance(o, TensorVariable)]
    while frontier:
        nxt = []
        for node in toposort(frontier):
            if node.kind == "rv" and node.id not in found:
                found[node.id] = node
                nxt.extend(p for p in node.owner.params if isinstance(p, TensorVariable))
                obs = getattr(node, "observed", None)
                if obs is not None:
                    nxt.append(obs)
        frontier = nxt
    return [found[i] for i in sorted(found)]


def data_leaves(outputs) -> list[TensorVariable]:
    nodes = []
    for rv in rv_ancestors(outputs):
        nodes.extend(p for p in rv.owner.params if isinstance(p, TensorVariable))
    return [n for n in toposort(list(outputs) + nodes) if n.kind == "data"]


def current_data_env(outputs) -> dict:
    """{data node: current value} for every data container outputs depend on."""
    env = {}
    for n in data_leaves(outputs):
        env[n] = jnp.asarray(n.model._data_values[n.name])
    return env


def ancestral_sample(outputs, key, env: dict, skip_observed_values: bool = True):
    """Draw every random variable that outputs depend on and that env lacks; returns output values."""
    for rv in rv_ancestors(outputs):
        if rv in env:
            continue
        params = evaluate(rv.owner.params, env)
        key, sub = jax.random.split(key)
        size = rv_shape(rv, params, env)
        env[rv] = rv.owner.random(sub, *params, size=size).astype(rv.dtype)
    return evaluate(outputs, env)


def draw(vars, draws: int = 1, random_seed=None, givens=None, **kwargs):
    """Draws of variables from their (prior) generative graph, like `pm.draw`."""
    single = isinstance(vars, TensorVariable)
    outs = [vars] if single else list(vars)
    key = _key(random_seed)
    env0 = current_data_env(outs)
    for k, v in (givens or {}).items():
        env0[k] = jnp.asarray(v)

    def one(k):
        return ancestral_sample(outs, k, dict(env0))

    keys = jax.random.split(key, draws)
    res = jax.jit(jax.vmap(one), compiler_options=config.compiler_options())(keys)
    res = [np.asarray(r[0] if draws == 1 else r) for r in res]
    return res[0] if single else res


def eval_node(node: TensorVariable, values: dict):
    env = current_data_env([node])
    names = {n.name: n for n in rv_ancestors([node]) + data_leaves([node])}
    for k, v in values.items():
        if isinstance(k, TensorVariable):
            env[k] = jnp.asarray(v)
        elif k in names:  # names of variables the node does not depend on are ignored
            env[names[k]] = jnp.asarray(v)
    return np.asarray(ancestral_sample([node], _key(None), env)[0])


def _key(random_seed):
    if isinstance(random_seed, jax.Array) and random_seed.dtype == jnp.uint32:
        return random_seed
    if isinstance(random_seed, np.random.Generator):
        random_seed = int(random_seed.integers(2**31))
    if random_seed is None:
        random_seed = int(np.random.SeedSequence().generate_state(1)[0] % (2**31))
    return jax.random.PRNGKey(int(random_seed))


def posterior_values(idata, model, names=None):
    """Free variables' draws from an InferenceData/DataTree posterior: ({name: (chain, draw, ...)}, (C, D))."""
    post = idata["posterior"] if not hasattr(idata, "posterior") else idata.posterior
    names = names or [rv.name for rv in model.free_RVs]
    missing = [n for n in names if n not in post]
    if missing:
        raise KeyError(f"The posterior lacks free variable(s) {missing} of the model; sample them (do not "
                       "drop them with var_names) to use this trace")
    values = {n: np.asarray(post[n].values) for n in names}
    first = next(iter(values.values())) if values else np.zeros((1, 1))
    return values, first.shape[:2]


# ---------------------------------------------------------------------- predictive sampling
def _forward_program(model, out_names: tuple, given_names: tuple):
    """jit(vmap) of one ancestral draw of `out_names`, given values of `given_names`; cached per model."""
    from jaxmc.compile import TRACE_COUNT

    key_ = ("forward", model._version, out_names, given_names)
    if key_ in model._compiled:
        return model._compiled[key_]
    outs = [model.named_vars[n] for n in out_names]
    given = [model.named_vars[n] for n in given_names]
    data_nodes = [n for n in model.data_vars] + [
        rv.observed for rv in model.observed_RVs if rv.observed.kind == "data" and rv.observed not in model.data_vars]

    def one(key, values, data):
        TRACE_COUNT["forward"] += 1
        env = {n: jnp.asarray(data[n.name]) for n in data_nodes}
        for node in given:
            env[node] = values[node.name]
        res = ancestral_sample(outs, key, env)
        return {n: jnp.asarray(v) for n, v in zip(out_names, res)}

    def chunk(key, start, values, data):
        n = jax.tree_util.tree_leaves(values)[0].shape[0] if values else data["__n__"].shape[0]
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(start + jnp.arange(n))
        return jax.vmap(one, in_axes=(0, 0, None))(keys, values, data)

    prog = _Program(chunk)
    model._compiled[key_] = prog
    return prog


class _Program:
    """A forward program compiled two ways, chosen by the output size of a call (`for_values`): small outputs (new rows,
    a few parameters) with jaxmc's fast-compiling CPU options (`config.compiler_options`; flagship, 10 new
    rows: first call 1.56 s -> 0.45 s), large ones (at least LARGE elements) with XLA's defaults, whose
    vectorized loops draw millions of values faster (5000 new rows x 4000 draws: 0.85 s against 1.19 s)."""

    LARGE = 4 * 2**20

    def __init__(self, fn):
        self.small = jax.jit(fn, compiler_options=config.compiler_options())
        self.large = jax.jit(fn)

    def eval_shape(self, *args):
        return jax.eval_shape(self.small, *args)  # the trace is cached per argument shapes

    def for_values(self, n_values: int):
        """The compiled program for calls that output `n_values` values."""
        return self.large if n_values >= self.LARGE else self.small


def map_draws(prog, key, values: dict, n: int, data: dict, max_chunk_bytes: int = 256 * 2**20,
              progress=None) -> dict:
    """Run a forward program over n draws in chunks of bounded size, into preallocated numpy arrays."""
    def probe_shapes(size):
        vals = {k: jax.ShapeDtypeStruct((size, *v.shape[1:]), v.dtype) for k, v in values.items()}
        dat = dict(data)
        if not values:
            dat["__n__"] = jax.ShapeDtypeStruct((size,), jnp.int32)
        return prog.eval_shape(key, jnp.int32(0), vals, dat)

    shapes = probe_shapes(n)  # the same shapes as the call when one chunk suffices: the trace is reused
    leaves = jax.tree_util.tree_leaves(shapes)
    per_row = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in leaves) // n
    size = int(max(1, min(n, max_chunk_bytes // max(per_row, 1))))
    call = prog.for_values(sum(int(np.prod(a.shape)) for a in leaves) // n * size)
    out = {k: np.empty(a.shape, a.dtype) for k, a in shapes.items()}
    for s in range(0, n, size):
        stop = min(n, s + size)
        part = {k: v[s:stop] for k, v in values.items()}
        if stop - s < size:  # pad to one compiled shape
            part = {k: np.concatenate([v, np.repeat(v[-1:], size - (stop - s), 0)]) for k, v in part.items()}
        dat = dict(data)
        if not values:
            dat["__n__"] = jnp.zeros(size, jnp.int32)
        res = call(key, jnp.int32(s), part, dat)
        for k, v in res.items():
            out[k][s:stop] = np.asarray(v)[: stop - s]
        if progress is not None:
            progress(stop, n)
    return out


def sample_prior_predictive(draws: int = 500, model=None, var_names=None, random_seed=None,
                            return_inferencedata: bool = True, idata_kwargs=None, samples=None, **kwargs):
    """Draws from the prior of every variable: groups `prior`, `prior_predictive`, `observed_data`."""
    from jaxmc import convert
    from jaxmc.model import modelcontext

    if kwargs:
        raise TypeError(f"sample_prior_predictive got unknown keyword argument(s) {sorted(kwargs)}; accepted: "
                        "draws, model, var_names, random_seed, return_inferencedata, idata_kwargs")
    model = modelcontext(model)
    draws = int(samples if samples is not None else draws)
    free = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    observed = [rv.name for rv in model.observed_RVs]
    names = list(var_names) if var_names is not None else free + observed
    unknown = [n for n in names if n not in free + observed]
    if unknown:
        raise KeyError(f"sample_prior_predictive: unknown var_names {unknown}; available {free + observed}")
    prog = _forward_program(model, tuple(names), ())
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    out = map_draws(prog, _key(random_seed), {}, draws, data)
    prior = {k: v[None] for k, v in out.items() if k in free}
    prior_pred = {k: v[None] for k, v in out.items() if k in observed}
    if not return_inferencedata:
        return {**prior, **prior_pred}
    return convert.to_inference_data(model, {"prior": prior, "prior_predictive": prior_pred,
                                             "observed_data": convert.observed_data(model)})


def _changed_data(idata, model) -> set[str]:
    """pm.Data names whose current values differ from those stored with the trace."""
    stored = {}
    for group in ("constant_data", "observed_data"):
        try:
            ds = idata[group] if not hasattr(idata, group) else getattr(idata, group)
        except (KeyError, AttributeError):
            continue
        for k in ds.data_vars if hasattr(ds, "data_vars") else ds.to_dataset().data_vars:
            stored[k] = np.asarray(ds[k].values)
    observed_by_data = {rv.observed.name: rv.name for rv in model.observed_RVs}
    changed = set()
    for node in model.data_vars:
        now = model._data_values[node.name]
        old = stored.get(node.name, stored.get(observed_by_data.get(node.name, ""), None))
        if old is None or old.shape != now.shape or not np.array_equal(old, now):
            changed.add(node.name)
    return changed


def _volatile(model, changed: set[str], redraw: set[str]) -> set[str]:
    """Names to re-draw or recompute: `redraw`, and everything downstream of changed data or of them."""
    volatile = set(redraw) | set(changed)
    for rv in model._rvs + model.deterministics:
        deps = rv.owner.params if rv.kind == "rv" else [rv]
        leaves = {n.name for n in toposort([d for d in deps if isinstance(d, TensorVariable)])
                  if n.kind in ("rv", "data", "det") and n is not rv}
        if leaves & volatile:
            volatile.add(rv.name)
    return volatile


def sample_posterior_predictive(trace, model=None, var_names=None, predictions: bool = False,
                                extend_inferencedata: bool = False, random_seed=None, progressbar: bool = True,
                                return_inferencedata: bool = True, idata_kwargs=None, sample_dims=None,
                                **kwargs):
    """Posterior predictive draws, vectorized over draws and chunked in memory (PyMC's API and rules).

    Observed variables are re-drawn; free variables come from the trace unless they depend on data changed
    (with `pm.set_data`) since sampling, in which case they are re-drawn given their parents' draws;
    deterministics downstream of anything re-drawn are recomputed. `predictions=True` writes the
    `predictions` and `predictions_constant_data` groups.
    """
    from jaxmc import convert
    from jaxmc.model import modelcontext

    if kwargs:
        raise TypeError(f"sample_posterior_predictive got unknown keyword argument(s) {sorted(kwargs)}; "
                        "accepted: trace, model, var_names, predictions, extend_inferencedata, random_seed, "
                        "progressbar, return_inferencedata, idata_kwargs")
    model = modelcontext(model)
    observed = [rv.name for rv in model.observed_RVs]
    out_names = list(var_names) if var_names is not None else observed
    unknown = [n for n in out_names if n not in model.named_vars]
    if unknown:
        raise KeyError(f"sample_posterior_predictive: unknown var_names {unknown}")
    changed = _changed_data(trace, model)
    volatile = _volatile(model, changed, set(observed) & set(out_names) | set(observed))
    free = [rv.name for rv in model.free_RVs]
    given = [n for n in free if n not in volatile]
    values, (nchain, ndraw) = posterior_values(trace, model, given)
    flat = {k: v.reshape(nchain * ndraw, *v.shape[2:]) for k, v in values.items()}
    prog = _forward_program(model, tuple(out_names), tuple(given))
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    n = nchain * ndraw
    bar = _progress_bar(progressbar, n)
    try:
        out = map_draws(prog, _key(random_seed), flat, n, data, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    result = {k: v.reshape(nchain, ndraw, *v.shape[1:]) for k, v in out.items()}
    if not return_inferencedata:
        return result
    group = "predictions" if predictions else "posterior_predictive"
    groups = {group: result}
    if predictions:
        groups["predictions_constant_data"] = convert.constant_data(model)
    if extend_inferencedata:
        return convert.add_groups(trace, model, groups)
    return convert.to_inference_data(model, groups)


class _progress_bar:
    def __init__(self, enabled, total):
        self.bar = None
        if enabled and total > 0:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("posterior predictive", total=total)

    def __bool__(self):
        return self.bar is not None

    def update(self, done, total):
        self.bar.update(self.task, completed=done)

    def close(self):
        self.bar.stop()
