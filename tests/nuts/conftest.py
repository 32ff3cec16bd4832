"""Shared settings for the NUTS kernel tests: float64 as the jaxmc package uses it."""
import jax

jax.config.update("jax_enable_x64", True)
