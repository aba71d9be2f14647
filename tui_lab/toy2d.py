"""The 2-D toy problem (dataflowr Module 4): optimizers walking across f(x1, x2).

The lecture minimizes f(x1, x2) = 0.1·x1² + 2·x2² from (−5, −2) for 20 steps (d2l's
``train_2d``). f is 20× more curved along x2 than along x1, so plain GD's learning rate is
capped by x2 (η < 2/4): at η = 0.4 every step overshoots x2 (x2 ← −0.6·x2, a zig-zag) while x1
crawls (x1 ← 0.92·x1). Momentum averages the alternating x2 gradients away
(v ← γ·v + η·∇f) and the adaptive methods divide each coordinate's step by its own gradient
scale (s ← s + g², θ ← θ − η/√(s+ε)·g ...), so their paths are smoother. Every run uses the
lecture's rule (``impl = "lecture"``, optim/lectures.py) on one 2-element float64 tensor.

API (pure: no UI imports; the CLI and the TUI share it)

- ``FUNCTIONS``: the built-ins ``lecture`` (alias ``quadratic``), ``rosenbrock`` and ``beale``,
  each with a start point, contour bounds, a step count and per-optimizer learning rates.
- ``objective(text)``: a built-in's name or an expression in x1, x2 (grammar: tui_lab.expr).
- ``Toy2DProblem.from_config(cfg)``: a ``Toy2DConfig`` with every default filled in.
- ``walk(problem, run)``: lazily yields ``Point(step, x1, x2, f)``, the start first, one point
  per optimizer step, so a UI can animate it; it ends after ``problem.steps`` steps or at the
  first diverged point. For Nesterov the points are the look-ahead points the gradient is
  taken at (see ``LectureNesterov``).
- ``summarize(problem, run, points)``: the ``Trajectory`` of those points: ``status``
  ("converged", "reached, then left", "did not converge" or "diverged"),
  ``steps_to_converge`` (first step with |f − f_min| < tolerance), ``path_length`` and
  ``x2_reversals`` (how often the path turns back along x2 before converging: the zig-zag).
  ``run_toy2d(problem)`` walks and summarizes every run.
- ``contour_grid(fn, bounds, n)``: f on an n×n grid for the contour plot; ``view_bounds`` picks
  bounds that hold the start and every path that did not diverge.
- ``check_functions(trajectories)``: what a preset's ``[[expect]]`` checks may call.
- ``run_toy2d_headless``: the CLI. ``--export csv`` writes trajectories.csv (run, optimizer,
  lr, step, x1, x2, f), summary.csv, expectations.csv, experiment.json and report.md;
  ``--export json`` writes results.json and report.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import torch

from tui_lab.config import ExperimentConfig, Toy2DConfig, Toy2DRun
from tui_lab.errors import ConfigError
from tui_lab.expr import Expression, parse
from tui_lab.optim.registry import OPTIMIZERS

Bounds = tuple[float, float, float, float]  # x1_min, x1_max, x2_min, x2_max
TRAJECTORY_COLUMNS = ["run", "optimizer", "lr", "step", "x1", "x2", "f"]
SUMMARY_COLUMNS = ["run", "optimizer", "lr", "status", "steps_to_converge", "final_f",
                   "path_length", "x2_reversals", "diverged_at"]  # fmt: skip
DIVERGENCE_FACTOR = 1e6
"""A walk has diverged once |f − f_min| exceeds this many times (1 + |f(start) − f_min|)."""


@dataclass(frozen=True)
class ToyFunction:
    """A built-in problem: its formula and the defaults that show its lesson."""

    title: str
    expression: str
    start: tuple[float, float]
    bounds: Bounds
    steps: int
    runs: tuple[Toy2DRun, ...]


def _runs(*specs: dict[str, Any]) -> tuple[Toy2DRun, ...]:
    return tuple(Toy2DRun.model_validate(spec) for spec in specs)


_LECTURE = ToyFunction(
    title="f(x1, x2) = 0.1·x1² + 2·x2²  (dataflowr Module 4)",
    expression="0.1*x1**2 + 2*x2**2",
    start=(-5.0, -2.0),
    bounds=(-5.5, 1.0, -3.0, 1.0),
    steps=20,
    # GD at d2l's η = 0.4; the others reach f < 1e-3 within the 20 steps. Adam and AMSGrad use
    # β1 = 0.5: with 0.9 their momentum needs more than 20 steps to settle on this problem.
    runs=_runs(
        {"name": "gd", "optimizer": "batch_gd", "lr": 0.4},
        {"optimizer": "momentum", "lr": 0.3, "momentum": 0.6},
        {"optimizer": "nesterov", "lr": 0.25, "momentum": 0.7},
        {"optimizer": "adagrad", "lr": 1.5},
        {"optimizer": "rmsprop", "lr": 0.35},
        {"optimizer": "adam", "lr": 0.5, "beta1": 0.5},
        {"optimizer": "amsgrad", "lr": 0.05, "beta1": 0.5},
    ),
)
FUNCTIONS: dict[str, ToyFunction] = {
    "lecture": _LECTURE,
    "quadratic": _LECTURE,
    "rosenbrock": ToyFunction(
        title="Rosenbrock: (1 − x1)² + 100·(x2 − x1²)², minimum 0 at (1, 1)",
        expression="(1 - x1)**2 + 100*(x2 - x1**2)**2",
        start=(-1.5, 2.0),
        bounds=(-2.0, 2.0, -1.0, 3.0),
        steps=1000,
        runs=_runs(
            {"name": "gd", "optimizer": "batch_gd", "lr": 0.001},
            {"optimizer": "momentum", "lr": 0.001, "momentum": 0.9},
            {"optimizer": "nesterov", "lr": 0.001, "momentum": 0.9},
            {"optimizer": "adagrad", "lr": 2.0},
            {"optimizer": "rmsprop", "lr": 0.003},
            {"optimizer": "adam", "lr": 0.1},
            {"optimizer": "amsgrad", "lr": 0.1},
        ),
    ),
    "beale": ToyFunction(
        title="Beale: (1.5 − x1 + x1·x2)² + (2.25 − x1 + x1·x2²)² + (2.625 − x1 + x1·x2³)², "
        "minimum 0 at (3, 0.5)",
        expression="(1.5 - x1 + x1*x2)**2 + (2.25 - x1 + x1*x2**2)**2 + (2.625 - x1 + x1*x2**3)**2",
        start=(1.0, 1.5),
        bounds=(-4.5, 4.5, -4.5, 4.5),
        steps=1000,
        runs=_runs(
            {"name": "gd", "optimizer": "batch_gd", "lr": 0.01},
            {"optimizer": "momentum", "lr": 0.002, "momentum": 0.9},
            {"optimizer": "nesterov", "lr": 0.002, "momentum": 0.9},
            {"optimizer": "adagrad", "lr": 1.0},
            {"optimizer": "rmsprop", "lr": 0.01},
            {"optimizer": "adam", "lr": 0.1},
            {"optimizer": "amsgrad", "lr": 0.03},
        ),
    ),
}


def objective(text: str) -> Expression:
    """A built-in's name or an expression in x1, x2; ``ConfigError`` if it is neither."""
    builtin = FUNCTIONS.get(text.strip().lower())
    if builtin is not None:
        return parse(builtin.expression)
    try:
        return parse(text)
    except ConfigError as exc:
        raise ConfigError(f"{exc} Built-in functions: {', '.join(FUNCTIONS)}.") from None


