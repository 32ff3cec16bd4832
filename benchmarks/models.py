"""The benchmark models, written equivalently for jaxmc / PyMC (one builder: same syntax) and NumPyro.

Models (same priors, likelihoods and parameterizations in every library):

- ``flagship``: the measurement-error regression on the bundled phones data (`phones_arrays()`):
  1500 rows, 4 features, 6 parameters (``m`` (4), ``b``, ``sigma``).
- ``eight_schools``: eight schools, non-centered: ``mu``, ``tau`` (HalfCauchy), ``theta_trans`` (8).
- ``radon``: a radon-like hierarchical regression simulated deterministically (fixed seed): 85 groups,
  919 rows, varying intercepts (non-centered: ``mu_a``, ``sigma_a``, ``z_a`` (85)), a floor covariate
  ``b`` and the residual scale ``sigma_y``: 89 parameters.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MODELS = ("flagship", "eight_schools", "radon")

#: the free variables of each model (their names are the same in every library); min ESS is over these
FREE_VARS = {
    "flagship": ("m", "b", "sigma"),
    "eight_schools": ("mu", "tau", "theta_trans"),
    "radon": ("mu_a", "sigma_a", "z_a", "b", "sigma_y"),
}

RADON_SEED = 20240517
RADON_GROUPS = 85
RADON_ROWS = 919


# ---------------------------------------------------------------------- data
@lru_cache(maxsize=None)
def flagship_data():
    from jaxmc.datasets import phones_arrays

    return phones_arrays()


def eight_schools_data() -> dict:
    return {"y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
            "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])}


@lru_cache(maxsize=None)
def radon_data() -> dict:
    """Radon-like data: 85 groups of very unequal size (every group has at least one row), a binary floor
    covariate (about 17% ones), log-radon-like responses; deterministic (seed RADON_SEED)."""
    rng = np.random.default_rng(RADON_SEED)
    weights = rng.lognormal(0.0, 1.0, RADON_GROUPS)
    extra = rng.choice(RADON_GROUPS, RADON_ROWS - RADON_GROUPS, p=weights / weights.sum())
    group = np.sort(np.concatenate([np.arange(RADON_GROUPS), extra])).astype(np.int64)
    floor = rng.binomial(1, 0.17, RADON_ROWS).astype(np.float64)
    mu_a, sigma_a, b, sigma_y = 1.5, 0.35, -0.65, 0.75
    a = mu_a + sigma_a * rng.normal(size=RADON_GROUPS)
    y = a[group] + b * floor + sigma_y * rng.normal(size=RADON_ROWS)
    return {"group": group, "floor": floor, "y": y}


# ---------------------------------------------------------------------- jaxmc / PyMC
def build_pymc(pm, name: str):
    """The model `name` built with `pm` = jaxmc or pymc (identical code)."""
    if name == "flagship":
        from jaxmc.demo import build_model

        return build_model(flagship_data(), pm)
    if name == "eight_schools":
        d = eight_schools_data()
        with pm.Model(coords={"school": np.arange(8)}) as model:
            mu = pm.Normal("mu", mu=0.0, sigma=5.0)
            tau = pm.HalfCauchy("tau", beta=5.0)
            theta_trans = pm.Normal("theta_trans", mu=0.0, sigma=1.0, dims="school")
            theta = mu + tau * theta_trans
            pm.Normal("y", mu=theta, sigma=d["sigma"], observed=d["y"], dims="school")
        return model
    if name == "radon":
        d = radon_data()
        with pm.Model(coords={"group": np.arange(RADON_GROUPS), "obs": np.arange(RADON_ROWS)}) as model:
            floor = pm.Data("floor", d["floor"], dims="obs")
            mu_a = pm.Normal("mu_a", mu=0.0, sigma=5.0)
            sigma_a = pm.HalfNormal("sigma_a", sigma=1.0)
            z_a = pm.Normal("z_a", mu=0.0, sigma=1.0, dims="group")
            a = mu_a + sigma_a * z_a
            b = pm.Normal("b", mu=0.0, sigma=5.0)
            sigma_y = pm.HalfNormal("sigma_y", sigma=1.0)
            pm.Normal("y", mu=a[d["group"]] + b * floor, sigma=sigma_y, observed=d["y"], dims="obs")
        return model
    raise KeyError(f"unknown model {name!r}; known: {MODELS}")


# ---------------------------------------------------------------------- NumPyro
def numpyro_model(name: str):
    """(model function, keyword arguments for it) for NumPyro; same priors and likelihood as build_pymc."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    if name == "flagship":
        d = flagship_data()

        def flagship(X, y_err, y=None):
            m = numpyro.sample("m", dist.Normal(0.0, 1.0).expand([X.shape[1]]).to_event(1))
            b = numpyro.sample("b", dist.Normal(0.0, 1.0))
            sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
            numpyro.sample("y_pred", dist.Normal(X @ m + b, sigma * y_err).to_event(1), obs=y)

        return flagship, {"X": jnp.asarray(d.X), "y_err": jnp.asarray(d.y_err), "y": jnp.asarray(d.y)}
    if name == "eight_schools":
        d = eight_schools_data()

        def eight_schools(sigma, y=None):
            mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
            tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
            theta_trans = numpyro.sample("theta_trans", dist.Normal(0.0, 1.0).expand([8]).to_event(1))
            numpyro.sample("y", dist.Normal(mu + tau * theta_trans, sigma).to_event(1), obs=y)

        return eight_schools, {"sigma": jnp.asarray(d["sigma"]), "y": jnp.asarray(d["y"])}
    if name == "radon":
        d = radon_data()

        def radon(group, floor, y=None):
            mu_a = numpyro.sample("mu_a", dist.Normal(0.0, 5.0))
            sigma_a = numpyro.sample("sigma_a", dist.HalfNormal(1.0))
            z_a = numpyro.sample("z_a", dist.Normal(0.0, 1.0).expand([RADON_GROUPS]).to_event(1))
            a = mu_a + sigma_a * z_a
            b = numpyro.sample("b", dist.Normal(0.0, 5.0))
            sigma_y = numpyro.sample("sigma_y", dist.HalfNormal(1.0))
            numpyro.sample("y", dist.Normal(a[group] + b * floor, sigma_y).to_event(1), obs=y)

        return radon, {"group": jnp.asarray(d["group"]), "floor": jnp.asarray(d["floor"]),
                       "y": jnp.asarray(d["y"])}
    raise KeyError(f"unknown model {name!r}; known: {MODELS}")
