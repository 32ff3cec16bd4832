"""Pathfinder variational inference (Zhang, Carpenter, Gelman & Vehtari 2022): L-BFGS paths in one jitted loop,
the best local normal approximation of each path, multi-path importance resampling; NUTS starting points."""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.iterate import run_loop, warn_interrupted
from jaxmc.model.context import modelcontext
from jaxmc.seeds import seed_sequence

IMPORTANCE_SAMPLING = ("psis", "psir", "identity", None)
RUNNING, CONVERGED_F, CONVERGED_G, NON_FINITE, MAX_ITER = 0, 1, 2, 3, 4
STATUS_NAMES = {RUNNING: "RUNNING", CONVERGED_F: "CONVERGED_FTOL", CONVERGED_G: "CONVERGED_GTOL",
                NON_FINITE: "NON_FINITE", MAX_ITER: "MAX_ITER_REACHED"}
INIT_NUM_PATHS, INIT_DRAWS_PER_PATH = 4, 250  # pathfinder_start: a quick fit, enough for starts and a variance
PSIS_MIN_DRAWS = 10  # fewer finite weights than this are not Pareto-smoothed
FINAL_DRAWS = 2**32 - 1  # fold_in index of the final draws (0 is the start, 1.. the iterations)


class Options(NamedTuple):
    """Settings of one Pathfinder fit (pymc-extras' names; `maxcor` already resolved to an int)."""

    maxcor: int
    maxiter: int
    ftol: float
    gtol: float
    maxls: int
    num_elbo_draws: int
    jitter: float
    epsilon: float
    num_draws_per_path: int
    init_tries: int


class Approx(NamedTuple):
    """A local normal approximation: an L-BFGS iterate, its gradient of -logp, and the inverse-Hessian history
    (diagonal `alpha`; the last `maxcor` accepted steps `S`, gradient changes `Z`, rows with `used` set)."""

    x: jax.Array
    g: jax.Array
    alpha: jax.Array
    S: jax.Array
    Z: jax.Array
    used: jax.Array


class PathState(NamedTuple):
    """One path's L-BFGS state, its last accepted iterate and history, and the best approximation so far."""

    x: jax.Array
    value: jax.Array  # -logp(x)
    g: jax.Array
    opt_state: object
    last: Approx  # the last accepted iterate (history included)
    best: Approx
    best_elbo: jax.Array
    best_index: jax.Array  # index of the best one among the accepted iterates
    n_iter: jax.Array
    n_accepted: jax.Array
    status: jax.Array
    key: jax.Array


class PathfinderResult(NamedTuple):
    """Per path: draws (paths, draws_per_path, size) from its best approximation, their log target and
    approximation densities, the best ELBO, its index among the accepted iterates, L-BFGS iterations, status."""

    draws: np.ndarray
    logp: np.ndarray
    logq: np.ndarray
    elbo: np.ndarray
    elbo_argmax: np.ndarray
    lbfgs_niter: np.ndarray
    status: np.ndarray
    interrupted: bool

    @property
    def failed(self) -> np.ndarray:
        return ~np.isfinite(self.elbo)


# ---------------------------------------------------------------------------------------------- the numerics
def default_maxcor(size: int) -> int:
    """pymc-extras' default history size: ceil(3 log N), at least 5."""
    return max(int(np.ceil(3 * np.log(max(size, 1)))), 5)


def update_alpha(alpha, s, z):
    """The diagonal of the inverse-Hessian estimate after a step s with gradient change z (the paper's
    Algorithm 3 update); kept as it was where the update is not finite and positive."""
    a = jnp.sum(alpha * z**2)
    b = jnp.sum(z * s)
    c = jnp.sum(s**2 / alpha)
    new = 1.0 / (a / (b * alpha) + z**2 / b - a * s**2 / (b * c * alpha**2))
    ok = jnp.all(jnp.isfinite(new) & (new > 0))
    return jnp.where(ok, new, alpha)


