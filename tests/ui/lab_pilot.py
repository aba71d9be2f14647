"""Driving the lab in tests: a tiny comparison, launching it and waiting for what it shows."""

from __future__ import annotations

import asyncio
import time

from support import TINY_MLP

from tui_lab.config import Expectation, ExperimentConfig, RunSpec

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
