"""A direct, recursive transcription of nuts-rs' tree building (``NutsTree::extend``) and its U-turn criterion, to
cross-check the iterative kernel's trajectories (depth, leapfrog steps, divergence)."""
import jax
import numpy as np

from jaxmc.nuts.integrator import IntegratorState, hamiltonian
from jaxmc.nuts.nuts import transition_randomness
from tests.nuts.nuts_testing import jit_leapfrog

_hamiltonian = jax.jit(hamiltonian)


def tree_shape(logdensity_fn, key, state, step_size, inv_mass, max_depth, threshold):
    """Return ``(depth, n_leapfrog, divergent)`` of one nuts-rs NUTS transition.

    Only the termination logic is reproduced: it does not depend on which point is sampled. Directions and
    momentum are drawn exactly as ``nuts.build_kernel`` draws them, so both must build the same trajectory.
    A tree is ``(left, right, depth)`` with its end states in time order, each ``(state, index)``.
    """
    rand = transition_randomness(key, max_depth, state.position.dtype)
    z0 = IntegratorState(state.position, rand.momentum(inv_mass), state.logdensity, state.logdensity_grad)
    h0 = float(_hamiltonian(z0, inv_mass))
    counters = {"n": 0, "divergent": False}

    def turning(a, b):
        (za, ia), (zb, ib) = sorted([a, b], key=lambda e: e[1])
        moved = np.asarray(zb.position) - np.asarray(za.position)
        return float(moved @ np.asarray(za.momentum)) < 0 or float(moved @ np.asarray(zb.momentum)) < 0

    def single_step(tree, direction):
        z, i = tree[1] if direction > 0 else tree[0]
        z = jit_leapfrog(logdensity_fn, z, direction * step_size, inv_mass)
        counters["n"] += 1
        h = float(_hamiltonian(z, inv_mass))
        if not h - h0 <= threshold:
            counters["divergent"] = True
            return None
        return ((z, i + direction), (z, i + direction), 0)

    def extend(tree, direction):
        """("ok" | "turning" | "diverging", tree): ``tree`` doubled in ``direction``, or unchanged when the new
        half stopped early."""
        other = single_step(tree, direction)
        if other is None:
            return "diverging", tree
        while other[2] < tree[2]:
            status, other = extend(other, direction)
            if status != "ok":
                return status, tree
        first, last = (tree[0], other[1]) if direction > 0 else (other[0], tree[1])
        stop = turning(first, last)
        if tree[2] > 0:
            stop = stop or turning(tree[1], other[1]) or turning(tree[0], other[0])
        merged = (tree[0], other[1], tree[2] + 1) if direction > 0 else (other[0], tree[1], tree[2] + 1)
        return ("turning" if stop else "ok"), merged

    tree = ((z0, 0), (z0, 0), 0)
    while tree[2] < max_depth:
        status, tree = extend(tree, 1 if bool(rand.forward[tree[2]]) else -1)
        if status != "ok":
            break
    return tree[2], counters["n"], counters["divergent"]
