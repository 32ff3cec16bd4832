"""Sampling until converged: `pm.sample(target_ess=..., max_rhat=..., max_draws=...)`'s targets, the check
between rounds of draws (jaxmc.diagnostics, no ArviZ), how many draws the next round asks for, the warning."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import NamedTuple

import numpy as np

#: the targets when only one of target_ess / max_rhat is given (ArviZ's and PyMC's thresholds: 100 ESS per
#: chain for 4 chains, R-hat 1.01)
DEFAULT_TARGET_ESS = 400.0
DEFAULT_MAX_RHAT = 1.01
#: max_draws when not given: this many times `draws` (per chain)
MAX_DRAWS_FACTOR = 10
#: a run with targets needs at least this many draws per chain before its first check
MIN_DRAWS = 20
#: each round multiplies the draws so far by the ESS still missing (target / smallest ESS), clipped to these
MIN_GROWTH, MAX_GROWTH = 1.1, 4.0
#: a round asked for by R-hat alone (the ESS target met) adds at least this share of the draws so far
RHAT_GROWTH = 1.25
#: the attribute of the posterior (and sample_stats) that records the draws per chain it took
ATTR = "draws_to_converge"


class Targets(NamedTuple):
    """Draw until every free variable's bulk and tail ESS (summed over chains, as ArviZ reports) reach `ess`
    and its rank-normalized split R-hat is at most `rhat`, or until `max_draws` draws per chain."""

    ess: float
    rhat: float
    max_draws: int


class Check(NamedTuple):
    """The targets' check on the draws so far: whether all are met, the smallest ESS and largest R-hat,
    and the parameters that miss a target as (name, ess_bulk, ess_tail, r_hat)."""

    met: bool
    min_ess: float
    max_rhat: float
    missed: list


def targets(target_ess, max_rhat, max_draws, draws: int) -> Targets | None:
    """pm.sample's target arguments checked (None when neither target_ess nor max_rhat is given)."""
    if target_ess is None and max_rhat is None:
        if max_draws is not None:
            raise ValueError("pm.sample(max_draws=...) limits sampling until converged: give target_ess= and/or "
                             "max_rhat= with it, or drop it")
        return None
    ess = DEFAULT_TARGET_ESS if target_ess is None else _number("target_ess", target_ess)
    rhat = DEFAULT_MAX_RHAT if max_rhat is None else _number("max_rhat", max_rhat)
    if not ess > 0:
        raise ValueError(f"pm.sample(target_ess=...) must be > 0 (the bulk and tail ESS summed over chains to "
                         f"reach, e.g. 400), found {target_ess!r}")
    if not rhat >= 1:
        raise ValueError(f"pm.sample(max_rhat=...) must be >= 1 (R-hat is at least 1; e.g. 1.01), found "
                         f"{max_rhat!r}")
    if draws < MIN_DRAWS:
        raise ValueError(f"pm.sample(draws=...) must be >= {MIN_DRAWS} with target_ess/max_rhat (the first check "
                         f"of ESS and R-hat needs them), found {draws}")
    limit = MAX_DRAWS_FACTOR * draws if max_draws is None else max_draws
    if isinstance(limit, (bool, np.bool_)) or not isinstance(limit, (numbers.Integral, float)) or \
            not float(limit).is_integer():
        raise TypeError(f"pm.sample(max_draws=...) must be a whole number of draws per chain, found {max_draws!r}")
    if limit < draws:
        raise ValueError(f"pm.sample(max_draws=...) must be >= draws ({draws}): it is the most draws per chain "
                         f"sampling until converged may take; found {max_draws!r}")
    return Targets(float(ess), float(rhat), int(limit))


def _number(name, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"pm.sample({name}=...) must be a number, found {type(value).__name__} {value!r}")
    return float(value)


def check(model, posterior: dict, n: int, targets: Targets) -> Check:
    """Bulk and tail ESS and R-hat of the first `n` draws of the free variables in `posterior` (all of its
    variables when var_names left every free variable out)."""
    from jaxmc.diagnostics import rhat_ess_bulk_tail

    names = [rv.name for rv in model.free_RVs if rv.name in posterior] or list(posterior)
    arrays = [np.asarray(posterior[k][:, :n]) for k in names]
    flat = [a.reshape(a.shape[0], n, -1) for a in arrays]
    if not flat or not sum(f.shape[2] for f in flat):
        return Check(True, math.inf, 1.0, [])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat, bulk, tail = rhat_ess_bulk_tail(np.concatenate(flat, axis=2))
    ess = np.fmin(bulk, tail)
    bad = (ess < targets.ess) | (rhat > targets.rhat)  # NaN (a constant parameter) meets both, as in PyMC's checks
    missed, offset = [], 0
    for name, a in zip(names, arrays):
        size = int(np.prod(a.shape[2:], dtype=int))
        for j in np.flatnonzero(bad[offset:offset + size]):
            idx = np.unravel_index(j, a.shape[2:])
            label = name + (f"[{', '.join(str(int(i)) for i in idx)}]" if idx else "")
            missed.append((label, float(bulk[offset + j]), float(tail[offset + j]), float(rhat[offset + j])))
        offset += size
    min_ess = float(np.nanmin(ess)) if np.isfinite(ess).any() else math.inf
    max_rhat = float(np.nanmax(rhat)) if np.isfinite(rhat).any() else 1.0
    return Check(not missed, min_ess, max_rhat, missed)


def next_draws(targets: Targets, n: int, result: Check) -> int | None:
    """Draws per chain to have after the next round (None: stop, the targets are met or the limit reached).
    ESS grows about in proportion to the draws, so the round asks for the missing ratio, between MIN_GROWTH
    and MAX_GROWTH times the draws so far; slightly short of the target, the next round adds 10%."""
    if result.met or n >= targets.max_draws:
        return None
    growth = targets.ess / result.min_ess if result.min_ess > 0 else MAX_GROWTH
    if result.min_ess >= targets.ess:  # only R-hat misses
        growth = RHAT_GROWTH
    growth = min(max(growth, MIN_GROWTH), MAX_GROWTH)
    return int(min(targets.max_draws, max(n + 1, math.ceil(n * growth))))


def status(targets: Targets, result: Check) -> str:
    """The progress bar's note: the smallest ESS and largest R-hat against the targets."""
    return f"ESS {result.min_ess:,.0f}/{targets.ess:,.0f} R-hat {result.max_rhat:.3f}/{targets.rhat:g}"


def warn_unmet(targets: Targets, n: int, result: Check, stacklevel: int = 3) -> None:
    """The warning when max_draws was reached with targets unmet, naming the parameters (at most 10)."""
    shown = "; ".join(f"{name}: ess_bulk {b:.0f}, ess_tail {t:.0f}, r_hat {r:.3f}"
                      for name, b, t, r in result.missed[:10])
    more = f" and {len(result.missed) - 10} more" if len(result.missed) > 10 else ""
    warnings.warn(f"Sampling stopped at max_draws={targets.max_draws} draws per chain ({n} drawn) before every "
                  f"parameter reached target_ess={targets.ess:g} (bulk and tail) and max_rhat={targets.rhat:g}: "
                  f"{shown}{more}. Raise max_draws, or reparameterize.", stacklevel=stacklevel)
