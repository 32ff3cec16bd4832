"""Shared pieces of the posteriordb pack: data loading, PyMC/jaxmc switches, the z-test, sampling runs."""

from __future__ import annotations

import importlib
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"

#: every posterior: (posteriordb name, model module in this package)
POSTERIORS = [
    ("eight_schools-eight_schools_noncentered", "eight_schools_noncentered"),
    ("kidiq-kidscore_momiq", "kidiq"),
    ("earnings-logearn_interaction_z", "earnings"),
    ("mesquite-logmesquite_logvash", "mesquite"),
    ("kilpisjarvi_mod-kilpisjarvi", "kilpisjarvi"),
    ("sblrc-blr", "sblrc"),
    ("arK-arK", "arK"),
    ("arma-arma11", "arma11"),
    ("gp_pois_regr-gp_pois_regr", "gp_pois_regr"),
    ("low_dim_gauss_mix-low_dim_gauss_mix", "low_dim_gauss_mix"),
    ("hmm_example-hmm_example", "hmm_example"),
    ("one_comp_mm_elim_abs-one_comp_mm_elim_abs", "one_comp_mm_elim_abs"),
    ("diamonds-diamonds", "diamonds"),
]
FAST = ["eight_schools-eight_schools_noncentered", "kidiq-kidscore_momiq", "earnings-logearn_interaction_z",
        "sblrc-blr"]

Z_MAX = 4.0
SD_RATIO = (0.8, 1.25)
RHAT_MAX = 1.01
ESS_MIN = 400


# ---------------------------------------------------------------------------------------------- data
def load_json(posterior: str, what: str) -> dict:
    with open(DATA_DIR / posterior / f"{what}.json") as f:
        return json.load(f)


def load_data(posterior: str) -> dict:
    return load_json(posterior, "data")


def load_reference(posterior: str) -> dict:
    return load_json(posterior, "reference")


def model_module(posterior: str):
    mod = dict(POSTERIORS)[posterior]
    return importlib.import_module(f"benchmarks.posteriordb.{mod}")


def short_name(posterior: str) -> str:
    return dict(POSTERIORS)[posterior]


# ---------------------------------------------------------------------------------------------- jaxmc / PyMC
def is_jaxmc(pm) -> bool:
    return pm.__name__.split(".")[0] == "jaxmc"


def scan_fn(pm):
    """`pytensor.scan` for PyMC, `jaxmc.scan.scan` (same signature) for jaxmc."""
    if is_jaxmc(pm):
        from jaxmc.scan import scan

        return scan
    import pytensor

    return pytensor.scan


def cholesky_fn(pm):
    if is_jaxmc(pm):
        return pm.math.cholesky
    import pytensor.tensor as pt

    return pt.linalg.cholesky


def normal_lpdf(pm, x, mu, sigma):
    """log N(x | mu, sigma^2), written with arithmetic and pm.math only (works for both libraries)."""
    return -0.5 * ((x - mu) / sigma) ** 2 - pm.math.log(sigma) - 0.5 * math.log(2 * math.pi)


# ---------------------------------------------------------------------------------------------- names
def parse_name(name: str) -> tuple[str, tuple[int, ...]]:
    """posteriordb's 1-based `theta[3]` -> ("theta", (2,)); `mu` -> ("mu", ())."""
    if "[" not in name:
        return name, ()
    base, rest = name.split("[", 1)
    idx = tuple(int(i) - 1 for i in rest.rstrip("]").split(","))
    return base, idx


def draws_of(posterior_ds, name: str, name_map: dict | None = None) -> np.ndarray:
    """(chain, draw) array of reference parameter `name` from an ArviZ posterior dataset."""
    var, idx = (name_map or {}).get(name, parse_name(name))
    arr = np.asarray(posterior_ds[var].values)
    return arr[(slice(None), slice(None), *idx)]


# ---------------------------------------------------------------------------------------------- z-test
@dataclass
class ParamCheck:
    name: str
    mean: float
    sd: float
    ref_mean: float
    ref_sd: float
    mcse_mean: float
    mcse_sd: float
    ess_bulk: float
    rhat: float
    z_mean: float
    z_sd: float
    sd_ratio: float
    heavy_tailed: bool
    converged: bool
    passed: bool
    why: str = ""


def _mcse_sd(x) -> float:
    """ArviZ 0.23's ESS-based MCSE of the sd (`az.mcse(method="sd")`, the formula the reference used),
    computed here because ArviZ's `mcse` fails with NumPy >= 2.4 when numba is installed (float() of a
    1-element array)."""
    import arviz as az

    sims_c2 = (x - x.mean()) ** 2
    ess = float(az.ess(sims_c2, method="mean"))
    evar = sims_c2.mean()
    varvar = ((sims_c2**2).mean() - evar**2) / ess
    return float(np.sqrt(varvar / evar / 4))


