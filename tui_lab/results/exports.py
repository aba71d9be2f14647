"""Any export read back (``tui-lab open``, ``--resume``): which kind of job wrote it, its
experiment.json, its tables typed by their columns (results/columns.py), and whether the
process writing it is still at work.

Every export names its writer in experiment.json (``writer``: host and pid, results/manifest.py);
an out-dir lock file holding the writer's pid (``OUT/.lock``) is read where experiment.json
names none. A writer on this host whose pid is gone has died; files it left hold every
finished epoch (a comparison) or trial (a search), and are read as they are.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_lab.errors import OpenError
from tui_lab.events import EpochEnded, Event, RunFinished, RunStarted, StepLogged
from tui_lab.results.columns import (
    BEST_TRIALS,
    COMPARISON_FILES,
    EXPECTATIONS,
    METRICS,
    STEPS,
    SUMMARY,
    TOY_SUMMARY,
    TRAJECTORIES,
    TRIAL_METRICS,
    TRIALS,
    TRIALS_TAIL,
    Columns,
)
from tui_lab.results.files import read_csv

TABLES_OF: dict[str, dict[str, Columns]] = {
    "comparison": COMPARISON_FILES,
    "search": {"trials": TRIALS + TRIALS_TAIL, "metrics": TRIAL_METRICS, "summary": BEST_TRIALS},
    "toy": {"trajectories": TRAJECTORIES, "summary": TOY_SUMMARY},
}
KIND_NAMES = {"comparison": "a comparison", "search": "a search", "toy": "a 2-D toy problem"}
KINDS = tuple(KIND_NAMES)
# the cells a row of a comparison's tables cannot be without (whose it is, and where)
REQUIRED = {
    "metrics": ("run", "epoch"),
    "steps": ("run", "step"),
    "summary": ("run", "status"),
    "internals": ("run", "step", "layer"),
    "sharpness": ("run", "step"),
}
LOCK_FILE = ".lock"
FINISHED = ("completed", "stopped", "interrupted", "failed")
STALLED_AFTER_S = 600.0  # no write for this long from a writer on another host: say so


@dataclass(frozen=True)
class Export:
    """One out dir as read now."""

    path: Path
    kind: str  # comparison, search or toy
    fmt: str  # csv or json
    meta: dict[str, Any]  # experiment.json
    tables: dict[str, list[dict[str, Any]]]  # by file stem, expectations included

    @property
    def name(self) -> str:
        return self.path.resolve().name

    @property
    def running(self) -> bool:
        """experiment.json says its writer has not finished (it may have died since)."""
        return self.meta.get("status", "running") not in FINISHED


def kind_of(meta: dict[str, Any]) -> str:
    if "search" in meta:
        return "search"
    if "toy2d" in meta:
        return "toy"
    return "comparison"


def read_export(path: Path, kinds: tuple[str, ...] = KINDS) -> Export:
    """The export in ``path``, typed; an ``OpenError`` paragraph when it is none, is damaged
    (a file cut short, a column renamed, a row without its keys), or is of none of ``kinds``
    (said before its tables are read)."""
    path = Path(path)
    if not path.is_dir():
        raise OpenError(
            f"{path} is not a directory. Give the out directory of a tui-lab export "
            "(runs/<preset>-<time>/, written by --export csv|json or the lab's e key)."
        )
    try:
        payload: Any = None
        if (path / "results.json").exists():
            payload = json.loads((path / "results.json").read_text(encoding="utf-8"))
            meta, fmt = payload["experiment"], "json"
        elif (path / "experiment.json").exists():
            meta, fmt = json.loads((path / "experiment.json").read_text(encoding="utf-8")), "csv"
        else:
            raise OpenError(
                f"{path} holds no experiment.json or results.json, so it is not the out "
                "directory of a tui-lab export. Give the directory an export wrote "
                "(runs/<preset>-<time>/, by --export csv|json or the lab's e key)."
            )
        if not isinstance(meta, dict):
            raise TypeError(f"the experiment record is a {type(meta).__name__}, not an object")
        kind = kind_of(meta)
        if kind not in kinds:
            raise WrongKind(kind)
        columns = {**TABLES_OF[kind], "expectations": EXPECTATIONS}
        if payload is not None:
            tables = {k: [c.typed(r) for r in payload.get(k, [])] for k, c in columns.items()}
        else:
            tables = {k: read_csv(path / f"{k}.csv", c) for k, c in columns.items()}
        if kind == "comparison":
            _check_rows(
                tables, columns, REQUIRED, optional=("seed", "detail")
            )  # older exports lack them
            tables = run_ids(tables, meta.get("runs", {}))
        else:
            _check_rows(tables, columns, {}, optional=("detail",))
        export = Export(path, kind, fmt, meta, tables)
        _check_matches(export)
        return export
    except (OSError, ValueError, KeyError, TypeError, AttributeError, csv.Error) as exc:
        raise OpenError(
            f"{path} cannot be read back ({type(exc).__name__}: {str(exc)[:200]}); a result "
            "file there is damaged. Restore it, or use another export."
        ) from None


def run_ids(
    tables: dict[str, list[dict[str, Any]]], runs: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """A comparison's rows named by run id again: (adam, 3) is ``adam@3`` where the export
    ran that configuration with several seeds (results/directory.py writes the pair)."""

    def run_id(row: dict[str, Any]) -> dict[str, Any]:
        seeded = f"{row['run']}@{row.get('seed')}"
        return {**row, "run": seeded} if seeded in runs else row

    return {
        name: [run_id(r) for r in rows] if name in COMPARISON_FILES else rows
        for name, rows in tables.items()
    }


class WrongKind(OpenError):
    """An export of another kind than the reader takes (``kind``: what it is)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"it holds {KIND_NAMES[kind]}")
        self.kind = kind


