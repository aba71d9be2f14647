"""The toy view's plot: contour lines of f as dots at a few log-spaced levels, each optimizer's
path over them in its run's colour (the selected run's iterates as dots), and the start ◆.
Arrows move the start while the plot has focus; a click puts it where clicked."""

from __future__ import annotations

import bisect
import math
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual_plotext import PlotextPlot

from tui_lab.results.palette import run_color
from tui_lab.toy2d.problem import Toy2DProblem, contour_grid, view_bounds
from tui_lab.toy_functions import Bounds
from tui_lab.ui.sessions.toy import ToySession
from tui_lab.ui.widgets.charts import run_marker

CONTOUR_LEVELS = 12
START_MARKER = "◆"
NUDGES = 20  # an arrow moves the start by 1/20 of the view


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


def canvas_of(lines: list[str]) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right): the frame plotext draws around its canvas, in cells."""
    top = next((i for i, line in enumerate(lines) if "┌" in line), None)
    bottom = next((i for i, line in enumerate(lines) if "└" in line), None)
    if top is None or bottom is None or "┐" not in lines[top]:
        return None
    return top, lines[top].index("┌"), bottom, lines[top].index("┐")


class ToyPlot(PlotextPlot):
    DEFAULT_CSS = """
    ToyPlot { height: 1fr; border: round $primary 40%; }
    ToyPlot:focus { border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "nudge(-1, 0)", "Start ←", show=False, id="start-left"),
        Binding("right", "nudge(1, 0)", "Start →", show=False, id="start-right"),
        Binding("up", "nudge(0, 1)", "Start ↑", show=False, id="start-up"),
        Binding("down", "nudge(0, -1)", "Start ↓", show=False, id="start-down"),
    ]
    can_focus = True

    class StartPicked(Message):
        """The user put the start at (x1, x2)."""

        def __init__(self, x1: float, x2: float) -> None:
            super().__init__()
            self.x1, self.x2 = x1, x2

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: tuple | None = None
        self._contour: tuple[tuple, list] | None = None
        self._bounds: Bounds | None = None
        self._start: tuple[float, float] | None = None
        self._canvas: tuple[int, int, int, int] | None = None

    def draw(self, session: ToySession) -> None:
        key = (id(session), session.shown_version, session.selected, *self.size)
        if key == self._drawn or not self.is_on_screen or self.size.width < 10:
            return
        self._drawn = key
        problem = session.problem
        bounds = view_bounds(problem, session.walked)
        n = max(20, min(160, 2 * self.size.width, 4 * self.size.height))  # braille: 2×4 dots a cell
        shape = (problem.expression.text, bounds, n)
        if self._contour is None or self._contour[0] != shape:
            self._contour = (shape, contour_points(problem, bounds, n))
        self._bounds, self._start = bounds, problem.start
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("x1")
        plt.ylabel("x2")
        plt.xlim(bounds[0], bounds[1])
        plt.ylim(bounds[2], bounds[3])
        for xs, ys in self._contour[1]:
            plt.scatter(xs, ys, marker="braille", color="gray")
        paths = list(enumerate(session.paths()))
        for i, path in [*paths[: session.selected], *paths[session.selected + 1 :]]:
            self._path(i, path, bounds, selected=False)
        if session.selected < len(paths):  # drawn last: on top
            self._path(session.selected, paths[session.selected][1], bounds, selected=True)
        plt.scatter([problem.start[0]], [problem.start[1]], marker=START_MARKER, color="white")
        self.refresh()

    def _path(self, index: int, path: list, bounds: Bounds, selected: bool) -> None:
        inside = [
            p for p in path if bounds[0] <= p.x1 <= bounds[1] and bounds[2] <= p.x2 <= bounds[3]
        ]
        if inside:
            xs, ys = [p.x1 for p in inside], [p.x2 for p in inside]
            color = run_color(index)
            self.plt.plot(xs, ys, color=color, marker=run_marker(index))
            if selected:  # each iterate θ_t of the selected run
                self.plt.scatter(xs, ys, color=color, marker="•")

    def render(self) -> Text:
        text = super().render()
        self._canvas = canvas_of(text.plain.splitlines())
        return text

    def point_at(self, column: int, row: int) -> tuple[float, float] | None:
        """The (x1, x2) drawn at a cell of the content, if it is inside the plot's frame."""
        if self._canvas is None or self._bounds is None:
            return None
        top, left, bottom, right = self._canvas
        if not (top < row < bottom and left < column < right):
            return None
        x1_min, x1_max, x2_min, x2_max = self._bounds
        across = (column - left - 0.5) / (right - left - 1)
        down = (row - top - 0.5) / (bottom - top - 1)
        return x1_min + across * (x1_max - x1_min), x2_max - down * (x2_max - x2_min)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        point = None if offset is None else self.point_at(offset.x, offset.y)
        if point is not None:
            self.post_message(self.StartPicked(*point))

    def action_nudge(self, dx: int, dy: int) -> None:
        if self._bounds is None or self._start is None:
            return
        x1_min, x1_max, x2_min, x2_max = self._bounds
        self.post_message(
            self.StartPicked(
                self._start[0] + dx * (x1_max - x1_min) / NUDGES,
                self._start[1] + dy * (x2_max - x2_min) / NUDGES,
            )
        )
