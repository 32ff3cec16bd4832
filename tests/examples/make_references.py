"""Run every example script with PyMC and store its summary as reference/<name>.json.

Usage: python tests/examples/make_references.py [NAME ...]   (the /work/venvs/py3.13 stack, PyMC 6, is the
reference). Scripts run one at a time in a subprocess; the wall time of each is kept in reference/timings.json. A
result with r_hat > 1.02 or bulk ESS < 200 for any element is not stored (PyMC did not converge).
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "reference")


MAX_RHAT = 1.02
MIN_ESS = 200


def unconverged(result):
    """Elements whose PyMC estimate is not a trustworthy reference (their MCSE would be unreliable too)."""
    return [
        key for key, row in result["variables"].items()
        if (row.get("r_hat") or 1.0) > MAX_RHAT or (row.get("ess_bulk") or MIN_ESS) < MIN_ESS
    ]


def scripts():
    """The example scripts' names (without .py), sorted."""
    skip = {"make_references", "example_results", "__init__"}
    return sorted(f[:-3] for f in os.listdir(HERE) if f.endswith(".py") and f[:-3] not in skip)


def run_pymc(name, out_path, timeout=1800):
    """Run one script with the current Python (PyMC); return (returncode, seconds, output tail)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, f"{name}.py"), out_path],
        capture_output=True, text=True, timeout=timeout, cwd=HERE,
    )
    return proc.returncode, time.perf_counter() - start, (proc.stdout + proc.stderr)[-3000:]


def main(names):
    import pymc

    os.makedirs(REFERENCE, exist_ok=True)
    timings_path = os.path.join(REFERENCE, "timings.json")
    timings = json.load(open(timings_path)) if os.path.exists(timings_path) else {}
    for name in names or scripts():
        out = os.path.join(REFERENCE, f"{name}.json")
        code, seconds, tail = run_pymc(name, out + ".tmp")
        if code != 0:
            print(f"FAILED {name} ({seconds:.0f} s)\n{tail}", flush=True)
            continue
        with open(out + ".tmp") as fh:
            result = json.load(fh)
        poor = unconverged(result)
        if poor:
            print(f"UNCONVERGED {name}: not stored, {len(poor)} elements with r_hat > {MAX_RHAT} or "
                  f"ess_bulk < {MIN_ESS}, e.g. {[(k, result['variables'][k]) for k in poor[:2]]}", flush=True)
            os.remove(out + ".tmp")
            continue
        result["reference"] = {"pymc": pymc.__version__, "python": sys.version.split()[0]}
        with open(out, "w") as fh:
            json.dump(result, fh, indent=0, sort_keys=True)
        os.remove(out + ".tmp")
        timings[name] = round(seconds, 1)
        with open(timings_path, "w") as fh:
            json.dump(timings, fh, indent=1, sort_keys=True)
        print(f"ok {name}: {len(result['variables'])} elements, {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
