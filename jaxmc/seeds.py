"""`random_seed` arguments as PyMC 6 takes them (None, a non-negative int, a sequence of them, a numpy Generator,
SeedSequence or BitGenerator), checked, and made into numpy `SeedSequence`s."""

from __future__ import annotations

import numbers

import numpy as np

ACCEPTED = ("None, a non-negative int, a sequence of non-negative ints (all of them are used, as PyMC 6 does), "
            "a numpy Generator, SeedSequence or BitGenerator")


def check_seed(random_seed, where: str = "random_seed"):
    """`random_seed` as it was given, once checked; TypeError or ValueError naming `where` otherwise."""
    if random_seed is None or isinstance(random_seed, (np.random.Generator, np.random.SeedSequence,
                                                       np.random.BitGenerator)) or _is_jax_key(random_seed):
        return random_seed
    if isinstance(random_seed, np.random.RandomState):
        raise TypeError(f"{where}: a legacy np.random.RandomState cannot seed jaxmc (nor PyMC 6, whose streams "
                        "are spawned from a Generator); pass np.random.default_rng(seed) or an int")
    if isinstance(random_seed, (str, bytes)):
        raise TypeError(f"{where} must be {ACCEPTED}; found the string {random_seed!r}")
    if isinstance(random_seed, (numbers.Integral, np.integer)):
        _check_entry(int(random_seed), where)
        return int(random_seed)
    if isinstance(random_seed, (list, tuple, np.ndarray)):
        entries = list(np.ravel(np.asarray(random_seed, dtype=object)))
        if not entries:
            raise ValueError(f"{where} is an empty sequence; give {ACCEPTED}")
        for i, e in enumerate(entries):
            if not isinstance(e, (numbers.Integral, np.integer)) or isinstance(e, bool):
                raise TypeError(f"{where}: entry [{i}] must be a non-negative int, found {type(e).__name__} {e!r}")
            _check_entry(int(e), f"{where}: entry [{i}]")
        return [int(e) for e in entries]
    raise TypeError(f"{where} must be {ACCEPTED}; found {type(random_seed).__name__} {random_seed!r}")


def _check_entry(value: int, where: str):
    if value == -1:
        raise ValueError(f"{where}: -1 is not allowed (as in PyMC); pass None for a fresh random seed")
    if value < 0:
        raise ValueError(f"{where} must be non-negative, found {value}")


def seed_sequence(random_seed, where: str = "random_seed") -> np.random.SeedSequence:
    """A numpy SeedSequence from a checked seed: an int or a sequence of ints is its entropy, a Generator gives
    one draw (and advances), None gives fresh entropy."""
    random_seed = check_seed(random_seed, where)
    if isinstance(random_seed, np.random.SeedSequence):
        return random_seed
    if isinstance(random_seed, np.random.BitGenerator):
        random_seed = np.random.Generator(random_seed)
    if isinstance(random_seed, np.random.Generator):
        random_seed = int(random_seed.integers(2**31))
    return np.random.SeedSequence(random_seed)


def _is_jax_key(value) -> bool:
    """A JAX PRNG key (typed, or raw uint32 words), which the forward-sampling functions take as a seed."""
    return type(value).__module__.startswith("jax") and hasattr(value, "dtype")


def int_seed(random_seed, where: str = "random_seed"):
    """A checked seed for the forward samplers: None, an int or a JAX key as they are, a Generator's next
    draw, the rest through their SeedSequence."""
    random_seed = check_seed(random_seed, where)
    if random_seed is None or isinstance(random_seed, int) or _is_jax_key(random_seed):
        return random_seed
    if isinstance(random_seed, np.random.BitGenerator):
        random_seed = np.random.Generator(random_seed)
    if isinstance(random_seed, np.random.Generator):
        return int(random_seed.integers(2**31))
    return int(seed_sequence(random_seed, where).generate_state(1)[0] % (2**31))
