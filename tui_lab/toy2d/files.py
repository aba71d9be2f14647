"""The 2-D toy problem's result files: trajectories.csv (run, optimizer, lr, step, x1, x2, f),
summary.csv, expectations.csv and experiment.json (``--export csv``) or results.json
(``--export json``), and report.md with the paths drawn as text; ``read_toy`` reads them back
(``tui-lab open``)."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import ValidationError

from tui_lab.config import ExperimentConfig, Toy2DConfig
from tui_lab.errors import OpenError, UserError
from tui_lab.results.checks import ExpectationResult, expectation_rows
from tui_lab.results.columns import EXPECTATIONS, TOY_SUMMARY, TRAJECTORIES
from tui_lab.results.exports import Export
from tui_lab.results.files import csv_text
from tui_lab.results.manifest import manifest
from tui_lab.results.report import (
    FigureFile,
    chart_block,
    downsample,
    expectations_section,
    figures_section,
    markdown_table,
    report_head,
)
from tui_lab.toy2d.problem import Point, Toy2DProblem, Trajectory, summarize
from tui_lab.toy2d.stability import divergence_notes


def toy_manifest(
    cfg: ExperimentConfig, problem: Toy2DProblem, command: list[str]
) -> dict[str, Any]:
    return manifest(
        cfg,
        command,
        runs={run.label: run.model_dump(mode="json") for run in problem.runs},
        expect=[e.model_dump(mode="json") for e in cfg.expect],
        experiment_config=cfg.model_dump(mode="json"),
        toy2d=problem.describe(),
        status="completed",
    )


def results_files(
    meta: dict[str, Any],
    problem: Toy2DProblem,
    trajectories: list[Trajectory],
    expectations: list[ExpectationResult],
    fmt: str,
    figures: list[FigureFile] | None = None,
) -> dict[str, str]:
    """File name → contents of the exported results (the same set as a training comparison:
    tables, experiment.json, expectations and report.md showing the ``figures``)."""
    points = [row for t in trajectories for row in t.point_rows()]
    summary = [t.summary_row() for t in trajectories]
    checks = expectation_rows(expectations)
    report = {"report.md": toy2d_report(meta, problem, trajectories, expectations, figures)}
    if fmt == "json":
        payload = {
            "experiment": meta,
            "trajectories": points,
            "summary": summary,
            "expectations": checks,
        }
        return {"results.json": json.dumps(payload, indent=2, default=str), **report}
    return {
        "trajectories.csv": csv_text(TRAJECTORIES, points),
        "summary.csv": csv_text(TOY_SUMMARY, summary),
        "expectations.csv": csv_text(EXPECTATIONS, checks),
        "experiment.json": json.dumps(meta, indent=2, default=str),
        **report,
    }


def toy2d_report(
    meta: dict[str, Any],
    problem: Toy2DProblem,
    trajectories: list[Trajectory],
    expectations: list[ExpectationResult],
    figures: list[FigureFile] | None = None,
) -> str:
    """report.md: the problem, the summary table, the expectations, the figure and the paths
    as text."""
    gap = "|f|" if problem.f_min == 0 else f"|f − ({problem.f_min:g})|"
    setup = (
        f"f(x1, x2) = `{problem.expression.text}` from {problem.start}, {problem.steps} steps; "
        f"converged once {gap} < {problem.tolerance:g}."
    )
    lines = [*report_head(meta), "## Problem", "", setup, ""]
    lines += [
        "## Results",
        "",
        markdown_table(TOY_SUMMARY.names, [t.summary_row() for t in trajectories]),
    ]
    notes = divergence_notes(problem, trajectories)
    if notes:
        lines += ["## Why paths diverged", "", *(f"- {note}" for note in notes), ""]
    lines += expectations_section(expectations)
    lines += figures_section(figures or [])
    lines += ["## Paths as text (runs that did not diverge)", ""]
    shown = [t for t in trajectories if t.diverged_at is None]
    paths = {t.run: downsample([p.x1 for p in t.points], [p.x2 for p in t.points]) for t in shown}
    gaps = {
        t.run: downsample(
            [float(p.step) for p in t.points],
            [math.log10(max(abs(p.f - problem.f_min), 1e-300)) for p in t.points],
        )
        for t in shown
    }
    lines += chart_block(paths, "paths from the start", "x1", "x2")
    lines += chart_block(gaps, "log10|f − f_min| per step", "step", "log10|f − f_min|")
    return "\n".join(lines)


def read_toy(export: Export) -> tuple[Toy2DProblem, list[Trajectory]]:
    """The problem an export describes and its walked paths, as the files hold them."""
    described = export.meta["toy2d"]
    try:
        cfg = Toy2DConfig.model_validate(
            {
                **{k: described[k] for k in ("function", "start", "steps", "tolerance", "f_min")},
                "bounds": described.get("bounds"),
                "runs": list(export.meta["runs"].values()),
            }
        )
        problem = Toy2DProblem.from_config(cfg)
    except (ValidationError, UserError) as exc:
        raise OpenError(
            f"{export.path}/experiment.json describes a toy problem this version cannot "
            f"rebuild ({str(exc)[:300]})."
        ) from None
    points: dict[str, list[Point]] = {}
    for row in export.tables["trajectories"]:
        points.setdefault(row["run"], []).append(Point(row["step"], row["x1"], row["x2"], row["f"]))
    walked = [run for run in problem.runs if points.get(run.label)]
    return problem, [summarize(problem, run, points[run.label]) for run in walked]
