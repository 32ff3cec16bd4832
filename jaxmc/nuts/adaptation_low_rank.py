"""nutpie's low-rank modified mass-matrix adaptation (and its full-rank "dense" variant) as a warm-up scheme, and the
choice between it and the diagonal schemes by ``NUTSOptions.mass_matrix``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import dual_averaging as da
from .adaptation import (
    NUTPIE_INITIAL_STEP,
    Adaptation,
    NutpieSchedule,
    build_adaptation,
    initial_step_of,
    inv_mass_from_draws_grads,
    inv_mass_from_grad,
    nutpie_schedule,
    nutpie_search_fns,
    nutpie_step_size,
    nutpie_window,
    tree_where,
)
from .metric import Metric, diagonal, low_rank
from .nuts import HMCState, NUTSInfo
from .options import NUTSOptions

Array = jax.Array

#: the values of ``NUTSOptions.mass_matrix``
MASS_MATRICES = ("auto", "diag", "low_rank", "dense")
#: nuts-rs ``LowRankSettings`` defaults: the regularisation of the draw and gradient covariances, and the cutoff
#: outside of which (``lambda > cutoff`` or ``lambda < 1 / cutoff``) an eigenvalue enters the metric
LOW_RANK_GAMMA = 1e-5
EIGVAL_CUTOFF = 2.0
#: nuts-rs ``LowRankNutsSettings``: after the early window the metric is refitted every this many draws
LOW_RANK_UPDATE_FREQ = 20
#: most low-rank columns kept (the most extreme eigenvalues outside the cutoff); the metric costs O(d k) per step
MAX_RANK = 16
#: up to this many dimensions the low-rank fit works in the whole (scaled) space; above, in the span of the leading
#: directions of the draws and of the gradients (eigen-decompositions stay small)
FULL_SPACE_DIM = 32
#: the window buffer's most rows: a longer window (from about 3600 tuning steps on) is fitted on its latest draws, so
#: that a refit's cost stays bounded (nuts-rs fits on the whole window)
MAX_WINDOW_ROWS = 2000
#: "auto" keeps the low-rank columns only when the fitted metric's condition number in the scaled space (largest over
#: smallest eigenvalue, 1 included) reaches this: below it the gain in step size is too small to pay for the O(d k)
#: work per leapfrog step and the chain runs the diagonal formulas (eight schools: 1, the radon model: about 10, the
#: correlated regressions kidiq, mesquite, kilpisjarvi: 100 to 10^5)
AUTO_MIN_CONDITION = 20.0
#: in the early window (fits on 10 to 20 draws) "auto" asks for this condition number instead: there sampling noise
#: alone gives condition numbers of 2 to a few hundred on a diagonal-enough posterior (eight schools: mostly under
#: 70), whose spurious corrections cost warm-up gradients, while the correlated regressions show 170 (kidiq) to 10^11
#: (diamonds) from the first fits
AUTO_EARLY_MIN_CONDITION = 100.0
#: "auto" also drops the low-rank columns when the Gaussian they fit leaves a sample Fisher divergence per dimension
#: above this (:func:`residual_fisher`): the posterior is then far from any Gaussian, and the correction's global
#: directions shorten trajectories more than they decorrelate draws (gp_pois_regr, a latent GP: 1.6, with 2.4x fewer
#: gradients per ESS but too few ESS in 4 x 1000 draws; the correlated regressions and time series: under 0.15)
AUTO_MAX_RESIDUAL = 0.5
#: "auto" uses the diagonal metric above this many dimensions: there the refits (every 10-20 warm-up draws) and the
#: window buffer (2 x 572 x d numbers per chain for 1000 tuning steps) cost more than the typical gain (the radon
#: model, 89 dimensions, whose fit finds a condition number of about 10: half the ESS per second warm, a third less
#: cold); "low_rank" has no limit
AUTO_MAX_DIM = 64
#: "dense" (a full-rank metric, O(d^2) per leapfrog step) is refused above this many dimensions
DENSE_MAX_DIM = 200
#: the fit's arithmetic, also for a float32 model (jaxmc runs JAX with float64 on, docs/xla.md): float32
#: eigen-decompositions resolve about 7 orders of magnitude of the 10^5 to 10^11 a correlated regression's fit spans
#: (docs/mass-matrix.md); the metric is applied in the model's precision
FIT_DTYPE = jnp.float64
#: the kept eigenvalues are clipped to ``[eps^p, eps^-p]`` of the model's precision (float32: about [6e-6, 2e5],
#: float64: [2e-12, 5e11]): applying ``I + U (diag(vals) - I) U^T`` cancels ``p`` in a direction whose eigenvalue is
#: far below 1, leaving rounding of about ``eps / vals`` relative there (docs/mass-matrix.md: diamonds in float32)
EIGVAL_EPS_POWER = 0.75


class LowRankAdaptState(NamedTuple):
    """Dual averaging plus a ring buffer of the window's draws and gradients (``slot_id``: the running number of the
    draw in each slot, -1 when empty); the foreground window holds draws from ``fg_start`` on, the background from
    ``bg_start`` on."""

    dual_avg: da.DualAveragingState
    draws: Array  # (capacity, d)
    grads: Array  # (capacity, d)
    slot_id: Array  # (capacity,)
    added: Array  # draws added so far
    fg_start: Array
    bg_start: Array
    has_initial_mass_matrix: Array  # True until the metric is first fitted
    search_pending: Array
    window_size: Array  # as in NutpieAdaptState


def check_mass_matrix(kind, adaptation: str, where: str = "nuts mass_matrix") -> None:
    """A mass_matrix value (``where`` names the argument in the error): one of :data:`MASS_MATRICES`, and
    ``"low_rank"`` / ``"dense"`` only with nutpie's adaptation."""
    if kind not in MASS_MATRICES:
        raise ValueError(f"{where} must be one of {MASS_MATRICES}, found {kind!r}")
    if kind in ("low_rank", "dense") and adaptation != "nutpie":
        raise ValueError(f"{where} {kind!r} needs adaptation='nutpie', found adaptation={adaptation!r}; use "
                         "mass_matrix='diag' or 'auto' with it")


