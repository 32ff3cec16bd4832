"""The flagship demo: Bayesian regression with measurement error on the bundled phones data.

    python -m jaxmc.demo [--out DIR] [--draws N] [--tune N] [--chains N] [--seed S]

One row per phone: how central it is in a messaging network, how bursty and reciprocal its messaging is,
and which share of its messages were on a topic, measured with a binomial standard error. The model
(written exactly as with PyMC) regresses the share on the standardized features, with a noise scale that
is a multiple `sigma` of each phone's measurement error; then it predicts the share of 10 new phones with
95% credible intervals. Prints a convergence summary, the coefficient table and the predictions, and
writes `coefficients.png` and `predictions.png` to the output folder (default `./demo_output`).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration",
                   "/jax/core/compile/jaxpr_to_mlir_module_duration",
                   "/jax/core/compile/backend_compile_duration")
_COMPILE_INTERVALS: list[tuple[float, float]] = []  # (start, end) of each tracing/lowering/compile event
_LISTENING = [False]


def _listen_compile_time():
    """Record when JAX traced, lowered and compiled (jax.monitoring events), to split wall times."""
    if _LISTENING[0]:
        return
    try:
        import jax.monitoring

        def listener(event, duration, **kwargs):
            if event in _COMPILE_EVENTS:
                end = time.perf_counter()
                _COMPILE_INTERVALS.append((end - duration, end))

        jax.monitoring.register_event_duration_secs_listener(listener)
        _LISTENING[0] = True
    except Exception:  # pragma: no cover - older/newer JAX without these events: report no split
        pass


def compile_seconds(start: float, end: float) -> float:
    """Wall time between `start` and `end` during which JAX was tracing, lowering or compiling: the union of
    the events' intervals (events in parallel threads and nested events count once)."""
    spans = sorted((max(a, start), min(b, end)) for a, b in _COMPILE_INTERVALS if b > start and a < end)
    total, cur_a, cur_b = 0.0, None, None
    for a, b in spans:
        if cur_b is None or a > cur_b:
            total += 0.0 if cur_b is None else cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    return total + (0.0 if cur_b is None else cur_b - cur_a)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m jaxmc.demo", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("demo_output"), help="folder for the PNG plots "
                   "(default ./demo_output)")
    p.add_argument("--draws", type=int, default=4000, help="draws per chain (default 4000)")
    p.add_argument("--tune", type=int, default=1000, help="warm-up steps per chain (default 1000)")
    p.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return p.parse_args(argv)


def build_model(a, pm=None):
    """The talk's model, written exactly as in PyMC, on `phones_arrays()` output `a`; `pm` is jaxmc by
    default, or `pymc` (the benchmarks and the parity tests build the same code with both)."""
    if pm is None:
        import jaxmc as pm

    data_features, target, target_err = a.X, a.y, a.y_err
    with pm.Model(coords={"N": a.ids, "M": a.features}) as model:
        X = pm.Data("X", data_features, dims=("N", "M"))
        y = pm.Data("y", target, dims="N")
        y_err = pm.Data("y_err", target_err, dims="N")
        m = pm.Normal("m", mu=0, sigma=1, dims="M")
        b = pm.Normal("b", mu=0, sigma=1)
        sigma = pm.HalfNormal("sigma", sigma=1) * y_err
        y_pred = pm.math.dot(X, m) + b
        pm.Normal("y_pred", mu=y_pred, sigma=sigma, observed=y, dims="N")
    return model


