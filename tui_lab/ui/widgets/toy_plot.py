"""The toy view's plot: contour lines of f as dots at a few log-spaced levels, and each
optimizer's path drawn over them in its run's colour."""

from __future__ import annotations

import bisect
import math

from textual_plotext import PlotextPlot

from tui_lab.results.palette import run_color
from tui_lab.toy2d.problem import Toy2DProblem, contour_grid, view_bounds
from tui_lab.toy_functions import Bounds
from tui_lab.ui.sessions.toy import ToyAnimation
from tui_lab.ui.widgets.charts import run_marker

CONTOUR_LEVELS = 12


def contour_points(
    problem: Toy2DProblem, bounds: Bounds, n: int
) -> list[tuple[list[float], list[float]]]:
    """Grid cells where f crosses one of a few log-spaced levels: the contour lines as dots."""
    grid = contour_grid(problem.expression, bounds, n)
    gap = [
        [math.log10(max(v - problem.f_min, 1e-12)) if math.isfinite(v) else math.nan for v in row]
        for row in grid.f
    ]
    finite = sorted(v for row in gap for v in row if math.isfinite(v))
    if len(finite) < 2:
        return []
    lo, hi = finite[len(finite) // 50], finite[-len(finite) // 50 - 1]
    levels = [lo + (hi - lo) * k / CONTOUR_LEVELS for k in range(1, CONTOUR_LEVELS)]
    band = [[bisect.bisect(levels, v) if math.isfinite(v) else -1 for v in row] for row in gap]
    by_level: dict[int, tuple[list[float], list[float]]] = {}
    for i in range(n - 1):
        for j in range(n - 1):
            b = band[i][j]
            if b != band[i][j + 1] or b != band[i + 1][j]:
                xs, ys = by_level.setdefault(b, ([], []))
                xs.append(grid.x1[j])
                ys.append(grid.x2[i])
    return list(by_level.values())


class ToyPlot(PlotextPlot):
    DEFAULT_CSS = """
    ToyPlot { height: 1fr; border: round $primary 40%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: tuple | None = None
        self._contour: tuple[tuple, list] | None = None

    def draw(self, animation: ToyAnimation) -> None:
        key = (id(animation), animation.version, self.size.width, self.size.height)
        if key == self._drawn or not self.is_on_screen or self.size.width < 10:
            return
        self._drawn = key
        problem = animation.problem
        bounds = view_bounds(problem, animation.trajectories or [])
        n = max(20, min(160, 2 * self.size.width, 4 * self.size.height))  # braille: 2×4 dots a cell
        if self._contour is None or self._contour[0] != (id(problem), bounds, n):
            self._contour = ((id(problem), bounds, n), contour_points(problem, bounds, n))
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("x1")
        plt.ylabel("x2")
        plt.xlim(bounds[0], bounds[1])
        plt.ylim(bounds[2], bounds[3])
        for xs, ys in self._contour[1]:
            plt.scatter(xs, ys, marker="braille", color="gray")
        for i, (run, path) in enumerate(zip(problem.runs, animation.paths, strict=True)):
            inside = [
                p for p in path if bounds[0] <= p.x1 <= bounds[1] and bounds[2] <= p.x2 <= bounds[3]
            ]
            if inside:
                plt.plot(
                    [p.x1 for p in inside],
                    [p.x2 for p in inside],
                    label=run.label,
                    color=run_color(i),
                    marker=run_marker(i),
                )
        self.refresh()
