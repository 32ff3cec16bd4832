"""PyMC 6's public names and modules with jaxmc's counterpart of each: the one table `pm.<name>` (module
`__getattr__`) and `import pymc...` (`jaxmc.compat`) read, and the NotImplementedError for what jaxmc lacks."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from typing import NamedTuple


class NotInJaxmcError(NotImplementedError, ImportError):
    """A PyMC name or module jaxmc does not implement; the message names the closest alternative.

    Both a NotImplementedError and an ImportError, so `from pymc import fit` and `import pymc.gp` fail the
    way code that guards optional features with `except ImportError` expects."""


class Alias(NamedTuple):
    """The PyMC module is this jaxmc module (one module object under both names)."""
    target: str


class Facade(NamedTuple):
    """No one jaxmc module plays this PyMC module's role: a small module named after PyMC's whose `names` are
    jaxmc's objects of those names (from `source`, else jaxmc's top level), and whose other attributes come
    from ArviZ's `arviz` part ("stats" or "plots"), as PyMC 6's `pymc.stats` and `pymc.plots` do."""
    names: tuple[str, ...] = ()
    arviz: str | None = None
    package: bool = False
    source: str | None = None  # a jaxmc module to take `names` from first


class Missing(NamedTuple):
    """jaxmc has nothing for this PyMC module: importing it raises NotInJaxmcError with `why`."""
    why: str


_POPULATION = ("population samplers that move chains together (DEMetropolis) are not in jaxmc; use "
               "pm.DEMetropolisZ, which keeps its history within each chain")
_PYTENSOR = ("jaxmc models are JAX programs, not PyTensor graphs; use the model's own methods "
             "(model.compile_fn, model.compile_logp) or jax.jit/jax.grad on model.compiled().logp")

# Modules: every `pymc.X` a script may import, and what `import pymc.X` gives under jaxmc.compat.
MODULES: dict[str, Alias | Facade | Missing] = {
    "pymc": Alias("jaxmc"),
    "pymc.math": Alias("jaxmc.math"),
    "pymc.exceptions": Alias("jaxmc.exceptions"),
    "pymc.distributions": Alias("jaxmc.distributions"),
    "pymc.distributions.transforms": Alias("jaxmc.transforms"),
    "pymc.distributions.distribution": Alias("jaxmc.distributions.base"),
    **{f"pymc.distributions.{m}": Alias(f"jaxmc.distributions.{m}")
       for m in ("continuous", "discrete", "multivariate", "timeseries", "dist_math", "censored", "custom",
                 "mixture", "simulator", "truncated")},
    "pymc.distributions.shape_utils": Missing("PyMC's shape utilities work on PyTensor graphs; jaxmc resolves "
                                              "shapes from shape=, dims= and observed= itself"),
    "pymc.logprob": Alias("jaxmc.logprob"),
    "pymc.model": Alias("jaxmc.model"),
    "pymc.model.core": Alias("jaxmc.model.core"),
    "pymc.model.transform": Facade(("do", "observe", "change_value_transforms", "remove_value_transforms",
                                    "freeze_dims_and_data", "prune_vars_detached_from_observed"),
                                   package=True, source="jaxmc.model.conditioning"),
    "pymc.model.transform.conditioning": Alias("jaxmc.model.conditioning"),
    "pymc.model.transform.optimization": Missing("freeze_dims_and_data: jaxmc compiles with the data shapes of "
                                                 "each call, so there is nothing to freeze"),
    "pymc.model.fgraph": Missing("jaxmc models are not PyTensor FunctionGraphs (fgraph_from_model, "
                                 "clone_model); derive models with pm.do / pm.observe"),
    "pymc.model_graph": Alias("jaxmc.model_graph"),
    "pymc.data": Alias("jaxmc.model.data"),
    "pymc.sampling": Alias("jaxmc.sampling"),
    "pymc.sampling.mcmc": Alias("jaxmc.sampling.api"),
    "pymc.sampling.jax": Alias("jaxmc.sampling.jax"),
    "pymc.sampling.forward": Alias("jaxmc.predictive"),
    "pymc.sampling.deterministic": Alias("jaxmc.sampling.deterministic"),
    "pymc.sampling_jax": Missing("pymc.sampling_jax was renamed pymc.sampling.jax (PyMC 5); import that"),
    "pymc.sampling.parallel": Missing("jaxmc runs chains inside one JAX program; use pm.sample(chains=...)"),
    "pymc.sampling.population": Missing(_POPULATION),
    "pymc.ode": Alias("jaxmc.ode"),
    "pymc.pytensorf": Alias("jaxmc.pytensorf"),
    "pymc.testing": Alias("jaxmc.testing"),
    "pymc.stats": Facade(("compute_log_likelihood", "compute_log_prior"), arviz="stats", package=True,
                         source="jaxmc.sampling.log_density"),
    "pymc.stats.log_density": Facade(("compute_log_likelihood", "compute_log_prior"),
                                     source="jaxmc.sampling.log_density"),
    "pymc.plots": Facade(arviz="plots"),
    "pymc.backends": Facade(("to_inference_data", "predictions_to_inference_data"), package=True,
                            source="jaxmc.multitrace"),
    "pymc.backends.arviz": Facade(("to_inference_data", "predictions_to_inference_data"),
                                  source="jaxmc.multitrace"),
    "pymc.backends.base": Facade(("MultiTrace",), source="jaxmc.multitrace"),
    "pymc.func_utils": Alias("jaxmc.constrained_prior"),
    "pymc.gp": Alias("jaxmc.gp"),
    **{f"pymc.gp.{m}": Alias(f"jaxmc.gp.{m}") for m in ("cov", "mean", "util", "hsgp_approx")},
    "pymc.gp.gp": Facade(("Latent", "Marginal", "TP", "MarginalApprox", "MarginalSparse", "LatentKron",
                          "MarginalKron"), source="jaxmc.gp"),
    "pymc.variational": Alias("jaxmc.variational"),
    **{f"pymc.variational.{m}": Alias(f"jaxmc.variational.{m}")
       for m in ("approximations", "callbacks", "inference", "stein", "updates")},
    "pymc.variational.opvi": Facade(("Approximation", "Inference"), source="jaxmc.variational"),
    "pymc.smc": Alias("jaxmc.smc"),
    "pymc.smc.kernels": Alias("jaxmc.smc.kernels"),
    "pymc.smc.sampling": Alias("jaxmc.smc.sampling"),
    "pymc.step_methods": Alias("jaxmc.step_methods"),
    "pymc.step_methods.compound": Alias("jaxmc.step_methods.compound"),
    "pymc.step_methods.slicer": Alias("jaxmc.step_methods.slice"),
    "pymc.step_methods.metropolis": Facade(("Metropolis", "DEMetropolisZ", "BinaryMetropolis",
                                            "BinaryGibbsMetropolis", "CategoricalGibbsMetropolis", "NormalProposal",
                                            "UniformProposal", "CauchyProposal", "LaplaceProposal",
                                            "PoissonProposal", "MultivariateNormalProposal"),
                                           source="jaxmc.step_methods"),
    "pymc.step_methods.arraystep": Facade(("BlockedStep",), source="jaxmc.step_methods"),
    "pymc.step_methods.hmc": Facade(("NUTS", "HamiltonianMC"), package=True, source="jaxmc.step_methods.hmc"),
    "pymc.step_methods.hmc.nuts": Facade(("NUTS",), source="jaxmc.step_methods.hmc"),
    "pymc.step_methods.hmc.hmc": Facade(("HamiltonianMC",), source="jaxmc.step_methods.hmc"),
    "pymc.tuning": Alias("jaxmc.tuning"),
    "pymc.tuning.starting": Alias("jaxmc.tuning.starting"),
    "pymc.tuning.scaling": Alias("jaxmc.tuning.scaling"),
    "pymc.dims": Missing("PyMC's dims (xtensor) API is not in jaxmc; use dims= on pm distributions"),
    "pymc.util": Missing("PyMC's internal helpers; jaxmc has no counterpart module"),
    "pymc.blocking": Missing("jaxmc lays out the free variables itself (model.compiled())"),
    "pymc.vartypes": Missing("use numpy dtype checks (np.issubdtype)"),
    "pymc.printing": Missing("use str(model) / model.debug()"),
    "pymc.initial_point": Missing("use model.initial_point()"),
    "pymc.progress_bar": Missing("jaxmc shows its own progress bar; pass progressbar=False to turn it off"),
}

# Root names PyMC 6 moved out of `pymc` (pymc._deprecations._RELOCATED, minus what jaxmc exports itself):
# `pm.<name>` still works, with PyMC 6's DeprecationWarning naming the new place.
RELOCATED: dict[str, str] = {
    **dict.fromkeys(("logit", "invlogit", "probit", "invprobit", "logsumexp", "logaddexp"), "pymc.math"),
    **dict.fromkeys(("ImputationWarning", "BlockModelAccessError", "DtypeError", "IncorrectArgumentsError",
                     "NotConstantValueError", "ShapeWarning", "TraceDirectoryError", "TruncationError",
                     "UndefinedMomentException"), "pymc.exceptions"),
    **dict.fromkeys(("CallableTensor", "cont_inputs", "convert_data", "convert_observed_data", "gradient",
                     "hessian", "hessian_diag", "inputvars", "intX", "jacobian", "join_nonshared_inputs",
                     "make_shared_replacements"), "pymc.pytensorf"),
    "compute_log_prior": "pymc.stats",
    "DictToArrayBijection": "pymc.blocking",
    **dict.fromkeys(("str_for_data_var", "str_for_dist", "str_for_model", "str_for_potential_or_deterministic"),
                    "pymc.printing"),
    **dict.fromkeys(("BlockedStep", "CauchyProposal", "CompoundStep", "LaplaceProposal",
                     "MultivariateNormalProposal", "NormalProposal", "PoissonProposal", "STEP_METHODS",
                     "UniformProposal"), "pymc.step_methods"),
    **dict.fromkeys(("guess_scaling", "trace_cov"), "pymc.tuning"),
    "drop_warning_stat": "pymc.util",
    **dict.fromkeys(("Approximation", "ImplicitGradient", "Inference", "KLqp"), "pymc.variational"),
    **dict.fromkeys(("bool_types", "complex_types", "continuous_types", "discrete_types", "float_types",
                     "int_types", "isgenerator", "typefilter"), "pymc.vartypes"),
}

# PyMC 6 root names jaxmc does not implement (yet), with the closest alternative.
NOT_IMPLEMENTED: dict[str, str] = {
    **dict.fromkeys(("Group", "Stein", "apply_momentum", "apply_nesterov_momentum"),
                    "PyTensor update-dictionary helpers and opvi groups have no counterpart in jaxmc's optax-based "
                    "pm.fit; pass obj_optimizer=pm.momentum(...) / pm.nesterov_momentum(...) and one approximation"),
    "DEMetropolis": _POPULATION,
    "init_nuts": "pm.sample() initialises and adapts NUTS itself (nutpie's scheme, or nuts={'adaptation': 'stan'})",
    "Point": "use a dict {name: value} (e.g. model.initial_point())",
    "BaseModel": "use pm.Model",
    "FrozenModel": "use pm.Model (jaxmc compiles with the data shapes of each call)",
    "compile": _PYTENSOR,
    "compile_forward_sampling_function": "use pm.draw or pm.sample_posterior_predictive",
    "vectorize_over_posterior": "use pm.sample_posterior_predictive(idata, var_names=...)",
    "logccdf": "not in jaxmc yet; use pm.math.log1mexp(pm.logcdf(dist, value))",
    "change_value_transforms": "pass transform= / default_transform= when creating the variable",
    "remove_value_transforms": "pass default_transform=None when creating the variable",
    "freeze_dims_and_data": "jaxmc compiles with the data shapes of each call; nothing to freeze",
}

# PyMC 6 root names jaxmc defines outside jaxmc/__init__.py (imported when first used): name -> jaxmc module.
LAZY: dict[str, str] = {"get_data": "jaxmc.datasets.pymc_examples"}

# Names older PyMC versions had, which notebooks still use: the jaxmc name that replaces each (resolved with a
# DeprecationWarning), or None and the reason (NotImplementedError).
REMOVED: dict[str, tuple[str | None, str]] = {
    "ConstantData": ("Data", "PyMC 5.16 removed pm.ConstantData; write pm.Data"),
    "MutableData": ("Data", "PyMC 5.16 removed pm.MutableData; write pm.Data"),
    "Bound": (None, "PyMC 4 removed pm.Bound; use pm.Truncated or pm.Censored"),
    "traceplot": (None, "PyMC 4 removed pm.traceplot; use az.plot_trace"),
    "sample_posterior_predictive_w": (None, "PyMC 4 removed it; use pm.sample_posterior_predictive per model"),
}

# ArviZ functions PyMC re-exports at its root and in pymc.stats / pymc.plots (ArviZ 0.x's stats and plots,
# arviz_stats and arviz_plots of ArviZ 1.x), and the name each has in the other ArviZ (docs/arviz.md).
ARVIZ_STATS = ("summary", "hdi", "ess", "rhat", "mcse", "loo", "waic", "compare", "bfmi", "autocorr",
               "autocov", "kde", "loo_pit", "psislw", "r2_score", "r2_samples", "bayesian_r2", "reloo",
               "weight_predictions", "bayes_factor", "apply_test_function", "psens", "psense", "eti",
               "ci_in_rope", "diagnose", "loo_moment_match", "loo_subsample", "loo_kfold", "thin", "ELPDData",
               "make_ufunc", "smooth_data", "wrap_xarray_ufunc")
ARVIZ_PLOTS = ("plot_autocorr", "plot_bpv", "plot_bf", "plot_compare", "plot_density", "plot_dist", "plot_dot",
               "plot_ecdf", "plot_elpd", "plot_energy", "plot_ess", "plot_forest", "plot_hdi", "plot_kde",
               "plot_khat", "plot_lm", "plot_loo_pit", "plot_mcse", "plot_pair", "plot_parallel",
               "plot_posterior", "plot_ppc", "plot_dist_comparison", "plot_rank", "plot_trace", "plot_ts",
               "plot_violin", "plot_separation", "plot_trace_dist", "plot_ppc_dist", "plot_ppc_pit",
               "plot_ppc_tstat", "plot_ppc_interval", "plot_ppc_rootogram", "plot_prior_posterior",
               "plot_rank_dist", "plot_ridge", "plot_convergence_dist", "plot_ecdf_pit", "plot_psense_dist")
ARVIZ_1X_NAME = {  # ArviZ 0.x name -> the ArviZ 1.x function of that role (docs/arviz.md)
    "plot_posterior": "plot_dist", "plot_density": "plot_dist", "plot_kde": "plot_dist", "plot_violin": "plot_dist",
    "plot_ppc": "plot_ppc_dist", "plot_bpv": "plot_ppc_pit", "plot_dist_comparison": "plot_prior_posterior",
    "plot_elpd": "plot_compare", "plot_hdi": "plot_ppc_interval", "r2_score": "bayesian_r2",
    "r2_samples": "bayesian_r2", "psens": "psense", "waic": "loo", "psislw": "loo",
}

FACADES: dict[str, types.ModuleType] = {}  # the Facade modules made so far, by PyMC name


def _not_in_jaxmc(qualified: str, why: str) -> NotInJaxmcError:
    return NotInJaxmcError(f"{qualified} is not implemented in jaxmc: {why}. The PyMC names jaxmc has are "
                           "listed in docs/pymc-api.md.")


def _root_object(name: str, qualified: str):
    """The jaxmc top-level object `name` (defined in jaxmc/__init__.py, not resolved through __getattr__)."""
    root = importlib.import_module("jaxmc")
    if name in vars(root):
        return vars(root)[name]
    raise _not_in_jaxmc(qualified, NOT_IMPLEMENTED.get(name, "not in jaxmc yet"))


def arviz_function(name: str, qualified: str, part: str | None = None):
    """ArviZ's `name` as PyMC re-exports it: from arviz_stats / arviz_plots on ArviZ 1.x, arviz.stats /
    arviz.plots on ArviZ 0.x (`part` "stats" or "plots" picks one)."""
    from jaxmc import convert

    major = convert.arviz_major()
    parts = [part] if part else ["stats", "plots"]
    sources = [f"arviz_{p}" if major >= 1 else f"arviz.{p}" for p in parts]
    for source in sources:
        module = importlib.import_module(source)
        if hasattr(module, name):
            return getattr(module, name)
    if name not in ARVIZ_STATS and name not in ARVIZ_PLOTS:
        raise AttributeError(f"{qualified}: ArviZ {major}.x has no {name!r}")
    if major >= 1:
        other = ARVIZ_1X_NAME.get(name)
    else:
        other = {**{v: k for k, v in reversed(ARVIZ_1X_NAME.items())}, "plot_trace_dist": "plot_trace"}.get(name)
    hint = f"az.{other}" if other else "the ArviZ function of that role (docs/arviz.md)"
    raise _not_in_jaxmc(qualified, f"ArviZ {major}.x, which is installed, has no {name}; use {hint}")


def _facade_attribute(pymc_name: str, spec: Facade, name: str):
    qualified = f"{pymc_name}.{name}"
    if name.startswith("__"):
        raise AttributeError(f"module {pymc_name!r} has no attribute {name!r}")
    if name in spec.names:
        if spec.source is not None and hasattr(importlib.import_module(spec.source), name):
            return getattr(importlib.import_module(spec.source), name)
        return _root_object(name, qualified)
    child = f"{pymc_name}.{name}"
    if child in MODULES:
        return module(child)
    if spec.arviz is not None and not name.startswith("_"):
        return arviz_function(name, qualified, spec.arviz)
    raise AttributeError(f"module {pymc_name!r} (jaxmc's counterpart of PyMC's) has no attribute {name!r}")


def _facade(pymc_name: str, spec: Facade) -> types.ModuleType:
    if pymc_name not in FACADES:
        mod = types.ModuleType(pymc_name, f"PyMC's `{pymc_name}` as jaxmc provides it (jaxmc.pymc_names).")
        mod.__getattr__ = lambda name: _facade_attribute(pymc_name, spec, name)
        mod.__dir__ = lambda: sorted(set(spec.names) | {k for k in vars(mod) if not k.startswith("_")})
        mod.__all__ = list(spec.names)
        if spec.package:
            mod.__path__ = []
        FACADES[pymc_name] = mod
    return FACADES[pymc_name]


def module(pymc_name: str) -> types.ModuleType:
    """jaxmc's module object for the PyMC module `pymc_name` (imported, or the facade); NotInJaxmcError for
    one jaxmc has nothing for. A name not in MODULES maps to the jaxmc module of the same name if any."""
    spec = MODULES.get(pymc_name)
    if spec is None:
        same = "jaxmc" + pymc_name[len("pymc"):]
        try:
            return importlib.import_module(same)
        except ModuleNotFoundError as e:
            if not (e.name and (same == e.name or same.startswith(e.name + "."))):
                raise
        parent = pymc_name.rpartition(".")[0]
        raise _not_in_jaxmc(f"module {pymc_name}", f"jaxmc has no counterpart of it (the PyMC modules it maps "
                                                   f"are listed in docs/compat.md; see `{parent}`)")
    if isinstance(spec, Missing):
        raise _not_in_jaxmc(f"module {pymc_name}", spec.why)
    if isinstance(spec, Facade):
        return _facade(pymc_name, spec)
    try:
        return importlib.import_module(spec.target)
    except ModuleNotFoundError as e:
        if e.name != spec.target:
            raise
        raise _not_in_jaxmc(f"module {pymc_name}", f"{spec.target} is not in this jaxmc") from None


def resolve(name: str):
    """`pm.<name>` for a PyMC 6 public name jaxmc/__init__.py does not define: a relocated or ArviZ name
    (with PyMC 6's DeprecationWarning), a PyMC submodule, or NotInJaxmcError; AttributeError for the rest."""
    known = (f"pymc.{name}" in MODULES or name in RELOCATED or name in NOT_IMPLEMENTED or name in ARVIZ_STATS
             or name in ARVIZ_PLOTS or name in REMOVED or name in LAZY)
    if name.startswith("_") or not known:
        raise AttributeError(f"module 'jaxmc' has no attribute {name!r}")
    if importlib.util.find_spec(f"jaxmc.{name}") is not None:
        # a jaxmc submodule of a PyMC name not imported yet (jaxmc.compile): `from jaxmc import compile` needs it
        return importlib.import_module(f"jaxmc.{name}")
    if f"pymc.{name}" in MODULES:
        value = module(f"pymc.{name}")
        setattr(sys.modules["jaxmc"], name, value)
        return value
    if name in LAZY:
        return getattr(importlib.import_module(LAZY[name]), name)
    if name in RELOCATED:
        place = RELOCATED[name]
        value = _relocated(name, place)
        _warn_moved(name, place)
        return value
    if name in ARVIZ_STATS or name in ARVIZ_PLOTS:
        part = "stats" if name in ARVIZ_STATS else "plots"
        value = arviz_function(name, f"pm.{name}", part)
        _warn_moved(name, f"pymc.{part}")
        return value
    if name in REMOVED:
        replacement, why = REMOVED[name]
        if replacement is None:
            raise _not_in_jaxmc(f"pm.{name}", why)
        warnings.warn(f"{why} (jaxmc resolves pm.{name} to pm.{replacement})", DeprecationWarning, stacklevel=3)
        return _root_object(replacement, f"pm.{replacement}")
    if name in NOT_IMPLEMENTED:
        raise _not_in_jaxmc(f"pm.{name}", NOT_IMPLEMENTED[name])
    raise AttributeError(f"module 'jaxmc' has no attribute {name!r}")


def _relocated(name: str, place: str):
    try:
        home = module(place)
    except NotInJaxmcError:
        raise _not_in_jaxmc(f"pm.{name} ({place}.{name})", MODULES[place].why) from None
    try:
        return getattr(home, name)
    except AttributeError:
        raise _not_in_jaxmc(f"pm.{name} ({place}.{name})",
                            NOT_IMPLEMENTED.get(name, f"jaxmc's {place} has no {name}")) from None


def _warn_moved(name: str, place: str) -> None:
    warnings.warn(f"`pm.{name}` is `{place}.{name}`: PyMC 6 moved it out of its root namespace and will remove "
                  f"the old name; write `{place}.{name}` (jaxmc resolves both)", DeprecationWarning,
                  stacklevel=4)
