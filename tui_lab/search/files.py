"""A search's result files, derived from the study storage (so every process's trials and the
trials of earlier, killed runs are included): ``trials.csv`` (a row per trial),
``metrics.csv`` (a row per trial per epoch), ``summary.csv`` (the best trial of each study,
retrained and tested once) and ``experiment.json``; ``--export json`` puts the same tables in
``results.json``, and report.md closes the search. Written atomically after every trial, and
read back into trials and studies by ``export_records`` and ``export_outcomes``
(``tui-lab open``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tui_lab.config import ExperimentConfig, ParamSpace, RunConfig, SearchConfig
from tui_lab.events import (
    RunFinished,
    SearchEvent,
    SearchOutcome,
    SearchPlan,
    StudyFinished,
    TrialFinished,
    TrialRecord,
)
from tui_lab.results.checks import ExpectationResult, expectation_rows
from tui_lab.results.columns import (
    BEST_TRIALS,
    EXPECTATIONS,
    SUMMARY,
    TRIAL_METRICS,
    TRIALS,
    TRIALS_TAIL,
)
from tui_lab.results.exports import Export
from tui_lab.results.files import atomic_write, csv_text
from tui_lab.results.manifest import manifest, now
from tui_lab.results.out_dir import RUNS_ROOT, OutDir, claim_out_dir, dir_name
from tui_lab.search.space import decode
from tui_lab.search.study import JOURNAL_NAME, best_record, fingerprint


def trial_rows(records: list[TrialRecord]) -> tuple[list[str], list[dict[str, Any]]]:
    keys = list(dict.fromkeys(k for r in records for k in r.params))
    rows = [
        {
            "study": r.study,
            "number": r.number,
            "state": r.state,
            "status": r.status,
            "value": r.value,
            **r.params,
            "epochs": r.epochs,
            "seconds": r.seconds,
            "pruned_at_epoch": r.pruned_at,
            "attempts": r.attempts,
            "reason": r.reason,
        }
        for r in records
    ]
    return [*TRIALS, *keys, *TRIALS_TAIL], rows


def metric_rows(records: list[TrialRecord]) -> list[dict[str, Any]]:
    return [{"study": r.study, "trial": r.number, **epoch} for r in records for epoch in r.history]


def best_rows(outcomes: list[SearchOutcome]) -> list[dict[str, Any]]:
    rows = []
    for o in outcomes:
        if o.best is None:
            continue
        test = {k: getattr(o.test, k) for k in SUMMARY} if o.test is not None else {}
        rows.append({"study": o.plan.study, "trial": o.best.number, "value": o.best.value, **test})
    return rows


def outcome_summary(o: SearchOutcome) -> dict[str, Any]:
    """One study's results in experiment.json (and what expectation checks read)."""
    best = o.best
    return {
        "study": o.plan.study,
        "method": o.plan.method,
        "status": o.status,
        "n_trials": o.plan.n_trials,
        "budget_epochs": o.plan.budget_epochs,
        "trial_epochs": o.trial_epochs,
        "seconds": round(o.seconds, 3),
        "counts": {s: o.count(s) for s in ("completed", "pruned", "diverged", "failed")},
        "best": None
        if best is None
        else {
            "trial": best.number,
            "value": best.value,
            "params": best.params,
            "val_acc": best.final.get("val_acc"),
            "val_loss": best.final.get("val_loss"),
            "config": o.best_config,
            "test_acc": o.test.test_acc if o.test else None,
            "test_loss": o.test.test_loss if o.test else None,
        },
        "importance": o.importance,
        "importance_note": o.importance_note,
    }


def search_key(cfg: ExperimentConfig, base: RunConfig, plans: list[SearchPlan]) -> str:
    """Names a search across runs of the same command: how a re-run finds its directory."""
    assert cfg.search is not None
    return fingerprint(
        {
            "preset": cfg.name,
            "plans": [vars(p) for p in plans],
            "search": cfg.search.model_dump(mode="json"),
            "base": base.model_dump(mode="json"),
        }
    )


def search_manifest(
    cfg: ExperimentConfig,
    base: RunConfig,
    plans: list[SearchPlan],
    storage: str,
    command: list[str] | None,
) -> dict[str, Any]:
    assert cfg.search is not None
    return manifest(
        cfg,
        command,
        storage=storage,
        search=cfg.search.model_dump(mode="json"),
        base=base.model_dump(mode="json"),
        plans=[vars(p) for p in plans],
        fingerprint=search_key(cfg, base, plans),
        status="running",
    )


