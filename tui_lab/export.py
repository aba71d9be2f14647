"""Result files: metrics.csv, steps.csv, summary.csv, experiment.json (or results.json).

``ResultsRecorder`` listens to the event stream and keeps the tables; ``RunDirectory`` writes
them atomically (temp file + rename) after every epoch, so a kill -9 leaves complete files for
every finished epoch and never a truncated CSV. Column names are a documented, stable contract.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tui_lab import __version__
from tui_lab.errors import UserError
from tui_lab.events import (
    EpochEnded,
    Event,
    ExperimentFinished,
    RunFinished,
    RunStarted,
    StepLogged,
)

METRICS_COLUMNS = ["run", "epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc",
                   "lr", "seconds", "epoch_seconds"]  # fmt: skip
STEPS_COLUMNS = ["run", "step", "epoch", "loss", "lr", "samples_per_s", "seconds"]
SUMMARY_COLUMNS = ["run", "status", "best_val_acc", "test_acc", "test_loss", "epochs", "steps",
                   "seconds", "epochs_to_target", "diverged_at", "error"]  # fmt: skip


class ExportError(UserError):
    """The out dir cannot be created or written (permissions, full disk)."""


class ResultsRecorder:
    """The tables of one experiment, built from its events (thread-safe enough: one writer)."""

    def __init__(self) -> None:
        self.started: dict[str, RunStarted] = {}
        self.metrics: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.summary: dict[str, dict[str, Any]] = {}
        self.order: dict[str, int] = {}  # run name → its place in the preset (runs finish in any order)
        self.extra_tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.started[event.run] = event
            self.order[event.run] = event.index
        elif isinstance(event, StepLogged):
            self.steps.append({k: getattr(event, k) for k in STEPS_COLUMNS})
        elif isinstance(event, EpochEnded):
            self.metrics.append({k: getattr(event, k) for k in METRICS_COLUMNS})
        elif isinstance(event, RunFinished):
            self.summary[event.run] = {k: getattr(event, k) for k in SUMMARY_COLUMNS}

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per finished run, in the preset's run order."""
        return sorted(self.summary.values(), key=lambda row: self.order.get(row["run"], len(self.order)))


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers only ever see the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(
            f"Cannot write {path}: {exc.strerror or exc}. Free some disk space or choose another "
            "--out directory; files already written there are complete and were kept."
        ) from None


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k)) for k in columns})
    return buf.getvalue()


def _fmt(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def environment() -> dict[str, Any]:
    import torch

    return {
        "tui_lab": __version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
    }


def default_out_dir(preset: str) -> Path:
    """``runs/<preset>-<timestamp>``, with a suffix when that name is already taken."""
    base = Path("runs") / f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def prepare_out_dir(path: Path, resume: bool = False) -> Path:
    """Create the out dir; an existing non-empty one is never overwritten (unless resuming)."""
    path = Path(path)
    if path.exists() and any(path.iterdir()) and not resume:
        raise ExportError(
            f"The out directory {path} already exists and is not empty; tui-lab never "
            "overwrites results. Choose another --out, or remove that directory."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("**/.*.tmp"):  # half-written by a process killed mid-write
            stale.unlink()
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ExportError(
            f"Cannot write to the out directory {path}: {exc.strerror or exc}. Choose a "
            "writable --out directory."
        ) from None
    return path


class RunDirectory:
    """Event listener that keeps the out dir's files current after every epoch."""

    def __init__(self, path: Path, fmt: str, experiment: dict[str, Any], recorder: ResultsRecorder):
        self.path = path
        self.fmt = fmt
        self.experiment = experiment
        self.recorder = recorder
        self.written: list[Path] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, (EpochEnded, RunFinished, ExperimentFinished)):
            self.write(final=isinstance(event, ExperimentFinished), event=event)

    def write(self, final: bool = False, event: Event | None = None) -> list[Path]:
        rec = self.recorder
        meta = dict(self.experiment)
        meta["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        if isinstance(event, ExperimentFinished):
            meta["status"] = event.status
        elif "status" not in meta:
            meta["status"] = "running"
        files: dict[str, str] = {}
        if self.fmt == "csv":
            files["metrics.csv"] = csv_text(METRICS_COLUMNS, rec.metrics)
            files["steps.csv"] = csv_text(STEPS_COLUMNS, rec.steps)
            files["summary.csv"] = csv_text(SUMMARY_COLUMNS, rec.summary_rows())
            for name, (columns, rows) in rec.extra_tables.items():
                files[f"{name}.csv"] = csv_text(columns, rows)
            files["experiment.json"] = json.dumps(meta, indent=2, default=str)
        else:
            payload = {
                "experiment": meta,
                "metrics": rec.metrics,
                "steps": rec.steps,
                "summary": rec.summary_rows(),
            }
            payload.update({name: rows for name, (_, rows) in rec.extra_tables.items()})
            files["results.json"] = json.dumps(payload, indent=2, default=str)
        written = []
        for name, text in files.items():
            atomic_write(self.path / name, text)
            written.append(self.path / name)
        self.written = written
        return written

    def finish(self, status: str, report: str | None = None) -> None:
        """Final write with the experiment's status, plus report.md when one is given."""
        self.experiment["status"] = status
        self.write()
        if report is not None:
            atomic_write(self.path / "report.md", report)


def check_expectations(cfg, recorder: ResultsRecorder) -> list[Any]:
    """The preset's expectations against a comparison's results, for the datasets its runs used."""
    from tui_lab.expectations import check_all, comparison_functions

    used = {s.config.get("data", {}).get("dataset") for s in recorder.started.values()} - {None}
    datasets = used or {cfg.base.data.dataset}
    return check_all(cfg.expect, comparison_functions(recorder), datasets)


def conclude(cfg, recorder: ResultsRecorder, writer: RunDirectory | None, status: str) -> list[Any]:
    """The end of a comparison, headless or in the TUI: check the preset's expectations, add
    them to the result tables and, with an out dir, write the final files and report.md."""
    from tui_lab.report import comparison_report

    results = check_expectations(cfg, recorder)
    rows = [{"text": e.text, "check": e.check, "result": e.label} for e in results]
    recorder.extra_tables["expectations"] = (["text", "check", "result"], rows)
    if writer is not None:
        writer.finish(status, comparison_report(writer.experiment, recorder, results))
    return results


def experiment_metadata(cfg, runs: list[tuple[str, Any]], argv: list[str] | None,
                        overrides: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """experiment.json: enough to understand the results and to ``--resume`` the experiment."""
    return {
        "preset": cfg.name,
        "description": cfg.description,
        "lecture": cfg.lecture,
        "step": cfg.step,
        "command": argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": environment(),
        "runs": {name: rc.model_dump(mode="json") for name, rc in runs},
        "expect": [asdict_safe(e) for e in cfg.expect],
        "experiment_config": cfg.model_dump(mode="json"),
        "overrides": overrides or {},
    }


def asdict_safe(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return asdict(obj)
