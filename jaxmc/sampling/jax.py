"""PyMC's `pymc.sampling.jax` entry points (`sample_numpyro_nuts`, `sample_blackjax_nuts`, `sample_jax_nuts`):
jaxmc's own NUTS is already a JAX program, so each runs `pm.sample` with the arguments that carry over."""

from __future__ import annotations

import warnings

from jaxmc.sampling.api import sample

#: numpyro / blackjax `nuts_kwargs` with a jaxmc counterpart
_NUTS_KWARGS = {"max_tree_depth": "max_treedepth", "max_treedepth": "max_treedepth", "target_accept_prob":
                "target_accept", "target_accept": "target_accept"}


def sample_jax_nuts(draws: int = 1000, *, tune: int = 1000, chains: int = 4, target_accept: float = 0.8,
                    random_seed=None, initvals=None, jitter: bool = True, model=None, var_names=None,
                    nuts_kwargs: dict | None = None, progressbar: bool = True, quiet: bool = False,
                    keep_untransformed: bool = False, chain_method: str = "parallel", postprocessing_backend=None,
                    postprocessing_vectorize=None, postprocessing_chunks=None, idata_kwargs: dict | None = None,
                    compute_convergence_checks: bool = True, nuts_sampler: str = "numpyro"):
    """`pm.sample` with jaxmc's NUTS in place of numpyro's or blackjax's (a warning says so); `nuts_kwargs`
    max_tree_depth and target_accept_prob carry over, the postprocessing options have no counterpart."""
    warnings.warn(f"sample_{nuts_sampler}_nuts: jaxmc samples with its own NUTS (a JAX program too) rather than "
                  f"{nuts_sampler}'s", stacklevel=3)
    options = {"max_treedepth": 10, "target_accept": target_accept}
    unknown = []
    for key, value in (nuts_kwargs or {}).items():
        if key in _NUTS_KWARGS:
            options[_NUTS_KWARGS[key]] = value
        else:
            unknown.append(key)
    if unknown:
        warnings.warn(f"sample_{nuts_sampler}_nuts: nuts_kwargs {sorted(unknown)} have no counterpart in jaxmc and "
                      "are ignored", stacklevel=3)
    return sample(draws=draws, tune=tune, chains=chains, random_seed=random_seed, initvals=initvals, model=model,
                  var_names=var_names, progressbar=progressbar, quiet=quiet, chain_method=chain_method,
                  idata_kwargs=idata_kwargs, compute_convergence_checks=compute_convergence_checks, **options)


def sample_numpyro_nuts(draws: int = 1000, **kwargs):
    """PyMC's `sample_numpyro_nuts`, run with jaxmc's NUTS (see `sample_jax_nuts`)."""
    kwargs.setdefault("nuts_sampler", "numpyro")
    return sample_jax_nuts(draws, **kwargs)


def sample_blackjax_nuts(draws: int = 1000, **kwargs):
    """PyMC's `sample_blackjax_nuts`, run with jaxmc's NUTS (see `sample_jax_nuts`)."""
    kwargs.setdefault("nuts_sampler", "blackjax")
    return sample_jax_nuts(draws, **kwargs)
