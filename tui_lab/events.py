"""The event stream: the only thing the engine says to the CLI, the exporter and the TUI.

Events are small frozen dataclasses of plain numbers, safe to hand across threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pending", "running", "paused", "completed", "stopped", "interrupted",
                 "diverged", "failed"]  # fmt: skip
FINAL_STATUSES = ("completed", "stopped", "interrupted", "diverged", "failed")


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
class ExperimentFinished:
    status: Literal["completed", "stopped", "interrupted"]
    results: tuple[RunFinished, ...] = field(default_factory=tuple)


Event = RunStarted | StepLogged | EpochEnded | RunStatusChanged | RunFinished | ExperimentFinished
Listener = Callable[[Event], None]
