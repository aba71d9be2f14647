"""The 2-D toy problem (dataflowr Module 4): optimizers walking across f(x1, x2).

Every run uses the lecture's rule (``impl = "lecture"``, optim/lectures.py) on one 2-element
float64 tensor, with the exact gradient of the formula (expressions.py) by dual numbers
(gradient.py), so the path is the lecture's own arithmetic.

- ``Toy2DProblem.from_config(cfg)``: a ``Toy2DConfig`` with every default filled in from its
  built-in function (toy_functions.py), else the lecture's problem.
- ``walk(problem, run)``: lazily yields ``Point(step, x1, x2, f)``, the start first, one point
  per optimizer step, so a UI can animate it; it ends after ``problem.steps`` steps or at the
  first diverged point. Each point is the lecture's iterate θ_t (for Nesterov, not the
  look-ahead point the gradient is taken at: see ``LectureNesterov``).
- ``summarize(problem, run, points)``: the ``Trajectory`` of those points: ``status``
  ("converged", "reached, then left", "did not converge" or "diverged"),
  ``steps_to_converge`` (first step with |f − f_min| < tolerance), ``path_length`` and
  ``x2_reversals`` (how often the path turns back along x2 before converging: the zig-zag).
- ``contour_grid(fn, bounds, n)``: f on an n×n grid for the contour plot; ``view_bounds`` picks
  bounds that hold the start and every path that did not diverge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from typing import Any

import torch

from tui_lab.config import Toy2DConfig, Toy2DRun
from tui_lab.expressions import Formula
from tui_lab.optim.build import build_optimizer
from tui_lab.optim.lectures import LectureOptimizer
from tui_lab.toy2d.gradient import value_and_gradient
from tui_lab.toy_functions import LECTURE, Bounds, builtin, formula_of

DIVERGENCE_FACTOR = 1e6
"""A walk has diverged once |f − f_min| exceeds this many times (1 + |f(start) − f_min|)."""


@dataclass(frozen=True)
class Expression:
    """A formula bound to torch: call it with two tensors (any broadcastable shapes)."""

    formula: Formula

    @property
    def text(self) -> str:
        return self.formula.text

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.formula.evaluate(torch, x1, x2)


def expression(text: str) -> Expression:
    """A built-in's name or an expression in x1, x2, ready to evaluate on tensors."""
    return Expression(formula_of(text))


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
        function = builtin(cfg.function)
        defaults = function or LECTURE
        return cls(
            function=cfg.function,
            expression=expression(cfg.function),
            start=cfg.start or defaults.start,
            steps=cfg.steps or defaults.steps,
            tolerance=cfg.tolerance,
            f_min=0.0 if cfg.f_min is None else cfg.f_min,
            bounds=cfg.bounds or (function.bounds if function else None),
            runs=tuple(cfg.runs) or tuple(Toy2DRun.model_validate(r) for r in defaults.runs),
        )

    def config(self) -> Toy2DConfig:
        """The settings that give this problem, every default filled in: what an edit (the
        toy view) changes and validates again."""
        return Toy2DConfig(
            function=self.function,
            start=self.start,
            steps=self.steps,
            tolerance=self.tolerance,
            f_min=self.f_min,
            bounds=self.bounds,
            runs=list(self.runs),
        )

    def f(self, x1: float, x2: float) -> float:
        with torch.no_grad():
            return float(
                self.expression(
                    torch.tensor(x1, dtype=torch.float64), torch.tensor(x2, dtype=torch.float64)
                )
            )

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
    """The optimizer's path from the start, one point per step (computed when asked for): the
    lecture's iterate θ_t and f(θ_t). The gradient is exact, by dual numbers (gradient.py);
    for Nesterov it is taken at the look-ahead point the parameter holds, and θ_t is
    recovered from it (see ``LectureNesterov``)."""
    xy = torch.tensor(problem.start, dtype=torch.float64)
    optimizer = build_optimizer(run.optimizer, [xy], run.hyperparameters(), "lecture")
    assert isinstance(optimizer, LectureOptimizer)
    formula = problem.expression.formula
    for step in range(problem.steps + 1):
        at = xy.tolist()
        f, g1, g2 = value_and_gradient(formula, *at)
        theta = optimizer.iterate(xy).tolist()
        if theta != at:  # Nesterov: f at θ, not at the look-ahead point
            f = value_and_gradient(formula, *theta)[0]
        point = Point(step, theta[0], theta[1], f)
        yield point
        if step == problem.steps or problem.diverged(point):
            return
        optimizer.step_with(xy, torch.tensor((g1, g2), dtype=torch.float64))


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
    return Trajectory(
        run.label,
        run.optimizer,
        run.hyperparameters(),
        tuple(points),
        status,
        converged_at,
        diverged_at,
    )


def run_toy2d(problem: Toy2DProblem) -> list[Trajectory]:
    """Every run's whole path at once (~1 ms a run for the lecture's 20 steps, ~30 ms for
    1000 steps of Rosenbrock)."""
    return [summarize(problem, run, list(walk(problem, run))) for run in problem.runs]


@dataclass(frozen=True)
class ContourGrid:
    """f sampled on a grid: ``f[i][j]`` = f(x1[j], x2[i]) (rows go along x2)."""

    x1: list[float]
    x2: list[float]
    f: list[list[float]]


def contour_grid(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], bounds: Bounds, n: int = 60
) -> ContourGrid:
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
