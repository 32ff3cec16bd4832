"""A function jitted with jaxmc's XLA options and compiled ahead of time once per argument signature, through
jaxmc's on-disk program cache (`jaxmc.xla.compile_program`): the compiled loops of find_MAP and pm.fit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, xla


class AheadOfTime:
    """`AheadOfTime(fn)(*args)` runs `fn` compiled for the shapes and dtypes of `args` (compiled at the first
    call with those, then reused). With `quick_below=n`, arguments of at most n numbers in all compile with
    LLVM at -O0: half the compile time, for loops that run once and take milliseconds either way."""

    def __init__(self, fn, quick_below: int = 0):
        self.fn, self.quick_below, self.by_signature = fn, quick_below, {}

    def __call__(self, *args):
        sig = str(jax.tree.map(lambda a: (np.shape(a), jnp.result_type(a), _spread(a)), args))
        exe = self.by_signature.get(sig)
        if exe is None:
            options = config.compiler_options()
            if "xla_backend_optimization_level" in options and \
                    sum(np.size(a) for a in jax.tree.leaves(args)) <= self.quick_below:
                options = dict(options, xla_backend_optimization_level=0)
            lowered = jax.jit(self.fn, compiler_options=options).lower(*args)
            exe = self.by_signature[sig] = xla.compile_program(lowered, options)
        return exe(*args)


def _spread(a):
    """The sharding of an array split over several devices (its own program), else None."""
    sharding = getattr(a, "sharding", None)
    return sharding if sharding is not None and len(sharding.device_set) > 1 else None
