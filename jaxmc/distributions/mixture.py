"""Mixtures with PyMC's names, shapes and rules: `Mixture`, `NormalMixture`, the zero-inflated families (a point
mass at 0) and the hurdle families (zeros from their own process; discrete non-zero parts truncated at 1)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, transforms
from jaxmc.distributions.base import Distribution, ShapeError
from jaxmc.distributions.continuous import Gamma, LogNormal, Normal
from jaxmc.distributions.discrete import Binomial, DiracDelta, NegativeBinomial, Poisson
from jaxmc.distributions.params import as_param, get_tau_sigma, shape_of, to_shape
from jaxmc.distributions.truncated import Truncated
from jaxmc.distributions.wrappers import (
    broadcast, check_dist, check_kwargs, make_rv, pack_parts, part_param_names, supported_logp,
)
from jaxmc.graph import TensorVariable, apply

__all__ = [
    "HurdleGamma",
    "HurdleLogNormal",
    "HurdleNegativeBinomial",
    "HurdlePoisson",
    "Mixture",
    "NormalMixture",
    "ZeroInflatedBinomial",
    "ZeroInflatedNegativeBinomial",
    "ZeroInflatedPoisson",
]


class MixtureTransformWarning(UserWarning):
    pass


_ALLOWED_TRANSFORMS = (
    transforms.CholeskyCovPacked, transforms.CircularTransform, transforms.Interval, transforms.LogTransform,
    transforms.LogExpM1, transforms.LogOddsTransform, transforms.Ordered, transforms.SimplexTransform,
    transforms.SumTo1,
)


class _PartTransform(transforms.Transform):
    """A component's default transform, fed with that component's parameters out of the mixture's."""

    def __init__(self, transform, start, stop):
        self.transform = transform
        self.start, self.stop = start, stop
        self.name = transform.name
        self.ndim_supp = transform.ndim_supp

    def _p(self, inputs):
        return inputs[self.start:self.stop]

    def forward(self, value, *inputs):
        return self.transform.forward(value, *self._p(inputs))

    def backward(self, value, *inputs):
        return self.transform.backward(value, *self._p(inputs))

    def log_jac_det(self, value, *inputs):
        return self.transform.log_jac_det(value, *self._p(inputs))

    def unconstrained_shape(self, shape):
        return self.transform.unconstrained_shape(shape)

    def __repr__(self):
        return repr(self.transform)


def _same_bound(a, b):
    if a is None or b is None:
        return a is None and b is None
    if a is b:
        return True
    if isinstance(a, TensorVariable) or isinstance(b, TensorVariable):
        return False
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(a == b))


def _two_weights(psi):
    return jnp.stack([1.0 - psi, psi], axis=-1)


def _lift(fn, x):
    return apply(fn, x) if isinstance(x, TensorVariable) else fn(x)


