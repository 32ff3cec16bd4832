"""`python -m jaxmc run` / `jaxmc.compat.install()` (PyMC's module names answered by jaxmc's modules) and
`jaxmc.<pymc name>` (lazy aliases, NotImplementedError naming the alternative, AttributeError for the rest)."""

import inspect
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import jaxmc
from jaxmc import compat, convert, pymc_names
from jaxmc.__main__ import main

SCRIPT = """
import sys
import numpy as np
import pymc as pm
from pymc.math import exp
import pymc.sampling.jax
from pymc import HalfNormal, Normal
from pymc.distributions.transforms import log
import pymc.distributions.continuous, pymc.model.core, pymc.sampling.forward, pymc.data, pymc.stats
import pymc.model.transform.conditioning as conditioning
from pymc.model.transform.conditioning import do
from pymc.testing import assert_no_rvs
from pymc.backends.arviz import to_inference_data
import jaxmc

assert do is jaxmc.do and conditioning is pymc.model.transform.conditioning
assert assert_no_rvs is sys.modules["pymc.testing"].assert_no_rvs and sys.modules["pymc.testing"] is jaxmc.testing
assert to_inference_data is jaxmc.to_inference_data

assert pm is jaxmc and sys.modules["pymc"] is jaxmc
for name in ("math", "distributions.transforms", "distributions.continuous", "model.core", "sampling.jax",
             "sampling.forward", "data"):
    assert sys.modules["pymc." + name] is sys.modules[jaxmc.pymc_names.MODULES["pymc." + name].target], name
assert exp is jaxmc.math.exp and log is jaxmc.transforms.log and pymc.stats is pm.stats
assert pymc.sampling.forward.sample_posterior_predictive is pm.sample_posterior_predictive
assert len({id(m) for m in list(sys.modules.values()) if getattr(m, "__name__", None) == "jaxmc.math"}) == 1
for stmt in ("import pymc.dims", "from pymc import DEMetropolis", "from pymc.sampling.population import x"):
    try:
        exec(stmt)
    except ImportError as e:
        print("ImportError:", stmt, "|", e)
print("argv", sys.argv[1:])
with pm.Model():
    mu = Normal("mu", 0, 1)
    sigma = HalfNormal("sigma", 1)
    Normal("y", mu, exp(np.log(1.0)) * sigma, observed=np.array([0.5, 1.0, 1.5, 0.9]))
    idata = pymc.sampling.jax.sample_numpyro_nuts(100, tune=100, chains=1, random_seed=1, progressbar=False,
                                                  compute_convergence_checks=False)
print("draws", idata.posterior["mu"].shape)
if __name__ == "__main__":
    sys.exit(3)
"""


