"""The model's log density and values as graph nodes over its value variables (PyMC's symbolic `model.logp()`,
`dlogp`, `d2logp`, `replace_rvs_by_values`, `unobserved_value_vars`); evaluate them with `.eval({name: value})`
or `model.compile_fn`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config
from jaxmc.graph import TensorVariable, apply, evaluate, is_node
from jaxmc.graph.clone import clone_replace
from jaxmc.model.values import as_expression, constrained_value


def resolve_terms(model, vars) -> list[str]:
    """Names of the log-density terms `vars` asks for (random variables, their value variables or names,
    potentials), in the order given; all of the model's (free, observed, potentials) when None."""
    if vars is None:
        return [v.name for v in model.free_RVs + model.observed_RVs + model.potentials]
    vars = vars if isinstance(vars, (list, tuple)) else [vars]
    known = {v.name for v in model.basic_RVs + model.potentials}
    out = []
    for v in vars:
        rv = getattr(v, "rv", v) if getattr(v, "kind", None) == "value" else v
        name = rv if isinstance(rv, str) else getattr(rv, "name", None)
        if isinstance(rv, str) and name not in known:
            name = model.name_for(name)
        if name not in known:
            raise ValueError(f"Requested variable {v!r} not found among the model's random variables and "
                             f"potentials: {sorted(known)}")
        out.append(name)
    return out


def _term(lp, jac):
    """A variable's elementwise log density plus its Jacobian term (reduced to the density's shape)."""
    if jac is None:
        return lp
    while jnp.ndim(jac) > jnp.ndim(lp):
        jac = jnp.sum(jac, axis=-1)
    if jnp.shape(jac) == jnp.shape(lp) or jnp.ndim(jac) == 0:
        return lp + jac
    return lp + jnp.sum(jac) / max(int(np.prod(jnp.shape(lp))), 1)


def logp_terms_fn(model, names, jacobian):
    """f(value arrays in value_vars order, data arrays in data-node order) -> [elementwise term per name]."""
    root = model.root
    cm = root.compiled(jacobian)
    data_nodes = list(root.data.nodes)
    n_values = len(cm.slots)
    wanted = set(names)

    def f(*args):
        vals, data = args[:n_values], args[n_values:]
        parts = [jnp.reshape(v, -1).astype(config.floatX()) for v in vals]
        x = jnp.concatenate(parts) if parts else jnp.zeros(0, config.floatX())
        env, walked = cm.walk(x, {n.name: a for n, a in zip(data_nodes, data)})
        terms = {}
        for rv, value, params, jac in walked:
            if rv.name not in wanted:
                continue
            lp = rv.owner.checked_logp(value, *params)
            total_size = root.rvs_to_total_sizes.get(rv)
            if total_size is not None and rv.observed is not None:
                total = np.prod(total_size if isinstance(total_size, (tuple, list)) else [total_size])
                lp = lp * (total / max(np.prod(jnp.shape(value)), 1))
            terms[rv.name] = _term(lp, jac if jacobian else None)
        pots = [p for p in root.potentials if p.name in wanted]
        for pot, val in zip(pots, evaluate(pots, env)):
            terms[pot.name] = jnp.asarray(val)
        return [terms[n] for n in names]

    return f, data_nodes


def model_logp(model, vars=None, jacobian: bool = True, sum: bool = True):
    """`model.logp()`: one scalar node (sum=True) or a list of elementwise nodes, over the value variables."""
    names = resolve_terms(model, vars)
    f, data_nodes = logp_terms_fn(model, names, jacobian)
    inputs = list(model.root.value_vars) + data_nodes
    if not sum:
        terms = as_expression(list(apply(lambda *a: tuple(f(*a)), *inputs))) if names else []
        values = {v.rv.name: v.name for v in model.root.value_vars}
        potentials = {p.name for p in model.root.potentials}
        for t, n in zip(terms, names):  # PyMC's names: `<value var>_logprob`, a potential's own name
            t.name = n if n in potentials else f"{values.get(n, n)}_logprob"
        return terms
    node = apply(lambda *a: sum_terms(f(*a)), *inputs)
    node = node if is_node(node) else TensorVariable(lambda: node, [], jax.ShapeDtypeStruct((), node.dtype))
    node.name = ("__logp" if jacobian else "__logp_nojac") + (f"_{model.name}" if model.name else "")
    return as_expression(node)


