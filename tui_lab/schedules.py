"""Learning-rate schedules as closed-form functions of training progress.

A schedule maps progress ``t`` in epochs (fractional when it is applied per step, whole when per
epoch) to the learning rate used from ``t`` on. Keeping them pure functions of ``t`` means the
TUI can preview a curve before training and tests can compare against the lectures' formulas
(and torch.optim.lr_scheduler) directly. The one adaptive schedule, reduce-on-plateau, keeps its
state in an ``LrCurve`` subclass that the engine feeds each epoch's validation loss.

α0 is the optimizer's learning rate: every schedule starts there (warm-up ramps up to it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

EPS = 1e-9  # keeps floor() from landing one epoch early on values like 2.9999999999


class LrCurve:
    """lr(t) for progress t in epochs; ``observe`` feeds validation loss to adaptive schedules."""

    def __init__(self, fn: Callable[[float], float]):
        self._fn = fn

    def __call__(self, t: float) -> float:
        return self._fn(t)

    def observe(self, val_loss: float) -> None:
        """Stateless schedules ignore validation results."""

    def warm_up(self, epochs: float, unit: float) -> None:
        """Scale the first ``epochs`` by a linear ramp: with N units (steps or epochs) of
        warm-up, the k-th uses k/(N+1) of the schedule's lr — never 0, so the first unit learns,
        and a one-epoch per-epoch warm-up still halves epoch 0. This is torch's
        LinearLR(start_factor=1/(N+1), total_iters=N) chained in front of the schedule."""
        inner = self._fn

        def warmed(t: float) -> float:
            return inner(t) * min(1.0, (t + unit) / (epochs + unit))

        self._fn = warmed


class PlateauCurve(LrCurve):
    """Reduce-on-plateau: α ← max(factor·α, α_min) once the validation loss has not improved
    (relative threshold 1e-4, as torch's ReduceLROnPlateau) for more than ``patience`` epochs."""

    THRESHOLD = 1e-4

    def __init__(self, a0: float, factor: float, patience: int, floor: float):
        super().__init__(lambda t: self.level)
        self.level = a0
        self.factor = factor
        self.patience = patience
        self.floor = floor
        self.best = math.inf
        self.bad_epochs = 0

    def observe(self, val_loss: float) -> None:
        if val_loss < self.best * (1 - self.THRESHOLD):
            self.best, self.bad_epochs = val_loss, 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            self.level = max(self.level * self.factor, self.floor)
            self.bad_epochs = 0


Maker = Callable[[float, float, float, dict[str, Any]], LrCurve]


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    title: str
    formula: str
    defaults: dict[str, Any]
    make: Maker  # (α0, total epochs, unit, parameters) -> LrCurve; unit = epochs per lr update
    per: Literal["epoch", "step"] = "epoch"  # used when ScheduleConfig.per is left unset


def _cos_between(start: float, end: float, frac: float) -> float:
    """Half a cosine from ``start`` (frac 0) to ``end`` (frac 1)."""
    return end + (start - end) * (1 + math.cos(math.pi * frac)) / 2


def _constant(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    return LrCurve(lambda t: a0)


def _step(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    return LrCurve(lambda t: a0 * p["gamma"] ** math.floor(t / p["step_size"] + EPS))


def _exponential(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    return LrCurve(lambda t: a0 * p["gamma"] ** t)


def _inverse_time(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    return LrCurve(lambda t: a0 / (1 + p["decay"] * t))


def _power(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    return LrCurve(lambda t: p["d"] ** t * a0)


def _inverse_sqrt(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    """d·α0/√epoch is infinite at epoch 0: the first epoch uses epoch 1's value."""
    return LrCurve(lambda t: p["d"] * a0 / math.sqrt(max(t, 1.0)))


def _cosine(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    """Held at α_min after T epochs (torch's CosineAnnealingLR would climb back up)."""
    period = p["t_max"] or total
    lo = p["eta_min"]
    return LrCurve(lambda t: _cos_between(a0, lo, min(t, period) / period))


def restart_phase(t: float, t0: float, mult: float) -> tuple[float, float]:
    """(time since the last restart, length of the current period) for SGDR's periods
    t0, t0·mult, t0·mult², ... — the n-th restart is at t0·(multⁿ − 1)/(mult − 1)."""
    if mult == 1:
        n = math.floor(t / t0 + EPS)
        start = n * t0
    else:
        n = math.floor(math.log1p(t / t0 * (mult - 1)) / math.log(mult) + EPS)
        start = t0 * (mult**n - 1) / (mult - 1)
    return max(0.0, t - start), t0 * mult**n


def _cosine_restarts(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    lo = p["eta_min"]

    def lr(t: float) -> float:
        since, period = restart_phase(t, p["t_0"], p["t_mult"])
        return _cos_between(a0, lo, since / period)

    return LrCurve(lr)


def _cyclic(scale: Callable[[float, int, dict[str, Any]], float]) -> Maker:
    """Smith's cyclical learning rate: a triangle between α0 and α_max with half-cycle s epochs,
    its height multiplied by ``scale(t, cycle, parameters)``. α_max defaults to 4·α0 (Smith:
    bounds 3–4× apart)."""

    def make(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
        peak, half = p["max_lr"] or 4 * a0, p["cycle_epochs"]

        def lr(t: float) -> float:
            cycle = math.floor(1 + t / (2 * half))
            height = max(0.0, 1 - abs(t / half - 2 * cycle + 1))
            return a0 + (peak - a0) * height * scale(t, cycle, p)

        return LrCurve(lr)

    return make


def _one_cycle(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    """Smith's 1cycle as torch's OneCycleLR: cosine up from α0 to α_max (default 10·α0) until
    pct_start of training, then down to α0/10⁴, reached by the last step (or epoch) trained."""
    peak, final = p["max_lr"] or 10 * a0, a0 / 1e4
    peak_t, end_t = p["pct_start"] * total - unit, total - unit

    def lr(t: float) -> float:
        if peak_t > 0 and t <= peak_t:
            return _cos_between(a0, peak, t / peak_t)
        return _cos_between(peak, final, min(1.0, max(0.0, (t - peak_t) / (end_t - peak_t))))

    return LrCurve(lr)


def _plateau(a0: float, total: float, unit: float, p: dict[str, Any]) -> LrCurve:
    return PlateauCurve(a0, p["factor"], p["patience"], p["eta_min"])


_CYCLE = "c = ⌊1 + epoch/2s⌋, x = |epoch/s − 2c + 1|"
_ENTRIES = [
    ScheduleSpec("constant", "Constant", "α = α0", {}, _constant),
    ScheduleSpec(
        "step", "Step decay", "α = α0 · γ^⌊epoch / k⌋", {"gamma": 0.5, "step_size": 2.0}, _step
    ),
    ScheduleSpec(
        "exponential", "Exponential decay", "α = α0 · γ^epoch", {"gamma": 0.8}, _exponential
    ),
    ScheduleSpec(
        "inverse_time",
        "Inverse-time decay",
        "α = α0 / (1 + decr · epoch)",
        {"decay": 0.5},
        _inverse_time,
    ),
    ScheduleSpec("power", "Power decay", "α = d^epoch · α0", {"d": 0.9}, _power),
    ScheduleSpec(
        "inverse_sqrt",
        "Inverse-sqrt decay",
        "α = d · α0 / √max(epoch, 1)",
        {"d": 1.0},
        _inverse_sqrt,
    ),
    ScheduleSpec(
        "cosine",
        "Cosine annealing",
        "α = α_min + (α0 − α_min)·(1 + cos(π·epoch/T))/2",
        {"t_max": None, "eta_min": 0.0},
        _cosine,
    ),
    ScheduleSpec(
        "cosine_restarts",
        "Cosine with warm restarts",
        "α = α_min + (α0 − α_min)·(1 + cos(π·T_cur/T_i))/2, T_i = T_0·T_mult^i",
        {"t_0": 1.0, "t_mult": 2.0, "eta_min": 0.0},
        _cosine_restarts,
        per="step",
    ),
    ScheduleSpec(
        "cyclic_triangular",
        "Cyclical (triangular)",
        f"α = α0 + (α_max − α0)·max(0, 1 − x), {_CYCLE}",
        {"max_lr": None, "cycle_epochs": 1.0},
        _cyclic(lambda t, cycle, p: 1.0),
        per="step",
    ),
    ScheduleSpec(
        "cyclic_triangular2",
        "Cyclical (triangular2)",
        f"α = α0 + (α_max − α0)·max(0, 1 − x)/2^(c−1), {_CYCLE}",
        {"max_lr": None, "cycle_epochs": 1.0},
        _cyclic(lambda t, cycle, p: 0.5 ** (cycle - 1)),
        per="step",
    ),
    ScheduleSpec(
        "cyclic_exp_range",
        "Cyclical (exp_range)",
        f"α = α0 + (α_max − α0)·max(0, 1 − x)·γ^epoch, {_CYCLE}",
        {"max_lr": None, "cycle_epochs": 1.0, "gamma": 0.8},
        _cyclic(lambda t, cycle, p: p["gamma"] ** t),
        per="step",
    ),
    ScheduleSpec(
        "one_cycle",
        "One-cycle",
        "α: α0 ↗ α_max (cosine, first pct_start of training) ↘ α0/10⁴",
        {"max_lr": None, "pct_start": 0.3},
        _one_cycle,
        per="step",
    ),
    ScheduleSpec(
        "plateau",
        "Reduce on plateau",
        "α ← max(factor · α, α_min) after `patience` epochs without val-loss improvement",
        {"factor": 0.5, "patience": 1, "eta_min": 0.0},
        _plateau,
    ),
]

SCHEDULES: dict[str, ScheduleSpec] = {spec.name: spec for spec in _ENTRIES}


def build_curve(
    name: str,
    base_lr: float,
    total_epochs: float,
    params: dict[str, Any],
    warmup_epochs: float,
    unit: float,
) -> LrCurve:
    """The schedule's curve, with linear warm-up over the first ``warmup_epochs``; ``unit`` is
    the progress between two lr updates (1 per epoch, 1/steps_per_epoch per step)."""
    curve = SCHEDULES[name].make(base_lr, total_epochs, unit, params)
    if warmup_epochs > 0:
        curve.warm_up(warmup_epochs, unit)
    return curve


class Schedule:
    """Drives one run's learning rate from the optimizer step count."""

    def __init__(self, cfg: Any, base_lr: float, epochs: int, steps_per_epoch: int):
        self.per_step = (cfg.per or SCHEDULES[cfg.name].per) == "step"
        self.steps_per_epoch = max(1, steps_per_epoch)
        unit = 1 / self.steps_per_epoch if self.per_step else 1.0
        self.curve = build_curve(
            cfg.name, base_lr, epochs, cfg.parameters(), cfg.warmup_epochs, unit
        )

    def progress(self, step: int) -> float:
        """Epochs of progress the schedule sees after ``step`` optimizer steps."""
        t = step / self.steps_per_epoch
        return t if self.per_step else float(math.floor(t + EPS))

    def lr(self, step: int) -> float:
        return float(self.curve(self.progress(step)))

    def end_epoch(self, val_loss: float) -> None:
        self.curve.observe(val_loss)

    def preview(self, epochs: int, points_per_epoch: int = 20) -> list[tuple[float, float]]:
        """(epoch, lr) pairs for a chart before training starts."""
        n = max(1, epochs * points_per_epoch)
        steps = [round(i * self.steps_per_epoch * epochs / n) for i in range(n + 1)]
        return [(s / self.steps_per_epoch, self.lr(s)) for s in steps]
