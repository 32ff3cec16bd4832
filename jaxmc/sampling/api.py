"""`pm.sample`: PyMC 6's signature and argument checks, then the compiled run, ArviZ output and checks."""

from __future__ import annotations

import os
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import convert, sharding, step_methods
from jaxmc.distributions.simulator import Simulator
from jaxmc.model import modelcontext
from jaxmc.multitrace import MultiTrace
from jaxmc.nuts import ADAPTATIONS, DEFAULTS, check_mass_matrix
from jaxmc.sampling import converge
from jaxmc.sampling.checkpoint import open_checkpoint
from jaxmc.sampling.checks import warn_convergence
from jaxmc.sampling.driver import run_chains
from jaxmc.interrupt import defer_interrupts
from jaxmc.sampling.log_likelihood import compute_log_likelihood
from jaxmc.sampling.settings import (CHAIN_METHODS, DEFAULT_TUNE, INIT_PATHFINDER, NUTS, SampleSettings,
                                     SamplingError, count, default_chain_method, init_jitter)
from jaxmc.sampling.start import chain_keys, starting_points
from jaxmc.seeds import check_seed


#: PyMC 6 arguments about how PyMC compiles or runs its own samplers: accepted, and without effect in jaxmc
_IGNORED = {"jitter_max_retries", "n_init", "mp_ctx", "blas_cores", "backend", "compile_kwargs", "progressbar_theme"}
#: keys of `nuts_sampler_kwargs` (numpyro's, blackjax's or nutpie's options) that jaxmc applies
_EXTERNAL_KEYS = {"chain_method", "target_accept", "max_treedepth"}

#: `idata_kwargs` keys that pm.sample applies (PyMC's `to_inference_data` arguments)
SAMPLE_IDATA_KWARGS = ("log_likelihood", "coords", "dims", "save_warmup")

_ACCEPTED = ["draws", "tune", "chains", "cores", "target_accept", "max_treedepth", "random_seed",
             "initvals", "progressbar", "discard_tuned_samples", "return_inferencedata", "idata_kwargs",
             "var_names", "chain_method", "nuts", "step", "model", "init", "compute_convergence_checks",
             "nuts_sampler", "keep_warning_stat", "quiet", "nuts_sampler_kwargs", *sorted(_IGNORED), "trace",
             "callback", "checkpoint", "resume", "devices", "shard_dim", "target_ess", "max_rhat", "max_draws"]


