"""Several processes or hosts: `initialize` (JAX's distributed runtime), after which the same script in every
process samples with chains and `shard_dim` rows spread over every process's devices (docs/scale.md)."""

from __future__ import annotations

import jax

from jaxmc import xla


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, local_device_ids=None, **kwargs) -> None:
    """Start JAX's distributed runtime (`jax.distributed.initialize`, same arguments) for jaxmc: call it right
    after `import jaxmc`, in every process, before building a model. Afterwards `jax.devices()` lists every
    process's devices and `pm.sample` runs one program over all of them; process 0 returns the results, the
    others None. `pm.sample(shard_dim={"N": rows_in_all})` takes each process's own rows of dim N."""
    for name, value in (("num_processes", num_processes), ("process_id", process_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise TypeError(f"jaxmc.distributed.initialize({name}=...) must be a non-negative integer, found "
                            f"{value!r}")
    if num_processes is not None and process_id is not None and process_id >= num_processes:
        raise ValueError(f"jaxmc.distributed.initialize(process_id={process_id}) must be below "
                         f"num_processes={num_processes}")
    xla.start_distributed(coordinator_address=coordinator_address, num_processes=num_processes,
                          process_id=process_id, local_device_ids=local_device_ids, **kwargs)


def process_index() -> int:
    """This process's number (0 for the one that returns results)."""
    return jax.process_index()


def process_count() -> int:
    return jax.process_count()
