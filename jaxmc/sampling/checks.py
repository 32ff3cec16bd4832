"""Convergence warnings after sampling, as PyMC gives them: divergences, maximum tree depth, R-hat, ESS."""

from __future__ import annotations

import warnings

import numpy as np

from jaxmc.sampling.settings import SampleSettings


def warn_convergence(model, posterior, stats, settings: SampleSettings):
    n_div = int(np.asarray(stats.get("diverging", False)).sum())  # steps other than NUTS and HMC report none
    if n_div:
        warnings.warn(f"There were {n_div} divergences after tuning. Increase `target_accept` or "
                      "reparameterize.", stacklevel=3)
    n_max = int(np.asarray(stats.get("reached_max_treedepth", False)).sum())
    if n_max:
        warnings.warn(f"{n_max} draws reached the maximum tree depth ({settings.max_treedepth}). "
                      "Increase `max_treedepth`, increase `target_accept` or reparameterize.", stacklevel=3)
    if settings.chains < 2 or settings.draws < 50:
        if settings.chains < 2:
            warnings.warn("Only one chain was sampled: convergence can't be checked with r_hat. Use "
                          "chains >= 2.", stacklevel=3)
        return
    from jaxmc.diagnostics import rhat_and_ess_bulk

    free = [np.asarray(posterior[rv.name]) for rv in model.free_RVs if rv.name in posterior]
    free = [v.reshape(v.shape[0], v.shape[1], -1) for v in free if v.size]
    if not free:
        return
    draws = np.concatenate(free, axis=2)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN (constant) parameters give NaN, as in ArviZ
        rhats, ess = rhat_and_ess_bulk(draws)
        max_rhat, min_ess = float(np.nanmax(rhats)), float(np.nanmin(ess))
    if max_rhat > 1.01:
        warnings.warn(f"The rhat statistic is larger than 1.01 for some parameters (max {max_rhat:.3f}). "
                      "This indicates problems during sampling.", stacklevel=3)
    if min_ess < 100 * settings.chains:
        warnings.warn(f"The effective sample size per chain is smaller than 100 for some parameters "
                      f"(min ESS {min_ess:.0f} over {settings.chains} chains). A higher number is needed "
                      "for reliable rhat and ess computation.", stacklevel=3)

