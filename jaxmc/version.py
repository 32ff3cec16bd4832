"""jaxmc's version (one place: the package, the results' attributes and pyproject read it here)."""

__version__ = "0.1.0"