def sample(draws: int = 1000, tune: int | None = None, chains: int = 4, cores: int | None = None,
           target_accept: float = DEFAULTS.target_accept, max_treedepth: int = DEFAULTS.max_treedepth,
           random_seed=None, initvals=None, progressbar: bool = True, discard_tuned_samples: bool = True,
           return_inferencedata: bool = True, idata_kwargs: dict | None = None, var_names=None,
           chain_method: str | None = None, nuts: dict | None = None, step=None, model=None, init: str = "auto",
           compute_convergence_checks: bool = True, nuts_sampler: str | None = None, keep_warning_stat=False,
           quiet: bool = False, checkpoint=None, resume: bool = False, devices=None, shard_dim=None,
           target_ess: float | None = None, max_rhat: float | None = None, max_draws: int | None = None, **kwargs):
    """Draw posterior samples with NUTS (PyMC 6's signature); returns ArviZ data.

    Warm-up (`tune`, 1000 steps unless given) adapts the mass matrix from gradients and draws (nutpie's
    scheme, the default; with a low-rank correction where the posterior is strongly correlated,
    `nuts={"mass_matrix": "auto"}`, docs/mass-matrix.md) or with Stan's windowed variances
    (`nuts={"adaptation": "stan"}`), and the step size by dual averaging. `quiet=True` shows no progress bar and no convergence warnings.
    `return_inferencedata=False` gives a MultiTrace (`jaxmc.multitrace`); `nuts_sampler="numpyro"` and the other
    external samplers run jaxmc's NUTS, with a warning (docs/sampling.md). Ctrl-C returns the draws made so
    far; `checkpoint=PATH` saves the run as it goes and `resume=True` continues it (docs/sampling.md).
    `step=` takes PyMC's step methods (pm.Metropolis, pm.Slice, pm.CompoundStep, ...; docs/step_methods.md)
    and `init="pathfinder"` starts from a Pathfinder fit. `target_ess=`/`max_rhat=` draw on past `draws` until
    every free variable's bulk and tail ESS and R-hat meet them, or `max_draws` per chain (docs/sampling.md).
    With several devices the chains are split over them (`devices=` picks them) and `shard_dim="N"` splits
    the data's rows of dim N instead (docs/scale.md).
    """
    defer_interrupts()  # a Ctrl-C from here on stops the run at once and returns what is done
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
    if nuts is not None and not isinstance(nuts, dict):
        raise TypeError(f"pm.sample(nuts=...) must be a dict such as {{'target_accept': 0.9}}, found "
                        f"{type(nuts).__name__} {nuts!r}")
    nuts = dict(nuts or {})
    unknown = set(nuts) - {"target_accept", "max_treedepth", "adaptation", "mass_matrix"}
    if unknown:
        raise TypeError(f"pm.sample(nuts=...) got unknown key(s) {sorted(unknown)}; accepted: "
                        "target_accept, max_treedepth, adaptation, mass_matrix")
    provided = step_methods.flatten(step)  # the user's steps; the others are assigned as PyMC does
    user_nuts = [s for s in provided if isinstance(s, NUTS)]
    if len(user_nuts) == 1:  # its options are the run's NUTS settings (warnings, checkpoint)
        target_accept, max_treedepth = user_nuts[0].target_accept, user_nuts[0].max_treedepth
        nuts.setdefault("adaptation", user_nuts[0].adaptation)
        nuts.setdefault("mass_matrix", user_nuts[0].mass_matrix)
    target_accept = nuts.get("target_accept", target_accept)
    max_treedepth = nuts.get("max_treedepth", max_treedepth)
    adaptation = nuts.get("adaptation", DEFAULTS.adaptation)
    if adaptation not in ADAPTATIONS:
        raise ValueError(f"nuts adaptation must be one of {tuple(ADAPTATIONS)}, found {adaptation!r}")
    mass_matrix = nuts.get("mass_matrix", DEFAULTS.mass_matrix)
    check_mass_matrix(mass_matrix, adaptation, "pm.sample(nuts={'mass_matrix': ...})")
    if isinstance(target_accept, (bool, str)) or not isinstance(target_accept, (int, float, np.number)):
        raise TypeError(f"pm.sample(target_accept=...) must be a number in (0, 1), found "
                        f"{type(target_accept).__name__} {target_accept!r}")
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be in (0, 1), found {target_accept}")
    for flag, value in (("discard_tuned_samples", discard_tuned_samples), ("return_inferencedata",
                        return_inferencedata), ("compute_convergence_checks", compute_convergence_checks),
                        ("quiet", quiet)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"pm.sample({flag}=...) must be True or False, found {value!r}")
    tune = DEFAULT_TUNE if tune is None else tune
    draws, tune, chains = count("draws", draws, 0), count("tune", tune, 0), count("chains", chains, 1)
    cores = count("cores", cores, 1) if cores is not None else min(chains, os.cpu_count() or 1)
    max_treedepth = count("max_treedepth", max_treedepth, 1)
    check_seed(random_seed, "pm.sample(random_seed=...)")
    jitter_scale = init_jitter(init)
    if not isinstance(keep_warning_stat, (bool, np.bool_)):
        raise TypeError(f"pm.sample(keep_warning_stat=...) must be True or False, found {keep_warning_stat!r}")
    if keep_warning_stat:
        warnings.warn("pm.sample(keep_warning_stat=True) has no effect: jaxmc's sample_stats hold no 'warning' "
                      "objects (divergences are in 'diverging'), so the result can always be saved", stacklevel=2)
    idata_kwargs = convert.check_idata_kwargs(idata_kwargs, "pm.sample", SAMPLE_IDATA_KWARGS)
    save_warmup = bool(idata_kwargs.get("save_warmup", not discard_tuned_samples))
    if chain_method == "vectorized" and jax.default_backend() == "cpu":
        warnings.warn("chain_method='vectorized' runs a batched program whose rounding differs from the default "
                      "parallel chains: the same random_seed gives other draws (docs/xla.md)", stacklevel=2)
    placement = sharding.plan(model, model.data_values(), devices, shard_dim, chains)
    chain_method = sharding.chain_method_for(placement, chain_method, checkpoint, idata_kwargs)
    chain_method = chain_method or default_chain_method(chains)
    if chain_method not in CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, found {chain_method!r}")
    settings = SampleSettings(draws, tune, chains, float(target_accept), int(max_treedepth), adaptation,
                              chain_method, cores, mass_matrix=mass_matrix)

    cm = model.compiled()
    _check_sampleable(model, cm)
    if len(user_nuts) == 1:  # the run's NUTS settings (nuts={...} overrides the step's, as for one NUTS step)
        provided = [type(s)(s.vars, settings.target_accept, settings.max_treedepth, adaptation,
                            mass_matrix=mass_matrix) if s is user_nuts[0]
                    else s for s in provided]
    settings = settings._replace(steps=step_methods.assign(cm, provided, NUTS(
        target_accept=settings.target_accept, max_treedepth=settings.max_treedepth, adaptation=adaptation,
        mass_matrix=mass_matrix)))
    settings = settings._replace(targets=until_converged(settings, target_ess, max_rhat, max_draws))
    data = placement.place_data(model.data_values())  # {k: jnp.asarray(v)} on one (the default) device
    keys = chain_keys(random_seed, chains)
    base, jitter = starting_points(model, cm, data, chains, initvals)
    jitter = jitter * jitter_scale
    if init.lower() in INIT_PATHFINDER:
        base, jitter = _pathfinder_start(model, cm, data, keys, initvals, base, jitter)
        settings = settings._replace(seeded_mass=True)

    names = _output_names(model, var_names)
    keep_warmup = save_warmup or (not return_inferencedata and not discard_tuned_samples)
    saver = open_checkpoint(checkpoint, resume, model, cm, data, settings, names, keys, base, keep_warmup,
                            random_seed is not None)
    t0 = time.perf_counter()
    result = run_chains(cm, data, base, jitter, keys, settings, names, progressbar and not quiet, keep_warmup,
                        saver, placement)
    if not sharding.returns_results():
        return None  # several processes: process 0 returns the run (docs/scale.md)
    sampling_time = time.perf_counter() - t0
    out_post, out_stats, warm_post, warm_stats = result[:4]
    interrupted, n_tuned = result.interrupted, int(result.tuned.max())
    attrs = {"sampling_time": sampling_time, "tuning_steps": tune, "adaptation": adaptation,
             "mass_matrix": mass_matrix, "chain_method": chain_method,
             "n_draws": out_post[next(iter(out_post))].shape[1] if out_post else 0}
    if result.until is not None and not interrupted:  # target_ess/max_rhat: the draws per chain they took
        attrs[converge.ATTR] = result.until[0] if result.until[1].met else -1
        if not result.until[1].met and not quiet:
            converge.warn_unmet(settings.targets, result.until[0], result.until[1])
    if not return_inferencedata:
        if discard_tuned_samples:
            return MultiTrace(out_post, out_stats, model=model, attrs=attrs)
        return MultiTrace({k: np.concatenate([warm_post[k], v], 1) for k, v in out_post.items()},
                          {k: np.concatenate([warm_stats[k], v], 1) for k, v in out_stats.items()},
                          model=model, n_tune=n_tuned, attrs=attrs)  # as PyMC: tuning kept

    groups = {"posterior": out_post, "sample_stats": out_stats,
              "observed_data": convert.observed_data(model), "constant_data": convert.constant_data(model)}
    if save_warmup:
        groups["warmup_posterior"] = warm_post
        groups["warmup_sample_stats"] = warm_stats
    idata = convert.to_inference_data(model, groups, attrs=attrs, coords=idata_kwargs.get("coords"),
                                      dims=idata_kwargs.get("dims"))
    log_likelihood = idata_kwargs.get("log_likelihood", False)
    if log_likelihood is not False and log_likelihood is not None:
        compute_log_likelihood(idata, var_names=None if log_likelihood is True else log_likelihood, model=model,
                               progressbar=False)
    if compute_convergence_checks and not interrupted and not quiet:
        warn_convergence(model, out_post, out_stats, settings)
    return idata


