"""A search's figures (matplotlib, results/figures.py): the optimization history with the best
so far per trial and per trial-epoch spent, parallel coordinates, a slice plot per parameter
and the contour of the two parameters that mattered most. Every study of the search is drawn
in the colour of its place (grid and random side by side, like the Search view)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from tui_lab.config import ParamSpace
from tui_lab.events import SearchOutcome, TrialRecord
from tui_lab.results.figures import finish_axes, new_figure, save_figure
from tui_lab.results.palette import run_hex
from tui_lab.results.report import FigureFile
from tui_lab.search.analysis import (
    ParamAxis,
    best_so_far,
    objective_title,
    param_axis,
    param_keys,
    scored,
    top_two,
    with_params,
)
from tui_lab.search.space import display

COLORMAP = "viridis"
SLICE_COLUMNS = 3
CONTOUR_LEVELS = 12


@dataclass(frozen=True)
class StudyTrials:
    """One study as the figures need it: its label (the method), trials and importance."""

    label: str
    records: tuple[TrialRecord, ...]
    importance: dict[str, float] | None


def studies_of(outcomes: list[SearchOutcome]) -> list[StudyTrials]:
    return [StudyTrials(o.plan.method, o.records, o.importance) for o in outcomes]


@dataclass(frozen=True)
class Sweep:
    """What every figure of a search draws from, and where it goes."""

    studies: list[StudyTrials]
    title: str  # the objective, in words
    direction: str
    space: dict[str, ParamSpace] | None
    out_dir: Path
    fmt: str

    def save(self, fig: Figure, stem: str, title: str) -> FigureFile:
        return save_figure(fig, self.out_dir, stem, self.fmt, title)


def search_figures(
    studies: list[StudyTrials],
    objective: str,
    direction: str,
    space: dict[str, ParamSpace] | None,
    out_dir: Path,
    fmt: str,
) -> list[FigureFile]:
    """Every figure there is data for (no scored trial: none)."""
    trials = [r for s in studies for r in s.records]
    keys = param_keys(trials, space)
    if not scored(trials):
        return []
    sweep = Sweep(studies, objective_title(objective), direction, space, out_dir, fmt)
    out = [history(sweep), parallel_coordinates(sweep, keys), slices(sweep, keys)]
    importance = next((s.importance for s in studies if s.importance), None)
    pair = top_two(importance, keys)
    if pair is not None:
        out.append(contour(sweep, pair))
    return out


def history(sweep: Sweep) -> FigureFile:
    studies, title, direction = sweep.studies, sweep.title, sweep.direction
    fig, (per_trial, per_epoch) = new_figure(2, 1, width=11)
    for i, s in enumerate(studies):
        color = run_hex(i)
        done = scored(s.records)
        per_trial.scatter([r.number for r in done], [r.value for r in done], color=color, s=16)
        per_trial.plot(*best_so_far(s.records, direction), color=color, label=s.label)
        per_epoch.plot(*best_so_far(s.records, direction, by_epochs=True), color=color)
        per_epoch.plot([], [], color=color, label=s.label)
    finish_axes(per_trial, f"{title} per trial (line: best so far)", "trial", title)
    finish_axes(per_epoch, "best so far against the training spent", "trial-epochs", title)
    return sweep.save(fig, "optimization_history", "optimization history")


def _label_axis(ax: Axes, axis: ParamAxis, which: str) -> None:
    """Positions under the values they stand for: the choices' names, 10^p on a log axis."""
    target = ax.xaxis if which == "x" else ax.yaxis
    if axis.labels is not None:
        ticks = axis.ticks()
        target.set_ticks([p for p, _ in ticks], [text for _, text in ticks])
    elif axis.log:
        target.set_major_formatter(FuncFormatter(lambda p, _: display(10**p)))
    target.set_label_text(axis.key + (" (log scale)" if axis.log else ""))