def _run(args, cwd):
    return subprocess.run([sys.executable, "-m", "jaxmc", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_run_executes_a_pymc_script_with_jaxmc(tmp_path):
    (tmp_path / "model.py").write_text(SCRIPT)
    out = _run(["run", "model.py", "--flag", "x"], tmp_path)
    assert out.returncode == 3, out.stderr
    assert "argv ['--flag', 'x']" in out.stdout
    assert "draws (1, 100)" in out.stdout
    assert "ImportError: import pymc.dims | module pymc.dims is not implemented in jaxmc: PyMC's dims" in out.stdout
    assert "ImportError: from pymc import DEMetropolis | pm.DEMetropolis is not implemented in jaxmc: population" \
        in out.stdout
    assert "ImportError: from pymc.sampling.population import x | module pymc.sampling.population" in out.stdout


def test_run_a_script_that_fails_exits_nonzero(tmp_path):
    (tmp_path / "bad.py").write_text("import pymc as pm\nraise ValueError('boom')\n")
    out = _run(["run", "bad.py"], tmp_path)
    assert out.returncode == 1 and "ValueError: boom" in out.stderr


def test_usage(capsys):
    assert main([]) == 2 and "usage: python -m jaxmc run SCRIPT.py" in capsys.readouterr().err
    assert main(["--help"]) == 0 and "usage:" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2 and "unknown command 'frobnicate'" in capsys.readouterr().err
    assert main(["run"]) == 2 and "give the script to run" in capsys.readouterr().err
    assert main(["run", "no_such_script.py"]) == 2 and "no such script" in capsys.readouterr().err


def test_demo_command_is_the_demo(capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", "--help"])
    assert e.value.code == 0 and "python -m jaxmc.demo" in capsys.readouterr().out


@pytest.mark.parametrize("name, words", [
    ("DEMetropolis", "use pm.DEMetropolisZ"), ("Group", "obj_optimizer=pm.momentum"),
    ("apply_momentum", "pm.fit"), ("Stein", "one approximation"), ("logccdf", "pm.math.log1mexp"),
])
def test_pymc_names_jaxmc_lacks_raise_not_implemented(name, words):
    with pytest.raises(NotImplementedError, match=r"is not implemented in jaxmc") as e:
        getattr(jaxmc, name)
    assert words in str(e.value) and "docs/pymc-api.md" in str(e.value)
    assert isinstance(e.value, ImportError)


def test_other_names_raise_attribute_error():
    for name in ("no_such_name", "_repr_html_", "__wrapped__", "_ipython_canary_method_should_not_exist_",
                 "__test__", "setup_module", "pytest_plugins", "__path_hooks__"):
        assert not hasattr(jaxmc, name), name
    assert inspect.unwrap(jaxmc.sample) is not None and inspect.ismodule(jaxmc)
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        jaxmc.no_such_name


def test_relocated_math_names_warn_like_pymc6():
    with pytest.warns(DeprecationWarning, match=r"pm.logit. is .pymc.math.logit."):
        logit = jaxmc.logit
    assert logit is jaxmc.math.logit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("invlogit", "logsumexp", "logaddexp", "probit", "invprobit"):
            assert getattr(jaxmc, name) is getattr(jaxmc.math, name)
        np.testing.assert_allclose(float(jaxmc.invlogit(np.array(0.0))), 0.5)


def test_names_older_pymc_had():
    with pytest.warns(DeprecationWarning, match="PyMC 5.16 removed pm.MutableData; write pm.Data"):
        assert jaxmc.MutableData is jaxmc.Data
    with pytest.raises(NotImplementedError, match="use pm.Truncated or pm.Censored"):
        jaxmc.Bound


def test_get_data_reads_pymc_examples_files(tmp_path, monkeypatch):
    (tmp_path / "tiny.csv").write_text("a,b\n1,2\n")
    monkeypatch.setenv("JAXMC_PYMC_EXAMPLES_DATA", str(tmp_path))
    assert jaxmc.get_data("tiny.csv").read() == b"a,b\n1,2\n"


def test_floatX_and_intX_cast_like_pymc():
    assert jaxmc.floatX() == "float64" and jaxmc.intX() == "int64"
    assert jaxmc.floatX([1, 2]).dtype == np.float64 and jaxmc.intX(np.array([1.0])).dtype == np.int64


def test_arviz_reexports_resolve_lazily():
    code = ("import sys, jaxmc, warnings; warnings.simplefilter('ignore'); hasattr(jaxmc, 'no_such_name'); "
            "print('arviz' in sys.modules); s = jaxmc.summary; print('arviz' in sys.modules or "
            "'arviz_stats' in sys.modules, callable(s))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]


def test_arviz_reexports_follow_the_installed_arviz():
    with pytest.warns(DeprecationWarning, match="pymc.stats.summary"):
        summary = jaxmc.summary
    if convert.arviz_major() >= 1:
        import arviz_plots
        import arviz_stats

        assert summary is arviz_stats.summary and jaxmc.stats.ess is arviz_stats.ess
        assert jaxmc.plots.plot_trace is arviz_plots.plot_trace
        with pytest.raises(NotImplementedError, match="has no plot_posterior; use az.plot_dist"):
            jaxmc.plot_posterior
    else:
        import arviz

        assert summary is arviz.summary and jaxmc.stats.ess is arviz.ess
        assert jaxmc.plots.plot_posterior is arviz.plot_posterior
        with pytest.raises(NotImplementedError, match="has no plot_ppc_dist; use az.plot_ppc"):
            jaxmc.plot_ppc_dist
    assert jaxmc.stats.compute_log_likelihood is jaxmc.compute_log_likelihood
    with pytest.raises(AttributeError):
        jaxmc.stats.no_such_function


def test_every_pymc6_name_is_implemented_or_not_implemented_error():
    pymc = pytest.importorskip("pymc")
    if int(pymc.__version__.split(".")[0]) < 6:
        pytest.skip("PyMC 6 is the reference for the public names")
    from pymc._deprecations import _RELOCATED

    names = {n for n in vars(pymc) if not n.startswith("_") and n != "logging"} | set(_RELOCATED)
    attribute_errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(names):
            try:
                getattr(jaxmc, name)
            except NotImplementedError:
                pass
            except AttributeError:
                attribute_errors.append(name)
    assert attribute_errors == []


def test_no_table_entry_hides_a_name_jaxmc_has():
    """A name jaxmc/__init__.py defines must leave NOT_IMPLEMENTED (its message would be stale)."""
    stale = [n for n in pymc_names.NOT_IMPLEMENTED if n in vars(jaxmc) and not inspect.ismodule(vars(jaxmc)[n])]
    assert stale == [], f"remove {stale} from NOT_IMPLEMENTED in jaxmc/pymc_names.py"


def test_every_module_entry_resolves_or_says_why():
    for pymc_name, spec in pymc_names.MODULES.items():
        if isinstance(spec, pymc_names.Missing):
            with pytest.raises(ImportError, match=f"module {pymc_name} is not implemented in jaxmc"):
                pymc_names.module(pymc_name)
        else:
            try:
                assert pymc_names.module(pymc_name) is pymc_names.module(pymc_name)
            except NotImplementedError as e:  # a module another part of jaxmc has not added yet
                assert "is not in this jaxmc" in str(e)


def test_install_refuses_when_pymc_itself_is_imported():
    pytest.importorskip("pymc")
    assert not compat.installed()
    with pytest.raises(RuntimeError, match="PyMC itself is already imported"):
        compat.install()
    assert not compat.installed()


def test_install_and_uninstall_in_a_fresh_process():
    code = textwrap.dedent("""
        import sys, jaxmc, jaxmc.compat as c
        print("jaxmc.compile" not in sys.modules, jaxmc.compile.__name__)  # a PyMC name that is a jaxmc module
        c.install(); c.install()
        import pymc.math, pymc.distributions.dist_math
        print(sys.modules["pymc.math"] is sys.modules["jaxmc.math"], sys.meta_path.count(c._FINDER))
        c.uninstall()
        print(any(n == "pymc" or n.startswith("pymc.") for n in sys.modules), c.installed())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"}).stdout
    assert out.split() == ["True", "jaxmc.compile", "True", "1", "False", "False"]
