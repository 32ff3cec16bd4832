"""`pm.sample`: PyMC 6's signature and argument checks, then the compiled run, ArviZ output and checks."""

from __future__ import annotations

import os
import time
import warnings

import jax.numpy as jnp

from jaxmc import convert
from jaxmc.distributions.simulator import Simulator
from jaxmc.model import modelcontext
from jaxmc.multitrace import MultiTrace
from jaxmc.nuts import ADAPTATIONS, DEFAULTS
from jaxmc.sampling.checks import warn_convergence
from jaxmc.sampling.driver import run_chains
from jaxmc.sampling.log_likelihood import compute_log_likelihood
from jaxmc.sampling.settings import (CHAIN_METHODS, DEFAULT_TUNE, NUTS, SampleSettings, SamplingError,
                                     default_chain_method)
from jaxmc.sampling.start import chain_keys, starting_points


#: PyMC 6 arguments about how PyMC compiles or runs its own samplers: accepted, and without effect in jaxmc
_IGNORED = {"jitter_max_retries", "n_init", "mp_ctx", "blas_cores", "backend", "compile_kwargs", "progressbar_theme"}
#: keys of `nuts_sampler_kwargs` (numpyro's, blackjax's or nutpie's options) that jaxmc applies
_EXTERNAL_KEYS = {"chain_method", "target_accept", "max_treedepth"}

_ACCEPTED = ["draws", "tune", "chains", "cores", "target_accept", "max_treedepth", "random_seed",
             "initvals", "progressbar", "discard_tuned_samples", "return_inferencedata", "idata_kwargs",
             "var_names", "chain_method", "nuts", "step", "model", "init", "compute_convergence_checks",
             "nuts_sampler", "keep_warning_stat", "quiet", "nuts_sampler_kwargs", *sorted(_IGNORED), "trace",
             "callback"]


