"""SVG snapshots of the lab's main views at fixed sizes, from a deterministic state: the
Compare view is fed fixed synthetic events (no training, no timing), the toy view a finished
walk, the Search view fixed trial records. After a deliberate UI change, update with
``pytest tests/ui/test_ui_snapshots.py --snapshot-update`` and look at the report before
committing the new SVGs."""

from __future__ import annotations

import dataclasses
import math

import pytest
from lab_pilot import FixedSystem, fake_sweep, sweep_preset

from tui_lab.config import Expectation, ExperimentConfig, RunSpec, Toy2DConfig
from tui_lab.events import (
    EpochEnded,
    Event,
    ExperimentFinished,
    ImportanceUpdated,
    InternalsLogged,
    LayerInternals,
    RunFinished,
    RunStarted,
    RunStatusChanged,
    SharpnessLogged,
    StepLogged,
    TrialFinished,
    TrialRecord,
    TrialStarted,
)
from tui_lab.presets import load_preset
from tui_lab.system import GpuReading
from tui_lab.ui.app import LabApp
from tui_lab.ui.replay import show_recorded, show_trials, show_walked


def lab_app(cfg: ExperimentConfig, overrides: dict, system: FixedSystem | None = None) -> LabApp:
    """The lab with a system pane that reads the same every time."""
    return LabApp(cfg, overrides, system=system or FixedSystem())


OVERRIDES = {
    "data.dataset": "synthetic",
    "training.device": "cpu",
    "training.epochs": 4,
    "training.seeds": 1,
}
RUNS = {"adam": 0.35, "rmsprop": 0.5, "sgd_momentum": 0.8}  # loss decay speed of each fake run
STEPS_PER_EPOCH, EPOCHS = 50, 4


def preset() -> ExperimentConfig:
    return ExperimentConfig(
        name="snapshot_compare",
        description="Three optimizers on the synthetic blobs (fixed events for snapshots)",
        runs=[
            RunSpec(name=n, set={"optimizer.name": n.split("_")[0].replace("sgd", "momentum")})
            for n in RUNS
        ],
        expect=[
            Expectation(
                text="every optimizer reaches 90% test accuracy",
                check="min(run('adam').test_acc, run('sgd_momentum').test_acc) >= 0.9",
            ),
            Expectation(
                text="Adam reaches 95% validation accuracy first",
                check="epochs_to('adam', 0.95) < epochs_to('sgd_momentum', 0.95)",
            ),
            Expectation(
                text="on CIFAR-10 the CNN stays below 80%",
                check="run('adam').test_acc < 0.8",
                datasets=["cifar10"],
            ),
        ],
    )


def fake_look(name: str, step: int, optimizer: str) -> InternalsLogged:
    """A look inside ``optimizer`` at ``step``: a shrinking gradient, Adam's bias corrections
    and a momentum buffer where the rule keeps them."""
    g = 3.0 / (1 + step / 40)
    adam = optimizer == "adam"
    layers = tuple(
        LayerInternals(layer, g / (k + 1), 1e-3 / (k + 1), 1e-3 * (k + 1), 2e-4, 5e-3 * (k + 1))
        for k, layer in enumerate(("0 Linear", "2 Linear"))
    )
    return InternalsLogged(
        name,
        step,
        g,
        1.2e-3,
        None if optimizer == "rmsprop" else 0.5 + step / 400,
        1 / (1 - 0.9**step) if adam else None,
        1 / (1 - 0.999**step) if adam else None,
        layers,
    )


