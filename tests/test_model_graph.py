"""Model graphs (`pm.model_to_graphviz`, `model_to_networkx`, `model_to_mermaid`) against PyMC's own on the same
models: nodes, shapes and styles, labels, edges and plates; rendering with and without `dot`."""

import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

import jaxmc
from jaxmc.datasets import phones_arrays
from jaxmc.demo import build_model

graphviz = pytest.importorskip("graphviz")


# ---------------------------------------------------------------------------------------------- models (any pm)
def flagship(pm):
    return build_model(phones_arrays(), pm=pm)


def eight_schools(pm):
    y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    sigma = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    with pm.Model(coords={"school": list("ABCDEFGH")}) as model:
        mu = pm.Normal("mu", mu=0, sigma=5)
        tau = pm.HalfCauchy("tau", beta=5)
        theta_tilde = pm.Normal("theta_tilde", mu=0, sigma=1, dims="school")
        theta = pm.Deterministic("theta", mu + tau * theta_tilde, dims="school")
        pm.Normal("obs", mu=theta, sigma=sigma, observed=y, dims="school")
    return model


def data_model(pm):
    """Data, Deterministic, Potential, an observed pm.Data, an observed expression of data, plates without
    dims and a plate of two dims."""
    rng = np.random.default_rng(0)
    with pm.Model(coords={"obs_id": range(20), "feature": ["a", "b"]}) as model:
        x = pm.Data("x", rng.normal(size=(20, 2)), dims=("obs_id", "feature"))
        y_data = pm.Data("y_data", rng.normal(size=20), dims="obs_id")
        offset = pm.Data("offset", np.ones(20))
        w = pm.Normal("w", 0, 1, dims="feature")
        s = pm.Exponential("s", 1)
        mu = pm.Deterministic("mu", pm.math.dot(x, w), dims="obs_id")
        pm.Potential("penalty", -pm.math.sum(w**2))
        z = pm.Normal("z", 0, 1, shape=3)
        pm.Normal("zz", mu=z, sigma=s, shape=(2, 3))
        pm.Deterministic("s2", 2 * s)
        pm.Normal("y", mu=mu, sigma=s, observed=y_data, dims="obs_id")
        pm.StudentT("y2", nu=4, mu=mu, sigma=s, observed=y_data + offset)
    return model


def colon_model(pm):
    """Names with "::", as nested models make them."""
    with pm.Model(coords={"lik::n": range(4)}) as model:
        mu = pm.Normal("lik::mu", 0, 1)
        sd = pm.HalfNormal("sd", 1)
        d = pm.Data("lik::x", np.arange(4.0), dims="lik::n")
        pm.Normal("lik::y", mu=mu + d, sigma=sd, observed=np.zeros(4), dims="lik::n")
    return model


def nested_imputed(pm):
    """A nested model (names `lik::a`) and observed data with missing values (imputed as in PyMC)."""
    with pm.Model(coords={"i": range(5)}) as model:
        mu = pm.Normal("mu")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm.Normal("y", mu, 1, observed=np.array([1.0, np.nan, 2.0, np.nan, 3.0]), dims="i")
        with pm.Model("lik"):
            a = pm.Normal("a", mu)
            pm.Normal("obs", a, 1, observed=np.zeros(3))
    return model


BUILDERS = {"flagship": flagship, "eight_schools": eight_schools, "data_model": data_model,
            "colon_model": colon_model, "nested_imputed": nested_imputed}


@pytest.fixture(scope="module")
def pymc():
    return pytest.importorskip("pymc")


_PYMC_CACHE: dict = {}


def both(name, pymc):
    """(jaxmc model, PyMC model) built by the same code."""
    if name not in _PYMC_CACHE:
        _PYMC_CACHE[name] = BUILDERS[name](pymc)
    return BUILDERS[name](jaxmc), _PYMC_CACHE[name]


# ---------------------------------------------------------------------------------------------- DOT structure
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<.*?>|[^\s\]]+)', re.S)
_ID = r'("(?:[^"\\]|\\.)*"|[^\s"\[\]]+)'


