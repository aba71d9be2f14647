"""What the UI knows about each run: the events it received, kept in full and in order.

The UI renders these and never computes metrics: every loss, accuracy, rate and lr on screen
comes from an event. Only display transforms live here — the chart's x-axis choice, EMA
smoothing of a noisy curve, and downsampling to about twice a chart's width (plotext's render
cost grows with the points it draws).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tui_lab.events import (
    FINAL_STATUSES,
    EpochEnded,
    Event,
    ExperimentFinished,
    InternalsLogged,
    RunFinished,
    RunStarted,
    RunStatusChanged,
    SharpnessLogged,
    StepLogged,
)

XAxis = Literal["step", "epoch", "seconds"]
X_AXES: tuple[XAxis, ...] = ("step", "epoch", "seconds")
SMOOTHING_WEIGHT = 0.6  # TensorBoard's default EMA weight
PACE_SECONDS = 1.0  # steps that arrived within less (a replay, the first logs) give no pace


@dataclass
class RunHistory:
    name: str
    index: int
    status: str = "pending"
    started: RunStarted | None = None
    steps: list[StepLogged] = field(default_factory=list)
    epochs: list[EpochEnded] = field(default_factory=list)
    internals: list[InternalsLogged] = field(default_factory=list)
    sharpness: list[SharpnessLogged] = field(default_factory=list)
    result: RunFinished | None = None
    error: str | None = None
    # (monotonic time, step) when the first and the latest StepLogged arrived: the run's pace
    # in wall-clock time, waiting for a worker included
    first_seen: tuple[float, int] | None = None
    last_seen: tuple[float, int] | None = None

    @property
    def last_step(self) -> StepLogged | None:
        return self.steps[-1] if self.steps else None

    @property
    def last_epoch(self) -> EpochEnded | None:
        return self.epochs[-1] if self.epochs else None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def eta_seconds(self) -> float | None:
        """Remaining steps at the pace this run's steps arrived in wall-clock time (which
        counts its evaluations and its waits for a worker while other runs train), else at
        its own training pace."""
        last = self.last_step
        if self.finished or last is None or self.started is None or last.step == 0:
            return None
        remaining = max(0, self.started.total_steps - last.step)
        if self.first_seen and self.last_seen:
            (t0, s0), (t1, s1) = self.first_seen, self.last_seen
            if t1 - t0 >= PACE_SECONDS and s1 > s0:
                return remaining * (t1 - t0) / (s1 - s0)
        return remaining * last.seconds / last.step


class ComparisonState:
    """Histories of every run of a comparison, advanced one event at a time (UI thread only)."""

    def __init__(self, names: list[str]):
        self.runs: dict[str, RunHistory] = {n: RunHistory(n, i) for i, n in enumerate(names)}
        self.finished: ExperimentFinished | None = None
        self.version = 0  # bumped on every event: widgets redraw only when it moved

    def apply(self, event: Event) -> None:
        self.version += 1
        if isinstance(event, ExperimentFinished):
            self.finished = event
            return
        run = self.runs[event.run]
        if isinstance(event, RunStarted):
            run.started = event
        elif isinstance(event, StepLogged):
            run.steps.append(event)
            run.last_seen = (time.monotonic(), event.step)
            run.first_seen = run.first_seen or run.last_seen
        elif isinstance(event, EpochEnded):
            run.epochs.append(event)
        elif isinstance(event, InternalsLogged):
            run.internals.append(event)
        elif isinstance(event, SharpnessLogged):
            run.sharpness.append(event)
        elif isinstance(event, RunStatusChanged):
            run.status = event.status
        elif isinstance(event, RunFinished):
            run.result, run.status, run.error = event, event.status, event.error

    def fail_unfinished(self, error: str, status: str = "failed") -> None:
        """The experiment could not start (missing dataset, absent device), or the process
        writing it died (``tui-lab open``): say so on each unfinished run."""
        self.version += 1
        for run in self.runs.values():
            if not run.finished:
                run.status, run.error = status, error

    def add_reference(self, run: RunHistory, name: str) -> None:
        """A past run shown beside these (the Lab's reference runs): drawn in the next colour,
        listed in the tables, never trained or exported with them."""
        self.version += 1
        index = len(self.runs)
        status = run.status if run.finished else "stopped"  # a snapshot of a run cut short
        self.runs[name] = dataclasses.replace(run, name=name, index=index, status=status)

    @property
    def done(self) -> bool:
        return self.finished is not None or all(r.finished for r in self.runs.values())


@dataclass(frozen=True)
class MetricSpec:
    """One chart: which events feed it and which value of each it plots."""

    title: str
    source: Literal["steps", "epochs"]
    value: Callable[[StepLogged | EpochEnded], float | None]
    smoothable: bool = False


def _percent(e: StepLogged | EpochEnded) -> float | None:
    acc = getattr(e, "val_acc", None)
    return None if acc is None else 100 * acc


def _log10_lr(e: StepLogged | EpochEnded) -> float | None:
    # plotext 5's log axes crash on the second render: plot log10(lr) on a linear axis instead
    return math.log10(e.lr) if e.lr > 0 else None


METRICS: dict[str, MetricSpec] = {
    "train_loss": MetricSpec("Training loss", "steps", lambda e: e.loss, smoothable=True),
    "val_loss": MetricSpec("Validation loss", "epochs", lambda e: e.val_loss),  # type: ignore[union-attr]
    "val_acc": MetricSpec("Validation accuracy (%)", "epochs", _percent),
    "lr": MetricSpec("Learning rate (log10)", "steps", _log10_lr),
}


def ema(values: list[float], weight: float = SMOOTHING_WEIGHT) -> list[float]:
    """Debiased exponential moving average (as TensorBoard draws smoothed curves)."""
    out, acc = [], 0.0
    for i, v in enumerate(values, start=1):
        acc = weight * acc + (1 - weight) * v
        out.append(acc / (1 - weight**i))
    return out


def downsample(
    xs: list[float], ys: list[float], max_points: int
) -> tuple[list[float], list[float]]:
    """Every k-th point so that at most ``max_points`` remain; the latest point is always kept."""
    n = len(xs)
    if n <= max_points:
        return xs, ys
    stride = math.ceil(n / max(1, max_points - 1))
    keep = [*list(range(0, n - 1, stride)), n - 1]
    return [xs[i] for i in keep], [ys[i] for i in keep]


def points(
    run: RunHistory, metric: str, x_axis: XAxis, smooth: bool
) -> tuple[list[int], list[float], list[float]]:
    """Every (step, x, y) of one run's curve: finite values only, smoothed if asked. The step
    says which points of two seeds of a configuration belong together (state/seeds.py)."""
    spec = METRICS[metric]
    steps: list[int] = []
    xs: list[float] = []
    ys: list[float] = []
    for event in getattr(run, spec.source):
        value = spec.value(event)
        if value is not None and math.isfinite(value):
            steps.append(event.step)
            xs.append(float(getattr(event, x_axis)))
            ys.append(value)
    if smooth and spec.smoothable:
        ys = ema(ys)
    return steps, xs, ys


def series(
    run: RunHistory, metric: str, x_axis: XAxis, smooth: bool, max_points: int
) -> tuple[list[float], list[float]]:
    """The (x, y) points a chart draws for one run, downsampled."""
    _, xs, ys = points(run, metric, x_axis, smooth)
    return downsample(xs, ys, max_points)