def inverse_hessian_factors(approx: Approx):
    """H = diag(alpha) + beta @ gamma @ beta.T, the L-BFGS inverse Hessian from the history (unused rows drop
    out: their columns of beta are zero)."""
    S, Z, used = approx.S.T, approx.Z.T, approx.used  # (N, J)
    J = used.shape[0]
    both = used[:, None] & used[None, :]
    SZ = S.T @ Z
    R = jnp.where(both, jnp.triu(SZ), 0.0) + jnp.diag(jnp.where(used, 0.0, 1.0))
    R_inv = jax.scipy.linalg.solve_triangular(R, jnp.eye(J, dtype=R.dtype), lower=False)
    eta = jnp.diag(R)
    aZ = approx.alpha[:, None] * Z
    beta = jnp.concatenate([aZ, S], axis=1)
    lower_right = R_inv.T @ (jnp.diag(eta) + Z.T @ aZ) @ R_inv
    gamma = jnp.block([[jnp.zeros((J, J), R.dtype), -R_inv], [-R_inv.T, lower_right]])
    return beta, gamma


def normal_draws(approx: Approx, u):
    """Draws phi = mu + H^(1/2) u of the approximation N(x - H g, H) for standard normal u (M, N), their log
    density, and diag(H) (the thin QR form of the paper's Algorithm 4: O(N J^2), never an N x N matrix)."""
    alpha = approx.alpha
    beta, gamma = inverse_hessian_factors(approx)
    sqrt_alpha = jnp.sqrt(alpha)
    Q, Rq = jnp.linalg.qr(beta / sqrt_alpha[:, None], mode="reduced")
    K = Rq.shape[0]
    inner = jnp.eye(K, dtype=alpha.dtype) + Rq @ gamma @ Rq.T
    L = jnp.linalg.cholesky(0.5 * (inner + inner.T))
    logdet = jnp.sum(jnp.log(alpha)) + 2.0 * jnp.sum(jnp.log(jnp.diag(L)))
    mu = approx.x - (alpha * approx.g + beta @ (gamma @ (beta.T @ approx.g)))
    Lm = L - jnp.eye(K, dtype=alpha.dtype)
    phi = mu + sqrt_alpha * ((u @ Q) @ Lm.T @ Q.T + u)
    n = u.shape[-1]
    logq = -0.5 * (logdet + jnp.sum(u * u, axis=-1) + n * jnp.log(2.0 * jnp.pi))
    QL = Q @ L
    h_diag = alpha * (1.0 + jnp.sum(QL * QL, axis=1) - jnp.sum(Q * Q, axis=1))
    return phi, logq, h_diag


def elbo_estimate(logp, approx: Approx, key, num, data):
    """Monte Carlo ELBO of the approximation with `num` draws; -inf where it is not finite."""
    u = jax.random.normal(key, (num, approx.x.shape[0]), approx.x.dtype)
    phi, logq, _ = normal_draws(approx, u)
    lp = jax.vmap(logp, in_axes=(0, None))(phi, data)
    elbo = jnp.mean(lp - logq)
    return jnp.where(jnp.isfinite(elbo), elbo, -jnp.inf)


# ---------------------------------------------------------------------------------------------- programs
class Programs(NamedTuple):
    """A fit's jitted programs (see `build_programs`)."""

    init: object
    chunk: object
    final: object
    expand: object


