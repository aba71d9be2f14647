"""The sweep analysis as text (search/analysis.py): best so far against the trial-epochs spent
(one line per study: grid against random at the same budget), parallel coordinates, and the
heat-map of the two parameters that mattered most. Like the Search view's charts they redraw
on the screen's clock, only when the trials changed."""

from __future__ import annotations

from rich.text import Text

from tui_lab.results.palette import run_color
from tui_lab.search.analysis import (
    HEATMAP_BINS,
    HeatMap,
    best_quarter,
    best_so_far,
    heatmap,
    param_axis,
    param_keys,
    top_two,
    with_params,
)
from tui_lab.ui.sessions.search import SearchSession, short_keys
from tui_lab.ui.widgets.search_charts import (
    SearchChart,
    SearchText,
    objective_axis,
    percent,
    shown_values,
)

OTHER_TRIALS = (110, 110, 110)  # grey: the lines outside the best quarter
# viridis at five stops, low → high, as in the figures' colour bars
HEAT = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


class EffortChart(SearchChart):
    """Best so far against the trial-epochs spent: which method finds a good configuration for
    less training (lecture week 6)."""

    def draw(self, session: SearchSession) -> None:
        if not self.due(session):
            return
        plt = self.plt
        plt.xlabel("trial-epochs spent")
        self.border_title = f"best {objective_axis(session.objective)} so far per trial-epoch"
        for i, study in enumerate(session.studies()):
            xs, ys = best_so_far(session.study_records(study), session.direction, by_epochs=True)
            if xs:
                label = session.labels.get(study, study)
                ys = shown_values(session.objective, ys)
                plt.plot(xs, ys, label=label, color=run_color(i), marker="braille")
        self.refresh()


class ParallelChart(SearchChart):
    """Each scored trial as a line across its parameters (each axis scaled 0–1) and the
    objective; the best quarter of every study in its colour, the others grey."""

    def draw(self, session: SearchSession) -> None:
        if not self.due(session):
            return
        plt = self.plt
        self.border_title = "parallel coordinates · colour: each study's best quarter"
        records = list(session.records.values())
        keys = param_keys(records, session.space)
        trials = with_params(records, keys)
        if not trials or not keys:
            self.refresh()
            return
        columns = [param_axis(trials, k, session.space).normalized() for k in keys]
        values = [r.value or 0.0 for r in trials]
        lo, hi = min(values), max(values)
        studies = session.studies()
        best = set().union(
            *(best_quarter(session.study_records(s), session.direction) for s in studies)
        )
        order = sorted(
            range(len(trials)), key=lambda i: (trials[i].study, trials[i].number) in best
        )
        for i in order:  # the best last, on top
            r = trials[i]
            ys = [c[i] for c in columns] + [0.5 if hi == lo else (values[i] - lo) / (hi - lo)]
            top = (r.study, r.number) in best
            color = run_color(studies.index(r.study)) if top else OTHER_TRIALS
            plt.plot(list(range(len(ys))), ys, color=color, marker="braille")
        names = [*short_keys(keys).values(), session.objective]
        plt.xticks(list(range(len(names))), names)
        plt.yticks([0, 1], ["low", "high"])
        self.refresh()


def heat_color(fraction: float) -> tuple[int, int, int]:
    """The colour of ``fraction`` (0 = worst, 1 = best) between the HEAT stops."""
    x = max(0.0, min(1.0, fraction)) * (len(HEAT) - 1)
    i = min(int(x), len(HEAT) - 2)
    t = x - i
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(HEAT[i], HEAT[i + 1], strict=True))
    return r, g, b


def heatmap_text(cells: HeatMap, direction: str, width: int, scale: float = 1.0) -> Text:
    """Rows of one parameter's values, columns of the other's, each cell the best objective
    (times ``scale``: 100 for a percentage) on a background from worst (dark) to best
    (yellow)."""
    found = [v for row in cells.cells for v in row if v is not None]
    text = Text(no_wrap=True, overflow="crop")  # too many choices: the last columns are cut
    if not found:
        return text.append("no scored trial has both parameters yet", style="dim")
    lo, hi = min(found), max(found)
    label = min(8, max(len(y) for y in cells.y_ticks))
    cell = max(5, min(9, (width - label - 1) // max(1, len(cells.x_ticks))))
    digits = (3 if cell >= 6 else 2) - (1 if scale == 100 else 0)
    names = short_keys([cells.x, cells.y])
    text.append(f"↓ {names[cells.y]}   → {names[cells.x]}\n", style="dim")
    text.append(" " * (label + 1) + "".join(x[: cell - 1].rjust(cell) for x in cells.x_ticks))
    for y, row in zip(cells.y_ticks, cells.cells, strict=True):
        text.append("\n" + y[:label].rjust(label) + " ")
        for value in row:
            if value is None:
                text.append("·".rjust(cell), style="dim")
                continue
            fraction = 0.5 if hi == lo else (value - lo) / (hi - lo)
            if direction == "minimize":
                fraction = 1 - fraction
            r, g, b = heat_color(fraction)
            ink = "black" if fraction > 0.55 else "white"
            shown = f"{scale * value:.{digits}f}"
            text.append(shown.rjust(cell), style=f"{ink} on rgb({r},{g},{b})")
    return text


class HeatMapView(SearchText):
    """The heat-map of the two parameters Optuna's importance ranks first."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("heat-map", id=id)

    def text(self, session: SearchSession, width: int) -> Text:
        records = list(session.records.values())
        keys = param_keys(records, session.space)
        importance = next((i.importance for i in session.importance.values() if i.importance), None)
        pair = top_two(importance, keys)
        if pair is None:
            return Text("a heat-map needs two searched parameters", style="dim")
        bins = max(3, min(HEATMAP_BINS, (width - 8) // 6))  # as many ranges as fit
        cells = heatmap(records, *pair, session.direction, session.space, bins)
        self.border_title = f"best {objective_axis(session.objective)} · heat-map"
        scale = 100.0 if percent(session.objective) else 1.0
        return heatmap_text(cells, session.direction, width, scale)
