"""SMC kernels (PyMC's `IMH` and `MH`): tempering by bisection on the ESS, systematic resampling and the
Metropolis mutations of one SMC stage, as pure JAX functions over the particles of one chain."""

from __future__ import annotations

import abc
import numbers
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

#: PyMC's defaults: the ESS fraction kept per stage, and the correlation drop that ends a stage's MCMC steps
THRESHOLD = 0.5
CORRELATION_THRESHOLD = 0.01
#: bounds PyMC leaves open: MCMC steps of one stage, and bisection steps for the next beta (PyMC stops at 1e-6)
MAX_MCMC_STEPS = 1000
BETA_TOLERANCE = 1e-6
MH_TARGET_ACCEPT = 0.234  # the per-particle scale adapts towards this acceptance rate (PyMC's MH)
COV_JITTER = 1e-6  # added to the diagonal of the particles' covariance, as PyMC does


class Particles(NamedTuple):
    """The unconstrained particles of one chain (N, d), their log prior (+ Jacobian) and log likelihood (N,)."""

    x: jax.Array
    prior: jax.Array
    lik: jax.Array


class Mutation(NamedTuple):
    """What one stage's MCMC steps give: the particles, per-particle acceptance rates and proposal scales (MH),
    the number of steps as PyMC counts it (steps + 1), and the mean acceptance rate."""

    particles: Particles
    chain_acc: jax.Array
    scales: jax.Array
    n_steps: jax.Array
    accept_rate: jax.Array


def check_fraction(name: str, value, where: str = "pm.sample_smc") -> float:
    """A number strictly between 0 and 1, else an error naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{where}({name}=...) must be a number in (0, 1), found {type(value).__name__} {value!r}")
    if not 0 < float(value) < 1:
        raise ValueError(f"{where}({name}={value!r}) must be strictly between 0 and 1 (PyMC's default is "
                         f"{THRESHOLD if name == 'threshold' else CORRELATION_THRESHOLD})")
    return float(value)


class SMC_KERNEL(abc.ABC):
    """An SMC kernel's settings (PyMC's constructor arguments; `draws`, `start`, `model`, `random_seed` are
    taken by `pm.sample_smc` itself). Subclasses give `mutate` and the per-stage statistics."""

    stat_names: tuple = ("log_marginal_likelihood", "beta")

    def __init__(self, draws=None, start=None, model=None, random_seed=None, threshold=THRESHOLD,
                 correlation_threshold=CORRELATION_THRESHOLD, compile_kwargs=None, **kwargs):
        name = type(self).__name__
        if kwargs:
            raise TypeError(f"pm.sample_smc: the {name} kernel got unknown keyword argument(s) {sorted(kwargs)}; "
                            "accepted: threshold, correlation_threshold")
        self.threshold = check_fraction("threshold", threshold)
        self.correlation_threshold = check_fraction("correlation_threshold", correlation_threshold)

    def settings(self) -> dict:
        return {"threshold": self.threshold, "correlation_threshold": self.correlation_threshold}

    def tune(self, first, scales, chain_acc):
        """The proposal scales before a stage's mutation (`first`: the first stage)."""
        return scales

    @abc.abstractmethod
    def stats(self, mutation: Mutation) -> dict:
        """The kernel's own per-stage statistics (besides beta and the log marginal likelihood)."""

    @abc.abstractmethod
    def mutate(self, key, particles: Particles, beta, chain_acc, scales, density: Callable) -> Mutation:
        """The stage's MCMC steps on the resampled particles; `density(xs) -> (log prior, log likelihood)`."""


class IMH(SMC_KERNEL):
    """Independent Metropolis-Hastings: proposals from a multivariate normal fitted to the particles."""

    stat_names = ("log_marginal_likelihood", "beta", "accept_rate")

    def stats(self, mutation):
        return {"accept_rate": mutation.accept_rate}

    def mutate(self, key, particles, beta, chain_acc, scales, density):
        mean = jnp.mean(particles.x, 0)
        chol = proposal_cholesky(particles.x)

        def propose(key, x):
            z = jax.random.normal(key, x.shape, x.dtype)
            prop = mean + z @ chol.T
            return prop, mvn_logpdf(x, mean, chol) - mvn_logpdf(prop, mean, chol)

        return run_steps(key, particles, beta, chain_acc, scales, density, propose, self.correlation_threshold)


class MH(SMC_KERNEL):
    """Random-walk Metropolis-Hastings with the particles' covariance, each particle's scale tuned towards an
    acceptance rate of 0.234 from stage to stage."""

    stat_names = ("log_marginal_likelihood", "beta", "mean_accept_rate", "mean_proposal_scale")

    @staticmethod
    def initial_scale(ndim: int) -> float:
        return min(1.0, 2.38**2 / ndim)

    def stats(self, mutation):
        return {"mean_accept_rate": jnp.mean(mutation.chain_acc), "mean_proposal_scale": jnp.mean(mutation.scales)}

    def mutate(self, key, particles, beta, chain_acc, scales, density):
        chol = proposal_cholesky(particles.x)

        def propose(key, x):
            z = jax.random.normal(key, x.shape, x.dtype)
            return x + (z @ chol.T) * scales[:, None], jnp.zeros(x.shape[0], x.dtype)

        return run_steps(key, particles, beta, chain_acc, scales, density, propose, self.correlation_threshold)

    def tune(self, first, scales, chain_acc):
        """PyMC's MH tuning from the second stage on: each scale moves by its particle's acceptance rate minus
        the target, then halfway to the mean scale."""
        chain_scales = jnp.exp(jnp.log(scales) + (chain_acc - MH_TARGET_ACCEPT))
        return jnp.where(first, scales, 0.5 * (chain_scales + jnp.mean(chain_scales)))


