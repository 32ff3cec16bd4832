"""`pm.math`: jax.numpy functions lifted to model variables, with PyMC's (PyTensor's) names."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from jaxmc import cpu_ops, kronecker
from jaxmc.graph import TensorVariable, apply
from jaxmc.graph import rewrites
from jaxmc.distributions.dist_math import betaln


def lift(fn, name=None):
    """Make a JAX function of arrays accept model variables (building a graph node) as well as arrays."""

    def lifted(*args, **kwargs):
        return apply(fn, *args, **kwargs)

    lifted.__name__ = name or getattr(fn, "__name__", "lifted")
    lifted.__doc__ = f"Lifted `{getattr(fn, '__module__', '')}.{getattr(fn, '__name__', fn)}` (accepts model variables)."
    return lifted


def _expand_packed_triangular(n, packed, lower=True, diagonal_only=False):
    idx = jnp.tril_indices(n) if lower else jnp.triu_indices(n)
    if diagonal_only:
        return packed[..., jnp.cumsum(jnp.arange(1, n + 1)) - 1]
    out = jnp.zeros((*packed.shape[:-1], n, n), packed.dtype)
    return out.at[..., idx[0], idx[1]].set(packed)


def _block_diagonal(matrices, sparse=False, format="csr"):
    return jax.scipy.linalg.block_diag(*matrices)


def _kronecker(*ms):
    out = ms[0]
    for m in ms[1:]:
        out = jnp.kron(out, m)
    return out


def _switch(cond, a, b):
    return jnp.where(cond, a, b)


def _logdet(x):
    return jnp.linalg.slogdet(x)[1]


def _as_tensor(x, *args, **kwargs):
    return x


_TABLE = {
    # arithmetic and elementwise
    "abs": jnp.abs, "exp": jnp.exp, "log": jnp.log, "log1p": jnp.log1p, "expm1": jnp.expm1,
    "log2": jnp.log2, "log10": jnp.log10, "sqrt": jnp.sqrt, "sqr": jnp.square, "square": jnp.square,
    "pow": jnp.power, "power": jnp.power, "exp2": jnp.exp2,
    "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "arcsin": jnp.arcsin, "arccos": jnp.arccos,
    "arctan": jnp.arctan, "arctan2": jnp.arctan2, "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh,
    "arcsinh": jnp.arcsinh, "arccosh": jnp.arccosh, "arctanh": jnp.arctanh,
    "floor": jnp.floor, "ceil": jnp.ceil, "round": jnp.round, "trunc": jnp.trunc, "sgn": jnp.sign,
    "sign": jnp.sign, "maximum": jnp.maximum, "minimum": jnp.minimum, "clip": jnp.clip,
    "switch": _switch, "where": jnp.where, "isnan": jnp.isnan, "isinf": jnp.isinf,
    "eq": jnp.equal, "neq": jnp.not_equal, "lt": jnp.less, "gt": jnp.greater, "le": jnp.less_equal,
    "ge": jnp.greater_equal, "and_": jnp.logical_and, "or_": jnp.logical_or, "xor": jnp.logical_xor,
    "invert": jnp.logical_not, "mod": jnp.mod, "real": jnp.real, "imag": jnp.imag,
    # special functions
    "invlogit": jax.nn.sigmoid, "sigmoid": jax.nn.sigmoid, "expit": jax.nn.sigmoid,
    "logit": jsp.logit, "log1pexp": jax.nn.softplus, "softplus": jax.nn.softplus,
    "log1mexp": rewrites.log1mexp, "logsumexp": jsp.logsumexp, "logaddexp": jnp.logaddexp,
    "erf": jsp.erf, "erfc": jsp.erfc,
    "erfinv": jsp.erfinv, "erfcinv": lambda x: jsp.erfinv(1 - x), "gammaln": jsp.gammaln,
    "gamma": jsp.gamma, "digamma": jsp.digamma, "betaln": betaln,
    "gammainc": jsp.gammainc, "gammaincc": jsp.gammaincc, "xlogy": jsp.xlogy, "xlog1py": jsp.xlog1py,
    "probit": jsp.ndtri, "invprobit": jsp.ndtr, "logbeta": betaln, "logdiffexp": rewrites.logdiffexp,
    # reductions and shape
    "sum": jnp.sum, "prod": jnp.prod, "mean": jnp.mean, "max": jnp.max, "min": jnp.min, "std": jnp.std,
    "var": jnp.var, "all": jnp.all, "any": jnp.any, "argmax": jnp.argmax, "argmin": jnp.argmin,
    "cumsum": jnp.cumsum, "cumprod": jnp.cumprod, "diff": jnp.diff, "stack": jnp.stack,
    "concatenate": jnp.concatenate, "flatten": jnp.ravel, "reshape": jnp.reshape, "transpose": jnp.transpose,
    "expand_dims": jnp.expand_dims, "squeeze": jnp.squeeze, "broadcast_to": jnp.broadcast_to,
    "repeat": jnp.repeat, "tile": jnp.tile, "sort": jnp.sort, "argsort": jnp.argsort, "outer": jnp.outer,
    "zeros_like": jnp.zeros_like, "ones_like": jnp.ones_like, "full_like": jnp.full_like,
    "take": jnp.take, "tril": jnp.tril, "triu": jnp.triu, "diag": jnp.diag, "trace": jnp.trace,
    "full": jnp.full, "ones": jnp.ones, "zeros": jnp.zeros, "constant": jnp.asarray,
    "expand_packed_triangular": _expand_packed_triangular, "block_diagonal": _block_diagonal,
    "kronecker": _kronecker,
    "as_tensor": _as_tensor, "as_tensor_variable": _as_tensor,
    # linear algebra
    "dot": cpu_ops.dot, "matmul": cpu_ops.matmul, "tensordot": jnp.tensordot, "einsum": jnp.einsum,
    "det": jnp.linalg.det, "logdet": _logdet, "matrix_inverse": jnp.linalg.inv, "inv": jnp.linalg.inv,
    "cholesky": jnp.linalg.cholesky, "solve": jnp.linalg.solve, "kron": jnp.kron,
    "matrix_dot": lambda *ms: jnp.linalg.multi_dot(ms),
    # Kronecker structure (PyMC's pm.math.cartesian, kron_dot, kron_solve_lower / _upper, kron_diag)
    "cartesian": kronecker.cartesian, "kron_dot": kronecker.kron_dot, "kron_solve_lower": kronecker.kron_solve_lower,
    "kron_solve_upper": kronecker.kron_solve_upper, "kron_diag": kronecker.kron_diag,
}

for _name, _fn in _TABLE.items():
    globals()[_name] = lift(_fn, _name)


def softmax(x, axis=None):
    """PyTensor's softmax: over all axes by default (axis=None), else over `axis`."""
    return apply(jax.nn.softmax, x, axis=axis)


