"""Pictures of a model's graph as PyMC draws them: `model_to_graphviz`, `model_to_networkx` and `model_to_mermaid`
(node shapes by kind of variable, plates from dims, edges between named variables)."""

from __future__ import annotations

import os
import re
import shutil
import warnings
from enum import Enum
from typing import Any, Callable, Iterable, NamedTuple

from jaxmc.graph.traversal import is_node
from jaxmc.model.context import modelcontext

__all__ = ["DimInfo", "ModelGraph", "NodeInfo", "NodeType", "Plate", "model_to_graphviz", "model_to_mermaid",
           "model_to_networkx"]

#: how to get the `dot` program that turns a graph into an image
DOT_HINT = ("Install the Graphviz programs: `apt-get install graphviz` (Debian/Ubuntu), "
            "`conda install -c conda-forge python-graphviz` or `brew install graphviz` (macOS).")


class NodeType(str, Enum):
    """Kinds of named variables, each drawn its own way (PyMC's names: keys of `node_formatters`)."""

    POTENTIAL = "Potential"
    FREE_RV = "Free Random Variable"
    OBSERVED_RV = "Observed Random Variable"
    DETERMINISTIC = "Deterministic"
    DATA = "Data"


class DimInfo(NamedTuple):
    """The dims of a plate: names (None for an axis without a dim) and lengths."""

    names: tuple
    lengths: tuple

    def __bool__(self) -> bool:
        return len(self.lengths) > 0 or len(self.names) > 0


class NodeInfo(NamedTuple):
    """A named variable of the picture and its kind."""

    var: Any
    node_type: NodeType


class Plate(NamedTuple):
    """Variables that share the same dims (an empty `dim_info`: the scalars, drawn outside any plate)."""

    dim_info: DimInfo
    variables: list


def plate_label(dim_info: DimInfo, include_dim_lengths: bool = True) -> str:
    """PyMC's plate label: `N (100) x M (3)`; an axis without a dim shows its length."""
    parts = []
    for name, length in zip(dim_info.names, dim_info.lengths):
        if not name:
            parts.append(f"{length}")
        else:
            parts.append(f"{name} ({length})" if include_dim_lengths else f"{name}")
    return " x ".join(parts)


# PyMC labels a random variable with its PyTensor op's name ("halfnormal" -> "Halfnormal"); the jaxmc families
# whose class name differs from that label
PYMC_SYMBOLS = {
    "AR": "AutoRegressive", "AsymmetricLaplace": "Asymmetriclaplace", "BetaBinomial": "Beta_binomial",
    "CAR": "Car", "DiracDelta": "Diracdelta", "DirichletMultinomial": "Dirichlet_multinomial",
    "DiscreteUniform": "Discrete_uniform", "DiscreteWeibull": "Discrete_weibull", "ExGaussian": "Exgaussian",
    "GaussianRandomWalk": "RandomWalk", "MvGaussianRandomWalk": "RandomWalk", "HalfCauchy": "Halfcauchy",
    "HalfFlat": "Half_flat", "HalfNormal": "Halfnormal", "HalfStudentT": "Halfstudentt",
    "HyperGeometric": "Hypergeometric", "ICAR": "Icar", "InverseGamma": "Invgamma",
    "LKJCholeskyCov": "_LKJCholeskyCov", "LKJCorr": "Lkjcorr", "LogNormal": "Lognormal",
    "MatrixNormal": "Matrixnormal", "MvNormal": "Multivariate_normal", "MvStudentT": "Multivariate_studentt",
    "NegativeBinomial": "Negative_binomial", "OrderedLogistic": "Categorical", "OrderedProbit": "Categorical",
    "ChiSquared": "Gamma", "PolyaGamma": "Polyagamma", "SkewNormal": "Skewnormal",
    "SkewStudentT": "Skewstudentt", "StickBreakingWeights": "Stick_breaking_weights", "StudentT": "T",
    "TruncatedNormal": "Truncated_normal", "VonMises": "Vonmises",
}


