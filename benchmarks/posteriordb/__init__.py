"""posteriordb correctness pack: one PyMC-syntax model file per posterior (`build(pm, data)` runs with
`import jaxmc as pm` and `import pymc as pm`), the z-test against the reference posteriors, the runner
(`python -m benchmarks.posteriordb`) and simulation-based calibration (`python -m benchmarks.posteriordb.sbc`).
See docs/posteriordb.md."""

from benchmarks.posteriordb.common import FAST, POSTERIORS  # noqa: F401