KERNELS = {"IMH": IMH, "MH": MH}


# ---------------------------------------------------------------------- the stage's pure functions
def next_beta(lik, beta, threshold):
    """The next inverse temperature by bisection, the one whose importance weights have an ESS of
    int(N * threshold) (PyMC's rule, ESS truncated to an integer), capped at 1; returns (beta, log weights)."""
    n = lik.shape[0]
    target = jnp.floor(n * threshold)

    def ess(new):
        lw_un = (new - beta) * lik
        lw = lw_un - logsumexp(lw_un)
        return jnp.floor(jnp.exp(-logsumexp(2 * lw)))

    def cond(c):
        low, up, _, hit = c
        return (up - low > BETA_TOLERANCE) & ~hit

    def body(c):
        low, up, _, _ = c
        new = (low + up) / 2
        e = ess(new)
        return jnp.where(e > target, new, low), jnp.where(e < target, new, up), new, e == target

    init = (beta, jnp.asarray(2.0, lik.dtype), beta, jnp.asarray(False))
    _, _, new, _ = jax.lax.while_loop(cond, body, body(init))
    new = jnp.minimum(new, 1.0)
    return new, (new - beta) * lik


def systematic_resampling(key, weights):
    """Indices of N draws from the normalised weights by systematic resampling."""
    n = weights.shape[0]
    u = (jax.random.uniform(key, (), weights.dtype) + jnp.arange(n, dtype=weights.dtype)) / n
    return jnp.minimum(jnp.searchsorted(jnp.cumsum(weights), u, side="left"), n - 1)


def proposal_cholesky(x):
    """Cholesky factor of the particles' covariance (ddof=0) plus PyMC's jitter."""
    xc = x - jnp.mean(x, 0)
    cov = xc.T @ xc / x.shape[0] + COV_JITTER * jnp.eye(x.shape[1], dtype=x.dtype)
    return jnp.linalg.cholesky(cov)


def mvn_logpdf(x, mean, chol):
    z = jax.scipy.linalg.solve_triangular(chol, (x - mean).T, lower=True)
    return -0.5 * jnp.sum(z**2, 0) - jnp.sum(jnp.log(jnp.diag(chol))) - 0.5 * x.shape[1] * jnp.log(2 * jnp.pi)


def pearson(a, b):
    """|Pearson correlation| of each column of a with the same column of b."""
    am, bm = a - jnp.mean(a, 0), b - jnp.mean(b, 0)
    return jnp.abs(jnp.sum(am * bm, 0) / (jnp.sqrt(jnp.sum(am**2, 0)) * jnp.sqrt(jnp.sum(bm**2, 0))))


def run_steps(key, particles, beta, chain_acc, scales, density, propose, correlation_threshold) -> Mutation:
    """Metropolis steps on all particles until the correlation with the stage's starting particles stops
    falling by `correlation_threshold` in 90% of the dimensions (PyMC's rule), at most MAX_MCMC_STEPS."""
    x0 = particles.x
    n = x0.shape[0]

    def cond(c):
        return c[-1] & (c[3] < MAX_MCMC_STEPS)

    def body(c):
        key, p, old_corr, steps, acc_sum, _ = c
        key, k_prop, k_u = jax.random.split(key, 3)
        prop, log_q_ratio = propose(k_prop, p.x)
        prior, lik = density(prop)
        prop_lp = prior + beta * lik
        cur_lp = p.prior + beta * p.lik
        log_u = jnp.log(jax.random.uniform(k_u, (n,), prop.dtype))
        acc = log_u < prop_lp - cur_lp + log_q_ratio  # NaN proposals are rejected
        p = Particles(jnp.where(acc[:, None], prop, p.x), jnp.where(acc, prior, p.prior),
                      jnp.where(acc, lik, p.lik))
        corr = pearson(x0, p.x)
        go = jnp.mean((old_corr - corr) > correlation_threshold) > 0.9
        return key, p, corr, steps + 1, acc_sum + acc, go

    init = (key, particles, jnp.full(x0.shape[1], 2.0, x0.dtype), jnp.int32(0), jnp.zeros(n, x0.dtype),
            jnp.asarray(True))
    _, p, _, steps, acc_sum, _ = jax.lax.while_loop(cond, body, init)
    per_particle = acc_sum / steps
    return Mutation(p, per_particle, scales, steps + 1, jnp.mean(per_particle))