def convergence(idata) -> dict:
    """max r_hat, min bulk/tail ESS over m, b, sigma; divergences; sampling time."""
    from jaxmc.convert import group_dataset, import_arviz

    az = import_arviz()
    post = group_dataset(idata, "posterior")[["m", "b", "sigma"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = az.rhat(post)
        bulk = az.ess(post, method="bulk")
        tail = az.ess(post, method="tail")

    def ext(ds, f):
        return float(f([float(f(ds[v].values)) for v in ds.data_vars]))

    return {"max_r_hat": ext(rhat, np.max), "min_ess_bulk": ext(bulk, np.min), "min_ess_tail": ext(tail, np.min),
            "divergences": int(idata.sample_stats["diverging"].values.sum()),
            "sampling_time": float(idata.posterior.attrs.get("sampling_time", np.nan)),
            "mean_tree_depth": float(idata.sample_stats["tree_depth"].values.mean())
            if "tree_depth" in idata.sample_stats else float("nan")}


def coefficient_table(idata):
    """`az.summary` of m (by feature name), b and sigma, with 95% HDIs, rounded for printing."""
    from jaxmc.convert import arviz_major, import_arviz

    az = import_arviz()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if arviz_major() >= 1:
            table = az.summary(idata, var_names=["m", "b", "sigma"], ci_prob=0.95, ci_kind="hdi", round_to="none")
            table = table.rename(columns={"hdi95_lb": "hdi_2.5%", "hdi95_ub": "hdi_97.5%"})
        else:
            table = az.summary(idata, var_names=["m", "b", "sigma"], hdi_prob=0.95, round_to="none")
    table.insert(2, "var", table["sd"] ** 2)
    return table


def prediction_table(pred, n_messages=None):
    """Per new phone: posterior predictive mean and 95% credible interval (2.5% and 97.5% quantiles)."""
    import pandas as pd

    yp = pred.predictions["y_pred"]
    draws = yp.stack(sample=("chain", "draw")).transpose("N", "sample").values
    table = pd.DataFrame({
        "mean": draws.mean(axis=1),
        "2.5%": np.quantile(draws, 0.025, axis=1),
        "97.5%": np.quantile(draws, 0.975, axis=1),
    }, index=pd.Index(np.asarray(yp["N"].values).astype(str), name="phone_id"))
    if n_messages is not None:
        table.insert(0, "n_messages", np.asarray(n_messages))
    return table


def _fmt_coef(table) -> str:
    cols = {"mean": "{:.5f}", "sd": "{:.2e}", "var": "{:.2e}", "hdi_2.5%": "{:.5f}", "hdi_97.5%": "{:.5f}",
            "mcse_mean": "{:.1e}", "mcse_sd": "{:.1e}", "ess_bulk": "{:.0f}", "ess_tail": "{:.0f}",
            "r_hat": "{:.3f}"}
    out = table[[c for c in cols if c in table]].copy()
    out = out.astype(object)
    for c in out:
        out[c] = [cols[c].format(v) for v in table[c]]
    return out.to_string()


def _fmt_pred(table) -> str:
    out = table.copy().astype(object)
    for c in ("mean", "2.5%", "97.5%"):
        out[c] = [f"{v:.4f}" for v in table[c]]
    return out.to_string()


# ---------------------------------------------------------------------- plots
def plot_coefficients(idata, features, path: Path, truth: dict | None = None):
    """One panel per coefficient: posterior histogram, mean, 95% interval (and the simulation's truth)."""
    import matplotlib.pyplot as plt

    post = idata.posterior
    panels = [(f"m[{f}]", f"{f}", post["m"].sel(M=f).values.ravel()) for f in features]
    panels += [("b", "b (intercept)", post["b"].values.ravel()),
               ("sigma", "sigma (noise / measurement error)", post["sigma"].values.ravel())]
    ncol = 3
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.6 * nrow + 0.6), layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    handles = None
    for ax, (key, title, x) in zip(axes, panels):
        lo, hi = np.quantile(x, [0.025, 0.975])
        ax.hist(x, bins=int(np.clip(np.sqrt(x.size) / 2, 20, 60)), density=True, color="#8fb3d9", edgecolor="none", label="posterior draws")
        ax.axvspan(lo, hi, color="#1f5fa8", alpha=0.12, label="95% credible interval")
        ax.axvline(x.mean(), color="#1f5fa8", lw=2, label="posterior mean")
        if truth and key in truth:
            ax.axvline(truth[key], color="#c0392b", lw=1.5, ls="--", label="value used to simulate the data")
        ax.set_title(f"{title}\nmean {x.mean():.4f}, 95% [{lo:.4f}, {hi:.4f}]", fontsize=10.5)
        ax.set_xlabel("change in share per SD of feature" if key.startswith("m[") else
                      ("share at average features" if key == "b" else "multiplier of y_err"), fontsize=9)
        ax.set_yticks([])
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.tick_params(axis="x", labelsize=8, labelrotation=20)
        handles = ax.get_legend_handles_labels()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.legend(*handles, loc="outside lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle(f"Posterior of the coefficients ({x.size:,} draws):  share_on_topic ~ Normal(X @ m + b, "
                 "sigma * y_err)", fontsize=13)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_predictions(table, path: Path):
    """Each new phone's posterior predictive mean with its 95% credible interval."""
    import matplotlib.pyplot as plt

    n = len(table)
    fig, ax = plt.subplots(figsize=(9.5, 0.45 * n + 2.2), layout="constrained")
    ypos = np.arange(n)[::-1]
    mean, lo, hi = table["mean"].values, table["2.5%"].values, table["97.5%"].values
    ax.hlines(ypos, lo, hi, color="#1f5fa8", lw=3, alpha=0.6, label="95% credible interval")
    ax.plot(mean, ypos, "o", color="#1f5fa8", ms=7, label="posterior predictive mean")
    for yv, m_, l_, h in zip(ypos, mean, lo, hi):
        ax.annotate(f"{m_:.3f}  [{l_:.3f}, {h:.3f}]", (h, yv), xytext=(6, -3), textcoords="offset points",
                    fontsize=8)
    labels = [f"{pid}  (n={nm:,})" for pid, nm in zip(table.index, table["n_messages"])] \
        if "n_messages" in table else list(table.index)
    ax.set_yticks(ypos, labels)
    ax.set_xlabel("share of messages on topic")
    ax.set_ylabel("new phone (messages sent)")
    ax.set_title("Predicted share on topic for the new phones (95% credible intervals)")
    ax.grid(axis="x", alpha=0.3)
    span = hi.max() - lo.min()
    ax.set_xlim(lo.min() - 0.05 * span, hi.max() + 0.32 * span)
    fig.legend(loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    _listen_compile_time()
    import jaxmc as pm
    from jaxmc.datasets import generate, load_phones, phones_arrays

    t_start = time.perf_counter()
    progress = not args.no_progress

    def say(msg=""):
        print(msg, flush=True)

    df = load_phones()
    a = phones_arrays(df)
    new = df[df["is_new"]]
    say("jaxmc demo: share of messages on topic ~ network features, with measurement error")
    say(f"data: {len(a.y)} training phones, {len(a.new_ids)} new phones, features {', '.join(a.features)}; "
        f"messages per phone {int(df['n_messages'].min())}..{int(df['n_messages'].max())} "
        f"(median {int(df['n_messages'].median())})")
    say(f"sampling: draws={args.draws} tune={args.tune} chains={args.chains} seed={args.seed}")

    model = build_model(a)
    say("compiling the model and NUTS into one JAX program, then sampling ...")
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed,
                          progressbar=progress)
    t_sample = time.perf_counter() - t0
    c_sample = compile_seconds(t0, t0 + t_sample)

    conv = convergence(idata)
    say("\n== Convergence ==")
    say(f"max r_hat {conv['max_r_hat']:.4f} | min ESS bulk {conv['min_ess_bulk']:,.0f} | "
        f"min ESS tail {conv['min_ess_tail']:,.0f} | divergences {conv['divergences']} | "
        f"mean tree depth {conv['mean_tree_depth']:.2f}")
    say(f"pm.sample wall time {t_sample:.1f} s = JAX tracing + compilation {c_sample:.1f} s + running the "
        f"sampler and the rest {t_sample - c_sample:.1f} s")

    say("\n== Coefficients (m per SD of each feature, b, sigma) ==")
    coef = coefficient_table(idata)
    say(_fmt_coef(coef))

    t1 = time.perf_counter()
    say(f"\npredicting the {len(a.new_ids)} new phones (pm.set_data + pm.sample_posterior_predictive) ...")
    with model:
        pm.set_data({"X": a.X_new, "y": np.zeros(len(a.X_new)), "y_err": a.err_new}, coords={"N": a.new_ids})
        pred = pm.sample_posterior_predictive(idata, predictions=True, random_seed=args.seed,
                                              progressbar=False)  # instant once compiled
    t_pred = time.perf_counter() - t1
    c_pred = compile_seconds(t1, t1 + t_pred)
    ptable = prediction_table(pred, new["n_messages"].to_numpy())
    say("== Predictions for the new phones (posterior predictive share on topic) ==")
    say(_fmt_pred(ptable))
    say(f"prediction wall time {t_pred:.1f} s = JAX tracing + compilation {c_pred:.1f} s + drawing "
        f"{t_pred - c_pred:.1f} s")

    t2 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    truth = {f"m[{f}]": v for f, v in generate.COEFS.items()}
    truth.update({"b": generate.BASE_SHARE, "sigma": generate.SIGMA_MULT})
    plot_coefficients(idata, a.features, out / "coefficients.png", truth=truth)
    plot_predictions(ptable, out / "predictions.png")
    t_plot = time.perf_counter() - t2

    total = time.perf_counter() - t_start
    compile_total = compile_seconds(t_start, t_start + total)
    say(f"\nplots: {(out / 'coefficients.png').resolve()}")
    say(f"       {(out / 'predictions.png').resolve()}")
    say(f"total {total:.1f} s: sampling {t_sample:.1f} s, prediction {t_pred:.1f} s, plots {t_plot:.1f} s; "
        f"JAX tracing + compilation {compile_total:.1f} s of it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