def log_softmax(x, axis=None):
    """PyTensor's log_softmax: over all axes by default (axis=None), else over `axis`."""
    return apply(jax.nn.log_softmax, x, axis=axis)


def set_subtensor(x_indexed, y):
    """PyTensor's `set_subtensor(x[idx], y)`: a copy of x with x[idx] replaced by y."""
    return _update_subtensor(x_indexed, y, "set")


def inc_subtensor(x_indexed, y):
    """PyTensor's `inc_subtensor(x[idx], y)`: a copy of x with y added at x[idx]."""
    return _update_subtensor(x_indexed, y, "add")


def _update_subtensor(x_indexed, y, how):
    if not isinstance(x_indexed, TensorVariable) or not getattr(x_indexed, "is_getitem", False):
        raise TypeError("set_subtensor/inc_subtensor take an indexed variable, e.g. set_subtensor(x[2:], y)")
    # recover base and index from the indexing node built by TensorVariable.__getitem__
    base = x_indexed.inputs[0]
    idx_nodes = list(x_indexed.inputs[1:])
    op = x_indexed.op

    def upd(b, *rest):
        vals, yv = rest[:-1], rest[-1]
        # re-run the indexing op with an index-capturing array
        holder = {}

        class _Capture:
            def __getitem__(self, idx):
                holder["idx"] = idx
                return jnp.zeros(())

        op(_Capture(), *vals)
        ref = b.at[holder["idx"]]
        return ref.set(yv) if how == "set" else ref.add(yv)

    return apply(upd, base, *idx_nodes, y)


__all__ = sorted([*_TABLE, "softmax", "log_softmax"]) + ["lift", "set_subtensor", "inc_subtensor"]
