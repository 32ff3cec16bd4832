"""`pm.find_constrained_prior`: the parameters that put a given probability mass of a distribution between two
bounds (scipy's SLSQP on the distribution's CDF, with JAX gradients), as PyMC's."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.logprob import logcdf


def find_constrained_prior(distribution, lower: float, upper: float, init_guess: dict, mass: float = 0.95,
                           fixed_params: dict | None = None, mass_below_lower: float | None = None,
                           **kwargs) -> dict:
    """Parameters of `distribution` (a family such as pm.Gamma) with `mass` of its probability between `lower`
    and `upper` and `mass_below_lower` (default: half the rest) below `lower`. `init_guess` {parameter: value}
    names the one or two parameters to find; `fixed_params` fixes others; `kwargs` go to
    `scipy.optimize.minimize`. Returns {parameter: value} for all of them."""
    warnings.warn("find_constrained_prior is deprecated and will be removed in a future version. Please use "
                  "maxent function from PreliZ. "
                  "https://preliz.readthedocs.io/en/latest/api_reference.html#preliz.unidimensional.maxent",
                  FutureWarning, stacklevel=2)
    from scipy import optimize  # scipy is imported where it is used, not with jaxmc

    if not 0.01 <= mass <= 0.99:
        raise ValueError("This function optimizes the mass of the given distribution +/- 1%, so `mass` has to be "
                         f"between 0.01 and 0.99. You provided {mass}.")
    if mass_below_lower is None:
        mass_below_lower = (1 - mass) / 2
    if not init_guess:
        raise ValueError("find_constrained_prior: init_guess must name the parameters to find, e.g. "
                         "{'alpha': 1, 'beta': 10}")
    if any(n != 0 for n in (getattr(distribution, "ndims_params", None) or ())):
        raise NotImplementedError("`pm.find_constrained_prior` does not work with non-scalar parameters yet.")
    if getattr(distribution, "logcdf", None) is None or "logcdf" not in _defined(distribution):
        raise AttributeError(f"You cannot use `find_constrained_prior` with {getattr(distribution, '__name__', distribution)}"
                             " -- it doesn't have a logcdf method in jaxmc.")
    names = list(init_guess)
    fixed = dict(fixed_params or {})

    def cdf_at(bound):
        def fn(theta):
            dist = distribution.dist(**dict(zip(names, theta)), **fixed)
            return jnp.exp(jnp.asarray(logcdf(dist, jnp.asarray(bound, float))))
        return fn

    def on_numpy(fn):
        """(value, gradient) functions of numpy input; a NaN derivative (0 * inf at the support's end, where the
        CDF does not move) is 0."""
        grad = jax.grad(fn)
        return (lambda x: float(fn(jnp.asarray(x, float))),
                lambda x: np.nan_to_num(np.asarray(grad(jnp.asarray(x, float)), dtype=float), nan=0.0))

    (lower_cdf, lower_grad), (upper_cdf, upper_grad) = on_numpy(cdf_at(lower)), on_numpy(cdf_at(upper))

    def target(x):
        return (lower_cdf(x) - mass_below_lower) ** 2

    def target_jac(x):
        return 2.0 * (lower_cdf(x) - mass_below_lower) * lower_grad(x)

    def constraint(x):
        return upper_cdf(x) - lower_cdf(x)

    def constraint_jac(x):
        return (upper_grad(x) - lower_grad(x))[None, :]

    x0 = np.asarray(list(init_guess.values()), float)
    try:
        constraint_jac(x0)
    except (ValueError, TypeError, NotImplementedError):  # JAX has no derivative (e.g. betainc in a and b)
        target_jac = constraint_jac = "2-point"  # finite differences, as PyMC falls back to
    cons = optimize.NonlinearConstraint(constraint, lb=mass, ub=mass, jac=constraint_jac)
    opt = optimize.minimize(target, x0=x0, jac=target_jac, constraints=cons, **kwargs)
    if not opt.success:
        raise ValueError(f"Optimization of parameters failed.\nOptimization termination details:\n{opt}")
    out = {n: float(v) for n, v in zip(names, opt.x)}
    out.update(fixed)
    return out


def _defined(family) -> set:
    """Methods a family defines itself or inherits from another family (not the base's placeholders)."""
    from jaxmc.distributions.base import Distribution

    found = set()
    for klass in type.mro(family) if isinstance(family, type) else ():
        if klass is Distribution or not issubclass(klass, Distribution):
            continue
        found |= set(vars(klass))
    return found
