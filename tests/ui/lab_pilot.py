"""Driving the lab in tests: a tiny comparison, launching it and waiting for what it shows."""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time

from support import TINY_MLP
from textual import events

from tui_lab.config import Expectation, ExperimentConfig, RunSpec
from tui_lab.events import ImportanceUpdated, TrialFinished, TrialRecord
from tui_lab.system import SystemMonitor, SystemReading
from tui_lab.ui.state.draft import get_value
from tui_lab.ui.widgets.config_panels import ConfigPanel, choice_label, field_id, value_text

SIZE = (120, 40)
TINY = TINY_MLP
LONG = {**TINY, "training.epochs": 10_000, "training.log_every": 1}  # never ends by itself


def run(coro):
    return asyncio.run(coro)


async def wait_until(pilot, predicate, timeout: float = 30.0, what: object = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what or "condition not reached in time"
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


def sweep_preset() -> ExperimentConfig:
    """grid_vs_random in small: one space, two methods, the same budget."""
    return ExperimentConfig.model_validate(
        {
            "name": "snapshot_sweep",
            "base": {"data": {"dataset": "synthetic"}, "training": {"epochs": 2, "device": "cpu"}},
            "search": {
                "method": ["grid", "random"],
                "space": {
                    "optimizer.lr": {
                        "type": "float",
                        "low": 0.0001,
                        "high": 0.1,
                        "log": True,
                        "grid": [0.0001, 0.001, 0.01, 0.1],
                    },
                    "training.batch_size": {"type": "categorical", "choices": [32, 64, 128]},
                    "model.dropout": {"type": "float", "low": 0.0, "high": 0.5, "grid": [0.0, 0.5]},
                },
            },
        }
    )


def fake_sweep() -> list:
    """24 finished trials per method (fixed values: accuracy peaks at lr 0.01, dropout hurts
    a little), and each study's importance."""
    events: list = []
    lrs, batches, drops = (0.0001, 0.001, 0.01, 0.1), (32, 64, 128), (0.0, 0.5)
    for method in ("grid", "random"):
        study = f"snapshot_sweep-{method}"
        for n in range(24):
            if method == "grid":
                lr, batch, drop = lrs[n // 6], batches[(n // 2) % 3], drops[n % 2]
            else:
                lr = 10 ** (-4 + 3 * ((n * 7) % 24) / 23)
                batch, drop = batches[(n * 5) % 3], 0.5 * ((n * 11) % 24) / 23
            value = 0.9 - 0.15 * abs(math.log10(lr) + 2) - 0.08 * drop - 0.0004 * (batch - 32)
            params = {"optimizer.lr": lr, "training.batch_size": batch, "model.dropout": drop}
            record = TrialRecord(study, n, "COMPLETE", "completed", value, params, 2, 4.0, None, "")
            events.append(TrialFinished(record))
        importance = {"optimizer.lr": 0.78, "model.dropout": 0.15, "training.batch_size": 0.07}
        events.append(ImportanceUpdated(study, importance, ""))
    return events


async def pick_preset(pilot, name: str) -> None:
    """ctrl+o, then the preset ``name`` chosen in the picker."""
    await pilot.press("ctrl+o")
    await pilot.pause()
    options = pilot.app.screen.query_one("#preset-options")
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    options.highlighted = ids.index(name)
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.model.draft.preset.name == name)
    await pilot.pause()


def form_mismatches(screen) -> list[tuple[str, str, str]]:
    """Every field of every panel (shown tab or not) whose widget does not hold the selected
    run's value: (key, shown, config)."""
    cfg = screen.draft.current
    wrong = []
    for panel in screen.query(ConfigPanel):
        for key, spec in panel.fields.items():
            widget = panel.query_one(f"#{field_id(key)}")
            want = choice_label(spec, cfg) if spec.choices else value_text(get_value(cfg, key))
            if str(widget.value) != want:
                wrong.append((key, str(widget.value), want))
    return wrong


class PaintClock:
    """Key-to-paint latency: the time from a key press to the first frame the app paints that
    shows what the key did (``App._display`` is where Textual hands a frame to the terminal)."""

    def __init__(self, app) -> None:
        self.app = app
        self._shows = None
        self.painted: float | None = None
        display = app._display

        def timed(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None and self._shows is not None and self._shows():
                self.painted, self._shows = time.perf_counter(), None

        app._display = timed

    async def key_to_paint(self, pilot, key: str, shows) -> float:
        """Seconds from pressing ``key`` until a frame is painted while ``shows()`` is true.
        The key goes in as the terminal driver sends it (``pilot.press`` would wait for the
        process to idle, which it never does while runs train)."""
        self.painted, self._shows = None, shows
        char = key if len(key) == 1 else None
        name = {".": "full_stop"}.get(key, key)
        start = time.perf_counter()
        self.app.post_message(events.Key(name, char))
        await wait_until(pilot, lambda: self.painted is not None, timeout=10)
        return self.painted - start


async def walk_keys(app, pilot) -> dict[str, list[float]]:
    """Key-to-paint seconds of what a user does most: the view keys, typing a learning rate,
    cycling the Compare view's tables. Starts in the Lab; asserts each key did its work."""
    clock = PaintClock(app)

    async def press(key: str, shows) -> float:
        return await clock.key_to_paint(pilot, key, shows)

    def showing(mode: str):
        return lambda: app.current_mode == mode

    times: dict[str, list[float]] = {"view keys": [], "typing": [], "compare keys": []}
    for key, mode in [("f2", "lab"), ("f5", "search"), ("f4", "toy"), ("f6", "analysis")]:
        times["view keys"].append(await press(key, showing(mode)))
        times["view keys"].append(await press("f3", showing("compare")))
    await press("f2", showing("lab"))
    lr = app.screen.query_one("#field-optimizer-lr")
    app.screen.query_one("#panels").active = "tab-optimizer"
    lr.value = ""
    lr.focus()
    await pilot.pause(0.5)  # the tab's notes are drawn before the first key
    for char in "0.002":
        text = lr.value + char
        times["typing"].append(await press(char, lambda t=text: lr.value == t))
    assert app.model.draft.current.optimizer.lr == 0.002
    assert app.focused is lr
    await press("f3", showing("compare"))
    tables = app.screen.query_one("#tables")
    for _ in range(4):
        before = tables.active
        times["compare keys"].append(await press("t", lambda b=before: tables.active != b))
    return times


def latency_lines(times: dict[str, list[float]]) -> list[str]:
    """The walk's latencies as printed: each group's keys in order, then the median and max."""
    every = [t for ts in times.values() for t in ts]
    return [
        *(
            f"{what}: " + " ".join(f"{1000 * t:.0f}" for t in ts) + " ms"
            for what, ts in times.items()
        ),
        f"median {1000 * statistics.median(every):.0f} ms, max {1000 * max(every):.0f} ms",
    ]
