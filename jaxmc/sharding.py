"""Where a run's arrays live (jax.sharding): the devices of a run (`devices=`), chains split over them, and data
split along one dim (`shard_dim=`); XLA partitions the compiled programs and inserts the reductions."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxmc.model.data import observed_key

#: the name of the one mesh axis of a run (chains or the rows of `shard_dim` are split along it)
AXIS = "devices"


class Placement(NamedTuple):
    """A run's devices: `mesh` over them (None: one device, today's single-device path on `device`), whether
    the chains are split over the mesh, and per data key the axis split (`shard_dim`'s axis) or None."""

    device: object
    mesh: Mesh | None = None
    chains_split: bool = False
    shard_dim: str | None = None
    data_axes: dict | None = None
    global_rows: int | None = None  # shard_dim={dim: rows}: each process holds its own rows of that many

    @property
    def spans(self) -> bool:
        """Whether the run uses more than one device (the partitioned programs)."""
        return self.mesh is not None

    @property
    def devices(self) -> list:
        """The run's devices in order (the programs' device assignment)."""
        return [self.device] if self.mesh is None else list(self.mesh.devices.flat)

    @property
    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, PartitionSpec())

    @property
    def split(self) -> NamedSharding:
        """Leading axis split over the devices."""
        return NamedSharding(self.mesh, PartitionSpec(AXIS))

    @property
    def chain_sharding(self) -> NamedSharding:
        """Arrays with a leading chain axis: split when the chains are, else replicated."""
        return self.split if self.chains_split else self.replicated

    def data_sharding(self, key: str, ndim: int) -> NamedSharding:
        axis = (self.data_axes or {}).get(key)
        if axis is None:
            return self.replicated
        spec = [None] * ndim
        spec[axis] = AXIS
        return NamedSharding(self.mesh, PartitionSpec(*spec))

    def data_shardings(self, data: dict) -> dict:
        return {k: self.data_sharding(k, np.ndim(v)) for k, v in data.items()}

    def put(self, value, sharding=None):
        """A host array as a (global) array with `sharding` (replicated by default); every process passes the
        same full value (the same script, the same seed)."""
        if not self.spans:
            return jax.device_put(value, self.device)
        sharding = self.replicated if sharding is None else sharding
        value = np.asarray(value)
        return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])

    def place_data(self, data: dict) -> dict:
        """The data dict on the run's devices: `shard_dim`'s arrays split along it, the others replicated."""
        if not self.spans:
            if self.device == jax.devices()[0]:
                return {k: jnp.asarray(v) for k, v in data.items()}  # uncommitted, as without devices=
            return {k: jax.device_put(v, self.device) for k, v in data.items()}
        out = {}
        for k, v in data.items():
            sharding, axis = self.data_sharding(k, np.ndim(v)), (self.data_axes or {}).get(k)
            if self.global_rows is not None and axis is not None:  # this process's rows of the global array
                shape = list(np.shape(v))
                shape[axis] = self.global_rows
                out[k] = jax.make_array_from_process_local_data(sharding, np.asarray(v), tuple(shape))
            else:
                out[k] = self.put(v, sharding)
        return out

    def per_device(self, fn, chain_args: int, other_args: int):
        """`fn` (vmapped over chains) run on each device for its own chains with `jax.shard_map`: the first
        `chain_args` arguments and every output split along the chain axis, the others (data) whole on every
        device. Chains never talk, so each device runs its own loops, with no collective inside them."""
        spec = PartitionSpec(AXIS)
        return jax.shard_map(fn, mesh=self.mesh, in_specs=(spec,) * chain_args + (PartitionSpec(),) * other_args,
                             out_specs=spec, check_vma=False)


def check_devices(devices, where: str = "pm.sample") -> list:
    """`devices=` as a list of jax devices of one backend: None means every device (`jax.devices()`, the devices
    of all processes after `jaxmc.distributed.initialize`)."""
    if devices is None:
        return list(jax.devices())
    if isinstance(devices, jax.Device):
        devices = [devices]
    try:
        devices = list(devices)
    except TypeError:
        raise TypeError(f"{where}(devices=...) must be a list of jax devices (e.g. jax.devices()[:2]), found "
                        f"{type(devices).__name__} {devices!r}") from None
    if not devices:
        raise ValueError(f"{where}(devices=[]) names no device; pass None for every device or a non-empty list "
                         "such as jax.devices()[:2]")
    bad = [d for d in devices if not isinstance(d, jax.Device)]
    if bad:
        raise TypeError(f"{where}(devices=...) must hold jax devices (from jax.devices()), found {bad[:3]!r}")
    platforms = sorted({d.platform for d in devices})
    if len(platforms) > 1:
        raise ValueError(f"{where}(devices=...) names devices of several backends {platforms}; one run uses one "
                         f"backend: pass e.g. jax.devices({platforms[0]!r})")
    if len(set(devices)) != len(devices):
        raise ValueError(f"{where}(devices=...) names a device twice: {devices}")
    return devices


def data_dims(model) -> dict:
    """Per data key (pm.Data name or an observed variable's key), its dims (None entries where not named)."""
    dims = {}
    for key in model.data_values():
        dims[key] = model.named_vars_to_dims.get(key)
    for rv in model.observed_RVs:
        key = observed_key(rv.name)
        if key in dims and dims[key] is None:
            dims[key] = model.named_vars_to_dims.get(rv.name)
    return dims