def _unquote(s):
    return s[1:-1].replace('\\"', '"') if s.startswith('"') else s


def structure(g):
    """What the picture shows, from a graphviz.Digraph: {node: (shape, style, label)}, {(parent, child)},
    {plate label: {nodes}}."""
    nodes, edges, plates = {}, set(), {}
    members = None
    for stmt in g.body:
        s = stmt.strip()
        if s.startswith("subgraph"):
            members = set()
            continue
        if s == "}":
            plates[label] = frozenset(members)
            members = None
            continue
        m = re.fullmatch(_ID + r" -> " + _ID, s)
        if m:
            edges.add((_unquote(m.group(1)), _unquote(m.group(2))))
            continue
        if s.startswith("label="):
            label = _unquote(dict(_ATTR.findall(s))["label"])
            continue
        m = re.match(_ID + r"\s*\[(.*)\]$", s, re.S)
        assert m, f"unexpected DOT statement {s!r}"
        node, attrs = _unquote(m.group(1)), {k: _unquote(v) for k, v in _ATTR.findall(m.group(2))}
        nodes[node] = (attrs.get("shape"), attrs.get("style"), attrs.get("label"))
        if members is not None:
            members.add(node)
    return nodes, edges, plates


def _same_picture(ours, theirs):
    n1, e1, p1 = structure(ours)
    n2, e2, p2 = structure(theirs)
    assert n1 == n2
    assert e1 == e2
    assert p1 == p2


# ---------------------------------------------------------------------------------------------- against PyMC
@pytest.mark.parametrize("name", list(BUILDERS))
def test_graphviz_matches_pymc(name, pymc):
    ours, theirs = both(name, pymc)
    _same_picture(jaxmc.model_to_graphviz(ours), pymc.model_to_graphviz(theirs))


@pytest.mark.parametrize("name, var_names", [("flagship", ["y_pred"]), ("flagship", ["m"]),
                                             ("flagship", ["y"]), ("eight_schools", ["theta"]),
                                             ("data_model", ["mu", "zz"]), ("data_model", ["y_data"]),
                                             ("colon_model", ["lik::y"])])
def test_var_names_match_pymc(name, var_names, pymc):
    ours, theirs = both(name, pymc)
    _same_picture(jaxmc.model_to_graphviz(ours, var_names=var_names),
                  pymc.model_to_graphviz(theirs, var_names=var_names))


@pytest.mark.parametrize("name", ["data_model", "flagship"])
def test_options_match_pymc(name, pymc):
    ours, theirs = both(name, pymc)
    kw = dict(include_dim_lengths=False, graph_attr={"rankdir": "LR"},
              node_formatters={"Free Random Variable": lambda v: {"shape": "circle", "label": v.name}})
    g1, g2 = jaxmc.model_to_graphviz(ours, **kw), pymc.model_to_graphviz(theirs, **kw)
    _same_picture(g1, g2)
    assert g1.graph_attr == g2.graph_attr == {"rankdir": "LR"}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_networkx_matches_pymc(name, pymc):
    pytest.importorskip("networkx")
    ours, theirs = both(name, pymc)
    g1, g2 = jaxmc.model_to_networkx(ours), pymc.model_to_networkx(theirs)
    assert dict(g1.nodes(data=True)) == dict(g2.nodes(data=True))
    assert set(g1.edges) == set(g2.edges)
    assert g1.graph["name"] == g2.graph["name"]


def _mermaid_parts(text):
    nodes_edges, _, plates = text.partition("%% Plates:")
    lines = [ln for ln in nodes_edges.splitlines() if ln.strip()]
    blocks = re.findall(r'subgraph "(.*?)"\n(.*?)\nend', plates, re.S)
    return lines, {(label, frozenset(body.split())) for label, body in blocks}


@pytest.mark.parametrize("name", ["flagship", "eight_schools", "data_model"])
def test_mermaid_matches_pymc(name, pymc):
    ours, theirs = both(name, pymc)
    assert _mermaid_parts(jaxmc.model_to_mermaid(ours)) == _mermaid_parts(pymc.model_to_mermaid(theirs))


