"""Progress bars (rich): the sampler's, as PyMC 6 shows it, and a plain one for forward sampling and other
loops over draws. Silent when disabled."""

from __future__ import annotations

import time

import numpy as np


class ProgressBar:
    """A transient bar over `total` items (draws), updated with the count done; a no-op when disabled."""

    def __init__(self, description: str, total: int, enabled: bool = True):
        self.bar = None
        if enabled and total > 0:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.task = self.bar.add_task(description, total=total)

    def __enter__(self):
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()

    def update(self, done: int, total: int | None = None):
        if self.bar is not None:
            self.bar.update(self.task, completed=done)


class LoopProgress(ProgressBar):
    """A bar over the iterations of an optimisation, variational fit or SMC run (`count=False`: a fraction
    such as SMC's beta, shown in percent), a status text (loss, ELBO, stage) after it; a no-op when disabled."""

    def __init__(self, description: str, total: int, enabled: bool = True, count: bool = True):
        self.bar = None
        if enabled and total > 0:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                       TimeElapsedColumn)

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                MofNCompleteColumn() if count else TaskProgressColumn(),
                                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), transient=False)
            self.task = self.bar.add_task(description, total=total, status="")

    def update(self, done, status: str = "", total=None):
        if self.bar is not None:
            self.bar.update(self.task, completed=done, status=status,
                            **({} if total is None else {"total": total}))


class SamplingProgress:
    """rich progress as PyMC 6 shows it: one bar over warm-up and draws with a gap at the boundary, the phase,
    the step count within the phase per chain, draws per second, divergences, step size; silent when
    disabled."""

    def __init__(self, settings, enabled: bool):
        self.settings = settings
        self.enabled = enabled
        self.done = 0
        self.divergences = 0
        self.t0 = time.perf_counter()
        self._bar = None
        self._note = ""

    def __enter__(self):
        if self.enabled:
            from rich.progress import Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("[bold]{task.fields[phase]}"), _tune_draw_bar(self),
                                 TextColumn("{task.fields[count]}"),
                                 TextColumn("{task.fields[rate]} draws/s"),
                                 TextColumn("divergences {task.fields[div]}"),
                                 TextColumn("step {task.fields[step]}"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), transient=False)
            self._bar.__enter__()
            total = (self.settings.tune + self.settings.draws) * self.settings.chains
            phase = "tune" if self.settings.tune else "draw"
            n = self.settings.tune or self.settings.draws
            self._task = self._bar.add_task("sampling", total=total, phase=phase, count=f"0/{n}", rate="-",
                                            div=0, step="-")
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def extend(self, draws: int):
        """Sampling until converged: the run now goes on to `draws` draws per chain."""
        self.settings = self.settings._replace(draws=draws)
        if self._bar is not None:
            self._bar.update(self._task, total=(self.settings.tune + draws) * self.settings.chains)

    def note(self, text: str):
        """A note after the draw count (sampling until converged: ESS and R-hat against their targets)."""
        self._note = f" {text}"
        if self._bar is not None:
            per_chain = self.done // self.settings.chains - self.settings.tune
            self._bar.update(self._task, count=f"{per_chain}/{self.settings.draws}{self._note}")

    def update(self, start, n, stats, chains=None):
        chains = self.settings.chains if chains is None else chains
        stop = start + n
        tune = self.settings.tune
        div = np.asarray(stats.get("diverging", np.zeros((1, n), bool)))[:, :n]  # (chain, step, ...)
        if stop > tune:
            self.divergences += int(div[:, max(0, tune - start):].sum())
        self.done += n * chains
        if self._bar is None:
            return
        elapsed = time.perf_counter() - self.t0
        per_chain = self.done // self.settings.chains
        if per_chain < tune or not self.settings.draws:
            phase, count = "tune", f"{per_chain}/{tune}"
        else:
            phase, count = "draw", f"{per_chain - tune}/{self.settings.draws}{self._note}"
        step = f"{float(np.mean(np.asarray(stats['step_size'])[:, n - 1])):.3g}" if "step_size" in stats else "-"
        self._bar.update(self._task, completed=self.done, phase=phase, count=count,
                         rate=f"{self.done / elapsed:,.0f}", div=self.divergences, step=step)


def _tune_draw_bar(progress: SamplingProgress):
    """A rich bar column drawn in two parts, warm-up and draws (as many as `progress` has now), with a gap at
    the boundary."""
    from rich.progress import BarColumn, ProgressBar
    from rich.table import Table

    class TuneDrawBar(BarColumn):
        def render(self, task):
            tune, draws = progress.settings.tune, progress.settings.draws
            width = self.bar_width or 40
            w_tune = int(round((width - 1) * tune / max(tune + draws, 1)))
            if not 0 < w_tune < width - 1:
                return super().render(task)
            n_tune = task.total * tune / (tune + draws)
            style = {"style": self.style, "complete_style": self.complete_style,
                     "finished_style": self.finished_style}
            grid = Table.grid(padding=0)
            grid.add_row(ProgressBar(total=n_tune, completed=min(task.completed, n_tune), width=w_tune, **style),
                         " ", ProgressBar(total=task.total - n_tune, completed=max(0.0, task.completed - n_tune),
                                          width=width - 1 - w_tune, **style))
            return grid

    return TuneDrawBar()

