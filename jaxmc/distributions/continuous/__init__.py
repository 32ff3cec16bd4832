"""Continuous univariate families with PyMC's names, parameterizations, supports and default transforms, by
kind of support (canonical parameters follow PyMC's; `dist()` maps the other parameterizations onto them)."""

from jaxmc.distributions.continuous import bounded, heavy_tailed, normal, positive, unbounded
from jaxmc.distributions.continuous.bounded import *  # noqa: F401,F403
from jaxmc.distributions.continuous.heavy_tailed import *  # noqa: F401,F403
from jaxmc.distributions.continuous.normal import *  # noqa: F401,F403
from jaxmc.distributions.continuous.positive import *  # noqa: F401,F403
from jaxmc.distributions.continuous.unbounded import *  # noqa: F401,F403

__all__ = sorted(sum((m.__all__ for m in (bounded, heavy_tailed, normal, positive, unbounded)), []))
