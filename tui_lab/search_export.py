"""A search's result files, derived from the study storage (so every process's trials and the
trials of earlier, killed runs are included): ``trials.csv`` (a row per trial),
``metrics.csv`` (a row per trial per epoch), ``summary.csv`` (the best trial of each study,
retrained and tested once) and ``experiment.json``; ``--export json`` puts the same tables in
``results.json``. Written atomically after every trial.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tui_lab.export import SUMMARY_COLUMNS, atomic_write, csv_text, environment
from tui_lab.search_study import TrialRecord, fingerprint

TRIAL_COLUMNS = ["study", "number", "state", "status", "value"]  # then one column per parameter
TRIAL_TAIL = ["epochs", "seconds", "pruned_at_epoch", "attempts", "reason"]
METRICS_COLUMNS = ["study", "trial", "epoch", "step", "train_loss", "train_acc", "val_loss",
                   "val_acc", "lr", "seconds", "epoch_seconds"]  # fmt: skip
BEST_COLUMNS = ["study", "trial", "value", *SUMMARY_COLUMNS]


def trial_rows(records: list[TrialRecord]) -> tuple[list[str], list[dict[str, Any]]]:
    keys = list(dict.fromkeys(k for r in records for k in r.params))
    rows = [
        {"study": r.study, "number": r.number, "state": r.state, "status": r.status,
         "value": r.value, **r.params, "epochs": r.epochs, "seconds": r.seconds,
         "pruned_at_epoch": r.pruned_at, "attempts": r.attempts, "reason": r.reason}
        for r in records
    ]  # fmt: skip
    return [*TRIAL_COLUMNS, *keys, *TRIAL_TAIL], rows


def metric_rows(records: list[TrialRecord]) -> list[dict[str, Any]]:
    return [{"study": r.study, "trial": r.number, **epoch} for r in records for epoch in r.history]


def best_rows(outcomes: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        if o.best is None:
            continue
        test = {k: getattr(o.test, k) for k in SUMMARY_COLUMNS} if o.test is not None else {}
        rows.append({"study": o.plan.study, "trial": o.best.number, "value": o.best.value, **test})
    return rows


def outcome_summary(o: Any) -> dict[str, Any]:
    """One study's results in experiment.json (and what expectation checks read)."""
    best = o.best
    return {
        "study": o.plan.study, "method": o.plan.method, "status": o.status,
        "n_trials": o.plan.n_trials, "budget_epochs": o.plan.budget_epochs,
        "trial_epochs": o.trial_epochs, "seconds": round(o.seconds, 3),
        "counts": {s: o.count(s) for s in ("completed", "pruned", "diverged", "failed")},
        "best": None if best is None else {
            "trial": best.number, "value": best.value, "params": best.params,
            "val_acc": best.final.get("val_acc"), "val_loss": best.final.get("val_loss"),
            "config": o.best_config,
            "test_acc": o.test.test_acc if o.test else None,
            "test_loss": o.test.test_loss if o.test else None,
        },
        "importance": o.importance, "importance_note": o.importance_note,
    }  # fmt: skip


def search_metadata(cfg: Any, search: Any, argv: list[str] | None) -> dict[str, Any]:
    return {
        "preset": cfg.name, "description": cfg.description, "lecture": cfg.lecture,
        "step": cfg.step, "command": argv, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": environment(), "storage": search.storage_label,
        "search": cfg.search.model_dump(mode="json"), "base": search.base.model_dump(mode="json"),
        "plans": [vars(p) for p in search.plans], "fingerprint": search_key(search),
        "status": "running",
    }  # fmt: skip


def search_key(search: Any) -> str:
    """Names a search across runs of the same command: how a re-run finds its directory."""
    return fingerprint({"preset": search.cfg.name, "plans": [vars(p) for p in search.plans],
                        "search": search.search.model_dump(mode="json"),
                        "base": search.base.model_dump(mode="json")})  # fmt: skip


class SearchDirectory:
    """Listener that rewrites the result files after every finished trial and study."""

    def __init__(self, path: Path, fmt: str | None, meta: dict[str, Any],
                 snapshot: Callable[[], list[TrialRecord]]):  # fmt: skip
        self.path = path
        self.fmt = fmt
        self.meta = meta
        self.snapshot = snapshot
        self.outcomes: list[Any] = []

    def __call__(self, event: Any) -> None:
        from tui_lab.search import StudyFinished, TrialFinished

        if isinstance(event, StudyFinished):
            self.outcomes.append(event.outcome)
        if isinstance(event, (TrialFinished, StudyFinished)):
            self.write()

    def write(self, status: str | None = None, expectations: list[Any] | None = None) -> None:
        meta = dict(self.meta, updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        if status is not None:
            meta["status"] = status
        meta["studies"] = {o.plan.method: outcome_summary(o) for o in self.outcomes}
        if expectations is not None:
            meta["expectations"] = [vars(e) | {"label": e.label} for e in expectations]
        files = {"experiment.json": json.dumps(meta, indent=2, default=str)}
        if self.fmt is not None:
            records = self.snapshot()
            columns, trials = trial_rows(records)
            tables = {"trials": (columns, trials), "metrics": (METRICS_COLUMNS, metric_rows(records)),
                      "summary": (BEST_COLUMNS, best_rows(self.outcomes))}  # fmt: skip
            if self.fmt == "csv":
                files.update({f"{name}.csv": csv_text(c, rows) for name, (c, rows) in tables.items()})
            else:
                payload = {"experiment": meta, **{name: rows for name, (_, rows) in tables.items()}}
                files["results.json"] = json.dumps(payload, indent=2, default=str)
        for name, text in files.items():
            atomic_write(self.path / name, text)


def search_functions(outcomes: list[Any]) -> dict[str, Callable[..., Any]]:
    """The functions a search preset's ``expect`` checks may call (see expectations.py):
    ``study('grid').best_val_acc``, ``importance('random', 'optimizer.lr')``,
    ``top_param('grid')``."""
    by_method = {o.plan.method: o for o in outcomes}

    def _get(method: str) -> Any:
        if method not in by_method:
            raise KeyError(f"no study searched by {method!r} (have: {', '.join(by_method)})")
        return by_method[method]

    def study(method: str) -> SimpleNamespace:
        s = outcome_summary(_get(method))
        best = s.pop("best") or {}
        s.pop("importance")
        s.update(s.pop("counts"))
        s.update({f"best_{k}": best.get(k) for k in ("trial", "value", "val_acc", "val_loss")})
        s.update({k: best.get(k) for k in ("test_acc", "test_loss")})
        return SimpleNamespace(**s)

    def importance(method: str, key: str) -> float | None:
        values = _get(method).importance
        return None if values is None else values.get(key, 0.0)

    def top_param(method: str) -> str | None:
        values = _get(method).importance
        return max(values, key=values.get) if values else None

    return {"study": study, "importance": importance, "top_param": top_param}


def saved_run(path: Path) -> dict[str, Any]:
    """The experiment.json of a run directory ({} if there is none)."""
    try:
        return json.loads((path / "experiment.json").read_text())
    except (OSError, ValueError):
        return {}


def find_resumable(root: Path, preset: str, key: str) -> Path | None:
    """The newest ``root/<preset>-*`` directory holding an unfinished run of this same search."""
    for path in sorted(root.glob(f"{preset}-*"), reverse=True):
        meta = saved_run(path)
        if meta.get("fingerprint") == key and meta.get("status") in ("running", "interrupted", "stopped"):
            return path
    return None