def check_param(name, x, ref: dict, heavy_tailed=False, rhat_max=RHAT_MAX, ess_min=ESS_MIN) -> ParamCheck:
    """The pack README's test for one parameter given its (chain, draw) draws and reference summary."""
    import arviz as az

    x = np.asarray(x, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ess = float(az.ess(x, method="bulk"))
        rhat = float(az.rhat(x))
        mcse_mean = float(x.std(ddof=1) / np.sqrt(az.ess(x, method="mean")))  # = az.mcse(method="mean")
        mcse_sd = _mcse_sd(x)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    z_mean = (mean - ref["mean"]) / math.sqrt(mcse_mean**2 + ref["mcse_mean"] ** 2)
    z_sd = (sd - ref["sd"]) / math.sqrt(mcse_sd**2 + ref["mcse_sd"] ** 2)
    ratio = sd / ref["sd"]
    converged = bool(rhat < rhat_max and ess >= ess_min)
    why = []
    if not rhat < rhat_max:
        why.append(f"rhat {rhat:.3f}")
    if not ess >= ess_min:
        why.append(f"ess {ess:.0f}")
    if not abs(z_mean) < Z_MAX:
        why.append(f"z_mean {z_mean:.2f}")
    if not abs(z_sd) < Z_MAX:
        why.append(f"z_sd {z_sd:.2f}")
    if not heavy_tailed and not SD_RATIO[0] < ratio < SD_RATIO[1]:
        why.append(f"sd ratio {ratio:.3f}")
    return ParamCheck(name, mean, sd, ref["mean"], ref["sd"], mcse_mean, mcse_sd, ess, rhat, z_mean, z_sd, ratio,
                      heavy_tailed, converged, not why, ", ".join(why))


def check_posterior(posterior: str, posterior_ds, **kw) -> list[ParamCheck]:
    ref = load_reference(posterior)
    mod = model_module(posterior)
    heavy = set(getattr(mod, "HEAVY_TAILED", ()))
    name_map = getattr(mod, "NAME_MAP", None)
    return [check_param(p, draws_of(posterior_ds, p, name_map), ref["params"][p], heavy_tailed=p in heavy, **kw)
            for p in ref["param_names"]]


# ---------------------------------------------------------------------------------------------- runs
@dataclass
class RunResult:
    posterior: str
    sampler: str
    settings: dict
    checks: list = field(default_factory=list)
    wall_s: float = float("nan")  # pm.sample (jaxmc) or compile + sample (nutpie)
    compile_s: float = float("nan")  # jaxmc: JAX tracing + XLA compilation inside pm.sample
    sample_s: float = float("nan")
    divergences: int = 0
    n_steps_total: int = 0  # leapfrog steps = gradient evaluations, warm-up included, all chains
    error: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def min_ess(self) -> float:
        return min(c.ess_bulk for c in self.checks) if self.checks else float("nan")

    def summary(self) -> dict:
        ess = self.min_ess
        return {
            "posterior": self.posterior, "sampler": self.sampler, "settings": self.settings,
            "passed": self.passed, "error": self.error, "note": self.note,
            "max_abs_z_mean": max((abs(c.z_mean) for c in self.checks), default=float("nan")),
            "max_abs_z_sd": max((abs(c.z_sd) for c in self.checks), default=float("nan")),
            "sd_ratio_min": min((c.sd_ratio for c in self.checks), default=float("nan")),
            "sd_ratio_max": max((c.sd_ratio for c in self.checks), default=float("nan")),
            "min_ess_bulk": ess, "max_rhat": max((c.rhat for c in self.checks), default=float("nan")),
            "divergences": self.divergences, "wall_s": self.wall_s, "compile_s": self.compile_s,
            "sample_s": self.sample_s, "ess_per_s": ess / self.wall_s if self.wall_s else float("nan"),
            "grads_per_ess": self.n_steps_total / ess if ess else float("nan"),
            "n_steps_total": self.n_steps_total,
            "failures": {c.name: c.why for c in self.checks if not c.passed},
            "params": {c.name: {k: getattr(c, k) for k in ("mean", "sd", "ref_mean", "ref_sd", "z_mean", "z_sd",
                                                           "sd_ratio", "ess_bulk", "rhat")} for c in self.checks},
        }


def sample_settings(posterior: str, **override) -> dict:
    """pm.sample defaults, with the per-model changes a model file declares in SAMPLE_KWARGS, then `override`
    (None values ignored)."""
    mod = model_module(posterior)
    s = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.8}
    s.update(getattr(mod, "SAMPLE_KWARGS", {}))
    s.update({k: v for k, v in override.items() if v is not None})
    return s


