"""Continuous families: logp/logcdf against scipy and PyMC, model-level PyMC parity, draws' moments,
float32, gradients.

Each case evaluates many random (parameter, value) points at once so that every PyMC graph is compiled
once (all PyMC outputs go into a single compiled function).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st

import jaxmc
from jaxmc import config
from tests.helpers import PYMC6, pymc_parity

pymc = pytest.importorskip("pymc")

N = 30  # points per case


def _pytensor_fast(fn, *args, **kwargs):
    """Run `fn` with PyTensor's Python linker: no C compilation, and no waiting on the compile-directory
    lock shared with other processes (the graph rewrites, hence the numerics, are those of the default
    mode). Falls back to the default linker if the Python linker fails on some op."""
    import pytensor

    try:
        with pytensor.config.change_flags(linker="py"):
            return fn(*args, **kwargs)
    except AssertionError:
        raise
    except Exception:
        return fn(*args, **kwargs)


PI = np.pi


# ---------------------------------------------------------------------- reference densities scipy lacks
class Ref:
    """A frozen-distribution stand-in with logpdf / logcdf."""

    def __init__(self, logpdf, logcdf=None):
        self.logpdf = logpdf
        if logcdf is not None:
            self.logcdf = logcdf


def halft_ref(nu, sigma):
    return Ref(lambda x: np.log(2) + st.t.logpdf(x, nu, 0, sigma),
               lambda x: np.log(2 * st.t.cdf(x, nu, 0, sigma) - 1))


def logitnormal_ref(mu, sigma):
    return Ref(lambda x: st.norm.logpdf(sps.logit(x), mu, sigma) - np.log(x) - np.log1p(-x),
               lambda x: st.norm.logcdf(sps.logit(x), mu, sigma))


def kumaraswamy_ref(a, b):
    return Ref(lambda x: np.log(a * b) + (a - 1) * np.log(x) + (b - 1) * np.log1p(-(x**a)),
               lambda x: np.log1p(-((1 - x**a) ** b)))


INTERP_X = np.array([-1.0, -0.3, 0.2, 0.9, 1.5, 2.5])
INTERP_PDF = np.array([0.0, 0.8, 1.4, 0.6, 0.7, 0.1])


def interpolated_ref():
    z = np.trapezoid(INTERP_PDF, INTERP_X)
    fine = np.linspace(INTERP_X[0], INTERP_X[-1], 200001)
    cdf = np.concatenate([[0], np.cumsum(np.diff(fine) * (np.interp(fine[1:], INTERP_X, INTERP_PDF)
                                                           + np.interp(fine[:-1], INTERP_X, INTERP_PDF)) / 2)]) / z
    return Ref(lambda x: np.log(np.interp(x, INTERP_X, INTERP_PDF) / z),
               lambda x: np.log(np.interp(x, fine, cdf)))


# ---------------------------------------------------------------------- cases
@dataclass
class Case:
    id: str
    build: Callable  # (pm, params) -> unnamed distribution; the same call for jaxmc and PyMC
    params: Callable  # rng -> dict of parameter arrays
    values: Callable  # (rng, params) -> values
    ref: Callable | None = None  # params -> scipy frozen distribution (or Ref)
    pymc_logcdf: bool = True  # PyMC defines a logcdf
    ref_logcdf: bool = True
    jaxmc_logcdf: bool = True
    pymc: bool = True
    rtol: float = 1e-6
    pymc_rtol: float = 1e-6
    pymc_mask: Callable | None = None  # (params, values) -> where PyMC's own formula is accurate


def U(rng, a, b):
    return rng.uniform(a, b, N)


def Nrm(rng, s=1.0):
    return rng.normal(0, s, N)


def loc_scale(rng):
    return dict(mu=Nrm(rng, 2), sigma=U(rng, 0.3, 3))


def around(rng, p, k="mu", s="sigma", spread=2.5):
    return p[k] + p[s] * rng.normal(0, spread, N)


def positive(rng, p=None):
    return np.exp(rng.normal(0, 1, N))


def unit(rng, p=None):
    return rng.uniform(0.002, 0.998, N)


def trunc_params(rng):
    mu, sigma = Nrm(rng, 2), U(rng, 0.3, 3)
    a = mu + sigma * rng.uniform(-3, 5, N)  # includes bounds far in the upper tail
    return dict(mu=mu, sigma=sigma, lower=a, upper=a + sigma * U(rng, 0.2, 4))


def beta_musig(rng):
    mu = U(rng, 0.2, 0.8)
    return dict(mu=mu, sigma=U(rng, 0.1, 0.9) * np.sqrt(mu * (1 - mu)))


def tri_params(rng):
    lo = Nrm(rng, 2)
    up = lo + U(rng, 0.5, 3)
    return dict(lower=lo, upper=up, c=lo + U(rng, 0.05, 0.95) * (up - lo))


CASES = [
    Case("Normal", lambda pm, p: pm.Normal.dist(mu=p["mu"], sigma=p["sigma"]), loc_scale, around,
         lambda p: st.norm(p["mu"], p["sigma"])),
    Case("Normal-tau", lambda pm, p: pm.Normal.dist(p["mu"], tau=p["sigma"] ** -2), loc_scale, around,
         lambda p: st.norm(p["mu"], p["sigma"])),
    Case("HalfNormal", lambda pm, p: pm.HalfNormal.dist(sigma=p["sigma"]), lambda r: dict(sigma=U(r, .3, 3)),
         lambda r, p: p["sigma"] * np.abs(r.normal(0, 2, N)), lambda p: st.halfnorm(scale=p["sigma"])),
    Case("HalfNormal-tau", lambda pm, p: pm.HalfNormal.dist(tau=p["sigma"] ** -2),
         lambda r: dict(sigma=U(r, .3, 3)), lambda r, p: p["sigma"] * np.abs(r.normal(0, 2, N)),
         lambda p: st.halfnorm(scale=p["sigma"])),
    Case("StudentT", lambda pm, p: pm.StudentT.dist(p["nu"], p["mu"], sigma=p["sigma"]),
         lambda r: dict(nu=U(r, .5, 12), **loc_scale(r)), lambda r, p: around(r, p, spread=5),
         lambda p: st.t(p["nu"], p["mu"], p["sigma"])),
    Case("StudentT-lam", lambda pm, p: pm.StudentT.dist(nu=p["nu"], mu=p["mu"], lam=p["sigma"] ** -2),
         lambda r: dict(nu=U(r, .5, 12), **loc_scale(r)), around, lambda p: st.t(p["nu"], p["mu"], p["sigma"])),
    Case("HalfStudentT", lambda pm, p: pm.HalfStudentT.dist(nu=p["nu"], sigma=p["sigma"]),
         lambda r: dict(nu=U(r, .5, 12), sigma=U(r, .3, 3)), lambda r, p: p["sigma"] * positive(r) * 2,
         lambda p: halft_ref(p["nu"], p["sigma"]), pymc_logcdf=False),
    Case("HalfStudentT-lam", lambda pm, p: pm.HalfStudentT.dist(p["nu"], lam=p["sigma"] ** -2),
         lambda r: dict(nu=U(r, .5, 12), sigma=U(r, .3, 3)), lambda r, p: p["sigma"] * positive(r),
         lambda p: halft_ref(p["nu"], p["sigma"]), pymc_logcdf=False),
    Case("Cauchy", lambda pm, p: pm.Cauchy.dist(p["mu"], p["sigma"]), loc_scale,
         lambda r, p: around(r, p, spread=6), lambda p: st.cauchy(p["mu"], p["sigma"])),
    Case("HalfCauchy", lambda pm, p: pm.HalfCauchy.dist(beta=p["beta"]), lambda r: dict(beta=U(r, .3, 3)),
         lambda r, p: p["beta"] * positive(r) * 3, lambda p: st.halfcauchy(scale=p["beta"])),
    Case("Exponential", lambda pm, p: pm.Exponential.dist(p["lam"]), lambda r: dict(lam=U(r, .2, 4)),
         lambda r, p: positive(r) / p["lam"], lambda p: st.expon(scale=1 / p["lam"])),
    Case("Exponential-scale", lambda pm, p: pm.Exponential.dist(scale=p["s"]), lambda r: dict(s=U(r, .2, 4)),
         lambda r, p: positive(r) * p["s"], lambda p: st.expon(scale=p["s"])),
    Case("Gamma", lambda pm, p: pm.Gamma.dist(p["alpha"], p["beta"]),
         lambda r: dict(alpha=U(r, .4, 6), beta=U(r, .3, 3)), lambda r, p: positive(r) * p["alpha"] / p["beta"],
         lambda p: st.gamma(p["alpha"], scale=1 / p["beta"])),
    Case("Gamma-musigma", lambda pm, p: pm.Gamma.dist(mu=p["mu"], sigma=p["sigma"]),
         lambda r: dict(mu=U(r, .5, 5), sigma=U(r, .3, 3)), lambda r, p: positive(r) * p["mu"],
         lambda p: st.gamma(p["mu"] ** 2 / p["sigma"] ** 2, scale=p["sigma"] ** 2 / p["mu"])),
    Case("ChiSquared", lambda pm, p: pm.ChiSquared.dist(p["nu"]), lambda r: dict(nu=U(r, .5, 10)),
         lambda r, p: positive(r) * p["nu"], lambda p: st.chi2(p["nu"])),
    Case("InverseGamma", lambda pm, p: pm.InverseGamma.dist(p["alpha"], p["beta"]),
         lambda r: dict(alpha=U(r, .5, 6), beta=U(r, .3, 3)), lambda r, p: positive(r) * p["beta"],
         lambda p: st.invgamma(p["alpha"], scale=p["beta"])),
    Case("InverseGamma-alpha", lambda pm, p: pm.InverseGamma.dist(alpha=p["alpha"]),
         lambda r: dict(alpha=U(r, .5, 6)), positive, lambda p: st.invgamma(p["alpha"])),
    Case("InverseGamma-musigma", lambda pm, p: pm.InverseGamma.dist(mu=p["mu"], sigma=p["sigma"]),
         lambda r: dict(mu=U(r, .5, 4), sigma=U(r, .3, 3)), lambda r, p: positive(r) * p["mu"],
         lambda p: st.invgamma(2 + p["mu"] ** 2 / p["sigma"] ** 2,
                               scale=p["mu"] * (p["mu"] ** 2 + p["sigma"] ** 2) / p["sigma"] ** 2)),
    Case("Beta", lambda pm, p: pm.Beta.dist(p["alpha"], p["beta"]),
         lambda r: dict(alpha=U(r, .3, 6), beta=U(r, .3, 6)), unit, lambda p: st.beta(p["alpha"], p["beta"])),
    Case("Beta-musigma", lambda pm, p: pm.Beta.dist(mu=p["mu"], sigma=p["sigma"]), beta_musig, unit,
         lambda p: st.beta(p["mu"] * (p["mu"] * (1 - p["mu"]) / p["sigma"] ** 2 - 1),
                           (1 - p["mu"]) * (p["mu"] * (1 - p["mu"]) / p["sigma"] ** 2 - 1))),
    Case("Beta-munu", lambda pm, p: pm.Beta.dist(mu=p["mu"], nu=p["nu"]),
         lambda r: dict(mu=U(r, .1, .9), nu=U(r, .5, 20)), unit,
         lambda p: st.beta(p["mu"] * p["nu"], (1 - p["mu"]) * p["nu"])),
    Case("Kumaraswamy", lambda pm, p: pm.Kumaraswamy.dist(p["a"], p["b"]),
         lambda r: dict(a=U(r, .3, 5), b=U(r, .3, 5)), unit, lambda p: kumaraswamy_ref(p["a"], p["b"])),
    Case("Uniform", lambda pm, p: pm.Uniform.dist(p["lower"], p["upper"]),
         lambda r: (lambda lo: dict(lower=lo, upper=lo + U(r, .2, 4)))(Nrm(r, 2)),
         lambda r, p: p["lower"] + unit(r) * (p["upper"] - p["lower"]),
         lambda p: st.uniform(p["lower"], p["upper"] - p["lower"])),
    Case("LogNormal", lambda pm, p: pm.LogNormal.dist(p["mu"], p["sigma"]), loc_scale,
         lambda r, p: np.exp(around(r, p)), lambda p: st.lognorm(p["sigma"], scale=np.exp(p["mu"]))),
    Case("LogNormal-tau", lambda pm, p: pm.LogNormal.dist(mu=p["mu"], tau=p["sigma"] ** -2), loc_scale,
         lambda r, p: np.exp(around(r, p)), lambda p: st.lognorm(p["sigma"], scale=np.exp(p["mu"]))),
    Case("Lognormal-alias", lambda pm, p: pm.Lognormal.dist(p["mu"], p["sigma"]), loc_scale,
         lambda r, p: np.exp(around(r, p)), lambda p: st.lognorm(p["sigma"], scale=np.exp(p["mu"]))),
    Case("LogitNormal", lambda pm, p: pm.LogitNormal.dist(p["mu"], p["sigma"]),
         lambda r: dict(mu=Nrm(r), sigma=U(r, .3, 2)), unit, lambda p: logitnormal_ref(p["mu"], p["sigma"])),
    Case("LogitNormal-tau", lambda pm, p: pm.LogitNormal.dist(mu=p["mu"], tau=p["sigma"] ** -2),
         lambda r: dict(mu=Nrm(r), sigma=U(r, .3, 2)), unit, lambda p: logitnormal_ref(p["mu"], p["sigma"])),
    Case("Laplace", lambda pm, p: pm.Laplace.dist(p["mu"], p["sigma"]), loc_scale, around,
         lambda p: st.laplace(p["mu"], p["sigma"])),
    Case("AsymmetricLaplace", lambda pm, p: pm.AsymmetricLaplace.dist(kappa=p["kappa"], mu=p["mu"], b=p["b"]),
         lambda r: dict(kappa=U(r, .3, 3), mu=Nrm(r, 2), b=U(r, .4, 3)),
         lambda r, p: p["mu"] + Nrm(r, 2) / p["b"], lambda p: st.laplace_asymmetric(p["kappa"], p["mu"], 1 / p["b"]),
         pymc_logcdf=False),
    Case("AsymmetricLaplace-q", lambda pm, p: pm.AsymmetricLaplace.dist(q=p["q"], mu=p["mu"], b=p["b"]),
         lambda r: dict(q=U(r, .1, .9), mu=Nrm(r, 2), b=U(r, .4, 3)),
         lambda r, p: p["mu"] + Nrm(r, 2) / p["b"],
         lambda p: st.laplace_asymmetric(np.sqrt(p["q"] / (1 - p["q"])), p["mu"], 1 / p["b"]), pymc_logcdf=False),
    Case("Logistic", lambda pm, p: pm.Logistic.dist(p["mu"], s=p["sigma"]), loc_scale, around,
         lambda p: st.logistic(p["mu"], p["sigma"])),
    Case("Gumbel", lambda pm, p: pm.Gumbel.dist(p["mu"], p["sigma"]), loc_scale, around,
         lambda p: st.gumbel_r(p["mu"], p["sigma"])),
    Case("Moyal", lambda pm, p: pm.Moyal.dist(p["mu"], p["sigma"]), loc_scale, around,
         lambda p: st.moyal(p["mu"], p["sigma"])),
    Case("Weibull", lambda pm, p: pm.Weibull.dist(p["alpha"], p["beta"]),
         lambda r: dict(alpha=U(r, .5, 5), beta=U(r, .3, 3)), lambda r, p: positive(r) * p["beta"],
         lambda p: st.weibull_min(p["alpha"], scale=p["beta"])),
    Case("TruncatedNormal", lambda pm, p: pm.TruncatedNormal.dist(p["mu"], p["sigma"], lower=p["lower"],
                                                                  upper=p["upper"]),
         trunc_params, lambda r, p: p["lower"] + unit(r) * (p["upper"] - p["lower"]),
         lambda p: st.truncnorm((p["lower"] - p["mu"]) / p["sigma"], (p["upper"] - p["mu"]) / p["sigma"],
                                p["mu"], p["sigma"]),
         # bounds up to 5 sigma into the tail, where PyMC's log_diff_normal_cdf loses ~1e-6 (relative);
         # jaxmc agrees with scipy (and mpmath) to 1e-12 there
         pymc_rtol=5e-6),
    Case("TruncatedNormal-lower-tau", lambda pm, p: pm.TruncatedNormal.dist(mu=p["mu"], tau=p["sigma"] ** -2,
                                                                            lower=p["lower"]),
         trunc_params, lambda r, p: p["lower"] + positive(r) * p["sigma"],
         lambda p: st.truncnorm((p["lower"] - p["mu"]) / p["sigma"], np.inf, p["mu"], p["sigma"])),
    Case("TruncatedNormal-upper", lambda pm, p: pm.TruncatedNormal.dist(p["mu"], p["sigma"], upper=p["upper"]),
         trunc_params, lambda r, p: p["upper"] - positive(r) * p["sigma"],
         lambda p: st.truncnorm(-np.inf, (p["upper"] - p["mu"]) / p["sigma"], p["mu"], p["sigma"])),
    Case("TruncatedNormal-none", lambda pm, p: pm.TruncatedNormal.dist(p["mu"], p["sigma"]), loc_scale, around,
         lambda p: st.norm(p["mu"], p["sigma"])),
    Case("ExGaussian", lambda pm, p: pm.ExGaussian.dist(p["mu"], p["sigma"], nu=p["nu"]),
         lambda r: dict(nu=U(r, .2, 4), **loc_scale(r)), lambda r, p: around(r, p) + p["nu"],
         lambda p: st.exponnorm(p["nu"] / p["sigma"], p["mu"], p["sigma"])),
    # nu < 0.05 sigma: PyMC (and jaxmc) switch to the normal approximation
    Case("ExGaussian-smallnu", lambda pm, p: pm.ExGaussian.dist(mu=p["mu"], sigma=p["sigma"], nu=p["nu"]),
         lambda r: (lambda d: dict(d, nu=d["sigma"] * U(r, .005, .045)))(loc_scale(r)), around,
         lambda p: st.norm(p["mu"], p["sigma"])),
    Case("Pareto", lambda pm, p: pm.Pareto.dist(p["alpha"], p["m"]),
         lambda r: dict(alpha=U(r, .3, 5), m=U(r, .3, 3)), lambda r, p: p["m"] * (1 + positive(r)),
         lambda p: st.pareto(p["alpha"], scale=p["m"])),
    Case("Rice", lambda pm, p: pm.Rice.dist(nu=p["nu"], sigma=p["sigma"]),
         lambda r: dict(nu=U(r, 0, 4), sigma=U(r, .3, 2)), lambda r, p: positive(r) * (p["nu"] + p["sigma"]),
         lambda p: st.rice(p["nu"] / p["sigma"], scale=p["sigma"]), pymc_logcdf=False, jaxmc_logcdf=False),
    Case("Rice-b", lambda pm, p: pm.Rice.dist(b=p["b"], sigma=p["sigma"]),
         lambda r: dict(b=U(r, 0, 4), sigma=U(r, .3, 2)), lambda r, p: positive(r) * (p["b"] + 1) * p["sigma"],
         lambda p: st.rice(p["b"], scale=p["sigma"]), pymc_logcdf=False, jaxmc_logcdf=False),
    Case("Rice-default-sigma", lambda pm, p: pm.Rice.dist(p["nu"]), lambda r: dict(nu=U(r, 0, 4)),
         lambda r, p: positive(r) * (p["nu"] + 1), lambda p: st.rice(p["nu"]), pymc_logcdf=False,
         jaxmc_logcdf=False),
    # PyMC's log(1 + erf(w)) underflows (-inf) or loses digits for w << 0; jaxmc uses log_ndtr
    Case("SkewNormal", lambda pm, p: pm.SkewNormal.dist(alpha=p["alpha"], mu=p["mu"], sigma=p["sigma"]),
         lambda r: dict(alpha=Nrm(r, 3), **loc_scale(r)), around,
         lambda p: st.skewnorm(p["alpha"], p["mu"], p["sigma"]), pymc_logcdf=False, jaxmc_logcdf=False,
         pymc_mask=lambda p, v: p["alpha"] * (v - p["mu"]) / p["sigma"] > -3),
    Case("SkewNormal-tau", lambda pm, p: pm.SkewNormal.dist(p["alpha"], p["mu"], tau=p["sigma"] ** -2),
         lambda r: dict(alpha=Nrm(r, 3), **loc_scale(r)), around,
         lambda p: st.skewnorm(p["alpha"], p["mu"], p["sigma"]), pymc_logcdf=False, jaxmc_logcdf=False,
         pymc_mask=lambda p, v: p["alpha"] * (v - p["mu"]) / p["sigma"] > -3),
    Case("SkewStudentT", lambda pm, p: pm.SkewStudentT.dist(p["a"], p["b"], mu=p["mu"], sigma=p["sigma"]),
         lambda r: dict(a=U(r, .5, 6), b=U(r, .5, 6), **loc_scale(r)), lambda r, p: around(r, p, spread=4),
         lambda p: st.jf_skew_t(p["a"], p["b"], p["mu"], p["sigma"])),
    Case("SkewStudentT-lam", lambda pm, p: pm.SkewStudentT.dist(a=p["a"], b=p["b"], mu=p["mu"],
                                                                lam=p["sigma"] ** -2),
         lambda r: dict(a=U(r, .5, 6), b=U(r, .5, 6), **loc_scale(r)), around,
         lambda p: st.jf_skew_t(p["a"], p["b"], p["mu"], p["sigma"])),
    Case("Triangular", lambda pm, p: pm.Triangular.dist(lower=p["lower"], upper=p["upper"], c=p["c"]),
         tri_params, lambda r, p: p["lower"] + unit(r) * (p["upper"] - p["lower"]),
         lambda p: st.triang((p["c"] - p["lower"]) / (p["upper"] - p["lower"]), p["lower"],
                             p["upper"] - p["lower"])),
    Case("VonMises", lambda pm, p: pm.VonMises.dist(mu=p["mu"], kappa=p["kappa"]),
         lambda r: dict(mu=U(r, -PI, PI), kappa=U(r, .05, 30)), lambda r, p: U(r, -PI, PI),
         lambda p: st.vonmises(p["kappa"], p["mu"]), pymc_logcdf=False, jaxmc_logcdf=False),
    Case("Wald", lambda pm, p: pm.Wald.dist(p["mu"], p["lam"]), lambda r: dict(mu=U(r, .3, 3), lam=U(r, .3, 5)),
         lambda r, p: positive(r) * p["mu"], lambda p: st.invgauss(p["mu"] / p["lam"], scale=p["lam"]),
         pymc_logcdf=PYMC6),  # PyMC 5.28's Wald logcdf is wrong when lam != 1 (see test below)
    Case("Wald-mu", lambda pm, p: pm.Wald.dist(mu=p["mu"]), lambda r: dict(mu=U(r, .3, 3)),
         lambda r, p: positive(r) * p["mu"], lambda p: st.invgauss(p["mu"])),
    Case("Wald-phi", lambda pm, p: pm.Wald.dist(mu=p["mu"], phi=p["phi"]),
         lambda r: dict(mu=U(r, .3, 3), phi=U(r, .3, 5)), lambda r, p: positive(r) * p["mu"],
         lambda p: st.invgauss(1 / p["phi"], scale=p["mu"] * p["phi"]), pymc_logcdf=PYMC6),
    Case("Wald-lamphi", lambda pm, p: pm.Wald.dist(lam=p["lam"], phi=p["phi"]),
         lambda r: dict(lam=U(r, .3, 5), phi=U(r, .3, 5)), lambda r, p: positive(r) * p["lam"] / p["phi"],
         lambda p: st.invgauss(1 / p["phi"], scale=p["lam"]), pymc_logcdf=PYMC6),
    Case("Wald-alpha", lambda pm, p: pm.Wald.dist(mu=p["mu"], alpha=p["alpha"]),
         lambda r: dict(mu=U(r, .3, 3), alpha=U(r, 0, 2)), lambda r, p: p["alpha"] + positive(r) * p["mu"],
         lambda p: st.invgauss(p["mu"], loc=p["alpha"])),
    Case("Interpolated", lambda pm, p: pm.Interpolated.dist(INTERP_X, INTERP_PDF), lambda r: {},
         lambda r, p: r.uniform(INTERP_X[0] + 1e-3, INTERP_X[-1] - 1e-3, N), lambda p: interpolated_ref(),
         pymc_logcdf=False, rtol=1e-7),
    Case("Flat", lambda pm, p: pm.Flat.dist(), lambda r: {},
         lambda r, p: np.concatenate([Nrm(r, 10), [np.inf, -np.inf]]), None),
    Case("HalfFlat", lambda pm, p: pm.HalfFlat.dist(), lambda r: {},
         lambda r, p: np.concatenate([positive(r), [0.0, np.inf]]), None),
]
CASE_IDS = [c.id for c in CASES]


def _points(case, seed):
    rng = np.random.default_rng(seed)
    p = case.params(rng)
    return p, np.asarray(case.values(rng, p), dtype=float)


def _evaluate(items):
    """[(rv, values, with_logcdf)] -> [(logp, logcdf or None)] through `pm.logp` / `pm.logcdf` (eager:
    JAX caches each primitive per shape, so many cases with same-shaped points share compiled code)."""
    out = []
    for rv, v, cdf in items:
        v = np.asarray(v, dtype=config.floatX())
        out.append((np.asarray(jaxmc.logp(rv, v)), np.asarray(jaxmc.logcdf(rv, v)) if cdf else None))
    return out


@pytest.fixture(scope="module")
def jaxmc_values():
    """{(case id, seed): (params, values, logp, logcdf)} for seeds 1 (scipy) and 2 (PyMC)."""
    keys, items, pts = [], [], []
    for seed in (1, 2):
        for case in CASES:
            p, v = _points(case, seed)
            keys.append((case.id, seed))
            pts.append((p, v))
            items.append((case.build(jaxmc, p), v, case.jaxmc_logcdf))
    return {k: (*pt, *r) for k, pt, r in zip(keys, pts, _evaluate(items))}


# ---------------------------------------------------------------------- 0. names
def test_all_pymc_continuous_names_exported():
    import pymc.distributions.continuous as pc

    from jaxmc.distributions import continuous as jc

    missing = sorted(set(pc.__all__) - set(jc.__all__))
    assert not missing, missing
    for name in pc.__all__ + ["Lognormal"]:
        assert hasattr(jaxmc, name), name
    covered = {c.id.split("-")[0] for c in CASES}
    assert set(pc.__all__) - covered == {"PolyaGamma"}  # tested separately (PyMC needs the polyagamma package)


def test_jitted_logp_logcdf_equal_eager(jaxmc_values):
    for case in [c for c in CASES if c.id.startswith("TruncatedNormal")]:
        p, v, lp, lc = jaxmc_values[(case.id, 1)]
        d = case.build(jaxmc, p).owner
        f = jax.jit(lambda v: (d.checked_logp(v, *d.params), d.checked_logcdf(v, *d.params)))
        jlp, jlc = f(jnp.asarray(v))
        np.testing.assert_allclose(np.asarray(jlp), lp, rtol=1e-9)
        np.testing.assert_allclose(np.asarray(jlc), lc, rtol=1e-9)


# ---------------------------------------------------------------------- 1. scipy
@pytest.mark.parametrize("case", [c for c in CASES if c.ref is not None], ids=lambda c: c.id)
def test_logp_logcdf_match_scipy(case, jaxmc_values):
    p, v, lp, lc = jaxmc_values[(case.id, 1)]
    ref = case.ref(p)
    np.testing.assert_allclose(lp, ref.logpdf(v), rtol=case.rtol, atol=1e-10)
    assert np.all(np.isfinite(lp))
    if case.jaxmc_logcdf and case.ref_logcdf and hasattr(ref, "logcdf"):
        np.testing.assert_allclose(lc, ref.logcdf(v), rtol=max(case.rtol, 1e-6), atol=1e-10)


# ---------------------------------------------------------------------- 2. PyMC, one compiled function
WALD_X = np.array([0.5, 1.0, 2.5])


@pytest.fixture(scope="module")
def pymc_values(jaxmc_values):
    """{(case id, "logp" | "logcdf"): PyMC's values at the seed-2 points}, from one compiled function."""
    import pytensor

    outs, keys = [], []
    for case in CASES:
        if not case.pymc:
            continue
        p, v, _, _ = jaxmc_values[(case.id, 2)]
        rv = case.build(pymc, p)
        outs.append(pymc.logp(rv, v))
        keys.append((case.id, "logp"))
        if case.pymc_logcdf:
            outs.append(pymc.logcdf(rv, v))
            keys.append((case.id, "logcdf"))
    outs.append(pymc.logcdf(pymc.Wald.dist(1.5, 3.0), WALD_X))
    keys.append(("Wald-lam3", "logcdf"))
    return dict(zip(keys, _pytensor_fast(lambda: pytensor.function([], outs)())))


@pytest.mark.parametrize("case", [c for c in CASES if c.pymc], ids=lambda c: c.id)
def test_logp_logcdf_match_pymc(case, jaxmc_values, pymc_values):
    p, v, lp, lc = jaxmc_values[(case.id, 2)]
    mask = np.ones(v.shape, bool) if case.pymc_mask is None else case.pymc_mask(p, v)
    assert mask.sum() >= N // 2
    np.testing.assert_allclose(lp[mask], pymc_values[(case.id, "logp")][mask], rtol=case.pymc_rtol, atol=1e-10)
    if case.pymc_logcdf:
        np.testing.assert_allclose(lc[mask], pymc_values[(case.id, "logcdf")][mask], rtol=case.pymc_rtol,
                                   atol=1e-10)


def test_wald_logcdf_follows_pymc6(pymc_values):
    """Wald's logcdf is scipy's (PyMC 6's formula); PyMC 5.28's agrees with it only for lam = 1, so the
    cases with lam != 1 are compared with PyMC on PyMC 6 only."""
    ours = np.asarray(jaxmc.logcdf(jaxmc.Wald.dist(1.5, 3.0), WALD_X))
    ref = st.invgauss(1.5 / 3.0, scale=3.0).logcdf(WALD_X)
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    if PYMC6:
        np.testing.assert_allclose(pymc_values[("Wald-lam3", "logcdf")], ref, rtol=1e-6)
    else:
        assert not np.allclose(pymc_values[("Wald-lam3", "logcdf")], ref)


#: support points that PyMC 6 changed (jaxmc follows 6): case id -> PyMC 6's formula of the parameters
SUPPORT_POINTS_PYMC6 = {
    "Rice": lambda p: np.maximum(p["nu"] / p["sigma"], 1.0) * p["sigma"],
    "Rice-b": lambda p: np.maximum(p["b"], 1.0) * p["sigma"],
    "Rice-default-sigma": lambda p: np.maximum(p["nu"], 1.0),
    "SkewStudentT": lambda p: p["mu"],
    "SkewStudentT-lam": lambda p: p["mu"],
    "Wald-alpha": lambda p: p["mu"] + p["alpha"],
}


def test_support_points_match_pymc():
    """Every case's support point (the initial point) against PyMC's; those PyMC 6 changed against PyMC 6's
    formulas on either PyMC (and against PyMC itself on PyMC 6)."""
    from pymc.distributions.distribution import support_point

    cases = [c for c in CASES if c.pymc]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _pytensor_fast(lambda: [np.asarray(support_point(c.build(pymc, _points(c, 2)[0])).eval())
                                      for c in cases])
    for case, theirs in zip(cases, ref):
        p = _points(case, 2)[0]
        rv = case.build(jaxmc, p)
        ours = np.asarray(rv.owner.support_point(*rv.owner.params, size=rv.shape))
        if case.id in SUPPORT_POINTS_PYMC6:
            np.testing.assert_allclose(ours, SUPPORT_POINTS_PYMC6[case.id](p), rtol=1e-10, err_msg=case.id)
            if not PYMC6:
                assert not np.allclose(theirs, ours), case.id  # PyMC 5.28's differ
                continue
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10, err_msg=case.id)


