"""PyMC's MultiTrace (what `pm.sample(return_inferencedata=False)` returns) and `pm.to_inference_data`, its
conversion to ArviZ data."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from jaxmc import convert
from jaxmc.model import modelcontext

#: PyMC's NUTS statistic names, read as jaxmc's (ArviZ's) names
STAT_ALIASES = {"depth": "tree_depth", "mean_tree_accept": "acceptance_rate", "model_logp": "lp",
                "tree_size": "n_steps"}


class SamplerReport(NamedTuple):
    """`trace.report`: tuning steps (kept in the trace or not), draws and sampling time."""

    n_tune: int
    n_draws: int
    t_sampling: float

    @property
    def ok(self) -> bool:
        return True


class MultiTrace:
    """Draws of every chain with PyMC's MultiTrace interface: `trace["mu"]` (chains concatenated),
    `trace["mu", burn::thin]`, `trace.mu`, `trace.get_values`, `trace.get_sampler_stats`, `trace.point(i)`,
    `trace[i]`, `trace[a:b]`, `len(trace)` (draws per chain), `trace.varnames`, `trace.nchains`, `trace.chains`,
    `trace.stat_names`, `trace.report`. Arrays: {name: (chain, draw, ...)}; `n_tune`: how many of the first
    draws are tuning steps (kept when pm.sample's discard_tuned_samples=False)."""

    _attrs = {"_values", "_stats", "model", "_n_tune", "_report", "attrs"}

    def __init__(self, values: dict, stats: dict | None = None, model=None, n_tune: int = 0, report=None,
                 attrs=None):
        self._values = {k: np.asarray(v) for k, v in values.items()}
        self._stats = {k: np.asarray(v) for k, v in (stats or {}).items()}
        shapes = {k: v.shape[:2] for k, v in {**self._values, **self._stats}.items()}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"MultiTrace: arrays have different (chain, draw) shapes {shapes}")
        self.model = model
        self._n_tune = int(n_tune)
        self._report = report
        self.attrs = dict(attrs or {})

    def __repr__(self):
        return f"<MultiTrace: {self.nchains} chains, {len(self)} iterations, {len(self.varnames)} variables>"

    # ------------------------------------------------------------------ sizes and names
    def _shape(self) -> tuple:
        first = next(iter({**self._values, **self._stats}.values()), None)
        return tuple(first.shape[:2]) if first is not None else (0, 0)

    @property
    def nchains(self) -> int:
        return self._shape()[0]

    @property
    def chains(self) -> list[int]:
        return list(range(self.nchains))

    def __len__(self):
        return self._shape()[1]

    @property
    def varnames(self) -> list[str]:
        return list(self._values)

    @property
    def stat_names(self) -> set[str]:
        return set(self._stats) | {a for a, n in STAT_ALIASES.items() if n in self._stats}

    @property
    def n_tune(self) -> int:
        """How many of the first draws of each chain are tuning steps."""
        return self._n_tune

    @property
    def report(self) -> SamplerReport:
        if self._report is not None:
            return self._report
        return SamplerReport(self._n_tune, len(self) - self._n_tune, float(self.attrs.get("sampling_time", 0.0)))

    # ------------------------------------------------------------------ values
    def _chains(self, chains) -> list[int]:
        chains = self.chains if chains is None else [chains] if isinstance(chains, (int, np.integer)) else chains
        bad = [c for c in chains if c not in self.chains]
        if bad:
            raise ValueError(f"MultiTrace: no chain(s) {bad}; the trace has chains {self.chains}")
        return list(chains)

    @staticmethod
    def _pick(arrays, chains, burn, thin, combine, squeeze):
        parts = [arrays[c, burn::thin] for c in chains]
        if combine:
            out = np.concatenate(parts)
            return out if squeeze else [out]
        return parts[0] if squeeze and len(parts) == 1 else parts

    def get_values(self, varname, burn: int = 0, thin: int = 1, combine: bool = True, chains=None,
                   squeeze: bool = True):
        """Draws of `varname` from `chains` (default all), skipping `burn` and keeping every `thin`-th; chains
        concatenated when `combine`, else a list of arrays (a single array for one chain when `squeeze`)."""
        name = getattr(varname, "name", varname)
        if name not in self._values:
            raise KeyError(f"MultiTrace has no variable {name!r}; it has {self.varnames}")
        return self._pick(self._values[name], self._chains(chains), burn, thin, combine, squeeze)

    def get_sampler_stats(self, stat_name: str, burn: int = 0, thin: int = 1, combine: bool = True, chains=None,
                          squeeze: bool = True):
        """Sampler statistic `stat_name` (PyMC's or ArviZ's name), chosen as in `get_values`."""
        name = STAT_ALIASES.get(stat_name, stat_name)
        if name not in self._stats:
            raise KeyError(f"Unknown sampler statistic {stat_name!r}; the trace has {sorted(self.stat_names)}")
        return self._pick(self._stats[name], self._chains(chains), burn, thin, combine, squeeze)

    def point(self, idx: int, chain: int | None = None) -> dict:
        """{name: value} of draw `idx` of `chain` (default: the last chain, as PyMC)."""
        chain = self.chains[-1] if chain is None else self._chains(chain)[0]
        return {k: v[chain, idx] for k, v in self._values.items()}

    def points(self, chains=None):
        """Every draw as a point, chain after chain."""
        for c in self._chains(chains):
            for i in range(len(self)):
                yield self.point(i, chain=c)

    def values_by_name(self) -> dict:
        """{name: (chain, draw, ...) array}."""
        return dict(self._values)

    def stats_by_name(self) -> dict:
        return dict(self._stats)

    def __iter__(self):
        raise NotImplementedError("MultiTrace is not iterable: use trace.points(), trace.get_values(name) or "
                                  "trace[name]")

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            start = range(len(self))[idx][0] if len(range(len(self))[idx]) else len(self)
            return MultiTrace({k: v[:, idx] for k, v in self._values.items()},
                              {k: v[:, idx] for k, v in self._stats.items()}, self.model,
                              max(0, self._n_tune - start), attrs=self.attrs)
        if isinstance(idx, (int, np.integer)):
            return self.point(int(idx))
        burn, thin = 0, 1
        if isinstance(idx, tuple):
            idx, vslice = idx
            burn, thin = vslice.start or 0, vslice.step or 1
        name = getattr(idx, "name", idx)
        if name in self._values:
            if name in self.stat_names:
                warnings.warn("Attribute access on a trace object is ambiguous. Sampler statistic and model "
                              "variable share a name. Use trace.get_values or trace.get_sampler_stats.")
            return self.get_values(name, burn=burn, thin=thin)
        if name in self.stat_names:
            return self.get_sampler_stats(name, burn=burn, thin=thin)
        raise KeyError(f"Unknown variable {name!r}; the trace has variables {self.varnames} and sampler "
                       f"statistics {sorted(self.stat_names)}")

    def __getattr__(self, name):
        if name in MultiTrace._attrs or name.startswith("__"):
            raise AttributeError(name)
        if name in self._values or name in self.stat_names:
            return self[name]
        raise AttributeError(f"'MultiTrace' object has no attribute {name!r}")

    def __getstate__(self):
        """The draws without the model (whose graph holds functions that do not pickle)."""
        return {**self.__dict__, "model": None}

    def __setstate__(self, state):
        self.__dict__.update(state)


