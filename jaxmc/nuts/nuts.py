"""The multinomial No-U-Turn transition with an iterative, jit-friendly tree build, as BlackJAX's ``init`` /
``build_kernel`` split (the log density is passed to the kernel at each call)."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import rng, termination
from .integrator import (
    IntegratorState,
    LogDensityFn,
    hamiltonian,
    leapfrog,
    logdensity_and_grad,
    sample_momentum,
)

Array = jax.Array


class HMCState(NamedTuple):
    """Chain position with the log density and its gradient there (momenta are resampled each step)."""

    position: Array
    logdensity: Array
    logdensity_grad: Array


class NUTSInfo(NamedTuple):
    """Per-transition statistics; the first fields are named like ArviZ ``sample_stats``.

    ``acceptance_rate`` is Stan's: mean over all leapfrog steps of ``min(1, exp(H0 - H))``.
    ``max_energy_error`` is the signed energy error ``H - H0`` of largest magnitude in the trajectory.
    ``acceptance_rate_sym`` is nutpie's symmetric variant, mean of ``2 / (1 + exp(|H - H0|))``.
    ``index_in_trajectory`` is the signed number of leapfrog steps from the start to the chosen point.
    """

    acceptance_rate: Array
    tree_depth: Array
    n_steps: Array
    diverging: Array
    energy: Array
    max_energy_error: Array
    reached_max_treedepth: Array
    lp: Array
    acceptance_rate_sym: Array
    index_in_trajectory: Array
    step_size: Array | None = None  # the trajectory's: the given one, or the one a step-size search settled on
    search: Any = None  # the final state of that search (.step_size.SearchState), when one was given


def init(position: Array, logdensity_fn: LogDensityFn) -> HMCState:
    """Evaluate the log density and gradient at ``position`` (a flat vector)."""
    position = jnp.asarray(position)
    logdensity, grad = logdensity_and_grad(logdensity_fn, position)
    return HMCState(position, logdensity, grad)


class _Leaf(NamedTuple):
    """Quantities of one leapfrog step relative to the initial energy."""

    energy_error: Array  # H - H0, +inf when NaN
    diverging: Array
    accept: Array  # min(1, exp(H0 - H))
    accept_sym: Array


def _leaf_stats(state: IntegratorState, inv_mass: Array, energy0: Array, threshold: float) -> _Leaf:
    error = hamiltonian(state, inv_mass) - energy0
    error = jnp.where(jnp.isnan(error), jnp.inf, error)
    diverging = error > threshold
    accept = jnp.exp(jnp.minimum(-error, 0.0))
    accept_sym = 2.0 / (1.0 + jnp.exp(jnp.abs(error)))
    return _Leaf(error, diverging, accept, accept_sym)


def _select(pred, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(pred, x, y), a, b)


def _bigger_error(new: Array, old: Array) -> Array:
    return jnp.where(jnp.abs(new) > jnp.abs(old), new, old)


class _SubtreeCarry(NamedTuple):
    state: IntegratorState  # last integrated state
    n: Array  # number of leaves done
    proposal: IntegratorState
    proposal_n: Array  # leaf index of the proposal
    log_weight: Array  # log sum of leaf weights exp(H0 - H)
    last_x: Array  # position of the last leaf, for the U-turn checks (:mod:`.termination`)
    last_p: Array  # momentum of the last leaf
    ckpts: termination.Checkpoints  # slot 0 holds the first leaf (see _TrajectoryCarry.ckpts)
    sum_accept: Array
    sum_accept_sym: Array
    max_error: Array
    diverging: Array
    turning: Array


class _TrajectoryCarry(NamedTuple):
    left: IntegratorState  # earliest state in time
    right: IntegratorState  # latest state in time
    left_index: Array
    right_index: Array
    proposal: IntegratorState
    proposal_index: Array
    log_weight: Array
    depth: Array
    n_steps: Array
    sum_accept: Array
    sum_accept_sym: Array
    max_error: Array
    diverging: Array
    stop: Array
    step_size: Array
    search: Any  # the step-size search's state (.step_size.SearchState), None without one
    # the U-turn checkpoints, reused by every sub-tree without being cleared: a sub-tree reads only what
    # its own leaves wrote (termination.check_leaf), and a buffer carried through both loops is updated in
    # place instead of being allocated and copied for each sub-tree
    ckpts: termination.Checkpoints


class TransitionRandomness(NamedTuple):
    """All random numbers of one transition, from one seed (:mod:`.rng`), without PRNG code in the loops.

    Sub-stream 0 gives the momentum; in sub-stream 1, uniform ``i`` for ``i < max_treedepth`` picks the
    direction of doubling ``i``, ``max_treedepth + i`` decides the top-level progressive sampling after
    doubling ``i``, and ``2 max_treedepth + 2**d - 1 + j`` is used by leaf ``j`` of the sub-tree of depth
    ``d``. Each uniform is hashed where it is used.
    """

    momentum_seed: Array
    uniform_seed: Array
    forward: Array  # (max_treedepth,) direction of each doubling, True = forward in time
    max_treedepth: int

    def momentum(self, inv_mass: Array) -> Array:
        return sample_momentum(self.momentum_seed, inv_mass)

    def accept_u(self, depth: Array, dtype) -> Array:
        return rng.uniform_at(self.uniform_seed, self.max_treedepth + depth, dtype)

    def leaf_u(self, depth: Array, leaf: Array, dtype) -> Array:
        first = 2 * self.max_treedepth + jnp.left_shift(jnp.int32(1), depth) - 1
        return rng.uniform_at(self.uniform_seed, first + leaf, dtype)


def transition_randomness(key: Array, max_treedepth: int, dtype=None) -> TransitionRandomness:
    """The seeds of one transition from ``key`` (a JAX PRNG key or a seed, see :func:`.rng.seed_of`)."""
    seed = rng.seed_of(key)
    uniform_seed = rng.substream(seed, 1)
    forward = rng.uniform_at(uniform_seed, jnp.arange(max_treedepth), jnp.float32) < 0.5
    return TransitionRandomness(rng.substream(seed, 0), uniform_seed, forward, max_treedepth)


def build_kernel(
    max_treedepth: int, divergence_threshold: float, *, slot_loop: bool = False
) -> Callable[..., tuple[HMCState, NUTSInfo]]:
    """Return ``kernel(logdensity_fn, key, state, step_size, inv_mass, momentum=None, search=None) -> (HMCState,
    NUTSInfo)``.

    Top level: trajectory doubling with biased progressive sampling; inside each new sub-tree: uniform
    multinomial (progressive) sampling. A trajectory stops at nuts-rs' U-turn criterion (the distance moved
    against the momentum at an end) with the extra sub-tree boundary checks (:mod:`.termination`), at a
    divergence (energy error above ``divergence_threshold``, or NaN), or after ``max_treedepth`` doublings.
    ``slot_loop`` picks how the U-turn checks take their dot products
    (:func:`.termination._slot_dots_and_store`): the same trees either way, a loop where XLA:CPU compiles the loops
    into single kernels (the caller knows).

    ``logdensity_fn`` maps a flat position to a scalar; ``state`` holds its value and gradient at
    ``state.position`` (:func:`init`). ``inv_mass`` is the metric (:mod:`.metric`: the diagonal of the inverse mass
    matrix, or a :class:`.metric.Metric`); everything is computed in the dtype of the position. ``key`` is a JAX
    PRNG key or a seed (:mod:`.rng`); the transition's momentum and uniforms are hashed from it where they are used
    (:class:`TransitionRandomness`). ``momentum``, if given, must be that draw
    (``transition_randomness(key, max_treedepth).momentum(inv_mass)``), made by the caller to use it
    elsewhere too. ``search``, if given (a :class:`.step_size.Search`), is a step-size search made before the
    trajectory, its tries on the trajectory's own leapfrog call (the model's gradient is then compiled once); the
    trajectory uses the step size it settles on, and ``info.step_size`` / ``info.search`` give that step size and
    the search's final state.
    """
    if max_treedepth < 1:
        raise ValueError("max_treedepth must be at least 1")

    def build_subtree(logdensity_fn: LogDensityFn, start: IntegratorState, direction, depth, step_size,
                      inv_mass, energy0, rand, ckpts, origin):
        """Integrate up to ``2**depth`` leaves from ``start``; stop early on divergence or U-turn (positions
        relative to ``origin``, the transition's start)."""
        dtype = start.position.dtype
        dim = start.position.shape[0]
        num_leaves = jnp.left_shift(jnp.int32(1), depth)
        signed_step = jnp.where(direction > 0, step_size, -step_size)
        zeros = jnp.zeros((dim,), dtype)
        scalar0 = jnp.zeros((), dtype)
        carry = _SubtreeCarry(
            state=start,
            n=jnp.int32(0),
            proposal=start,
            proposal_n=jnp.int32(0),
            log_weight=jnp.asarray(-jnp.inf, dtype),
            last_x=zeros,
            last_p=zeros,
            ckpts=ckpts,
            sum_accept=scalar0,
            sum_accept_sym=scalar0,
            max_error=scalar0,
            diverging=jnp.bool_(False),
            turning=jnp.bool_(False),
        )

        def cond(c: _SubtreeCarry):
            return (c.n < num_leaves) & ~c.diverging & ~c.turning

        def body(c: _SubtreeCarry):
            state = leapfrog(logdensity_fn, c.state, signed_step, inv_mass)
            leaf = _leaf_stats(state, inv_mass, energy0, divergence_threshold)
            p = state.momentum
            x = termination.oriented(state.position, origin, direction)
            # uniform multinomial sampling within the sub-tree
            log_w = -leaf.energy_error
            log_weight = jnp.logaddexp(c.log_weight, log_w)
            u = rand.leaf_u(depth, c.n, dtype)  # see TransitionRandomness
            take = rng.log_unit(u) < log_w - log_weight
            proposal = _select(take, state, c.proposal)
            proposal_n = jnp.where(take, c.n, c.proposal_n)
            ckpts, turning = termination.check_leaf(c.ckpts, c.n, p, x, c.last_p, c.last_x, slot_loop=slot_loop)
            return _SubtreeCarry(
                state=state,
                n=c.n + 1,
                proposal=proposal,
                proposal_n=proposal_n,
                log_weight=log_weight,
                last_x=x,
                last_p=p,
                ckpts=ckpts,
                sum_accept=c.sum_accept + leaf.accept,
                sum_accept_sym=c.sum_accept_sym + leaf.accept_sym,
                max_error=_bigger_error(leaf.energy_error, c.max_error),
                diverging=leaf.diverging,
                turning=turning & ~leaf.diverging,
            )

        return jax.lax.while_loop(cond, body, carry)

    def kernel(logdensity_fn: LogDensityFn, key: Array, state: HMCState, step_size: Array, inv_mass: Array,
               momentum=None, search=None):
        dtype = state.position.dtype
        step_size = jnp.asarray(step_size, dtype)
        inv_mass = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype), inv_mass)
        rand = transition_randomness(key, max_treedepth, dtype)
        if momentum is None:
            momentum = rand.momentum(inv_mass)
        start = IntegratorState(state.position, momentum, state.logdensity, state.logdensity_grad)
        energy0 = hamiltonian(start, inv_mass)
        scalar0 = jnp.zeros((), dtype)
        carry = _TrajectoryCarry(
            left=start,
            right=start,
            left_index=jnp.int32(0),
            right_index=jnp.int32(0),
            proposal=start,
            proposal_index=jnp.int32(0),
            log_weight=scalar0,  # weight of the initial point is exp(H0 - H0) = 1
            depth=jnp.int32(0),
            n_steps=jnp.int32(0),
            sum_accept=scalar0,
            sum_accept_sym=scalar0,
            max_error=scalar0,
            diverging=jnp.bool_(False),
            stop=jnp.bool_(False),
            step_size=step_size,
            search=None if search is None else search.state,
            ckpts=termination.init_checkpoints(max_treedepth, state.position.shape[0], dtype),
        )

        def cond(c: _TrajectoryCarry):
            going = (c.depth < max_treedepth) & ~c.stop
            return going if search is None else going | ~c.search.done

        def body(c: _TrajectoryCarry):
            forward = rand.forward[c.depth]
            direction = jnp.where(forward, 1, -1)
            near = _select(forward, c.right, c.left)
            far = _select(forward, c.left, c.right)
            near_index = jnp.where(forward, c.right_index, c.left_index)
            if search is None:
                sub = build_subtree(logdensity_fn, near, direction, c.depth, c.step_size, inv_mass, energy0, rand,
                                    c.ckpts, start.position)
                return merge(c, sub, forward, direction, far, near, near_index)
            # a step-size search first: each try is a sub-tree of one leaf from the start, on the same leapfrog
            searching = ~c.search.done
            if search.momentum is None:
                trial, trial_energy = start, energy0
            else:
                p = jax.lax.cond(searching, lambda: search.momentum(c.search, inv_mass), lambda: start.momentum)
                trial = start._replace(momentum=p)
                trial_energy = hamiltonian(trial, inv_mass)
            sub = build_subtree(logdensity_fn, _select(searching, trial, near), jnp.where(searching, 1, direction),
                                jnp.where(searching, 0, c.depth), jnp.where(searching, c.search.step_size, c.step_size),
                                inv_mass, jnp.where(searching, trial_energy, energy0), rand, c.ckpts, start.position)
            tried = search.update(c.search, sub.log_weight)  # one leaf: log_weight = H0 - H, -inf when NaN
            merged = merge(c, sub, forward, direction, far, near, near_index, searching)
            return merged._replace(search=_select(searching, tried, c.search),
                                   step_size=jnp.where(searching & tried.done, search.result(tried), c.step_size))

        def merge(c: _TrajectoryCarry, sub: _SubtreeCarry, forward, direction, far, near, near_index, searching=None):
            """The trajectory after the sub-tree ``sub`` was built from its ``near`` end; unchanged where
            ``searching`` (``sub`` was a step-size try)."""

            def keep(new, old):
                return new if searching is None else jnp.where(searching, old, new)

            valid = ~sub.diverging & ~sub.turning
            if searching is not None:
                valid = valid & ~searching

            # biased progressive sampling between the old trajectory and the new sub-tree
            accept_prob = jnp.exp(jnp.minimum(sub.log_weight - c.log_weight, 0.0))
            take = valid & (rand.accept_u(c.depth, dtype) < accept_prob)
            proposal = _select(take, sub.proposal, c.proposal)
            proposal_index = jnp.where(
                take, near_index + direction * (sub.proposal_n + 1), c.proposal_index
            )
            log_weight = jnp.where(valid, jnp.logaddexp(c.log_weight, sub.log_weight), c.log_weight)

            new_end = sub.state
            new_end_index = near_index + direction * sub.n
            left = _select(valid & ~forward, new_end, c.left)
            right = _select(valid & forward, new_end, c.right)
            left_index = jnp.where(valid & ~forward, new_end_index, c.left_index)
            right_index = jnp.where(valid & forward, new_end_index, c.right_index)

            def end(z):  # an end of the old trajectory as termination takes it: (momentum, position)
                return z.momentum, termination.oriented(z.position, start.position, direction)

            turning = termination.merge_is_turning(end(far), end(near), termination.first_leaf(sub.ckpts),
                                                   (sub.state.momentum, sub.last_x))
            return _TrajectoryCarry(
                left=left,
                right=right,
                left_index=left_index,
                right_index=right_index,
                proposal=proposal,
                proposal_index=proposal_index,
                log_weight=log_weight,
                depth=jnp.where(valid, c.depth + 1, c.depth),
                n_steps=keep(c.n_steps + sub.n, c.n_steps),
                sum_accept=keep(c.sum_accept + sub.sum_accept, c.sum_accept),
                sum_accept_sym=keep(c.sum_accept_sym + sub.sum_accept_sym, c.sum_accept_sym),
                max_error=keep(_bigger_error(sub.max_error, c.max_error), c.max_error),
                diverging=keep(sub.diverging, c.diverging),
                stop=keep(~valid | turning, c.stop),
                step_size=c.step_size,
                search=c.search,
                ckpts=sub.ckpts,
            )

        out = jax.lax.while_loop(cond, body, carry)
        n_steps = jnp.maximum(out.n_steps, 1).astype(dtype)
        chosen = out.proposal
        info = NUTSInfo(
            acceptance_rate=out.sum_accept / n_steps,
            tree_depth=out.depth,
            n_steps=out.n_steps,
            diverging=out.diverging,
            energy=hamiltonian(chosen, inv_mass),
            max_energy_error=out.max_error,
            reached_max_treedepth=out.depth >= max_treedepth,
            lp=chosen.logdensity,
            acceptance_rate_sym=out.sum_accept_sym / n_steps,
            index_in_trajectory=out.proposal_index,
            step_size=out.step_size,
            search=out.search,
        )
        return HMCState(chosen.position, chosen.logdensity, chosen.logdensity_grad), info

    return kernel