def test_out_of_support_and_invalid_parameters():
    cases = [
        (jaxmc.HalfNormal.dist(1.0), [-0.5]), (jaxmc.Beta.dist(2.0, 2.0), [-0.1, 1.1]),
        (jaxmc.Uniform.dist(0.0, 1.0), [-0.1, 1.1]), (jaxmc.Pareto.dist(2.0, 1.0), [0.5]),
        (jaxmc.TruncatedNormal.dist(0.0, 1.0, lower=-1.0, upper=1.0), [-1.5, 1.5]),
        (jaxmc.Triangular.dist(0.0, 2.0, 1.0), [-0.5, 2.5]), (jaxmc.Wald.dist(1.0, 1.0, alpha=1.0), [0.5, 1.0]),
        (jaxmc.VonMises.dist(0.0, 1.0), [4.0]), (jaxmc.LogitNormal.dist(0.0, 1.0), [0.0, 1.0]),
        (jaxmc.Interpolated.dist(INTERP_X, INTERP_PDF), [-2.0, 3.0]), (jaxmc.HalfFlat.dist(), [-1.0]),
        (jaxmc.Rice.dist(1.0), [-1.0]), (jaxmc.PolyaGamma.dist(1.0, 0.0), [-1.0, 0.0]),
        (jaxmc.Normal.dist(0.0, -1.0), [0.0]), (jaxmc.Gamma.dist(-1.0, 1.0), [1.0]),
        (jaxmc.StudentT.dist(-1.0, 0.0, sigma=1.0), [0.0]), (jaxmc.Normal.dist(0.0, tau=-1.0), [0.0]),
        (jaxmc.Beta.dist(mu=0.5, sigma=0.6), [0.5]), (jaxmc.Triangular.dist(0.0, 1.0, 2.0), [0.5]),
    ]
    res = _evaluate([(rv, np.array(vals), False) for rv, vals in cases])
    for (rv, _), (lp, _) in zip(cases, res):
        assert np.all(lp == -np.inf), (type(rv.owner).__name__, lp)