@dataclass(frozen=True)
class Toy2DProblem:
    """A toy problem with every default resolved: what ``walk`` and the UI need."""

    function: str
    expression: Expression
    start: tuple[float, float]
    steps: int
    tolerance: float
    f_min: float
    bounds: Bounds | None  # None: fit the view to the paths (see view_bounds)
    runs: tuple[Toy2DRun, ...]

    @classmethod
    def from_config(cls, cfg: Toy2DConfig) -> Toy2DProblem:
        """Unset settings come from the built-in function, else from the lecture's problem."""
        builtin = FUNCTIONS.get(cfg.function.strip().lower())
        defaults = builtin or _LECTURE
        return cls(
            function=cfg.function,
            expression=objective(cfg.function),
            start=cfg.start or defaults.start,
            steps=cfg.steps or defaults.steps,
            tolerance=cfg.tolerance,
            f_min=0.0 if cfg.f_min is None else cfg.f_min,
            bounds=cfg.bounds or (builtin.bounds if builtin else None),
            runs=tuple(cfg.runs) or defaults.runs,
        )

    def f(self, x1: float, x2: float) -> float:
        with torch.no_grad():
            return float(self.expression(torch.tensor(x1, dtype=torch.float64),
                                         torch.tensor(x2, dtype=torch.float64)))  # fmt: skip

    def diverged(self, point: Point) -> bool:
        """Non-finite, or |f − f_min| grown a million-fold past where the walk started."""
        if not all(math.isfinite(v) for v in (point.x1, point.x2, point.f)):
            return True
        return abs(point.f - self.f_min) > self._divergence_gap

    @cached_property
    def _divergence_gap(self) -> float:
        return DIVERGENCE_FACTOR * (1.0 + abs(self.f(*self.start) - self.f_min))

    def describe(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "expression": self.expression.text,
            "start": list(self.start),
            "steps": self.steps,
            "tolerance": self.tolerance,
            "f_min": self.f_min,
            "bounds": list(self.bounds) if self.bounds else None,
        }


