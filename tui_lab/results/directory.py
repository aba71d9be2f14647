"""A comparison's out dir: metrics.csv, steps.csv, summary.csv, expectations.csv and
experiment.json (``--export csv``) or results.json (``--export json``), plus report.md.

``RunDirectory`` listens to the event stream and rewrites the files after every epoch, so a
kill -9 leaves complete files for every finished epoch; within a long epoch it rewrites them
every ``LIVE_WRITE_S`` seconds as well, so that ``tui-lab open`` in another shell follows the
curves. ``read_previous`` reads such a directory back, typed by its columns, for ``--resume``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tui_lab.config import configuration_of
from tui_lab.errors import OpenError, ResumeError
from tui_lab.events import (
    EpochEnded,
    Event,
    ExperimentFinished,
    RunFinished,
    RunStarted,
    StepLogged,
)
from tui_lab.results.aggregate import aggregate_rows
from tui_lab.results.columns import AGGREGATE, COMPARISON_FILES, EXPECTATIONS, Columns
from tui_lab.results.exports import KIND_NAMES, WrongKind, read_export
from tui_lab.results.files import atomic_write, csv_text
from tui_lab.results.manifest import now
from tui_lab.results.recorder import ResultsRecorder

TABLES: dict[str, Columns] = {
    **COMPARISON_FILES,
    "aggregate": AGGREGATE,
    "expectations": EXPECTATIONS,
}
LIVE_WRITE_S = 10.0


class RunDirectory:
    """Event listener that keeps the out dir's files current after every epoch."""

    def __init__(self, path: Path, fmt: str, meta: dict[str, Any], recorder: ResultsRecorder):
        self.path = path
        self.fmt = fmt
        self.meta = meta
        self.recorder = recorder
        self.written: set[Path] = set()
        self.written_at = time.monotonic()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):  # what a follower cannot tell from the tables
            self.meta.setdefault("started_runs", {})[event.run] = {
                "steps_per_epoch": event.steps_per_epoch,
                "total_steps": event.total_steps,
                "parameters": event.parameters,
                "device": event.device,
                "precision": event.precision,
            }
            numerics = self.meta.setdefault("numerics", {})  # what each run trains with, and why
            numerics[event.run] = {"precision": event.precision, "why": event.numerics}
        elif isinstance(event, (EpochEnded, RunFinished)) or (
            isinstance(event, StepLogged) and time.monotonic() - self.written_at > LIVE_WRITE_S
        ):
            self.write()
        elif isinstance(event, ExperimentFinished):
            self.write(event.status)

    def write(self, status: str | None = None, report: str | None = None) -> list[Path]:
        """Every file as the recorder holds it now; ``status`` goes into experiment.json."""
        if status is not None:
            self.meta["status"] = status
        meta = {**self.meta, "status": self.meta.get("status", "running"), "updated": now()}
        tables = file_tables(self.recorder.tables(), self.meta["runs"])
        files: dict[str, str] = {}
        if report is not None:
            files["report.md"] = report
        if self.fmt == "csv":  # experiment.json last: its status tells a follower all is there
            files.update(
                {f"{name}.csv": csv_text(TABLES[name], rows) for name, rows in tables.items()}
            )
            files["experiment.json"] = json.dumps(meta, indent=2, default=str)
        else:
            payload = {"experiment": meta, **tables}
            files["results.json"] = json.dumps(payload, indent=2, default=str)
        for name, text in files.items():
            atomic_write(self.path / name, text)
            self.written.add(self.path / name)
        self.written_at = time.monotonic()
        return [self.path / name for name in files]

    def discard(self) -> None:
        """Remove the files written so far (a start that failed before any training)."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


def file_tables(
    tables: dict[str, list[dict[str, Any]]], runs: dict[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The recorder's tables as written: ``run`` the configuration and ``seed`` the seed of
    each run (``adam@3`` → adam, 3), and aggregate.csv from the summary."""

    def as_written(row: dict[str, Any]) -> dict[str, Any]:
        seed = runs.get(row["run"], {}).get("training", {}).get("seed")
        return {**row, "run": configuration_of(row["run"]), "seed": seed}

    out = {
        name: [as_written(r) for r in rows] if name in COMPARISON_FILES else rows
        for name, rows in tables.items()
    }
    return {**out, "aggregate": aggregate_rows(tables["summary"])}


def read_previous(out_dir: Path) -> tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(format, experiment.json content, tables) of an earlier, possibly interrupted,
    comparison export; a ResumeError naming the damage when a file cannot be what tui-lab
    wrote, or what it is when it is a search or toy problem."""
    try:
        export = read_export(out_dir, kinds=("comparison",))
    except WrongKind as exc:
        raise ResumeError(
            f"{out_dir} holds {KIND_NAMES[exc.kind]}; --resume continues an interrupted "
            "comparison. Run the search's or toy problem's command again instead."
        ) from None
    except OpenError as exc:
        raise ResumeError(f"{exc} It cannot be resumed.") from None
    return export.fmt, export.meta, export.tables