def test_truncated_normal_mixed_infinite_bounds():
    """Bound arrays with some infinite entries: those entries are unbounded (logp, transform, gradient)."""
    lower, upper = np.array([-np.inf, 0.0, 1.0]), np.array([np.inf, np.inf, 2.0])
    with jaxmc.Model() as m:
        jaxmc.TruncatedNormal("x", 0.0, 1.0, lower=lower, upper=upper)
    y = np.array([0.3, 0.2, -0.4])
    s = 1 / (1 + np.exp(0.4))
    v = np.array([0.3, np.exp(0.2), 1 + s])
    ref = (st.norm.logpdf(v[0]) + st.truncnorm(0, np.inf).logpdf(v[1]) + 0.2 + st.truncnorm(1, 2).logpdf(v[2])
           + np.log(s) + np.log1p(-s))
    np.testing.assert_allclose(m.compile_logp()({"x_interval__": y}), ref, rtol=1e-12)
    assert np.all(np.isfinite(m.compile_dlogp()({"x_interval__": y})))
    lc = np.asarray(jaxmc.logcdf(jaxmc.TruncatedNormal.dist(0.0, 1.0, lower=lower, upper=upper), v))
    np.testing.assert_allclose(lc, [st.norm.logcdf(v[0]), st.truncnorm(0, np.inf).logcdf(v[1]),
                                    st.truncnorm(1, 2).logcdf(v[2])], rtol=1e-10)