def build_programs(cm, maxcor: int, maxls: int, num_elbo_draws: int, num_draws_per_path: int) -> Programs:
    """The jitted programs of a fit: start the paths, run iterations start..stop of every path (vmapped) in one
    `lax.while_loop`, draw from each path's best approximation, expand draws to named values."""
    import optax

    from jaxmc.sampling.start import find_start

    logp = cm.logp
    opt = optax.lbfgs(memory_size=maxcor, linesearch=optax.scale_by_zoom_linesearch(
        max_linesearch_steps=maxls, initial_guess_strategy="one"))

    def init_one(key, base, jitter, data, tries):
        n = base.shape[0]
        x, _ = find_start(logp, jax.random.fold_in(key, 0), base, jitter, data, tries)
        value, g = jax.value_and_grad(lambda y: -logp(y, data))(x)
        empty = Approx(x, g, jnp.ones_like(x), jnp.zeros((maxcor, n), x.dtype), jnp.zeros((maxcor, n), x.dtype),
                       jnp.zeros(maxcor, bool))
        ok = jnp.isfinite(value) & jnp.all(jnp.isfinite(g))
        return PathState(x, value, g, opt.init(x), empty, empty, jnp.asarray(-jnp.inf, x.dtype), jnp.int32(-1),
                         jnp.int32(0), jnp.int32(0), jnp.where(ok, RUNNING, NON_FINITE).astype(jnp.int32), key)

    def step_one(st: PathState, data, tols):
        ftol, gtol, epsilon = tols

        def f(y):
            return -logp(y, data)

        updates, opt_state = opt.update(st.g, st.opt_state, st.x, value=st.value, grad=st.g, value_fn=f)
        x = st.x + updates
        value = optax.tree_utils.tree_get(opt_state, "value")
        g = optax.tree_utils.tree_get(opt_state, "grad")
        finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(g))
        s, z = x - st.last.x, g - st.last.g
        sz = jnp.sum(s * z)
        accept = finite & (sz > 0) & (sz >= epsilon * jnp.sum(z * z))
        last = st.last
        new_last = Approx(x, g, update_alpha(last.alpha, s, z), jnp.concatenate([last.S[1:], s[None]]),
                          jnp.concatenate([last.Z[1:], z[None]]), jnp.concatenate([last.used[1:], jnp.ones(1, bool)]))
        elbo = elbo_estimate(logp, new_last, jax.random.fold_in(st.key, st.n_iter + 1), num_elbo_draws, data)
        better = accept & (elbo > st.best_elbo)
        pick = lambda new, old, c: jax.tree.map(lambda a, b: jnp.where(c, a, b), new, old)  # noqa: E731
        rel = (st.value - value) / jnp.maximum(jnp.maximum(jnp.abs(st.value), jnp.abs(value)), 1.0)
        status = jnp.where(~finite, NON_FINITE, jnp.where(jnp.max(jnp.abs(g)) <= gtol, CONVERGED_G,
                                                            jnp.where(rel <= ftol, CONVERGED_F, RUNNING)))
        return PathState(jnp.where(finite, x, st.x), jnp.where(finite, value, st.value), jnp.where(finite, g, st.g),
                         opt_state, pick(new_last, last, accept), pick(new_last, st.best, better),
                         jnp.where(better, elbo, st.best_elbo), jnp.where(better, st.n_accepted, st.best_index),
                         st.n_iter + 1, st.n_accepted + accept.astype(jnp.int32), status.astype(jnp.int32), st.key)

    def step_all(states, data, tols):
        new = jax.vmap(step_one, in_axes=(0, None, None))(states, data, tols)
        done = states.status != RUNNING
        return jax.tree.map(lambda a, b: jnp.where(done.reshape(done.shape + (1,) * (a.ndim - 1)), b, a), new, states)

    @jax.jit
    def init(keys, bases, jitter, data, tries):
        return jax.vmap(init_one, in_axes=(0, 0, None, None, None))(keys, bases, jitter, data, tries)

    @jax.jit
    def chunk(states, start, stop, data, tols):
        def cond(c):
            return (c[0] < stop) & jnp.any(c[1].status == RUNNING)

        def body(c):
            return c[0] + 1, step_all(c[1], data, tols)

        _, states = jax.lax.while_loop(cond, body, (start, states))
        out = {"best_elbo": jnp.max(states.best_elbo), "running": jnp.sum(states.status == RUNNING)}
        return states, out

    @jax.jit
    def final(states, data):
        def one(st):
            key = jax.random.fold_in(st.key, FINAL_DRAWS)
            u = jax.random.normal(key, (num_draws_per_path, st.x.shape[0]), st.x.dtype)
            phi, logq, _ = normal_draws(st.best, u)
            lp = jax.vmap(logp, in_axes=(0, None))(phi, data)
            return phi, jnp.where(jnp.isfinite(lp), lp, -jnp.inf), logq

        return jax.vmap(one)(states)

    expand = jax.jit(jax.vmap(cm.expand, in_axes=(0, None)))
    return Programs(init, chunk, final, expand)