def _check_rows(
    tables: dict[str, list[dict[str, Any]]],
    columns: dict[str, Columns],
    required: dict[str, tuple[str, ...]],
    optional: tuple[str, ...] = (),
) -> None:
    """Every row has every column (but those an older version did not write), and the cells
    that say whose row it is are filled."""
    for name, rows in tables.items():
        keys = required.get(name, ())
        for row in rows:
            missing = [k for k in columns[name] if k not in row and k not in optional]
            missing += [k for k in keys if row.get(k) is None]
            if missing:
                raise ValueError(f"a row of {name} has no {', '.join(missing)}: {row}")


def _check_matches(export: Export) -> None:
    """Every table row must belong to a run (or study) experiment.json lists: files mixed in
    from another export would draw curves of runs that never ran here."""
    meta = export.meta
    if export.kind == "search":
        known = {p["study"] for p in meta.get("plans", [])}
        rows = [(r["study"], f"{t}.csv") for t in ("trials", "metrics") for r in export.tables[t]]
        what = "study"
    else:
        known = set(meta.get("runs", {}))
        rows = [
            (r["run"], f"{t}.csv")
            for t, table in export.tables.items()
            for r in table
            if "run" in r
        ]
        what = "run"
    stray = next(((name, file) for name, file in rows if name not in known), None)
    if not known or stray is not None:
        listed = ", ".join(sorted(known)) or "none"
        found = f"{stray[1]} has a {what} {stray[0]!r}" if stray else f"it lists no {what}"
        raise OpenError(
            f"{export.path} does not hold one export: {found}, but its experiment.json "
            f"lists {listed} ({KIND_NAMES[export.kind]}). Its files come from different "
            "exports; open the directory each was written to."
        )


# ------------------------------------------------------------------------------ the writer


def writer_pid(path: Path, meta: dict[str, Any]) -> int | None:
    """The writing process's pid: from experiment.json, else from the out dir's lock file."""
    writer = meta.get("writer") or {}
    if writer.get("host") not in (None, socket.gethostname()):
        return None  # another machine's process: only its silence can tell
    if isinstance(writer.get("pid"), int):
        return writer["pid"]
    try:
        first = (path / LOCK_FILE).read_text().split()
        return int(first[0]) if first else None
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def writer_gone(export: Export, now: float | None = None) -> str | None:
    """Why a running export will not grow any more, or None while its writer seems at work:
    its pid on this host is gone, or (another host) it wrote nothing for a long while."""
    if not export.running:
        return None
    pid = writer_pid(export.path, export.meta)
    if pid is not None and not pid_alive(pid):
        return (
            f"its writer (pid {pid}) has died without finishing; the files hold what it "
            "wrote before"
        )
    if pid is None:
        quiet = (time.time() if now is None else now) - _updated(export)
        if quiet > STALLED_AFTER_S:
            return f"its writer has written nothing for {quiet / 60:.0f} min; it may have stopped"
    return None


def _updated(export: Export) -> float:
    """When the writer last wrote experiment.json (results.json)."""
    name = "results.json" if export.fmt == "json" else "experiment.json"
    try:
        return (export.path / name).stat().st_mtime
    except OSError:
        return 0.0


# ------------------------------------------------------------------------------ comparisons


def run_started(export: Export, name: str, index: int) -> RunStarted:
    """What a comparison's files say about a run's start (its config; its step count if the
    writer recorded it)."""
    started = export.meta.get("started_runs", {}).get(name, {})
    return RunStarted(
        name,
        index,
        export.meta["runs"][name],
        int(started.get("steps_per_epoch", 0)),
        int(started.get("total_steps", 0)),
        int(started.get("parameters", 0)),
        str(started.get("device", "")),
        str(started.get("precision", "")),
    )


def row_events(table: str, rows: list[dict[str, Any]]) -> list[Event]:
    """A comparison's table rows as the events that made them."""
    if table == "steps":
        return [StepLogged(**{k: r[k] for k in STEPS}) for r in rows]
    if table == "metrics":
        return [EpochEnded(**{k: r[k] for k in METRICS}) for r in rows]
    if table == "summary":
        return [RunFinished(**{k: r[k] for k in SUMMARY}) for r in rows]
    return []
