"""Coordinate values and dim names as a model stores them: labels kept with their dtype (datetime64, strings,
ints), the dims ArviZ reserves refused, a dim given twice refused."""

from __future__ import annotations

import numpy as np

#: dim and variable names that ArviZ gives the sample axes (and its stacked sample dim)
RESERVED = ("chain", "draw", "__sample__")


def coord_values(dim: str, values) -> tuple:
    """Labels of dim `dim` as a tuple that keeps their dtype (numpy scalars from arrays and pandas objects, as
    PyMC's `tuple(values)`), so `np.asarray` of it gives back datetime64 labels, not integers or dates."""
    if isinstance(values, tuple):
        return values
    if hasattr(values, "to_numpy"):  # pandas Index, Series, Categorical, DatetimeIndex
        values = values.to_numpy()
    elif hasattr(values, "categories") and hasattr(values, "codes"):
        values = np.asarray(values)
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise TypeError(f"Coordinate values of dim {dim!r} must be a sequence of labels (list, array, pandas "
                        f"Index), found {type(values).__name__} {values!r}")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"Coordinate values of dim {dim!r} must be one-dimensional, found an array of shape "
                             f"{values.shape}")
        return tuple(values)
    values = tuple(values)
    if any(isinstance(v, (list, np.ndarray)) for v in values):
        raise ValueError(f"Coordinate values of dim {dim!r} must be one-dimensional labels, found nested sequences")
    return values


def check_dim_name(dim, what: str) -> None:
    """A dim name must be a string and not one of the sample dims ArviZ reserves."""
    if not isinstance(dim, str):
        raise TypeError(f"{what}: dim names must be strings, found {type(dim).__name__} {dim!r}")
    if dim in RESERVED:
        raise ValueError(f"{what}: {dim!r} is reserved for ArviZ's sample dims {RESERVED}; rename the dim "
                         f"(e.g. {dim + 's'!r})")


def check_dims(name: str, dims) -> None:
    """The dims of variable `name`: reserved names and a dim used twice are refused."""
    if dims is None:
        return
    for d in dims:
        if d is not None:
            check_dim_name(d, f"Variable {name!r}")
    named = [d for d in dims if d is not None]
    twice = sorted({d for d in named if named.count(d) > 1})
    if twice:
        raise ValueError(f"Variable {name!r}: dims {tuple(dims)} use {twice} more than once; each axis needs its "
                         "own dim (e.g. ('A', 'A_bis') with the same coords for a square matrix)")