def programs_for(model, cm, opts: Options) -> Programs:
    key = (cm.jacobian, opts.maxcor, opts.maxls, opts.num_elbo_draws, opts.num_draws_per_path)
    return model.program("pathfinder", key, lambda: build_programs(cm, *key[1:]))


def run_paths(model, cm, data, keys, bases, opts: Options, progressbar: bool = False) -> PathfinderResult:
    """Single-path Pathfinder from each of the starting points `bases` (paths, size), all paths in one program
    (vmapped), each started at its base plus uniform(-jitter, jitter) on the continuous coordinates."""
    progs = programs_for(model, cm, opts)
    dtype = np.asarray(bases).dtype
    jitter = np.full(cm.size, opts.jitter, dtype)
    for s in cm.slots:
        if s.rv.owner.discrete:
            jitter[s.start:s.stop] = 0.0
    states = progs.init(jnp.asarray(keys), jnp.asarray(bases), jnp.asarray(jitter), data, opts.init_tries)
    tols = (jnp.asarray(opts.ftol, dtype), jnp.asarray(opts.gtol, dtype), jnp.asarray(opts.epsilon, dtype))

    def run_chunk(st, start, stop):
        return progs.chunk(st, start, stop, data, tols)

    def status(out, st):
        return f"best ELBO {float(out['best_elbo']):.4g}, paths running {int(out['running'])}"

    res = run_loop(run_chunk, states, opts.maxiter, description="Pathfinder", progressbar=progressbar,
                   status=status, finished=lambda out, st: int(out["running"]) == 0, chunk=opts.maxiter)
    if res.interrupted:
        warn_interrupted("Pathfinder", res.done, opts.maxiter)
    states = res.state
    phi, logp, logq = jax.device_get(progs.final(states, data))
    st = jax.device_get(states)
    status = np.where(st.status == RUNNING, MAX_ITER, st.status)
    return PathfinderResult(np.asarray(phi), np.asarray(logp), np.asarray(logq), np.asarray(st.best_elbo),
                            np.asarray(st.best_index), np.asarray(st.n_iter), status, res.interrupted)


# ---------------------------------------------------------------------------------------------- importance sampling
def psis_log_weights(logiw: np.ndarray):
    """Pareto-smoothed log weights (normalised) and the Pareto k of the finite entries, by ArviZ (0.x
    `az.psislw`, 1.x `arviz_stats`); (None, None) when ArviZ is not installed."""
    from jaxmc.convert import arviz_major

    try:
        if arviz_major() >= 1:
            from arviz_stats.base import array_stats

            # arviz_stats smooths the weights exp(-ary) (its LOO convention: ary is a log likelihood)
            smooth = lambda lw: array_stats.psislw(-lw, r_eff=1.0)  # noqa: E731
        else:
            from jaxmc.convert import import_arviz

            az = import_arviz()
            smooth = lambda lw: az.psislw(lw, reff=1.0)  # noqa: E731
    except ImportError:
        return None, None
    out = np.full_like(logiw, -np.inf)
    finite = np.isfinite(logiw)
    if finite.sum() < PSIS_MIN_DRAWS:  # too few for a tail fit: the weights as they are
        return logiw, float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw, k = smooth(logiw[finite])
    out[finite] = np.asarray(lw)
    return out, float(np.asarray(k))


