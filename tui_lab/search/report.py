"""A search's report.md: each study's best trials, the best configuration with its one test
score, which hyperparameters mattered, the methods compared, the expectations, and the
objective per trial with the best so far as a text chart."""

from __future__ import annotations

from typing import Any

from tui_lab.events import SearchOutcome, TrialRecord
from tui_lab.results.checks import ExpectationResult
from tui_lab.results.report import chart_block, expectations_section, markdown_table, report_head
from tui_lab.search.space import display

TOP_TRIALS = 10


def completed(outcome: SearchOutcome) -> list[TrialRecord]:
    """Trials with a score, best first (ties by trial number)."""
    sign = -1.0 if outcome.direction == "maximize" else 1.0
    done = [r for r in outcome.records if r.status == "completed" and r.value is not None]
    return sorted(done, key=lambda r: (sign * (r.value or 0.0), r.number))


def best_so_far(records: list[TrialRecord], direction: str) -> tuple[list[float], list[float]]:
    """The best value after each scored trial, over trial numbers."""
    pick = max if direction == "maximize" else min
    xs: list[float] = []
    ys: list[float] = []
    for r in sorted(records, key=lambda r: r.number):
        if r.status == "completed" and r.value is not None:
            xs.append(r.number)
            ys.append(r.value if not ys else pick(ys[-1], r.value))
    return xs, ys


def study_section(o: SearchOutcome) -> list[str]:
    counts = ", ".join(f"{o.count(s)} {s}" for s in ("completed", "pruned", "diverged", "failed"))
    lines = [
        f"## {o.plan.method} search (study `{o.plan.study}`)",
        "",
        f"{len(o.records)} trials ({counts}); {o.trial_epochs} of {o.plan.budget_epochs} "
        f"trial-epochs trained in {o.seconds:.1f} s of training; status {o.status}.",
        "",
    ]
    keys = list(o.records[0].params) if o.records else []
    rows = [
        {"trial": r.number, "value": r.value, "epochs": r.epochs, "seconds": r.seconds}
        | {k: display(r.params.get(k)) for k in keys}
        for r in completed(o)[:TOP_TRIALS]
    ]
    if rows:
        lines.append(markdown_table(["trial", "value", "epochs", "seconds", *keys], rows))
    if o.best is not None:
        test = o.test.test_acc if o.test is not None else None
        score = (
            "no test score" if test is None else f"test accuracy {100 * test:.2f}% (retrained once)"
        )
        lines += [f"Best trial {o.best.number}: {o.best.value:.4g} on validation → {score}.", ""]
        lines += [f"- `{k}` = {display(v)}" for k, v in o.best.params.items()] + [""]
    if o.importance:
        ranked = sorted(o.importance.items(), key=lambda kv: -kv[1])
        lines.append(
            markdown_table(
                ["hyperparameter", "importance"],
                [{"hyperparameter": k, "importance": v} for k, v in ranked],
            )
        )
    else:
        lines += [f"Importance: {o.importance_note}.", ""]
    return lines


def search_report(
    meta: dict[str, Any], outcomes: list[SearchOutcome], expectations: list[ExpectationResult]
) -> str:
    lines = report_head(meta)
    for o in outcomes:
        lines += study_section(o)
    if len(outcomes) > 1:
        rows: list[dict[str, Any]] = [
            {
                "method": o.plan.method,
                "trials": len(o.records),
                "best value": o.best.value if o.best else None,
                "test acc of best": o.test.test_acc if o.test else None,
                "trial-epochs": o.trial_epochs,
                "training s": o.seconds,
            }
            for o in outcomes
        ]
        lines += ["## Methods compared at the same budget", "", markdown_table(list(rows[0]), rows)]
    lines += expectations_section(expectations)
    series = {o.plan.method: best_so_far(list(o.records), o.direction) for o in outcomes}
    objective = meta.get("search", {}).get("objective", "objective")
    lines += chart_block(series, f"best {objective} so far per trial", "trial", objective)
    return "\n".join(lines)
