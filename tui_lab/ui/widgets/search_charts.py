"""The Search view's charts: the objective per trial with the best so far, the objective against
one parameter, and Optuna's importance as bars.

Like the Compare charts they redraw on the screen's clock and only when the trials changed;
a search has at most a few hundred trials, so nothing needs downsampling here. Log-scale
parameters are plotted as log10 on a linear axis (plotext 5's log axes crash on a redraw).
"""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui_lab.results.palette import run_color
from tui_lab.search.analysis import best_so_far, objective_title, param_axis, scored, with_params
from tui_lab.ui.sessions.search import SearchSession, short_keys
from tui_lab.ui.widgets.charts import CHART_FRAME, run_style

STUDY_MARKERS = ("●", "◆", "▲", "■")  # one per study: they stay apart without colour too
PRUNED_MARKER = "x"
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def study_marker(index: int) -> str:
    return STUDY_MARKERS[index % len(STUDY_MARKERS)]


def percent(objective: str) -> bool:
    """Accuracies are shown in percent, as everywhere in the lab."""
    return objective.endswith("acc")


def shown_values(objective: str, values: list[float]) -> list[float]:
    return [100 * v for v in values] if percent(objective) else values


def objective_text(objective: str, value: float) -> str:
    return f"{100 * value:.2f}%" if percent(objective) else f"{value:.4f}"


def objective_axis(objective: str) -> str:
    """The objective's title, with its unit."""
    return objective_title(objective) + (" (%)" if percent(objective) else "")


class SearchChart(PlotextPlot):
    """A plot redrawn from a session when its trials (or what the chart shows) changed."""

    DEFAULT_CSS = f"SearchChart {{ {CHART_FRAME} }}"

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._drawn: tuple | None = None

    def due(self, session: SearchSession, *extra: Any) -> bool:
        key = (id(session), session.version, self.size.width, self.size.height, *extra)
        if key == self._drawn or not self.is_on_screen or self.size.width < 10:
            return False
        self._drawn = key
        self.plt.clear_figure()
        return True


class TrialsChart(SearchChart):
    """The objective of every trial over its number, and the best so far (lecture week 6: how
    fast each method finds a good configuration)."""

    def draw(self, session: SearchSession) -> None:
        if not self.due(session):
            return
        plt = self.plt
        plt.xlabel("trial")
        objective = objective_axis(session.objective)
        self.border_title = f"{objective} per trial · line: best so far · {PRUNED_MARKER}: pruned"
        studies = session.studies()
        for i, study in enumerate(studies):
            records = session.study_records(study)
            label = session.labels.get(study, study) if len(studies) > 1 else None  # else no legend
            xs, ys = best_so_far(records, session.direction)
            if xs:  # under the points, which stay visible
                plt.plot(
                    xs, shown_values(session.objective, ys), color=run_color(i), marker="braille"
                )
            done = scored(records)
            if done:
                plt.scatter(
                    [r.number for r in done],
                    shown_values(session.objective, [r.value for r in done]),
                    label=label,
                    color=run_color(i),
                    marker=study_marker(i),
                )
            pruned = [r for r in records if r.status == "pruned" and r.value is not None]
            if pruned:
                plt.scatter(
                    [r.number for r in pruned],
                    shown_values(session.objective, [r.value for r in pruned]),
                    color=run_color(i),
                    marker=PRUNED_MARKER,
                )
        last = max((r.number for r in session.records.values()), default=0)
        step = max(1, math.ceil((last + 1) / 6))
        plt.xticks(list(range(0, last + 1, step)))  # trial numbers are whole
        self.refresh()


class ParamChart(SearchChart):
    """The objective against one parameter's value (categories side by side, rates on log10):
    a slice plot. ``hint`` names the key that shows the next parameter; without one (small
    multiples) the title is the parameter alone."""

    def __init__(self, title: str, *, hint: str = "", id: str | None = None) -> None:
        super().__init__(title, id=id)
        self.hint = hint

    def draw(self, session: SearchSession, key: str | None) -> None:
        if not self.due(session, key):
            return
        objective = objective_axis(session.objective)
        if key is None:
            self.border_title = "parameters"
        elif self.hint:
            self.border_title = f"{objective} vs {key} ({self.hint})"
        else:
            self.border_title = f"slice: {key}"
        if key is None:
            self.refresh()
            return
        plt = self.plt
        points = [
            (i, r)
            for i, s in enumerate(session.studies())
            for r in with_params(session.study_records(s), (key,))
        ]
        axis = param_axis([r for _, r in points], key, session.space)
        xs = axis.positions
        if axis.labels is not None:
            plt.xticks(list(range(len(axis.labels))), axis.labels)
            plt.xlim(-0.5, len(axis.labels) - 0.5)
        plt.xlabel(axis.title)
        studies = session.studies()
        for i, study in enumerate(studies):
            mine = [(x, r) for x, (j, r) in zip(xs, points, strict=True) if j == i]
            if mine:
                plt.scatter(
                    [x for x, _ in mine],
                    shown_values(session.objective, [r.value for _, r in mine]),
                    label=session.labels.get(study, study) if len(studies) > 1 else None,
                    color=run_color(i),
                    marker=study_marker(i),
                )
        self.refresh()


class SearchText(Static):
    """A framed text panel redrawn from a session when its trials or its width changed."""

    DEFAULT_CSS = f"SearchText {{ {CHART_FRAME} padding: 0 1; overflow-y: auto; }}"

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._drawn: tuple | None = None

    def show(self, session: SearchSession) -> None:
        width = self.content_size.width
        key = (id(session), session.version, width)
        if key == self._drawn or width < 10:
            return
        self._drawn = key
        self.update(self.text(session, width))

    def text(self, session: SearchSession, width: int) -> Text:
        raise NotImplementedError


class ImportanceBars(SearchText):
    """Optuna's hyperparameter importance per study as text bars, or why there is none yet."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("importance", id=id)

    def text(self, session: SearchSession, width: int) -> Text:
        return importance_text(session, width)


def bar(fraction: float, width: int) -> str:
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (BAR_EIGHTHS[part] if part else "")).ljust(width)


def importance_text(session: SearchSession, width: int) -> Text:
    studies = [s for s in session.studies() if s in session.importance]
    found = [
        (i, s, session.importance[s].importance)
        for i, s in enumerate(session.studies())
        if s in session.importance and session.importance[s].importance
    ]
    text = Text()
    if not found:
        notes = {session.importance[s].note for s in studies if session.importance[s].note}
        text.append(
            "Which hyperparameter mattered most, once enough trials finished:\n", style="dim"
        )
        text.append("; ".join(sorted(notes)) or "no finished trials yet")
        return text
    keys = sorted(
        {k for _, _, imp in found for k in imp},
        key=lambda k: -max(imp.get(k, 0.0) for _, _, imp in found),
    )
    names = short_keys(keys)
    name_width = min(max(len(n) for n in names.values()), max(8, width // 2))
    bar_width = max(4, width - name_width - 6)
    if len(found) > 1:  # a legend; then one bar per study under each parameter, in this order
        for i, study, _ in found:
            text.append(
                f"{study_marker(i)} {session.labels.get(study, study)}  ", style=run_style(i)
            )
        text.append("\n")
    for key in keys:
        for n, (i, _, imp) in enumerate(found):
            name = names[key][-name_width:] if n == 0 else ""
            text.append(name.ljust(name_width) + " ")
            text.append(bar(imp.get(key, 0.0), bar_width), style=run_style(i))
            text.append(f" {imp.get(key, 0.0):.2f}\n")
    return text