def importance_resample(result: PathfinderResult, num_draws: int, method, key):
    """Pool the paths' draws (failed paths out), weight each by p/q, Pareto-smooth ("psis", "psir"), and draw
    `num_draws` without ("psis", "identity") or with ("psir") replacement: (draws (num_draws, size), Pareto k or
    None, warnings)."""
    n = result.draws.shape[-1]
    draws = result.draws.reshape(-1, n)
    logiw = (result.logp - result.logq)
    logiw = np.where(result.failed[:, None], -np.inf, logiw).reshape(-1)
    logiw = np.where(np.isfinite(logiw), logiw, -np.inf)
    notes, pareto_k, replace = [], None, method == "psir"
    if method in ("psis", "psir"):
        smoothed, pareto_k = psis_log_weights(logiw)
        if smoothed is None:
            notes.append("ArviZ is not installed: plain importance resampling instead of PSIS.")
        else:
            logiw = smoothed
    valid = int(np.isfinite(logiw).sum())
    if not replace and valid < num_draws:
        notes.append(f"Not enough valid samples: {valid} available out of {num_draws} requested. Switching to "
                     "psir importance sampling (draws with replacement).")
        replace = True
    p = np.exp(logiw - np.max(logiw))
    p = p / p.sum()
    pick, order = jax.random.split(jnp.asarray(key))
    idx = jax.random.choice(pick, draws.shape[0], (num_draws,), replace=replace, p=jnp.asarray(p))
    idx = jax.random.permutation(order, idx)  # without replacement the choice comes in order of weight
    return draws[np.asarray(idx)], pareto_k, notes


# ---------------------------------------------------------------------------------------------- user API
def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"fit_pathfinder({name}=...) must be an int >= {minimum}, found {value!r}")
    return int(value)


def _check_float(name, value, minimum=0.0):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, bool) or not math.isfinite(v) or v < minimum:
        raise ValueError(f"fit_pathfinder({name}=...) must be a finite number >= {minimum}, found {value!r}")
    return v


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"fit_pathfinder({name}=...) must be one of {list(choices)}, found {value!r}")
    return value


def make_options(size, maxcor, maxiter, ftol, gtol, maxls, num_elbo_draws, jitter, epsilon, num_draws_per_path,
                 max_init_retries=10) -> Options:
    """Checked options; `maxcor=None` resolves to pymc-extras' default for `size` unconstrained values."""
    maxcor = default_maxcor(size) if maxcor is None else _check_int("maxcor", maxcor)
    return Options(maxcor, _check_int("maxiter", maxiter), _check_float("ftol", ftol), _check_float("gtol", gtol),
                   _check_int("maxls", maxls), _check_int("num_elbo_draws", num_elbo_draws),
                   _check_float("jitter", jitter), _check_float("epsilon", epsilon),
                   _check_int("num_draws_per_path", num_draws_per_path),
                   _check_int("max_init_retries", max_init_retries, 0) + 1)


def _start_points(model, cm, data, initvals):
    """The support point (or the initvals) in the unconstrained space."""
    from jaxmc.sampling.start import starting_points

    base, _ = starting_points(model, cm, data, 1, initvals)
    return base[0]


def _check_model(cm):
    if cm.size == 0:
        raise ValueError("fit_pathfinder: the model has no free variables to fit; add a random variable that is "
                         "not observed, or use pm.sample_prior_predictive")
    discrete = [s.rv.name for s in cm.slots if s.rv.owner.discrete]
    if discrete:
        raise ValueError(f"fit_pathfinder: Pathfinder needs continuous free variables, and {discrete} are discrete; "
                         "marginalise them out or sample the model with pm.sample")