@dataclass(frozen=True)
class Point:
    step: int
    x1: float
    x2: float
    f: float


@dataclass(frozen=True)
class Trajectory:
    """One run's path and what it shows."""

    run: str
    optimizer: str
    hyperparameters: dict[str, float]
    points: tuple[Point, ...]
    status: str  # "converged", "reached, then left", "did not converge" or "diverged"
    steps_to_converge: int | None
    diverged_at: int | None

    @property
    def lr(self) -> float:
        return self.hyperparameters["lr"]

    @property
    def final_f(self) -> float:
        return self.points[-1].f

    @property
    def path_length(self) -> float:
        """Σ ‖x_{k+1} − x_k‖: a zig-zag walks much further than the straight line."""
        pts = self.points
        return sum(math.hypot(b.x1 - a.x1, b.x2 - a.x2) for a, b in pairwise(pts))

    @property
    def x2_reversals(self) -> int:
        """How often the path turns back along x2 (consecutive x2 steps of opposite sign) on
        its way to the minimum: up to convergence, so jitter around the minimum is not counted."""
        end = len(self.points) if self.steps_to_converge is None else self.steps_to_converge + 1
        steps = [b.x2 - a.x2 for a, b in pairwise(self.points[:end])]
        return sum(1 for a, b in pairwise(steps) if a * b < 0)

    def summary_row(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "status": self.status,
            "steps_to_converge": self.steps_to_converge,
            "final_f": self.final_f,
            "path_length": self.path_length,
            "x2_reversals": self.x2_reversals,
            "diverged_at": self.diverged_at,
            "hyperparameters": self.hyperparameters,
        }

    def point_rows(self) -> list[dict[str, Any]]:
        head = {"run": self.run, "optimizer": self.optimizer, "lr": self.lr}
        return [{**head, "step": p.step, "x1": p.x1, "x2": p.x2, "f": p.f} for p in self.points]


def walk(problem: Toy2DProblem, run: Toy2DRun) -> Iterator[Point]:
    """The optimizer's path from the start, one point per step (computed when asked for)."""
    xy = torch.tensor(problem.start, dtype=torch.float64, requires_grad=True)
    optimizer = OPTIMIZERS[run.optimizer].build([xy], run.hyperparameters(), "lecture")
    for step in range(problem.steps + 1):
        optimizer.zero_grad()
        with torch.enable_grad():  # the caller may iterate under no_grad (a UI timer)
            value = problem.expression(xy[0], xy[1])
        x1, x2 = xy.detach().tolist()
        point = Point(step, x1, x2, float(value.detach()))
        yield point
        if step == problem.steps or problem.diverged(point):
            return
        value.backward()
        optimizer.step()


