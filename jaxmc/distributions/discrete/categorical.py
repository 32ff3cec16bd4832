"""Categories: Categorical and the ordinal OrderedLogistic and OrderedProbit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc import config
from jaxmc.distributions import constraints
from jaxmc.distributions.base import Discrete
from jaxmc.distributions.constraints import is_integer
from jaxmc.distributions.dist_math import as_float, log1mexp, log_diff_ndtr
from jaxmc.distributions.params import as_param, exclusive, normalized_p
from jaxmc.graph import TensorVariable, apply
from jaxmc.graph.rewrites import logits_of_softmax
from jaxmc.graph.traversal import convert_foreign

__all__ = ["Categorical", "OrderedLogistic", "OrderedProbit"]


class Categorical(Discrete):
    """Categorical(p) or Categorical(logit_p=...) over 0..k-1 (k = last axis of p).

    A constant p is checked and normalised as in PyMC (negative entries raise, a sum other than 1 warns
    and rescales); logit_p, and p = softmax(x) over the last axis, are kept on the log scale (log_softmax)."""

    param_names = ("p",)
    arg_constraints = {"p": constraints.probability_vector}
    ndims_params = (1,)
    logit = False

    @classmethod
    def dist(cls, p=None, logit_p=None, **kwargs):
        exclusive("p", p, "logit_p", logit_p)
        p = convert_foreign(p)  # PyTensor's softmax arrives as pm.math.softmax (pytensor_interop)
        x = logits_of_softmax(p, apply) if logit_p is None else None
        if x is not None:  # p = softmax(x) over the last axis: log_softmax(x), as PyMC's rewrite gives
            p, logit_p = None, x
        if logit_p is not None:
            node = super().dist([logit_p], **kwargs)
            node.owner.logit = True
            node.owner.param_names = ("logit_p",)
            return node
        if not isinstance(p, TensorVariable):
            p = normalized_p(p)
        return super().dist([p], **kwargs)

    # log probabilities of all k categories, (..., k)
    def _logits(self, *params):
        (p,) = params
        return jax.nn.log_softmax(p, axis=-1) if self.logit else jnp.log(p)

    def _k(self, *params):
        return jnp.shape(params[0])[-1] if jnp.ndim(params[0]) else None

    @staticmethod
    def _take(table, value):
        """table[..., value] with value broadcast against the batch axes of table."""
        k = table.shape[-1]
        shape = jnp.broadcast_shapes(jnp.shape(value), table.shape[:-1])
        idx = jnp.clip(jnp.broadcast_to(jnp.asarray(value), shape), 0, k - 1).astype(jnp.int32)
        tab = jnp.broadcast_to(table, (*shape, k))
        return jnp.take_along_axis(tab, idx[..., None], axis=-1)[..., 0]

    def logp(self, value, *params):
        return self._take(self._logits(*params), value)

    def logcdf(self, value, *params):
        lp = self._logits(*params)
        k = lp.shape[-1]
        lc = jax.lax.cumlogsumexp(lp, axis=lp.ndim - 1)
        v = jnp.floor(as_float(value))
        res = self._take(lc, v)
        return jnp.where(v < 0, -jnp.inf, jnp.where(v > k - 1, 0.0, res))

    def random(self, key, *params, size):
        return jax.random.categorical(key, self._logits(*params), axis=-1, shape=size).astype(config.intX())

    def support_point(self, *params, size):
        return jnp.broadcast_to(jnp.argmax(self._logits(*params), axis=-1), size)

    def in_support(self, value, *params):
        ok = is_integer(value) & (value >= 0)
        k = self._k(*params)
        if k is not None:  # a scalar NaN placeholder: the number of categories is unknown here
            ok = ok & (value <= k - 1)
        return ok


def _ordered_logcdf(value, z, log_f):
    """log F(z[..., v]) for 0 <= v < K, -inf below, 0 from K on (z: standardized cutpoints, (..., K))."""
    K = z.shape[-1]
    v = jnp.floor(as_float(value))
    res = Categorical._take(log_f(z), v)
    return jnp.where(v < 0, -jnp.inf, jnp.where(v > K - 1, 0.0, res))


def _ordered_new(cls, name, args, compute_p, kwargs):
    """PyMC's OrderedLogistic/OrderedProbit constructor: the Deterministic `<name>_probs` (created first,
    as in PyMC), then the variable itself."""
    from jaxmc.model.context import modelcontext
    from jaxmc.model.named import Deterministic

    model = kwargs.get("model")
    if compute_p and isinstance(name, str):
        try:
            m = modelcontext(model)
        except TypeError:
            m = None
        if m is not None:
            m.check_new_name(name)
            params = [as_param(a, pn, integer=pn in cls.integer_params, owner=cls.__name__)
                      for a, pn in zip(args, cls.param_names)]
            probs = apply(lambda *ps: cls.compute_p(*ps), *params)
            Deterministic(f"{name}_probs", probs, model=m)
    return super(Categorical, cls).__new__(cls, name, *args, **kwargs)


class OrderedLogistic(Categorical):
    """OrderedLogistic(eta, cutpoints): ordinal outcome 0..K with P(y <= j) = sigmoid(cutpoints[j] - eta).

    As in PyMC, `pm.OrderedLogistic(name, ...)` records the category probabilities as the Deterministic
    `<name>_probs` unless compute_p=False; the log probabilities are computed in log space."""

    param_names = ("eta", "cutpoints")
    arg_constraints = {"cutpoints": constraints.ordered}
    check_messages = {"cutpoints": "0 <= p <= 1 (cutpoints increasing)"}
    ndims_params = (0, 1)

    def __new__(cls, name, eta, cutpoints, compute_p=True, **kwargs):
        return _ordered_new(cls, name, (eta, cutpoints), compute_p, kwargs)

    @classmethod
    def dist(cls, eta, cutpoints, **kwargs):
        return Discrete.dist.__func__(cls, [eta, cutpoints], **kwargs)

    @classmethod
    def compute_p(cls, eta, cutpoints):
        return jnp.exp(cls._log_probs(eta, cutpoints))

    @staticmethod
    def _log_probs(eta, cutpoints):
        eta = jnp.asarray(eta)[..., None]
        c = jnp.asarray(cutpoints)
        shape = jnp.broadcast_shapes(eta.shape[:-1], c.shape[:-1])
        c = jnp.broadcast_to(c, (*shape, c.shape[-1]))
        inf = jnp.full((*shape, 1), jnp.inf, c.dtype)
        upper = jnp.concatenate([c, inf], axis=-1) - eta  # u_j = c_j - eta
        lower = jnp.concatenate([-inf, c], axis=-1) - eta  # l_j = c_{j-1} - eta
        # sigmoid(u) - sigmoid(l) = sigmoid(u) sigmoid(-l) (1 - exp(l - u))
        gap = jnp.concatenate([-inf, c[..., :-1] - c[..., 1:], -inf], axis=-1)
        return jax.nn.log_sigmoid(upper) + jax.nn.log_sigmoid(-lower) + log1mexp(jnp.minimum(gap, 0.0))

    def _logits(self, eta, cutpoints):
        return self._log_probs(eta, cutpoints)

    def logcdf(self, value, eta, cutpoints):
        # log P(y <= v) = log sigmoid(cutpoints[v] - eta) directly (no cumulated sum)
        return _ordered_logcdf(value, jnp.asarray(cutpoints) - jnp.asarray(eta)[..., None], jax.nn.log_sigmoid)

    def _k(self, eta, cutpoints):
        return jnp.shape(cutpoints)[-1] + 1 if jnp.ndim(cutpoints) else None


class OrderedProbit(Categorical):
    """OrderedProbit(eta, cutpoints, sigma=1): P(y <= j) = Phi((cutpoints[j] - eta) / sigma).

    Records `<name>_probs` as a Deterministic unless compute_p=False (as in PyMC)."""

    param_names = ("eta", "cutpoints", "sigma")
    arg_constraints = {"cutpoints": constraints.ordered, "sigma": constraints.positive}
    check_messages = {"cutpoints": "0 <= p <= 1 (cutpoints increasing)"}
    ndims_params = (0, 1, 0)

    def __new__(cls, name, eta, cutpoints, sigma=1, compute_p=True, **kwargs):
        return _ordered_new(cls, name, (eta, cutpoints, sigma), compute_p, kwargs)

    @classmethod
    def dist(cls, eta, cutpoints, sigma=1, **kwargs):
        return Discrete.dist.__func__(cls, [eta, cutpoints, sigma], **kwargs)

    @classmethod
    def compute_p(cls, eta, cutpoints, sigma=1.0):
        return jnp.exp(cls._log_probs(eta, cutpoints, sigma))

    @staticmethod
    def _log_probs(eta, cutpoints, sigma):
        sigma = jnp.asarray(sigma)[..., None]
        eta = jnp.asarray(eta)[..., None]
        c = jnp.asarray(cutpoints)
        shape = jnp.broadcast_shapes(eta.shape[:-1], c.shape[:-1], sigma.shape[:-1])
        c = jnp.broadcast_to(c, (*shape, c.shape[-1]))
        inf = jnp.full((*shape, 1), jnp.inf, c.dtype)
        z = (c - eta) / sigma
        upper = jnp.concatenate([z, inf], axis=-1)
        lower = jnp.concatenate([-inf, z], axis=-1)
        return log_diff_ndtr(upper, lower)

    def _logits(self, eta, cutpoints, sigma):
        return self._log_probs(eta, cutpoints, sigma)

    def logcdf(self, value, eta, cutpoints, sigma):
        z = (jnp.asarray(cutpoints) - jnp.asarray(eta)[..., None]) / jnp.asarray(sigma)[..., None]
        return _ordered_logcdf(value, z, jsp.log_ndtr)

    def _k(self, eta, cutpoints, sigma):
        return jnp.shape(cutpoints)[-1] + 1 if jnp.ndim(cutpoints) else None
