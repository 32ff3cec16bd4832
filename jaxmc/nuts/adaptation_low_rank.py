"""nutpie's low-rank modified mass-matrix adaptation (and its full-rank "dense" variant) as a warm-up scheme, and the
choice between it and the diagonal schemes by ``NUTSOptions.mass_matrix``."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import dual_averaging as da
from .adaptation import (
    NUTPIE_INITIAL_STEP,
    VARIANCE_CLIP,
    Adaptation,
    NutpieSchedule,
    build_adaptation,
    initial_step_of,
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
#: after the early window a metric without low-rank columns, whose latest fit found no eigenvalue outside the cutoff,
#: is refitted at every this many-th refit only (its scaling follows the window after every draw)
INACTIVE_REFIT_EVERY = 4
#: most low-rank columns kept (the most extreme eigenvalues outside the cutoff); the metric costs O(d k) per step
MAX_RANK = 16
#: up to this many dimensions the low-rank fit works in the whole (scaled) space, from running moments of the windows
#: (:class:`WindowSums`); above, in the span of the leading directions of the draws and of the gradients (eigen-
#: decompositions stay small), from the window's rows (:class:`WindowRows`)
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


class Moments(NamedTuple):
    """Running (Welford) moments of the draws ``x`` and gradients ``g`` of one window: the count, the means and the
    centred sums of products ``sum (x - mean_x)(x - mean_x)^T``, the same for ``g``, and ``sum (x - mean_x)(g -
    mean_g)^T``."""

    n: Array
    mean_x: Array
    mean_g: Array
    cxx: Array
    cgg: Array
    cxg: Array


class WindowSums(NamedTuple):
    """The windows as running moments (up to :data:`FULL_SPACE_DIM` dimensions): the foreground window's and the
    background window's, plus the latest ``early_switch_freq`` draws row by row (the early window's fits use those;
    ``recent_id``: the running number of the draw in each row, -1 when empty)."""

    fg: Moments
    bg: Moments
    recent_x: Array  # (early_switch_freq, d)
    recent_g: Array
    recent_id: Array


class WindowRows(NamedTuple):
    """The windows row by row (above :data:`FULL_SPACE_DIM` dimensions): a ring buffer of the draws and gradients
    (``slot_id``: the running number of the draw in each slot, -1 when empty)."""

    draws: Array  # (capacity, d)
    grads: Array  # (capacity, d)
    slot_id: Array  # (capacity,)


class LowRankAdaptState(NamedTuple):
    """Dual averaging plus the windows' draws and gradients (``window``); the foreground window holds draws from
    ``fg_start`` on, the background from ``bg_start`` on (running numbers of the draws that entered the windows)."""

    dual_avg: da.DualAveragingState
    window: WindowSums | WindowRows
    added: Array  # draws added so far
    fg_start: Array
    bg_start: Array
    has_initial_mass_matrix: Array  # True until the metric is first fitted
    search_pending: Array
    window_size: Array  # as in NutpieAdaptState
    plain: Array  # the latest fit found no eigenvalue outside the cutoff


def no_moments(dim: int, dtype) -> Moments:
    """The moments of an empty window."""
    zeros = jnp.zeros((dim, dim), dtype)
    return Moments(jnp.zeros((), dtype), jnp.zeros(dim, dtype), jnp.zeros(dim, dtype), zeros, zeros, zeros)


def add_draw(m: Moments, x: Array, g: Array, add: Array) -> Moments:
    """``m`` with the draw ``x`` and its gradient ``g`` added where ``add`` (Welford's update)."""
    w = jnp.asarray(add, x.dtype)
    n = m.n + w
    dx, dg = x - m.mean_x, g - m.mean_g
    mean_x = m.mean_x + w * dx / jnp.maximum(n, 1.0)
    mean_g = m.mean_g + w * dg / jnp.maximum(n, 1.0)
    wx, wg = w * dx, w * dg
    return Moments(n, mean_x, mean_g, m.cxx + jnp.outer(wx, x - mean_x), m.cgg + jnp.outer(wg, g - mean_g),
                   m.cxg + jnp.outer(wx, g - mean_g))


def moments_of_rows(draws: Array, grads: Array, valid: Array) -> Moments:
    """The moments of the rows of ``draws`` and ``grads`` where ``valid``."""
    w = valid.astype(draws.dtype)[:, None]
    n = jnp.sum(w)
    mean_x = jnp.sum(w * draws, 0) / n
    mean_g = jnp.sum(w * grads, 0) / n
    dx = (draws - mean_x) * w
    dg = (grads - mean_g) * w
    return Moments(n, mean_x, mean_g, dx.T @ dx, dg.T @ dg, dx.T @ dg)


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


def spd_mean(a: Array, b: Array) -> Array:
    """The SPD matrix ``S`` with ``S b S = a`` (the geometric mean of ``a`` and ``b^-1``):
    ``S = b^(-1/2) (b^(1/2) a b^(1/2))^(1/2) b^(-1/2)``."""
    e, v = jnp.linalg.eigh(b)
    b_half = (v * jnp.sqrt(e)) @ v.T
    b_inv_half = (v / jnp.sqrt(e)) @ v.T
    e2, v2 = jnp.linalg.eigh(b_half @ a @ b_half)
    m_half = (v2 * jnp.sqrt(jnp.maximum(e2, 0.0))) @ v2.T
    return b_inv_half @ m_half @ b_inv_half


def _top_directions(z: Array, width: int, iterations: int = 3) -> Array:
    """An orthonormal (d x width) basis of the leading right singular directions of ``z`` (subspace iteration from
    a fixed start, so the fit stays a pure function of the window)."""
    start = jax.random.normal(jax.random.PRNGKey(0), (z.shape[1], width), z.dtype)
    q = jnp.linalg.qr(start)[0]
    for _ in range(iterations):
        q = jnp.linalg.qr(z.T @ (z @ q))[0]
    return q


def residual_fisher(xs: Array, gs: Array, n: Array, vecs: Array, vals: Array) -> Array:
    """The sample Fisher divergence per dimension left by the scaled-space metric ``I + U (diag(vals) - I) U^T``
    (``U = vecs``): ``sum_i |Sigma^(1/2) g_i + Sigma^(-1/2) x_i|^2 / (n d)`` over the centred, scaled draws ``xs``
    and gradients ``gs`` (zero rows where invalid). Zero when the window is exactly Gaussian with that covariance."""
    def apply(y, power):
        return y + ((vals ** power - 1.0) * (y @ vecs)) @ vecs.T

    return jnp.sum((apply(gs, 0.5) + apply(xs, -0.5)) ** 2) / (n * xs.shape[1])


def _scaling(var: Array, previous: Metric) -> Array:
    """The diagonal scaling ``sqrt(var(draws) / var(grads))`` (``var`` holds it), the previous one where undefined."""
    good = jnp.isfinite(var) & (var != 0)
    return jnp.where(good, jnp.clip(var, *VARIANCE_CLIP), previous.inv_mass)


class Fit(NamedTuple):
    """A fitted metric, whether it is finite, and whether any eigenvalue fell outside the cutoff (before "auto"'s
    tests of condition and residual)."""

    metric: Metric
    ok: Array
    outside: Array


def _keep(inv_mass: Array, vals: Array, vecs: Array, rank: int, cutoff: float | None, min_condition: float | None,
          residual, max_residual) -> Fit:
    """The metric of the eigenvalues ``vals`` (eigenvectors ``vecs`` in the scaled space) that the fit keeps (see
    :func:`fit_metric`); ``residual(vecs, vals)``: the residual Fisher divergence per dimension of a choice."""
    extreme = jnp.abs(jnp.log(vals))
    if cutoff is not None:
        extreme = jnp.where((vals > cutoff) | (vals < 1.0 / cutoff), extreme, -1.0)
    top, index = jax.lax.top_k(extreme, rank)
    keep = top >= 0
    kept = jnp.where(keep, vals[index], 1.0)
    vecs = vecs[:, index]
    if min_condition is not None:
        gaussian = residual(jnp.where(keep, vecs, 0.0), kept) <= max_residual
        keep = keep & gaussian & (jnp.maximum(jnp.max(kept), 1.0) / jnp.minimum(jnp.min(kept), 1.0) >= min_condition)
    metric = low_rank(inv_mass, jnp.where(keep, vecs, 0.0), jnp.where(keep, kept, 1.0))
    ok = jnp.all(jnp.isfinite(metric.vecs)) & jnp.all(jnp.isfinite(metric.vals)) & jnp.all(metric.vals > 0)
    return Fit(metric, ok, jnp.any(top >= 0))


def fit_moments(m: Moments, previous: Metric, cutoff: float | None, gamma: float = LOW_RANK_GAMMA,
                min_condition: float | None = None, max_residual=AUTO_MAX_RESIDUAL) -> tuple[Metric, Array]:
    """:func:`fit_metric` in the whole scaled space, from a window's moments (no pass over its draws): with ``S =
    diag(sigma)``, the scaled covariances are ``S^-1 C_xx S^-1`` and ``S C_gg S`` (the residual Fisher divergence:
    :func:`residual_fisher_of_moments`). Returns the metric and whether it is finite."""
    return tuple(fit_moments_in_full(m, previous, cutoff, gamma, min_condition, max_residual)[:2])


def fit_moments_in_full(m: Moments, previous: Metric, cutoff: float | None, gamma: float = LOW_RANK_GAMMA,
                        min_condition: float | None = None, max_residual=AUTO_MAX_RESIDUAL) -> Fit:
    """:func:`fit_moments` as a :class:`Fit` (with whether any eigenvalue fell outside the cutoff)."""
    dtype = m.cxx.dtype
    dim = m.cxx.shape[0]
    cxx, cgg = (m.cxx + m.cxx.T) / 2, (m.cgg + m.cgg.T) / 2
    inv_mass = _scaling(jnp.sqrt(jnp.diag(cxx) / jnp.diag(cgg)), previous)
    sigma = jnp.sqrt(inv_mass)
    outer = jnp.outer(sigma, sigma)
    sx, sg = cxx / outer, cgg * outer
    eye = jnp.eye(dim, dtype=dtype)
    vals, vecs = jnp.linalg.eigh(spd_mean(sx / gamma + eye, sg / gamma + eye))

    return _keep(inv_mass, vals, vecs, previous.vecs.shape[1], cutoff, min_condition,
                 lambda u, lam: residual_fisher_of_moments(m, sigma, u, lam), max_residual)


def residual_fisher_of_moments(m: Moments, sigma: Array, vecs: Array, vals: Array) -> Array:
    """:func:`residual_fisher` of the window whose moments are ``m``, scaled by ``sigma``: with ``Sigma = I + U
    (diag(vals) - I) U^T``, ``(tr(Sigma S C_gg S) + tr(Sigma^-1 S^-1 C_xx S^-1) + 2 tr(C_xg)) / (n d)``."""
    outer = jnp.outer(sigma, sigma)

    def quad(c, power):  # tr(Sigma^power c)
        return jnp.trace(c) + jnp.sum((vals ** power - 1.0) * jnp.sum(vecs * (c @ vecs), 0))

    return (quad(m.cgg * outer, 1.0) + quad(m.cxx / outer, -1.0) + 2.0 * jnp.trace(m.cxg)) / (m.n * m.cxx.shape[0])


def fit_metric(draws: Array, grads: Array, valid: Array, previous: Metric, cutoff: float | None,
               gamma: float = LOW_RANK_GAMMA, min_condition: float | None = None,
               max_residual=AUTO_MAX_RESIDUAL) -> tuple[Metric, Array]:
    """nutpie's low-rank modified metric from a window of draws and gradients (rows where ``valid``); returns it and
    whether it is finite.

    Diagonal scaling ``sigma^2 = sqrt(var(draws) / var(grads))``; in the scaled space (draws / sigma, gradients *
    sigma, centred) a subspace: the whole space for ``d <=`` :data:`FULL_SPACE_DIM` (and for ``cutoff`` None; there
    :func:`fit_moments` does the work), else the ``k`` leading directions of the draws plus those of the gradients;
    there the covariances ``C_x = X X^T / gamma + I`` and ``C_g``, and the eigen-decomposition of ``S`` with ``S C_g
    S = C_x`` (the minimiser of the sample Fisher divergence among Gaussians). Eigenvalues outside ``[1 / cutoff,
    cutoff]`` are kept (all when ``cutoff`` is None), the ``k = previous.vecs.shape[1]`` most extreme ones; none when
    ``min_condition`` is given and the kept ones span a smaller condition number, or leave a residual Fisher
    divergence per dimension (:func:`residual_fisher`) above ``max_residual``.
    """
    dim = draws.shape[1]
    rank = previous.vecs.shape[1]
    if dim <= FULL_SPACE_DIM or cutoff is None:
        return fit_moments(moments_of_rows(draws, grads, valid), previous, cutoff, gamma, min_condition, max_residual)
    w = valid.astype(draws.dtype)[:, None]
    n = jnp.sum(w)
    dx = (draws - jnp.sum(w * draws, 0) / n) * w
    dg = (grads - jnp.sum(w * grads, 0) / n) * w
    inv_mass = _scaling(jnp.sqrt(jnp.sum(dx * dx, 0) / jnp.sum(dg * dg, 0)), previous)
    sigma = jnp.sqrt(inv_mass)
    xs, gs = dx / sigma, dg * sigma
    width = (rank + 1) // 2  # the leading directions of each: a subspace of about k dimensions
    basis = jnp.linalg.qr(jnp.concatenate([_top_directions(xs, width), _top_directions(gs, width)], axis=1))[0]
    px, pg = xs @ basis, gs @ basis
    eye = jnp.eye(px.shape[1], dtype=draws.dtype)
    vals, vecs = jnp.linalg.eigh(spd_mean(px.T @ px / gamma + eye, pg.T @ pg / gamma + eye))
    return tuple(_keep(inv_mass, vals, basis @ vecs, rank, cutoff, min_condition,
                       lambda u, lam: residual_fisher(xs, gs, n, u, lam), max_residual)[:2])


def window_capacity(num_tune: int, sched: NutpieSchedule) -> int:
    """Rows of the window buffer (:class:`WindowRows`): the most draws a foreground and background window hold
    together, at most :data:`MAX_WINDOW_ROWS`. After the early window a switch's foreground started after the early
    window, or holds at most one early background (fewer than ``early_switch_freq`` draws) and the draws since; before
    the final window, at most one early foreground and background more."""
    most = sched.final_window - sched.early_end + 2 * sched.early_switch_freq + 2
    return max(3, min(int(num_tune) + 1, most, MAX_WINDOW_ROWS))


def _fg_scaling(fg: Moments, previous: Metric) -> Array:
    """The diagonal scaling of the window with moments ``fg``."""
    return _scaling(jnp.sqrt(jnp.diag(fg.cxx) / jnp.diag(fg.cgg)), previous)


def _put_row(rows: Array, ids: Array, slot, x: Array, number, add) -> tuple[Array, Array]:
    return rows.at[slot].set(jnp.where(add, x, rows[slot])), ids.at[slot].set(jnp.where(add, number, ids[slot]))


def low_rank_adaptation(num_tune: int, options: NUTSOptions, dense: bool = False,
                        schedule: NutpieSchedule | None = None, min_condition: float | None = None) -> Adaptation:
    """nutpie's low-rank modified mass-matrix adaptation (nuts-rs ``LowRankMassMatrixStrategy``), or with
    ``dense`` its full-rank variant (every eigenvalue kept); ``min_condition`` as in :func:`fit_metric` ("auto").

    Windows, step size and the first step-size search as :func:`~jaxmc.nuts.adaptation.nutpie_adaptation`; the
    windows' draws and gradients are kept (foreground window: the last background window plus the draws since), as
    running moments up to :data:`FULL_SPACE_DIM` dimensions (:class:`WindowSums`: a refit makes no pass over the
    draws) and row by row above (:class:`WindowRows`). The metric is refitted every ``early_switch_freq`` draws in the
    early window, on the latest ``early_switch_freq`` draws of the window (with moments: where they outnumber the
    dimensions, else on the foreground window), and every :data:`LOW_RANK_UPDATE_FREQ` draws after, until the last
    15% of tuning. Refits happen at step indices alone (``refit_due``), so that vectorized chains run the fit only at
    those steps, and run in ``refit``, which the chain applies between transitions.

    With moments, a metric without low-rank columns is the diagonal one, and as in nutpie's diagonal scheme its
    scaling follows the foreground window after every draw; after the early window, once a fit found no eigenvalue
    outside the cutoff, it is refitted only at every :data:`INACTIVE_REFIT_EVERY`-th refit (the others would only
    confirm it) until one finds some.
    """
    sched = nutpie_schedule(num_tune) if schedule is None else schedule
    target_accept = options.target_accept
    initial_step = initial_step_of(options, NUTPIE_INITIAL_STEP)
    capacity = window_capacity(num_tune, sched)
    recent = sched.early_switch_freq

    def init(hmc: HMCState):
        x, g = hmc.position, hmc.logdensity_grad
        dtype = x.dtype
        dim = x.shape[0]
        rank = dim if dense else min(MAX_RANK, dim)
        if dim <= FULL_SPACE_DIM:
            first = add_draw(no_moments(dim, dtype), x, g, True)
            rows = jnp.zeros((recent, dim), dtype)
            window = WindowSums(first, first, rows.at[0].set(x), rows.at[0].set(g),
                                jnp.full((recent,), -1, jnp.int32).at[0].set(0))
        else:
            rows = jnp.zeros((capacity, dim), dtype)
            window = WindowRows(rows.at[0].set(x), rows.at[0].set(g), jnp.full((capacity,), -1, jnp.int32).at[0].set(0))
        step_size = jnp.asarray(initial_step, dtype)
        state = LowRankAdaptState(da.init(step_size), window, jnp.int32(1), jnp.int32(0), jnp.int32(0),
                                  jnp.bool_(True), jnp.bool_(True), jnp.int32(sched.switch_freq), jnp.bool_(False))
        return state, step_size, diagonal(inv_mass_from_grad(g), rank)

    search, searched = nutpie_search_fns(options, initial_step)

    def keep_draw(window, number, x, g, add, switch):
        """``window`` with draw number ``number`` added where ``add``; on a window ``switch`` the background becomes
        the foreground."""
        if isinstance(window, WindowRows):
            slot = number % capacity
            draws, slot_id = _put_row(window.draws, window.slot_id, slot, x, number, add)
            return WindowRows(draws, window.grads.at[slot].set(jnp.where(add, g, window.grads[slot])), slot_id)
        fg, bg = add_draw(window.fg, x, g, add), add_draw(window.bg, x, g, add)
        fg = tree_where(switch, bg, fg)
        bg = tree_where(switch, no_moments(x.shape[0], x.dtype), bg)
        slot = number % recent
        recent_x, recent_id = _put_row(window.recent_x, window.recent_id, slot, x, number, add)
        return WindowSums(fg, bg, recent_x, window.recent_g.at[slot].set(jnp.where(add, g, window.recent_g[slot])),
                          recent_id)

    def update(state: LowRankAdaptState, step_index, hmc: HMCState, info: NUTSInfo, step_size, metric: Metric):
        window = nutpie_window(sched, step_index, info, state.window_size, state.added - state.bg_start)
        in_mass_phase, add = window.in_mass_phase, window.add
        added = state.added + add.astype(jnp.int32)

        could_switch = added - state.bg_start >= window.switch_freq
        switch = in_mass_phase & could_switch & ~window.is_late
        fg_start = jnp.where(switch, state.bg_start, state.fg_start)
        bg_start = jnp.where(switch, added, state.bg_start)
        kept = keep_draw(state.window, state.added, hmc.position, hmc.logdensity_grad, add, switch)

        dual_avg, new_step, last = nutpie_step_size(state.dual_avg, window, info, num_tune, target_accept)
        changed = jnp.bool_(False)
        if isinstance(kept, WindowSums):
            # while no low-rank column is in use the metric is diagonal: like nutpie's diagonal scheme, its scaling
            # follows the foreground window after every draw (the refits, every 10-20 draws, may add columns)
            changed = in_mass_phase & ~metric.active & (kept.fg.n >= 3)
            metric = metric._replace(inv_mass=jnp.where(changed, _fg_scaling(kept.fg, metric), metric.inv_mass))
        new_state = LowRankAdaptState(dual_avg, kept, added, fg_start, bg_start,
                                      state.has_initial_mass_matrix & ~changed,
                                      changed & state.has_initial_mass_matrix & ~last, window.window_size(switch),
                                      state.plain)
        return new_state, new_step.astype(hmc.position.dtype), metric

    def refit_due(step_index, metric):
        """Refits every ``early_switch_freq`` draws in the early window, every LOW_RANK_UPDATE_FREQ after, until the
        mass-matrix phase ends: the step index alone decides (the same steps in every chain)."""
        if not isinstance(metric, Metric):
            return None
        draw = jnp.asarray(step_index, jnp.int32)
        freq = jnp.where(draw < sched.early_end, sched.early_switch_freq, LOW_RANK_UPDATE_FREQ)
        return (draw < sched.final_window) & ((draw + 1) % freq == 0)

    def fit(state: LowRankAdaptState, step_index, metric: Metric):
        """The metric fitted to the foreground window (after the update of ``step_index``), kept when it is finite
        and the window holds 3+ draws; the first such change asks for a new step-size search."""
        early = jnp.asarray(step_index, jnp.int32) < sched.early_end
        cutoff = None if dense else EIGVAL_CUTOFF
        # "auto" judges how Gaussian the window is only after the early window: the first windows still hold the
        # approach to the typical set, and a correction there speeds up warm-up even where the final metric is diagonal
        max_residual = jnp.where(early, jnp.inf, AUTO_MAX_RESIDUAL)
        min_cond = (None if min_condition is None
                    else jnp.where(early, max(min_condition, AUTO_EARLY_MIN_CONDITION), min_condition))
        # in the early window, the latest early_switch_freq draws that entered the windows (those nuts-rs fits on at
        # a switch: the chain still moves towards the typical set, and older draws would hold the approach); with
        # moments, only where they outnumber the dimensions: fewer span a subspace, and noise sets the rest of the fit
        # (eight schools, 10 dimensions: 4% more gradients per ESS than on the foreground window; diamonds, 26: 6%)
        w = state.window
        if isinstance(w, WindowRows):
            in_fg = (w.slot_id >= state.fg_start) & (w.slot_id >= 0)
            valid = in_fg & (~early | (w.slot_id >= state.added - recent))
            fitted, ok = fit_metric(w.draws, w.grads, valid, metric, cutoff, min_condition=min_cond,
                                    max_residual=max_residual)
            plain = state.plain
        else:
            latest = moments_of_rows(w.recent_x, w.recent_g, (w.recent_id >= state.fg_start) & (w.recent_id >= 0))
            use_latest = early & (latest.n > metric.inv_mass.shape[0])
            fitted, ok, outside = fit_moments_in_full(tree_where(use_latest, latest, w.fg), metric, cutoff,
                                                      min_condition=min_cond, max_residual=max_residual)
            plain = ~outside
        did_change = ok & (state.added - state.fg_start >= 3)
        last = jnp.asarray(step_index, jnp.int32) == num_tune - 1
        new_state = state._replace(has_initial_mass_matrix=state.has_initial_mass_matrix & ~did_change,
                                   search_pending=state.search_pending | (did_change & state.has_initial_mass_matrix
                                                                          & ~last), plain=plain)
        return new_state, tree_where(did_change, fitted, metric)

    def refit(state: LowRankAdaptState, step_index, metric: Metric):
        """:func:`fit`, skipped after the early window for a metric without columns whose scaling follows the window
        (moments) and whose latest fit found no eigenvalue outside the cutoff, but at every INACTIVE_REFIT_EVERY-th
        refit: a branch, so that a chain in a program of its own skips the work (vectorized chains compute both)."""
        step = jnp.asarray(step_index, jnp.int32)
        if not isinstance(state.window, WindowSums):
            return fit(state, step_index, metric)
        first_late = sched.early_end + (-(sched.early_end + 1)) % LOW_RANK_UPDATE_FREQ  # the first refit after it
        rare = ((step - first_late) // LOW_RANK_UPDATE_FREQ) % INACTIVE_REFIT_EVERY == 0
        skip = (step >= sched.early_end) & ~metric.active & state.plain & ~rare
        return jax.lax.cond(skip, lambda: (state, metric), lambda: fit(state, step_index, metric))

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
