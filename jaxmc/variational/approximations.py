"""Variational approximations over the model's flat unconstrained vector: `MeanField`, `FullRank` (Gaussians) and
`Empirical` (particles), their pure draw / log q functions, and PyMC's Approximation API (sample, mean, std, ...)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, seeds
from jaxmc.graph import TensorVariable, evaluate
from jaxmc.model.context import modelcontext
from jaxmc.nuts import rng


def rho2sigma(rho):
    return jnp.logaddexp(rho, 0.0)  # softplus, as PyMC


def _std_normal_logpdf(eps):
    return -0.5 * jnp.sum(eps * eps, -1) - 0.5 * eps.shape[-1] * jnp.log(2 * jnp.pi)


class Value:
    """A live view of one quantity of an approximation (PyMC's `approx.mean`, `.std`, `.cov`, `.params[i]`):
    `.eval()` / `.get_value()` give its current value as a numpy array."""

    def __init__(self, fn, name: str):
        self._fn, self.name = fn, name

    def eval(self, *args, **kwargs) -> np.ndarray:
        return np.asarray(self._fn())

    get_value = eval

    def __array__(self, dtype=None, copy=None):
        out = self.eval()
        return out.astype(dtype) if dtype is not None else out

    @property
    def shape(self):
        return self.eval().shape

    def __repr__(self):
        return f"{self.name}: {self.eval()!r}"


class SampledNode:
    """`approx.sample_node(node, size)`: `.eval()` draws from the current approximation and evaluates the node
    (PyMC returns a graph; here each `.eval()` is a fresh draw)."""

    def __init__(self, approx, fn, size, data):
        self.approx, self._fn, self.size, self._data = approx, jax.jit(jax.vmap(fn, (0, None))), size, data

    def eval(self, random_seed=None, **kwargs) -> np.ndarray:
        n = 1 if self.size is None else int(self.size)
        z = self.approx.draw_flat(n, self.approx.new_key(random_seed))
        out = np.asarray(self._fn(z, self._data))
        return out[0] if self.size is None else out


class Approximation:
    """A fitted (or starting) approximation of the model's posterior; `vparams` is a dict of JAX arrays, the
    state the optimiser moves (`params`: PyMC's list of them, as live views). Subclasses give `init_params`,
    `draw` and the moments."""

    has_logq = True
    param_names: tuple = ()

    def __init__(self, model=None, random_seed=None, start=None, **kwargs):
        self.model = modelcontext(model)
        if not self.model.free_RVs:
            raise ValueError(f"{type(self).__name__}: the model has no free random variables to approximate")
        discrete = [rv.name for rv in self.model.free_RVs if rv.owner.discrete]
        if discrete:
            raise ValueError(f"{type(self).__name__}: discrete variables {discrete} cannot be fitted by variational "
                             "inference (as in PyMC); marginalize them out or use pm.sample")
        from jaxmc.model.minibatch import minibatch_indices

        minibatch_indices(self.model)  # minibatches made outside the model join its data
        self.cm = self.model.compiled()
        self._seq = seeds.seed_sequence(random_seed, f"{type(self).__name__}(random_seed=...)")
        words = self._seq.generate_state(4, np.uint32)  # (2,) uint32 seeds of jaxmc.nuts.rng: initial particles, fit
        self._init_seed, self.fit_seed = jnp.asarray(words[:2]), jnp.asarray(words[2:])
        self.hist = np.asarray(())
        self.inference = None
        self.include_transformed = False
        self.vparams = self.init_params(start_flat(self, start), self._init_seed, **kwargs)

    # ------------------------------------------------------------------ what subclasses give
    def init_params(self, x0, key, **kwargs) -> dict:
        raise NotImplementedError

    def draw(self, params, seed, n):
        """(n, d) reparameterised draws and their log q (None where there is no density); `seed`: a (2,) uint32
        seed of `jaxmc.nuts.rng` (cheap counter-based draws inside compiled loops)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ PyMC's API
    @property
    def ddim(self) -> int:
        return self.cm.size

    @property
    def mean(self) -> Value:
        return Value(lambda: self.mean_of(self.vparams), "mean")

    @property
    def std(self) -> Value:
        return Value(lambda: self.std_of(self.vparams), "std")

    @property
    def cov(self) -> Value:
        return Value(lambda: self.cov_of(self.vparams), "cov")

    def std_of(self, params):
        return jnp.sqrt(jnp.diag(self.cov_of(params)))

    @property
    def params(self) -> list[Value]:
        return [Value(lambda k=k: self.vparams[k], k) for k in self.param_names]

    def new_key(self, random_seed=None):
        """A (2,) uint32 seed for draws: from `random_seed` (PyMC's forms, or a JAX key), fresh when None."""
        seed = seeds.check_seed(random_seed, "random_seed")
        if seed is not None and not isinstance(seed, (int, list, np.random.SeedSequence, np.random.Generator,
                                                      np.random.BitGenerator)):
            return rng.seed_of(seed)  # a JAX key
        return jnp.asarray(seeds.seed_sequence(seed, "random_seed").generate_state(2, np.uint32))

    def draw_flat(self, n: int, key):
        return self.draw(self.vparams, key, n)[0]

    def refine(self, n, progressbar=True):
        """More iterations of the fit that made this approximation (`Inference.refine`)."""
        if self.inference is None:
            raise TypeError("refine: this approximation was not fitted yet; call pm.fit or Inference.fit first")
        self.inference.refine(n, progressbar=progressbar)
        return self

    def sample(self, draws=500, *, random_seed=None, return_inferencedata=True, include_transformed=None,
               **kwargs):
        """`draws` draws of the model's variables and deterministics from the approximation: ArviZ data with one
        chain and the model's coords and dims (or PyMC's MultiTrace with `return_inferencedata=False`)."""
        from jaxmc import convert

        if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 1:
            raise ValueError(f"sample(draws={draws!r}) must be a positive int")
        labels = convert.check_idata_kwargs(kwargs or None, "Approximation.sample")
        key = self.new_key(random_seed)
        values = self._expand(self.draw_flat(int(draws), key))
        if self.include_transformed if include_transformed is None else include_transformed:
            z = np.asarray(self.draw_flat(int(draws), key))
            for s in self.cm.slots:
                if s.transform is not None:
                    values[s.name] = z[:, s.start:s.stop].reshape((len(z), *s.shape))
        values = {k: np.asarray(v)[None] for k, v in values.items()}
        if not return_inferencedata:
            from jaxmc.multitrace import MultiTrace

            return MultiTrace(values, model=self.model)
        groups = {"posterior": values, "observed_data": convert.observed_data(self.model),
                  "constant_data": convert.constant_data(self.model)}
        return convert.to_inference_data(self.model, groups, **labels)

    def _expand(self, z) -> dict:
        prog = self.model.program("variational", "expand", lambda: jax.jit(jax.vmap(self.cm.expand, (0, None))))
        return {k: np.asarray(v) for k, v in prog(z, self.model.data_values()).items()}

    def sample_node(self, node, size=None, deterministic=False, more_replacements=None):
        """A node of the model (any expression of its variables) evaluated at draws of the approximation."""
        if deterministic:
            raise NotImplementedError("sample_node(deterministic=True) is not supported by jaxmc; use approx.mean")
        if not isinstance(node, TensorVariable):
            raise TypeError(f"sample_node: expected a model variable or expression, found {type(node).__name__}")
        data = dict(self.model.data_values())
        for k, v in (more_replacements or {}).items():
            name = k.name if isinstance(k, TensorVariable) else k
            if name not in data:
                raise KeyError(f"sample_node(more_replacements=...): {name!r} is not data of the model; data: "
                               f"{sorted(data)}")
            data[name] = np.asarray(v.eval() if isinstance(v, TensorVariable) else v)
        cm = self.cm

        def fn(x, data):
            env, _ = cm.walk(x, data)
            return evaluate([node], env)[0]

        return SampledNode(self, fn, size, data)

    def rslice(self, name: str):
        """One draw of the unconstrained value of variable (or value variable) `name`, as `sample_node`."""
        slot = next((s for s in self.cm.slots if name in (s.name, s.rv.name)), None)
        if slot is None:
            raise KeyError(f"rslice: no free variable {name!r}; free: {[s.name for s in self.cm.slots]}")
        return SampledNode(self, lambda x, data: x[slot.start:slot.stop].reshape(slot.shape), None, {})

    def __repr__(self):
        return f"<{type(self).__name__} of {self.ddim} unconstrained dimensions>"


class MeanField(Approximation):
    """A Gaussian with independent coordinates: mean `mu`, std softplus(`rho`) (PyMC's MeanField)."""

    param_names = ("mu", "rho")

    def init_params(self, x0, key, start_sigma=None):
        rho = np.zeros(self.ddim)
        for name, sigma in (start_sigma or {}).items():
            slot = _slot(self, name, "start_sigma")
            rho[slot.start:slot.stop] = np.log(np.expm1(np.abs(np.broadcast_to(sigma, slot.shape)))).ravel()
        return {"mu": jnp.asarray(x0), "rho": jnp.asarray(rho, config.floatX())}

    def draw(self, params, seed, n):
        eps = rng.normal(seed, (n, self.ddim), params["mu"].dtype)
        std = rho2sigma(params["rho"])
        return params["mu"] + std * eps, _std_normal_logpdf(eps) - jnp.sum(jnp.log(std))

    def mean_of(self, params):
        return params["mu"]

    def std_of(self, params):
        return rho2sigma(params["rho"])

    def cov_of(self, params):
        return jnp.diag(rho2sigma(params["rho"]) ** 2)


class FullRank(Approximation):
    """A Gaussian with a full covariance L L^T: mean `mu` and the lower triangle `L_tril` (diagonal through
    softplus), as PyMC's FullRank."""

    param_names = ("mu", "L_tril")

    def init_params(self, x0, key):
        d = self.ddim
        return {"mu": jnp.asarray(x0), "L_tril": jnp.asarray(np.eye(d)[np.tril_indices(d)], config.floatX())}

    def L_of(self, params):
        d = self.ddim
        rows, cols = np.tril_indices(d)
        where = np.full((d, d), len(rows))  # each entry's index in L_tril, or the appended zero above the diagonal
        where[rows, cols] = np.arange(len(rows))
        L = jnp.concatenate([params["L_tril"], jnp.zeros(1, params["L_tril"].dtype)])[where]  # (a gather: cheap
        return jnp.where(np.eye(d, dtype=bool), rho2sigma(L), L)  # to compile, unlike a scatter)

    def draw(self, params, seed, n):
        L = self.L_of(params)
        eps = rng.normal(seed, (n, self.ddim), params["mu"].dtype)
        return params["mu"] + eps @ L.T, _std_normal_logpdf(eps) - jnp.sum(jnp.log(jnp.diag(L)))

    def mean_of(self, params):
        return params["mu"]

    def cov_of(self, params):
        L = self.L_of(params)
        return L @ L.T

    @property
    def L(self) -> Value:
        return Value(lambda: self.L_of(self.vparams), "L")


class Empirical(Approximation):
    """Particles (a histogram of draws of the flat vector): from a trace, or `size` jittered copies of the start
    (what SVGD moves)."""

    has_logq = False
    param_names = ("histogram",)

    def __init__(self, trace=None, size=None, jitter=1, model=None, random_seed=None, start=None):
        self._trace = trace
        super().__init__(model=model, random_seed=random_seed, start=start, size=size, jitter=jitter)

    def init_params(self, x0, key, size=None, jitter=1):
        if self._trace is None:
            if size is None:
                raise ValueError("Empirical: give trace= (draws) or size= (the number of particles)")
            if not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Empirical(size={size!r}) must be a positive int")
            noise = jitter * rng.normal(key, (int(size), self.ddim), x0.dtype)
            return {"histogram": x0[None, :] + noise}
        return {"histogram": trace_to_flat(self, self._trace)}

    def draw(self, params, seed, n):
        hist = params["histogram"]
        u = rng.uniform_at(seed, jnp.arange(n), hist.dtype)
        return hist[jnp.minimum((u * hist.shape[0]).astype(jnp.int32), hist.shape[0] - 1)], None

    def mean_of(self, params):
        return params["histogram"].mean(0)

    def cov_of(self, params):
        x = params["histogram"] - params["histogram"].mean(0)
        return x.T @ x / x.shape[0]

    @property
    def histogram(self) -> Value:
        return Value(lambda: self.vparams["histogram"], "histogram")


def _slot(approx, name, where):
    for s in approx.cm.slots:
        if name in (s.name, s.rv.name):
            return s
    raise KeyError(f"{where}: {name!r} is not a free variable of the model; free: {[s.name for s in approx.cm.slots]}")


def _to_flat(cm, values: dict, data):
    """Flat unconstrained vector of constrained values {free variable name: value}."""
    _, walked = cm.walk(None, data, values=values)
    parts = []
    for rv, value, params, _ in walked:
        slot = cm.slot_of.get(rv)
        if slot is None:
            continue
        u = slot.transform.forward(value, *params) if slot.transform is not None else value
        parts.append(jnp.reshape(u, -1).astype(config.floatX()))
    return jnp.concatenate(parts)


def start_flat(approx, start):
    """The initial flat point: the model's initial point, with `start` {variable name: constrained value, or value
    variable name: unconstrained value} put in."""
    cm = approx.cm
    x0 = np.array(cm.initial_flat())
    if not start:
        return jnp.asarray(x0)
    if not isinstance(start, dict):
        raise TypeError(f"start= must be a dict {{variable name: value}}, found {type(start).__name__}")
    data = approx.model.data_values()
    values = {k: np.asarray(v) for k, v in cm.expand(jnp.asarray(x0), data).items()}
    given = False
    for name, value in start.items():
        slot = _slot(approx, name, "start")
        if name == slot.rv.name:
            values[name] = np.broadcast_to(np.asarray(value), slot.shape)
            given = True
    if given:
        x0 = np.array(_to_flat(cm, {s.rv.name: values[s.rv.name] for s in cm.slots}, data))
    for name, value in start.items():
        slot = _slot(approx, name, "start")
        if name == slot.name and name != slot.rv.name:
            x0[slot.start:slot.stop] = np.broadcast_to(np.asarray(value, x0.dtype), slot.shape).ravel()
    return jnp.asarray(x0)


def trace_to_flat(approx, trace):
    """(draws, d) flat unconstrained vectors of a trace (ArviZ data or MultiTrace), chains stacked."""
    names = [s.rv.name for s in approx.cm.slots]
    if hasattr(trace, "get_values"):
        values = {n: np.asarray(trace.get_values(n, combine=True)) for n in names}
    else:
        from jaxmc import convert

        chains, _ = convert.posterior_values(trace, approx.model, names)
        values = {n: v.reshape(-1, *v.shape[2:]) for n, v in chains.items()}
    fn = jax.jit(jax.vmap(lambda v, d: _to_flat(approx.cm, v, d), (0, None)))
    return fn(values, approx.model.data_values())


def sample_approx(approx, draws=100, include_transformed=True, random_seed=None):
    """Draws from a fitted approximation (PyMC's `pm.sample_approx`)."""
    return approx.sample(draws=draws, include_transformed=include_transformed, random_seed=random_seed)
