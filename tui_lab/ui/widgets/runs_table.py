"""The live runs table: one row per run with its latest numbers and a loss sparkline."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from tui_lab.ui.state.comparison import ComparisonState, RunHistory, downsample
from tui_lab.ui.widgets.charts import run_style

SPARK_CHARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 16
# fixed widths: a live update then never re-lays out the screen (a layout is a costly frame)
COLUMNS = {
    "run": 0,
    "status": 15,
    "epoch": 6,
    "step": 11,
    "loss": 7,
    "val acc": 7,
    "lr": 8,
    "samples/s": 9,
    "ETA": 7,
    "loss trend": SPARK_WIDTH,
}
STATUS_STYLES = {
    "running": "bold green",
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


def run_row(run: RunHistory) -> list[Text | str]:
    step, epoch = run.last_step, run.last_epoch
    total = run.started.total_steps if run.started else None
    status = Text(run.status, style=STATUS_STYLES.get(run.status, ""))
    if run.result and run.result.diverged_at is not None:
        status.append(f" @{run.result.diverged_at}")
    done_steps = max(step.step if step else 0, epoch.step if epoch else 0)
    return [
        Text(run.name, style=f"bold {run_style(run.index)}"),
        status,
        _num(step.epoch if step else None, ".2f"),
        f"{done_steps}/{total}" if total else str(done_steps) if done_steps else "—",
        _num(step.loss if step else None, ".4f"),
        _num(epoch.val_acc * 100 if epoch and epoch.val_acc is not None else None, ".2f"),
        _num(step.lr if step else None, ".2e"),
        _num(step.samples_per_s if step else None, ",.0f"),
        duration(run.eta_seconds()),
        Text(sparkline([s.loss for s in run.steps]), style=run_style(run.index)),
    ]


class RunsTable(DataTable):
    """Rows keyed by run name; ``show`` refreshes them from the histories, at most once a
    second unless a run's status changed (a table repaint is the UI's costliest frame)."""

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

    @property
    def selected_run(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show(self, state: ComparisonState) -> None:
        key = (id(state), state.version)
        same_state = self._version is not None and self._version[0] == id(state)
        statuses = [run.status for run in state.runs.values()]
        recent = time.monotonic() - self._shown_at < self.MIN_INTERVAL
        if key == self._version or (same_state and recent and statuses == self._statuses):
            return
        self._statuses, self._shown_at = statuses, time.monotonic()
        if not same_state:
            self.clear(columns=True)
            name_width = max(len(name) for name in state.runs)
            for column, width in COLUMNS.items():
                self.add_column(column, key=column, width=width or name_width)
            for run in state.runs.values():
                self.add_row(*run_row(run), key=run.name)
        else:
            for run in state.runs.values():
                for column, value in zip(COLUMNS, run_row(run), strict=True):
                    self.update_cell(run.name, column, value)
        self._version = key