def test_parameterization_errors():
    with pytest.raises(ValueError):
        jaxmc.Normal.dist(0.0, sigma=1.0, tau=1.0)
    with pytest.raises(ValueError):
        jaxmc.Exponential.dist(1.0, scale=1.0)
    with pytest.raises(ValueError):
        jaxmc.Gamma.dist(alpha=1.0)
    with pytest.raises(ValueError):
        jaxmc.Beta.dist(mu=0.5)
    with pytest.raises(ValueError):
        jaxmc.Wald.dist(lam=1.0)
    with pytest.raises(ValueError):
        jaxmc.Rice.dist(nu=1.0, b=1.0)
    with pytest.raises(ValueError):
        jaxmc.AsymmetricLaplace.dist(kappa=1.0, q=0.5, mu=0.0, b=1.0)
    with pytest.raises(TypeError):
        jaxmc.Normal.dist(0.0, 1.0, sgima=1.0)
    with pytest.raises(TypeError):
        jaxmc.HalfStudentT.dist(1.0, 1.0, 1.0, 5.0)  # no silently ignored extra positional arguments
    assert type(jaxmc.ChiSquared.dist(3.0).owner) is jaxmc.Gamma
    with jaxmc.Model():
        assert type(jaxmc.ChiSquared("c", nu=3.0).owner) is jaxmc.Gamma