def fake_events(progress: float, runs: dict[str, float] = RUNS, seeds: int = 1) -> list[Event]:
    """A comparison ``progress`` of the way through: smooth deterministic curves per run, a look
    inside its optimizer every 25 steps and its sharpness every 50; with ``seeds`` each
    configuration's runs ``name@seed`` differ by a seed's offset."""
    events: list[Event] = []
    total = STEPS_PER_EPOCH * EPOCHS
    last = int(total * progress)
    named = [
        (n if seeds == 1 else f"{n}@{s}", speed, s)
        for n, speed in runs.items()
        for s in range(seeds)
    ]
    for i, (name, speed, seed) in enumerate(named):
        optimizer = name.split("_")[0].split("@")[0]
        training = {"target_acc": 0.85, "internals_every": 25, "sharpness_every": 50}
        events.append(
            RunStarted(
                name,
                i,
                {"training": training, "data": {"dataset": "fashion_mnist"}},
                STEPS_PER_EPOCH,
                total,
                12_730,
                "cpu",
                "fp32",
            )
        )
        events.append(RunStatusChanged(name, "running"))
        lr = 1e-3 if optimizer != "sgd" else 1e-2
        offset = 0.0 if seeds == 1 else 0.06 * (seed - 1) + 0.02 * seed**2
        for step in range(5, last + 1, 5):
            t = step / STEPS_PER_EPOCH
            loss = 0.3 + offset + 2.0 * math.exp(-t / speed) + 0.05 * math.sin(step + seed)
            events.append(
                StepLogged(name, step, t, loss, lr * 0.5 ** math.floor(t), 5000.0, step / 100)
            )
            if step % 25 == 0:
                events.append(fake_look(name, step, optimizer))
            if step % 50 == 0:
                two_over_lr = 2 / (lr * 0.5 ** math.floor(t))
                events.append(SharpnessLogged(name, step, 30 + 40 * t + 10 * seed, two_over_lr))
            if step % STEPS_PER_EPOCH == 0:
                e = step // STEPS_PER_EPOCH
                val = 0.95 - 0.5 * math.exp(-e / speed) - offset / 4
                events.append(
                    EpochEnded(
                        name,
                        e,
                        step,
                        loss,
                        val - 0.02,
                        loss * 1.1,
                        val,
                        lr * 0.5**e,
                        step / 100,
                        0.5,
                    )
                )
        if progress >= 1:
            events.append(RunStatusChanged(name, "completed"))
            spread = 0.0 if seeds == 1 else 0.01 * (seed - 1) - 0.004 * seed**2
            events.append(
                RunFinished(
                    name,
                    "completed",
                    EPOCHS,
                    total,
                    total / 100,
                    0.94 - 0.01 * i + spread,
                    0.35 + 0.02 * i - spread,
                    0.93 - 0.01 * i + spread,
                    2 + i,
                )
            )
    if progress >= 1:
        events.append(ExperimentFinished("completed"))
    return events


def compare_at(progress: float, table: str = "tab-runs", seeds: int = 1):
    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        show_recorded(app, fake_events(progress, seeds=seeds))
        await pilot.pause()
        app.screen.query_one("#tables").active = table
        await pilot.pause()
        app.screen.redraw()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_lab_view(snap_compare, size):
    assert snap_compare(lab_app(preset(), OVERRIDES), terminal_size=size)


def test_lab_optimizer_panel(snap_compare):
    async def run_before(pilot) -> None:
        pilot.app.screen.query_one("#panels").active = "tab-optimizer"
        await pilot.pause()

    assert snap_compare(
        lab_app(preset(), OVERRIDES), terminal_size=(120, 40), run_before=run_before
    )


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_compare_mid_training(snap_compare, size):
    assert snap_compare(
        lab_app(preset(), OVERRIDES), terminal_size=size, run_before=compare_at(0.6)
    )


def test_results_table(snap_compare):
    app = lab_app(preset(), OVERRIDES)
    assert snap_compare(app, terminal_size=(120, 40), run_before=compare_at(1.0, "tab-results"))


def test_expectations_tab(snap_compare):
    """Once every run has finished, the preset's expectations with met / not met."""
    app = lab_app(preset(), OVERRIDES)
    assert snap_compare(
        app, terminal_size=(120, 40), run_before=compare_at(1.0, "tab-expectations")
    )


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_internals_tab(snap_compare, size):
    """Adam's looks inside its optimizer and its sharpness against 2/η, mid-training."""
    app = lab_app(preset(), OVERRIDES)
    assert snap_compare(app, terminal_size=size, run_before=compare_at(0.6, "tab-internals"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_compare_over_seeds(snap_compare, size):
    """Three configurations × three seeds: means between 95% bands, mean ± CI in the table."""
    app = lab_app(preset(), {**OVERRIDES, "training.seeds": 3})
    assert snap_compare(app, terminal_size=size, run_before=compare_at(0.6, seeds=3))


def test_system_tab_with_a_gpu(snap_compare):
    """The System tab and the line above the charts, with NVML's readings of one GPU."""
    gpu = GpuReading(0, "NVIDIA H200", 87.0, 40 * 2**30, 140 * 2**30, 54.0, 310.0, 700.0)
    system = FixedSystem()
    system.reading = dataclasses.replace(system.reading, gpus=(gpu,), gpu_note="")
    app = lab_app(preset(), OVERRIDES, system)
    assert snap_compare(app, terminal_size=(120, 40), run_before=compare_at(0.6, "tab-system"))


def test_toy_2d_view(snap_compare):
    cfg = ExperimentConfig(name="toy_2d", toy2d=Toy2DConfig(function="lecture"))

    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        show_walked(app, cfg)
        await pilot.pause()
        await app.screen.redraw()
        await pilot.pause()

    assert snap_compare(lab_app(cfg, {}), terminal_size=(120, 40), run_before=run_before)


def search_preset() -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "name": "snapshot_search",
            "description": "Random search with median pruning (fixed trials)",
            "base": {"data": {"dataset": "synthetic"}, "training": {"epochs": 3, "device": "cpu"}},
            "search": {
                "method": "random",
                "n_trials": 12,
                "pruner": "median",
                "space": {
                    "optimizer.lr": {"type": "float", "low": 0.0003, "high": 0.1, "log": True},
                    "training.batch_size": {"type": "categorical", "choices": [32, 64, 128]},
                    "model.dropout": {"type": "float", "low": 0.0, "high": 0.5},
                },
            },
        }
    )


