"""Plotext charts that redraw on a clock from a downsampled copy of the runs' histories.

Each chart rebuilds its plot only when the data or the display options changed since the last
draw, only while it is on screen, and with at most about twice its width in points per run: a
plot rebuild per event would make the UI steal CPU from training and flicker over SSH.
"""

from __future__ import annotations

import math
import os

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui_lab.results.palette import run_color
from tui_lab.ui.state.comparison import METRICS, ComparisonState, RunHistory, XAxis, series
from tui_lab.ui.state.seeds import band, band_kind, configurations, has_seeds

# the frame every chart of the lab sits in (the charts' own DEFAULT_CSS use it)
CHART_FRAME = "height: 1fr; min-height: 8; border: round $primary 40%;"
# without colour (NO_COLOR) runs are told apart by their marker
RUN_MARKERS = ("•", "+", "x", "*", "o", "#", "@", "%")
BAND_MARKER = "·"  # a band's edges without colour
DIM_TOWARD, DIM_WEIGHT = 60, 0.5  # a band's edges: the run's colour halfway to a dark grey


def run_style(index: int) -> str:
    r, g, b = run_color(index)
    return f"rgb({r},{g},{b})"


def run_marker(index: int) -> str:
    return RUN_MARKERS[index % len(RUN_MARKERS)] if os.environ.get("NO_COLOR") else "braille"


def band_color(index: int) -> tuple[int, int, int]:
    """A band's edges: the configuration's colour, dimmed (its mean line is drawn over them)."""
    r, g, b = (round(DIM_WEIGHT * c + (1 - DIM_WEIGHT) * DIM_TOWARD) for c in run_color(index))
    return r, g, b


def band_marker() -> str:
    return BAND_MARKER if os.environ.get("NO_COLOR") else "braille"


def legend_mark(index: int) -> str:
    """How run ``index`` looks in a chart: its marker without colour, else a line."""
    marker = run_marker(index)
    return "━" if marker == "braille" else marker


def run_name(run: RunHistory, index: int | None = None, indent: str = "") -> Text:
    """A run's name after its mark in its colour (``index``: its configuration's, over seeds):
    the tables are the charts' legend."""
    i = run.index if index is None else index
    return Text.assemble(indent, (legend_mark(i), run_style(i)), " ", (run.name, "bold"))


def legend_text(names: list[tuple[int, str]], note: str = "") -> Text:
    """Each run's mark in its colour, then its name: ``names`` are (colour index, name); then
    ``note`` (what the bands are)."""
    parts = [Text.assemble((legend_mark(i), f"bold {run_style(i)}"), " ", n) for i, n in names]
    if note:
        parts.append(Text(note, style="dim"))
    return Text("   ").join(parts)


def legend_entries(state: ComparisonState, every_seed: bool) -> tuple[list[tuple[int, str]], str]:
    """What the legend lists: each run, or over seeds each configuration with its count of
    seeds and what the band is (or that every seed is drawn); and the key that switches."""
    if not has_seeds(state):
        return [(r.index, r.name) for r in state.runs.values()], ""
    names = [(c.index, f"{c.name} × {c.seeds} seeds") for c in configurations(state)]
    shown = "every seed" if every_seed else f"mean, {band_kind(state)}"
    return names, f"{shown} (a: {'mean ± band' if every_seed else 'every seed'})"


class RunsLegend(Static):
    """Which mark and colour is which run, in a line outside the plots: a legend inside a
    plot of a few rows covers its curves."""

    DEFAULT_CSS = """
    RunsLegend { height: auto; max-height: 2; padding: 0 1; }
    """

    def show(self, names: list[tuple[int, str]], note: str = "") -> None:
        """``names``: (colour index, name) of each curve drawn; ``note``: what the bands are."""
        text = legend_text(names, note)
        if text.plain != getattr(self, "_plain", None):
            self._plain = text.plain
            self.update(text)


class MetricChart(PlotextPlot):
    """One metric (see ``history.METRICS``) of every run of the comparison; the runs table and
    the legend line say which curve is which. It redraws only when its own source grew: the
    epoch charts stay put between epochs. z maximizes it (CompareScreen)."""

    DEFAULT_CSS = f"""
    MetricChart {{ {CHART_FRAME} }}
    MetricChart.-selected {{ border: round $accent; }}
    """
    ALLOW_MAXIMIZE = True

    def __init__(self, metric: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric = metric
        self.border_title = METRICS[metric].title
        self._drawn: tuple | None = None

    def update_from(
        self, state: ComparisonState, x_axis: XAxis, smooth: bool, every_seed: bool = False
    ) -> bool:
        """Rebuild the plot if anything it shows changed; returns whether it redrew. Over seeds
        each configuration is its mean between its band's edges, or (``every_seed``) each seed
        in its configuration's colour."""
        source = METRICS[self.metric].source
        points = tuple(len(getattr(run, source)) for run in state.runs.values())
        key = (id(state), points, x_axis, smooth, every_seed, self.size.width, self.size.height)
        if key == self._drawn or not self.is_on_screen or self.size.width < 10:
            return False
        self._drawn = key
        plt = self.plt
        plt.clear_figure()
        plt.xlabel(x_axis)
        max_points = max(20, 2 * self.size.width)
        if has_seeds(state) and not every_seed:
            for config in configurations(state):
                b = band(config, self.metric, x_axis, smooth, max_points)
                if b.xs and config.seeds > 1:
                    for edge in (b.lows, b.highs):
                        plt.plot(b.xs, edge, color=band_color(config.index), marker=band_marker())
                if b.xs:
                    i = config.index
                    plt.plot(b.xs, b.means, color=run_color(i), marker=run_marker(i))
        else:
            for config in configurations(state):
                i = config.index
                for run in config.runs:
                    xs, ys = series(run, self.metric, x_axis, smooth, max_points)
                    if xs:
                        plt.plot(xs, ys, color=run_color(i), marker=run_marker(i))
        self.refresh()
        return True


class LrPreviewChart(PlotextPlot):
    """The learning rate a schedule will produce over the planned epochs, before training
    (log10, as every lr axis of the lab: a decay over decades stays readable)."""

    DEFAULT_CSS = """
    LrPreviewChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(self, points: list[tuple[float, float]]) -> None:
        super().__init__()
        self.show_curve(points)

    def show_curve(self, points: list[tuple[float, float]]) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("epoch")
        plt.title("planned learning rate (log10)")
        drawn = [(x, math.log10(y)) for x, y in points if y > 0]
        plt.plot(
            [x for x, _ in drawn], [y for _, y in drawn], color=run_color(0), marker=run_marker(0)
        )
        self.refresh()
