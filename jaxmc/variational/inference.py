"""`pm.fit` and PyMC's inference classes (ADVI, FullRankADVI, SVGD, ASVGD): one jitted optimisation loop per fit,
run in chunks by `jaxmc.iterate.run_loop` (progress bar with the average loss, Ctrl-C, callbacks between chunks)."""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmc import config, sharding
from jaxmc.aot import AheadOfTime
from jaxmc.iterate import run_loop, warn_interrupted
from jaxmc.model.context import modelcontext
from jaxmc.nuts import rng
from jaxmc.variational import stein
from jaxmc.variational.approximations import Empirical, FullRank, MeanField
from jaxmc.variational.callbacks import CheckParametersConvergence
from jaxmc.variational.updates import adagrad_window, as_optimizer

logger = logging.getLogger("jaxmc")

CHUNK = 1000  # most iterations of one compiled call
AVERAGE_OVER = 1000  # the progress bar's "Average Loss" is over the last this many iterations (PyMC)
PYTENSOR_ONLY = ("more_obj_params", "more_tf_params", "more_updates", "more_replacements", "compile_kwargs",
                 "fn_kwargs")


class FitState(NamedTuple):
    """What the compiled loop carries: variational parameters, optimiser state and the fit's seed (iteration i
    draws from sub-stream i of it, so results do not depend on how the loop is cut into calls)."""

    params: dict
    opt_state: object
    seed: jax.Array


def _normalizing_constant(model) -> float:
    """PyMC's scaling of the loss to a minibatch: the largest total_size / size of the observed variables."""
    c = 1.0
    for rv in model.observed_RVs:
        total = model.rvs_to_total_sizes.get(rv)
        if total is not None:
            total = np.prod(total if isinstance(total, (tuple, list)) else [total])
            c = max(c, float(total) / max(int(np.prod(rv.shape)), 1))
    return c


def _check_minibatch_sizes(model, indices) -> None:
    """An observed variable that reads a minibatch needs total_size= (to scale its log density to the full data)."""
    from jaxmc.model.minibatch import uses_minibatch

    if not indices:
        return
    for rv in model.observed_RVs:
        if model.rvs_to_total_sizes.get(rv) is None and uses_minibatch(rv.observed):
            raise ValueError(
                f"pm.fit: observed variable {rv.name!r} uses pm.Minibatch but has no total_size; pass the number of "
                f"rows of the full data, e.g. pm.Normal({rv.name!r}, ..., observed=batch, total_size=len(data)), so "
                "that its log density is scaled to the full data")


