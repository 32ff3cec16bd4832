"""Which step updates which variable (PyMC's CompoundStep and assign_step_methods: the user's steps, then the
most competent step for every other variable) and how their sample_stats combine, as PyMC 6 combines them."""

from __future__ import annotations

import copy
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxmc.step_methods.base import INCOMPATIBLE, BlockedStep
from jaxmc.step_methods.gibbs import BinaryGibbsMetropolis, BinaryMetropolis, CategoricalGibbsMetropolis
from jaxmc.step_methods.hmc import NUTS, HamiltonianMC
from jaxmc.step_methods.metropolis import Metropolis
from jaxmc.step_methods.slice import Slice

#: PyMC's STEP_METHODS, in its order: the first of the most competent classes is a variable's default step
STEP_METHODS = (NUTS, HamiltonianMC, Metropolis, BinaryMetropolis, BinaryGibbsMetropolis, Slice,
                CategoricalGibbsMetropolis)


class CompoundStep:
    """Several steps applied one after the other at each draw (PyMC's CompoundStep)."""

    def __init__(self, methods):
        methods = list(methods) if isinstance(methods, (list, tuple)) else [methods]
        self.methods = flatten(methods, "CompoundStep(methods=...)")

    @property
    def vars(self):
        return [v for m in self.methods for v in (m.vars or [])]

    def __repr__(self):
        return f"CompoundStep({self.methods})"


def flatten(step, where: str = "pm.sample(step=...)") -> list:
    """The user's step(s) as a flat list of BlockedStep (a CompoundStep, a list, nested lists)."""
    if step is None:
        return []
    if isinstance(step, CompoundStep):
        return list(step.methods)
    if isinstance(step, BlockedStep):
        return [step]
    if isinstance(step, (list, tuple)):
        return [s for item in step for s in flatten(item, where)]
    if isinstance(step, type) and issubclass(step, BlockedStep):
        raise TypeError(f"{where}: the step class {step.__name__} was not instantiated; pass pm.{step.__name__}(...)")
    raise TypeError(f"{where} takes a step method (pm.NUTS(...), pm.Metropolis(...), pm.Slice(...), ...), a list "
                    f"of them or a pm.CompoundStep, found {type(step).__name__} {step!r}")


class Assigned(NamedTuple):
    """One step of a run with its variables and their flat coordinates; ``key`` identifies it for the cache."""

    step: BlockedStep
    names: tuple
    index: tuple  # flat coordinates, as ints

    @property
    def key(self):
        return (type(self.step).__name__, self.step.options_key(), self.names, self.index)


def _slot_names(cm) -> dict:
    """Every spelling of a free variable (its name, its value variable's name) -> its slot."""
    out = {}
    for s in cm.slots:
        out[s.rv.name] = s
        out[s.name] = s
    return out


def _resolve(step, cm, by_name) -> list:
    if step.vars is None:
        return step.default_vars(cm.slots)
    slots = []
    for v in step.vars:
        name = getattr(v, "name", v)
        if not isinstance(name, str) or name not in by_name:
            raise ValueError(f"{type(step).__name__}(vars=...): {name!r} is not a free variable of the model; its "
                             f"free variables are {[s.rv.name for s in cm.slots]}")
        slots.append(by_name[name])
    return slots


def assign(cm, provided: list, default_nuts: NUTS) -> tuple:
    """The run's steps, as PyMC's assign_step_methods and instantiate_steppers make them: the user's steps in
    their order, then one step per default class (in the order of the first variable it takes) over the
    variables no user step takes; `default_nuts` is the NUTS that takes the unassigned continuous ones.
    Errors for unknown variables, variables taken twice and variables of the wrong kind."""
    by_name = _slot_names(cm)
    out, owner = [], {}
    for step in flatten(provided):
        slots = _resolve(step, cm, by_name)
        if not slots:
            raise ValueError(f"{type(step).__name__}: it has no variables to update (vars={step.vars}); the model's "
                             f"free variables are {[s.rv.name for s in cm.slots]}")
        for s in slots:
            if s.rv.name in owner:
                raise ValueError(f"{s.rv.name!r} is assigned to two steps ({owner[s.rv.name]} and "
                                 f"{type(step).__name__}); give each variable to one step")
            owner[s.rv.name] = type(step).__name__
            discrete = bool(s.rv.owner.discrete)
            if step.competence(s, discrete) == INCOMPATIBLE:
                kind = "discrete" if discrete else "continuous"
                raise ValueError(f"{type(step).__name__} cannot update the {kind} variable {s.rv.name!r} "
                                 f"({type(s.rv.owner).__name__}); " + _suggest(s, discrete))
        out.extend(_split(step, slots))
    chosen = {}
    for s in cm.slots:
        if s.rv.name in owner:
            continue
        discrete = bool(s.rv.owner.discrete)
        cls = max(STEP_METHODS, key=lambda c: c.competence(s, discrete))
        chosen.setdefault(cls, []).append(s)
    for cls, slots in chosen.items():
        step = default_nuts if cls is NUTS else cls([s.rv.name for s in slots])
        out.extend(_split(step, slots))
    return tuple(Assigned(step, tuple(s.rv.name for s in slots),
                          tuple(int(i) for s in slots for i in range(s.start, s.stop))) for step, slots in out)


def _split(step, slots) -> list:
    """PyMC's unblocked steps (Metropolis, Slice: ``blocked=False``) over several variables: one step per
    variable, each with its part of per-coordinate settings (``S``, ``w``, ``scaling`` of the full length)."""
    if step.blocked or len(slots) < 2:
        return [(step, slots)]
    total = sum(s.stop - s.start for s in slots)
    out, pos = [], 0
    for s in slots:
        part = copy.copy(step)
        part.vars, n = [s.rv.name], s.stop - s.start
        for attr in step.split_attrs:
            value = getattr(step, attr)
            if value is not None and np.ndim(value) == 1 and len(value) == total > 1:
                setattr(part, attr, np.asarray(value)[pos:pos + n])
        out.append((part, [s]))
        pos += n
    return out


def _suggest(slot, discrete: bool) -> str:
    fit = [c.__name__ for c in STEP_METHODS if c.competence(slot, discrete) > INCOMPATIBLE]
    return f"steps that can: {', '.join('pm.' + f for f in fit)}"


def merge_stats(per_step: list) -> dict:
    """sample_stats of one draw from each step's: a name reported by one step stays a scalar; one reported by
    several is stacked along a last axis (PyMC 6's ``<name>_dim_0``), promoted to a common dtype."""
    names = []
    for stats in per_step:
        names.extend(n for n in stats if n not in names)
    out = {}
    for n in names:
        values = [stats[n] for stats in per_step if n in stats]
        if len(values) == 1:
            out[n] = values[0]
        else:
            dtype = jnp.result_type(*values)
            out[n] = jnp.stack([jnp.asarray(v, dtype) for v in values], axis=-1)
    return out