def fit_pathfinder(model=None, num_paths: int = 4, num_draws: int = 1000, num_draws_per_path: int = 1000,
                   maxcor: int | None = None, maxiter: int = 1000, ftol: float = 1e-5, gtol: float = 1e-8,
                   maxls: int = 1000, num_elbo_draws: int = 10, max_init_retries: int = 10, jitter: float = 2.0,
                   epsilon: float = 1e-12, importance_sampling="psis", progressbar: bool = True, concurrent=None,
                   cores=None, blas_cores="auto", mp_ctx=None, random_seed=None, postprocessing_backend="cpu",
                   inference_backend="pymc", pathfinder_kwargs=None, compile_kwargs=None, initvals=None,
                   add_pathfinder_groups: bool = True, display_summary="auto", store_diagnostics: bool = False):
    """Multi-path Pathfinder with pymc-extras' signature (`pmx.fit(method="pathfinder")`): `num_paths` L-BFGS
    paths from jittered starts, run together in one compiled program; each path's best normal approximation
    (highest ELBO) gives `num_draws_per_path` draws, pooled and importance-resampled to `num_draws`.

    Returns ArviZ data with a one-chain posterior (deterministics included) and, unless
    `add_pathfinder_groups=False`, a `sample_stats` group of diagnostics (`pareto_k`, `elbo`, per path
    `paths_elbo`, `paths_elbo_argmax`, `paths_lbfgs_niter`, ...). The process/backend options of pymc-extras
    (`concurrent`, `cores`, `blas_cores`, `mp_ctx`, `postprocessing_backend`, `inference_backend`,
    `compile_kwargs`, `display_summary`, `store_diagnostics`) are accepted and have no effect: the paths run
    vmapped in one XLA program. `pathfinder_kwargs` takes `jacobian` (default True).
    """
    model = modelcontext(model)
    num_paths = _check_int("num_paths", num_paths)
    num_draws = _check_int("num_draws", num_draws)
    if isinstance(importance_sampling, str):
        importance_sampling = importance_sampling.lower()
    _check_choice("importance_sampling", importance_sampling, IMPORTANCE_SAMPLING)
    _check_choice("concurrent", concurrent, (None, "process"))
    _check_choice("postprocessing_backend", postprocessing_backend, ("cpu", "gpu", None))
    _check_choice("inference_backend", inference_backend, ("pymc", "blackjax", None))
    kwargs = dict(pathfinder_kwargs or {})
    unknown = set(kwargs) - {"jacobian", "vectorize"}
    if unknown:
        raise ValueError(f"fit_pathfinder(pathfinder_kwargs=...): unknown keys {sorted(unknown)}; it takes "
                         "'jacobian' (and 'vectorize', which has no effect here)")
    cm = model.compiled(bool(kwargs.get("jacobian", True)))
    _check_model(cm)
    opts = make_options(cm.size, maxcor, maxiter, ftol, gtol, maxls, num_elbo_draws, jitter, epsilon,
                        num_draws_per_path, max_init_retries)
    seq = seed_sequence(random_seed, "fit_pathfinder(random_seed=...)")
    keys = seq.generate_state(2 * (num_paths + 1), dtype=np.uint32).reshape(num_paths + 1, 2)
    data = model.data_values()
    base = _start_points(model, cm, data, initvals)
    result = run_paths(model, cm, data, keys[:-1], np.broadcast_to(base, (num_paths, cm.size)), opts, progressbar)
    if result.failed.all():
        raise ValueError("fit_pathfinder: all paths failed (no iterate with a finite ELBO). Consider decreasing "
                         "the jitter, passing initvals=, or reparameterizing the model.")
    progs = programs_for(model, cm, opts)
    pareto_k, notes = None, []
    if importance_sampling is None:
        flat = result.draws
    else:
        flat, pareto_k, notes = importance_resample(result, num_draws, importance_sampling, keys[-1])
        flat = flat[None]
    for note in notes:
        warnings.warn(f"fit_pathfinder: {note}", UserWarning, stacklevel=2)
    chains, draws = flat.shape[:2]
    values = progs.expand(jnp.asarray(flat.reshape(chains * draws, -1)), data)
    values = {k: np.asarray(v).reshape((chains, draws) + np.shape(v)[1:]) for k, v in values.items()}
    return _inference_data(model, values, result, pareto_k, importance_sampling, num_draws, notes,
                           add_pathfinder_groups)


