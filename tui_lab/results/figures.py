"""Figures for a report, drawn with matplotlib: one file each in ``OUT/figures/``, SVG by
default or PNG (``--figures``), written once at the end of an export in the exporting thread,
never while training. Runs keep their colours of the lab (results/palette.py).

Only matplotlib's object API is used (``Figure``, no pyplot): nothing global, no window, and
each thread draws its own figures. Every kind of job draws with the pieces here
(``new_figure``, ``save_figure``, ``draw_lines``); a comparison's figures are
``comparison_figures``; runs that repeat one configuration with other seeds (``seed_groups``)
are drawn as their mean with a band: its t-based 95% interval (min–max for two seeds).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tui_lab.results.files import atomic_path
from tui_lab.results.palette import run_hex
from tui_lab.results.report import FigureFile, downsample
from tui_lab.results.stats import Interval, band

FIGURES_DIR = "figures"
DPI = 130
MAX_POINTS = 1000  # per curve: a logged step more adds nothing visible, only file size
BAND_ALPHA = 0.2
SEPARATORS = " _-/#:.=@"


@dataclass(frozen=True)
class Line:
    """One run's curve: its name, its colour's index and its finite points."""

    name: str
    index: int
    xs: list[float]
    ys: list[float]


def line(name: str, index: int, xs: Iterable[Any], ys: Iterable[Any]) -> Line:
    """A curve without the points a plot cannot draw (missing, NaN, inf), downsampled."""
    pts = [
        (float(x), float(y))
        for x, y in zip(xs, ys)
        if x is not None and y is not None and math.isfinite(y)
    ]
    kept = downsample([x for x, _ in pts], [y for _, y in pts], MAX_POINTS)
    return Line(name, index, *kept)


def new_figure(columns: int = 1, rows: int = 1, width: float = 7.0, height: float = 4.2):
    """A figure with ``rows × columns`` axes (returned flat, row by row)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def save_figure(fig: Figure, out_dir: Path, stem: str, fmt: str, title: str) -> FigureFile:
    """Write ``OUT/figures/<stem>.<fmt>`` atomically (a reader never sees half a file)."""
    folder = out_dir / FIGURES_DIR
    folder.mkdir(exist_ok=True)
    with atomic_path(folder / f"{stem}.{fmt}") as tmp:
        metadata = {"Date": None} if fmt == "svg" else None  # the same data, the same file
        fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
    return FigureFile(title, f"{FIGURES_DIR}/{stem}.{fmt}")


def mean_band(lines: list[Line]) -> tuple[list[float], list[Interval]]:
    """x, and the mean with its band (stats.band) over the lines at each x any reached."""
    at: dict[float, list[float]] = {}
    for ln in lines:
        for x, y in zip(ln.xs, ln.ys, strict=True):
            at.setdefault(x, []).append(y)
    xs = sorted(at)
    return xs, [band(at[x]) for x in xs]


def band_name(seeds: int) -> str:
    return "min–max" if seeds == 2 else "95% CI"


def draw_lines(
    ax: Axes,
    lines: list[Line],
    groups: dict[str, list[str]] | None = None,
    *,
    label: bool = True,
    **style: Any,
) -> None:
    """Each run in its colour; the runs of a group as their mean with its 95% band, in the
    colour of the group's first run."""
    grouped = {name for members in (groups or {}).values() for name in members}
    for ln in lines:
        if ln.name not in grouped and ln.xs:
            ax.plot(
                ln.xs, ln.ys, color=run_hex(ln.index), label=ln.name if label else None, **style
            )
    for title, members in (groups or {}).items():
        mine = [ln for ln in lines if ln.name in members and ln.xs]
        if not mine:
            continue
        xs, bands = mean_band(mine)
        color = run_hex(mine[0].index)
        name = f"{title} (mean, {band_name(len(mine))} over {len(mine)} seeds)" if label else None
        ax.plot(xs, [b.estimate for b in bands], color=color, label=name, **style)
        lows, highs = [b.low for b in bands], [b.high for b in bands]
        ax.fill_between(xs, lows, highs, color=color, alpha=BAND_ALPHA, linewidth=0)


def finish_axes(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")


def seed_groups(runs: dict[str, dict[str, Any]]) -> dict[str, list[str]] | None:
    """Runs whose configurations differ only in ``training.seed`` are repeats of one
    configuration: each such set of two or more, named by the runs' common name prefix
    (else its first run). None when no configuration was repeated."""
    by_config: dict[str, list[str]] = {}
    for name, cfg in runs.items():
        training = {k: v for k, v in cfg.get("training", {}).items() if k != "seed"}
        key = json.dumps({**cfg, "training": training}, sort_keys=True, default=str)
        by_config.setdefault(key, []).append(name)
    groups = [names for names in by_config.values() if len(names) > 1]
    if not groups:
        return None
    return {_group_name(names): names for names in groups}


def _group_name(names: list[str]) -> str:
    """The names' common start, cut back to its last separator: adam-s0, adam-s1 → adam."""
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    cut = max(prefix.rfind(sep) for sep in SEPARATORS)
    return (prefix[:cut] if cut > 0 else prefix).rstrip(SEPARATORS) or names[0]


def comparison_figures(
    tables: dict[str, list[dict[str, Any]]],
    runs: list[str],
    out_dir: Path,
    fmt: str,
    groups: dict[str, list[str]] | None = None,
) -> list[FigureFile]:
    """Loss (training per logged step, validation per epoch), accuracy (training and
    validation per epoch) and the learning rate on a log axis, every run overlaid."""
    steps = {n: [s for s in tables["steps"] if s["run"] == n] for n in runs}
    epochs = {n: [m for m in tables["metrics"] if m["run"] == n] for n in runs}

    def per_step(key: str) -> list[Line]:
        return [
            line(n, i, [s["epoch"] for s in steps[n]], [s[key] for s in steps[n]])
            for i, n in enumerate(runs)
        ]

    def per_epoch(key: str) -> list[Line]:
        return [
            line(n, i, [m["epoch"] for m in epochs[n]], [m[key] for m in epochs[n]])
            for i, n in enumerate(runs)
        ]

    out = []
    fig, (train, val) = new_figure(2, 1, width=10)
    draw_lines(train, per_step("loss"), groups, linewidth=1)
    finish_axes(train, "training loss (per logged step)", "epoch", "loss")
    draw_lines(val, per_epoch("val_loss"), groups, marker="o")
    finish_axes(val, "validation loss (per epoch)", "epoch", "loss")
    out.append(save_figure(fig, out_dir, "loss", fmt, "training and validation loss"))
    fig, (train, val) = new_figure(2, 1, width=10)
    draw_lines(train, per_epoch("train_acc"), groups, marker="o")
    finish_axes(train, "training accuracy (per epoch)", "epoch", "accuracy")
    draw_lines(val, per_epoch("val_acc"), groups, marker="o")
    finish_axes(val, "validation accuracy (per epoch)", "epoch", "accuracy")
    out.append(save_figure(fig, out_dir, "accuracy", fmt, "training and validation accuracy"))
    fig, (ax,) = new_figure()
    lr_lines = per_step("lr")
    draw_lines(ax, lr_lines, groups, linewidth=1.5)
    if any(y > 0 for ln in lr_lines for y in ln.ys):
        ax.set_yscale("log", nonpositive="mask")
    finish_axes(ax, "learning rate", "epoch", "lr (log scale)")
    out.append(save_figure(fig, out_dir, "lr", fmt, "learning rate per step"))
    return out
