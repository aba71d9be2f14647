"""The live runs table: one row per run with its latest numbers and a loss sparkline."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widgets import DataTable

from tui_lab.ui.state.comparison import ComparisonState, RunHistory, downsample
from tui_lab.ui.widgets.charts import run_name, run_style

SPARK_CHARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 16
# fixed widths: a live update then never re-lays out the screen (a layout is a costly frame)
COLUMNS = {
    "run": 0,
    "status": 10,
    "epoch": 6,
    "step": 11,
    "loss": 7,
    "val acc": 7,
    "lr": 8,
    "samples/s": 9,
    "ETA": 7,
    "loss trend": SPARK_WIDTH,
}
# what stays in a narrow table (80 columns): progress, the numbers that move, the ETA
NARROW = {"run": 0, "status": 10, "step": 9, "loss": 7, "val acc": 7, "ETA": 7, "loss trend": 8}
SHORT_LABELS = {"loss trend": "trend"}  # the narrow table's headers that would be cut
STATUS_STYLES = {
    "running": "bold green",
    "queued": "cyan",
    "loading": "cyan",
    "setting up": "cyan",
    "paused": "yellow",
    "completed": "green",
    "stopped": "yellow",
    "interrupted": "yellow",
    "diverged": "bold red",
    "failed": "bold red",
}


def sparkline(values: list[float], width: int = SPARK_WIDTH) -> str:
    """The last points of a curve as block characters scaled between their min and max."""
    if not values:
        return ""
    _, ys = downsample(list(range(len(values))), values, width)
    lo, hi = min(ys), max(ys)
    span = hi - lo or 1.0
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round((y - lo) / span * top)] for y in ys)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, s = divmod(round(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def run_cells(run: RunHistory, status: str, trend: int = SPARK_WIDTH) -> dict[str, Text | str]:
    """Every column's cell for one run; ``status`` is what the run is doing (it may wait for a
    worker or its data)."""
    step, epoch = run.last_step, run.last_epoch
    total = run.started.total_steps if run.started else None
    shown = Text(status, style=STATUS_STYLES.get(status, ""))
    if run.result and run.result.diverged_at is not None:
        shown.append(f" @{run.result.diverged_at}")
    done_steps = max(step.step if step else 0, epoch.step if epoch else 0)
    val_acc = epoch.val_acc if epoch else None
    return {
        "run": run_name(run),
        "status": shown,
        "epoch": _num(step.epoch if step else None, ".2f"),
        "step": f"{done_steps}/{total}" if total else str(done_steps) if done_steps else "—",
        "loss": _num(step.loss if step else None, ".4f"),
        "val acc": "—" if val_acc is None else f"{100 * val_acc:.2f}%",
        "lr": _num(step.lr if step else None, ".2e"),
        "samples/s": _num(step.samples_per_s if step else None, ",.0f"),
        "ETA": duration(run.eta_seconds()),
        "loss trend": Text(
            sparkline([s.loss for s in run.steps], trend), style=run_style(run.index)
        ),
    }


class RunsTable(DataTable):
    """Rows keyed by run name; ``show`` refreshes them from the histories, at most once a
    second unless a run's status changed (a table repaint is the UI's costliest frame). Its
    run column is the charts' legend. Narrower than every column, it keeps ``NARROW``."""

    MIN_INTERVAL = 1.0

    DEFAULT_CSS = """
    RunsTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._version: tuple[int, int] | None = None
        self._statuses: list[str] = []
        self._shown_at = 0.0
        self._columns: dict[str, int] = {}

    @property
    def selected_run(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def _fitting(self, name_width: int) -> dict[str, int]:
        full = name_width + sum(COLUMNS.values()) + 2 * len(COLUMNS)  # a cell pads 1 each side
        return COLUMNS if self.size.width >= full else NARROW

    def show(self, state: ComparisonState, status_of: Callable[[RunHistory], str]) -> None:
        key = (id(state), state.version)
        same_state = self._version is not None and self._version[0] == id(state)
        statuses = [status_of(run) for run in state.runs.values()]
        recent = time.monotonic() - self._shown_at < self.MIN_INTERVAL
        name_width = max(len(run_name(run)) for run in state.runs.values())
        columns = self._fitting(name_width)
        if columns is not self._columns:
            same_state = False
        elif key == self._version or (same_state and recent and statuses == self._statuses):
            return
        self._statuses, self._shown_at = statuses, time.monotonic()
        rows = [
            run_cells(run, status, columns["loss trend"])
            for run, status in zip(state.runs.values(), statuses, strict=True)
        ]
        if not same_state:
            self._columns = columns
            self.clear(columns=True)
            for column, width in columns.items():
                label = SHORT_LABELS.get(column, column) if columns is NARROW else column
                self.add_column(label, key=column, width=width or name_width)
            for run, cells in zip(state.runs.values(), rows, strict=True):
                self.add_row(*(cells[c] for c in columns), key=run.name)
        else:
            for run, cells in zip(state.runs.values(), rows, strict=True):
                for column in columns:
                    self.update_cell(run.name, column, cells[column])
        self._version = key
