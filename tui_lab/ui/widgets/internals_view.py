"""The Compare view's Internals tab: for one run (picked in its list; at first the run selected
in the Runs tab), the latest look inside its optimizer per layer and its charts over steps
(ui/state/internals.py). It redraws on the view's clock, and a chart only when its run logged
more, the run or layer picked changed, or its size did."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from tui_lab.results.palette import run_color
from tui_lab.ui.state.comparison import ComparisonState, RunHistory
from tui_lab.ui.state.internals import Panel, Role, layer_names, layer_rows, panels, summary
from tui_lab.ui.state.seeds import colour_indices
from tui_lab.ui.widgets.charts import CHART_FRAME, band_color, band_marker, run_marker, run_name

LIMIT_COLOR = (200, 200, 200)  # the stability line 2/η
LAYER_COLUMNS = ("layer", "‖g‖", "‖Δθ‖/‖θ‖", "step median", "step p10 – p90")
CHART_KEYS = ("grad", "ratio", "eff", "sharpness", "momentum", "bias")
MAX_POINTS = 240  # about twice the widest chart's columns (plotext's cost grows with points)


class InternalsChart(PlotextPlot):
    """One panel of the Internals tab."""

    DEFAULT_CSS = f"""
    InternalsChart {{ {CHART_FRAME} }}
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._drawn: tuple | None = None

    def show(self, panel: Panel, index: int, key: tuple) -> None:
        """Draw ``panel`` in the colours of run ``index`` unless ``key`` was drawn already."""
        key = (*key, self.size.width, self.size.height)
        if key == self._drawn or not self.is_on_screen:
            return
        self._drawn = key
        self.border_title = panel.title
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("step")
        colors: dict[Role, tuple[int, int, int]] = {
            "main": run_color(index),
            "spread": band_color(index),
            "limit": LIMIT_COLOR,
        }
        for curve in panel.curves:
            if curve.xs:
                marker = run_marker(index) if curve.role == "main" else band_marker()
                plt.plot(curve.xs, curve.ys, color=colors[curve.role], marker=marker)
        self.refresh()


class InternalsView(Horizontal):
    """The run list, then the selected run's numbers, layer table and charts."""

    DEFAULT_CSS = """
    InternalsView { height: 1fr; }
    InternalsView > OptionList { width: 22; height: 1fr; }
    InternalsView > VerticalScroll { width: 1fr; }
    InternalsView #internals-summary { height: auto; padding: 0 1; }
    InternalsView DataTable { height: auto; max-height: 8; }
    InternalsView Grid { grid-size: 2; grid-rows: 12; grid-gutter: 0 1; height: auto; }
    InternalsView InternalsChart.-absent { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.histories: ComparisonState | None = None
        self.picked_layer: str | None = None
        self._names: list[str] = []
        self._rows: list[tuple[str, ...]] = []
        self._summary = ""

    def compose(self) -> ComposeResult:
        yield OptionList(id="internals-runs")
        with VerticalScroll():
            yield Static(id="internals-summary")
            yield DataTable(id="internals-layers", cursor_type="row", zebra_stripes=True)
            with Grid(id="internals-charts"):
                for key in CHART_KEYS:  # absent until drawn: the tab's first frame is cheap
                    yield InternalsChart(id=f"internals-{key}", classes="-absent")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in LAYER_COLUMNS:
            table.add_column(column, key=column)

    @property
    def shown_run(self) -> RunHistory | None:
        runs = self.query_one(OptionList)
        if self.histories is None or runs.highlighted is None:
            return None
        return self.histories.runs.get(self._names[runs.highlighted])

    def show(self, state: ComparisonState, selected: str | None) -> None:
        """Bring the tab up to ``state``; ``selected`` is the Runs tab's run, shown until a
        run is picked here."""
        self.histories = state
        names = list(state.runs)
        runs = self.query_one(OptionList)
        if names != self._names:
            self._names = names
            runs.clear_options()
            colours = colour_indices(state)
            runs.add_options(
                Option(run_name(r, colours[r.name]), id=r.name) for r in state.runs.values()
            )
        if runs.highlighted is None and names:
            runs.highlighted = names.index(selected) if selected in names else 0
        self.redraw()

    def redraw(self) -> None:
        run = self.shown_run
        if run is None:
            return
        text = summary(run)
        if text != self._summary:  # an update re-lays out the screen
            self._summary = text
            self.query_one("#internals-summary", Static).update(Text(text))
        rows = layer_rows(run)
        table = self.query_one(DataTable)
        if [r[0] for r in rows] != [r[0] for r in self._rows]:
            table.clear()
            for row in rows:
                table.add_row(*row, key=row[0])
        elif rows != self._rows:
            for row in rows:
                for column, cell in zip(LAYER_COLUMNS, row, strict=True):
                    table.update_cell(row[0], column, cell)
        self._rows = rows
        table.display = bool(rows)
        shown = {p.key: p for p in panels(run, self.picked_layer, MAX_POINTS)}
        key = (
            id(self.histories),
            run.name,
            len(run.internals),
            len(run.sharpness),
            self.picked_layer,
        )
        for name in CHART_KEYS:
            chart = self.query_one(f"#internals-{name}", InternalsChart)
            chart.set_class(name not in shown, "-absent")
            if name in shown:
                chart.show(shown[name], colour_indices(self.histories)[run.name], key)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.picked_layer = None
        self.redraw()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        run = self.shown_run
        layer = event.row_key.value
        if run is not None and layer in layer_names(run) and layer != self.picked_layer:
            self.picked_layer = layer
            self.redraw()