def random_variable_symbol(var) -> str:
    """The distribution's name shown under a random variable (`Normal`, `Halfnormal`, ... as PyMC shows)."""
    name = type(var.owner).__name__
    name = name[:-2] if name.endswith("RV") and len(name) > 2 else name
    return PYMC_SYMBOLS.get(name, name)


def default_potential(var) -> dict:
    return {"shape": "octagon", "style": "filled", "label": f"{var.name}\n~\nPotential"}


def default_free_rv(var) -> dict:
    return {"shape": "ellipse", "style": None, "label": f"{var.name}\n~\n{random_variable_symbol(var)}"}


def default_observed_rv(var) -> dict:
    return {"shape": "ellipse", "style": "filled", "label": f"{var.name}\n~\n{random_variable_symbol(var)}"}


def default_deterministic(var) -> dict:
    return {"shape": "box", "style": None, "label": f"{var.name}\n~\nDeterministic"}


def default_data(var) -> dict:
    return {"shape": "box", "style": "rounded, filled", "label": f"{var.name}\n~\nData"}


DEFAULT_NODE_FORMATTERS: dict[NodeType, Callable[[Any], dict]] = {
    NodeType.POTENTIAL: default_potential,
    NodeType.FREE_RV: default_free_rv,
    NodeType.OBSERVED_RV: default_observed_rv,
    NodeType.DETERMINISTIC: default_deterministic,
    NodeType.DATA: default_data,
}


def update_node_formatters(node_formatters: dict | None) -> dict[NodeType, Callable[[Any], dict]]:
    """The default formatters updated with the given ones (keys: `NodeType`s or their names)."""
    out = dict(DEFAULT_NODE_FORMATTERS)
    for key, fn in (node_formatters or {}).items():
        try:
            out[NodeType(key)] = fn
        except ValueError:
            raise ValueError(f"Node formatters must be of type NodeType. Found: [{key!r}]. Please use one of "
                             f"{[t.value for t in NodeType]}.") from None
    return out


def get_node_type(var_name: str, model) -> NodeType:
    """The kind of the named variable `var_name` of `model`."""
    v = model[var_name]
    if v.kind == "rv":
        return NodeType.FREE_RV if v.observed is None else NodeType.OBSERVED_RV
    if v.kind == "data":
        return NodeType.DATA
    if any(v is p for p in model.potentials):
        return NodeType.POTENTIAL
    return NodeType.DETERMINISTIC


def _inputs(node) -> list:
    """The nodes a node is computed from (a random variable: its distribution's parameters)."""
    if node.kind == "rv":
        owner = getattr(node, "owner", None)
        return [p for p in getattr(owner, "params", ()) if is_node(p)]
    return [i for i in node.inputs if is_node(i)]


def _walk(starts, stop=None) -> list:
    """Nodes reachable from `starts` through inputs (each once); a node for which `stop` is true is listed
    but not walked through."""
    seen, out, stack = set(), [], list(starts)
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        out.append(node)
        if stop is None or not stop(node):
            stack.extend(_inputs(node))
    return out