def sample(draws: int = 1000, tune: int | None = None, chains: int = 4, cores: int | None = None,
           target_accept: float = DEFAULTS.target_accept, max_treedepth: int = DEFAULTS.max_treedepth,
           random_seed=None, initvals=None, progressbar: bool = True, discard_tuned_samples: bool = True,
           return_inferencedata: bool = True, idata_kwargs: dict | None = None, var_names=None,
           chain_method: str | None = None, nuts: dict | None = None, step=None, model=None, init: str = "auto",
           compute_convergence_checks: bool = True, nuts_sampler: str | None = None, keep_warning_stat=False,
           quiet: bool = False, **kwargs):
    """Draw posterior samples with NUTS (PyMC 6's signature); returns ArviZ data.

    Warm-up (`tune`, 1000 steps unless given) adapts a diagonal mass matrix from gradients and draws
    (nutpie's scheme, the default) or with Stan's windowed variances (`nuts={"adaptation": "stan"}`), and
    the step size by dual averaging. `quiet=True` shows no progress bar and no convergence warnings.
    `return_inferencedata=False` gives a MultiTrace (`jaxmc.multitrace`); `nuts_sampler="numpyro"` and the other
    external samplers run jaxmc's NUTS, with a warning (docs/sampling.md).
    """
    nuts_sampler_kwargs = dict(kwargs.pop("nuts_sampler_kwargs", None) or {})
    for name in ("trace", "callback"):
        if kwargs.pop(name, None) is not None:
            warnings.warn(f"pm.sample({name}=...) is ignored: jaxmc keeps the draws in memory and returns them at "
                          "the end", stacklevel=2)
    for name in _IGNORED:
        kwargs.pop(name, None)
    if kwargs:
        raise TypeError(f"pm.sample got unknown keyword argument(s) {sorted(kwargs)}; accepted: {_ACCEPTED}")
    model = modelcontext(model).root  # inside a sub-model's `with`: the whole model
    if nuts_sampler not in (None, "pymc", "jaxmc"):
        warnings.warn(f"nuts_sampler={nuts_sampler!r} is ignored: jaxmc always samples with its own NUTS, compiled "
                      "with JAX (it plays the part of PyMC's numpyro, blackjax and nutpie samplers)", stacklevel=2)
    other = sorted(set(nuts_sampler_kwargs) - _EXTERNAL_KEYS)
    if other:
        warnings.warn(f"pm.sample(nuts_sampler_kwargs=...): {other} are options of PyMC's external samplers and "
                      f"are ignored; jaxmc applies {sorted(_EXTERNAL_KEYS)}", stacklevel=2)
    if nuts_sampler_kwargs.get("chain_method") in CHAIN_METHODS and chain_method is None:
        chain_method = nuts_sampler_kwargs["chain_method"]
    target_accept = nuts_sampler_kwargs.get("target_accept", target_accept)
    max_treedepth = nuts_sampler_kwargs.get("max_treedepth", max_treedepth)
    chains = 4 if chains is None else chains
    nuts = dict(nuts or {})
    unknown = set(nuts) - {"target_accept", "max_treedepth", "adaptation"}
    if unknown:
        raise TypeError(f"pm.sample(nuts=...) got unknown key(s) {sorted(unknown)}; accepted: "
                        "target_accept, max_treedepth, adaptation")
    if isinstance(step, (list, tuple)):
        step = step[0] if len(step) == 1 else step
    if step is not None and not isinstance(step, NUTS):
        raise TypeError(f"pm.sample(step=...): jaxmc supports pm.NUTS(...) steps, found {step!r}")
    if step is not None:
        target_accept, max_treedepth = step.target_accept, step.max_treedepth
        nuts.setdefault("adaptation", step.adaptation)
    target_accept = nuts.get("target_accept", target_accept)
    max_treedepth = nuts.get("max_treedepth", max_treedepth)
    adaptation = nuts.get("adaptation", DEFAULTS.adaptation)
    if adaptation not in ADAPTATIONS:
        raise ValueError(f"nuts adaptation must be one of {tuple(ADAPTATIONS)}, found {adaptation!r}")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be in (0, 1), found {target_accept}")
    tune = DEFAULT_TUNE if tune is None else tune
    draws, tune, chains = int(draws), int(tune), int(chains)
    if draws < 0 or tune < 0 or chains < 1:
        raise ValueError(f"draws and tune must be >= 0 and chains >= 1 (found {draws}, {tune}, {chains})")
    cores = int(cores) if cores is not None else min(chains, os.cpu_count() or 1)
    chain_method = chain_method or default_chain_method(chains)
    if chain_method not in CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, found {chain_method!r}")
    settings = SampleSettings(draws, tune, chains, float(target_accept), int(max_treedepth), adaptation,
                              chain_method, cores)

    cm = model.compiled()
    _check_sampleable(model, cm)
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    keys = chain_keys(random_seed, chains)
    base, jitter = starting_points(model, cm, data, chains, initvals)

    names = _output_names(model, var_names)
    t0 = time.perf_counter()
    result = run_chains(cm, data, base, jitter, keys, settings, names, progressbar and not quiet)
    sampling_time = time.perf_counter() - t0
    posterior, stats, n_done, interrupted = result

    n_tuned = min(n_done, tune)
    out_post = {k: v[:, n_tuned:] for k, v in posterior.items()}
    out_stats = {k: v[:, n_tuned:] for k, v in stats.items()}
    warm_post = {k: v[:, :n_tuned] for k, v in posterior.items()}
    warm_stats = {k: v[:, :n_tuned] for k, v in stats.items()}
    attrs = {"sampling_time": sampling_time, "tuning_steps": tune, "adaptation": adaptation,
             "chain_method": chain_method, "n_draws": out_post[next(iter(out_post))].shape[1]
             if out_post else 0}
    if not return_inferencedata:
        if discard_tuned_samples:
            return MultiTrace(out_post, out_stats, model=model, attrs=attrs)
        return MultiTrace(posterior, stats, model=model, n_tune=n_tuned, attrs=attrs)  # as PyMC: tuning kept

    idata_kwargs = dict(idata_kwargs or {})
    groups = {"posterior": out_post, "sample_stats": out_stats,
              "observed_data": convert.observed_data(model), "constant_data": convert.constant_data(model)}
    if not discard_tuned_samples:
        groups["warmup_posterior"] = warm_post
        groups["warmup_sample_stats"] = warm_stats
    idata = convert.to_inference_data(model, groups, attrs=attrs)
    if idata_kwargs.pop("log_likelihood", False):
        compute_log_likelihood(idata, model=model, progressbar=False)
    if compute_convergence_checks and not interrupted and not quiet:
        warn_convergence(model, out_post, out_stats, settings)
    return idata


def _check_sampleable(model, cm):
    simulators = [rv.name for rv in model.basic_RVs if isinstance(rv.owner, Simulator)]
    if simulators:
        raise SamplingError(f"{simulators} are pm.Simulator variables: they have no gradient, and jaxmc has no "
                            "likelihood-free sampler (PyMC uses pm.sample_smc for them).")
    if cm.size == 0:
        raise SamplingError("The model has no free variables to sample; use pm.sample_prior_predictive")


def _output_names(model, var_names):
    all_names = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    if var_names is None:
        return all_names
    missing = [n for n in var_names if n not in all_names]
    if missing:
        raise KeyError(f"var_names {missing} are not free variables or deterministics; available: {all_names}")
    return [n for n in all_names if n in var_names]