# ---------------------------------------------------------------------- PolyaGamma (no PyMC reference here)
def _pg_reference_logpdf(x, h, z):
    import mpmath as mp

    with mp.workdps(40):
        x, h, z = mp.mpf(x), mp.mpf(h), mp.mpf(z)
        s = mp.fsum((-1) ** n * mp.exp(mp.loggamma(n + h) - mp.loggamma(n + 1)) * (2 * n + h)
                    * mp.exp(-(2 * n + h) ** 2 / (8 * x)) for n in range(120))
        s = s / mp.sqrt(2 * mp.pi * x**3)
        return float(mp.log(mp.cosh(z / 2) ** h * mp.exp(-z**2 * x / 2) * 2 ** (h - 1) / mp.gamma(h) * s))


def test_polyagamma_logp_logcdf():
    pytest.importorskip("mpmath")
    t = np.linspace(-7.0, np.log(40.0), 1201)  # x = exp(t); the trapezoid rule is spectrally accurate here
    grid = np.exp(t)
    pgs = [(1.0, 0.0), (1.0, 2.5), (3.5, -1.0), (0.5, 0.0)]
    xs = np.array([0.03, 0.4, 2.5])
    items = []
    for h, z in pgs:
        rv = jaxmc.PolyaGamma.dist(h=h, z=z)
        items += [(rv, xs, True), (rv, grid, False)]
    res = _evaluate(items)
    for k, (h, z) in enumerate(pgs):
        (lp, lc), (lgrid, _) = res[2 * k], res[2 * k + 1]
        np.testing.assert_allclose(lp, [_pg_reference_logpdf(x, h, z) for x in xs], rtol=1e-8)
        dens = np.exp(lgrid) * grid  # density in t = log x
        np.testing.assert_allclose(np.trapezoid(dens, t), 1.0, rtol=1e-7)
        mean = h / 4 if z == 0 else h / (2 * z) * np.tanh(z / 2)
        np.testing.assert_allclose(np.trapezoid(dens * grid, t), mean, rtol=1e-7)
        cum = np.concatenate([[0.0], np.cumsum(np.diff(t) * (dens[1:] + dens[:-1]) / 2)])
        np.testing.assert_allclose(np.exp(lc), np.interp(np.log(xs), t, cum), rtol=1e-4, atol=1e-5)
        assert np.all(np.diff(lc) > 0) and lc[-1] < 0


