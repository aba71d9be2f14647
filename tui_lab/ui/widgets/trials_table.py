"""The live trials table of the Search view: a row per trial, sortable by number or value."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.widgets import DataTable

from tui_lab.events import TrialRecord
from tui_lab.search.space import display
from tui_lab.ui.sessions.search import SearchSession, short_keys, trial_label
from tui_lab.ui.widgets.charts import run_style
from tui_lab.ui.widgets.runs_table import STATUS_STYLES
from tui_lab.ui.widgets.search_charts import objective_text

SortKey = Literal["number", "value"]
SORT_KEYS: tuple[SortKey, ...] = ("number", "value")
TRIAL_STYLES = {**STATUS_STYLES, "pruned": "yellow", "waiting": "dim"}
LEAD_COLUMNS = ("trial", "status", "value", "epochs", "pruned at", "seconds")
BEST_MARK = "★ "


def sort_records(records: list[TrialRecord], by: SortKey, direction: str) -> list[TrialRecord]:
    """By number, or best value first (trials without a value last, in number order)."""
    if by == "number":
        return sorted(records, key=lambda r: (r.study, r.number))
    sign = -1.0 if direction == "maximize" else 1.0
    return sorted(
        records,
        key=lambda r: (
            r.value is None or r.status != "completed",
            sign * (r.value or 0.0),
            r.study,
            r.number,
        ),
    )


class TrialsTable(DataTable):
    """Rebuilt from the session only when a trial started or finished (never per training
    event); the cursor stays on its trial."""

    DEFAULT_CSS = """
    TrialsTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_by: SortKey = "number"
        self.keys: dict[str, tuple[str, int]] = {}  # row key -> (study, trial number)
        self._shown: tuple | None = None
        self._params: list[str] = []

    def cycle_sort(self) -> SortKey:
        self.sort_by = SORT_KEYS[(SORT_KEYS.index(self.sort_by) + 1) % len(SORT_KEYS)]
        self._shown = None
        return self.sort_by

    @property
    def selected(self) -> tuple[str, int] | None:
        if self.row_count == 0:
            return None
        return self.keys.get(
            self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or ""
        )

    def show(self, session: SearchSession) -> None:
        key = (id(session), session.version, self.sort_by)
        if key == self._shown:
            return
        self._shown = key
        params = session.param_keys()
        if params != self._params or not self.columns:
            self._params = params
            self.clear(columns=True)
            for column in LEAD_COLUMNS:
                self.add_column(column, key=column)
            for k, title in short_keys(params).items():
                self.add_column(title, key=k)
            self.add_column("reason", key="reason")
        selected = self.selected
        self.clear()
        self.keys = {}
        best = {s: session.best(s) for s in session.studies()}
        studies = session.studies()
        for r in sort_records(list(session.records.values()), self.sort_by, session.direction):
            row_key = f"{r.study}#{r.number}"
            self.keys[row_key] = (r.study, r.number)
            mark = BEST_MARK if best.get(r.study) == r else ""
            index = studies.index(r.study) if r.study in studies else 0
            self.add_row(
                Text(mark + trial_label(session.labels, r), style=f"bold {run_style(index)}"),
                Text(r.status, style=TRIAL_STYLES.get(r.status, "")),
                "—"
                if r.value is None or r.status not in ("completed", "pruned")
                else objective_text(session.objective, r.value),
                str(r.epochs) if r.epochs else "—",
                "—" if r.pruned_at is None else str(r.pruned_at),
                "—"
                if not r.seconds
                else f"{r.seconds:.1f}"
                if r.seconds >= 1
                else f"{r.seconds:.2f}",
                *(display(r.params[k]) if k in r.params else "—" for k in params),
                r.reason,
                key=row_key,
            )
        if selected is not None:
            rows = list(self.keys.values())
            if selected in rows:
                self.move_cursor(row=rows.index(selected), animate=False)
