"""The results table: one row per finished run, from its ``RunFinished`` event."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui_lab.ui.charts import run_style
from tui_lab.ui.history import ComparisonState, RunHistory
from tui_lab.ui.runs_table import STATUS_STYLES, duration

COLUMNS = ("run", "status", "test acc", "test loss", "best val acc", "epochs to target",
           "epochs", "steps", "wall time", "diverged at", "error")  # fmt: skip


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def result_row(run: RunHistory, target: float | None) -> list[Text | str]:
    r = run.result
    if r is None:  # the experiment failed before this run started
        return [Text(run.name, style=f"bold {run_style(run.index)}"),
                Text(run.status, style=STATUS_STYLES.get(run.status, "")),
                *["—"] * (len(COLUMNS) - 3), run.error or ""]  # fmt: skip
    to_target = "—" if r.epochs_to_target is None else str(r.epochs_to_target)
    if target is not None and r.epochs_to_target is None and r.best_val_acc is not None:
        to_target = f"never ({target:.0%})"
    return [
        Text(run.name, style=f"bold {run_style(run.index)}"),
        Text(r.status, style=STATUS_STYLES.get(r.status, "")),
        _pct(r.test_acc),
        "—" if r.test_loss is None else f"{r.test_loss:.4f}",
        _pct(r.best_val_acc),
        to_target,
        str(r.epochs),
        str(r.steps),
        duration(r.seconds),
        "—" if r.diverged_at is None else f"step {r.diverged_at}",
        r.error or "",
    ]


class ResultsTable(DataTable):
    """Rows appear as runs finish, in run order."""

    DEFAULT_CSS = """
    ResultsTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: tuple | None = None

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)

    def show(self, state: ComparisonState) -> None:
        key = (id(state), *((r.status, r.error) for r in state.runs.values() if r.finished))
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        for run in state.runs.values():
            if run.result is not None or run.error is not None:
                target = run.started.config["training"]["target_acc"] if run.started else None
                self.add_row(*result_row(run, target), key=run.name)