# ---------------------------------------------------------------------- 3. model-level parity
def model_real_line(pm):
    with pm.Model(coords={"a": range(3)}) as m:
        mu = pm.Normal("mu", 0.0, 2.0)
        s = pm.HalfNormal("s", sigma=1.5)
        pm.Normal("normal_tau", mu, tau=2.0, dims="a")
        pm.StudentT("t", nu=4.0, mu=mu, sigma=s, dims="a")
        pm.StudentT("t_lam", 3.0, 0.0, lam=2.0, dims="a")
        pm.Cauchy("cauchy", mu, 2.0, dims="a")
        pm.Laplace("laplace", mu, s, dims="a")
        pm.Logistic("logistic", mu, s=1.5, dims="a")
        pm.Gumbel("gumbel", mu, 2.0, dims="a")
        pm.Moyal("moyal", mu, s, dims="a")
        pm.ExGaussian("exg", mu, s, nu=1.2, dims="a")
        pm.SkewNormal("skewn", alpha=-2.0, mu=mu, sigma=s, dims="a")
        pm.SkewStudentT("skewt", 2.0, 3.0, mu=mu, sigma=1.5, dims="a")
        pm.AsymmetricLaplace("alap", kappa=1.5, mu=mu, b=s, dims="a")
        pm.AsymmetricLaplace("alap_q", q=0.3, mu=0.0, b=1.0, dims="a")
        pm.VonMises("vm", mu=0.3, kappa=2.0, dims="a")
        pm.Flat("flat", dims="a")
        pm.Normal("y", mu, s, observed=np.array([0.3, -1.2, 2.0]), dims="a")
        pm.StudentT("y_t", 5.0, mu, sigma=s, observed=np.array([0.5, 1.0, -0.2]))
        pm.VonMises("y_vm", mu=mu, kappa=s, observed=np.array([0.1, -2.0]))
    return m


def model_positive(pm):
    with pm.Model(coords={"a": range(3)}) as m:
        s = pm.HalfNormal("s", tau=0.5)
        pm.HalfNormal("hn", s, dims="a")
        pm.HalfStudentT("hst", nu=3.0, sigma=s, dims="a")
        pm.HalfStudentT("hst_lam", 3.0, lam=0.5, dims="a")
        pm.HalfCauchy("hc", beta=2.0, dims="a")
        pm.Exponential("ex", lam=s, dims="a")
        pm.Exponential("ex_scale", scale=2.0, dims="a")
        pm.Gamma("g", alpha=2.0, beta=s, dims="a")
        pm.Gamma("g_ms", mu=2.0, sigma=s, dims="a")
        pm.InverseGamma("ig", alpha=3.0, beta=s, dims="a")
        pm.InverseGamma("ig_ms", mu=2.0, sigma=1.0, dims="a")
        pm.LogNormal("ln", mu=0.5, sigma=s, dims="a")
        pm.Lognormal("ln_tau", mu=0.0, tau=4.0, dims="a")
        pm.ChiSquared("chi2", nu=3.0, dims="a")
        pm.Weibull("wb", alpha=1.5, beta=s, dims="a")
        pm.Wald("wald", mu=1.5, lam=2.0, dims="a")
        pm.Wald("wald_phi", mu=s, phi=2.0, dims="a")
        pm.Wald("wald_alpha", mu=1.0, lam=2.0, alpha=0.2, dims="a")
        pm.Rice("rice", nu=s, sigma=1.0, dims="a")
        pm.Rice("rice_b", b=1.5, sigma=2.0, dims="a")  # PyMC underflows (-inf) for x * b >> 1
        pm.HalfFlat("hflat", dims="a")
        pm.Gamma("y_g", alpha=s, beta=2.0, observed=np.array([0.5, 1.0, 3.0]), dims="a")
        pm.Wald("y_w", mu=s, lam=1.0, observed=np.array([0.5, 2.0]))
        pm.Weibull("y_wb", alpha=s, beta=1.0, observed=np.array([0.5, 2.0]))
    return m


def model_bounded(pm):
    with pm.Model(coords={"a": range(3)}) as m:
        lo = pm.Normal("lo", 0.0, 1.0)
        w = pm.HalfNormal("w", 2.0)
        f = pm.Beta("f", alpha=2.0, beta=2.0)
        pm.Beta("beta_ms", mu=0.4, sigma=0.2, dims="a")
        pm.Beta("beta_mn", mu=0.4, nu=5.0, dims="a")
        pm.Kumaraswamy("kum", a=2.0, b=3.0, dims="a")
        pm.Uniform("u", lower=lo, upper=lo + w, dims="a")
        pm.Uniform("u01", dims="a")
        pm.Triangular("tri", lower=lo, upper=lo + w, c=lo + f * w, dims="a")
        pm.Pareto("par", alpha=3.0, m=w, dims="a")
        pm.TruncatedNormal("tn", mu=0.0, sigma=1.0, lower=lo, upper=lo + w, dims="a")
        pm.TruncatedNormal("tn_lo", mu=1.0, tau=0.5, lower=lo, dims="a")
        pm.TruncatedNormal("tn_up", mu=0.0, sigma=w, upper=2.0, dims="a")
        pm.TruncatedNormal("tn_none", mu=lo, sigma=1.0, dims="a")
        pm.Interpolated("interp", INTERP_X, INTERP_PDF)
        pm.Beta("y_b", alpha=w, beta=2.0, observed=np.array([0.2, 0.7, 0.5]), dims="a")
        pm.TruncatedNormal("y_tn", mu=lo, sigma=w, lower=-1.0, upper=3.0, observed=np.array([0.0, 2.0]))
        pm.Uniform("y_u", lower=-5.0, upper=lo + 10.0, observed=np.array([0.0, 2.0]))
    return m


def model_logitnormal(pm):
    # no default transform (as in PyMC): keep the random points inside (0, 1)
    with pm.Model(coords={"a": range(3)}) as m:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.LogitNormal("ln", mu=mu, sigma=0.8, dims="a")
        pm.LogitNormal("ln_tau", mu=0.2, tau=2.0)
        pm.LogitNormal("y", mu=mu, sigma=1.0, observed=np.array([0.2, 0.9]))
    return m


@pytest.mark.parametrize("build,scale", [(model_real_line, 1.0), (model_positive, 1.0),
                                         (model_bounded, 1.0), (model_logitnormal, 0.08)],
                         ids=["real", "positive", "bounded", "logitnormal"])
def test_model_parity(build, scale):
    jm, pmm = _pytensor_fast(pymc_parity, build, scale=scale)
    for rv in pmm.free_RVs:  # same default transforms
        pt = pmm.rvs_to_transforms[rv]
        jt = jm.rvs_to_transforms[jm[rv.name]]
        assert (pt is None) == (jt is None), rv.name
        if pt is not None:
            assert pt.name == jt.name, (rv.name, pt.name, jt.name)


# ---------------------------------------------------------------------- 4. draws
def _kum_moment(a, b, n):
    return b * sps.beta(1 + n / a, b)


def _logitnormal_moments(mu, sigma):
    from scipy import integrate

    pdf = lambda x: np.exp(st.norm.logpdf(sps.logit(x), mu, sigma)) / (x * (1 - x))  # noqa: E731
    m1 = integrate.quad(lambda x: x * pdf(x), 0, 1)[0]
    m2 = integrate.quad(lambda x: x * x * pdf(x), 0, 1)[0]
    return m1, m2 - m1**2


def _interp_moments():
    xs = np.linspace(INTERP_X[0], INTERP_X[-1], 400001)
    pdf = np.interp(xs, INTERP_X, INTERP_PDF)
    pdf /= np.trapezoid(pdf, xs)
    m1 = np.trapezoid(xs * pdf, xs)
    return m1, np.trapezoid((xs - m1) ** 2 * pdf, xs)


