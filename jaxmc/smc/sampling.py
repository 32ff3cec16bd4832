"""`pm.sample_smc`: sequential Monte Carlo with tempering, every stage of every chain inside one jitted loop,
returning the posterior particles and PyMC's per-stage statistics (log marginal likelihood, beta, ...)."""

from __future__ import annotations

import time
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from jaxmc import config, convert
from jaxmc.graph import ancestral_sample, evaluate
from jaxmc.iterate import run_loop
from jaxmc.model import modelcontext
from jaxmc.multitrace import MultiTrace
from jaxmc.sampling.settings import SamplingError, count
from jaxmc.seeds import seed_sequence
from jaxmc.smc.kernels import IMH, KERNELS, MH, SMC_KERNEL, Particles, next_beta, systematic_resampling

MAX_STAGES = 1000  # a run whose beta has not reached 1 after this many stages stops with a warning


class SMCState(NamedTuple):
    """One chain's state between stages; `history` holds each stage's statistics (NaN after the last)."""

    particles: Particles
    beta: jax.Array
    log_ml: jax.Array
    stage: jax.Array
    key: jax.Array
    chain_acc: jax.Array
    scales: jax.Array
    n_steps: jax.Array
    history: dict


class SMCReport:
    """`trace.report` of `return_inferencedata=False`: the per-stage statistics (chain, stage) and the settings,
    as attributes (PyMC sets the same names on its report)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def ok(self) -> bool:
        return True


def sample_smc(draws=2000, kernel=IMH, *, start=None, model=None, random_seed=None, chains=None, cores=None,
               compute_convergence_checks=True, return_inferencedata=True, idata_kwargs=None, progressbar=True,
               **kernel_kwargs):
    """Sequential Monte Carlo (PyMC 6's signature): `draws` particles per chain move from the prior to the
    posterior through tempered stages p(y|θ)^β p(θ), β from 0 to 1 chosen so that the importance weights keep an
    ESS of `threshold` * draws, each stage resampling and then mutating the particles with the `kernel`'s
    Metropolis steps (IMH: independent proposals from a normal fitted to the particles; MH: a random walk).
    Chains are independent runs, vectorized. `pm.Simulator` models (ABC) are sampled as any other. Returns the
    last stage's particles as the posterior and, in `sample_stats`, each stage's `beta`, acceptance rate and
    `log_marginal_likelihood` (NaN before the last stage), dims (chain, stage) as PyMC lays them out.
    """
    for name in ("blas_cores", "progressbar_theme", "backend", "compile_kwargs", "mp_ctx"):
        kernel_kwargs.pop(name, None)  # PyMC's process and compile options: nothing to set in jaxmc
    model = modelcontext(model).root
    kernel = make_kernel(kernel, kernel_kwargs)
    draws = count("draws", draws, 2, "pm.sample_smc")
    chains = count("chains", chains, 1, "pm.sample_smc") if chains is not None else \
        max(2, count("cores", cores, 1, "pm.sample_smc")) if cores is not None else 4
    for flag, value in (("return_inferencedata", return_inferencedata), ("progressbar", progressbar),
                        ("compute_convergence_checks", compute_convergence_checks)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"pm.sample_smc({flag}=...) must be True or False, found {value!r}")
    labels = convert.check_idata_kwargs(idata_kwargs, "pm.sample_smc")
    cm = model.compiled()
    if cm.size == 0:
        raise SamplingError("pm.sample_smc: the model has no free variables to sample (kernel="
                            f"{type(kernel).__name__}); use pm.sample_prior_predictive for its observed variables")
    keys = seed_sequence(random_seed, "pm.sample_smc(random_seed=...)").generate_state(2 * chains, np.uint32)
    keys = jnp.asarray(keys.reshape(chains, 2))
    data = {k: jnp.asarray(v) for k, v in model.data_values().items()}
    prog = model.program("smc", (type(kernel).__name__, kernel.threshold, kernel.correlation_threshold),
                         lambda: SMCProgram(model, cm, kernel))
    start_x = start_particles(cm, start, chains, draws)

    t0 = time.perf_counter()
    state = prog.init(keys, data, start_x, draws)
    result = run_loop(lambda s, a, b: prog.run(s, a, b, data), state, MAX_STAGES, description="SMC",
                      progressbar=progressbar, finished=lambda out, s: bool(np.all(out[0] >= 1)),
                      status=lambda out, s: f"stage {int(np.max(out[1]))}  beta {float(np.min(out[0])):.4f}",
                      bar_position=lambda out, s: (round(float(np.min(out[0])), 4), 1.0),
                      chunk=1)  # one stage per call; the bar shows the smallest beta of the chains
    state = result.state
    beta = np.asarray(state.beta)
    if np.any(np.asarray(~jnp.isfinite(state.particles.x))):
        raise SamplingError("pm.sample_smc: the particles became non-finite (the covariance of the particles was "
                            "not valid; likely `draws` is too small for the model)")
    if result.interrupted or np.any(beta < 1):
        why = "interrupted" if result.interrupted else f"stopped after {MAX_STAGES} stages"
        warnings.warn(f"pm.sample_smc {why} with beta = {np.round(beta, 4).tolist()} (per chain): the draws "
                      "returned are the particles of the last stage, a tempered posterior p(y|θ)^beta p(θ), and "
                      "not draws from the posterior where beta < 1; log_marginal_likelihood is NaN there.",
                      stacklevel=2)
    posterior = {k: np.asarray(v) for k, v in prog.expand(state.particles.x, data).items()}
    t_sampling = time.perf_counter() - t0

    n_stages = int(np.max(np.asarray(state.stage)))
    stats = {k: np.asarray(v)[:, :n_stages] for k, v in state.history.items()}
    settings = {"_n_draws": draws, **kernel.settings(), "_n_tune": int(np.asarray(state.n_steps)[-1]),
                "_t_sampling": t_sampling}
    if compute_convergence_checks and not result.interrupted:
        warn_convergence(model, posterior, chains)
    if not return_inferencedata:
        return MultiTrace(posterior, model=model, report=SMCReport({**stats, **settings}), attrs=settings)
    idata = convert.to_inference_data(
        model, {"posterior": posterior, "observed_data": convert.observed_data(model),
                "constant_data": convert.constant_data(model)},
        attrs={"sampling_time": t_sampling}, coords=labels.get("coords"), dims=labels.get("dims"))
    return add_sample_stats(idata, model, stats, settings)


def make_kernel(kernel, kernel_kwargs) -> SMC_KERNEL:
    """The kernel instance from PyMC's `kernel=` (the class IMH or MH, or its name) and `**kernel_kwargs`."""
    if isinstance(kernel, str) and kernel.upper() in KERNELS:
        kernel = KERNELS[kernel.upper()]
    if isinstance(kernel, SMC_KERNEL):
        if kernel_kwargs:
            raise TypeError(f"pm.sample_smc: pass {sorted(kernel_kwargs)} to the kernel or to pm.sample_smc, "
                            "not both")
        return kernel
    if not (isinstance(kernel, type) and issubclass(kernel, SMC_KERNEL)):
        raise TypeError(f"pm.sample_smc(kernel=...) must be pm.smc.IMH or pm.smc.MH, found {kernel!r}")
    return kernel(**kernel_kwargs)


def start_particles(cm, start, chains: int, draws: int):
    """PyMC's `start`: None (prior draws), a dict {value-variable name: (draws, ...) array} for every chain, or
    a list of them, one per chain; as (chains, draws, d) unconstrained particles."""
    if start is None:
        return None
    starts = [start] * chains if isinstance(start, dict) else list(start)
    if len(starts) != chains:
        raise ValueError(f"pm.sample_smc(start=...): {len(starts)} start dicts for {chains} chains")
    out = np.empty((chains, draws, cm.size), config.floatX())
    for c, point in enumerate(starts):
        if not isinstance(point, dict):
            raise TypeError(f"pm.sample_smc(start=...) must be a dict or a list of dicts, found {point!r}")
        for s in cm.slots:
            if s.name not in point:
                raise KeyError(f"pm.sample_smc(start=...) lacks {s.name!r}; it needs one (draws, ...) array per "
                               f"value variable: {[t.name for t in cm.slots]}")
            v = np.asarray(point[s.name], config.floatX())
            if v.shape != (draws, *s.shape):
                raise ValueError(f"pm.sample_smc(start={{{s.name!r}: ...}}) has shape {v.shape}, expected "
                                 f"{(draws, *s.shape)} (draws, *shape)")
            out[c, :, s.start:s.stop] = v.reshape(draws, -1)
    return jnp.asarray(out)


class SMCProgram:
    """The jitted programs of one model and kernel: prior particles and their densities (`init`), stages
    start .. stop - 1 of every chain (`run`), and the particles' named values (`expand`)."""

    def __init__(self, model, cm, kernel: SMC_KERNEL):
        self.model, self.cm, self.kernel = model, cm, kernel
        self.free = frozenset(s.rv.name for s in cm.slots)
        opts = config.compiler_options()  # jaxmc's quick-compiling XLA options, as for its other programs
        self.init = jax.jit(self._init, static_argnames=("draws",), compiler_options=opts)
        self.run = jax.jit(jax.vmap(self._run_chain, in_axes=(0, None, None, None)), compiler_options=opts)
        self.expand = jax.jit(jax.vmap(jax.vmap(cm.expand, in_axes=(0, None)), in_axes=(0, None)),
                              compiler_options=opts)

    def density(self, xs, data):
        """(log prior + Jacobian, log likelihood + potentials) of particles xs (N, d), PyMC's split."""
        def one(x):
            terms = self.cm.terms(x, data)
            prior = sum((v for k, v in terms.items() if k in self.free), jnp.zeros((), x.dtype))
            lik = sum((v for k, v in terms.items() if k not in self.free), jnp.zeros((), x.dtype))
            return prior.astype(x.dtype), lik.astype(x.dtype)

        return jax.vmap(one)(xs)

    def prior_point(self, key, data):
        """One ancestral draw of the free variables (initvals kept), mapped to the unconstrained space."""
        env = self.model.data.env(data)
        rvs = [s.rv for s in self.cm.slots]
        for rv in rvs:
            iv = self.model.rvs_to_initial_values.get(rv)
            if iv is not None:
                env[rv] = jnp.broadcast_to(jnp.asarray(iv), rv.shape).astype(rv.dtype)
        ancestral_sample(rvs, key, env)
        parts = []
        for s in self.cm.slots:
            value = env[s.rv]
            if s.transform is not None:
                value = s.transform.forward(value, *evaluate(s.rv.owner.params, env))
            parts.append(jnp.reshape(value, -1).astype(config.floatX()))
        return jnp.concatenate(parts)

    def _init(self, keys, data, start_x, draws: int):
        chains = keys.shape[0]
        if start_x is None:
            subkeys = jax.vmap(lambda k: jax.random.split(jax.random.fold_in(k, 1), draws))(keys)
            start_x = jax.vmap(jax.vmap(self.prior_point, in_axes=(0, None)), in_axes=(0, None))(subkeys, data)
        prior, lik = jax.vmap(self.density, in_axes=(0, None))(start_x, data)
        dtype = start_x.dtype
        scale = MH.initial_scale(self.cm.size) if isinstance(self.kernel, MH) else 1.0
        nan = jnp.full((chains, MAX_STAGES), jnp.nan, dtype)
        return SMCState(Particles(start_x, prior, lik), jnp.zeros(chains, dtype), jnp.zeros(chains, dtype),
                        jnp.zeros(chains, jnp.int32), keys, jnp.zeros((chains, draws), dtype),
                        jnp.full((chains, draws), scale, dtype), jnp.ones(chains, jnp.int32),
                        {k: nan for k in self.kernel.stat_names})

    def _stage(self, s: SMCState, data) -> SMCState:
        key, k_res, k_mut = jax.random.split(s.key, 3)
        n = s.particles.lik.shape[0]
        beta, log_w = next_beta(s.particles.lik, s.beta, self.kernel.threshold)
        log_ml = s.log_ml + logsumexp(log_w) - jnp.log(n)
        idx = systematic_resampling(k_res, jnp.exp(log_w - logsumexp(log_w)))
        first = s.stage == 0
        chain_acc = jnp.where(first, s.chain_acc, s.chain_acc[idx])
        scales = self.kernel.tune(first, jnp.where(first, s.scales, s.scales[idx]), chain_acc)
        particles = jax.tree_util.tree_map(lambda a: a[idx], s.particles)
        m = self.kernel.mutate(k_mut, particles, beta, chain_acc, scales, lambda xs: self.density(xs, data))
        stats = {"beta": beta, "log_marginal_likelihood": jnp.where(beta >= 1, log_ml, jnp.nan),
                 **self.kernel.stats(m)}
        history = {k: h.at[s.stage].set(stats[k].astype(h.dtype)) for k, h in s.history.items()}
        return SMCState(m.particles, beta, log_ml, s.stage + 1, key, m.chain_acc, m.scales, m.n_steps, history)

    def _run_chain(self, s: SMCState, start, stop, data):
        def cond(c):
            i, s = c
            return (i < stop) & (s.beta < 1)

        def body(c):
            i, s = c
            return i + 1, self._stage(s, data)

        _, s = jax.lax.while_loop(cond, body, (start, s))
        return s, (s.beta, s.stage)


def add_sample_stats(idata, model, stats: dict, settings: dict):
    """PyMC's SMC sample_stats: dims (chain, `<stat>_dim_0` over stages), the kernel's settings as attributes."""
    ds = convert.dataset(model, stats, ("chain",), attrs=settings, dims_of={k: [f"{k}_dim_0"] for k in stats})
    if convert.arviz_major() >= 1:
        import xarray

        idata["sample_stats"] = xarray.DataTree(ds)
    else:
        idata.add_groups({"sample_stats": ds})
    return idata


def warn_convergence(model, posterior: dict, chains: int):
    """PyMC's checks after SMC: R-hat above 1.01 or a bulk ESS under 100 per chain, as warnings."""
    if chains < 2:
        return
    from jaxmc.diagnostics import rhat_and_ess_bulk

    free = [np.asarray(posterior[rv.name]) for rv in model.free_RVs if rv.name in posterior]
    free = [v.reshape(v.shape[0], v.shape[1], -1) for v in free if v.size]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhats, ess = rhat_and_ess_bulk(np.concatenate(free, axis=2).astype(float))
    if np.nanmax(rhats) > 1.01:
        warnings.warn(f"The rhat statistic is larger than 1.01 for some parameters (max {np.nanmax(rhats):.3f}). "
                      "This indicates problems during sampling.", stacklevel=3)
    if np.nanmin(ess) < 100 * chains:
        warnings.warn(f"The effective sample size per chain is smaller than 100 for some parameters (min ESS "
                      f"{np.nanmin(ess):.0f} over {chains} chains).", stacklevel=3)
