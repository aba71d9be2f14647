"""Driving the lab in tests: a tiny comparison, launching it and waiting for what it shows."""

from __future__ import annotations

import asyncio
import os
import time

from support import TINY_MLP

from tui_lab.config import Expectation, ExperimentConfig, RunSpec
from tui_lab.system import SystemMonitor, SystemReading

SIZE = (120, 40)
TINY = TINY_MLP
LONG = {**TINY, "training.epochs": 10_000, "training.log_every": 1}  # never ends by itself


def run(coro):
    return asyncio.run(coro)


async def wait_until(pilot, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.05)


async def launch_and_finish(app, pilot) -> None:
    """Launch (ctrl+r) and wait until training has ended and its last events are shown."""
    await pilot.press("ctrl+r")
    await app.workers.wait_for_complete()
    await pilot.pause(0.5)


async def launch_until_training(app, pilot, logged: int = 1):
    """Launch and wait until every run has logged ``logged`` steps; returns the runs' states."""
    await pilot.press("ctrl+r")
    runs = app.model.comparison.state.runs
    await wait_until(pilot, lambda: all(len(r.steps) >= logged for r in runs.values()))
    return runs


def two_runs() -> ExperimentConfig:
    return ExperimentConfig(
        name="pair",
        runs=[
            RunSpec(name="adam", set={"optimizer.name": "adam"}),
            RunSpec(name="sgd", set={"optimizer.name": "momentum", "optimizer.lr": 0.05}),
        ],
        expect=[
            Expectation(text="every run finishes", check="completed('adam') and completed('sgd')")
        ],
    )


class FixedSystem(SystemMonitor):
    """A system pane that always reads the same (snapshots must not show this machine)."""

    def __init__(self, reading: SystemReading | None = None) -> None:
        super().__init__(nvml=None)
        self.reading = reading or SystemReading(
            pid=os.getpid(),
            alive=True,
            cpu_percent=98.0,
            cores=2,
            rss=612 * 2**20,
            threads=7,
            memory_total=16 * 2**30,
            load=1.02,
            gpu_note="no GPU readings: nvidia-ml-py is not installed",
        )

    def read(self) -> SystemReading:
        return self.reading