def test_labels_match_pymc_for_many_families(pymc):
    """The distribution's name under each random variable is PyMC's (op names: `Halfnormal`, `T`, ...)."""

    def build(pm):
        with pm.Model() as model:
            pm.HalfNormal("a", 1)
            pm.StudentT("b", nu=3)
            pm.InverseGamma("c", 2, 1)
            pm.MvNormal("d", mu=np.zeros(2), cov=np.eye(2))
            pm.NegativeBinomial("e", mu=2, alpha=1)
            pm.LogNormal("f")
            pm.ZeroInflatedPoisson("g", psi=0.5, mu=1)
            pm.Censored("h", pm.Normal.dist(), lower=0, upper=1)
            pm.OrderedLogistic("i", eta=0.0, cutpoints=np.array([-1.0, 1.0]))
            pm.TruncatedNormal("j", lower=0)
            pm.ChiSquared("k", nu=3)
            pm.Poisson("l", 2, observed=np.array([1, 2]))
        return model

    n1, _, _ = structure(jaxmc.model_to_graphviz(build(jaxmc)))
    n2, _, _ = structure(pymc.model_to_graphviz(build(pymc)))
    assert n1 == n2


# ---------------------------------------------------------------------------------------------- on its own
def test_flagship_picture():
    model = flagship(jaxmc)
    nodes, edges, plates = structure(model.to_graphviz())
    assert nodes["m"] == ("ellipse", None, "m\n~\nNormal")
    assert nodes["sigma"] == ("ellipse", None, "sigma\n~\nHalfnormal")
    assert nodes["y_pred"] == ("ellipse", "filled", "y_pred\n~\nNormal")
    assert nodes["X"] == ("box", "rounded, filled", "X\n~\nData")
    n = len(phones_arrays().y)
    assert edges == {("X", "y_pred"), ("m", "y_pred"), ("b", "y_pred"), ("sigma", "y_pred"),
                     ("y_err", "y_pred"), ("y_pred", "y")}
    k = len(phones_arrays().features)
    assert plates == {f"N ({n}) x M ({k})": {"X"}, f"N ({n})": {"y", "y_err", "y_pred"}, f"M ({k})": {"m"}}
    assert model.to_graphviz().source == jaxmc.model_to_graphviz(model).source
    with model:
        assert jaxmc.model_to_graphviz().source == jaxmc.model_to_graphviz(model).source


def test_deterministic_potential_and_expression_edges():
    nodes, edges, plates = structure(jaxmc.model_to_graphviz(data_model(jaxmc)))
    assert nodes["mu"][:2] == ("box", None) and nodes["mu"][2].endswith("Deterministic")
    assert nodes["penalty"] == ("octagon", "filled", "penalty\n~\nPotential")
    # the observed expression y_data + offset: the observed variable points to both data
    assert {("y2", "y_data"), ("y2", "offset"), ("y", "y_data")} <= edges
    assert not any(child in ("y", "y2") and parent in ("y_data", "offset") for parent, child in edges)
    assert plates["2 x 3"] == {"zz"} and plates["3"] == {"z"} and plates["20"] == {"offset", "y2"}


def test_colon_names_are_quoted():
    g = jaxmc.model_to_graphviz(colon_model(jaxmc))
    nodes, edges, plates = structure(g)
    assert nodes["lik&&y"][2] == "lik::y\n~\nNormal"
    assert edges == {("lik&&mu", "lik&&y"), ("lik&&x", "lik&&y"), ("sd", "lik&&y")}
    assert plates["lik::n (4)"] == {"lik&&x", "lik&&y"}
    assert '"lik&&mu" -> "lik&&y"' in g.source
    text = jaxmc.model_to_mermaid(colon_model(jaxmc))
    assert 'lik__y(["lik::y ~ Normal"])' in text and "lik__mu --> lik__y" in text and "lik__x --> lik__y" in text
    assert "    lik__x" in text