def summarize(problem: Toy2DProblem, run: Toy2DRun, points: list[Point]) -> Trajectory:
    """The record of a walk. "reached, then left": |f − f_min| fell below the tolerance but the
    walk ended above it (e.g. RMSprop with a constant η keeps bouncing around the minimum)."""
    inside = [abs(p.f - problem.f_min) < problem.tolerance for p in points]
    converged_at = inside.index(True) if any(inside) else None
    diverged_at = points[-1].step if problem.diverged(points[-1]) else None
    if diverged_at is not None:
        status = "diverged"
    elif converged_at is None:
        status = "did not converge"
    else:
        status = "converged" if inside[-1] else "reached, then left"
    return Trajectory(run.label, run.optimizer, run.hyperparameters(), tuple(points), status,
                      converged_at, diverged_at)  # fmt: skip


def run_toy2d(problem: Toy2DProblem) -> list[Trajectory]:
    return [summarize(problem, run, list(walk(problem, run))) for run in problem.runs]


@dataclass(frozen=True)
class ContourGrid:
    """f sampled on a grid: ``f[i][j]`` = f(x1[j], x2[i]) (rows go along x2)."""

    x1: list[float]
    x2: list[float]
    f: list[list[float]]


def contour_grid(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], bounds: Bounds,
                 n: int = 60) -> ContourGrid:  # fmt: skip
    """f on an n×n grid over ``bounds``; values where f is undefined (log of < 0) are NaN."""
    if n < 2:
        raise ValueError("a contour grid needs n >= 2")
    x1 = torch.linspace(bounds[0], bounds[1], n, dtype=torch.float64)
    x2 = torch.linspace(bounds[2], bounds[3], n, dtype=torch.float64)
    grid_x2, grid_x1 = torch.meshgrid(x2, x1, indexing="ij")
    with torch.no_grad():
        values = fn(grid_x1, grid_x2)
    return ContourGrid(x1.tolist(), x2.tolist(), values.tolist())


def view_bounds(
    problem: Toy2DProblem, trajectories: list[Trajectory], margin: float = 0.1
) -> Bounds:
    """The configured or built-in bounds, else a box around the start and every path that did
    not diverge (a diverged path would shrink the contour to nothing)."""
    if problem.bounds is not None:
        return problem.bounds
    points = [(p.x1, p.x2) for t in trajectories if t.diverged_at is None for p in t.points]
    xs = [problem.start[0], *(x for x, _ in points)]
    ys = [problem.start[1], *(y for _, y in points)]
    out: list[float] = []
    for lo, hi in ((min(xs), max(xs)), (min(ys), max(ys))):
        pad = max(hi - lo, 1.0) * margin
        out += [lo - pad, hi + pad]
    return (out[0], out[1], out[2], out[3])


def check_functions(trajectories: list[Trajectory]) -> dict[str, Callable[[str], Any]]:
    """What a toy preset's ``[[expect]]`` checks may call (see expectations.py):
    steps(run) (inf if it never converged), zigzag(run) (x2 reversals), path(run) (path
    length), final_f(run) and status(run)."""
    by_run = {t.run: t for t in trajectories}

    def get(name: str) -> Trajectory:
        if name not in by_run:
            raise KeyError(f"no run named {name!r}")
        return by_run[name]

    return {
        "steps": lambda n: (
            math.inf if get(n).steps_to_converge is None else get(n).steps_to_converge
        ),
        "zigzag": lambda n: get(n).x2_reversals,
        "path": lambda n: get(n).path_length,
        "final_f": lambda n: get(n).final_f,
        "status": lambda n: get(n).status,
    }


