"""Sequential Monte Carlo (PyMC's `pymc.smc`): `sample_smc` with the `IMH` and `MH` kernels."""

from jaxmc.smc.kernels import IMH, MH, SMC_KERNEL
from jaxmc.smc.sampling import sample_smc

__all__ = ["IMH", "MH", "SMC_KERNEL", "sample_smc"]
