"""PyMC (the oracle of these tests) compiles its PyTensor functions with little optimisation: the graphs are
small, and C compilation would dominate the tests' time. Scoped to each module of tests/gp, so that PyMC's
stabilising rewrites are back on for the rest of the suite in the same worker."""

import pytest


@pytest.fixture(autouse=True, scope="module")  # module: the other tests (e.g. test_rewrites) need FAST_RUN
def _fast_pytensor():
    try:
        import pytensor
    except ImportError:
        yield
        return
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        yield