def test_networkx_attributes():
    pytest.importorskip("networkx")
    g = jaxmc.model_to_networkx(eight_schools(jaxmc))
    assert g.nodes["tau"] == {"shape": "ellipse", "style": None, "label": "tau\n~\nHalfcauchy"}
    assert g.nodes["theta"] == {"shape": "box", "style": "rounded", "label": "theta\n~\nDeterministic",
                                "cluster": "clusterschool (8)", "labeljust": "r", "labelloc": "b"}
    assert set(g.edges) == {("mu", "theta"), ("tau", "theta"), ("theta_tilde", "theta"), ("theta", "obs")}


def test_mermaid_text():
    text = jaxmc.model_to_mermaid(eight_schools(jaxmc))
    assert text.startswith("graph TD")
    for line in ["obs([obs ~ Normal])", "style obs fill:#757575", "theta([theta ~ Deterministic])",
                 "mu --> theta", "theta --> obs", 'subgraph "school (8)"']:
        assert line in text


def test_bad_arguments():
    model = eight_schools(jaxmc)
    with pytest.raises(ValueError, match="nope is not in this model"):
        jaxmc.model_to_graphviz(model, var_names=["nope"])
    with pytest.raises(ValueError, match="Unsupported formatting"):
        jaxmc.model_to_graphviz(model, formatting="latex")
    with pytest.warns(UserWarning, match="not supported"):
        jaxmc.model_to_graphviz(model, formatting="plain_with_params")
    with pytest.raises(ValueError, match="Node formatters must be of type NodeType"):
        jaxmc.model_to_graphviz(model, node_formatters={"Random": lambda v: {}})
    with pytest.raises(TypeError, match="No model on context stack"):
        jaxmc.model_to_graphviz()


# ---------------------------------------------------------------------------------------------- rendering
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz program dot is not installed")


@needs_dot
def test_render_svg_and_png(tmp_path):
    model = flagship(jaxmc)
    jaxmc.model_to_graphviz(model, save=str(tmp_path / "flagship.svg"))
    svg = (tmp_path / "flagship.svg").read_text()
    assert "<svg" in svg and "y_pred" in svg and "Halfnormal" in svg and "N (" in svg
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    model.to_graphviz(save=str(small), dpi=50)
    model.to_graphviz(save=str(big), dpi=100)
    for f in (small, big):
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = lambda f: int.from_bytes(f.read_bytes()[16:20], "big")  # noqa: E731
    assert 1.6 < width(big) / width(small) < 2.4
    jaxmc.model_to_graphviz(model, save=str(tmp_path / "noext"), figsize=(3, 2), dpi=100)
    noext = tmp_path / "noext.png"
    assert noext.read_bytes()[:4] == b"\x89PNG" and width(noext) <= 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png", "flagship.svg", "noext.png", "small.png"]
    # names with "::" reach dot intact: every edge drawn, labels as written
    colon = jaxmc.model_to_graphviz(colon_model(jaxmc), save=str(tmp_path / "colon.svg"))
    svg = (tmp_path / "colon.svg").read_text()
    assert "lik::y" in svg and svg.count('class="edge"') == len(structure(colon)[1]) == 3


def test_missing_dot_says_how_to_get_it(tmp_path, monkeypatch):
    model = eight_schools(jaxmc)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    g = jaxmc.model_to_graphviz(model)  # the DOT source needs no dot
    assert "theta" in g.source
    with pytest.raises(graphviz.ExecutableNotFound, match="apt-get install graphviz") as err:
        jaxmc.model_to_graphviz(model, save=str(tmp_path / "g.png"))
    assert "conda install" in str(err.value) and "brew install graphviz" in str(err.value)
    assert not list(tmp_path.glob("g*"))


def test_missing_python_packages(monkeypatch):
    model = eight_schools(jaxmc)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    monkeypatch.setitem(sys.modules, "networkx", None)
    with pytest.raises(ImportError, match="pip install graphviz"):
        jaxmc.model_to_graphviz(model)
    with pytest.raises(ImportError, match="pip install networkx"):
        jaxmc.model_to_networkx(model)
    assert "theta --> obs" in jaxmc.model_to_mermaid(model)


def test_import_jaxmc_leaves_graphviz_and_networkx_alone():
    code = "import sys, jaxmc; print(sorted(m for m in ('graphviz', 'networkx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
