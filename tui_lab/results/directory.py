"""A comparison's out dir: metrics.csv, steps.csv, summary.csv, expectations.csv and
experiment.json (``--export csv``) or results.json (``--export json``), plus report.md.

``RunDirectory`` listens to the event stream and rewrites the files after every epoch, so a
kill -9 leaves complete files for every finished epoch. ``read_previous`` reads such a
directory back, typed by its columns, for ``--resume``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui_lab.errors import ResumeError
from tui_lab.events import EpochEnded, Event, ExperimentFinished, RunFinished
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

    def __call__(self, event: Event) -> None:
        if isinstance(event, (EpochEnded, RunFinished)):
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
        return [self.path / name for name in files]


def read_previous(out_dir: Path) -> tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(format, experiment.json content, tables) of an earlier, possibly interrupted, export."""
    try:
        if (out_dir / "results.json").exists():
            payload = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
            tables = {
                k: [TABLES[k].typed(r) for r in payload.get(k, [])]
                for k in ("metrics", "steps", "summary")
            }
            return "json", payload["experiment"], tables
        meta_path = out_dir / "experiment.json"
        if not meta_path.exists():
            raise ResumeError(
                f"{out_dir} holds no experiment.json or results.json, so it is not a tui-lab out "
                "directory that can be resumed. Pass the --out directory of an earlier --export "
                "run."
            )
        tables = {
            k: read_csv(out_dir / f"{k}.csv", TABLES[k]) for k in ("metrics", "steps", "summary")
        }
        return "csv", json.loads(meta_path.read_text(encoding="utf-8")), tables
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ResumeError(
            f"{out_dir} cannot be read back ({type(exc).__name__}: {str(exc)[:200]}); a result "
            "file there is damaged. Restore it, or start again with a new --out directory."
        ) from None