def _with_chain_axis(model, name, arr, group):
    """(chain, draw, ...) from an array with those axes, or with a single draw axis (PyMC's prior dicts)."""
    arr = np.asarray(arr)
    node = model.named_vars.get(name)
    if node is None:
        return arr
    if arr.ndim == node.ndim + 1:
        return arr[None]
    if arr.ndim != node.ndim + 2:
        raise ValueError(f"to_inference_data: {group}[{name!r}] has shape {arr.shape}, but {name!r} has shape "
                         f"{node.shape} in the model; give (draw, ...) or (chain, draw, ...) arrays")
    return arr


def to_inference_data(trace: MultiTrace | None = None, *, prior=None, posterior_predictive=None,
                      log_likelihood=False, log_prior=False, coords=None, dims=None, sample_dims=None, model=None,
                      save_warmup: bool | None = None, include_transformed: bool = False):
    """ArviZ data (InferenceData on ArviZ 0.x, DataTree on 1.x) from a MultiTrace and/or dicts of prior and
    posterior predictive draws, with the model's observed and constant data, as PyMC's `pm.to_inference_data`.
    `log_likelihood` / `log_prior` (True or names) add those groups; `save_warmup` keeps the tuning draws the
    trace holds (pm.sample(discard_tuned_samples=False)) as `warmup_posterior` / `warmup_sample_stats`."""
    if trace is None and prior is None and posterior_predictive is None:
        raise ValueError("to_inference_data: give at least one of trace, prior and posterior_predictive")
    if trace is not None and not isinstance(trace, MultiTrace):
        raise TypeError(f"to_inference_data: trace must be a MultiTrace (pm.sample(return_inferencedata=False)), "
                        f"found {type(trace).__name__}; ArviZ data need no conversion")
    if model is None and trace is not None and trace.model is not None:
        model = trace.model
    model = modelcontext(model)
    if sample_dims is not None and tuple(sample_dims) != convert.SAMPLE_DIMS:
        raise NotImplementedError(f"to_inference_data: sample_dims {sample_dims}: jaxmc writes (chain, draw)")
    groups, attrs = {}, None
    if trace is not None:
        tune = trace.n_tune
        values, stats = trace.values_by_name(), trace.stats_by_name()
        groups["posterior"] = {k: v[:, tune:] for k, v in values.items()}
        groups["sample_stats"] = {k: v[:, tune:] for k, v in stats.items()}
        if save_warmup and tune:
            groups["warmup_posterior"] = {k: v[:, :tune] for k, v in values.items()}
            groups["warmup_sample_stats"] = {k: v[:, :tune] for k, v in stats.items()}
        attrs = dict(trace.attrs)
    if prior is not None:
        observed = {rv.name for rv in model.observed_RVs}
        arrays = {k: _with_chain_axis(model, k, v, "prior") for k, v in prior.items()}
        groups["prior"] = {k: v for k, v in arrays.items() if k not in observed}
        groups["prior_predictive"] = {k: v for k, v in arrays.items() if k in observed}
    if posterior_predictive is not None:
        groups["posterior_predictive"] = {k: _with_chain_axis(model, k, v, "posterior_predictive")
                                          for k, v in posterior_predictive.items()}
    groups["observed_data"] = convert.observed_data(model)
    groups["constant_data"] = convert.constant_data(model)
    idata = convert.to_inference_data(model, groups, attrs=attrs, coords=coords, dims=dims)
    if trace is not None and log_likelihood:
        from jaxmc.sampling.log_likelihood import compute_log_likelihood

        names = None if log_likelihood is True else list(log_likelihood)
        idata = compute_log_likelihood(idata, var_names=names, model=model, progressbar=False)
    if trace is not None and log_prior:
        from jaxmc.sampling.log_density import compute_log_prior

        names = None if log_prior is True else list(log_prior)
        idata = compute_log_prior(idata, var_names=names, model=model, progressbar=False)
    return idata