def resolve_mass_matrix(options: NUTSOptions, dim: int) -> str:
    """The metric a chain of ``dim`` coordinates uses: "diag", "low_rank" or "dense" (``"auto"`` is low-rank with
    nutpie's adaptation for 2 <= dim <= :data:`AUTO_MAX_DIM`, else diagonal)."""
    kind = options.mass_matrix
    check_mass_matrix(kind, options.adaptation)
    if kind == "auto":
        return "low_rank" if options.adaptation == "nutpie" and 2 <= dim <= AUTO_MAX_DIM else "diag"
    if kind == "dense" and dim > DENSE_MAX_DIM:
        raise ValueError(f"nuts mass_matrix='dense' costs O(d^2) per leapfrog step and is limited to "
                         f"{DENSE_MAX_DIM} dimensions, found {dim}; use mass_matrix='low_rank' or 'auto'")
    return kind


def spd_mean_eigh(a: Array, b: Array) -> tuple[Array, Array]:
    """The eigen-decomposition ``(vals, vecs)`` of the SPD matrix ``S`` with ``S b S = a`` (the geometric mean of
    ``a`` and ``b^-1``), worked in the eigenbasis ``V`` of ``b = V E V^T``: there ``S' = E^(-1/2) (E^(1/2) V^T a V
    E^(1/2))^(1/2) E^(-1/2)`` and ``S = V S' V^T``, so the eigenvectors of ``S`` are ``V`` times those of ``S'``."""
    e, v = jnp.linalg.eigh(b)
    root = jnp.sqrt(e)
    outer = root[:, None] * root[None, :]
    e2, v2 = jnp.linalg.eigh((v.T @ a @ v) * outer)
    vals, w = jnp.linalg.eigh(((v2 * jnp.sqrt(jnp.maximum(e2, 0.0))) @ v2.T) / outer)
    return vals, v @ w


