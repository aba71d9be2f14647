"""The live runs table: one row per run with its latest numbers and a loss sparkline; over seeds
a row per configuration (mean ± 95% CI over its seeds) above the rows of its seeds."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widgets import DataTable

from tui_lab.events import FINAL_STATUSES
from tui_lab.results.aggregate import interval_of
from tui_lab.ui.state.comparison import ComparisonState, RunHistory, downsample
from tui_lab.ui.state.seeds import (
    Configuration,
    band,
    configurations,
    has_seeds,
    interval_text,
)
from tui_lab.ui.widgets.charts import legend_mark, run_name, run_style

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
# over seeds the numbers are mean ± 95% CI (``0.412 ± 0.013``, ``71.48% ± 7.08``): wider cells,
# for which the wide table drops epoch and samples/s and the narrow one its trend (and a
# character of its status: "2 running")
SEED_WIDTHS = {"loss": 13, "val acc": 13}
SEEDED = {k: SEED_WIDTHS.get(k, w) for k, w in COLUMNS.items() if k not in ("epoch", "samples/s")}
SEEDED_NARROW = {
    k: SEED_WIDTHS.get(k, w) - (k == "status") for k, w in NARROW.items() if k != "loss trend"
}
CONFIGURATION_ROW = "{}@*"  # a configuration's row key: every seed of it (run names hold no *)
SEED_INDENT = " "
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


def configuration_label(config: Configuration) -> Text:
    """``━ adam ×3``: the configuration's mark in its colour, and how many seeds it has."""
    i = config.index
    return Text.assemble(
        (legend_mark(i), run_style(i)), " ", (f"{config.name} ×{config.seeds}", "bold")
    )


def statuses_text(statuses: list[str]) -> Text:
    """One status for all seeds, else how many of them are running, or done."""
    if len(set(statuses)) == 1:
        return Text(statuses[0], style=STATUS_STYLES.get(statuses[0], ""))
    running = statuses.count("running")
    if running:
        return Text(f"{running} running", style=STATUS_STYLES["running"])
    return Text(f"{sum(s in FINAL_STATUSES for s in statuses)} done")


def latest_common(runs: tuple[RunHistory, ...], source: str) -> list:
    """Each seed's event at the latest step (or epoch) that every seed which logged any has
    logged: seeds are compared at one step, not each at its own."""
    logged = [getattr(r, source) for r in runs if getattr(r, source)]
    k = min((len(events) for events in logged), default=0)
    return [events[k - 1] for events in logged] if k else []


def configuration_cells(
    config: Configuration, statuses: list[str], trend: int = SPARK_WIDTH
) -> dict[str, Text | str]:
    """A configuration's row: its progress over all seeds, the mean ± 95% CI of its seeds'
    latest common loss and validation accuracy, its mean loss as the trend."""
    runs = config.runs
    steps, epochs = latest_common(runs, "steps"), latest_common(runs, "epochs")
    done = sum(r.last_step.step for r in runs if r.last_step)
    total = sum(r.started.total_steps for r in runs if r.started)
    etas = [eta for r in runs if (eta := r.eta_seconds()) is not None]
    mean_loss = band(config, "train_loss", "step", False, trend).means
    return {
        "run": configuration_label(config),
        "status": statuses_text(statuses),
        "epoch": _num(min((s.epoch for s in steps), default=None), ".2f"),
        "step": f"{done}/{total}" if total else "—",
        "loss": interval_text(interval_of([s.loss for s in steps]), ".3f"),
        "val acc": interval_text(interval_of([e.val_acc for e in epochs]), ".2f", 100, "%"),
        "lr": _num(steps[0].lr if steps else None, ".2e"),
        "samples/s": _num(sum(s.samples_per_s for s in steps) if steps else None, ",.0f"),
        "ETA": duration(max(etas, default=None)),
        "loss trend": Text(sparkline(mean_loss, trend), style=run_style(config.index)),
    }


