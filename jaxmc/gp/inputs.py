"""Inputs of the approximate GPs (sparse, Kronecker, HSGP): 2-D input checks and values at build time."""

from __future__ import annotations

import numpy as np

from jaxmc.graph import as_node_or_array, is_node


def input_matrix(X, arg: str, where: str):
    """X as a node or array of 2 dimensions (rows: points, columns: input dimensions), else a ValueError naming
    `arg` of `where`."""
    X = as_node_or_array(X)
    shape = tuple(X.shape)
    if len(shape) != 2:
        hint = " (a column vector: X[:, None])" if len(shape) == 1 else ""
        raise ValueError(f"{where}: `{arg}` must be a 2-D array of shape (n_points, n_inputs), got shape "
                         f"{shape}. Pass a 2-D array{hint}.")
    return X


def input_value(X) -> np.ndarray:
    """The value of X now (a node is evaluated with the current data): for quantities fixed at build time."""
    return np.asarray(X.eval()) if is_node(X) else np.asarray(X)
