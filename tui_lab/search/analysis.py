"""What a sweep's trials say, computed once for every view of them: the Search view's text
charts, report.md and the figures. Best so far (per trial and per trial-epoch spent), each
parameter's values placed on an axis (slice plots, parallel coordinates), a two-parameter
heat-map, and the two parameters to draw it for (Optuna's importance, search/study.py).

Only completed trials have a score: diverged and failed trials carry the objective's worst
value as a signal to the sampler, and pruned ones an unfinished one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from tui_lab.config import ParamSpace
from tui_lab.events import TrialRecord
from tui_lab.search.space import display

HEATMAP_BINS = 6  # per axis, for a parameter with more distinct values than this
OBJECTIVE_TITLES = {"val_acc": "validation accuracy", "val_loss": "validation loss"}


def objective_title(objective: str) -> str:
    return OBJECTIVE_TITLES.get(objective, objective)


def has_score(record: TrialRecord) -> bool:
    """Completed with a finite objective value."""
    value = record.value
    return record.status == "completed" and value is not None and math.isfinite(value)


def scored(records: Sequence[TrialRecord]) -> list[TrialRecord]:
    """The trials with a score, in trial order."""
    return sorted((r for r in records if has_score(r)), key=lambda r: r.number)


def best_so_far(
    records: Sequence[TrialRecord], direction: str, by_epochs: bool = False
) -> tuple[list[float], list[float]]:
    """The best value so far as a step line, over trial numbers or (``by_epochs``) over the
    trial-epochs spent until then, counting every trial's epochs, pruned ones included: what
    each method paid to find its best (lecture week 6)."""
    pick = max if direction == "maximize" else min
    xs: list[float] = []
    ys: list[float] = []
    best: float | None = None
    spent = 0
    for r in sorted(records, key=lambda r: r.number):
        spent += r.epochs
        if not has_score(r):
            continue
        assert r.value is not None
        x = float(spent if by_epochs else r.number)
        new = r.value if best is None else pick(best, r.value)
        if best is not None and new != best:
            xs.append(x)
            ys.append(best)
        best = new
        xs.append(x)
        ys.append(best)
    return xs, ys


def numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_log_scale(space: dict[str, ParamSpace] | None, key: str, values: Sequence[Any]) -> bool:
    """Learning rates always: their lesson is in decades, and on a linear axis 0.001 and 0.01
    overlap. Other parameters as the space says when known; without it (a followed study, an
    opened export), values spanning 100× or more (weight decays) are shown on a log axis."""
    nums = [v for v in values if numeric(v)]
    positive = len(nums) == len(values) and bool(nums) and min(nums) > 0
    if key.endswith("lr") and positive:  # optimizer.lr, schedule.max_lr
        return True
    if space is not None and key in space:
        return space[key].log
    return positive and max(nums) >= 100 * min(nums)


@dataclass(frozen=True)
class ParamAxis:
    """Where each trial's value of one parameter sits on a plot axis: numbers as they are
    (log10 for a log-scale one), choices at 0, 1, 2 … with their labels."""

    key: str
    positions: list[float]  # one per trial given, in order
    log: bool
    labels: list[str] | None  # the choices, for a categorical axis

    @property
    def title(self) -> str:
        return f"log10({self.key})" if self.log else self.key

    def ticks(self) -> list[tuple[float, str]]:
        """A few positions with what they stand for (the choices, or the values)."""
        if self.labels is not None:
            return [(float(i), label) for i, label in enumerate(self.labels)]
        if not self.positions:
            return []
        lo, hi = min(self.positions), max(self.positions)
        marks = [lo] if lo == hi else [lo, (lo + hi) / 2, hi]
        return [(m, display(10**m if self.log else m)) for m in marks]

    def scale(self, position: float) -> float:
        """A position scaled to [0, 1] (parallel coordinates: every axis the same height)."""
        if self.labels is not None:
            return position / max(1, len(self.labels) - 1)
        lo, hi = min(self.positions, default=0.0), max(self.positions, default=1.0)
        return 0.5 if hi == lo else (position - lo) / (hi - lo)

    def normalized(self) -> list[float]:
        return [self.scale(p) for p in self.positions]


def param_axis(
    records: Sequence[TrialRecord], key: str, space: dict[str, ParamSpace] | None = None
) -> ParamAxis:
    """The axis of parameter ``key`` for ``records`` (each must have the parameter)."""
    values = [r.params[key] for r in records]
    if values and all(numeric(v) for v in values):
        log = is_log_scale(space, key, values)
        positions = [math.log10(v) if log else float(v) for v in values]
        return ParamAxis(key, positions, log, None)
    choices = space[key].choices if space and key in space else None
    labels = list(dict.fromkeys([display(c) for c in choices or []] + [display(v) for v in values]))
    return ParamAxis(key, [float(labels.index(display(v))) for v in values], False, labels)


def param_keys(records: Sequence[TrialRecord], space: dict[str, ParamSpace] | None) -> list[str]:
    if space is not None:
        return list(space)
    return list(dict.fromkeys(k for r in records for k in r.params))


def with_params(records: Sequence[TrialRecord], keys: Sequence[str]) -> list[TrialRecord]:
    """The scored trials that have every one of ``keys``."""
    return [r for r in scored(records) if all(k in r.params for k in keys)]


def top_two(importance: dict[str, float] | None, keys: Sequence[str]) -> tuple[str, str] | None:
    """The two parameters that mattered most (Optuna's importance), else the first two."""
    ranked = sorted(keys, key=lambda k: -(importance or {}).get(k, 0.0))
    return (ranked[0], ranked[1]) if len(ranked) >= 2 else None


@dataclass(frozen=True)
class HeatMap:
    """The best objective in each cell of two parameters' values (None: no scored trial).
    Labels name each bin (a value, or a range ``lo–hi``); ticks are the same, shorter (a
    range's lower end in two digits), for narrow text."""

    x: str
    y: str
    x_labels: list[str]
    y_labels: list[str]
    cells: list[list[float | None]]  # cells[row = y bin][column = x bin]
    x_ticks: list[str]
    y_ticks: list[str]


def _tick(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2g}"


def _bins(axis: ParamAxis, most: int) -> tuple[list[int], list[str], list[str]]:
    """Each trial's bin along an axis, the bins' labels and their ticks: a column per choice
    or distinct value, or ``most`` equal ranges (of log10 for a log axis)."""
    if axis.labels is not None:
        return [int(p) for p in axis.positions], axis.labels, axis.labels
    distinct = sorted(set(axis.positions))
    if len(distinct) <= most:
        labels = [display(10**p if axis.log else p) for p in distinct]
        return [distinct.index(p) for p in axis.positions], labels, labels
    lo, hi = distinct[0], distinct[-1]
    width = (hi - lo) / most
    edges = [10 ** (lo + width * i) if axis.log else lo + width * i for i in range(most + 1)]
    labels = [f"{display(a)}–{display(b)}" for a, b in pairwise(edges)]
    bins = [min(most - 1, int((p - lo) / width)) for p in axis.positions]
    return bins, labels, [_tick(e) for e in edges[:-1]]


def heatmap(
    records: Sequence[TrialRecord],
    x: str,
    y: str,
    direction: str,
    space: dict[str, ParamSpace] | None = None,
    bins: int = HEATMAP_BINS,
) -> HeatMap:
    """Bin the scored trials by two parameters (at most ``bins`` ranges of a numeric one) and
    keep each cell's best value."""
    trials = with_params(records, (x, y))
    x_bins, x_labels, x_ticks = _bins(param_axis(trials, x, space), bins)
    y_bins, y_labels, y_ticks = _bins(param_axis(trials, y, space), bins)
    pick = max if direction == "maximize" else min
    cells: list[list[float | None]] = [[None] * len(x_labels) for _ in y_labels]
    for r, i, j in zip(trials, x_bins, y_bins, strict=True):
        assert r.value is not None
        old = cells[j][i]
        cells[j][i] = r.value if old is None else pick(old, r.value)
    return HeatMap(x, y, x_labels, y_labels, cells, x_ticks, y_ticks)


def best_quarter(records: Sequence[TrialRecord], direction: str) -> set[tuple[str, int]]:
    """(study, number) of the best quarter of the scored trials (at least one): the lines a
    parallel-coordinates plot shows in colour."""
    sign = -1.0 if direction == "maximize" else 1.0
    ranked = sorted(scored(records), key=lambda r: sign * (r.value or 0.0))
    return {(r.study, r.number) for r in ranked[: max(1, len(ranked) // 4)]}
