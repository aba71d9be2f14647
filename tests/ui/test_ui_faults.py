"""The lab survives what terminals and users do: resizing mid-training, a second launch, a run
that raises in its thread, no colour; and keys are answered promptly while training."""

from __future__ import annotations

import asyncio
import time

from lab_pilot import (
    LONG,
    SIZE,
    TINY,
    launch_and_finish,
    launch_until_training,
    run,
    two_runs,
    wait_until,
)
from textual import events

from tui_lab.ui.app import LabApp


def test_resize_down_to_40x12_and_back_while_training():
    async def scenario():
        app = LabApp(two_runs(), LONG)
        async with app.run_test(size=SIZE) as pilot:
            runs = await launch_until_training(app, pilot)
            for size in ((80, 24), (40, 12), (120, 40)):
                await pilot.resize_terminal(*size)
                await pilot.pause(0.6)  # at least one chart redraw at each size
            step = runs["adam"].last_step.step
            await wait_until(pilot, lambda: runs["adam"].last_step.step > step)
            assert app.screen.size == SIZE
            await pilot.press("ctrl+q")

    run(scenario())


def test_starting_twice_keeps_one_training_worker():
    async def scenario():
        app = LabApp(two_runs(), LONG)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+r")
            await wait_until(
                pilot, lambda: app.model.comparison is not None and app.model.comparison.state.runs
            )
            first = app.model.comparison
            await pilot.press("f2", "ctrl+r")
            await pilot.pause(0.3)
            assert app.model.comparison is first
            assert len([w for w in app.workers if w.group == "training" and not w.is_finished]) == 1
            assert any("running" in n.message for n in app._notifications)
            await pilot.press("ctrl+q")

    run(scenario())


def test_a_run_that_raises_in_its_thread_fails_alone(monkeypatch):
    from tui_lab.training.run import Run

    real = Run._train_steps

    def flaky(self, steps):
        if self.name == "sgd" and self.step >= 4:
            raise RuntimeError("boom inside the training thread")
        return real(self, steps)

    monkeypatch.setattr(Run, "_train_steps", flaky)

    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=SIZE) as pilot:
            await launch_and_finish(app, pilot)
            runs = app.model.comparison.state.runs
            assert runs["sgd"].status == "failed" and "boom" in runs["sgd"].error
            assert runs["adam"].status == "completed"
            assert any("boom" in n.message for n in app._notifications)
            assert app.is_running

    run(scenario())


def test_no_color_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.no_color
            await launch_and_finish(app, pilot)
            assert [r.status for r in app.model.comparison.state.runs.values()] == ["completed"] * 2

    run(scenario())


def test_keys_are_answered_while_training():
    """Each key's effect shows while two runs train (how fast: bench/key_latency.py)."""

    async def scenario():
        app = LabApp(two_runs(), LONG)
        async with app.run_test(size=SIZE) as pilot:
            await launch_until_training(app, pilot, logged=4)
            seen, delays = [], []
            for _ in range(7):  # a key event as the terminal driver delivers it (pilot.press
                before = app.model.x_axis  # also waits for the app to go idle: never, here)
                started = time.perf_counter()
                app.post_message(events.Key("x", "x"))
                while app.model.x_axis == before and time.perf_counter() - started < 10:
                    await asyncio.sleep(0.002)
                seen.append(app.model.x_axis != before)
                delays.append(time.perf_counter() - started)
                await asyncio.sleep(0.1)
            statuses = [r.status for r in app.model.comparison.state.runs.values()]
            await pilot.press("ctrl+q")
            return seen, delays, statuses

    seen, delays, statuses = run(scenario())
    print("key to effect: " + " ".join(f"{1000 * d:.0f}" for d in delays) + " ms")
    assert all(seen), delays
    assert statuses == ["running", "running"]
