"""Sub-models (PyMC's nested `with pm.Model("name"):`): the `prefix::name` names of their variables, which live
in the root model, and each sub-model's own view of them."""

from __future__ import annotations


def validate_name(name: str) -> str:
    """A model or variable name as PyMC accepts it (no trailing ':' and no '/')."""
    if not isinstance(name, str):
        raise TypeError(f"Model and variable name must be a string, found {type(name).__name__} {name!r}")
    if name.endswith(":"):
        raise KeyError(f"Model name {name!r} must not end with ':'")
    if "/" in name:
        raise ValueError(f"Name {name!r} cannot contain '/'.")
    return name


def model_prefix(model) -> str:
    """`lik` for `pm.Model("lik")` inside a root model, `lik::inner` one level deeper, the name for a root."""
    parent = model.parent
    if parent is None or not parent.prefix:
        return model.name
    return f"{parent.prefix}::{model.name}"


def name_for(model, name: str) -> str:
    """The full name of a variable named `name` in `model` (`prefix::name`)."""
    name = validate_name(name)
    prefix = model.prefix
    if not prefix or name.startswith(prefix + "::"):
        return name
    return f"{prefix}::{name}"


def name_of(model, name: str) -> str:
    """The name without the model's prefix."""
    name = validate_name(name)
    prefix = model.prefix
    if prefix and name.startswith(prefix + "::"):
        return name[len(prefix) + 2:]
    return name


def in_root(model, register):
    """Run `register(root)` (a registration on the root model) and record the variables it added in `model`
    and every model between it and the root, as PyMC's sub-models see their variables."""
    root = model.root
    before = len(root.named_vars)
    out = register(root)
    new = list(root.named_vars)[before:]
    sub = model
    while sub is not root:
        adopt(sub, root, new, set_attributes=sub is model)
        sub = sub.parent
    return out


def adopt(sub, root, names, set_attributes: bool) -> None:
    """Record the root's variables `names` in sub-model `sub`'s registries."""
    for n in names:
        node = root.named_vars[n]
        sub.named_vars[n] = node
        if n in root.named_vars_to_dims:
            sub.named_vars_to_dims[n] = root.named_vars_to_dims[n]
        for reg in ("rvs_to_transforms", "rvs_to_initial_values", "rvs_to_total_sizes"):
            if node in getattr(root, reg):
                getattr(sub, reg)[node] = getattr(root, reg)[node]
        for reg in ("_rvs", "deterministics", "potentials", "data_vars"):
            if any(v is node for v in getattr(root, reg)):
                getattr(sub, reg).append(node)
        short = name_of(sub, n)
        if set_attributes and short.isidentifier() and not hasattr(sub, short):
            setattr(sub, short, node)
