"""The sweep analysis view (f6): what the Search view's search says, full width — best so far
against the trial-epochs spent for every study (grid against random at one budget),
parallel coordinates, a slice plot per parameter, the heat-map of the two parameters that
mattered most and Optuna's importance. It reads the same session as the Search view: a
search launched there, a study followed, or searches opened with ``tui-lab open``."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Footer, Header, Static

from tui_lab.search.analysis import param_keys
from tui_lab.ui.screens.view import LabView
from tui_lab.ui.sessions.search import SearchSession
from tui_lab.ui.widgets.search_charts import ImportanceBars, ParamChart
from tui_lab.ui.widgets.sweep_charts import EffortChart, HeatMapView, ParallelChart

REDRAW_HZ = 2
SLICES = 4  # slice plots side by side; p shows the next ones when there are more parameters


class AnalysisScreen(LabView):
    STATUS_ID = "analysis-status"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "p",
            "next_params",
            "More parameters",
            tooltip="The next slice plots, when there are more than four parameters",
            id="analysis-params",
        ),
    ]
    first_param = 0

    @property
    def session(self) -> SearchSession | None:
        return self.model.search

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="analysis-status")
        with Grid(id="analysis"):
            yield EffortChart("best so far per trial-epoch", id="chart-effort")
            yield ParallelChart("parallel coordinates", id="chart-parallel")
            with Horizontal(id="slices"):
                for i in range(SLICES):
                    yield ParamChart("slice", id=f"chart-slice-{i}")
            with Vertical(id="analysis-side"):
                yield HeatMapView(id="heatmap")
                yield ImportanceBars(id="analysis-importance")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "sweep analysis"
        self.redraw_every(REDRAW_HZ)

    def redraw(self) -> None:
        if not self.is_current:
            return
        session = self.session
        if session is None:
            self.show_status(
                "No search yet: launch one in the Search view (f5), follow a study there "
                "(ctrl+l), or open a search export: tui-lab open DIR."
            )
            return
        self.query_one(EffortChart).draw(session)
        self.query_one(ParallelChart).draw(session)
        keys = param_keys(list(session.records.values()), session.space)
        start = self.first_param % max(1, len(keys))
        shown = keys[start : start + SLICES]
        for i, chart in enumerate(self.query(ParamChart)):
            chart.display = i < len(shown)
            if i < len(shown):
                chart.draw(session, shown[i])
        self.query_one(HeatMapView).show(session)
        self.query_one(ImportanceBars).show(session)
        studies = [escape(session.labels.get(s, s)) for s in session.studies()]
        more = (
            f" · p: parameters {start + 1}–{start + len(shown)} of {len(keys)}"
            if len(keys) > SLICES
            else ""
        )
        trials = sum(1 for r in session.records.values() if r.status == "completed")
        self.show_status(
            f"[b]{escape(session.title)}[/b] {escape(session.status)} · "
            f"{len(studies)} {'study' if len(studies) == 1 else 'studies'}: {', '.join(studies)}"
            f" · {trials} scored trials{more}"
        )

    def action_next_params(self) -> None:
        self.first_param += SLICES
        self.redraw()
