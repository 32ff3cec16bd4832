"""Discrete families with PyMC's names, parameterizations, defaults, supports and checks (values may arrive as
integer or, through `pm.logp`, float arrays; everything is computed in floatX)."""

from jaxmc.distributions.discrete import binomial, categorical, counts, uniform
from jaxmc.distributions.discrete.binomial import *  # noqa: F401,F403
from jaxmc.distributions.discrete.categorical import *  # noqa: F401,F403
from jaxmc.distributions.discrete.counts import *  # noqa: F401,F403
from jaxmc.distributions.discrete.uniform import *  # noqa: F401,F403

__all__ = sorted(sum((m.__all__ for m in (binomial, categorical, counts, uniform)), []))
