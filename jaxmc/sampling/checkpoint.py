"""Checkpoints of a `pm.sample` run: the chains' states and the draws so far in one .npz file written
atomically, and the fingerprint that refuses a checkpoint of another model, data or settings."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time
import zipfile
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc.version import __version__

FORMAT = "1"
COST_SHARE = 0.05  # at most this share of the run's time goes to writing checkpoints


class Saved(NamedTuple):
    """A checkpoint read back: chain keys, steps done per chain, the state leaves (a leading chain axis) and
    the written part of the output arrays by (part, name)."""

    keys: np.ndarray
    done: np.ndarray
    leaves: list
    arrays: dict

    def states(self, template, vectorized: bool):
        """The chains' states with the structure and dtypes of `template` (what the init program gave)."""
        if vectorized:
            return _fill(template, self.leaves, slice(None))
        return [_fill(t, self.leaves, c) for c, t in enumerate(template)]


def _fill(template, leaves, index):
    ref, treedef = jax.tree_util.tree_flatten(template)
    if len(ref) != len(leaves):
        raise ValueError("checkpoint: the saved sampler state does not fit this sampler")
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(v[index], t.dtype) for t, v in zip(ref, leaves)])


class Checkpoint:
    """Where a run is saved, its fingerprint, and what was saved before (`saved`, when resuming)."""

    def __init__(self, path: str, fingerprint: dict, saved: Saved | None = None):
        self.path = os.fspath(path)
        self.fingerprint = fingerprint
        self.saved = saved
        self._cost = 0.0
        self._last = -np.inf

    def due(self) -> bool:
        """Whether to write now: the time since the last write is at least 1/COST_SHARE times its cost."""
        return time.perf_counter() - self._last >= self._cost / COST_SHARE

    def save(self, keys, states, done, output) -> None:
        """Write keys, states (leaves with a leading chain axis), steps done and the written draws to a
        temporary file, then move it over `path` (a crash leaves the old checkpoint or the new one)."""
        t0 = time.perf_counter()
        snapshot = output.snapshot(done)
        arrays = {"fingerprint": np.array(json.dumps(self.fingerprint)), "keys": np.asarray(keys),
                  "done": np.asarray(done), "names": np.array(json.dumps([list(k) for k in snapshot]))}
        arrays.update({f"state_{i}": np.asarray(v) for i, v in enumerate(jax.tree_util.tree_leaves(states))})
        arrays.update({f"array_{i}": v for i, v in enumerate(snapshot.values())})
        tmp = f"{self.path}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._last = time.perf_counter()
        self._cost = self._last - t0


def open_checkpoint(path, resume: bool, model, cm, data, settings, names, keys, base, keep_warmup: bool,
                    seeded: bool) -> Checkpoint | None:
    """The run's checkpoint (None without a path); with `resume`, what an existing file at `path` holds,
    refused when it was written for another model, data or settings."""
    if path is None:
        if resume:
            raise ValueError("pm.sample(resume=True) needs checkpoint=PATH, the file to resume from")
        return None
    fp = fingerprint(model, cm, data, settings, names, keys, base, keep_warmup, seeded)
    path = os.fspath(path)
    for stale in glob.glob(glob.escape(path) + ".tmp*"):  # left by a run killed while writing
        os.remove(stale)
    if not resume or not os.path.exists(path):
        return Checkpoint(path, fp)
    try:
        with np.load(path, allow_pickle=False) as f:
            old = json.loads(str(f["fingerprint"][()]))
            _refuse_other(path, old, fp)
            n_state = sum(1 for k in f.files if k.startswith("state_"))
            names_ = [tuple(k) for k in json.loads(str(f["names"][()]))]
            saved = Saved(f["keys"], f["done"], [f[f"state_{i}"] for i in range(n_state)],
                          {k: f[f"array_{i}"] for i, k in enumerate(names_)})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        if isinstance(e, CheckpointMismatch):
            raise
        raise ValueError(f"checkpoint {path!r} could not be read ({e}); remove it or pass resume=False to "
                         "start afresh (the file is then overwritten)") from e
    return Checkpoint(path, fp, saved)


class CheckpointMismatch(ValueError):
    """The checkpoint was written for another model, data or settings."""


def _refuse_other(path, old: dict, new: dict) -> None:
    if new["random_seed"] == "None":
        old = dict(old, random_seed="None")  # random_seed=None: go on with the saved chain keys
    diffs = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if k.startswith("data ") or k in ("model", "initvals", "random_seed", "format"):
            diffs.append(f"{k} differs")
        else:
            diffs.append(f"{k}: {a} in the checkpoint, {b} now")
    if diffs:
        raise CheckpointMismatch(
            f"checkpoint {path!r} was written by another run: {'; '.join(diffs)}. Resume with the same model, "
            "data and pm.sample arguments, or pass resume=False to start afresh (the file is then overwritten).")


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def fingerprint(model, cm, data, settings, names, keys, base, keep_warmup: bool, seeded: bool) -> dict:
    """What must match for a checkpoint to continue this run: the model (variables and the log density's
    program), each data value, the settings, the seed, the output names and the versions."""
    structure = [(n, type(getattr(v, "owner", None)).__name__, str(getattr(v, "aval", ""))) for n, v in
                 model.named_vars.items()]
    closed = jax.make_jaxpr(cm.logp)(jnp.asarray(base[0]), data)
    h = hashlib.sha256(json.dumps(structure).encode() + str(closed.jaxpr).encode())
    h.update(_digest(*closed.consts).encode())
    fp = {"format": FORMAT, "model": h.hexdigest()[:16], "jax": jax.__version__, "jaxmc": __version__,
          "draws": settings.draws, "tune": settings.tune, "chains": settings.chains,
          "target_accept": settings.target_accept, "max_treedepth": settings.max_treedepth,
          "adaptation": settings.adaptation, "mass_matrix": settings.mass_matrix,
          "chain_method": settings.chain_method,
          "var_names": list(names), "discard_tuned_samples": not keep_warmup,
          "random_seed": "seed " + _digest(keys) if seeded else "None", "initvals": _digest(base),
          "steps": repr([a.key for a in settings.steps]), "seeded_mass": settings.seeded_mass}
    fp.update({f"data {k!r}": _digest(v) for k, v in data.items()})
    return json.loads(json.dumps(fp))