def _inference_data(model, values, result: PathfinderResult, pareto_k, method, num_draws, notes, add_stats):
    from jaxmc import convert

    groups = {"posterior": values, "observed_data": convert.observed_data(model),
              "constant_data": convert.constant_data(model)}
    idata = convert.to_inference_data(model, groups, attrs={"inference_method": "pathfinder"})
    if not add_stats:
        return idata
    ok = ~result.failed
    stats = {"num_paths": len(result.elbo), "num_draws": num_draws, "importance_sampling_method": method or "none",
             "pareto_k": np.nan if pareto_k is None else pareto_k, "all_paths_failed": not ok.any(),
             "num_successful_paths": int(ok.sum()), "elbo": float(np.max(result.elbo)),
             "lbfgs_niter_mean": np.mean(result.lbfgs_niter), "lbfgs_niter_std": np.std(result.lbfgs_niter),
             "elbo_argmax_mean": np.mean(result.elbo_argmax), "elbo_argmax_std": np.std(result.elbo_argmax),
             "paths_elbo": result.elbo, "paths_elbo_argmax": result.elbo_argmax,
             "paths_lbfgs_niter": result.lbfgs_niter,
             "paths_status": np.array([STATUS_NAMES[int(s)] for s in result.status]),
             "paths_logP_mean": _finite_mean(result.logp), "paths_logQ_mean": _finite_mean(result.logq)}
    stats = {k: np.asarray(v) for k, v in stats.items()}
    ds = convert.dataset(model, stats, sample_dims=(), dims_of={k: ["path"] for k in stats if k.startswith("paths_")},
                         attrs={"inference_method": "pathfinder", **({"warnings": notes} if notes else {})})
    if convert.arviz_major() >= 1:
        import xarray as xr

        idata["sample_stats"] = xr.DataTree(ds)
    else:
        idata.add_groups({"sample_stats": ds})
    return idata


def _finite_mean(a):
    a = np.where(np.isfinite(a), a, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.nanmean(a, axis=-1)


def pathfinder_start(model, cm, data, chains, key):
    """NUTS initialisation (`pm.sample(init="pathfinder")`): a quick multi-path Pathfinder fit from the support
    point; `chains` starting points (chains, cm.size) importance-resampled from its pooled draws without
    replacement, and the variance of the resampled draws (cm.size,) as the diagonal inverse mass matrix."""
    opts = make_options(cm.size, None, 1000, 1e-5, 1e-8, 1000, 10, 2.0, 1e-12, INIT_DRAWS_PER_PATH)
    key = jnp.asarray(jax.random.key_data(key) if jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key)
                      else key)
    keys = np.asarray(jax.random.split(key, INIT_NUM_PATHS + 1))
    base = np.asarray(cm.initial_flat())
    result = run_paths(model, cm, data, keys[:-1], np.broadcast_to(base, (INIT_NUM_PATHS, cm.size)), opts)
    if result.failed.all():
        raise ValueError("pm.sample(init='pathfinder'): all Pathfinder paths failed (no iterate with a finite "
                         "ELBO); use init='jitter+adapt_diag' or pass initvals=")
    pool = min(INIT_NUM_PATHS * INIT_DRAWS_PER_PATH // 2, int((~result.failed).sum()) * INIT_DRAWS_PER_PATH)
    draws, _, _ = importance_resample(result, max(pool, chains), "psis", keys[-1])
    inv_mass = np.var(draws, axis=0)
    inv_mass = np.where(np.isfinite(inv_mass) & (inv_mass > 0), inv_mass, 1.0)
    return jnp.asarray(draws[:chains]), jnp.asarray(inv_mass)