class SearchDirectory:
    """Listener that rewrites the result files after every finished trial and study."""

    def __init__(
        self,
        path: Path,
        fmt: str | None,
        meta: dict[str, Any],
        snapshot: Callable[[], list[TrialRecord]],
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.meta = meta
        self.snapshot = snapshot
        self.outcomes: list[SearchOutcome] = []

    def __call__(self, event: SearchEvent) -> None:
        if isinstance(event, StudyFinished):
            self.outcomes.append(event.outcome)
        if isinstance(event, (TrialFinished, StudyFinished)):
            self.write()

    def write(
        self,
        status: str | None = None,
        expectations: list[ExpectationResult] | None = None,
        report: str | None = None,
    ) -> None:
        meta = dict(self.meta, updated=now())
        tables: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
        if status is not None:
            meta["status"] = status
        meta["studies"] = {o.plan.method: outcome_summary(o) for o in self.outcomes}
        if expectations is not None:
            meta["expectations"] = [vars(e) | {"label": e.label} for e in expectations]
        files = {"experiment.json": json.dumps(meta, indent=2, default=str)}
        if self.fmt is not None:
            records = self.snapshot()
            columns, trials = trial_rows(records)
            tables.update(
                trials=(columns, trials),
                metrics=(TRIAL_METRICS, metric_rows(records)),
                summary=(BEST_TRIALS, best_rows(self.outcomes)),
            )
            if expectations is not None:
                tables["expectations"] = (EXPECTATIONS, expectation_rows(expectations))
            if self.fmt == "csv":
                files.update(
                    {f"{name}.csv": csv_text(c, rows) for name, (c, rows) in tables.items()}
                )
            else:
                payload = {"experiment": meta, **{name: rows for name, (_, rows) in tables.items()}}
                files["results.json"] = json.dumps(payload, indent=2, default=str)
        if report is not None:
            files["report.md"] = report
        for name, text in files.items():
            atomic_write(self.path / name, text)


def saved_run(path: Path) -> dict[str, Any]:
    """The experiment.json of a run directory ({} if there is none)."""
    try:
        return json.loads((path / "experiment.json").read_text())
    except (OSError, ValueError):
        return {}


def find_resumable(root: Path, preset: str, key: str) -> Path | None:
    """The newest ``root/<preset>-*`` directory holding an unfinished run of this same search."""
    for path in sorted(root.glob(f"{dir_name(preset)}-*"), reverse=True):
        meta = saved_run(path)
        if meta.get("fingerprint") == key and meta.get("status") in (
            "running",
            "interrupted",
            "stopped",
        ):
            return path
    return None


def claim_run_dir(out: Path | None, preset: str, key: str) -> OutDir:
    """The search's directory, locked: ``out``, else the newest unfinished run of this same
    search under runs/ (the same command resumes it), else a new one."""
    if out is None:
        out = find_resumable(RUNS_ROOT, preset, key)
    same = out is not None and (
        (Path(out) / JOURNAL_NAME).exists() or saved_run(Path(out)).get("fingerprint") == key
    )
    return claim_out_dir(out, preset, resume=same)


# ------------------------------------------------------------------------------ reading back


def export_space(export: Export) -> dict[str, ParamSpace] | None:
    """The searched space as experiment.json records it (None if this version cannot read it)."""
    try:
        return SearchConfig.model_validate(export.meta["search"]).space
    except (ValidationError, KeyError):
        return None


def export_records(export: Export) -> list[TrialRecord]:
    """The trials of a search export, each with its per-epoch history and its parameters as
    config values (``[16, 32]`` a list again, batch sizes whole numbers)."""
    space = export_space(export) or {}
    history: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in export.tables["metrics"]:
        epoch = {k: row[k] for k in TRIAL_METRICS.names[2:]}
        history.setdefault((row["study"], row["trial"]), []).append(epoch)
    fixed = {*TRIALS, *TRIALS_TAIL}
    records = []
    for row in export.tables["trials"]:
        params = {
            k: decode(space[k], v) if k in space else v
            for k, v in row.items()
            if k not in fixed and v is not None
        }
        records.append(
            TrialRecord(
                study=row["study"],
                number=row["number"],
                state=row["state"],
                status=row["status"],
                value=row["value"],
                params=params,
                epochs=row["epochs"] or 0,
                seconds=row["seconds"] or 0.0,
                pruned_at=row["pruned_at_epoch"],
                reason=row["reason"] or "",
                history=tuple(history.get((row["study"], row["number"]), ())),
                attempts=row["attempts"] or 1,
            )
        )
    return records


def export_outcomes(export: Export, records: list[TrialRecord]) -> list[SearchOutcome]:
    """The studies of a search export that have finished, as they ended: status, best trial,
    its test score, Optuna's importance."""
    direction = SearchConfig.model_validate(export.meta["search"]).direction
    tests = {row["study"]: row for row in export.tables["summary"] if row.get("run")}
    outcomes = []
    for plan in (SearchPlan(**p) for p in export.meta.get("plans", [])):
        study = export.meta.get("studies", {}).get(plan.method)
        if study is None:
            continue
        mine = tuple(r for r in records if r.study == plan.study)
        test = tests.get(plan.study)
        outcomes.append(
            SearchOutcome(
                plan=plan,
                status=study["status"],
                direction=direction,
                records=mine,
                best=best_record(list(mine), direction),
                best_config=(study.get("best") or {}).get("config"),
                test=None if test is None else RunFinished(**{k: test[k] for k in SUMMARY}),
                importance=study.get("importance"),
                importance_note=study.get("importance_note", ""),
            )
        )
    return outcomes
