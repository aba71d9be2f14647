"""SVG snapshots of the lab's main views at fixed sizes, from a deterministic state: the
Compare view is fed fixed synthetic events (no training, no timing), the toy view a finished
walk. Update with ``pytest tests/test_ui_snapshots.py --snapshot-update`` after a deliberate
UI change, and look at the report before committing the new SVGs."""

from __future__ import annotations

import math

import pytest

from tui_lab.config import ExperimentConfig, RunSpec, Toy2DConfig
from tui_lab.events import (
    EpochEnded,
    Event,
    ExperimentFinished,
    RunFinished,
    RunStarted,
    RunStatusChanged,  # fmt: skip
    StepLogged,
)
from tui_lab.toy2d import Toy2DProblem
from tui_lab.ui.app import LabApp
from tui_lab.ui.session import Comparison
from tui_lab.ui.toy_screen import ToyAnimation

OVERRIDES = {"data.dataset": "synthetic", "training.device": "cpu", "training.epochs": 4}
RUNS = {"adam": 0.35, "rmsprop": 0.5, "sgd_momentum": 0.8}  # loss decay speed of each fake run
STEPS_PER_EPOCH, EPOCHS = 50, 4


def preset() -> ExperimentConfig:
    return ExperimentConfig(
        name="snapshot_compare",
        description="Three optimizers on the synthetic blobs (fixed events for snapshots)",
        runs=[RunSpec(name=n, set={"optimizer.name": n.split("_")[0].replace("sgd", "momentum")})
              for n in RUNS],
    )  # fmt: skip


def fake_events(progress: float) -> list[Event]:
    """A comparison ``progress`` of the way through: smooth deterministic curves per run."""
    events: list[Event] = []
    total = STEPS_PER_EPOCH * EPOCHS
    last = int(total * progress)
    for i, (name, speed) in enumerate(RUNS.items()):
        events.append(RunStarted(name, i, {"training": {"target_acc": 0.85}}, STEPS_PER_EPOCH,
                                 total, 12_730, "cpu", "fp32"))  # fmt: skip
        events.append(RunStatusChanged(name, "running"))
        lr = 1e-3 if i < 2 else 1e-2
        for step in range(5, last + 1, 5):
            t = step / STEPS_PER_EPOCH
            loss = 0.3 + 2.0 * math.exp(-t / speed) + 0.05 * math.sin(step)
            events.append(StepLogged(name, step, t, loss, lr * 0.5 ** math.floor(t), 5000.0, step / 100))
            if step % STEPS_PER_EPOCH == 0:
                e = step // STEPS_PER_EPOCH
                val = 0.95 - 0.5 * math.exp(-e / speed)
                events.append(EpochEnded(name, e, step, loss, val - 0.02, loss * 1.1, val,
                                         lr * 0.5 ** e, step / 100, 0.5))  # fmt: skip
        if progress >= 1:
            events.append(RunStatusChanged(name, "completed"))
            events.append(RunFinished(name, "completed", EPOCHS, total, total / 100, 0.94 - 0.01 * i,
                                      0.35 + 0.02 * i, 0.93 - 0.01 * i, 2 + i))  # fmt: skip
    if progress >= 1:
        events.append(ExperimentFinished("completed"))
    return events


def compare_at(progress: float, table: str = "tab-runs"):
    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        comparison = Comparison(app.draft.experiment_config(), app, ["tui-lab"])
        comparison.relay.queue.extend(fake_events(progress))
        comparison.absorb()
        app.comparison = comparison
        app.switch_mode("compare")
        await pilot.pause()
        app.screen.query_one("#tables").active = table
        await pilot.pause()
        app.screen.redraw()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_lab_view(snap_compare, size):
    assert snap_compare(LabApp(preset(), OVERRIDES), terminal_size=size)


def test_lab_optimizer_panel(snap_compare):
    async def run_before(pilot) -> None:
        pilot.app.screen.query_one("#panels").active = "tab-optimizer"
        await pilot.pause()

    assert snap_compare(LabApp(preset(), OVERRIDES), terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_compare_mid_training(snap_compare, size):
    assert snap_compare(LabApp(preset(), OVERRIDES), terminal_size=size, run_before=compare_at(0.6))


def test_results_table(snap_compare):
    app = LabApp(preset(), OVERRIDES)
    assert snap_compare(app, terminal_size=(120, 40), run_before=compare_at(1.0, "tab-results"))


def test_toy_2d_view(snap_compare):
    cfg = ExperimentConfig(name="toy_2d", toy2d=Toy2DConfig(function="lecture"))

    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        assert cfg.toy2d is not None
        animation = ToyAnimation(Toy2DProblem.from_config(cfg.toy2d), app, seconds=0.0)
        animation.walk_all()
        animation.absorb()
        app.toy = animation
        app.switch_mode("toy")
        await pilot.pause()
        app.screen.redraw()
        await pilot.pause()

    assert snap_compare(LabApp(cfg, {}), terminal_size=(120, 40), run_before=run_before)
