"""The toy problem's figure (matplotlib, results/figures.py): the contour of f with every
optimizer's path from the start, and |f − f_min| per step on a log axis, each run in its
colour of the lab."""

from __future__ import annotations

import math
from pathlib import Path

from tui_lab.results.figures import finish_axes, new_figure, save_figure
from tui_lab.results.palette import run_hex
from tui_lab.results.report import FigureFile
from tui_lab.toy2d.problem import Toy2DProblem, Trajectory, contour_grid, view_bounds

GRID = 160
LEVELS = 14


def toy_figures(
    problem: Toy2DProblem, trajectories: list[Trajectory], out_dir: Path, fmt: str
) -> list[FigureFile]:
    fig, (paths, gaps) = new_figure(2, 1, width=11, height=4.8)
    bounds = view_bounds(problem, trajectories)
    grid = contour_grid(problem.expression, bounds, GRID)
    gap = [[_log_gap(v, problem.f_min) for v in row] for row in grid.f]
    paths.contour(grid.x1, grid.x2, gap, LEVELS, colors="0.65", linewidths=0.7, linestyles="solid")
    for i, t in enumerate(trajectories):
        color = run_hex(i)
        shown = t.points if t.diverged_at is None else t.points[:2]
        paths.plot(
            [p.x1 for p in shown],
            [p.x2 for p in shown],
            color=color,
            marker="o",
            markersize=3,
            label=t.run,
        )
        steps = [p.step for p in t.points]
        gaps.plot(steps, [max(abs(p.f - problem.f_min), 1e-300) for p in t.points], color=color)
    paths.plot(*problem.start, marker="*", color="black", markersize=12, linestyle="none")
    paths.set_xlim(bounds[0], bounds[1])
    paths.set_ylim(bounds[2], bounds[3])
    finish_axes(paths, f"paths on f = {problem.expression.text}", "x1", "x2")
    gaps.set_yscale("log")
    finish_axes(gaps, "distance to the minimum per step", "step", "|f − f_min|", legend=False)
    return [save_figure(fig, out_dir, "paths", fmt, "optimizer paths on the contour of f")]


def _log_gap(value: float, f_min: float) -> float:
    """log10 of f − f_min: contour levels spread evenly from the valley to the walls."""
    return math.log10(max(value - f_min, 1e-12)) if math.isfinite(value) else math.nan