def sum_terms(terms):
    total = jnp.zeros((), config.floatX())
    for t in terms:
        total = total + jnp.sum(t)
    return total


def _value_vars_for(model, vars):
    if vars is None:
        return model.continuous_value_vars
    vars = vars if isinstance(vars, (list, tuple)) else [vars]
    by_rv = model.rvs_to_values
    out = []
    for v in vars:
        v = model[v] if isinstance(v, str) else v
        vv = v if getattr(v, "kind", None) == "value" else by_rv.get(v)
        if vv is None:
            raise ValueError(f"Requested variable {v!r} not found among the model's free variables "
                             f"{[r.name for r in model.free_RVs]}")
        out.append(vv)
    return out


def model_dlogp(model, vars=None, jacobian: bool = True, order: int = 1, negate: bool = True):
    """Gradient (order 1, flat over `vars`' value variables) or Hessian (order 2, negated by default, as
    PyMC's d2logp) of the model log density, as a node over the value variables."""
    wrt = _value_vars_for(model, vars)
    names = resolve_terms(model, None)
    f, data_nodes = logp_terms_fn(model, names, jacobian)
    value_vars = list(model.root.value_vars)
    pos = [next(i for i, v in enumerate(value_vars) if v is w) for w in wrt]
    sizes = [w.size for w in wrt]

    def flat_logp(flat, vals, data):
        vals = list(vals)
        start = 0
        for i, n in zip(pos, sizes):
            vals[i] = jnp.reshape(flat[start:start + n], value_vars[i].shape)
            start += n
        return sum_terms(f(*vals, *data))

    def op(*args):
        vals, data = args[:len(value_vars)], args[len(value_vars):]
        parts = [jnp.reshape(vals[i], -1).astype(config.floatX()) for i in pos]
        flat = jnp.concatenate(parts) if parts else jnp.zeros(0, config.floatX())
        if order == 1:
            return jax.grad(flat_logp)(flat, vals, data)
        hess = jax.hessian(flat_logp)(flat, vals, data)
        return -hess if negate else hess

    return as_expression(apply(op, *value_vars, *data_nodes))


def rvs_to_value_expressions(model) -> dict:
    """{random variable: its value as an expression of value variables (free) or its data (observed)}."""
    memo: dict = {}
    for rv in model.root.basic_RVs:
        if rv.observed is not None:
            memo[rv] = rv.observed
            continue
        vv = model.root.rvs_to_values[rv]
        params = clone_replace([p for p in rv.owner.params], memo=memo)
        memo[rv] = constrained_value(vv, params)
    return memo


def replace_rvs_by_values(model, graphs) -> list:
    """Copies of `graphs` in which the model's random variables are replaced by their values (PyMC)."""
    single = is_node(graphs)
    graphs = [graphs] if single else list(graphs)
    out = as_expression(clone_replace(graphs, memo=rvs_to_value_expressions(model)))
    return out[0] if single else out


def unobserved_value_vars(model) -> list:
    """Value variables, then the transformed variables in their own space and the deterministics, as
    expressions of the value variables (PyMC's `model.unobserved_value_vars`)."""
    memo = rvs_to_value_expressions(model)
    out = list(model.value_vars)
    for rv in model.free_RVs:
        if model.rvs_to_transforms.get(rv) is not None:
            node = memo[rv]
            node.name = rv.name
            out.append(as_expression(node))
    for det in model.deterministics:
        (node,) = clone_replace([det], memo=memo)
        if node is det:  # a deterministic of constants or data only
            node = apply(lambda x: x, det)
        node.name = det.name
        out.append(as_expression(node))
    return out
