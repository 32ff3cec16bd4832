"""The NUTS kernel tests run in float64, as the jaxmc package does."""
import jax

jax.config.update("jax_enable_x64", True)
