"""Multivariate families with PyMC's names, parameterizations, shapes, value variables and transforms (support
dimensions are the trailing axes of a variable)."""

from jaxmc.distributions.multivariate import counts, lkj, matrix, normal, simplex, spatial
from jaxmc.distributions.multivariate.counts import *  # noqa: F401,F403
from jaxmc.distributions.multivariate.lkj import *  # noqa: F401,F403
from jaxmc.distributions.multivariate.matrix import *  # noqa: F401,F403
from jaxmc.distributions.multivariate.normal import *  # noqa: F401,F403
from jaxmc.distributions.multivariate.simplex import *  # noqa: F401,F403
from jaxmc.distributions.multivariate.spatial import *  # noqa: F401,F403

__all__ = sorted(sum((m.__all__ for m in (counts, lkj, matrix, normal, simplex, spatial)), []))