def _top_directions(z: Array, width: int, iterations: int = 3) -> Array:
    """An orthonormal (d x width) basis of the leading right singular directions of ``z`` (subspace iteration from
    a fixed start, so the fit stays a pure function of the window)."""
    start = jax.random.normal(jax.random.PRNGKey(0), (z.shape[1], width), z.dtype)
    q = jnp.linalg.qr(start)[0]
    for _ in range(iterations):
        q = jnp.linalg.qr(z.T @ (z @ q))[0]
    return q


def residual_fisher(total: Array, cov_x: Array, cov_g: Array, vecs: Array, vals: Array, count) -> Array:
    """The sample Fisher divergence per dimension left by the scaled-space metric ``Sigma = I + U (diag(vals) - I)
    U^T`` (``U = vecs``: orthonormal columns, or zero ones with ``vals`` 1): ``sum_i |Sigma^(1/2) g_i + Sigma^(-1/2)
    x_i|^2 / count`` over the centred, scaled draws ``x_i`` and gradients ``g_i`` (``count``: rows times dimensions).
    Zero when the window is exactly Gaussian with that covariance.

    Computed from ``total = sum_i |x_i + g_i|^2`` and the sums of products ``cov_x = sum_i x_i x_i^T``, ``cov_g``, in
    any coordinates of a subspace holding ``U``: as ``Sigma^(1/2)`` and ``Sigma^(-1/2)`` commute and multiply to the
    identity, the sum is ``total + sum_k (vals_k - 1) u_k^T cov_g u_k + (1 / vals_k - 1) u_k^T cov_x u_k``, with no
    further pass over the rows."""
    quad_g = jnp.sum(vecs * (cov_g @ vecs), axis=0)
    quad_x = jnp.sum(vecs * (cov_x @ vecs), axis=0)
    return (total + jnp.sum((vals - 1.0) * quad_g + (1.0 / vals - 1.0) * quad_x)) / count