class Mixture(Distribution):
    r"""Mixture(w, comp_dists): :math:`f(x) = \sum_i w_i f_i(x)`.

    `comp_dists` is a list of unnamed `.dist()` variables, or one batched `.dist()` variable whose last batch
    axis indexes the components (e.g. `pm.Poisson.dist(mu=lams, size=(n, K))`); components may be univariate
    or multivariate (the same support shape). `w` has the components on its last axis.

    log density: logsumexp over components of log(w) + component log density; logcdf likewise; draws pick a
    component index from a categorical with the weights. The default transform follows PyMC: the components'
    common default transform when they all have the same (allowed) one, else none with a
    `MixtureTransformWarning`.
    """

    @classmethod
    def dist(cls, w, comp_dists, *, shape=None, size=None, **kwargs):
        check_kwargs(cls.__name__, kwargs)
        if not isinstance(comp_dists, (tuple, list)):
            comps = [comp_dists]
        else:
            comps = list(comp_dists)
            if len(comps) == 1:
                warnings.warn(
                    "Single component will be treated as a mixture across the last size dimension.\n"
                    "To disable this warning do not wrap the single component inside a list or tuple",
                    UserWarning, stacklevel=2,
                )
        if not comps:
            raise ValueError("Mixture needs at least one component distribution")
        for d in comps:
            check_dist(d, "Component")
        if len(comps) > 1 and len({bool(d.owner.discrete) for d in comps}) > 1:
            raise ValueError(
                "All distributions in comp_dists must be either discrete or continuous.\n"
                "See the following issue for more information: https://github.com/pymc-devs/pymc/issues/4511."
            )
        supp_dims = {d.owner.ndim_supp for d in comps}
        if len(supp_dims) > 1:
            raise ValueError(
                f"Mixture components must all have the same support dimensionality, got {supp_dims}"
            )
        return cls._build(w, comps, to_shape(shape), to_shape(size))

    @classmethod
    def _build(cls, w, comps, shape, size):
        name = cls.__name__
        single = len(comps) == 1
        k = comps[0].owner.ndim_supp
        w = as_param(w, "w")
        wshape = shape_of(w)
        if not wshape:
            raise ShapeError(f"{name}: the weights w must have the components on their last axis, found a scalar")
        comp_params, parts = pack_parts(comps, 1)
        if single:
            cs = tuple(comps[0].shape)
            if len(cs) < k + 1:
                raise ShapeError(f"{name}: a single component must have a batch axis indexing the mixture "
                                 f"components (e.g. size=K); its shape is {cs}")
            n_comp, cbatch, supp = cs[len(cs) - k - 1], cs[: len(cs) - k - 1], cs[len(cs) - k:]
            # the components axis is a core axis of the component's parameters: give every parameter at least
            # that many axes (leading 1s keep broadcasting unchanged) so that per-entry selections work
            core = parts[0].ndims_params(extra=1)
            comp_params = [_at_least(p, nd) for p, nd in zip(comp_params, core)]
        else:
            n_comp = len(comps)
            supps = {p.supp_shape for p in parts}
            if len(supps) > 1:
                raise ShapeError(f"{name}: components have different support shapes {sorted(supps)}")
            supp = parts[0].supp_shape
            cbatch = broadcast(*[p.batch_shape for p in parts], what=name)
        if wshape[-1] not in (n_comp, 1):
            raise ShapeError(f"{name}: w has {wshape[-1]} entries on its last axis but there are {n_comp} "
                             "components")
        implied = broadcast(cbatch, wshape[:-1], what=name)
        if shape is not None:
            if len(shape) < k or tuple(shape[len(shape) - k:]) != tuple(supp):
                raise ShapeError(f"{name}: shape {shape} does not end in the components' support shape {supp}")
            batch = tuple(shape[: len(shape) - k])
        elif size is not None:
            batch = tuple(size)
        else:
            batch = implied
        if broadcast(implied, batch, what=name) != batch:
            raise ShapeError(f"{name}: the weights and components (batch shape {implied}) do not broadcast to "
                             f"the requested batch shape {batch}")
        self = object.__new__(cls)
        self._parts = parts
        self._single = single
        self._n_comp = n_comp
        self.support_depends_on_params = any(p.dist.support_depends_on_params for p in parts)
        names = ["w"]
        ndims = [1]
        for i, p in enumerate(parts):
            names += part_param_names(f"comp{i}", p)
            ndims += list(p.ndims_params(extra=1 if single else 0))
        return make_rv(self, [w, *comp_params], (*batch, *supp), discrete=parts[0].discrete, ndim_supp=k,
                       param_names=names, ndims_params=ndims)

    # ---------------------------------------------------------------- helpers
    @property
    def _mix_axis(self):
        return -self.ndim_supp - 1

    def _stack_each(self, fn, params, value=None):
        """fn(part dist, part params) for each component, stacked on the last axis (..., K)."""
        if self._single:
            p = self._parts[0]
            return fn(p.dist, p.params(params))
        outs = [fn(p.dist, p.params(params)) for p in self._parts]
        outs = jnp.broadcast_arrays(*outs)
        return jnp.stack(outs, axis=-1)

    def _components_logp(self, value, params, cdf=False):
        v = jnp.expand_dims(value, self._mix_axis) if self._single else value
        if cdf:
            return self._stack_each(lambda d, p: d.checked_logcdf(v, *p), params)
        return self._stack_each(lambda d, p: supported_logp(d, v, p), params)

    # ---------------------------------------------------------------- methods
    def logp(self, value, w, *params):
        params = (w, *params)
        lps = self._components_logp(value, params)
        return jax.nn.logsumexp(jnp.log(w) + lps, axis=-1)

    def logcdf(self, value, w, *params):
        params = (w, *params)
        lcs = self._components_logp(value, params, cdf=True)
        return jax.nn.logsumexp(jnp.log(w) + lcs, axis=-1)

    def check_params(self, w, *params):
        params = (w, *params)
        ok = jnp.all((w >= 0) & (w <= 1), axis=-1) & jnp.isclose(jnp.sum(w, axis=-1), 1.0)
        checks = [(ok, "0 <= weights <= 1, sum(weights) == 1")]
        for i, p in enumerate(self._parts):
            cond = p.dist.params_ok(*p.params(params))
            if self._single and jnp.ndim(cond):
                cond = jnp.all(cond, axis=-1)
            checks.append((cond, f"parameters of component {i}"))
        return checks

    def in_support(self, value, w, *params):
        params = (w, *params)
        v = jnp.expand_dims(value, self._mix_axis) if self._single else value
        ok = self._stack_each(lambda d, p: d.in_support(v, *p), params)
        return jnp.any(ok, axis=-1)

    def _draw_components(self, key, params, size, method):
        k = self.ndim_supp
        batch, supp = size[: len(size) - k], size[len(size) - k:]
        if self._single:
            p = self._parts[0]
            full = (*batch, self._n_comp, *supp)
            return method(p.dist, key, p.params(params), full)
        keys = jax.random.split(key, len(self._parts)) if key is not None else [None] * len(self._parts)
        draws = [method(p.dist, kk, p.params(params), size) for p, kk in zip(self._parts, keys)]
        dtype = jnp.result_type(*draws)
        return jnp.stack([d.astype(dtype) for d in draws], axis=self._mix_axis)

    def random(self, key, w, *params, size):
        params = (w, *params)
        size = tuple(size)
        k = self.ndim_supp
        batch = size[: len(size) - k]
        k_idx, k_comp = jax.random.split(key)
        draws = self._draw_components(k_comp, params, size,
                                      lambda d, kk, p, s: d.random(kk, *p, size=s))
        logits = jnp.broadcast_to(jnp.log(w), (*batch, self._n_comp))
        idx = jax.random.categorical(k_idx, logits, axis=-1)
        idx = idx.reshape(idx.shape + (1,) * (k + 1))
        return jnp.squeeze(jnp.take_along_axis(draws, idx, axis=self._mix_axis), axis=self._mix_axis)

    def support_point(self, w, *params, size):
        params = (w, *params)
        size = tuple(size)
        sps = self._draw_components(None, params, size,
                                    lambda d, kk, p, s: jnp.asarray(d.support_point(*p, size=s), config.floatX()))
        wpad = jnp.reshape(w, jnp.shape(w) + (1,) * self.ndim_supp)
        sp = jnp.sum(wpad * sps, axis=self._mix_axis)
        if self.discrete:
            sp = jnp.round(sp)
        return jnp.broadcast_to(sp, size)

    def default_transform(self):
        ts = [p.dist.default_transform() for p in self._parts]

        def warn():
            warnings.warn(
                f"No safe default transform found for Mixture distribution {type(self).__name__}. This can happen "
                "when components have different supports or default transforms.\nIf appropriate, you can "
                "specify a custom transform for more efficient sampling.",
                MixtureTransformWarning, stacklevel=4,
            )

        if len({type(t) for t in ts}) != 1:
            warn()
            return None
        t0 = ts[0]
        if t0 is None:
            return None
        if not isinstance(t0, _ALLOWED_TRANSFORMS):
            warn()
            return None
        if isinstance(t0, transforms.Interval) and len(ts) > 1:
            bounds = []
            for t, p in zip(ts, self._parts):
                try:
                    bounds.append(tuple(t.bounds_fn(*p.params(self.params))))
                except TypeError:
                    bounds.append(tuple(t.bounds_fn(None, None, *p.params(self.params))))
            for b in bounds[1:]:
                if not (_same_bound(b[0], bounds[0][0]) and _same_bound(b[1], bounds[0][1])):
                    warn()
                    return None
        p0 = self._parts[0]
        return _PartTransform(t0, p0.start, p0.stop)