def _pg_moments(h, z):
    return h / (2 * z) * np.tanh(z / 2), h / (4 * z**3) * (np.sinh(z) - z) / np.cosh(z / 2) ** 2


def _mv(frozen):
    return float(frozen.mean()), float(frozen.var())


DRAWS = [
    ("Normal", lambda pm: pm.Normal.dist(1.0, 2.0), _mv(st.norm(1, 2))),
    ("HalfNormal", lambda pm: pm.HalfNormal.dist(2.0), _mv(st.halfnorm(scale=2))),
    ("StudentT", lambda pm: pm.StudentT.dist(10.0, 1.0, sigma=2.0), _mv(st.t(10, 1, 2))),
    ("HalfStudentT", lambda pm: pm.HalfStudentT.dist(10.0, 2.0),
     (lambda m2, m1: (m1, m2 - m1**2))(st.t(10, 0, 2).var(), 2 * st.t(10, 0, 2).expect(lambda x: x, lb=0))),
    ("Exponential", lambda pm: pm.Exponential.dist(2.0), _mv(st.expon(scale=0.5))),
    ("Gamma", lambda pm: pm.Gamma.dist(2.5, 2.0), _mv(st.gamma(2.5, scale=0.5))),
    ("ChiSquared", lambda pm: pm.ChiSquared.dist(4.0), _mv(st.chi2(4))),
    ("InverseGamma", lambda pm: pm.InverseGamma.dist(6.0, 2.0), _mv(st.invgamma(6, scale=2))),
    ("Beta", lambda pm: pm.Beta.dist(2.0, 3.0), _mv(st.beta(2, 3))),
    ("Beta-small", lambda pm: pm.Beta.dist(0.3, 0.4), _mv(st.beta(0.3, 0.4))),
    ("Kumaraswamy", lambda pm: pm.Kumaraswamy.dist(2.0, 3.0),
     (_kum_moment(2, 3, 1), _kum_moment(2, 3, 2) - _kum_moment(2, 3, 1) ** 2)),
    ("Uniform", lambda pm: pm.Uniform.dist(-1.0, 2.0), _mv(st.uniform(-1, 3))),
    ("LogNormal", lambda pm: pm.LogNormal.dist(0.3, 0.5), _mv(st.lognorm(0.5, scale=np.exp(0.3)))),
    ("LogitNormal", lambda pm: pm.LogitNormal.dist(0.5, 1.2), _logitnormal_moments(0.5, 1.2)),
    ("Laplace", lambda pm: pm.Laplace.dist(1.0, 2.0), _mv(st.laplace(1, 2))),
    ("AsymmetricLaplace", lambda pm: pm.AsymmetricLaplace.dist(kappa=2.0, mu=1.0, b=0.5),
     _mv(st.laplace_asymmetric(2.0, 1.0, 2.0))),
    ("Logistic", lambda pm: pm.Logistic.dist(1.0, 2.0), _mv(st.logistic(1, 2))),
    ("Gumbel", lambda pm: pm.Gumbel.dist(1.0, 2.0), _mv(st.gumbel_r(1, 2))),
    ("Moyal", lambda pm: pm.Moyal.dist(1.0, 0.5), _mv(st.moyal(1, 0.5))),
    ("Weibull", lambda pm: pm.Weibull.dist(1.5, 2.0), _mv(st.weibull_min(1.5, scale=2))),
    ("TruncatedNormal", lambda pm: pm.TruncatedNormal.dist(1.0, 2.0, lower=-1.0, upper=2.0),
     _mv(st.truncnorm(-1, 0.5, 1, 2))),
    ("TruncatedNormal-tail", lambda pm: pm.TruncatedNormal.dist(0.0, 1.0, lower=6.0),
     _mv(st.truncnorm(6, np.inf))),
    ("TruncatedNormal-upper", lambda pm: pm.TruncatedNormal.dist(0.0, 1.0, upper=-7.0),
     _mv(st.truncnorm(-np.inf, -7))),
    ("TruncatedNormal-none", lambda pm: pm.TruncatedNormal.dist(1.0, 2.0), _mv(st.norm(1, 2))),
    ("ExGaussian", lambda pm: pm.ExGaussian.dist(1.0, 0.5, nu=2.0), _mv(st.exponnorm(4.0, 1, 0.5))),
    ("Pareto", lambda pm: pm.Pareto.dist(6.0, 1.5), _mv(st.pareto(6, scale=1.5))),
    ("Rice", lambda pm: pm.Rice.dist(nu=2.0, sigma=1.5), _mv(st.rice(2 / 1.5, scale=1.5))),
    ("SkewNormal", lambda pm: pm.SkewNormal.dist(alpha=-3.0, mu=1.0, sigma=2.0), _mv(st.skewnorm(-3, 1, 2))),
    ("SkewStudentT", lambda pm: pm.SkewStudentT.dist(5.0, 3.0, mu=1.0, sigma=2.0),
     _mv(st.jf_skew_t(5.0, 3.0, 1.0, 2.0))),
    ("Triangular", lambda pm: pm.Triangular.dist(-1.0, 2.0, 0.0), _mv(st.triang(1 / 3, -1, 3))),
    ("VonMises", lambda pm: pm.VonMises.dist(0.0, 1.5), _mv(st.vonmises(1.5))),
    ("VonMises-small-kappa", lambda pm: pm.VonMises.dist(0.0, 1e-3), _mv(st.vonmises(1e-3))),
    ("VonMises-large-kappa", lambda pm: pm.VonMises.dist(0.0, 500.0), _mv(st.vonmises(500.0))),
    ("Wald", lambda pm: pm.Wald.dist(1.5, 2.0), _mv(st.invgauss(0.75, scale=2))),
    ("Wald-alpha", lambda pm: pm.Wald.dist(mu=1.0, lam=3.0, alpha=0.5), _mv(st.invgauss(1 / 3, 0.5, scale=3))),
    ("Interpolated", lambda pm: pm.Interpolated.dist(INTERP_X, INTERP_PDF), _interp_moments()),
    ("PolyaGamma", lambda pm: pm.PolyaGamma.dist(1.5, 2.0), _pg_moments(1.5, 2.0)),
]


def _draws(k):
    """20000 seeded draws of entry k of DRAWS + HEAVY from the family's `random` (eager, so that JAX compiles each
    sampler primitive once per process; each test draws its own family, so none is drawn in two test workers);
    `test_pm_draw` checks the `pm.draw` path on a few."""
    build = DRAWS[k][1] if k < len(DRAWS) else HEAVY[k - len(DRAWS)][0]
    rv = build(jaxmc)
    key = jax.random.split(jax.random.PRNGKey(123), len(DRAWS) + len(HEAVY))[k]
    return np.asarray(rv.owner.random(key, *rv.owner.params, size=(20000,)), dtype=float)


def test_pm_draw():
    names = ["Normal", "Gamma", "VonMises", "TruncatedNormal-tail"]
    ks = [i for i, d in enumerate(DRAWS) if d[0] in names]
    rvs = [DRAWS[k][1](jaxmc) for k in ks]
    xs = jaxmc.draw(rvs, draws=20000, random_seed=5)
    for k, x in zip(ks, xs):
        assert x.shape == (20000,)
        mean, var = DRAWS[k][2]
        assert abs(x.mean() - mean) < 5 * np.sqrt(var / 20000), DRAWS[k][0]
    a = jaxmc.draw(rvs[0], draws=10, random_seed=5)
    np.testing.assert_array_equal(a, jaxmc.draw(rvs[0], draws=10, random_seed=5))
    assert not np.array_equal(a, jaxmc.draw(rvs[0], draws=10, random_seed=6))


