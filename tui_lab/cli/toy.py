"""``tui-lab --preset toy_2d --export csv|json`` (or ``--headless``): walk every optimizer on
f(x1, x2), print the summary and the expectations, write the files."""

from __future__ import annotations

from typing import Any

from tui_lab.cli.console import print_toy2d_summary
from tui_lab.cli.exits import ExitCode
from tui_lab.config import ExperimentConfig
from tui_lab.toy2d.runner import run_toy_job
from tui_lab.toy2d.stability import divergence_notes


def run_toy(cfg: ExperimentConfig, overrides: dict[str, Any], args: Any, command: list[str]) -> int:
    result = run_toy_job(
        cfg, overrides, command=command, out=args.out, fmt=args.export, figures=args.figures
    )
    rows = [t.summary_row() for t in result.trajectories]
    notes = divergence_notes(result.problem, result.trajectories)
    print_toy2d_summary(
        cfg.name, result.problem.tolerance, rows, result.expectations, result.out_dir, notes
    )
    return ExitCode.OK
