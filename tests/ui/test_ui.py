"""Pilot tests of the Textual lab: edit options, launch short synthetic runs, control them,
read the results table and the exported files, and quit while training."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import pytest
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

from tui_lab.cli.main import main as cli_main
from tui_lab.config import ExperimentConfig, RunSpec, Toy2DConfig
from tui_lab.events import EpochEnded, StepLogged
from tui_lab.presets import load_preset
from tui_lab.ui.app import LabApp
from tui_lab.ui.screens.lab import RunsList
from tui_lab.ui.state.comparison import RunHistory, downsample, ema, series
from tui_lab.ui.state.draft import Draft
from tui_lab.ui.widgets.results import ExpectationsView, ResultsTable


def test_draft_round_trips_through_an_experiment_config():
    draft = Draft(load_preset("adam_vs_sgd"), TINY)
    draft.selected = 1
    draft.set_value("optimizer.lr", 0.02)
    draft.add_run()
    draft.rename("rmsprop_fast")
    assert draft.experiment_config().configurations() == draft.runs
    assert draft.names == ["adam", "rmsprop", "rmsprop_fast", "sgd_momentum"]


def test_the_lab_edits_configurations_and_a_launch_trains_each_with_every_seed():
    """adam_vs_sgd trains each configuration with 3 seeds: the Lab lists (and edits) the three
    configurations once, and the comparison it launches runs each as name@seed."""
    draft = Draft(load_preset("adam_vs_sgd"), TINY)
    assert draft.names == ["adam", "rmsprop", "sgd_momentum"]
    draft.edit_all = True
    draft.set_value("training.seeds", 2)
    runs = dict(draft.experiment_config().resolved_runs())
    names = ["adam@0", "adam@1", "rmsprop@0", "rmsprop@1", "sgd_momentum@0", "sgd_momentum@1"]
    assert list(runs) == names
    assert [cfg.training.seed for cfg in runs.values()] == [0, 1] * 3


def test_switching_optimizer_drops_the_settings_only_the_old_one_used():
    """momentum 0.8 set for SGD+momentum must not follow the run to Adam (it would be an error)."""
    draft = Draft(two_runs(), TINY)
    draft.set_value("optimizer.name", "momentum")
    draft.set_value("optimizer.momentum", 0.8)
    draft.set_value("optimizer.name", "adam")
    assert draft.current.optimizer.momentum is None and draft.current.optimizer.name == "adam"
    assert dict(draft.experiment_config().configurations())["adam"].optimizer.name == "adam"


def test_chart_series_are_smoothed_and_downsampled_for_display_only():
    history = RunHistory("a", 0)
    history.steps = [
        StepLogged("a", s, s / 10, 1.0 + (s % 2), 0.1, 100.0, s / 5) for s in range(1, 1001)
    ]
    xs, ys = series(history, "train_loss", "step", smooth=False, max_points=50)
    assert len(xs) <= 50 and xs[-1] == 1000 and set(ys) <= {1.0, 2.0}
    _, smooth = series(history, "train_loss", "step", smooth=True, max_points=2000)
    assert max(smooth[100:]) - min(smooth[100:]) < 0.5  # the zig-zag is averaged out
    _, lr = series(history, "lr", "seconds", smooth=False, max_points=10)
    assert lr == [pytest.approx(-1.0)] * len(lr)
    assert ema([2.0, 2.0]) == [pytest.approx(2.0), pytest.approx(2.0)]
    assert downsample([1, 2, 3], [1, 2, 3], 5) == ([1, 2, 3], [1, 2, 3])
    history.epochs = [EpochEnded("a", 1, 10, 1.0, 0.5, math.nan, None, 0.1, 1.0, 1.0)]
    assert series(history, "val_loss", "epoch", False, 10) == ([], [])


def test_choose_options_launch_compare_and_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            lab = app.screen
            # edit the selected run (adam) through its panel, then add a third run
            lab.query_one("#panels").active = "tab-optimizer"
            await pilot.pause()
            lab.query_one("#field-optimizer-lr").value = "0.003"
            await pilot.pause()
            assert app.model.draft.runs[0][1].optimizer.lr == 0.003
            assert app.model.draft.runs[1][1].optimizer.lr == 0.05
            bad = lab.query_one("#field-optimizer-lr")
            bad.value = "-1"
            await pilot.pause()
            assert bad.has_class("-invalid") and lab.query_one("#form-error").display
            bad.value = "0.003"
            await pilot.pause()
            lab.query_one(RunsList).focus()
            await pilot.press("a")
            await pilot.pause()
            assert app.model.draft.names == ["adam", "adam_2", "sgd"]
            lab.query_one("#field-optimizer-name").value = "rmsprop"
            await pilot.pause()
            assert app.model.draft.runs[1][1].optimizer.name == "rmsprop"
            assert app.model.draft.names == ["adam", "rmsprop_2", "sgd"]  # named after it
            assert lab.query_one("#field-optimizer-rho")  # the panel shows RMSprop's knobs now

            await launch_and_finish(app, pilot)
            compare = app.screen
            assert type(compare).__name__ == "CompareScreen"
            state = app.model.comparison.state
            assert [r.status for r in state.runs.values()] == ["completed"] * 3
            table = compare.query_one(ResultsTable)
            assert table.row_count == 3
            row = table.get_row("rmsprop_2")
            assert str(row[1]) == "completed" and row[2].endswith("%")
            tables = compare.query_one("#tables")  # the Results tab opens once training is over
            await wait_until(pilot, lambda: tables.active == "tab-results", timeout=15)
            await pilot.press("t")  # then the preset's expectations, checked on the results
            assert tables.active == "tab-expectations"
            await wait_until(
                pilot,
                lambda: (
                    "1 of 1 expectations met" in str(compare.query_one(ExpectationsView).render())
                ),
            )

            await pilot.press("x", "m")
            assert (app.model.x_axis, app.model.smooth) == ("epoch", True)
            await pilot.press("e")  # in a worker thread: the figures take a second or two

            def told() -> bool:
                return any(str(n.message).startswith("Wrote CSV") for n in app._notifications)

            await wait_until(pilot, told)
            return app.model.last_export

    out = run(scenario())
    assert out is not None and out.parent == Path("runs")
    headless = tmp_path / "headless"
    sets = [f"--set={k}={v}" for k, v in TINY.items()]
    preset = tmp_path / "pair.toml"
    preset.write_text(
        'name = "pair"\n[[runs]]\nname = "adam"\nset = { "optimizer.name" = "adam" }\n'
        '[[runs]]\nname = "sgd"\nset = { "optimizer.name" = "momentum", "optimizer.lr" = 0.05 }\n'
    )
    assert (
        cli_main(["--preset", str(preset), *sets, "--export", "csv", "--out", str(headless)]) == 0
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in headless.iterdir())
    with open(out / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["run"] for r in rows] == ["adam", "rmsprop_2", "sgd"]
    assert all(r["status"] == "completed" and float(r["test_acc"]) > 0 for r in rows)
    assert (headless / "summary.csv").read_text().splitlines()[0] == (
        out / "summary.csv"
    ).read_text().splitlines()[0]


def test_pause_resume_and_stop_each_run_and_all():
    async def scenario():
        app = LabApp(two_runs(), LONG)
        async with app.run_test(size=SIZE) as pilot:
            runs = await launch_until_training(app, pilot)
            await pilot.press("space")  # the runs table's cursor is on the first run
            await wait_until(pilot, lambda: runs["adam"].status == "paused")
            paused_at = runs["adam"].last_step.step
            await pilot.pause(0.3)
            assert runs["adam"].last_step.step == paused_at and runs["sgd"].status == "running"
            await pilot.press("space")
            await wait_until(pilot, lambda: runs["adam"].last_step.step > paused_at)
            await pilot.press("p")
            await wait_until(pilot, lambda: all(r.status == "paused" for r in runs.values()))
            await pilot.press("p")
            await wait_until(pilot, lambda: all(r.status == "running" for r in runs.values()))
            await pilot.press("s")
            await wait_until(pilot, lambda: runs["adam"].status == "stopped")
            assert runs["sgd"].status == "running"
            await pilot.press("S")
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            assert [r.status for r in runs.values()] == ["stopped", "stopped"]
            assert app.model.comparison.state.finished.status == "stopped"

    run(scenario())


def test_quit_during_training_exits_within_two_seconds():
    async def scenario():
        app = LabApp(two_runs(), LONG)
        async with app.run_test(size=SIZE) as pilot:
            await launch_until_training(app, pilot)
            worker = next(w for w in app.workers if w.group == "training")
            started = time.monotonic()
            await pilot.press("ctrl+q")
        return time.monotonic() - started, worker, app

    elapsed, worker, app = run(scenario())
    assert elapsed < 2.0
    assert worker.is_finished
    assert all(r.done for r in app.model.comparison.job.runs)
    assert all(r.result.status == "interrupted" for r in app.model.comparison.job.runs)


def test_failed_and_diverged_runs_show_on_the_run_and_in_a_notification(tmp_path):
    cfg = ExperimentConfig(
        name="broken",
        runs=[RunSpec(name="wild", set={"optimizer.name": "sgd", "optimizer.lr": 100.0})],
    )

    async def diverge():
        app = LabApp(cfg, TINY)
        async with app.run_test(size=SIZE) as pilot:
            await launch_and_finish(app, pilot)
            run_ = app.model.comparison.state.runs["wild"]
            assert run_.status == "diverged" and run_.result.diverged_at is not None
            row = app.screen.query_one(ResultsTable).get_row("wild")
            assert str(row[1]) == "diverged" and row[9] == f"step {run_.result.diverged_at}"
            assert any("diverged" in n.message for n in app._notifications)

    async def missing_data():
        offline = {
            **TINY,
            "data.dataset": "cifar10",
            "data.download": False,
            "data.data_dir": str(tmp_path),
        }
        app = LabApp(cfg, offline)
        async with app.run_test(size=SIZE) as pilot:
            await launch_and_finish(app, pilot)
            run_ = app.model.comparison.state.runs["wild"]
            assert run_.status == "failed" and "CIFAR-10" in (run_.error or "")
            assert any(n.severity == "error" for n in app._notifications)
            assert app.screen.query_one(ResultsTable).row_count == 1  # the app is still alive

    run(diverge())
    run(missing_data())


def test_preset_picker_loads_a_preset():
    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+o")
            await pilot.pause()
            options = app.screen.query_one("#preset-options")
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert "baseline_cnn" in ids and "adam_vs_sgd" in ids
            options.highlighted = ids.index("adam_vs_sgd")
            await pilot.press("enter")
            await pilot.pause()
            assert app.model.draft.preset.name == "adam_vs_sgd"
            assert app.model.draft.names == ["adam", "rmsprop", "sgd_momentum"]
            assert len(app.screen.query_one(RunsList).children) == 3

    run(scenario())


def test_toy_2d_view_animates_every_optimizer():
    cfg = ExperimentConfig(name="toy_2d", toy2d=Toy2DConfig(function="lecture"))

    async def scenario():
        app = LabApp(cfg, {"toy2d.steps": 12}, toy_seconds=0.2)
        async with app.run_test(size=SIZE) as pilot:
            await launch_and_finish(app, pilot)
            assert type(app.screen).__name__ == "ToyScreen"
            await app.screen.redraw()
            table = app.screen.query_one("#toy-table")
            assert table.row_count == len(app.model.toy.problem.runs) > 1
            assert all(len(path) == 13 for path in app.model.toy.paths())
            assert app.model.toy.animation.done  # the replay walked to the end
            assert {str(table.get_cell(str(i), "status")) for i in range(table.row_count)} <= {
                "converged",
                "did not converge",
                "diverged",
            }

    run(scenario())


def test_small_terminal_keeps_the_essentials():
    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.screen.query_one("#field-data-dataset").region.width > 0
            await launch_and_finish(app, pilot)
            screen = app.screen
            assert screen.query_one("#chart-train-loss").region.height >= 8
            assert (
                not screen.query_one("#chart-lr").display
                or screen.query_one("#chart-lr").region.height == 0
            )

    run(scenario())


def test_the_lab_records_the_command_that_trains_what_it_launched():
    """report.md's Command from the Lab: the preset and a --set for each setting changed alike in
    every run; what --set cannot say is named, not silently dropped."""
    draft = Draft(load_preset("adam_vs_sgd"), {}, "adam_vs_sgd")
    assert draft.command() == ["tui-lab", "--preset", "adam_vs_sgd"]
    draft.edit_all = True
    draft.set_value("data.subset", 3000)
    draft.set_value("schedule.name", "cosine")
    assert draft.command() == [
        "tui-lab",
        "--preset",
        "adam_vs_sgd",
        "--set",
        "data.subset=3000",
        "--set",
        "schedule.name=cosine",
    ]
    draft.edit_all = False
    draft.set_value("optimizer.lr", 0.002)  # adam alone
    assert draft.command()[-2:] == ["#", "and settings of single runs edited in the Lab"]
    draft.add_run()
    assert draft.command()[-2:] == ["#", "runs added, removed or renamed in the Lab"]
