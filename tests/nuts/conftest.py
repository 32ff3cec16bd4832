"""Shared settings for the NUTS kernel tests: float64 (as the jaxmc package uses) and local helpers."""
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, os.path.dirname(__file__))
