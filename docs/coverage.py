"""Coverage of PyMC's distribution catalogue by jaxmc.

    python docs/coverage.py            # print the table (markdown) and the count
    python docs/coverage.py --write    # also refresh the table in docs/distributions.md
    python docs/coverage.py --check    # exit 1 if a name is missing without a documented reason

Every name in `pymc.distributions.__all__` is looked up with `hasattr(jaxmc, name)`.
"""

from __future__ import annotations

import pathlib
import sys
import warnings

# this file is named like the `coverage` package that numba (via PyMC) imports: keep its folder off the path
_HERE = pathlib.Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != _HERE]

#: names that may be missing from jaxmc, with the reason (only what genuinely needs PyTensor)
KNOWN_MISSING: dict[str, str] = {}

NOTES = {
    "Continuous": "base class",
    "Discrete": "base class",
    "Distribution": "base class",
    "SymbolicRandomVariable": "base-class name only: jaxmc's wrappers subclass Distribution (no PyTensor graphs)",
    "DensityDist": "deprecated subclass of CustomDist (FutureWarning), as in PyMC 6",
    "CustomDist": "logp/logcdf/random/support_point functions, or dist= graphs (see below for derived logp)",
    "Simulator": "ABC pseudo-likelihood on the host (no gradient); PyMC samples it with sample_smc, which jaxmc "
                 "lacks; draws work",
    "Truncated": "Normal -> TruncatedNormal as in PyMC; draws by inverse CDF or bounded rejection",
    "Censored": "univariate",
    "HurdleGamma": "as in PyMC: for likelihoods / forward sampling (no default transform)",
    "HurdleLogNormal": "as in PyMC: for likelihoods / forward sampling (no default transform)",
    "EulerMaruyama": "sde_fn receives JAX arrays (use pm.math / jax.numpy)",
    "PolyaGamma": "series density (PyMC calls the polyagamma package)",
    "ChiSquared": "a Gamma, as in PyMC",
    "WishartBartlett": "deprecated shim over Wishart, as in PyMC 6",
}

START, END = "<!-- coverage:start -->", "<!-- coverage:end -->"


def table():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pymc.distributions as pd

        import jaxmc

    rows, n_ok = [], 0
    for name in sorted(pd.__all__, key=str.lower):
        ok = hasattr(jaxmc, name)
        n_ok += ok
        module = getattr(getattr(jaxmc, name, None), "__module__", "") or ""
        module = module.replace("jaxmc.distributions.", "") if ok else ""
        if ok:
            status = "implemented"
        else:
            status = "missing: " + KNOWN_MISSING.get(name, "UNDOCUMENTED")
        rows.append(f"| `{name}` | {status} | {module} | {NOTES.get(name, '')} |")
    head = ["| PyMC name | jaxmc | module | notes |", "|---|---|---|---|"]
    summary = f"**{n_ok} / {len(pd.__all__)}** names of `pymc.distributions.__all__` exist in jaxmc."
    missing = [n for n in pd.__all__ if not hasattr(jaxmc, n)]
    return "\n".join(head + rows), summary, missing


def main(argv):
    text, summary, missing = table()
    print(text)
    print()
    print(summary)
    if "--write" in argv:
        path = pathlib.Path(__file__).with_name("distributions.md")
        doc = path.read_text()
        i, j = doc.index(START), doc.index(END)
        doc = doc[: i + len(START)] + "\n" + summary + "\n\n" + text + "\n" + doc[j:]
        path.write_text(doc)
    undocumented = [n for n in missing if n not in KNOWN_MISSING]
    if "--check" in argv and undocumented:
        print(f"missing without a documented reason: {undocumented}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
