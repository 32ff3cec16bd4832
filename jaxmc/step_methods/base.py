"""What every step method shares: the `BlockedStep` base class (PyMC's), the pure `Kernel` it builds over its
coordinates of the flat vector, PyMC's competence levels and Metropolis tuning rule, and block embedding."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

#: PyMC's Competence levels, used to pick the default step of an unassigned variable
INCOMPATIBLE, COMPATIBLE, PREFERRED, IDEAL = 0, 1, 2, 3


#: PyMC's step keywords about how PyMC compiles or seeds its own steps: accepted, without effect in jaxmc
IGNORED_KEYWORDS = {"rng", "initial_point", "compile_kwargs", "mode"}


class Kernel(NamedTuple):
    """A step's pure functions over the whole flat vector ``x`` (it changes only its own coordinates):

    * ``init(key, x, logp) -> state`` (a NamedTuple);
    * ``step(key, state, x, logp, i) -> (x, state, stats)`` for step index ``i`` (warm-up while ``i < tune``);
    * ``empty_stats(dtype) -> stats``: zeros of the stats' shapes and dtypes, named as in PyMC's sample_stats;
    * ``refit_due(state, i)``: whether a warm-up's expensive update is due after step ``i``, or None when this
      state never needs one; ``refit(state, i) -> state`` makes it where due and leaves ``state`` alone elsewhere
      (the sampler runs it between steps, outside its loop of steps: jaxmc.nuts.chain).

    ``logp(x)`` is the model's log density of the whole flat vector (data bound).
    """

    init: Callable
    step: Callable
    empty_stats: Callable
    refit_due: Callable = lambda state, i: None
    refit: Callable = lambda state, i: state


class Setup(NamedTuple):
    """What a kernel is built for: its flat coordinates, the run's warm-up and draw counts, whether other
    steps change the point between its own calls, and the sampler's loop option (jaxmc.cpu_ops)."""

    index: np.ndarray
    size: int
    tune: int
    draws: int
    shared: bool
    slot_loop: bool = False


class BlockedStep:
    """A step method over some free variables (``vars``; None: the ones PyMC's class takes by default)."""

    #: PyMC's sample_stats this step reports (name: dtype kind), for the docs and the stat merge
    stats_dtypes: dict = {}

    #: PyMC's default of ``blocked``: False splits a step over several variables into one step per variable
    default_blocked = True
    #: 1-D settings with one entry per coordinate, cut along with the variables when the step is split
    split_attrs: tuple = ()

    def __init__(self, vars=None, model=None, blocked=None, **kwargs):
        unknown = set(kwargs) - IGNORED_KEYWORDS
        if unknown:
            raise TypeError(f"pm.{type(self).__name__} got unknown keyword argument(s) {sorted(unknown)}")
        if vars is not None and not isinstance(vars, (list, tuple)):
            vars = [vars]
        self.vars = None if vars is None else list(vars)
        self.model = model
        self.blocked = self.default_blocked if blocked is None else bool(blocked)

    @staticmethod
    def competence(slot, discrete: bool) -> int:
        """How fit this step is for the variable of `slot` (PyMC's Competence); the best one is the default."""
        return INCOMPATIBLE

    def default_vars(self, slots) -> list:
        """The slots it takes when ``vars`` is None (PyMC: continuous variables for most steps)."""
        return [s for s in slots if not s.rv.owner.discrete]

    def kernel(self, cm, setup: Setup) -> Kernel:
        raise NotImplementedError

    def options_key(self) -> tuple:
        """A hashable summary of the step's settings (the compiled program is cached on it)."""
        return tuple(sorted((k, hashable(v)) for k, v in vars(self).items() if k not in ("vars", "model", "blocked")))

    def __repr__(self):
        return f"{type(self).__name__}(vars={self.vars})"


def hashable(value):
    if isinstance(value, (np.ndarray, jax.Array)):
        arr = np.asarray(value)
        return ("array", arr.shape, str(arr.dtype), arr.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    if isinstance(value, type):
        return value.__qualname__
    if hasattr(value, "__dict__") and not callable(value):
        return (type(value).__name__, tuple(sorted((k, hashable(v)) for k, v in vars(value).items())))
    return repr(value)


class Block:
    """One step's coordinates of the flat vector, read and written by static slices (a scatter would compile
    to an element-by-element loop on CPU inside every leapfrog step)."""

    def __init__(self, index: np.ndarray, size: int):
        index = np.sort(np.asarray(index, int))
        self.index, self.size = index, size
        self.full = index.size == size
        mask = np.zeros(size, bool)
        mask[index] = True
        self.runs, i, pos = [], 0, 0  # (own?, start in x, start in the block, length)
        while i < size:
            j = i
            while j < size and mask[j] == mask[i]:
                j += 1
            self.runs.append((bool(mask[i]), i, pos, j - i))
            pos += (j - i) if mask[i] else 0
            i = j

    def get(self, x):
        if self.full:
            return x
        return jnp.concatenate([x[a:a + n] for own, a, _, n in self.runs if own])

    def put(self, x, xb):
        if self.full:
            return xb.astype(x.dtype)
        return jnp.concatenate([(xb[b:b + n] if own else x[a:a + n]).astype(x.dtype)
                                for own, a, b, n in self.runs])


def tune_scaling(scale, acc_rate):
    """PyMC's Metropolis tuning rule: the proposal scale times 0.1 / 0.5 / 0.9 / 1 / 1.1 / 2 / 10 by the
    acceptance rate over the last tuning interval."""
    factor = jnp.select([acc_rate < 0.001, acc_rate < 0.05, acc_rate < 0.2, acc_rate > 0.95, acc_rate > 0.75,
                         acc_rate > 0.5], [0.1, 0.5, 0.9, 10.0, 2.0, 1.1], 1.0)
    return scale * factor


def metropolis_accept(key, log_ratio):
    """PyMC's metrop_select: accept when log(u) < log_ratio (never when the ratio is NaN)."""
    u = jax.random.uniform(key, (), jnp.result_type(log_ratio))
    return jnp.isfinite(log_ratio) & (jnp.log(u) < log_ratio) | (log_ratio == jnp.inf)
