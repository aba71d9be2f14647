"""A comparison's out dir: metrics.csv, steps.csv, summary.csv, expectations.csv and
experiment.json (``--export csv``) or results.json (``--export json``), plus report.md.

``RunDirectory`` listens to the event stream and rewrites the files after every epoch, so a
kill -9 leaves complete files for every finished epoch. ``read_previous`` reads such a
directory back, typed by its columns, for ``--resume``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tui_lab.errors import ResumeError
from tui_lab.events import EpochEnded, Event, ExperimentFinished, RunFinished, RunStarted
from tui_lab.results.columns import EXPECTATIONS, METRICS, STEPS, SUMMARY, Columns
from tui_lab.results.files import atomic_write, csv_text, read_csv
from tui_lab.results.manifest import now
from tui_lab.results.recorder import ResultsRecorder

TABLES: dict[str, Columns] = {
    "metrics": METRICS,
    "steps": STEPS,
    "summary": SUMMARY,
    "expectations": EXPECTATIONS,
}


class RunDirectory:
    """Event listener that keeps the out dir's files current after every epoch."""

    def __init__(self, path: Path, fmt: str, meta: dict[str, Any], recorder: ResultsRecorder):
        self.path = path
        self.fmt = fmt
        self.meta = meta
        self.recorder = recorder
        self.written: set[Path] = set()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):  # what each run trains with, and why
            numerics = self.meta.setdefault("numerics", {})
            numerics[event.run] = {"precision": event.precision, "why": event.numerics}
        elif isinstance(event, (EpochEnded, RunFinished)):
            self.write()
        elif isinstance(event, ExperimentFinished):
            self.write(event.status)

    def write(self, status: str | None = None, report: str | None = None) -> list[Path]:
        """Every file as the recorder holds it now; ``status`` goes into experiment.json."""
        if status is not None:
            self.meta["status"] = status
        meta = {**self.meta, "status": self.meta.get("status", "running"), "updated": now()}
        tables = self.recorder.tables()
        files: dict[str, str] = {}
        if self.fmt == "csv":
            files.update(
                {f"{name}.csv": csv_text(TABLES[name], rows) for name, rows in tables.items()}
            )
            files["experiment.json"] = json.dumps(meta, indent=2, default=str)
        else:
            payload = {"experiment": meta, **tables}
            files["results.json"] = json.dumps(payload, indent=2, default=str)
        if report is not None:
            files["report.md"] = report
        for name, text in files.items():
            atomic_write(self.path / name, text)
            self.written.add(self.path / name)
        return [self.path / name for name in files]

    def discard(self) -> None:
        """Remove the files written so far (a start that failed before any training)."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()


# experiment.json keys of the jobs that are not comparisons (search/files.py, toy2d/files.py)
OTHER_JOBS = {"search": "search", "toy2d": "2-D toy problem"}
# the cells a resume relies on, per table: a row without them is damaged
REQUIRED = {"metrics": ("run", "epoch"), "steps": ("run", "step"), "summary": ("run", "status")}


def read_previous(out_dir: Path) -> tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(format, experiment.json content, tables) of an earlier, possibly interrupted, export;
    a ResumeError naming the damage when a file cannot be what tui-lab wrote."""
    try:
        payload: Any = None
        if (out_dir / "results.json").exists():
            payload = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
            fmt, meta = "json", payload["experiment"]
        elif (out_dir / "experiment.json").exists():
            fmt, meta = "csv", json.loads((out_dir / "experiment.json").read_text("utf-8"))
        else:
            raise ResumeError(
                f"{out_dir} holds no experiment.json or results.json, so it is not a tui-lab out "
                "directory that can be resumed. Pass the --out directory of an earlier --export "
                "run."
            )
        if not isinstance(meta, dict):
            raise TypeError(f"the experiment record is a {type(meta).__name__}, not an object")
        other = next((kind for key, kind in OTHER_JOBS.items() if key in meta), None)
        if other is not None:
            raise ResumeError(
                f"{out_dir} holds a {other}; --resume continues an interrupted comparison. "
                "Run the search's or toy problem's command again instead."
            )
        if payload is not None:
            tables = {k: [TABLES[k].typed(r) for r in payload.get(k, [])] for k in REQUIRED}
        else:
            tables = {k: read_csv(out_dir / f"{k}.csv", TABLES[k]) for k in REQUIRED}
        for name, keys in REQUIRED.items():
            for row in tables[name]:
                missing = [k for k in TABLES[name] if k not in row]
                missing += [k for k in keys if row.get(k) is None]
                if missing:
                    raise ValueError(f"a row of {name} has no {', '.join(missing)}: {row}")
        return fmt, meta, tables
    except (OSError, ValueError, KeyError, TypeError, AttributeError, csv.Error) as exc:
        raise ResumeError(
            f"{out_dir} cannot be read back ({type(exc).__name__}: {str(exc)[:200]}); a result "
            "file there is damaged. Restore it, or start again with a new --out directory."
        ) from None
