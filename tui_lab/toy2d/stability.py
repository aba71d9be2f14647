"""Why a toy path diverged, where the lectures' stability condition says so.

On a quadratic f = ½·Σ L_i·x_i² (the lecture's 0.1·x1² + 2·x2² has L = (0.2, 4)) each rule
acts on every axis alone, and a path diverges when one axis is unstable:

- GD, θ ← θ − η·∇J: x_i ← (1 − η·L_i)·x_i, stable while η < 2/L_i.
- Momentum, v ← γ·v + η·∇J, θ ← θ − v: x_{t+1} = (1 + γ − η·L_i)·x_t − γ·x_{t−1}, stable while
  η < 2(1 + γ)/L_i.
- Nesterov, v ← γ·v + η·∇J(θ − γ·v), θ ← θ − v: x_{t+1} = (1 + γ)(1 − η·L_i)·x_t −
  γ(1 − η·L_i)·x_{t−1}, stable while η < 2(1 + γ)/((1 + 2γ)·L_i).

L_i is f's curvature along axis i (∂²f/∂x_i², from autograd at the start). On another
function the axes mean this only where f's Hessian there is diagonal; the adaptive rules
scale each axis by its own gradient history, so no fixed η bound applies to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from tui_lab.config import Toy2DRun
from tui_lab.toy2d.problem import Toy2DProblem, Trajectory

Limit = Callable[[float, dict[str, float]], float]  # (L_i, hyperparameters) → bound on η
LIMITS: dict[str, tuple[str, Limit]] = {
    "batch_gd": ("2/L", lambda L, hp: 2 / L),
    "sgd": ("2/L", lambda L, hp: 2 / L),
    "sgd_1": ("2/L", lambda L, hp: 2 / L),
    "momentum": ("2(1+γ)/L", lambda L, hp: 2 * (1 + hp["momentum"]) / L),
    "nesterov": (
        "2(1+γ)/((1+2γ)·L)",
        lambda L, hp: 2 * (1 + hp["momentum"]) / ((1 + 2 * hp["momentum"]) * L),
    ),
}
SUBSCRIPTS = "₁₂"


def curvatures(problem: Toy2DProblem) -> tuple[float, float] | None:
    """(L_1, L_2): f's second derivative along each axis at the start, when the Hessian there
    is diagonal (the axes are f's own directions); else None."""
    start = torch.tensor(problem.start, dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(lambda p: problem.expression(p[0], p[1]), start)
    (h11, h12), (_, h22) = hessian.tolist()
    if not all(math.isfinite(h) for h in (h11, h12, h22)):
        return None
    if abs(h12) > 1e-9 * max(abs(h11), abs(h22), 1e-300):
        return None
    return h11, h22


def divergence_note(problem: Toy2DProblem, run: Toy2DRun, trajectory: Trajectory) -> str | None:
    """ "diverged at step 7: η = 0.6 ≥ 2/L₂ = 0.5 along x2 (L = 0.2, 4)", or None when the
    path did not diverge or no axis's bound explains it."""
    if trajectory.diverged_at is None or run.optimizer not in LIMITS:
        return None
    curved = curvatures(problem)
    if curved is None:
        return None
    form, limit = LIMITS[run.optimizer]
    hp = run.hyperparameters()
    broken = [(i, limit(L, hp)) for i, L in enumerate(curved) if L > 0 and hp["lr"] >= limit(L, hp)]
    if not broken:
        return None
    axes = "; ".join(
        f"η = {hp['lr']:g} ≥ {form.replace('L', 'L' + SUBSCRIPTS[i])} = {bound:.3g} along x{i + 1}"
        for i, bound in broken
    )
    shape = ", ".join(f"{L:.3g}" for L in curved)
    return f"diverged at step {trajectory.diverged_at}: {axes} (curvature L = {shape})"


def divergence_notes(problem: Toy2DProblem, trajectories: list[Trajectory]) -> list[str]:
    """ "run: diverged at step …" for each diverged path a bound explains (report.md, CLI)."""
    runs = {run.label: run for run in problem.runs}
    notes = []
    for trajectory in trajectories:
        run = runs.get(trajectory.run)
        note = divergence_note(problem, run, trajectory) if run is not None else None
        if note is not None:
            notes.append(f"{trajectory.run}: {note}")
    return notes