def predictions_to_inference_data(predictions: dict, posterior_trace: MultiTrace | None = None, model=None,
                                  coords=None, dims=None, sample_dims=None, idata_orig=None,
                                  inplace: bool = False):
    """ArviZ data with the `predictions` group ({name: (chain, draw, ...)} arrays, or (draw, ...)) and the model's
    current data as `predictions_constant_data`, as PyMC's; added to `idata_orig` when given (in place with
    `inplace=True`, else to a copy) and returned."""
    if model is None and posterior_trace is not None and posterior_trace.model is not None:
        model = posterior_trace.model
    model = modelcontext(model)
    if sample_dims is not None and tuple(sample_dims) != convert.SAMPLE_DIMS:
        raise NotImplementedError(f"predictions_to_inference_data: sample_dims {sample_dims}: jaxmc writes "
                                  "(chain, draw)")
    groups = {"predictions": {k: _with_chain_axis(model, k, v, "predictions") for k, v in predictions.items()},
              "predictions_constant_data": convert.constant_data(model)}
    if inplace and idata_orig is None:
        raise ValueError("Do not pass True for inplace unless passing existing ArviZ data as idata_orig")
    if idata_orig is None:
        return convert.to_inference_data(model, groups, coords=coords, dims=dims)
    return convert.add_groups(idata_orig if inplace else idata_orig.copy(), model, groups)
