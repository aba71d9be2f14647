"""Shared pieces of the benchmarks: the machine line, configs, and interleaved timing.

Every figure the benchmarks print is a ratio of two loops timed in the same process, with
their repetitions interleaved (A B A B ...) and summarized by the median, so that a machine
shared with other work slows both sides alike instead of biasing one of them.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any, Protocol

import torch

from tui_lab.config import RunConfig, apply_overrides
from tui_lab.training.numerics import cpu_supports_bf16
from tui_lab.training.run import Run

FASHION = {"data.dataset": "fashion_mnist", "training.device": "cpu"}


def machine() -> str:
    """One line naming what the numbers were measured on."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, bf16={'yes' if cpu_supports_bf16() else 'no'}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, load avg {load}"
    )


def run_config(overrides: dict[str, Any]) -> RunConfig:
    return apply_overrides(RunConfig(), {**FASHION, **overrides}, where="bench")


class Loop(Protocol):
    def prepare(self, steps: int) -> None:
        """Untimed work before the next ``train(steps)`` (e.g. a fresh run near an epoch end)."""

    def train(self, steps: int) -> int:
        """Train ``steps`` optimizer steps; returns the number of samples trained on."""


def interleaved(loops: dict[str, Loop], steps: int, reps: int) -> dict[str, float]:
    """Median samples/s of each loop, their repetitions alternated round-robin."""
    for loop in loops.values():  # warm-up: allocator, oneDNN primitive caches
        loop.prepare(5)
        loop.train(5)
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(reps):
        for name, loop in loops.items():
            loop.prepare(steps)
            t0 = time.perf_counter()
            samples = loop.train(steps)
            rates[name].append(samples / (time.perf_counter() - t0))
    return {name: statistics.median(r) for name, r in rates.items()}


def ratio_row(
    label: str, ratio: float, floor: float | None, detail: str
) -> tuple[str, str, str, str]:
    """One line of the final table: what, measured ratio, floor and pass/fail, the raw numbers."""
    verdict = (
        "" if floor is None else (f"≥{floor:g}× ok" if ratio >= floor else f"≥{floor:g}× MISSED")
    )
    return label, f"{ratio:.2f}×", verdict, detail


class EngineLoop:
    """The engine itself, headless: a ``Run`` advanced ``steps`` at a time, events discarded.

    A fresh run is built (untimed) whenever the next slice would cross the end of an epoch, so
    the timed slices hold training steps only, never the end-of-epoch evaluation.
    """

    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.run: Run | None = None

    def prepare(self, steps: int) -> None:
        parts = self.run.parts if self.run is not None else None
        if self.run is None or parts is None or self.run.step + steps >= parts.steps_per_epoch:
            self.run = Run("bench", self.cfg, 0, lambda event: None)
            self.run.setup()

    def chosen(self) -> str:
        """The numerics the run trains with."""
        self.prepare(1)
        assert self.run is not None and self.run.parts is not None
        return self.run.parts.numerics.label

    def train(self, steps: int) -> int:
        assert self.run is not None and self.run.parts is not None
        self.run.advance(steps)
        return steps * self.run.parts.batch_size