def fit_metric(draws: Array, grads: Array, valid: Array, previous: Metric, cutoff: float | None,
               gamma: float = LOW_RANK_GAMMA, min_condition: float | None = None,
               max_residual=AUTO_MAX_RESIDUAL) -> tuple[Metric, Array]:
    """nutpie's low-rank modified metric from a window of draws and gradients (rows where ``valid``); returns it and
    whether it is finite.

    Diagonal scaling ``sigma^2 = sqrt(var(draws) / var(grads))``; in the scaled space (draws / sigma, gradients *
    sigma, centred) a subspace: the whole space for ``d <=`` :data:`FULL_SPACE_DIM` (and for ``cutoff`` None),
    else the ``k`` leading directions of the draws plus those of the gradients; there the covariances ``C_x = X X^T
    / gamma + I`` and ``C_g``, and the eigen-decomposition of ``S`` with ``S C_g S = C_x`` (the minimiser of the
    sample Fisher divergence among Gaussians). Eigenvalues outside ``[1 / cutoff, cutoff]`` are kept (all when
    ``cutoff`` is None), the ``k = previous.vecs.shape[1]`` most extreme ones; none when ``min_condition`` is given
    and the kept ones span a smaller condition number, or leave a residual Fisher divergence per dimension
    (:func:`residual_fisher`) above ``max_residual``.
    """
    dtype = draws.dtype
    dim = draws.shape[1]
    rank = previous.vecs.shape[1]
    w = valid.astype(dtype)[:, None]
    n = jnp.sum(w)
    mean_x = jnp.sum(w * draws, 0) / n
    mean_g = jnp.sum(w * grads, 0) / n
    dx = (draws - mean_x) * w
    dg = (grads - mean_g) * w
    inv_mass = inv_mass_from_draws_grads(jnp.sum(dx * dx, 0), jnp.sum(dg * dg, 0), previous.inv_mass)
    sigma = jnp.sqrt(inv_mass)
    xs, gs = dx / sigma, dg * sigma
    if dim <= FULL_SPACE_DIM or cutoff is None:
        basis = None
        px, pg = xs, gs
    else:
        width = (rank + 1) // 2  # the leading directions of each: a subspace of about k dimensions
        both = jnp.concatenate([_top_directions(xs, width), _top_directions(gs, width)], axis=1)
        basis = jnp.linalg.qr(both)[0]
        px, pg = xs @ basis, gs @ basis
    eye = jnp.eye(px.shape[1], dtype=dtype)
    cov_x, cov_g = px.T @ px, pg.T @ pg
    vals, vecs = spd_mean_eigh(cov_x / gamma + eye, cov_g / gamma + eye)
    keep = jnp.ones(vals.shape, bool) if cutoff is None else (vals > cutoff) | (vals < 1.0 / cutoff)
    if rank < vals.shape[0]:  # the most extreme ones (|log(vals)| largest)
        top, index = jax.lax.top_k(jnp.where(keep, jnp.maximum(vals, 1.0 / vals), 0.0), rank)
        keep, vals, vecs = top > 0, vals[index], vecs[:, index]
    kept = jnp.where(keep, vals, 1.0)
    if min_condition is not None:
        residual = residual_fisher(jnp.sum((xs + gs) ** 2), cov_x, cov_g, jnp.where(keep, vecs, 0.0), kept, n * dim)
        gaussian = residual <= max_residual
        keep = keep & gaussian & (jnp.maximum(jnp.max(kept), 1.0) / jnp.minimum(jnp.min(kept), 1.0) >= min_condition)
    vecs = vecs if basis is None else basis @ vecs
    metric = low_rank(inv_mass, jnp.where(keep, vecs, 0.0), jnp.where(keep, kept, 1.0))
    ok = jnp.all(jnp.isfinite(metric.vecs)) & jnp.all(jnp.isfinite(metric.vals)) & jnp.all(metric.vals > 0)
    return metric, ok


def _wide(a: Array) -> Array:
    """A floating array in :data:`FIT_DTYPE` where that is wider; others as they are."""
    if jnp.issubdtype(a.dtype, jnp.floating) and jnp.finfo(a.dtype).bits < jnp.finfo(FIT_DTYPE).bits:
        return a.astype(FIT_DTYPE)
    return a


def window_capacity(num_tune: int, sched: NutpieSchedule) -> int:
    """Rows of the window buffer: the most draws a foreground and background window hold together, at most
    :data:`MAX_WINDOW_ROWS`. After the early window a switch's foreground started after the early window, or holds at
    most one early background (fewer than ``early_switch_freq`` draws) and the draws since; before the final window,
    at most one early foreground and background more."""
    most = sched.final_window - sched.early_end + 2 * sched.early_switch_freq + 2
    return max(3, min(int(num_tune) + 1, most, MAX_WINDOW_ROWS))