def fake_trials(done: int = 10) -> list:
    """``done`` finished trials (two pruned, one diverged), importance, and a running trial."""
    events: list = []
    for n in range(done + 1):
        lr = 10 ** (-3.5 + 2.5 * ((n * 7) % 10) / 9)
        params = {
            "optimizer.lr": lr,
            "training.batch_size": (32, 64, 128)[n % 3],
            "model.dropout": 0.05 * ((n * 3) % 10),
        }
        events.append(TrialStarted("snapshot_search", n, f"random {n}", params, 1))
        if n == done:
            break
        final = 0.92 - 0.12 * abs(math.log10(lr) + 2.3) - 0.1 * params["model.dropout"]
        status, epochs, pruned_at, reason = "completed", 3, None, ""
        if n in (3, 7):
            status, epochs, pruned_at, reason = "pruned", 1, 1, "pruned after epoch 1"
        if n == 5:
            status, epochs, reason = "diverged", 1, "loss became NaN/inf at step 40"
        history = tuple(
            {
                "epoch": e,
                "step": 50 * e,
                "train_loss": 1.6 / e,
                "train_acc": final - 0.1 / e,
                "val_loss": 1.5 / e,
                "val_acc": final - 0.15 / e + 0.05,
                "lr": lr,
                "seconds": 2.0 * e,
                "epoch_seconds": 2.0,
            }
            for e in range(1, epochs + 1)
        )
        value = 0.0 if status == "diverged" else history[-1]["val_acc"]
        state = "PRUNED" if status == "pruned" else "COMPLETE"
        events.append(
            TrialFinished(
                TrialRecord(
                    "snapshot_search",
                    n,
                    state,
                    status,
                    value,
                    params,
                    epochs,
                    2.0 * epochs,
                    pruned_at,
                    reason,
                    history,
                )
            )
        )
    events.append(
        ImportanceUpdated(
            "snapshot_search",
            {"optimizer.lr": 0.71, "model.dropout": 0.21, "training.batch_size": 0.08},
            "",
        )
    )
    live = [e for e in fake_events(0.6) if getattr(e, "run", None) == "adam"]  # the running trial
    return events + [dataclasses.replace(e, run=f"random {done}") for e in live]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_search_view(snap_compare, size):
    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        show_trials(app, search_preset(), fake_trials())
        await pilot.pause()
        app.screen.redraw()
        await pilot.pause()

    assert snap_compare(lab_app(search_preset(), {}), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_sweep_analysis_view(snap_compare, size):
    """Grid and random search compared: best so far per trial-epoch, parallel coordinates,
    slices, the heat-map of the two parameters that mattered most, importance."""

    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        session = show_trials(app, sweep_preset(), fake_sweep())
        session.status = "completed"
        await app.switch_mode("analysis")
        await pilot.pause()
        app.screen.redraw()
        await pilot.pause()

    assert snap_compare(lab_app(sweep_preset(), {}), terminal_size=size, run_before=run_before)


def test_live_toy_at_80x24(snap_compare):
    """The toy edited live: momentum's η raised past its bound along x2, its note beside."""
    cfg = load_preset("toy_2d")

    async def run_before(pilot) -> None:
        app: LabApp = pilot.app
        session = show_walked(app, cfg)
        session.selected = 1
        session.set_hyperparameter(1, "lr", 0.9)
        app.walk_toy(session)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.screen.redraw()
        await pilot.pause()

    assert snap_compare(lab_app(cfg, {}), terminal_size=(80, 24), run_before=run_before)
