"""The toy job, the one runner both the headless CLI and the TUI use: the problem a toy preset
and its ``toy2d.*`` overrides describe, every optimizer's path on it, the preset's
expectations, and the result files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_lab.config import ExperimentConfig
from tui_lab.errors import ConfigError
from tui_lab.results.checks import ExpectationResult, check_all, validate_checks
from tui_lab.results.files import atomic_write
from tui_lab.results.out_dir import claim_out_dir
from tui_lab.toy2d.checks import check_functions
from tui_lab.toy2d.figures import toy_figures
from tui_lab.toy2d.files import results_files, toy_manifest
from tui_lab.toy2d.problem import Toy2DProblem, Trajectory, run_toy2d


def toy_problem(cfg: ExperimentConfig, overrides: dict[str, Any] | None = None) -> Toy2DProblem:
    """The problem of a toy preset with ``toy2d.*`` overrides applied (validated)."""
    if cfg.toy2d is None:
        raise ConfigError(f"Preset {cfg.name!r} has no [toy2d] table; it is not a toy problem.")
    validate_checks(cfg.expect, check_functions([]))
    return Toy2DProblem.from_config(cfg.toy2d.with_overrides(overrides or {}))


@dataclass(frozen=True)
class ToyResult:
    problem: Toy2DProblem
    trajectories: list[Trajectory]
    expectations: list[ExpectationResult]
    out_dir: Path | None


def conclude_toy(
    cfg: ExperimentConfig,
    problem: Toy2DProblem,
    trajectories: list[Trajectory],
    *,
    command: list[str],
    out: Path | None = None,
    fmt: str | None = None,
    figures: str = "svg",
) -> ToyResult:
    """Check the expectations on walked paths and, with ``fmt``, write the result files and
    (unless ``figures`` is none) the figure."""
    expectations = check_all(cfg.expect, check_functions(trajectories))
    out_dir = None
    if fmt is not None:
        meta = toy_manifest(cfg, problem, command)
        with claim_out_dir(out, cfg.name) as claimed:
            drawn = []
            if figures != "none":
                drawn = toy_figures(problem, trajectories, claimed.path, figures)
            files = results_files(meta, problem, trajectories, expectations, fmt, drawn)
            for name, text in files.items():
                atomic_write(claimed.path / name, text)
        out_dir = claimed.path
    return ToyResult(problem, trajectories, expectations, out_dir)


def run_toy_job(
    cfg: ExperimentConfig,
    overrides: dict[str, Any] | None = None,
    *,
    command: list[str],
    out: Path | None = None,
    fmt: str | None = None,
    figures: str = "svg",
) -> ToyResult:
    problem = toy_problem(cfg, overrides)
    trajectories = run_toy2d(problem)
    return conclude_toy(
        cfg, problem, trajectories, command=command, out=out, fmt=fmt, figures=figures
    )