def low_rank_adaptation(num_tune: int, options: NUTSOptions, dense: bool = False,
                        schedule: NutpieSchedule | None = None, min_condition: float | None = None) -> Adaptation:
    """nutpie's low-rank modified mass-matrix adaptation (nuts-rs ``LowRankMassMatrixStrategy``), or with
    ``dense`` its full-rank variant (every eigenvalue kept); ``min_condition`` as in :func:`fit_metric` ("auto").

    Windows, step size and the first step-size search as :func:`~jaxmc.nuts.adaptation.nutpie_adaptation`; the
    window's draws and gradients are kept in a buffer (foreground window: the last background window plus the
    draws since) and the metric is refitted (:func:`fit_metric`) every ``early_switch_freq`` draws in the early
    window (on the latest ``early_switch_freq`` draws of the window where they outnumber the dimensions, else on
    the window; "auto" keeps columns there from a condition number of :data:`AUTO_EARLY_MIN_CONDITION` on) and every
    :data:`LOW_RANK_UPDATE_FREQ` draws after, until the last 15% of tuning. Refits happen at step indices alone
    (``refit_due``), so that vectorized chains run the fit only at those steps, and run in ``refit``, which the chain
    applies between transitions.
    """
    sched = nutpie_schedule(num_tune) if schedule is None else schedule
    target_accept = options.target_accept
    initial_step = initial_step_of(options, NUTPIE_INITIAL_STEP)
    capacity = window_capacity(num_tune, sched)

    def init(hmc: HMCState):
        dtype = hmc.position.dtype
        dim = hmc.position.shape[0]
        rank = dim if dense else min(MAX_RANK, dim)
        buf = jnp.zeros((capacity, dim), dtype)
        step_size = jnp.asarray(initial_step, dtype)
        state = LowRankAdaptState(
            da.init(step_size), buf.at[0].set(hmc.position), buf.at[0].set(hmc.logdensity_grad),
            jnp.full((capacity,), -1, jnp.int32).at[0].set(0), jnp.int32(1), jnp.int32(0), jnp.int32(0),
            jnp.bool_(True), jnp.bool_(True), jnp.int32(sched.switch_freq),
        )
        return state, step_size, diagonal(inv_mass_from_grad(hmc.logdensity_grad), rank)

    search, searched = nutpie_search_fns(options, initial_step)

    def update(state: LowRankAdaptState, step_index, hmc: HMCState, info: NUTSInfo, step_size, metric: Metric):
        window = nutpie_window(sched, step_index, info, state.window_size, state.added - state.bg_start)
        in_mass_phase, add = window.in_mass_phase, window.add
        slot = state.added % capacity
        draws = state.draws.at[slot].set(jnp.where(add, hmc.position, state.draws[slot]))
        grads = state.grads.at[slot].set(jnp.where(add, hmc.logdensity_grad, state.grads[slot]))
        slot_id = state.slot_id.at[slot].set(jnp.where(add, state.added, state.slot_id[slot]))
        added = state.added + add.astype(jnp.int32)

        could_switch = added - state.bg_start >= window.switch_freq
        switch = in_mass_phase & could_switch & ~window.is_late
        fg_start = jnp.where(switch, state.bg_start, state.fg_start)
        bg_start = jnp.where(switch, added, state.bg_start)

        dual_avg, new_step, _ = nutpie_step_size(state.dual_avg, window, info, num_tune, target_accept)
        new_state = LowRankAdaptState(dual_avg, draws, grads, slot_id, added, fg_start, bg_start,
                                      state.has_initial_mass_matrix, jnp.bool_(False), window.window_size(switch))
        return new_state, new_step.astype(hmc.position.dtype), metric

    def refit_due(step_index, metric):
        """Refits every ``early_switch_freq`` draws in the early window, every LOW_RANK_UPDATE_FREQ after, until the
        mass-matrix phase ends: the step index alone decides (the same steps in every chain)."""
        if not isinstance(metric, Metric):
            return None
        draw = jnp.asarray(step_index, jnp.int32)
        freq = jnp.where(draw < sched.early_end, sched.early_switch_freq, LOW_RANK_UPDATE_FREQ)
        return (draw < sched.final_window) & ((draw + 1) % freq == 0)

    def refit(state: LowRankAdaptState, step_index, metric: Metric):
        """The metric fitted to the foreground window (after the update of ``step_index``, in :data:`FIT_DTYPE`; its
        eigenvalues clipped as :data:`EIGVAL_EPS_POWER` says), kept when it is finite and the window holds 3+ draws;
        the first such change asks for a new step-size search."""
        early = jnp.asarray(step_index, jnp.int32) < sched.early_end
        in_fg = (state.slot_id >= state.fg_start) & (state.slot_id >= 0)
        # in the early window, the latest early_switch_freq draws that entered the windows (those nuts-rs fits on at
        # a switch: the chain still moves towards the typical set, and older draws would hold the approach), where
        # they outnumber the dimensions: fewer span only a subspace, and sampling noise sets the rest of the fit
        latest = in_fg & (state.slot_id >= state.added - sched.early_switch_freq)
        valid = jnp.where(early & (jnp.sum(latest) > state.draws.shape[1]), latest, in_fg)
        # "auto" judges how Gaussian the window is only after the early window: the first windows still hold the
        # approach to the typical set, and a correction there speeds up warm-up even where the final metric is diagonal
        min_cond = (None if min_condition is None
                    else jnp.where(early, max(min_condition, AUTO_EARLY_MIN_CONDITION), min_condition))
        fitted, ok = fit_metric(_wide(state.draws), _wide(state.grads), valid, jax.tree_util.tree_map(_wide, metric),
                                None if dense else EIGVAL_CUTOFF, min_condition=min_cond,
                                max_residual=jnp.where(early, jnp.inf, AUTO_MAX_RESIDUAL))
        tiny = float(jnp.finfo(metric.vals.dtype).eps) ** EIGVAL_EPS_POWER
        fitted = fitted._replace(vals=jnp.clip(fitted.vals, tiny, 1.0 / tiny))
        fitted = jax.tree_util.tree_map(lambda a, b: a.astype(b.dtype), fitted, metric)
        did_change = ok & (state.added - state.fg_start >= 3)
        last = jnp.asarray(step_index, jnp.int32) == num_tune - 1
        new_state = state._replace(has_initial_mass_matrix=state.has_initial_mass_matrix & ~did_change,
                                   search_pending=did_change & state.has_initial_mass_matrix & ~last)
        return new_state, tree_where(did_change, fitted, metric)

    def step_size_bar(state: LowRankAdaptState):
        return da.final(state.dual_avg)

    return Adaptation(init, search, searched, update, step_size_bar, refit_due, refit)