@pytest.mark.parametrize("k", range(len(DRAWS)), ids=[d[0] for d in DRAWS])
def test_draw_moments(k):
    x = _draws(k)
    n = x.shape[0]
    assert x.shape == (20000,) and np.all(np.isfinite(x))
    mean, var = DRAWS[k][2]
    m, v = x.mean(), x.var()
    m4 = np.mean((x - m) ** 4)
    assert abs(m - mean) < 5 * np.sqrt(var / n), (m, mean)
    assert abs(v - var) < 5 * np.sqrt(max(m4 - v**2, 1e-300) / n), (v, var)


HEAVY = [
    (lambda pm: pm.Cauchy.dist(1.0, 2.0), 1.0),
    (lambda pm: pm.HalfCauchy.dist(2.0), 2.0),
    (lambda pm: pm.StudentT.dist(1.5, 0.5, sigma=1.0), 0.5),
]


@pytest.mark.parametrize("k", range(len(HEAVY)), ids=["Cauchy", "HalfCauchy", "StudentT-heavy"])
def test_draw_heavy_tails_median(k):
    x = _draws(len(DRAWS) + k)
    assert abs(np.mean(x < HEAVY[k][1]) - 0.5) < 5 * np.sqrt(0.25 / x.shape[0])


def test_draw_support_shapes_and_flat():
    rvs = [jaxmc.Beta.dist(0.05, 0.05, shape=(2, 3)), jaxmc.Pareto.dist(2.0, np.array([1.0, 3.0])),
           jaxmc.VonMises.dist(3.0, 0.5, size=7),
           jaxmc.TruncatedNormal.dist(0.0, 1.0, lower=np.array([-1.0, 30.0]), upper=np.array([1.0, 31.0]))]
    b, p, vm, tn = jaxmc.draw(rvs, draws=300, random_seed=1)
    assert b.shape == (300, 2, 3) and np.all((b > 0) & (b < 1))
    assert p.shape == (300, 2) and np.all(p >= np.array([1.0, 3.0]))
    assert vm.shape == (300, 7) and np.all(np.abs(vm) <= np.pi)
    assert np.all((tn[:, 0] >= -1) & (tn[:, 0] <= 1) & (tn[:, 1] >= 30) & (tn[:, 1] <= 31))
    for d in (jaxmc.Flat.dist(), jaxmc.HalfFlat.dist()):
        with pytest.raises(NotImplementedError, match="Cannot sample"):
            jaxmc.draw(d)
    with jaxmc.Model() as m:
        jaxmc.Flat("a", shape=2)
        jaxmc.HalfFlat("b", shape=3)
        jaxmc.TruncatedNormal("c", 0.0, 1.0, lower=2.0)
        jaxmc.Wald("d", mu=1.0, alpha=2.0)
    ip = m.initial_point()
    np.testing.assert_allclose(ip["a"], 0.0)
    np.testing.assert_allclose(ip["b_log__"], 0.0)  # support point 1
    np.testing.assert_allclose(ip["c_interval__"], 0.0)  # lower + 1 -> log(1)
    assert np.isfinite(m.compile_logp()(ip))  # Wald's support point is inside the shifted support


# ---------------------------------------------------------------------- gradients and float32
GRAD_CASES = [c for c in CASES if c.id not in ("Flat", "HalfFlat", "Interpolated")
              and ("-" not in c.id or c.id.startswith("TruncatedNormal")
                   or c.id in ("ExGaussian-smallnu", "Wald-alpha", "AsymmetricLaplace-q"))]


def test_gradients_finite_in_the_interior():
    """d logp / d (value, parameters) is finite at interior points, with the parameters traced (so that
    bounds are handled at run time too)."""
    dists, args = [], []
    for case in GRAD_CASES:
        p, v = _points(case, 3)
        d = case.build(jaxmc, p).owner
        dists.append(d)
        args.append((jnp.asarray(v), *[jnp.asarray(q) for q in d.params]))

    for case, d, a in zip(GRAD_CASES, dists, args):
        g = jax.grad(lambda a: jnp.sum(d.checked_logp(*a)))(a)
        for i, gi in enumerate(g):
            assert np.all(np.isfinite(np.asarray(gi))), (case.id, i)
    # transformed values at the edges of the unconstrained space keep finite gradients
    with jaxmc.Model() as m:
        lo = jaxmc.Normal("lo", 0.0, 1.0)
        jaxmc.TruncatedNormal("tn", 0.0, 1.0, lower=-1.0, upper=5.0)
        jaxmc.TruncatedNormal("tn2", 0.0, 1.0, lower=4.0)
        jaxmc.TruncatedNormal("tn3", lo, 1.0, lower=lo + 3.0, upper=np.inf)
        jaxmc.ExGaussian("exg", 0.0, 1.0, nu=0.01)
    dlogp = m.compile_dlogp()
    for y in (-5.0, 0.0, 5.0):
        g = dlogp({"lo": y / 5, "tn_interval__": y, "tn2_interval__": y, "tn3_interval__": y, "exg": y})
        assert np.all(np.isfinite(g)), (y, g)


F32_CASES = [c for c in CASES if "-" not in c.id or c.id.startswith("TruncatedNormal")]  # one per family
F32_LOGCDF = {"Normal", "StudentT", "Gamma", "Beta", "TruncatedNormal", "ExGaussian", "Wald", "PolyaGamma"}
F32_DRAWS = {"Normal", "Gamma", "Beta", "VonMises", "TruncatedNormal", "StudentT", "PolyaGamma", "Interpolated"}


def test_float32(jaxmc_values):
    old = config.floatX()
    config.set_floatX("float32")
    try:
        items = []
        for case in F32_CASES:
            p, v, _, _ = jaxmc_values[(case.id, 1)]
            items.append((case.build(jaxmc, p), v.astype(np.float32), case.id in F32_LOGCDF))
        res = _evaluate(items)
        for case, (lp, lc) in zip(F32_CASES, res):
            assert lp.dtype == np.float32, case.id
            assert lc is None or lc.dtype == np.float32, case.id
            ref = jaxmc_values[(case.id, 1)][2]  # float64 logp (at the unrounded points)
            fin = np.isfinite(ref)
            np.testing.assert_array_equal(np.isfinite(lp), fin, err_msg=case.id)
            np.testing.assert_allclose(lp[fin], ref[fin], rtol=2e-3, atol=2e-3, err_msg=case.id)
        for name, build, _ in DRAWS:
            if name not in F32_DRAWS:
                continue
            d = build(jaxmc).owner
            xi = np.asarray(d.random(jax.random.PRNGKey(0), *d.params, size=(20,)))
            assert xi.dtype == np.float32 and np.all(np.isfinite(xi)), name
        assert jaxmc.draw(jaxmc.Gamma.dist(2.0, 1.0), draws=5, random_seed=0).dtype == np.float32
        pg = jaxmc.PolyaGamma.dist(1.0, 0.5)
        lp = jaxmc.logp(pg, np.array([0.05, 0.3, 1.5], np.float32))
        assert lp.dtype == np.float32
        np.testing.assert_allclose(lp, [_pg_reference_logpdf(x, 1.0, 0.5) for x in (0.05, 0.3, 1.5)], rtol=1e-4)
        with jaxmc.Model() as m:
            jaxmc.Gamma("g", 2.0, 1.0)
            jaxmc.TruncatedNormal("t", 0.0, 1.0, lower=0.0, upper=2.0)
            jaxmc.VonMises("v", 0.0, 2.0)
        assert np.isfinite(m.compile_logp()(m.initial_point()))
    finally:
        config.set_floatX(old)


def test_jit_and_vmap():
    rv = jaxmc.StudentT.dist(3.0, 0.0, sigma=1.0)
    dist = rv.owner
    f = jax.jit(jax.vmap(lambda v, nu: dist.logp(v, nu, 0.0, 1.0)))
    np.testing.assert_allclose(f(jnp.array([0.1, 1.0]), jnp.array([2.0, 5.0])),
                               st.t.logpdf([0.1, 1.0], [2.0, 5.0]), rtol=1e-10)
