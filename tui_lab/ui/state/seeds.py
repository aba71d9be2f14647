"""A comparison over seeds as the Compare view shows it: runs ``adam@0``, ``adam@1``, … are one
configuration, drawn as the mean over its seeds with a band, and tabled as mean ± 95% CI.

The band at each logged step is the t-based 95% interval of the mean over the seeds that
logged it (results/stats.py); with two seeds that interval is 12.7 standard errors wide and
says little, so two seeds are drawn between their min and their max instead. A step is where
the seeds' points belong together: x is the seeds' mean x (their seconds differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_lab.config import configuration_of
from tui_lab.results.stats import Interval
from tui_lab.results.stats import band as stats_band
from tui_lab.ui.state.comparison import ComparisonState, RunHistory, XAxis, downsample, points

CI_BAND = "band: 95% CI of the mean (t)"
MIN_MAX_BAND = "band: min–max of 2 seeds"


@dataclass(frozen=True)
class Configuration:
    """The runs of one configuration, one per seed (a single run without seeds)."""

    name: str
    runs: tuple[RunHistory, ...]

    @property
    def index(self) -> int:
        """Its colour: its first seed's, as the exported figures colour it."""
        return self.runs[0].index

    @property
    def seeds(self) -> int:
        return len(self.runs)


@dataclass(frozen=True)
class Band:
    """One configuration's curve: the mean at each x, and the band around it."""

    xs: list[float]
    means: list[float]
    lows: list[float]
    highs: list[float]


def configurations(state: ComparisonState) -> list[Configuration]:
    """The comparison's configurations in run order."""
    groups: dict[str, list[RunHistory]] = {}
    for run in state.runs.values():
        groups.setdefault(configuration_of(run.name), []).append(run)
    return [Configuration(name, tuple(runs)) for name, runs in groups.items()]


def colour_indices(state: ComparisonState) -> dict[str, int]:
    """Each run's colour: its configuration's, so that a configuration's seeds look alike."""
    return {run.name: c.index for c in configurations(state) for run in c.runs}


def has_seeds(state: ComparisonState) -> bool:
    return any(c.seeds > 1 for c in configurations(state))


def band_kind(state: ComparisonState) -> str:
    """What the charts' bands are, for the legend."""
    fewest = min((c.seeds for c in configurations(state) if c.seeds > 1), default=0)
    return MIN_MAX_BAND if fewest == 2 else CI_BAND


def band(config: Configuration, metric: str, x_axis: XAxis, smooth: bool, max_points: int) -> Band:
    """The mean and band of ``metric`` over the configuration's seeds at each step any of them
    logged (a seed behind the others leaves the latest steps to the seeds ahead of it)."""
    at: dict[int, tuple[list[float], list[float]]] = {}
    for run in config.runs:
        for step, x, y in zip(*points(run, metric, x_axis, smooth), strict=True):
            xs, ys = at.setdefault(step, ([], []))
            xs.append(x)
            ys.append(y)
    steps = sorted(at)
    xs = [math.fsum(at[s][0]) / len(at[s][0]) for s in steps]
    _, kept = downsample(xs, list(range(len(steps))), max_points)
    bands = [stats_band(at[steps[int(i)]][1]) for i in kept]
    return Band(
        [xs[int(i)] for i in kept],
        [b.estimate for b in bands],
        [b.low for b in bands],
        [b.high for b in bands],
    )


def interval_text(interval: Interval | None, fmt: str, scale: float = 1.0, unit: str = "") -> str:
    """``71.48% ± 7.08`` (one value: ``71.48%``)."""
    if interval is None:
        return "—"
    mean = format(scale * interval.estimate, fmt) + unit
    half = scale * interval.half_width
    return f"{mean} ± {half:{fmt}}" if half > 0 else mean