def run_cells(
    run: RunHistory,
    status: str,
    trend: int = SPARK_WIDTH,
    index: int | None = None,
    indent: str = "",
) -> dict[str, Text | str]:
    """Every column's cell for one run; ``status`` is what the run is doing (it may wait for a
    worker or its data); a seed's row is in its configuration's colour (``index``), indented
    under it."""
    step, epoch = run.last_step, run.last_epoch
    total = run.started.total_steps if run.started else None
    shown = Text(status, style=STATUS_STYLES.get(status, ""))
    if run.result and run.result.diverged_at is not None:
        shown.append(f" @{run.result.diverged_at}")
    done_steps = max(step.step if step else 0, epoch.step if epoch else 0)
    val_acc = epoch.val_acc if epoch else None
    return {
        "run": run_name(run, index, indent),
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


def table_rows(
    state: ComparisonState, status_of: Callable[[RunHistory], str], trend: int
) -> dict[str, dict[str, Text | str]]:
    """Each row's cells by row key: each run, or over seeds each configuration then its seeds."""
    if not has_seeds(state):
        return {r.name: run_cells(r, status_of(r), trend) for r in state.runs.values()}
    rows: dict[str, dict[str, Text | str]] = {}
    for config in configurations(state):
        statuses = [status_of(r) for r in config.runs]
        rows[CONFIGURATION_ROW.format(config.name)] = configuration_cells(config, statuses, trend)
        for run, status in zip(config.runs, statuses, strict=True):
            rows[run.name] = run_cells(run, status, trend, config.index, SEED_INDENT)
    return rows


class RunsTable(DataTable):
    """Rows keyed by run name (a configuration's by ``CONFIGURATION_ROW``); ``show`` refreshes
    them from the histories, at most once a second unless a run's status changed (a table
    repaint is the UI's costliest frame). Its run column is the charts' legend. Narrower than
    every column, it keeps ``NARROW``."""

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
        self._state: ComparisonState | None = None

    @property
    def selected_runs(self) -> list[str]:
        """The selected row's run, or every seed of the selected configuration."""
        if self.row_count == 0 or self._state is None:
            return []
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        for config in configurations(self._state):
            if key == CONFIGURATION_ROW.format(config.name):
                return [r.name for r in config.runs]
        return [key] if key is not None else []

    @property
    def selected_run(self) -> str | None:
        """The selected run, or the selected configuration's first seed."""
        return next(iter(self.selected_runs), None)

    def _fitting(self, name_width: int, seeded: bool) -> dict[str, int]:
        wide, narrow = (SEEDED, SEEDED_NARROW) if seeded else (COLUMNS, NARROW)
        full = name_width + sum(wide.values()) + 2 * len(wide)  # a cell pads 1 each side
        return wide if self.size.width >= full else narrow

    def show(self, state: ComparisonState, status_of: Callable[[RunHistory], str]) -> None:
        key = (id(state), state.version)
        same_state = self._version is not None and self._version[0] == id(state)
        statuses = [status_of(run) for run in state.runs.values()]
        recent = time.monotonic() - self._shown_at < self.MIN_INTERVAL
        seeded = has_seeds(state)
        name_width = max(len(run_name(run)) for run in state.runs.values())
        if seeded:
            labels = [configuration_label(c) for c in configurations(state)]
            name_width = max(name_width + len(SEED_INDENT), *(len(label) for label in labels))
        columns = self._fitting(name_width, seeded)
        if columns is not self._columns:
            same_state = False
        elif key == self._version or (same_state and recent and statuses == self._statuses):
            return
        self._statuses, self._shown_at, self._state = statuses, time.monotonic(), state
        rows = table_rows(state, status_of, columns.get("loss trend", SPARK_WIDTH))
        if not same_state:
            self._columns = columns
            self.clear(columns=True)
            narrow = columns is NARROW or columns is SEEDED_NARROW
            for column, width in columns.items():
                label = SHORT_LABELS.get(column, column) if narrow else column
                self.add_column(label, key=column, width=width or name_width)
            for row_key, cells in rows.items():
                self.add_row(*(cells[c] for c in columns), key=row_key)
        else:
            for row_key, cells in rows.items():
                for column in columns:
                    self.update_cell(row_key, column, cells[column])
        self._version = key
