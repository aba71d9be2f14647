"""The Compare view: live charts of every run overlaid (over seeds, each configuration's mean
and band), the runs table and, as runs finish, the results table and the preset's
expectations; the Internals tab looks inside one run's optimizer. It redraws on a clock (a few
Hz), not per event."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from tui_lab.training.run import Run
from tui_lab.ui.screens.view import LabView
from tui_lab.ui.sessions.comparison import ShownComparison
from tui_lab.ui.state.comparison import METRICS
from tui_lab.ui.state.seeds import has_seeds
from tui_lab.ui.widgets.charts import MetricChart, RunsLegend, legend_entries, legend_text
from tui_lab.ui.widgets.internals_view import InternalsView
from tui_lab.ui.widgets.results import ExpectationsView, ResultsTable, subset_note
from tui_lab.ui.widgets.runs_table import RunsTable
from tui_lab.ui.widgets.system_pane import SystemDetails, SystemLine

REDRAW_HZ = (
    1  # every redraw is UI-thread CPU taken from training on a busy CPU (bench/tui_overhead.py)
)


class CompareScreen(LabView):
    STATUS_ID = "compare-status"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_pause_run",
            "Pause",
            tooltip="Pause or resume the run selected in the runs table",
            id="pause-run",
        ),
        Binding(
            "s",
            "stop_run",
            "Stop run",
            tooltip="Stop the selected run after its step",
            id="stop-run",
        ),
        Binding(
            "p",
            "toggle_pause_all",
            "Pause/resume all",
            tooltip="Pause every run, or resume them all",
            show=False,
            id="pause-all",
        ),
        Binding(
            "S",
            "stop_all",
            "Stop all",
            tooltip="Stop every run after its current step",
            show=False,
            id="stop-all",
        ),
        Binding(
            "x",
            "app.cycle_x_axis",
            "x axis",
            tooltip="The charts' x axis: step → epoch → seconds",
            show=False,
            id="x-axis",
        ),
        Binding(
            "m",
            "app.toggle_smoothing",
            "Smoothing",
            tooltip="EMA-smooth the training loss",
            show=False,
            id="smoothing",
        ),
        Binding(
            "e",
            "app.export('csv')",
            "Export",
            tooltip="Write the --export csv files and figures (in the background)",
            id="export",
        ),
        Binding(
            "t",
            "toggle_table",
            "Tables",
            tooltip="Runs → results → expectations → internals → system",
            id="toggle-table",
        ),
        Binding(
            "a",
            "toggle_seeds",
            "Seeds",
            tooltip="Over seeds: each configuration's mean ± band, or every seed's curve",
            show=False,
            id="toggle-seeds",
        ),
        Binding(
            "c",
            "next_chart",
            "Next chart",
            tooltip="Select the next chart (where not all four fit, show it)",
            show=False,
            id="next-chart",
        ),
        Binding(
            "z",
            "zoom_chart",
            "Zoom",
            tooltip="The selected chart full screen, or back",
            show=False,
            id="zoom-chart",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="compare-status")
        yield SystemLine(id="system-line")
        yield RunsLegend(id="legend")
        with Grid(id="charts"):
            for metric in METRICS:
                yield MetricChart(metric, id=f"chart-{metric.replace('_', '-')}")
        with TabbedContent(id="tables"):
            with TabPane("Runs", id="tab-runs"):
                yield RunsTable(id="runs-table")
            with TabPane("Results", id="tab-results"):
                yield ResultsTable(id="results-table")
            with TabPane("Expectations", id="tab-expectations"), VerticalScroll():
                yield ExpectationsView(id="expectations")
            with TabPane("Internals", id="tab-internals"):
                yield InternalsView(id="internals")
            with TabPane("System", id="tab-system"), VerticalScroll():
                yield SystemDetails(id="system-details")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.focus_in_tab("tab-runs", RunsTable)
        self.redraw_every(REDRAW_HZ)

    # ------------------------------------------------------------------ charts

    selected_chart = 0  # the chart c selects and z maximizes

    def place_charts(self) -> None:
        """As many charts as the terminal has room for (4, or 2 when narrow or short, or 1 at
        80×24), from the selected one on; where some are hidden, each title says how many
        there are and which key shows the next."""
        charts = list(self.query(MetricChart))
        narrow, short = self.has_class("-narrow"), self.has_class("-short")
        slots = 1 if narrow and short else 2 if narrow or short else len(charts)
        shown = {(self.selected_chart + k) % len(charts) for k in range(slots)}
        for i, chart in enumerate(charts):
            chart.display = i in shown
            selected = i == self.selected_chart
            chart.set_class(selected, "-selected")
            where = f" {i + 1}/{len(charts)}" if slots < len(charts) else ""
            keys = " · c: next · z: zoom" if selected else ""
            chart.border_title = f"{METRICS[chart.metric].title}{where}{keys}"
            zoomed = self.maximized is chart and self.comparison is not None
            names, note = (
                legend_entries(self.comparison.state, self.model.every_seed)
                if zoomed and self.comparison is not None
                else ([], "")
            )
            chart.border_subtitle = legend_text(names, note).markup

    def action_next_chart(self) -> None:
        charts = list(self.query(MetricChart))
        self.selected_chart = (self.selected_chart + 1) % len(charts)
        self.place_charts()
        if self.maximized is not None:
            self.maximize(charts[self.selected_chart], container=False)
        self.redraw()

    def action_zoom_chart(self) -> None:
        if self.maximized is not None:
            self.minimize()
        else:
            self.maximize(list(self.query(MetricChart))[self.selected_chart], container=False)
        self.redraw()

    @property
    def comparison(self) -> ShownComparison | None:
        return self.model.comparison

    def redraw(self) -> None:
        """Bring charts and tables up to the event stream; cheap when nothing changed."""
        if not self.is_current:
            return
        comparison, model = self.comparison, self.model
        self.place_charts()
        reading = model.system.read()
        self.query_one(SystemLine).show(reading)
        self.query_one(SystemDetails).show(reading)
        if comparison is None:
            self.show_status(
                "Nothing launched yet: choose options in the Lab (f2) and press ctrl+r."
            )
            return
        state = comparison.state
        self.query_one(RunsLegend).show(*legend_entries(state, model.every_seed))
        for chart in self.query(MetricChart):
            chart.update_from(state, model.x_axis, model.smooth, model.every_seed)
        runs_table = self.query_one(RunsTable)
        runs_table.show(state, comparison.shown_status)
        if self.query_one(TabbedContent).active == "tab-internals":
            self.query_one(InternalsView).show(state, runs_table.selected_run)
        self.query_one(ResultsTable).show(state)
        expectations = comparison.expectations
        self.query_one(ExpectationsView).show(comparison.expect, expectations, subset_note(state))
        counts: dict[str, int] = {}
        for run in state.runs.values():
            status = comparison.shown_status(run)
            counts[status] = counts.get(status, 0) + 1
        summary = " · ".join(f"{n} {status}" for status, n in counts.items())
        if comparison.loading:
            summary = comparison.loading
        applicable = [e for e in expectations or [] if e.applies]
        if applicable:
            summary += (
                f" · {sum(e.label == 'met' for e in applicable)}/{len(applicable)} expectations met"
            )
        smooth = "on" if model.smooth else "off"
        options = f"x: {model.x_axis} (x) · smoothing: {smooth} (m)"
        if has_seeds(state):
            options += f" · {'every seed' if model.every_seed else 'mean ± band'} (a)"
        note = f" · {escape(comparison.note)}" if comparison.note else ""
        self.show_status(f"[b]{escape(comparison.title)}[/b]{note}  {summary}   {options}")

    def show_results(self) -> None:
        """Training is over: the final numbers at once (not at the next tick), on the Results
        tab."""
        self.show_table("tab-results")
        self.redraw()

    # ------------------------------------------------------------------ run controls

    def _selected(self) -> list[Run]:
        """The run selected in the runs table, or every seed of the selected configuration."""
        names = self.query_one(RunsTable).selected_runs
        if self.comparison is None or not names:
            return []
        runs = [run for name in names if (run := self.comparison.run_named(name)) is not None]
        if not runs:
            self.notify(f"{names[0]} is a past run (read-only).", timeout=3)
        return runs

    def action_toggle_pause_run(self) -> None:
        runs = [run for run in self._selected() if not run.done]
        if not runs:
            return
        pause = any(not run.paused for run in runs)
        for run in runs:
            run.pause() if pause else run.resume()
        names = ", ".join(run.name for run in runs)
        self.notify(f"{names}: {'pausing' if pause else 'resuming'}", timeout=2)

    def action_stop_run(self) -> None:
        runs = [run for run in self._selected() if not run.done]
        for run in runs:
            run.stop()
        if runs:
            names = ", ".join(run.name for run in runs)
            self.notify(f"{names}: stopping after the current step", timeout=2)

    def action_toggle_pause_all(self) -> None:
        if self.comparison is None:
            return
        active = self.comparison.active_runs()
        pause = any(not r.paused for r in active)
        for run in active:
            run.pause() if pause else run.resume()
        if active:
            self.notify("pausing all runs" if pause else "resuming all runs", timeout=2)

    def action_stop_all(self) -> None:
        if self.comparison is not None and self.comparison.active_runs():
            self.comparison.stop()
            self.notify("stopping all runs after their current step", timeout=2)

    def action_toggle_table(self) -> None:
        order = ["tab-runs", "tab-results", "tab-expectations", "tab-internals", "tab-system"]
        active = self.query_one(TabbedContent).active
        self.show_table(order[(order.index(active) + 1) % len(order)])

    # A focused widget's tab is made active (TabbedContent follows focus): the focus must never
    # land in a tab that is not the one wanted, or that tab comes back.

    def show_table(self, pane: str) -> None:
        """Switch the tables to ``pane``, dropping the focus first: left in the pane being
        hidden, it would move to a sibling there (Textual's blur-on-hide)."""
        self.set_focus(None)
        self.query_one(TabbedContent).active = pane

    def focus_in_tab(self, pane: str, widget: type[Widget] | str) -> None:
        """Focus ``widget`` once ``pane`` is shown, unless another tab was chosen meanwhile
        (on a busy host the end of training can switch tabs before the focus arrives)."""

        def focus() -> None:
            if self.query_one(TabbedContent).active == pane:
                self.set_focus(self.query_one(widget))

        self.call_after_refresh(focus)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The Internals tab takes the charts' place (its own charts need the rows) and its
        run list the focus; back on the Runs tab, the runs table has it again."""
        internals = event.pane.id == "tab-internals"
        for part in self.query_children("#charts, #tables"):  # not the screen: that restyles all
            part.set_class(internals, "-internals")
        if internals:
            self.focus_in_tab("tab-internals", "#internals-runs")
            self.call_after_refresh(self.redraw)  # the tab paints first, its charts next
        elif event.pane.id == "tab-runs":
            self.focus_in_tab("tab-runs", RunsTable)

    def action_toggle_seeds(self) -> None:
        self.model.every_seed = not self.model.every_seed
        shown = "every seed" if self.model.every_seed else "each configuration's mean ± band"
        self.notify(f"Charts: {shown}", timeout=2)
        self.redraw()