def parallel_coordinates(sweep: Sweep, keys: list[str]) -> FigureFile:
    """One panel per study: a line per scored trial across its parameters and the objective,
    coloured by the objective (the same scale in every panel)."""
    studies, title, space = sweep.studies, sweep.title, sweep.space
    values = [r.value for s in studies for r in scored(s.records) if r.value is not None]
    norm = Normalize(min(values), max(values))
    cmap = colormaps[COLORMAP]
    fig, axes = new_figure(
        1, len(studies), width=max(7.0, 1.6 * len(keys) + 3), height=3.6 * len(studies)
    )
    for ax, s in zip(axes, studies, strict=True):
        trials = with_params(s.records, keys)
        columns = [param_axis(trials, k, space) for k in keys]
        rows = list(zip(*(c.normalized() for c in columns), strict=True)) if columns else []
        for r, row in zip(trials, rows, strict=True):
            ys = [*row, norm(r.value)]
            ax.plot(range(len(ys)), ys, color=cmap(norm(r.value)), alpha=0.75, linewidth=1.2)
        for i, column in enumerate(columns):
            ax.axvline(i, color="0.6", linewidth=0.8)
            for position, text in column.ticks():
                xy = (i, column.scale(position))
                ax.annotate(text, xy, xytext=(3, 0), textcoords="offset points", fontsize=7)
        ax.axvline(len(columns), color="0.6", linewidth=0.8)
        ax.set_xticks(range(len(keys) + 1), [*keys, title], fontsize=8)
        ax.set_yticks([])
        ax.set_title(f"{s.label}: parallel coordinates ({len(trials)} scored trials)")
    fig.colorbar(ScalarMappable(norm, cmap), ax=axes, label=title)
    return sweep.save(fig, "parallel_coordinates", "parallel coordinates")


def slices(sweep: Sweep, keys: list[str]) -> FigureFile:
    """The objective against each parameter's value, every study in its colour."""
    studies, title, space = sweep.studies, sweep.title, sweep.space
    columns = min(SLICE_COLUMNS, max(1, len(keys)))
    rows = max(1, math.ceil(len(keys) / columns))
    fig, axes = new_figure(columns, rows, width=4.0 * columns, height=3.4 * rows)
    for ax, key in zip(axes, keys):
        trials = [(i, r) for i, s in enumerate(studies) for r in with_params(s.records, (key,))]
        axis = param_axis([r for _, r in trials], key, space)
        for i, s in enumerate(studies):
            mine = [(x, r) for x, (j, r) in zip(axis.positions, trials, strict=True) if j == i]
            ax.scatter(
                [x for x, _ in mine],
                [r.value for _, r in mine],
                color=run_hex(i),
                label=s.label if len(studies) > 1 else None,
                s=18,
            )
        finish_axes(ax, key, "", title)
        _label_axis(ax, axis, "x")
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    return sweep.save(fig, "slices", "objective against each parameter")


def contour(sweep: Sweep, pair: tuple[str, str]) -> FigureFile:
    """The objective over the two most important parameters: the best trial at each point,
    interpolated between them (where the points span an area), and the trials on top."""
    studies, title, space = sweep.studies, sweep.title, sweep.space
    x_key, y_key = pair
    trials = [(i, r) for i, s in enumerate(studies) for r in with_params(s.records, pair)]
    records = [r for _, r in trials]
    x_axis = param_axis(records, x_key, space)
    y_axis = param_axis(records, y_key, space)
    pick = max if sweep.direction == "maximize" else min
    best: dict[tuple[float, float], float] = {}
    for x, y, r in zip(x_axis.positions, y_axis.positions, records, strict=True):
        assert r.value is not None
        best[(x, y)] = pick(best.get((x, y), r.value), r.value)
    fig, (ax,) = new_figure(width=7.5, height=5.2)
    xs, ys = [p[0] for p in best], [p[1] for p in best]
    if len(set(xs)) > 1 and len(set(ys)) > 1 and len(best) >= 3:
        try:
            filled = ax.tricontourf(xs, ys, list(best.values()), CONTOUR_LEVELS, cmap=COLORMAP)
            fig.colorbar(filled, ax=ax, label=title)
        except (ValueError, RuntimeError):  # all points on one line: no area to fill
            pass
    for i, s in enumerate(studies):
        mine = [
            (x, y)
            for x, y, (j, _) in zip(x_axis.positions, y_axis.positions, trials, strict=True)
            if j == i
        ]
        ax.scatter(
            [x for x, _ in mine],
            [y for _, y in mine],
            color=run_hex(i),
            edgecolor="black",
            s=28,
            label=s.label,
        )
    finish_axes(ax, f"{title} over the two most important parameters", "", "")
    _label_axis(ax, x_axis, "x")
    _label_axis(ax, y_axis, "y")
    return sweep.save(fig, "contour", f"contour of {x_key} and {y_key}")
