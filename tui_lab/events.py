"""Everything the core says to the CLI, the files and the TUI: the event stream of training
runs and searches, and the records those events carry.

Events are small frozen dataclasses of plain values, safe to hand across threads. Training
emits ``RunStarted`` … ``RunFinished`` per run and ``ExperimentFinished`` at the end of a
comparison; a search adds ``TrialStarted``, ``TrialFinished``, ``ImportanceUpdated`` and
``StudyFinished`` around the run events of its trials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal[
    "pending", "running", "paused", "completed", "stopped", "interrupted", "diverged", "failed"
]
FINAL_STATUSES = ("completed", "stopped", "interrupted", "diverged", "failed")


# ---------------------------------------------------------------------------- training runs


@dataclass(frozen=True)
class RunStarted:
    run: str
    index: int
    config: dict[str, Any]
    steps_per_epoch: int
    total_steps: int
    parameters: int
    device: str
    precision: str
    numerics: str = ""  # why this precision and layout: as set, or measured fastest here


@dataclass(frozen=True)
class StepLogged:
    """Mean training loss over the last ``log_every`` steps and the lr used at ``step``."""

    run: str
    step: int
    epoch: float
    loss: float
    lr: float
    samples_per_s: float
    seconds: float


@dataclass(frozen=True)
class EpochEnded:
    run: str
    epoch: int  # 1-based; a run cut by max_steps ends with a partial epoch
    step: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    lr: float
    seconds: float  # wall time of training so far (evaluation excluded)
    epoch_seconds: float


@dataclass(frozen=True)
class RunStatusChanged:
    run: str
    status: Status


@dataclass(frozen=True)
class RunFinished:
    run: str
    status: Status
    epochs: int
    steps: int
    seconds: float
    best_val_acc: float | None = None
    test_loss: float | None = None
    test_acc: float | None = None
    epochs_to_target: int | None = None
    diverged_at: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class LayerInternals:
    """What the optimizer did to one layer at one step: the gradient's norm, the update's size
    relative to the weights, and the effective step per unit of gradient |Δθ|/|g| across the
    layer's parameters (an adaptive method's per-parameter η/√(s+ε) shows here)."""

    layer: str
    grad_norm: float
    update_ratio: float
    eff_lr_median: float
    eff_lr_p10: float
    eff_lr_p90: float


@dataclass(frozen=True)
class InternalsLogged:
    run: str
    step: int
    grad_norm: float  # over every parameter
    update_ratio: float  # ‖Δθ‖/‖θ‖ over every parameter
    momentum_norm: float | None  # the velocity / first-moment buffer, where the rule keeps one
    bias_correction1: float | None  # Adam's 1/(1−β1ᵗ) and 1/(1−β2ᵗ) at this step
    bias_correction2: float | None
    layers: tuple[LayerInternals, ...]


@dataclass(frozen=True)
class SharpnessLogged:
    """The loss's largest Hessian eigenvalue on a fixed batch: gradient descent is stable only
    while it stays below 2/η."""

    run: str
    step: int
    sharpness: float
    two_over_lr: float


@dataclass(frozen=True)
class ExperimentFinished:
    status: Literal["completed", "stopped", "interrupted"]
    results: tuple[RunFinished, ...] = field(default_factory=tuple)


Event = (
    RunStarted
    | StepLogged
    | EpochEnded
    | RunStatusChanged
    | InternalsLogged
    | SharpnessLogged
    | RunFinished
    | ExperimentFinished
)
Listener = Callable[[Event], None]


# ---------------------------------------------------------------------------- searches


@dataclass(frozen=True)
class SearchPlan:
    """One study of a search, as shown before launch."""

    method: str  # grid, random or bayes; also the label of its runs and results
    study: str
    n_trials: int
    epochs: int  # the most epochs one trial trains
    budget_epochs: int  # trial-epochs if nothing is pruned: trials × epochs
    cells: int | None  # grid cells (grid only)


@dataclass(frozen=True)
class TrialRecord:
    """One trial as stored: what the tables, files, TUI and expectations read."""

    study: str
    number: int
    state: str  # Optuna's: COMPLETE, PRUNED, FAIL, RUNNING, WAITING
    status: str  # ours: completed, pruned, diverged, failed, running, waiting, interrupted
    value: float | None
    params: dict[str, Any]  # dotted key → value (stored JSON text unless decoded)
    epochs: int
    seconds: float
    pruned_at: int | None
    reason: str
    history: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    attempts: int = 1

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's metrics ({} before the first epoch)."""
        return self.history[-1] if self.history else {}


@dataclass(frozen=True)
class SearchOutcome:
    """A finished (or stopped) study: its trials, the best, its test score and importance."""

    plan: SearchPlan
    status: str  # completed, stopped or interrupted
    direction: str
    records: tuple[TrialRecord, ...]
    best: TrialRecord | None
    best_config: dict[str, Any] | None
    test: RunFinished | None  # the best configuration retrained once, evaluated on test once
    importance: dict[str, float] | None
    importance_note: str

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.records)

    @property
    def seconds(self) -> float:
        """Total training time of the trials (evaluation excluded)."""
        return sum(r.seconds for r in self.records)

    @property
    def trial_epochs(self) -> int:
        return sum(r.epochs for r in self.records)


@dataclass(frozen=True)
class TrialStarted:
    study: str
    number: int
    run: str  # the run name of this trial's training events
    params: dict[str, Any]
    attempt: int


@dataclass(frozen=True)
class TrialFinished:
    record: TrialRecord


@dataclass(frozen=True)
class ImportanceUpdated:
    """Optuna's importance over one study's finished trials (None, with why, until it exists)."""

    study: str
    importance: dict[str, float] | None
    note: str


@dataclass(frozen=True)
class StudyFinished:
    outcome: SearchOutcome


SearchEvent = Event | TrialStarted | TrialFinished | ImportanceUpdated | StudyFinished
SearchListener = Callable[[SearchEvent], None]