_COMPILE_INTERVALS: list = []
_LISTENING = [False]


def _listen_to_compiles():
    import jax

    if not _LISTENING[0]:
        def listen(name, duration, **kwargs):
            if name.startswith("/jax/core/compile/"):
                end = time.perf_counter()
                _COMPILE_INTERVALS.append((end - duration, end))

        jax.monitoring.register_event_duration_secs_listener(listen)
        _LISTENING[0] = True


def _compile_wall_seconds(t0: float, t1: float) -> float:
    """Wall-clock seconds within [t0, t1] during which JAX was tracing, lowering or compiling (the union of
    the intervals reported by `jax.monitoring`, so programs compiled concurrently count once)."""
    spans = sorted((max(a, t0), min(b, t1)) for a, b in _COMPILE_INTERVALS if b > t0 and a < t1)
    total, cur_a, cur_b = 0.0, None, None
    for a, b in spans:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total


def run_jaxmc(posterior: str, seed: int = 1, progressbar: bool = False, mass_matrix: str | None = None,
              **settings) -> RunResult:
    """pm.sample at the posterior's settings; ``mass_matrix`` (NUTS' metric, default jaxmc's own) names the
    sampler "jaxmc <mass_matrix>" in the tables."""
    import jaxmc

    s = sample_settings(posterior, **settings)
    res = RunResult(posterior, "jaxmc" if mass_matrix is None else f"jaxmc {mass_matrix}", s)
    mod = model_module(posterior)
    data = load_data(posterior)
    try:
        model = mod.build(jaxmc, data)
        _listen_to_compiles()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = jaxmc.sample(draws=s["draws"], tune=s["tune"], chains=s["chains"],
                                 target_accept=s["target_accept"], random_seed=seed, progressbar=progressbar,
                                 discard_tuned_samples=False, model=model,
                                 **({"max_treedepth": s["max_treedepth"]} if "max_treedepth" in s else {}),
                                 **({"nuts": {"mass_matrix": mass_matrix}} if mass_matrix else {}))
        t1 = time.perf_counter()
        res.wall_s = t1 - t0
    except Exception as err:  # noqa: BLE001 - reported in the table
        res.error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        return res
    post, stats, wstats = idata["posterior"], idata["sample_stats"], idata["warmup_sample_stats"]
    res.compile_s = _compile_wall_seconds(t0, t1)
    res.sample_s = res.wall_s - res.compile_s
    res.divergences = int(np.asarray(stats["diverging"]).sum())
    res.n_steps_total = int(np.asarray(stats["n_steps"]).sum() + np.asarray(wstats["n_steps"]).sum())
    res.checks = check_posterior(posterior, post)
    return res


def run_nutpie(posterior: str, seed: int = 1, progressbar: bool = False, low_rank: bool = False,
               **settings) -> RunResult:
    """The same model built with PyMC, compiled and sampled by nutpie (PyMC's `nuts_sampler="nutpie"` path:
    `nutpie.compile_pymc_model` + `nutpie.sample`, called directly to keep the warm-up statistics); with
    ``low_rank`` its low-rank modified mass matrix (`low_rank_modified_mass_matrix=True`, "nutpie low-rank")."""
    s = sample_settings(posterior, **settings)
    res = RunResult(posterior, "nutpie low-rank" if low_rank else "nutpie", s)
    mod = model_module(posterior)
    reason = getattr(mod, "PYMC_UNAVAILABLE", None)
    if reason:
        res.error = f"not available: {reason}"
        return res
    try:
        import nutpie
        import pymc

        data = load_data(posterior)
        model = mod.build(pymc, data)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = nutpie.compile_pymc_model(model)
            t1 = time.perf_counter()
            idata = nutpie.sample(compiled, draws=s["draws"], tune=s["tune"], chains=s["chains"], seed=seed,
                                  target_accept=s["target_accept"], save_warmup=True, progress_bar=progressbar,
                                  **({"maxdepth": s["max_treedepth"]} if "max_treedepth" in s else {}),
                                  **({"low_rank_modified_mass_matrix": True} if low_rank else {}))
        t2 = time.perf_counter()
    except Exception as err:  # noqa: BLE001
        res.error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        return res
    res.wall_s, res.compile_s, res.sample_s = t2 - t0, t1 - t0, t2 - t1
    stats = idata.sample_stats
    res.divergences = int(np.asarray(stats["diverging"]).sum())
    n = np.asarray(stats["n_steps"]).sum()
    warmup = getattr(idata, "warmup_sample_stats", None)  # an InferenceData or (ArviZ 1.x) DataTree group
    if warmup is not None:
        n += np.asarray(warmup["n_steps"]).sum()
    res.n_steps_total = int(n)
    res.checks = check_posterior(posterior, idata.posterior)
    return res
