"""`pm.Simulator`: a distribution defined by a simulator, with PyMC's ABC pseudo-likelihood as log density."""

from __future__ import annotations

import hashlib

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.distributions.custom import UserDistribution, core_info, custom_shape, dtype_of
from jaxmc.distributions.wrappers import check_kwargs

__all__ = ["Simulator"]


def _gaussian(epsilon, obs_data, sim_data):
    return -0.5 * ((obs_data - sim_data) / epsilon) ** 2


def _laplace(epsilon, obs_data, sim_data):
    return -np.abs((obs_data - sim_data) / epsilon)


_SUM_STATS = {"identity": lambda x: x, "sort": np.sort, "mean": np.mean, "median": np.median}


def _seed_from(*arrays) -> int:
    """A deterministic seed from the bytes of arrays (the simulated data of a logp evaluation depend only on
    the value and the parameters)."""
    h = hashlib.blake2b(digest_size=8)
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return int.from_bytes(h.digest(), "little") % (2**63)


class Simulator(UserDistribution):
    r"""Simulator(fn, *params, distance="gaussian", sum_stat="identity", epsilon=1, ndim_supp=0, ...):
    a simulator-defined distribution for likelihood-free inference (PyMC's API).

    `fn(rng, *params, size)` is a NumPy function (run through `jax.pure_callback`). The log density is PyMC's
    ABC pseudo-likelihood distance(epsilon, sum_stat(value), sum_stat(simulated)), computed on the host with
    one simulation per evaluation, seeded from the value and the parameters (so it is a deterministic
    function of them); a batch of evaluations (vmapped, as `pm.sample_smc` does over its particles) is one host
    call. It has no gradient: sample Simulator models with `pm.sample_smc` (ABC), as in PyMC; draws (prior /
    posterior predictive) work as usual.
    """

    def __new__(cls, name, *args, **kwargs):
        kwargs.setdefault("class_name", f"Simulator_{name}")
        return super().__new__(cls, name, *args, **kwargs)

    @classmethod
    def dist(cls, fn, *unnamed_params, params=None, distance="gaussian", sum_stat="identity", epsilon=1,
             signature=None, ndim_supp=None, ndims_params=None, dtype="floatX", class_name="Simulator",
             shape=None, size=None, **kwargs):
        check_kwargs(class_name, kwargs)
        if distance == "gaussian":
            distance = _gaussian
        elif distance == "laplace":
            distance = _laplace
        elif distance == "kullback_leibler":
            raise NotImplementedError("KL not refactored yet")
        elif not callable(distance):
            raise ValueError(f"The distance metric {distance} is not implemented")
        if isinstance(sum_stat, str):
            if sum_stat not in _SUM_STATS:
                raise ValueError(f"The summary statistic {sum_stat} is not implemented")
            sum_stat = _SUM_STATS[sum_stat]
        elif not callable(sum_stat):
            raise ValueError(f"The summary statistic {sum_stat} is not implemented")
        if params is None:
            params = unnamed_params
        elif unnamed_params:
            raise ValueError("Cannot pass both unnamed parameters and `params`")
        self, params = cls._start(class_name, params)
        if ndim_supp is None and signature is None:
            signature = ",".join("()" for _ in params) + "->()" if ndims_params is None else None
        ndim_supp, ndims_params, in_dims, out_dims = core_info(len(params), ndim_supp, ndims_params, signature)
        self.fn = fn
        self.distance = distance
        self.sum_stat = sum_stat
        self.epsilon = np.asarray(epsilon, dtype=float)
        self._dtype = dtype_of(dtype)
        shape = custom_shape(class_name, params, ndims_params, ndim_supp, in_dims, out_dims, shape, size)
        return self._node(params, shape, discrete=self._dtype.kind in "iu", ndim_supp=ndim_supp,
                          ndims_params=ndims_params)

    def _simulate(self, rng, params, size):
        batch = tuple(size)[: len(size) - self.ndim_supp]
        out = np.asarray(self.fn(rng, *[np.asarray(p) for p in params], batch if batch else None))
        return np.broadcast_to(out, tuple(size)).astype(self._dtype)

    def _host_logp(self, value, *params):
        value = np.asarray(value)
        rng = np.random.default_rng(_seed_from(value, *params))
        sim = self._simulate(rng, params, value.shape)
        out = self.distance(self.epsilon, self.sum_stat(value), self.sum_stat(sim))
        return np.asarray(out, dtype=config.floatX())

    def logp(self, value, *params):
        core = [jnp.ndim(value)] + [jnp.ndim(p) for p in params]
        probe = self._host_logp(np.zeros(jnp.shape(value), self._dtype),
                                *[np.zeros(jnp.shape(p), jnp.asarray(p).dtype) for p in params])

        def host(value, *params):
            """One host call for a whole batch (vmapped over SMC particles and chains): loops over it in NumPy."""
            batch = np.shape(value)[:np.ndim(value) - core[0]]
            out = np.empty(batch + probe.shape, probe.dtype)
            for i in np.ndindex(batch):
                out[i] = self._host_logp(value[i], *[p[i] for p in params])
            return out

        return jax.pure_callback(host, jax.ShapeDtypeStruct(probe.shape, probe.dtype), value, *params,
                                 vmap_method="broadcast_all")

    def random(self, key, *params, size):
        size = tuple(size)

        def cb(seed, *ps):
            return self._simulate(np.random.default_rng(int(np.asarray(seed))), ps, size)

        seed = jax.random.randint(key, (), 0, 2**31 - 1)
        return jax.pure_callback(cb, jax.ShapeDtypeStruct(size, self._dtype), seed, *params,
                                 vmap_method="sequential")

    def support_point(self, *params, size):
        size = tuple(size)

        def cb(*ps):  # PyMC: the mean of 10 simulations
            rng = np.random.default_rng(_seed_from(*ps))
            return np.mean([self._simulate(rng, ps, size) for _ in range(10)], axis=0).astype(config.floatX())

        return jax.pure_callback(cb, jax.ShapeDtypeStruct(size, config.floatX()), *params,
                                 vmap_method="sequential")