def split_dim(shard_dim, where: str = "pm.sample"):
    """`shard_dim` as (dim, rows in all or None): "N" (every process holds every row) or {"N": rows} (each
    process holds its own rows, in process order, of that many in all)."""
    rows = None
    if isinstance(shard_dim, dict):
        if len(shard_dim) != 1:
            raise ValueError(f"{where}(shard_dim=...) as a dict names one dim and its rows in all, such as "
                             f"{{'N': 10_000_000}}, found {shard_dim!r}")
        (shard_dim, rows), = shard_dim.items()
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
            raise TypeError(f"{where}(shard_dim={{{shard_dim!r}: ...}}) must give the rows in all as a positive "
                            f"integer, found {rows!r}")
        rows = int(rows)
    if not isinstance(shard_dim, str):
        raise TypeError(f"{where}(shard_dim=...) must be the name of a dim such as 'N' (or {{'N': rows in all}}), "
                        f"found {type(shard_dim).__name__} {shard_dim!r}")
    return shard_dim, rows


def data_axes(model, data: dict, shard_dim: str, n_devices: int, where: str, rows: int | None = None) -> dict:
    """Per data key, the axis that `shard_dim` names (None when the array has no such dim); checks that the
    dim is known, that every array agrees on its length and that the length splits evenly (`rows`: the
    length in all when each process holds its own rows)."""
    dims = data_dims(model)
    axes, lengths = {}, {}
    for key, value in data.items():
        named = tuple(dims.get(key) or ())
        axes[key] = named.index(shard_dim) if shard_dim in named else None
        if axes[key] is not None:
            lengths[key] = int(np.shape(value)[axes[key]])
    if not lengths:
        known = sorted({d for ds in dims.values() if ds for d in ds if d is not None})
        raise ValueError(f"{where}(shard_dim={shard_dim!r}): no pm.Data or observed array of the model has dim "
                         f"{shard_dim!r}; dims of the model's data: {known}")
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{where}(shard_dim={shard_dim!r}): the data arrays disagree on the length of "
                         f"{shard_dim!r}: {lengths}; give every array with that dim the same rows (pm.set_data)")
    length = next(iter(lengths.values()))
    if rows is not None:
        if length * jax.process_count() != rows:
            raise ValueError(f"{where}(shard_dim={{{shard_dim!r}: {rows}}}): this process holds {length} rows and "
                             f"there are {jax.process_count()} processes, so {length * jax.process_count()} rows "
                             f"in all, not {rows}; give every process {rows} / {jax.process_count()} rows")
        length = rows
    if length % n_devices:
        raise ValueError(f"{where}(shard_dim={shard_dim!r}): its length {length} does not divide by the {n_devices} "
                         f"devices; pass devices= a number of devices that divides {length} (e.g. "
                         f"devices=jax.devices()[:{_divisor(length, n_devices)}]), or drop or add rows so that the "
                         f"length is a multiple of {n_devices}")
    return axes


def _divisor(n: int, most: int) -> int:
    """The largest divisor of n that is at most `most`."""
    return max(k for k in range(1, most + 1) if n % k == 0)


def plan(model, data: dict, devices=None, shard_dim=None, chains: int = 1, where: str = "pm.sample") -> Placement:
    """The run's placement: one device -> that device (today's path); several -> a mesh over them, split
    along `shard_dim` when given (the chains then run on every device with the state replicated), else the
    chains split over as many devices as divide their number."""
    devices = check_devices(devices, where)
    if shard_dim is not None:
        shard_dim, rows = split_dim(shard_dim, where)
        axes = data_axes(model, data, shard_dim, len(devices), where, rows)
        if len(devices) == 1:
            return Placement(devices[0])
        local = rows if jax.process_count() > 1 else None
        return Placement(devices[0], Mesh(np.asarray(devices), (AXIS,)), False, shard_dim, axes, local)
    used = devices[:_divisor(chains, len(devices))]
    if len(used) == 1:
        return Placement(devices[0])
    return Placement(devices[0], Mesh(np.asarray(used), (AXIS,)), True)


def single(device=None) -> Placement:
    """The single-device placement (the default device unless given)."""
    return Placement(jax.devices()[0] if device is None else device)


def chain_method_for(placement: Placement, chain_method, checkpoint=None, idata_kwargs=None,
                     where: str = "pm.sample"):
    """The chain method on this placement: several devices run the chains as one vectorized program (one call
    per chunk on every device and process); None keeps the default. Refuses what several processes cannot do."""
    if not placement.spans and jax.process_count() == 1:
        return chain_method
    if chain_method not in (None, "vectorized"):
        raise ValueError(f"{where}(chain_method={chain_method!r}) runs chains one per call on one device; on "
                         f"{len(placement.mesh.devices.flat) if placement.spans else 'several'} devices chains run "
                         "vectorized (drop chain_method=, or pass devices=jax.devices()[:1] to keep one device)")
    if jax.process_count() > 1:
        if checkpoint is not None:
            raise ValueError(f"{where}(checkpoint=...) is not available with several processes "
                             "(jaxmc.distributed): the chains' states live on several hosts")
        if (idata_kwargs or {}).get("log_likelihood"):
            raise ValueError(f"{where}(idata_kwargs={{'log_likelihood': ...}}) is not available with several "
                             "processes; call pm.compute_log_likelihood in every process afterwards instead")
    return "vectorized"


def returns_results() -> bool:
    """Whether this process returns a run's results: always with one process, process 0 of several."""
    return jax.process_index() == 0


def placed_data(model, shard_dim=None, devices=None, where: str = "pm.sample") -> dict:
    """The model's data as a program argument: split along `shard_dim` over `devices` (every device by
    default), else as jnp arrays on the default device; jit then partitions the program that takes it."""
    values = model.data_values()
    if shard_dim is None and devices is None:
        return single().place_data(values)
    return plan(model, values, devices, shard_dim, 1, where).place_data(values)
