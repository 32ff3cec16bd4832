"""PyMC (the oracle of these tests) compiles its PyTensor functions with little optimisation: the graphs are
small, and C compilation would dominate the tests' time."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fast_pytensor():
    try:
        import pytensor
    except ImportError:
        yield
        return
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        yield
