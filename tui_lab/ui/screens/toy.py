"""The 2-D toy view: the contour of f with each optimizer's path, animated as it walks
(ui/sessions/toy.py), and a table of what each path shows."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from tui_lab.ui.model import LabModel
from tui_lab.ui.screens.view import LabView
from tui_lab.ui.sessions.toy import ToyAnimation
from tui_lab.ui.widgets.charts import run_style
from tui_lab.ui.widgets.toy_plot import ToyPlot

REDRAW_HZ = 4

TOY_COLUMNS = (
    "run",
    "optimizer",
    "lr",
    "status",
    "steps to converge",
    "final f",
    "path length",
    "x2 reversals",
    "step",
)


class ToyScreen(LabView):
    STATUS_ID = "toy-status"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.launch", "Replay", tooltip="Walk the paths again, animated", id="replay")
    ]

    def __init__(self, model: LabModel) -> None:
        super().__init__(model)
        self._shown: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="toy-status")
        yield ToyPlot(id="toy-plot")
        yield DataTable(id="toy-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#toy-table", DataTable)
        for name in TOY_COLUMNS:
            table.add_column(name, key=name)
        self.redraw_every(REDRAW_HZ)

    def redraw(self) -> None:
        animation = self.model.toy
        if not self.is_current or animation is None:
            return
        problem = animation.problem
        self.show_status(
            f"[b]{escape(problem.expression.text)}[/b]  "
            f"from {problem.start} · {problem.steps} steps"
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