def until_converged(settings: SampleSettings, target_ess, max_rhat, max_draws):
    """pm.sample's target_ess / max_rhat / max_draws checked (jaxmc.sampling.converge.Targets, None without)."""
    targets = converge.targets(target_ess, max_rhat, max_draws, settings.draws)
    if targets is not None and any(isinstance(a.step, step_methods.DEMetropolisZ) for a in settings.steps):
        raise ValueError("pm.sample(target_ess=/max_rhat=) cannot draw past `draws` with DEMetropolisZ, whose "
                         "history is sized to tune + draws: give draws= the length you need instead")
    return targets


def _pathfinder_start(model, cm, data, keys, initvals, base, jitter):
    """init="pathfinder": the chains' starting points and the initial inverse mass matrix (stacked under the
    zero jitter, as the init program takes it) from a multi-path Pathfinder fit (jaxmc.variational)."""
    if initvals is not None:
        raise ValueError("pm.sample(init='pathfinder') chooses the starting points itself; drop initvals= or use "
                         "init='jitter+adapt_diag'")
    from jaxmc.variational.pathfinder import pathfinder_start

    key = jax.random.fold_in(jnp.asarray(keys[0]), 0x70617468)  # a stream of the seed the chains do not use
    points, inv_mass = pathfinder_start(model, cm, data, len(keys), key)
    points = np.asarray(points, base.dtype).reshape(base.shape)
    return points, np.stack([np.zeros_like(jitter), np.asarray(inv_mass, jitter.dtype).reshape(jitter.shape)])


def _check_sampleable(model, cm):
    simulators = [rv.name for rv in model.basic_RVs if isinstance(rv.owner, Simulator)]
    if simulators:
        raise SamplingError(f"{simulators} are pm.Simulator variables: they have no gradient, so NUTS cannot "
                            "sample the model; use pm.sample_smc() (likelihood-free SMC-ABC), as in PyMC.")
    if cm.size == 0:
        raise SamplingError("The model has no free variables to sample; use pm.sample_prior_predictive")


def _output_names(model, var_names):
    all_names = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    if var_names is None:
        return all_names
    var_names = [var_names] if isinstance(var_names, str) else list(var_names)
    missing = [n for n in var_names if n not in all_names]
    if missing:
        raise KeyError(f"var_names {missing} are not free variables or deterministics; available: {all_names}")
    return [n for n in all_names if n in var_names]

