"""jaxmc.seeds takes the seeds PyMC 6 takes (it passes them to `np.random.default_rng`) and refuses the others."""

import numpy as np
import pytest

from jaxmc.seeds import check_seed, int_seed, seed_sequence

SEEDS = [None, 0, 7, np.int64(7), 2**40, [1, 2], (3, 4, 5), np.array([1, 2], dtype=np.uint32),
         np.random.default_rng(1), np.random.SeedSequence(2), np.random.PCG64(3),
         -1, -5, 1.5, "abc", b"1", [1, -2], [1, 2.5], {"a": 1}, np.random.RandomState(1), object()]


def _pymc_accepts(seed) -> bool:
    if isinstance(seed, np.random.RandomState):
        return False  # numpy would take it; PyMC 6's get_random_generator refuses it
    try:
        np.random.default_rng(seed)
    except (TypeError, ValueError):
        return False
    return True


@pytest.mark.parametrize("seed", SEEDS, ids=[type(s).__name__ + repr(s)[:12] for s in SEEDS])
def test_the_seeds_pymc_6_takes(seed):
    if _pymc_accepts(seed):
        check_seed(seed)
        assert seed_sequence(seed).generate_state(2).shape == (2,)
    else:
        with pytest.raises((TypeError, ValueError), match="random_seed"):
            check_seed(seed)


def test_int_seed_keeps_ints_and_draws_from_generators():
    assert int_seed(5) == 5 and int_seed(None) is None
    assert int_seed(np.random.default_rng(0)) == int(np.random.default_rng(0).integers(2**31))
    assert int_seed([1, 2]) == int_seed([1, 2]) != int_seed([1, 3])
