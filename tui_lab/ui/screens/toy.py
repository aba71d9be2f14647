"""The 2-D toy view: the contour of f with each optimizer's path, edited live — the selected
run's η, γ, β1, β2 and the start point (fields, arrows or a click on the plot), each change
walked again at once — a table of what each path shows, and the toy's expectations checked
on the paths as they stand. ``r`` replays the paths growing step by step."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from tui_lab.config import parse_value
from tui_lab.errors import ConfigError
from tui_lab.ui.model import LabModel
from tui_lab.ui.screens.view import LabView
from tui_lab.ui.sessions.toy import ToySession
from tui_lab.ui.widgets.charts import RunsLegend, legend_mark, run_style
from tui_lab.ui.widgets.error_box import ErrorBox
from tui_lab.ui.widgets.results import expectations_text
from tui_lab.ui.widgets.toy_editor import START_KEYS, ToyEditor, symbol
from tui_lab.ui.widgets.toy_plot import ToyPlot

REDRAW_HZ = 4
LR_FACTOR = 1.25  # - and + scale the selected run's η
HYPERPARAMETERS = ("lr", "momentum", "beta1", "beta2")  # the table's; the editor has all
TOY_COLUMNS = (
    "run",
    "optimizer",
    *(symbol(k) for k in HYPERPARAMETERS),
    "status",
    "steps to converge",
    "final f",
    "path length",
    "x2 reversals",
)
EMPTY = (
    "[b]The 2-D toy problem[/b] (dataflowr Module 4): optimizers walking across "
    "f(x1, x2), here edited live.\n\nNothing is loaded yet.\n\n"
    "  [b]r[/b]       walk the lecture's problem f = 0.1·x1² + 2·x2² (preset toy_2d)\n"
    "  [b]ctrl+o[/b]  load a toy preset\n"
    "  [b]ctrl+g[/b]  in the Lab: try the selected run's optimizer here"
)


class ToyScreen(LabView):
    STATUS_ID = "toy-status"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "app.replay_toy",
            "Replay",
            tooltip="Walk the paths again, animated (nothing loaded: the lecture's problem)",
            id="replay",
        ),
        Binding(
            "minus",
            "scale_lr(0.8)",
            "η smaller",
            tooltip="The selected run's η ÷ 1.25 (outside a text field)",
            id="lr-down",
        ),
        Binding(
            "plus,equals_sign",
            "scale_lr(1.25)",
            "η larger",
            tooltip="The selected run's η × 1.25 (outside a text field)",
            id="lr-up",
        ),
        Binding(
            "t",
            "toggle_table",
            "Tables",
            tooltip="Runs → expectations",
            show=False,
            id="toy-tables",
        ),
    ]

    class Edited(Message):
        """The session's runs or start changed: the app walks the paths again."""

        def __init__(self, session: ToySession) -> None:
            super().__init__()
            self.session = session

    def __init__(self, model: LabModel) -> None:
        super().__init__(model)
        self._session: ToySession | None = None  # the session the view was composed for
        self._shown: tuple | None = None
        self._redrawing = False

    @property
    def session(self) -> ToySession | None:
        return self.model.toy

    def compose(self) -> ComposeResult:
        session = self._session = self.model.toy
        yield Header()
        yield Static(id="toy-status")
        if session is None:
            yield Static(EMPTY, id="toy-empty")
        else:
            yield RunsLegend(id="toy-legend")
            with Horizontal(id="toy-main"):
                yield ToyPlot(id="toy-plot")
                yield ToyEditor(session, id="toy-editor")
            with TabbedContent(id="toy-tabs"):
                with TabPane("Runs", id="tab-toy-runs"):
                    yield DataTable(id="toy-table", cursor_type="row", zebra_stripes=True)
                with TabPane("Expectations", id="tab-toy-expectations"):
                    yield Static(id="toy-expectations")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(1 / REDRAW_HZ, self.redraw)
        self.call_later(self.redraw)

    async def redraw(self) -> None:
        """Bring the view up to the session (on a clock and after each edit); one at a time,
        as it may recompose the view or the editor."""
        if not self.is_current or self._redrawing:
            return
        self._redrawing = True
        try:
            await self._redraw()
        finally:
            self._redrawing = False

    async def _redraw(self) -> None:
        session = self.model.toy
        if session is not self._session:  # a new problem (loaded, tried from the Lab, opened)
            self._shown = None
            self._status_text = ""
            await self.recompose()
            return
        if session is None:
            self.show_status("2-D toy · nothing loaded")
            return
        problem = session.problem
        walking = " · walking…" if session.animating else ""
        pending = " · computing…" if session.stale else ""
        met = session.expectations()
        verdict = (
            f" · {sum(e.label == 'met' for e in met)}/{len(met)} expectations met (t)"
            if met
            else ""
        )
        self.show_status(
            f"[b]{escape(session.title)}[/b]  {escape(problem.expression.text)} from "
            f"{problem.start[0]:.3g}, {problem.start[1]:.3g} · {problem.steps} steps"
            f"{walking}{pending}{verdict}"
        )
        self.query_one(RunsLegend).show([(i, r.label) for i, r in enumerate(problem.runs)])
        self.query_one(ToyPlot).draw(session)
        key = (session.version, session.selected)
        if key != self._shown:
            self._shown = key
            self._fill_table(session)
            editor = self.query_one(ToyEditor)
            keep = self.focused if isinstance(self.focused, Input) else None
            if editor.show(session, keep):
                await editor.recompose()  # the selected run reads other hyperparameters
                editor.show(session)
            text = expectations_text(session.expect, met) if not session.stale else "…"
            self.query_one("#toy-expectations", Static).update(text)

    def _fill_table(self, session: ToySession) -> None:
        table = self.query_one("#toy-table", DataTable)
        if not table.columns:
            for name in TOY_COLUMNS:
                table.add_column(name, key=name)
        table.clear()
        for i, (run, t) in enumerate(zip(session.problem.runs, session.trajectories, strict=True)):
            hp = run.hyperparameters()
            status = "walking" if t is None else t.status
            if t is not None and t.diverged_at is not None:
                status += f" @{t.diverged_at}"
            table.add_row(
                f"[{run_style(i)}]{legend_mark(i)}[/] [b]{escape(run.label)}[/b]",
                run.optimizer,
                *(f"{hp[k]:g}" if k in hp else "—" for k in HYPERPARAMETERS),
                status,
                "—" if t is None or t.steps_to_converge is None else str(t.steps_to_converge),
                "—" if t is None else f"{t.final_f:.3g}",
                "—" if t is None else f"{t.path_length:.2f}",
                "—" if t is None else str(t.x2_reversals),
                key=str(i),
            )
        table.move_cursor(row=session.selected, animate=False)

    # ------------------------------------------------------------------ edits

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != event.data_table.cursor_row:
            return  # posted by a refill's clear(), since moved to the selected run
        session = self.session
        if session is not None and event.cursor_row != session.selected:
            session.selected = event.cursor_row
            self.call_later(self.redraw)

    async def on_input_changed(self, event: Input.Changed) -> None:
        session, key = self.session, event.input.name or ""
        if session is None:
            return
        errors = self.query_one(ToyEditor).query_one(ErrorBox)
        if not errors.attempt(event.input, lambda: self._apply(session, key, event.value)):
            return
        self.post_message(self.Edited(session))
        await self.redraw()

    def _apply(self, session: ToySession, key: str, text: str) -> None:
        value = parse_value(text.strip()) if text.strip() else None
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"{key}: {text.strip()!r} is not a number.")
        number = None if value is None else float(value)
        if key in START_KEYS:
            if number is None:
                raise ConfigError(f"start {key}: give a number.")
            x1, x2 = session.problem.start
            session.set_start(number, x2) if key == "x1" else session.set_start(x1, number)
        else:
            session.set_hyperparameter(session.selected, key, number)

    def on_toy_plot_start_picked(self, event: ToyPlot.StartPicked) -> None:
        session = self.session
        if session is not None:
            session.set_start(round(event.x1, 4), round(event.x2, 4))
            self.post_message(self.Edited(session))
            self.call_later(self.redraw)

    def action_scale_lr(self, factor: float) -> None:
        session = self.session
        if session is None:
            return
        run = session.problem.runs[session.selected]
        lr = run.hyperparameters()["lr"] * factor
        try:
            session.set_hyperparameter(session.selected, "lr", float(f"{lr:.4g}"))
        except ConfigError as exc:
            self.notify(str(exc), severity="warning", timeout=4)
            return
        self.post_message(self.Edited(session))
        self.call_later(self.redraw)

    def action_toggle_table(self) -> None:
        if self.session is not None:
            tabs = self.query_one("#toy-tabs", TabbedContent)
            order = ["tab-toy-runs", "tab-toy-expectations"]
            tabs.active = order[(order.index(tabs.active) + 1) % len(order)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """η keys and tables only where a problem is loaded (grey in the footer otherwise)."""
        if action in ("scale_lr", "toggle_table") and self.model.toy is None:
            return None
        return True
