"""`model.debug()`: which terms of the log density (or of its gradient) are not finite at a point, and why."""

from __future__ import annotations

import numpy as np

from jaxmc.graph import evaluate


def debug_report(model, point=None, fn="logp", verbose=False) -> str:
    """Which terms of the log density (or gradient) are not finite at `point`, and why."""
    cm = model.compiled(True)
    point = model.initial_point() if point is None else point
    x = cm.point_to_flat(point)
    data = model.data_values()
    lines = [f"point: { {k: np.round(np.asarray(v), 4).tolist() for k, v in point.items()} }"]
    env, walked = cm.walk(x, data)
    bad = 0
    for rv, value, params, jac in walked:
        lp = np.asarray(rv.owner.logp(value, *params))
        checked = np.asarray(rv.owner.checked_logp(value, *params))
        if np.all(np.isfinite(checked)) and fn == "logp":
            if verbose:
                lines.append(f"{rv.name}: logp = {checked.sum():.4g}")
            continue
        if fn != "logp":
            continue
        bad += 1
        lines.append(f"The logp of variable {rv.name!r} ({type(rv.owner).__name__}) is not finite: "
                     f"{checked.sum()}")
        for cond, desc in rv.owner.check_params(*params):  # every condition: a parameter may have several
            c = np.asarray(cond)
            if not c.all():
                lines.append(f"  - a parameter condition fails: {desc} (false at {int((~c).sum())} entries)")
        ok = np.asarray(rv.owner.in_support(value, *params))
        if not ok.all():
            where = np.argwhere(~ok)[:5].tolist()
            lines.append(f"  - value outside the support at index {where}" if ok.ndim else
                         "  - value outside the support")
        if np.any(~np.isfinite(lp)) and ok.all():
            lines.append("  - the density itself is not finite (overflow or a parameter at its boundary)")
        for pname, p in zip(rv.owner.param_names, params):
            lines.append(f"    {pname} = {np.round(np.asarray(p), 4).tolist() if np.size(p) < 20 else np.shape(p)}")
    for pot, val in zip(cm.potentials, evaluate(cm.potentials, env)):
        if not np.all(np.isfinite(np.asarray(val))):
            bad += 1
            lines.append(f"Potential {pot.name!r} is not finite: {np.asarray(val).sum()}")
    if fn == "dlogp":
        grad = np.asarray(cm.logp_and_grad(x, data)[1])
        for s in cm.slots:
            g = grad[s.start:s.stop]
            if not np.all(np.isfinite(g)):
                bad += 1
                lines.append(f"The gradient with respect to {s.name!r} is not finite: {g.tolist()[:10]}")
    if not bad:
        lines.append(f"No problems found: every term of {fn} is finite at this point.")
    return "\n".join(lines)