class ModelGraph:
    """The variables of a model to draw, their parents, and their plates (PyMC's `ModelGraph`)."""

    def __init__(self, model):
        self.model = model
        self.names = {v.id: name for name, v in model.named_vars.items()}
        self._all_var_names = list(model.named_vars)

    def _named(self, nodes) -> list[str]:
        return [self.names[n.id] for n in nodes if n.id in self.names]

    def get_parent_names(self, var) -> set[str]:
        """Names of the named variables that `var` is computed from, through anonymous expressions."""
        named = self.names
        return set(self._named(_walk(_inputs(var), stop=lambda n: n.id in named)))

    def _observed_sources(self, rv) -> list[str]:
        """Names of the named variables (pm.Data) that an observed variable's values come from."""
        observed = getattr(rv, "observed", None)
        return self._named(_walk([observed])) if is_node(observed) else []

    def vars_to_plot(self, var_names: Iterable[str] | None = None) -> list[str]:
        """All names, or `var_names` with their ancestors (and the data that their observed variables
        observe), in the model's order."""
        if var_names is None:
            return list(self._all_var_names)
        if isinstance(var_names, str):
            var_names = [var_names]
        model = self.model
        selected = set()
        for name in var_names:
            if name not in model.named_vars:
                raise ValueError(f"{name} is not in this model. var_names must be names of the model's "
                                 f"variables: {sorted(model.named_vars)}")
            selected.add(name)
        for rv in model.observed_RVs:
            if any(rv.observed is model.named_vars[n] for n in selected):
                selected.add(rv.name)
        keep = set(self._named(_walk([model.named_vars[n] for n in selected])))
        for name in list(keep):
            v = model.named_vars[name]
            if v.kind == "rv" and v.observed is not None:
                keep.update(self._observed_sources(v))
        return [n for n in self._all_var_names if n in keep]

    def make_compute_graph(self, var_names: Iterable[str] | None = None) -> dict[str, set[str]]:
        """{name: names of its parents}; an observed variable points to the data it observes (the data do
        not point to it), as in PyMC."""
        model = self.model
        to_plot = self.vars_to_plot(var_names)
        input_map: dict[str, set[str]] = {name: self.get_parent_names(model[name]) for name in to_plot}
        for name in to_plot:
            v = model[name]
            if v.kind == "rv" and v.observed is not None:
                for source in self._observed_sources(v):
                    input_map[name].discard(source)
                    input_map.setdefault(source, set()).add(name)
        return input_map

    def get_plates(self, var_names: Iterable[str] | None = None) -> list[Plate]:
        """Variables grouped by their dims (names and lengths; axes without dims by length)."""
        model = self.model
        plates: dict[DimInfo, list[NodeInfo]] = {}
        for name in self.vars_to_plot(var_names):
            v = model[name]
            shape = tuple(int(s) for s in v.shape)
            dims = model.named_vars_to_dims.get(name)
            if dims is not None:
                lengths = tuple(model.dim_lengths.get(d, shape[i] if i < len(shape) else None) if d else
                                shape[i] for i, d in enumerate(dims))
                info = DimInfo(tuple(dims), lengths)
            else:
                info = DimInfo((None,) * len(shape), shape)
            plates.setdefault(info, []).append(NodeInfo(v, get_node_type(name, model)))
        return [Plate(info, variables) for info, variables in plates.items()]

    def edges(self, var_names: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(child, parent) pairs, with names as graphviz node names (":" becomes "&", as in PyMC)."""
        return [(graphviz_name(child), graphviz_name(parent))
                for child, parents in self.make_compute_graph(var_names).items() for parent in sorted(parents)]

    def nodes(self, plates: list[Plate] | None = None) -> list[NodeInfo]:
        plates = plates or self.get_plates()
        return [v for plate in plates for v in plate.variables]


def graphviz_name(name: str) -> str:
    """A variable's node name in DOT: graphviz reads `a:b` as node `a`, port `b`, so ":" becomes "&" (PyMC's
    choice: a nested model's `inner::x` is node `inner&&x`, labelled `inner::x`)."""
    return name.replace(":", "&")


def _check_formatting(formatting: str):
    if "plain" not in formatting:
        raise ValueError(f"Unsupported formatting for graph nodes: '{formatting}'. Use formatting='plain'.")
    if formatting != "plain":
        warnings.warn("Formattings other than 'plain' are currently not supported.", UserWarning, stacklevel=3)


def _import_graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError("model_to_graphviz needs the Python package graphviz: `pip install graphviz` (or "
                          "`conda install -c conda-forge python-graphviz`). Saving or showing the picture also "
                          f"needs the Graphviz program `dot`. {DOT_HINT}") from None
    return graphviz


def _import_networkx():
    try:
        import networkx
    except ImportError:
        raise ImportError("model_to_networkx needs the Python package networkx: `pip install networkx` (or "
                          "`conda install networkx`).") from None
    return networkx


def _node_items(plates, node_formatters, include_dim_lengths):
    """(plate label or None, node name, attributes) of every node, plate by plate."""
    for plate in plates:
        label = plate_label(plate.dim_info, include_dim_lengths) if plate.dim_info else None
        for info in plate.variables:
            attrs = dict(node_formatters[info.node_type](info.var))
            yield label, graphviz_name(info.var.name), attrs


def make_graph(name: str, plates: list[Plate], edges: list[tuple[str, str]], *, save=None, figsize=None,
               dpi=300, node_formatters=None, graph_attr=None, include_dim_lengths: bool = True):
    """A `graphviz.Digraph` of plates, nodes and (child, parent) edges; `save=`: also render it to a file."""
    graphviz = _import_graphviz()
    nohtml = getattr(graphviz, "nohtml", str)
    formatters = update_node_formatters(node_formatters)
    graph = graphviz.Digraph(name, graph_attr=graph_attr)
    by_plate: dict[str | None, list] = {}
    for label, node_name, attrs in _node_items(plates, formatters, include_dim_lengths):
        by_plate.setdefault(label, []).append((node_name, attrs))
    for label, nodes in by_plate.items():
        if label is None:
            for node_name, attrs in nodes:
                graph.node(nohtml(node_name), **attrs)
            continue
        # a subgraph named "cluster..." is drawn as a box; its label goes bottom right
        with graph.subgraph(name=f"cluster{label}") as sub:
            for node_name, attrs in nodes:
                sub.node(nohtml(node_name), **attrs)
            sub.attr(label=label, labeljust="r", labelloc="b", style="rounded")
    for child, parent in edges:
        graph.edge(nohtml(parent), nohtml(child))
    if save is not None:
        render(graph, save, figsize=figsize, dpi=dpi)
    return graph


def render(graph, save: str, *, figsize=None, dpi=300) -> str:
    """Render `graph` to the file `save` (format from its extension, png without one) with `dot`; returns the
    file's path."""
    graphviz = _import_graphviz()
    base, ext = os.path.splitext(os.fspath(save))
    fmt = ext.lstrip(".").lower() or "png"
    out = graph.copy()
    if figsize is not None:
        width, height = figsize
        out.graph_attr.update(size=f"{width},{height}!")
    out.graph_attr.update(dpi=str(dpi))
    if shutil.which("dot") is None:
        raise _dot_missing(graphviz, save)
    try:
        return out.render(filename=base, format=fmt, cleanup=True)
    except graphviz.ExecutableNotFound:
        raise _dot_missing(graphviz, save) from None


def _dot_missing(graphviz, save):
    """graphviz's own error type, with a message saying what is missing and how to get it."""
    err = graphviz.ExecutableNotFound(["dot"])
    err.args = (f"Cannot save the model graph to {os.fspath(save)!r}: the Graphviz program `dot` was not "
                f"found on PATH. {DOT_HINT} The graph's DOT source is available without it "
                "(`model_to_graphviz(model).source`).",)
    return err


def model_to_graphviz(model=None, *, var_names: Iterable[str] | None = None, formatting: str = "plain",
                      save: str | None = None, figsize: tuple[int, int] | None = None, dpi: int = 300,
                      node_formatters: dict | None = None, graph_attr: dict[str, Any] | None = None,
                      include_dim_lengths: bool = True):
    """A `graphviz.Digraph` of the model, drawn as PyMC draws it.

    Free random variables are ellipses, observed ones filled ellipses, Deterministics boxes, Potentials
    filled octagons and Data filled rounded boxes; variables with the same dims share a plate labelled
    `dim (length)`. In Jupyter the returned graph shows itself; `save="model.png"` (or .svg, .pdf) also
    writes an image, which needs the Graphviz program `dot`.

    Parameters
    ----------
    model : the model (default: the one of the enclosing `with pm.Model():`).
    var_names : draw only these variables and their ancestors.
    formatting : "plain" (the only one).
    save : file to render the picture to; its extension gives the format (png without one).
    figsize : (width, height) in inches of the saved picture.
    dpi : resolution of the saved picture (default 300).
    node_formatters : {NodeType or its name: function(var) -> graphviz node attributes}, replacing the
        default look of that kind of variable.
    graph_attr : graphviz attributes of the whole graph (e.g. {"rankdir": "LR"}).
    include_dim_lengths : show dim lengths in plate labels (default True).
    """
    _check_formatting(formatting)
    model = modelcontext(model)
    graph = ModelGraph(model)
    return make_graph(model.name, graph.get_plates(var_names), graph.edges(var_names), save=save,
                      figsize=figsize, dpi=dpi, node_formatters=node_formatters, graph_attr=graph_attr,
                      include_dim_lengths=include_dim_lengths)


def model_to_networkx(model=None, *, var_names: Iterable[str] | None = None, formatting: str = "plain",
                      node_formatters: dict | None = None, include_dim_lengths: bool = True):
    """A `networkx.DiGraph` of the model with PyMC's node attributes (shape, style, label; `cluster`,
    `labeljust`, `labelloc` for the nodes in a plate) and edges from parents to children."""
    _check_formatting(formatting)
    networkx = _import_networkx()
    model = modelcontext(model)
    mg = ModelGraph(model)
    formatters = update_node_formatters(node_formatters)
    graph = networkx.DiGraph(name=model.name)
    for label, node_name, attrs in _node_items(mg.get_plates(var_names), formatters, include_dim_lengths):
        if label is not None:
            # PyMC's attributes of the nodes in a plate (the plate's style replaces the node's)
            attrs.update(cluster=f"cluster{label}", labeljust="r", labelloc="b", style="rounded")
        graph.add_node(node_name, **attrs)
    for child, parent in mg.edges(var_names):
        graph.add_edge(parent, child)
    return graph


_MERMAID_PLAIN = re.compile(r"^[\w .~-]*$")


def _mermaid_id(name: str) -> str:
    return re.sub(r"[^\w-]", "_", name)


def _mermaid_text(text: str) -> str:
    """Node text, quoted when it holds characters that mermaid reads as syntax (`::`, brackets, ...)."""
    if _MERMAID_PLAIN.match(text):
        return text
    return '"' + text.replace('"', "#quot;") + '"'


def _mermaid_node(info: NodeInfo) -> list[str]:
    var, kind = info.var, info.node_type
    nid = _mermaid_id(var.name)
    if kind == NodeType.DATA:
        return [f"{nid}[{_mermaid_text(f'{var.name} ~ Data')}]", f"{nid}@{{ shape: db }}"]
    if kind in (NodeType.FREE_RV, NodeType.OBSERVED_RV):
        lines = [f"{nid}([{_mermaid_text(f'{var.name} ~ {random_variable_symbol(var)}')}])",
                 f"{nid}@{{ shape: rounded }}"]
        return lines + ([f"style {nid} fill:#757575"] if kind == NodeType.OBSERVED_RV else [])
    if kind == NodeType.DETERMINISTIC:
        return [f"{nid}([{_mermaid_text(f'{var.name} ~ Deterministic')}])", f"{nid}@{{ shape: rect }}"]
    return [f"{nid}([{_mermaid_text(f'{var.name} ~ Potential')}])", f"{nid}@{{ shape: diam }}",
            f"style {nid} fill:#f0f0f0"]


def model_to_mermaid(model=None, *, var_names: Iterable[str] | None = None, include_dim_lengths: bool = True) -> str:
    """A Mermaid flowchart of the model (PyMC's shapes: rounded random variables, grey when observed, database
    Data, rectangle Deterministics, diamond Potentials; plates as subgraphs)."""
    model = modelcontext(model)
    mg = ModelGraph(model)
    plates = sorted(mg.get_plates(var_names), key=lambda p: plate_label(p.dim_info, include_dim_lengths))
    nodes = sorted(mg.nodes(plates), key=lambda n: n.var.name)
    edges = sorted((child, parent) for child, parents in mg.make_compute_graph(var_names).items()
                   for parent in parents)
    lines = ["graph TD", "%% Nodes:"]
    for info in nodes:
        lines += _mermaid_node(info)
    lines.append("\n%% Edges:")
    lines += [f"{_mermaid_id(parent)} --> {_mermaid_id(child)}" for child, parent in edges]
    lines.append("\n%% Plates:")
    for plate in plates:
        if plate.dim_info:
            lines.append(f'subgraph "{plate_label(plate.dim_info, include_dim_lengths)}"')
            lines += [f"    {_mermaid_id(info.var.name)}" for info in plate.variables]
            lines.append("end")
    return "\n".join(lines)
