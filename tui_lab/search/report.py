"""A search's report.md: each study's best trials, the best configuration with its one test
score, which hyperparameters mattered, the methods compared, the expectations, and the sweep
analysis: the figures, then as text the best so far per trial and per trial-epoch spent (every
study in one chart), a slice plot per parameter, the heat-map of the two parameters that
mattered most and the parallel coordinates (search/analysis.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_lab.config import ParamSpace
from tui_lab.events import SearchOutcome, TrialRecord
from tui_lab.results.checks import ExpectationResult
from tui_lab.results.report import (
    FigureFile,
    Series,
    chart_block,
    expectations_section,
    figures_section,
    markdown_table,
    report_head,
)
from tui_lab.search.analysis import (
    best_quarter,
    best_so_far,
    heatmap,
    objective_title,
    param_axis,
    param_keys,
    top_two,
    with_params,
)
from tui_lab.search.space import display

TOP_TRIALS = 10


def completed(outcome: SearchOutcome) -> list[TrialRecord]:
    """Trials with a score, best first (ties by trial number)."""
    sign = -1.0 if outcome.direction == "maximize" else 1.0
    done = [r for r in outcome.records if r.status == "completed" and r.value is not None]
    return sorted(done, key=lambda r: (sign * (r.value or 0.0), r.number))


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
    meta: dict[str, Any],
    outcomes: list[SearchOutcome],
    expectations: list[ExpectationResult],
    figures: Sequence[FigureFile] = (),
    space: dict[str, ParamSpace] | None = None,
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
    objective = meta.get("search", {}).get("objective", "objective")
    return "\n".join([*lines, *sweep_analysis(outcomes, objective, space, figures)])


def sweep_analysis(
    outcomes: list[SearchOutcome],
    objective: str,
    space: dict[str, ParamSpace] | None,
    figures: Sequence[FigureFile] = (),
) -> list[str]:
    """The figures, then the same analysis as text (readable in a terminal or a diff)."""
    lines = ["## Sweep analysis", "", *figures_section(figures, "### Figures")]
    if not outcomes:
        return lines
    title = objective_title(objective)
    direction = outcomes[0].direction
    studies = {o.plan.method: list(o.records) for o in outcomes}
    for by_epochs, x in ((False, "trial"), (True, "trial-epochs")):
        series = {m: best_so_far(r, direction, by_epochs) for m, r in studies.items()}
        lines += chart_block(series, f"best {title} so far per {x}", x, title)
    records = [r for o in outcomes for r in o.records]
    keys = param_keys(records, space)
    for key in keys:
        lines += _slice(studies, key, title, space)
    importance = next((o.importance for o in outcomes if o.importance), None)
    pair = top_two(importance, keys)
    if pair is not None and with_params(records, pair):
        cells = heatmap(records, *pair, direction, space)
        rows = [
            {cells.y: label, **{x: v for x, v in zip(cells.x_labels, row, strict=True)}}
            for label, row in zip(cells.y_labels, cells.cells, strict=True)
        ]
        lines += [
            f"### Best {title} by {cells.y} (rows) and {cells.x} (columns)",
            "",
            markdown_table([cells.y, *cells.x_labels], rows),
        ]
    lines += _parallel_coordinates(records, keys, title, direction, space)
    return lines


def _slice(
    studies: dict[str, list[TrialRecord]],
    key: str,
    title: str,
    space: dict[str, ParamSpace] | None,
) -> list[str]:
    trials = [(m, r) for m, records in studies.items() for r in with_params(records, (key,))]
    axis = param_axis([r for _, r in trials], key, space)
    series: Series = {
        m: (
            [x for x, (n, _) in zip(axis.positions, trials, strict=True) if n == m],
            [r.value for n, r in trials if n == m],
        )
        for m in studies
    }
    ticks = axis.ticks() if axis.labels is not None else None
    return chart_block(series, f"{title} against {key}", axis.title, title, ticks, points=True)


def _parallel_coordinates(
    records: list[TrialRecord],
    keys: list[str],
    title: str,
    direction: str,
    space: dict[str, ParamSpace] | None,
) -> list[str]:
    """Each scored trial as a line across its parameters (scaled 0–1) and the objective."""
    trials = with_params(records, keys)
    if not trials or not keys:
        return []
    columns = [param_axis(trials, k, space).normalized() for k in keys]
    lo = min(r.value for r in trials if r.value is not None)
    hi = max(r.value for r in trials if r.value is not None)
    best = best_quarter(trials, direction)
    series: Series = {"best quarter": ([], []), "other trials": ([], [])}
    for i, r in enumerate(trials):
        assert r.value is not None
        ys = [c[i] for c in columns] + [0.5 if hi == lo else (r.value - lo) / (hi - lo)]
        xs, out = series["best quarter" if (r.study, r.number) in best else "other trials"]
        xs += [*range(len(ys)), None]
        out += [*ys, None]
    ticks = [(float(i), name) for i, name in enumerate([*keys, title])]
    return chart_block(series, "parallel coordinates (each axis scaled 0–1)", "", "", ticks)
