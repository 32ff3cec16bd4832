"""Distributions: PyMC's families, wrappers and transforms."""

from jaxmc import transforms
from jaxmc.distributions import (
    censored, continuous, custom, discrete, mixture, multivariate, simulator, timeseries, truncated,
)
from jaxmc.distributions.base import Continuous, Discrete, Distribution, ShapeError
from jaxmc.distributions.censored import *  # noqa: F401,F403
from jaxmc.distributions.continuous import *  # noqa: F401,F403
from jaxmc.distributions.custom import *  # noqa: F401,F403
from jaxmc.distributions.discrete import *  # noqa: F401,F403
from jaxmc.distributions.mixture import *  # noqa: F401,F403
from jaxmc.distributions.multivariate import *  # noqa: F401,F403
from jaxmc.distributions.simulator import *  # noqa: F401,F403
from jaxmc.distributions.timeseries import *  # noqa: F401,F403
from jaxmc.distributions.truncated import *  # noqa: F401,F403

__all__ = ["Distribution", "Continuous", "Discrete", "ShapeError", "transforms"]
for _m in (censored, continuous, custom, discrete, mixture, multivariate, simulator, timeseries, truncated):
    __all__ += list(_m.__all__)
