"""A direct, recursive transcription of Stan's ``base_nuts`` tree building, to cross-check the iterative
kernel's trajectories (depth, leapfrog steps, divergence)."""
import jax
import numpy as np

from jaxmc.nuts.integrator import IntegratorState, hamiltonian
from jaxmc.nuts.nuts import transition_randomness
from tests.nuts.nuts_testing import jit_leapfrog


def _criterion(p_sharp_minus, p_sharp_plus, rho):
    return float(np.dot(p_sharp_plus, rho)) > 0 and float(np.dot(p_sharp_minus, rho)) > 0


_hamiltonian = jax.jit(hamiltonian)


def stan_tree_shape(logdensity_fn, key, state, step_size, inv_mass, max_depth, threshold):
    """Return ``(depth, n_leapfrog, divergent)`` of one Stan NUTS transition.

    Only the termination logic is reproduced: it does not depend on which point is sampled. Directions and
    momentum are drawn exactly as ``nuts.build_kernel`` draws them, so both must build the same trajectory.
    """
    def step(z, eps):
        return jit_leapfrog(logdensity_fn, z, eps, inv_mass)

    def energy(z):
        return _hamiltonian(z, inv_mass)

    inv_mass_np = np.asarray(inv_mass)
    rand = transition_randomness(key, max_depth, state.position.dtype)
    p0 = rand.momentum(inv_mass)
    z0 = IntegratorState(state.position, p0, state.logdensity, state.logdensity_grad)
    H0 = float(energy(z0))
    counters = {"n": 0, "divergent": False}

    def build_tree(depth, z, direction):
        if depth == 0:
            z = step(z, direction * step_size)
            counters["n"] += 1
            h = float(energy(z))
            if np.isnan(h):
                h = np.inf
            if h - H0 > threshold:
                counters["divergent"] = True
                return False, z, None
            p = np.asarray(z.momentum)
            ps = inv_mass_np * p
            return True, z, (p, p, ps, p, ps)
        ok, z, init = build_tree(depth - 1, z, direction)
        if not ok:
            return False, z, None
        ok, z, final = build_tree(depth - 1, z, direction)
        if not ok:
            return False, z, None
        rho_i, p_ib, ps_ib, p_ie, ps_ie = init
        rho_f, p_fb, ps_fb, p_fe, ps_fe = final
        rho = rho_i + rho_f
        persist = _criterion(ps_ib, ps_fe, rho)
        persist &= _criterion(ps_ib, ps_fb, rho_i + p_fb)
        persist &= _criterion(ps_ie, ps_fe, rho_f + p_ie)
        return persist, z, (rho, p_ib, ps_ib, p_fe, ps_fe)

    p0_np = np.asarray(p0)
    ps0 = inv_mass_np * p0_np
    z_fwd = z_bck = z0
    rho = p0_np.copy()
    p_fwd_fwd = p_bck_bck = p0_np
    ps_fwd_fwd = ps_bck_bck = ps0
    depth = 0
    while depth < max_depth:
        forward = bool(rand.forward[depth])
        if forward:
            rho_bck, p_bck_fwd, ps_bck_fwd = rho, p_fwd_fwd, ps_fwd_fwd
            ok, z_fwd, sub = build_tree(depth, z_fwd, 1.0)
            if not ok:
                break
            rho_fwd, p_fwd_bck, ps_fwd_bck, p_fwd_fwd, ps_fwd_fwd = sub
        else:
            rho_fwd, p_fwd_bck, ps_fwd_bck = rho, p_bck_bck, ps_bck_bck
            ok, z_bck, sub = build_tree(depth, z_bck, -1.0)
            if not ok:
                break
            # built backwards: its first state is next to the old trajectory's backward end
            rho_bck, p_bck_fwd, ps_bck_fwd, p_bck_bck, ps_bck_bck = sub
        depth += 1
        rho = rho_bck + rho_fwd
        persist = _criterion(ps_bck_bck, ps_fwd_fwd, rho)
        persist &= _criterion(ps_bck_bck, ps_fwd_bck, rho_bck + p_fwd_bck)
        persist &= _criterion(ps_bck_fwd, ps_fwd_fwd, rho_fwd + p_bck_fwd)
        if not persist:
            break
    return depth, counters["n"], counters["divergent"]
