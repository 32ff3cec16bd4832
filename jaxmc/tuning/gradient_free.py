"""find_MAP's gradient-free methods (Powell, Nelder-Mead, COBYLA, COBYQA): scipy.optimize.minimize on the
jitted negative log density, one Python call per evaluation, with a progress bar, maxeval and Ctrl-C."""

from __future__ import annotations

import time
import warnings

import numpy as np

UPDATE_SECONDS = 0.1  # the bar is redrawn at most this often


class _Stop(Exception):
    """Raised inside the objective to end scipy's loop (maxeval reached or Ctrl-C)."""


def run_scipy(cm, data, moving, x0, method: str, maxeval: int, progressbar: bool, scipy_kwargs: dict):
    """Minimise the negative log density (no Jacobian terms) over the coordinates `moving` of the flat x0
    with scipy's `method`: the flat optimum (the best point evaluated when stopped early) and scipy's
    OptimizeResult. Warns when the optimiser did not converge or Ctrl-C stopped it."""
    import jax
    import jax.numpy as jnp
    from scipy.optimize import OptimizeResult, minimize

    from jaxmc import config
    from jaxmc.interrupt import Interrupt
    from jaxmc.progress import LoopProgress

    idx = jnp.asarray(moving)

    def negative_logp(z, x, data):
        return -cm.logp(x.at[idx].set(z), data)

    key = (tuple(np.asarray(moving).tolist()),)
    f = cm.model.program("find_MAP gradient-free", key,
                         lambda: jax.jit(negative_logp, compiler_options=config.compiler_options()))
    xj = jnp.asarray(x0)
    best = {"f": np.inf, "z": np.asarray(x0)[moving].copy(), "n": 0, "shown": 0.0}
    stopped = None
    with Interrupt() as stop, LoopProgress("MAP", maxeval, bool(progressbar)) as bar:
        def objective(z):
            if stop.is_set():
                raise _Stop("interrupted by Ctrl-C")
            if best["n"] >= maxeval:
                raise _Stop(f"STOP: TOTAL NO. OF F EVALUATIONS EXCEEDS LIMIT ({maxeval})")
            value = float(f(jnp.asarray(z, xj.dtype), xj, data))
            best["n"] += 1
            if value < best["f"]:
                best["f"], best["z"] = value, np.array(z, dtype=x0.dtype)
            now = time.perf_counter()
            if now - best["shown"] > UPDATE_SECONDS:
                best["shown"] = now
                bar.update(best["n"], f"logp = {-best['f']:,.5g}")
            return value

        try:
            res = minimize(objective, best["z"].copy(), method=method, **scipy_kwargs)
        except _Stop as exc:
            stopped = str(exc)
            res = OptimizeResult(x=best["z"], fun=best["f"], nfev=best["n"], success=False, status=1,
                                 message=stopped)
        bar.update(best["n"], f"logp = {-best['f']:,.5g}")
    interrupted = stop.is_set()
    z = np.asarray(res.x, dtype=x0.dtype)
    if best["f"] < float(res.fun):  # scipy's x is its best; guard against methods that end elsewhere
        z = best["z"]
    x = np.array(x0)
    x[moving] = z
    if interrupted:
        warnings.warn(f"find_MAP interrupted after {best['n']} of {maxeval} evaluations; returning the best "
                      "point so far.", stacklevel=4)
    elif not res.get("success", True):
        warnings.warn(f"The optimizer did not converge: {res.get('message', '')}", UserWarning, stacklevel=4)
    res["method"] = method
    return x, res