def results_files(cfg: ExperimentConfig, problem: Toy2DProblem, trajectories: list[Trajectory],
                  expectations: list[Any], fmt: str, command: list[str]) -> dict[str, str]:  # fmt: skip
    """File name → contents of the exported results (the same set as a training comparison:
    tables, experiment.json, expectations and report.md)."""
    from tui_lab.export import csv_text, experiment_metadata

    meta = experiment_metadata(cfg, [(run.label, run) for run in problem.runs], command)
    meta.update(toy2d=problem.describe(), status="completed")
    points = [row for t in trajectories for row in t.point_rows()]
    summary = [t.summary_row() for t in trajectories]
    checks = [{"text": e.text, "check": e.check, "result": e.label} for e in expectations]
    report = {"report.md": toy2d_report(meta, problem, trajectories, expectations)}
    if fmt == "json":
        payload = {"experiment": meta, "trajectories": points, "summary": summary,
                   "expectations": checks}  # fmt: skip
        return {"results.json": json.dumps(payload, indent=2, default=str), **report}
    return {
        "trajectories.csv": csv_text(TRAJECTORY_COLUMNS, points),
        "summary.csv": csv_text(SUMMARY_COLUMNS, summary),
        "expectations.csv": csv_text(["text", "check", "result"], checks),
        "experiment.json": json.dumps(meta, indent=2, default=str),
        **report,
    }


def toy2d_report(meta: dict[str, Any], problem: Toy2DProblem, trajectories: list[Trajectory],
                 expectations: list[Any]) -> str:  # fmt: skip
    """report.md: the problem, the summary table, the expectations and the paths as text."""
    from tui_lab.report import downsample, markdown_table, text_chart

    gap = "|f|" if problem.f_min == 0 else f"|f − ({problem.f_min:g})|"
    setup = (
        f"f(x1, x2) = `{problem.expression.text}` from {problem.start}, {problem.steps} steps; "
        f"converged once {gap} < {problem.tolerance:g}."
    )
    table = markdown_table(SUMMARY_COLUMNS, [t.summary_row() for t in trajectories])
    lines = [f"# {meta['preset']}: report", "", meta["description"], "",
             f"Command: `{' '.join(meta['command'] or [])}`", "", "## Problem", "", setup, "",
             "## Results", "", table]  # fmt: skip
    if expectations:
        lines += ["## Expectations", ""]
        lines += [f"- **{e.label}** — {e.text} (`{e.check}`)" for e in expectations]
        lines.append("")
    lines += ["## Paths (runs that did not diverge)", ""]
    shown = [t for t in trajectories if t.diverged_at is None]
    paths = {t.run: downsample([p.x1 for p in t.points], [p.x2 for p in t.points]) for t in shown}
    gaps = {
        t.run: downsample([float(p.step) for p in t.points],
                          [math.log10(max(abs(p.f - problem.f_min), 1e-300)) for p in t.points])
        for t in shown
    }  # fmt: skip
    for series, title, xlabel, ylabel in (
        (paths, "paths from the start", "x1", "x2"),
        (gaps, "log10|f − f_min| per step", "step", "log10|f − f_min|"),
    ):
        if series:
            lines += ["```text", text_chart(series, title, xlabel, ylabel), "```", ""]
    return "\n".join(lines)


def run_toy2d_headless(cfg: ExperimentConfig, overrides: dict[str, Any], args,
                       argv: list[str]) -> int:  # fmt: skip
    """``tui-lab --preset toy_2d --export csv|json`` (or ``--headless``): run, print, write."""
    from tui_lab.cli import ExitCode
    from tui_lab.expectations import check_all
    from tui_lab.export import atomic_write, default_out_dir, prepare_out_dir
    from tui_lab.reporting import print_toy2d_summary

    assert cfg.toy2d is not None
    problem = Toy2DProblem.from_config(cfg.toy2d.with_overrides(overrides))
    trajectories = run_toy2d(problem)
    expectations = check_all(cfg.expect, check_functions(trajectories))
    out_dir: Path | None = None
    if args.export:
        out_dir = prepare_out_dir(args.out or default_out_dir(cfg.name))
        files = results_files(cfg, problem, trajectories, expectations, args.export,
                              ["tui-lab", *argv])  # fmt: skip
        for name, text in files.items():
            atomic_write(out_dir / name, text)
    rows = [t.summary_row() for t in trajectories]
    print_toy2d_summary(cfg.name, problem.tolerance, rows, expectations, out_dir)
    return ExitCode.OK