def _at_least(p, nd):
    nd_now = len(shape_of(p))
    if nd_now >= nd:
        return p
    new = (1,) * (nd - nd_now) + shape_of(p)
    return apply(jnp.reshape, p, new) if isinstance(p, TensorVariable) else jnp.reshape(p, new)


class NormalMixture:
    r"""NormalMixture(w, mu, sigma | tau): a mixture of normals, one per entry of the last axis of mu/sigma."""

    def __new__(cls, name, w, mu, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return Mixture(name, w, Normal.dist(mu, sigma=sigma), **kwargs)

    @classmethod
    def dist(cls, w, mu, sigma=None, tau=None, **kwargs):
        _, sigma = get_tau_sigma(tau=tau, sigma=sigma)
        return Mixture.dist(w, Normal.dist(mu, sigma=sigma), **kwargs)


# ---------------------------------------------------------------------- zero-inflated families
def _zero_inflated_mixture(*, name, nonzero_p, nonzero_dist, **kwargs):
    """A mixture of a point mass at 0 (weight 1 - psi) and `nonzero_dist` (weight psi)."""
    weights = _lift(_two_weights, as_param(nonzero_p, "psi"))
    comp_dists = [DiracDelta.dist(0), nonzero_dist]
    if name is not None:
        return Mixture(name, weights, comp_dists, **kwargs)
    return Mixture.dist(weights, comp_dists, **kwargs)


class ZeroInflatedPoisson:
    r"""ZeroInflatedPoisson(psi, mu): 0 with probability 1 - psi, else Poisson(mu)."""

    def __new__(cls, name, psi, mu, **kwargs):
        return _zero_inflated_mixture(name=name, nonzero_p=psi, nonzero_dist=Poisson.dist(mu=mu), **kwargs)

    @classmethod
    def dist(cls, psi, mu, **kwargs):
        return _zero_inflated_mixture(name=None, nonzero_p=psi, nonzero_dist=Poisson.dist(mu=mu), **kwargs)


class ZeroInflatedBinomial:
    r"""ZeroInflatedBinomial(psi, n, p): 0 with probability 1 - psi, else Binomial(n, p)."""

    def __new__(cls, name, psi, n, p, **kwargs):
        return _zero_inflated_mixture(name=name, nonzero_p=psi, nonzero_dist=Binomial.dist(n=n, p=p), **kwargs)

    @classmethod
    def dist(cls, psi, n, p, **kwargs):
        return _zero_inflated_mixture(name=None, nonzero_p=psi, nonzero_dist=Binomial.dist(n=n, p=p), **kwargs)


class ZeroInflatedNegativeBinomial:
    r"""ZeroInflatedNegativeBinomial(psi, mu, alpha | p, n): 0 with probability 1 - psi, else
    NegativeBinomial."""

    def __new__(cls, name, psi, mu=None, alpha=None, p=None, n=None, **kwargs):
        return _zero_inflated_mixture(name=name, nonzero_p=psi,
                                      nonzero_dist=NegativeBinomial.dist(mu=mu, alpha=alpha, p=p, n=n), **kwargs)

    @classmethod
    def dist(cls, psi, mu=None, alpha=None, p=None, n=None, **kwargs):
        return _zero_inflated_mixture(name=None, nonzero_p=psi,
                                      nonzero_dist=NegativeBinomial.dist(mu=mu, alpha=alpha, p=p, n=n), **kwargs)


# ---------------------------------------------------------------------- hurdle families
class _Hurdle(Mixture):
    """Zeros with probability 1 - psi; otherwise the non-zero distribution (discrete ones truncated at 1)."""

    @classmethod
    def _create(cls, *, name, nonzero_p, nonzero_dist, max_n_steps=10_000, **kwargs):
        discrete = bool(nonzero_dist.owner.discrete)
        if discrete:
            nonzero_dist = Truncated.dist(nonzero_dist, lower=1, max_n_steps=max_n_steps)
        weights = _lift(_two_weights, as_param(nonzero_p, "psi"))
        zero = np.asarray(0, dtype=config.intX() if discrete else config.floatX())
        comp_dists = [DiracDelta.dist(zero), nonzero_dist]
        if name is not None:
            return cls(name, weights, comp_dists, **kwargs)
        return cls.dist(weights, comp_dists, **kwargs)

    def logp(self, value, w, *params):
        params = (w, *params)
        psi = w[..., 1]
        nz = self._parts[1]
        safe_value = jnp.where(value == 0, jnp.ones_like(value), value)
        nz_lp = nz.dist.checked_logp(safe_value, *nz.params(params))
        return jnp.where(value == 0, jnp.log1p(-psi), jnp.log(psi) + nz_lp)


class HurdlePoisson:
    r"""HurdlePoisson(psi, mu): 0 with probability 1 - psi, else a Poisson(mu) truncated to >= 1."""

    def __new__(cls, name, psi, mu, **kwargs):
        return _Hurdle._create(name=name, nonzero_p=psi, nonzero_dist=Poisson.dist(mu=mu), **kwargs)

    @classmethod
    def dist(cls, psi, mu, **kwargs):
        return _Hurdle._create(name=None, nonzero_p=psi, nonzero_dist=Poisson.dist(mu=mu), **kwargs)


class HurdleNegativeBinomial:
    r"""HurdleNegativeBinomial(psi, mu, alpha | p, n): 0 with probability 1 - psi, else a NegativeBinomial
    truncated to >= 1."""

    def __new__(cls, name, psi, mu=None, alpha=None, p=None, n=None, **kwargs):
        return _Hurdle._create(name=name, nonzero_p=psi,
                               nonzero_dist=NegativeBinomial.dist(mu=mu, alpha=alpha, p=p, n=n), **kwargs)

    @classmethod
    def dist(cls, psi, mu=None, alpha=None, p=None, n=None, **kwargs):
        return _Hurdle._create(name=None, nonzero_p=psi,
                               nonzero_dist=NegativeBinomial.dist(mu=mu, alpha=alpha, p=p, n=n), **kwargs)


class HurdleGamma:
    r"""HurdleGamma(psi, alpha, beta | mu, sigma): 0 with probability 1 - psi, else Gamma (meant as a
    likelihood or for forward sampling, as in PyMC)."""

    def __new__(cls, name, psi, alpha=None, beta=None, mu=None, sigma=None, **kwargs):
        return _Hurdle._create(name=name, nonzero_p=psi,
                               nonzero_dist=Gamma.dist(alpha=alpha, beta=beta, mu=mu, sigma=sigma), **kwargs)

    @classmethod
    def dist(cls, psi, alpha=None, beta=None, mu=None, sigma=None, **kwargs):
        return _Hurdle._create(name=None, nonzero_p=psi,
                               nonzero_dist=Gamma.dist(alpha=alpha, beta=beta, mu=mu, sigma=sigma), **kwargs)


class HurdleLogNormal:
    r"""HurdleLogNormal(psi, mu=0, sigma | tau): 0 with probability 1 - psi, else LogNormal (meant as a
    likelihood or for forward sampling, as in PyMC)."""

    def __new__(cls, name, psi, mu=0, sigma=None, tau=None, **kwargs):
        return _Hurdle._create(name=name, nonzero_p=psi, nonzero_dist=LogNormal.dist(mu=mu, sigma=sigma, tau=tau),
                               **kwargs)

    @classmethod
    def dist(cls, psi, mu=0, sigma=None, tau=None, **kwargs):
        return _Hurdle._create(name=None, nonzero_p=psi,
                               nonzero_dist=LogNormal.dist(mu=mu, sigma=sigma, tau=tau), **kwargs)
