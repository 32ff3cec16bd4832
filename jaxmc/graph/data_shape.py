"""The shape of a data container that remembers where it came from: `X.shape` of a pm.Data is a tuple of ints
each knowing (X, axis), so that a variable given `shape=X.shape` follows X's length on set_data, as in PyMC."""

from __future__ import annotations


class DataLength(int):
    """An int, the length of axis `source[1]` of data node `source[0]` when it was read."""

    source: tuple

    def __new__(cls, n: int, node, axis: int):
        out = super().__new__(cls, n)
        out.source = (node, axis)
        return out

    def __reduce__(self):  # pickles (and deep-copies) as a plain int
        return (int, (int(self),))


class DataShape(tuple):
    """A data node's shape: a tuple of `DataLength`s."""

    def __new__(cls, node, shape):
        return super().__new__(cls, (DataLength(int(n), node, i) for i, n in enumerate(shape)))

    def __reduce__(self):
        return (tuple, (tuple(int(n) for n in self),))


def shape_sources(shape) -> tuple:
    """((data node, axis) or None, ...) per entry of a shape= argument (an int or a sequence)."""
    entries = shape if isinstance(shape, (tuple, list)) else (shape,)
    return tuple(getattr(s, "source", None) for s in entries)