class Inference:
    """Base of the variational inference methods: fits `approx` by moving its parameters with an optimiser."""

    returns_loss = True
    default_n_mc = None

    def __init__(self, approx):
        self._approx = approx
        self.hist = np.asarray(())
        self.state = None  # (iterations done, the compiled program, callbacks, score) after a fit
        self._shard = (None, None)  # fit's (shard_dim, devices), used by every run of the fit
        self._fit_state = None

    approx = property(lambda self: self._approx)

    # ------------------------------------------------------------------ objective
    def objective(self, n_mc: int, c: float):
        """f(params, seed, data) -> (loss to differentiate, loss to report)."""
        raise NotImplementedError

    def _program_key(self, n_mc, tx_key, norm, chunk, every, minibatch) -> tuple:
        return (type(self).__name__, type(self.approx).__name__, n_mc, tx_key, norm, chunk, every, minibatch,
                self._hyper(), jax.tree.map(jnp.shape, self.approx.vparams).__repr__())

    def _hyper(self) -> tuple:
        return ()

    def _build(self, n_mc, tx, norm, chunk, every, minibatch, c):
        objective = self.objective(n_mc, c)

        def step(carry, i, data):
            seed = rng.substream(carry.seed, i)
            if minibatch:
                data = dict(data)
                for j, (name, rows, size) in enumerate(minibatch):
                    u = rng.uniform_at(rng.substream(seed, j + 1), jnp.arange(size), config.floatX())
                    data[name] = jnp.minimum((u * rows).astype(jnp.int32), rows - 1).astype(data[name].dtype)
            k_obj = rng.substream(seed, 0)
            (_, loss), grads = jax.value_and_grad(objective, has_aux=True)(carry.params, k_obj, data)
            if norm is not None:
                leaves, tree = jax.tree.flatten(grads)
                total = jnp.sqrt(sum(jnp.sum(g * g) for g in leaves))
                scale = jnp.clip(total, 0, norm) / (1e-7 + total)
                grads = jax.tree.unflatten(tree, [g * scale for g in leaves])
            updates, opt_state = tx.update(grads, carry.opt_state, carry.params)
            params = jax.tree.map(lambda p, u: p + u, carry.params, updates)
            ok = jnp.isfinite(loss) & jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(params)]))
            return FitState(params, opt_state, carry.seed), loss, ok

        def chunk_fn(state, start, stop, data):
            dtype = jax.tree.leaves(state.params)[0].dtype
            buf = jnp.full((chunk,), jnp.nan, dtype)

            def cond(c):
                return (c[0] < stop) & (c[3] < 0)

            def body(c):
                i, st, buf, bad, snap = c
                new, loss, ok = step(st, i, data)
                st = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, st)
                buf = buf.at[i - start].set(loss)
                bad = jnp.where(ok, -1, i)
                if every is not None:
                    snap = jax.tree.map(lambda a, b: jnp.where(ok & ((i + 1) % every == 0), a, b), st, snap)
                return i + 1, st, buf, bad, snap

            init = (start, state, buf, jnp.int32(-1), state if every is not None else None)
            i, state, buf, bad, snap = jax.lax.while_loop(cond, body, init)
            done = jnp.where(bad >= 0, bad - start, i - start)
            return state, {"loss": buf, "done": done, "bad": bad, "snap": snap}

        return AheadOfTime(chunk_fn)

    # ------------------------------------------------------------------ fitting
    def fit(self, n=10000, score=None, callbacks=None, progressbar=True, progressbar_theme=None, *, obj_n_mc=None,
            tf_n_mc=None, obj_optimizer=adagrad_window, test_optimizer=adagrad_window,
            total_grad_norm_constraint=None, backend=None, include_transformed=False, shard_dim=None, devices=None,
            **kwargs):
        """Run `n` iterations of the optimisation and return the approximation (PyMC's `Inference.fit`).
        `shard_dim`/`devices` split the data over devices as in pm.sample (docs/scale.md)."""
        where = f"{type(self).__name__}.fit"
        for key in kwargs:
            if key in PYTENSOR_ONLY:
                raise TypeError(f"{where}({key}=...) acts on PyTensor graphs, which jaxmc does not build; leave it out")
            raise TypeError(f"{where}() got an unexpected keyword argument {key!r}")
        n = _check_n(n, where)
        score = self._score(score)
        if callbacks is None:
            callbacks = []
        elif callable(callbacks):
            callbacks = [callbacks]
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(f"{where}(callbacks=...) must be a list of callables (approx, losses, i); found "
                                f"{type(cb).__name__}")
        n_mc = self.default_n_mc if obj_n_mc is None else obj_n_mc
        n_mc = 1 if n_mc is None else n_mc
        if not isinstance(n_mc, numbers.Integral) or isinstance(n_mc, bool) or n_mc < 1:
            raise ValueError(f"{where}(obj_n_mc={obj_n_mc!r}) must be a positive int")
        if total_grad_norm_constraint is not None and not total_grad_norm_constraint > 0:
            raise ValueError(f"{where}(total_grad_norm_constraint={total_grad_norm_constraint!r}) must be positive")
        opt = as_optimizer(obj_optimizer, f"{where}(obj_optimizer=...)")
        as_optimizer(test_optimizer, f"{where}(test_optimizer=...)")
        approx, model = self.approx, self.approx.model
        self._shard = (shard_dim, devices)
        if shard_dim is not None or devices is not None:  # its checks, before anything compiles
            sharding.plan(model, model.data_values(), devices, shard_dim, 1, where)
        from jaxmc.model.minibatch import minibatch_indices

        indices = minibatch_indices(model)
        _check_minibatch_sizes(model, indices)
        minibatch = tuple((x.name, int(x.minibatch_rows), int(x.shape[0])) for x in indices)
        everies = [int(getattr(cb, "every", 1)) for cb in callbacks]
        every = math.gcd(*everies) if everies else None
        chunk = min(CHUNK, every) if every else CHUNK
        c = _normalizing_constant(model)
        tx = opt.transform()
        norm = None if total_grad_norm_constraint is None else float(total_grad_norm_constraint)
        key = self._program_key(int(n_mc), opt.key, norm, chunk, every, minibatch)
        program = model.program("variational", key, lambda: self._build(int(n_mc), tx, norm, chunk, every,
                                                                         minibatch, c))
        self._fit_state = FitState(approx.vparams, tx.init(approx.vparams), approx.fit_seed)
        for cb in callbacks:
            if isinstance(cb, CheckParametersConvergence) and cb.prev is None:
                cb.prev = cb.flatten_shared(approx.params)
        self.state = (0, program, callbacks, score, chunk, every)
        approx.inference = self
        approx.include_transformed = include_transformed
        self._run(n, progressbar)
        return approx

    def refine(self, n, progressbar=True, progressbar_theme=None):
        """Continue the last fit for `n` more iterations (same optimiser state and callbacks)."""
        if self.state is None:
            raise TypeError("Need to call `.fit` first")
        self._run(_check_n(n, f"{type(self).__name__}.refine"), progressbar)
        return self.approx

    def _score(self, score):
        if score is None:
            return self.returns_loss
        if score and not self.returns_loss:
            warnings.warn(f"method `fit` got `score == True` but {type(self).__name__} does not return loss. "
                          "Ignoring `score` argument", stacklevel=3)
            return False
        return bool(score)

    def _run(self, n, progressbar):
        done0, program, callbacks, score, chunk, every = self.state
        approx = self.approx
        data = sharding.placed_data(approx.model, *self._shard)
        losses, stop = [], {}

        def run_chunk(state, start, stop_):
            return program(state, start, stop_, data)

        def record(start, _n, out, state):
            k = int(out["done"])
            losses.append(np.asarray(out["loss"][:k]))
            if int(out["bad"]) >= 0:
                stop["bad"] = start + k
            if every is None or not callbacks or k == 0:
                return
            b = (start + k) // every * every
            if b <= start:
                return
            kept = approx.vparams
            approx.vparams = out["snap"].params
            hist = np.concatenate([self.hist, *losses])[:b] if score else None
            try:
                for cb, cb_every in zip(callbacks, [int(getattr(cb, "every", 1)) for cb in callbacks]):
                    if b % cb_every == 0:
                        cb(approx, hist, b)
            except StopIteration as e:
                stop["converged"], stop["message"], stop["snap"] = b, str(e), out["snap"]
            finally:
                approx.vparams = kept

        def status(out, state):
            if not score:
                return ""
            recent = np.concatenate(losses[-(AVERAGE_OVER // max(chunk, 1) + 2):])[-AVERAGE_OVER:] if losses else []
            recent = np.asarray(recent)[np.isfinite(recent)]
            return f"Average Loss = {recent.mean():,.5g}" if len(recent) else ""

        result = run_loop(run_chunk, self._fit_state, done0 + n, description="Fitting", progressbar=progressbar,
                          record=record, status=status, finished=lambda out, state: bool(stop), chunk=chunk,
                          start=done0)
        state, done = result.state, done0 + sum(len(x) for x in losses)
        new_hist = np.concatenate(losses) if losses else np.zeros(0)
        if "converged" in stop:
            state, done = stop["snap"], stop["converged"]
            new_hist = new_hist[:done - done0]
            logger.info(stop["message"])
        self._fit_state = state
        approx.vparams = state.params
        if score:
            self.hist = np.concatenate([self.hist, new_hist])
        approx.hist = self.hist
        self.state = (done, program, callbacks, score, chunk, every)
        if "bad" in stop:
            warnings.warn(f"pm.fit: the {'loss' if score else 'parameters'} became non-finite (NaN or inf) at "
                          f"iteration {stop['bad'] + 1}; stopped there and kept the approximation of iteration "
                          f"{stop['bad']}. Check the model (e.g. with model.debug()), try a smaller learning rate "
                          "or total_grad_norm_constraint=", RuntimeWarning, stacklevel=4)
        elif result.interrupted:
            warn_interrupted("pm.fit", done - done0, n, stacklevel=4)


def _check_n(n, where):
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise ValueError(f"{where}(n={n!r}): the number of iterations must be a non-negative int")
    return int(n)


class KLqp(Inference):
    """Fits an approximation with a density by minimising KL(q || p), i.e. maximising the ELBO; `beta` scales
    the KL part (ELBO_beta = E log p(data | z) - beta KL(q || prior))."""

    def __init__(self, approx, beta=1.0):
        if not approx.has_logq:
            raise TypeError(f"{type(self).__name__} needs an approximation with a density; "
                            f"{type(approx).__name__} has none (use SVGD for particles)")
        super().__init__(approx)
        self.beta = float(beta)

    def _hyper(self):
        return (self.beta,)

    def objective(self, n_mc, c):
        approx, cm, beta = self.approx, self.approx.cm, self.beta
        free = tuple(rv.name for rv in approx.model.free_RVs)

        def loss(params, seed, data):
            z, logq = approx.draw(params, seed, n_mc)
            logp = jax.vmap(cm.logp, (0, None))(z, data)
            if beta == 1.0:
                value = -(logp.mean() - logq.mean()) / c
            else:
                varlogp = jax.vmap(lambda x: cm.logp(x, data, vars=free))(z)
                value = (-(logp - varlogp).mean() + beta * (logq.mean() - varlogp.mean())) / c
            return value, value

        return loss


class ADVI(KLqp):
    """Mean-field ADVI: a Gaussian with independent coordinates in the unconstrained space (PyMC's ADVI)."""

    def __init__(self, *args, **kwargs):
        super().__init__(MeanField(*args, **kwargs))


class FullRankADVI(KLqp):
    """Full-rank ADVI: a Gaussian with a full covariance in the unconstrained space."""

    def __init__(self, *args, **kwargs):
        super().__init__(FullRank(*args, **kwargs))


class ImplicitGradient(Inference):
    """Fits an approximation by the Stein variational gradient (kernelised Stein discrepancy, RBF kernel) at
    `temperature`."""

    returns_loss = False

    def __init__(self, approx, estimator=None, kernel=None, temperature=1, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {sorted(kwargs)}")
        if kernel is not None and kernel is not stein.rbf:
            raise ValueError(f"{type(self).__name__}(kernel=...): only the RBF kernel (PyMC's default) is supported")
        super().__init__(approx)
        self.temperature = float(temperature)

    def _hyper(self):
        return (self.temperature,)

    def objective(self, n_mc, c):
        approx, cm, temperature = self.approx, self.approx.cm, self.temperature

        def loss(params, seed, data):
            z = params["histogram"] if isinstance(approx, Empirical) else approx.draw(params, seed, n_mc)[0]
            zs = jax.lax.stop_gradient(z)
            dlogp = jax.vmap(jax.grad(cm.logp), (0, None))(zs, data)
            phi = stein.stein_direction(zs, dlogp, temperature, c)
            surrogate = -jnp.sum(jax.lax.stop_gradient(phi) * z)
            return surrogate, jnp.zeros((), z.dtype)

        return loss


class SVGD(ImplicitGradient):
    """Stein variational gradient descent: `n_particles` particles, started at `start` plus N(0, jitter) noise."""

    def __init__(self, n_particles=100, jitter=1, model=None, start=None, random_seed=None, estimator=None,
                 kernel=None, temperature=1, **kwargs):
        empirical = Empirical(size=n_particles, jitter=jitter, start=start, model=model, random_seed=random_seed)
        super().__init__(empirical, estimator=estimator, kernel=kernel, temperature=temperature, **kwargs)


class ASVGD(ImplicitGradient):
    """Amortised SVGD: moves a parametric approximation (default FullRank) along the Stein gradient of its draws
    (`obj_n_mc=500` draws per iteration)."""

    default_n_mc = 500

    def __init__(self, approx=None, estimator=None, kernel=None, temperature=1, model=None, random_seed=None,
                 **kwargs):
        warnings.warn(
            "You are using experimental inference Operator. It requires careful choice of temperature, default is "
            "1. Default temperature works well for low dimensional problems and for significant `n_obj_mc`. "
            "Temperature > 1 gives more exploration power to algorithm, < 1 leads to undesirable results. Please "
            "take it in account when looking at inference result. Posterior variance is often **underestimated** "
            "when using temperature = 1.", stacklevel=2)
        if approx is None:
            approx = FullRank(model=model, random_seed=random_seed)
        super().__init__(approx, estimator=estimator, kernel=kernel, temperature=temperature, **kwargs)


METHODS = {"advi": ADVI, "fullrank_advi": FullRankADVI, "svgd": SVGD, "asvgd": ASVGD}


def fit(n=10000, method="advi", model=None, random_seed=None, start=None, start_sigma=None, inf_kwargs=None, *,
        backend=None, include_transformed=False, **kwargs):
    """Fit a variational approximation (PyMC's `pm.fit`): `method` is "advi", "fullrank_advi", "svgd", "asvgd",
    "pathfinder" or an Inference instance; returns the Approximation (Pathfinder: its draws as ArviZ data)."""
    inf_kwargs = {} if inf_kwargs is None else dict(inf_kwargs)
    if isinstance(method, str) and method.lower() == "pathfinder":
        from jaxmc.variational.pathfinder import fit_pathfinder

        return fit_pathfinder(model=modelcontext(model), random_seed=random_seed, **inf_kwargs, **kwargs)
    if random_seed is not None:
        inf_kwargs["random_seed"] = random_seed
    if start is not None:
        inf_kwargs["start"] = start
    if start_sigma is not None:
        if not (isinstance(method, str) and method.lower() == "advi"):
            raise NotImplementedError("pm.fit(start_sigma=...) is only available for method='advi'")
        inf_kwargs["start_sigma"] = start_sigma
    model = modelcontext(model)
    choices = sorted([*METHODS, "pathfinder"])
    if isinstance(method, str):
        if method.lower() not in METHODS:
            raise KeyError(f"pm.fit(method={method!r}): method should be one of {choices} or an Inference instance "
                           "(pm.ADVI(), pm.FullRankADVI(), pm.SVGD(), pm.ASVGD())")
        inference = METHODS[method.lower()](model=model, **inf_kwargs)
    elif isinstance(method, Inference):
        inference = method
    else:
        raise TypeError(f"pm.fit(method=...) should be one of {choices} or an Inference instance; found "
                        f"{type(method).__name__} {method!r}")
    return inference.fit(n, backend=backend, include_transformed=include_transformed, **kwargs)
