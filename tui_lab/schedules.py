"""Learning-rate schedules as closed-form functions of training progress.

A schedule maps progress ``t`` in epochs (fractional when it is applied per step, whole when per
epoch) to the learning rate. Keeping them pure functions of ``t`` means the TUI can preview a
curve before training and tests can compare against the lectures' formulas directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class LrCurve:
    """lr(t) for progress t in epochs; ``observe`` feeds validation loss to adaptive schedules."""

    def __init__(self, fn: Callable[[float], float]):
        self._fn = fn

    def __call__(self, t: float) -> float:
        return self._fn(t)

    def observe(self, val_loss: float) -> None:
        """Stateless schedules ignore validation results."""


Maker = Callable[[float, float, dict[str, Any]], LrCurve]


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    title: str
    formula: str
    defaults: dict[str, Any]
    make: Maker  # (α0, total epochs, parameters) -> LrCurve


def _constant(a0: float, total: float, p: dict[str, Any]) -> LrCurve:
    return LrCurve(lambda t: a0)


def _step(a0, total, p):
    return LrCurve(lambda t: a0 * p["gamma"] ** math.floor(t / p["step_size"] + 1e-9))


def _exponential(a0, total, p):
    return LrCurve(lambda t: a0 * p["gamma"] ** t)


def _cosine(a0, total, p):
    period = p["t_max"] or total
    lo = p["eta_min"]
    return LrCurve(lambda t: lo + (a0 - lo) * (1 + math.cos(math.pi * min(t, period) / period)) / 2)


_ENTRIES = [
    ScheduleSpec("constant", "Constant", "α = α0", {}, _constant),
    ScheduleSpec(
        "step",
        "Step decay",
        "α = α0 · γ^⌊epoch / k⌋",
        {"gamma": 0.5, "step_size": 2.0},
        _step,
    ),
    ScheduleSpec("exponential", "Exponential decay", "α = α0 · γ^epoch", {"gamma": 0.8}, _exponential),
    ScheduleSpec(
        "cosine",
        "Cosine annealing",
        "α = α_min + (α0 − α_min)·(1 + cos(π·epoch/T))/2",
        {"t_max": None, "eta_min": 0.0},
        _cosine,
    ),
]

SCHEDULES: dict[str, ScheduleSpec] = {spec.name: spec for spec in _ENTRIES}


def build_curve(
    name: str, base_lr: float, total_epochs: float, params: dict[str, Any], warmup_epochs: float
) -> LrCurve:
    """The schedule's curve, with linear warm-up from 0 over the first ``warmup_epochs``."""
    curve = SCHEDULES[name].make(base_lr, total_epochs, params)
    if warmup_epochs <= 0:
        return curve
    inner = curve._fn

    def warmed(t: float) -> float:
        if t < warmup_epochs:
            return inner(warmup_epochs) * (t + 1e-3) / warmup_epochs
        return inner(t)

    curve._fn = warmed
    return curve


class Schedule:
    """Drives one run's learning rate from the optimizer step count."""

    def __init__(self, cfg: Any, base_lr: float, epochs: int, steps_per_epoch: int):
        self.per_step = cfg.per == "step"
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.curve = build_curve(cfg.name, base_lr, epochs, cfg.parameters(), cfg.warmup_epochs)

    def progress(self, step: int) -> float:
        """Epochs of progress the schedule sees after ``step`` optimizer steps."""
        t = step / self.steps_per_epoch
        return t if self.per_step else float(math.floor(t + 1e-9))

    def lr(self, step: int) -> float:
        return float(self.curve(self.progress(step)))

    def end_epoch(self, val_loss: float) -> None:
        self.curve.observe(val_loss)

    def preview(self, epochs: int, points_per_epoch: int = 20) -> list[tuple[float, float]]:
        """(epoch, lr) pairs for a chart before training starts."""
        n = max(1, epochs * points_per_epoch)
        steps = [round(i * self.steps_per_epoch * epochs / n) for i in range(n + 1)]
        return [(s / self.steps_per_epoch, self.lr(s)) for s in steps]