def select_adaptation(num_tune: int, options: NUTSOptions) -> Adaptation:
    """The warm-up of ``options``: the scheme ``options.adaptation`` with the metric ``options.mass_matrix`` (see
    :func:`resolve_mass_matrix`; the choice needs the dimension, so it is made when ``init`` is traced)."""
    if options.mass_matrix == "diag":
        return build_adaptation(num_tune, options)
    resolve_mass_matrix(options, 2)  # bad names and combinations fail here, before tracing
    diag = build_adaptation(num_tune, options)
    schemes = {"low_rank": low_rank_adaptation(num_tune, options, min_condition=AUTO_MIN_CONDITION if
                                               options.mass_matrix == "auto" else None),
               "dense": low_rank_adaptation(num_tune, options, dense=True)}

    def init(hmc: HMCState):
        kind = resolve_mass_matrix(options, hmc.position.shape[0])
        return diag.init(hmc) if kind == "diag" else schemes[kind].init(hmc)

    low_rank = schemes["dense" if options.mass_matrix == "dense" else "low_rank"]

    def scheme(metric):
        return low_rank if isinstance(metric, Metric) else diag

    def owner(state):  # the scheme whose state this is
        return low_rank if isinstance(state, LowRankAdaptState) else diag

    def search(state, key, step_size, dtype):
        return owner(state).search(state, key, step_size, dtype)

    def searched(state, final):
        return owner(state).searched(state, final)

    def update(state, step_index, hmc, info, step_size, metric):
        return scheme(metric).update(state, step_index, hmc, info, step_size, metric)

    def step_size_bar(state):
        return diag.step_size_bar(state) if not isinstance(state, LowRankAdaptState) else da.final(state.dual_avg)

    def refit_due(step_index, metric):
        return scheme(metric).refit_due(step_index, metric)

    def refit(state, step_index, metric):
        return scheme(metric).refit(state, step_index, metric)

    return Adaptation(init, search, searched, update, step_size_bar, refit_due, refit)
