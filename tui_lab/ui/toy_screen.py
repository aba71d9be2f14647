"""The 2-D toy view: contour lines of f and each optimizer's path, animated as it walks.

The walk (``toy2d.walk``, the lecture's update rules) runs in a thread worker that paces itself
so the paths grow for a few seconds; points reach the UI through a deque and a coalescing
message, exactly like training events, and the plot redraws on the screen's clock.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import deque
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from tui_lab.toy2d import (
    Point,
    Toy2DProblem,
    Trajectory,
    contour_grid,
    summarize,
    view_bounds,
    walk,
)
from tui_lab.ui.charts import run_color, run_marker, run_style

ANIMATION_SECONDS = 6.0
CONTOUR_LEVELS = 12
REDRAW_HZ = 4


class ToyPointsArrived(Message):
    def __init__(self, animation: ToyAnimation) -> None:
        super().__init__()
        self.animation = animation

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ToyPointsArrived) and message.animation is self.animation


class ToyAnimation:
    """Walks every run of a toy problem step by step (worker thread); the UI drains the points."""

    def __init__(self, problem: Toy2DProblem, target: MessagePump,
                 seconds: float = ANIMATION_SECONDS) -> None:  # fmt: skip
        self.problem = problem
        self.seconds = seconds
        self.target = target
        self.queue: deque[tuple[int, Point]] = deque()
        self.paths: list[list[Point]] = [[] for _ in problem.runs]  # UI thread
        self.trajectories: list[Trajectory] | None = None
        self.stopped = threading.Event()
        self.version = 0

    def walk_all(self) -> None:
        """All runs advance together, a slice per frame, so the paths grow side by side."""
        problem = self.problem
        walkers = [walk(problem, run) for run in problem.runs]
        points: list[list[Point]] = [[] for _ in walkers]
        frames = max(1, round(self.seconds * REDRAW_HZ * 2))
        per_frame = max(1, math.ceil((problem.steps + 1) / frames))
        alive = set(range(len(walkers)))
        while alive and not self.stopped.is_set():
            for i in sorted(alive):
                for _ in range(per_frame):
                    point = next(walkers[i], None)
                    if point is None:
                        alive.discard(i)
                        break
                    points[i].append(point)
                    self.queue.append((i, point))
            self.target.post_message(ToyPointsArrived(self))
            time.sleep(self.seconds / frames)
        if not self.stopped.is_set():
            self.trajectories = [summarize(problem, run, pts) for run, pts in zip(problem.runs, points, strict=True)]
        self.target.post_message(ToyPointsArrived(self))

    def absorb(self) -> None:
        while self.queue:
            i, point = self.queue.popleft()
            self.paths[i].append(point)
            self.version += 1
        if self.trajectories is not None:
            self.version += 1

    @classmethod
    def show_walked(cls, app, toy) -> None:
        """Walk every path of ``toy`` at once and open the toy view on the finished picture
        (screenshots and snapshot tests: pictures that do not depend on timers)."""
        animation = cls(Toy2DProblem.from_config(toy), app, seconds=0.0)
        animation.walk_all()
        animation.absorb()
        app.toy = animation
        app.switch_mode("toy")


def contour_points(problem: Toy2DProblem, bounds, n: int) -> list[tuple[list[float], list[float]]]:
    """Grid cells where f crosses one of a few log-spaced levels: the contour lines as dots."""
    grid = contour_grid(problem.expression, bounds, n)
    gap = [[math.log10(max(v - problem.f_min, 1e-12)) if math.isfinite(v) else math.nan for v in row]
           for row in grid.f]  # fmt: skip
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
            inside = [p for p in path if bounds[0] <= p.x1 <= bounds[1] and bounds[2] <= p.x2 <= bounds[3]]
            if inside:
                plt.plot([p.x1 for p in inside], [p.x2 for p in inside], label=run.label,
                         color=run_color(i), marker=run_marker(i))  # fmt: skip
        self.refresh()


TOY_COLUMNS = ("run", "optimizer", "lr", "status", "steps to converge", "final f", "path length",
               "x2 reversals", "step")  # fmt: skip


class ToyScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "app.launch", "Replay", id="replay")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="toy-status")
        yield ToyPlot(id="toy-plot")
        yield DataTable(id="toy-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#toy-table", DataTable)
        for name in TOY_COLUMNS:
            table.add_column(name, key=name)
        self.set_interval(1 / REDRAW_HZ, self.redraw)
        self._shown: tuple[int, int] | None = None

    def redraw(self) -> None:
        animation = self.app.toy  # type: ignore[attr-defined]
        if not self.is_current or animation is None:
            return
        problem = animation.problem
        self.query_one("#toy-status", Static).update(
            f"[b]{escape(problem.expression.text)}[/b]  from {problem.start} · {problem.steps} steps"
            + ("  · done" if animation.trajectories else "  · walking…")
        )
        self.query_one(ToyPlot).draw(animation)
        key = (id(animation), animation.version)
        if key != self._shown:
            self._shown = key
            self._fill_table(animation)

    def _fill_table(self, animation: ToyAnimation) -> None:
        table = self.query_one("#toy-table", DataTable)
        table.clear()
        finals = {t.run: t for t in animation.trajectories or []}
        for i, (run, path) in enumerate(zip(animation.problem.runs, animation.paths, strict=True)):
            t = finals.get(run.label)
            last = path[-1] if path else None
            cells = [
                Text(run.label, style=f"bold {run_style(i)}"),
                run.optimizer,
                f"{run.hyperparameters()['lr']:g}",
                t.status if t else "walking",
                "—" if t is None or t.steps_to_converge is None else str(t.steps_to_converge),
                "—" if last is None else f"{last.f:.3g}",
                "—" if t is None else f"{t.path_length:.2f}",
                "—" if t is None else str(t.x2_reversals),
                "—" if last is None else str(last.step),
            ]
            table.add_row(*cells, key=run.label)
