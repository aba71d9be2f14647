"""``tui-lab open``: finished exports of each kind read-only in their views, several compared
in one view, a past run as a reference line beside new runs, and an export that another
process is still writing followed live until that process is killed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lab_pilot import LONG, SIZE, TINY, FixedSystem, run, two_runs, wait_until
from support import as_sets

from tui_lab.cli.main import main
from tui_lab.config import ExperimentConfig
from tui_lab.results.exports import read_export
from tui_lab.results.manifest import writer
from tui_lab.search.runner import SearchJob
from tui_lab.toy2d.runner import run_toy_job
from tui_lab.training.job import ComparisonJob
from tui_lab.ui.app import LabApp
from tui_lab.ui.screens.lab import LabScreen
from tui_lab.ui.sessions.opened import read_opened
from tui_lab.ui.widgets.charts import legend_mark
from tui_lab.ui.widgets.results import ExpectationsView, ResultsTable
from tui_lab.ui.widgets.runs_table import RunsTable
from tui_lab.ui.widgets.trials_table import TrialsTable

ROOT = Path(__file__).resolve().parents[2]


def comparison_export(path: Path, cfg: ExperimentConfig | None = None) -> Path:
    job = ComparisonJob(cfg or two_runs(), TINY, command=["tui-lab"], fmt="csv", figures="none")
    path.mkdir(parents=True)
    job.write_into(path)
    job.run()
    return path


def search_export(path: Path, method: str = "random") -> Path:
    cfg = ExperimentConfig.model_validate(
        {
            "name": f"tiny_{method}",
            "base": {
                "data": {"dataset": "synthetic", "synthetic_size": 200, "val_fraction": 0.25},
                "model": {"arch": "mlp", "hidden": 8},
                "training": {"epochs": 1, "device": "cpu", "threads": 1, "workers": 1},
            },
            "search": {
                "method": method,
                "n_trials": 3 if method != "grid" else None,
                "space": {
                    "optimizer.lr": {
                        "type": "float",
                        "low": 0.001,
                        "high": 0.1,
                        "log": True,
                        "grid": [0.001, 0.01, 0.1],
                    }
                },
            },
        }
    )
    SearchJob(cfg, command=["tui-lab"], out=path, figures="none").run()
    return path


def opened_app(*paths: Path) -> LabApp:
    opened = read_opened([read_export(p) for p in paths])
    return LabApp(ExperimentConfig(), {}, opened=opened, system=FixedSystem())


def status_line(app: LabApp, id_: str) -> str:
    return str(app.screen.query_one(f"#{id_}").render())


def test_a_finished_comparison_opens_read_only_in_the_compare_view(tmp_path):
    export = comparison_export(tmp_path / "pair")

    async def scenario():
        app = opened_app(export)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert type(screen).__name__ == "CompareScreen"
            table = screen.query_one(RunsTable)
            names = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
            assert names == [f"{legend_mark(0)} adam", f"{legend_mark(1)} sgd"]
            assert screen.query_one(ResultsTable).row_count == 2
            status = status_line(app, "compare-status")
            assert "pair · opened read-only" in status and "2 completed" in status
            screen.query_one("#tables").active = "tab-expectations"
            await pilot.pause()
            screen.redraw()
            assert "1 of 1 expectations met" in str(screen.query_one(ExpectationsView).render())
            await pilot.press("s")  # a past run cannot be stopped
            await pilot.pause()
            await pilot.press("e")

            def shown() -> list[str]:
                return [str(n.message) for n in app._notifications]

            await wait_until(pilot, lambda: any("opened from its export" in t for t in shown()))
            assert not list(tmp_path.glob("runs"))  # nothing exported again

    run(scenario())


def test_several_comparisons_overlay_their_runs_named_by_directory(tmp_path):
    first = comparison_export(tmp_path / "first")
    second = comparison_export(tmp_path / "second")

    async def scenario():
        app = opened_app(first, second)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            runs = list(app.model.comparison.state.runs)
            assert runs == ["first/adam", "first/sgd", "second/adam", "second/sgd"]
            assert "2 exports" in status_line(app, "compare-status")

    run(scenario())


def test_a_search_and_two_searches_compared_in_the_search_view(tmp_path):
    grid = search_export(tmp_path / "grid", "grid")
    rand = search_export(tmp_path / "random", "random")

    async def scenario():
        app = opened_app(grid)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert type(app.screen).__name__ == "SearchScreen"
            assert app.screen.query_one(TrialsTable).row_count == 3
            status = status_line(app, "search-status")
            assert "tiny_grid opened read-only" in status and "3/3 trials" in status
            assert "test acc" in status
        both = opened_app(grid, rand)
        async with both.run_test(size=SIZE) as pilot:
            await pilot.pause()
            session = both.model.search
            assert session.studies() == ["grid:tiny_grid", "random:tiny_random"]
            assert set(session.labels.values()) == {"grid (grid)", "random (random)"}
            assert both.screen.query_one(TrialsTable).row_count == 6

    run(scenario())


def test_the_toy_opens_with_its_paths_as_written(tmp_path):
    out = tmp_path / "toy"
    cfg = ExperimentConfig.model_validate({"name": "toy_2d", "toy2d": {"function": "lecture"}})
    result = run_toy_job(cfg, {"toy2d.steps": 30}, command=["tui-lab"], out=out, fmt="csv")

    async def scenario():
        app = opened_app(out)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await app.screen.redraw()
            await pilot.pause()
            table = app.screen.query_one("#toy-table")
            assert table.row_count == len(result.trajectories) == 7
            assert [str(table.get_cell(str(i), "status")) for i in range(2)] == [
                t.status for t in result.trajectories[:2]
            ]
            shown, walked = app.model.toy.paths()[0], result.trajectories[0].points
            assert [p.step for p in shown] == [p.step for p in walked]
            assert [p.x2 for p in shown] == pytest.approx([p.x2 for p in walked], rel=1e-5)

    run(scenario())


def test_opened_runs_are_reference_lines_beside_new_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    past = comparison_export(tmp_path / "past")

    async def scenario():
        app = opened_app(past)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert [r.name for r in app.model.references] == ["ref adam", "ref sgd"]
            app.model.draft = type(app.model.draft)(two_runs(), TINY)
            await app.switch_mode("lab")
            await pilot.pause()
            assert "ref adam, ref sgd" in str(app.screen.query_one("#references").render())
            await pilot.press("ctrl+r")
            await app.workers.wait_for_complete()
            await pilot.pause(0.5)
            state = app.model.comparison.state
            assert list(state.runs) == ["adam", "sgd", "ref adam", "ref sgd"]
            assert state.runs["ref adam"].epochs and state.runs["ref adam"].index == 2
            assert all(r.status == "completed" for r in state.runs.values())
            exported = app.model.comparison.export("csv", tmp_path / "new")
            assert {r["run"] for r in read_export(exported).tables["summary"]} == {"adam", "sgd"}

    run(scenario())


def test_the_lab_takes_reference_runs_from_a_directory(tmp_path):
    past = comparison_export(tmp_path / "past")

    async def scenario():
        app = LabApp(two_runs(), TINY, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, LabScreen)
            await pilot.press("ctrl+b")
            await pilot.pause()
            app.screen.query_one("#reference-dir").value = str(tmp_path / "nowhere")
            await pilot.press("enter")
            await pilot.pause()
            assert app.model.references == []  # an error says why
            await pilot.press("ctrl+b")
            await pilot.pause()
            app.screen.query_one("#reference-dir").value = str(past)
            await pilot.press("enter")
            await pilot.pause()
            assert [r.name for r in app.model.references] == ["ref adam", "ref sgd"]

    run(scenario())


def test_a_growing_search_export_is_followed_until_its_writer_finishes(tmp_path):
    """A search writes its files after every trial: the view takes each new trial, then the
    studies' outcomes and the final status."""
    done = search_export(tmp_path / "done", "random")
    live = tmp_path / "live"
    live.mkdir()
    finished = {name: (done / name).read_text() for name in ("experiment.json", "trials.csv")}
    meta = json.loads(finished["experiment.json"])
    first = {**meta, "status": "running", "studies": {}, "writer": writer()}
    trials = finished["trials.csv"].splitlines(keepends=True)
    (live / "trials.csv").write_text("".join(trials[:2]))  # the header and trial 0
    (live / "experiment.json").write_text(json.dumps(first))
    for name in ("metrics.csv", "summary.csv"):
        (live / name).write_text((done / name).read_text().splitlines(keepends=True)[0])

    async def scenario():
        app = opened_app(live)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            session = app.model.search
            assert session.status == "following" and len(session.records) == 1
            for name in ("metrics.csv", "summary.csv", "trials.csv", "experiment.json"):
                (live / name).write_text((done / name).read_text())  # as the writer does
            await wait_until(pilot, lambda: session.status == "opened read-only")
            assert len(session.records) == 3 and session.test_acc("tiny_random") is not None
            shown = [str(n.message) for n in app._notifications]
            assert any("the writer finished (completed)" in text for text in shown)

    run(scenario())


@pytest.mark.timeout(180)
def test_a_growing_export_is_followed_and_a_killed_writer_is_reported(tmp_path):
    """A headless ``--export csv`` in another process (as over SSH in another shell)."""
    out = tmp_path / "live"
    writer = subprocess.Popen(
        [
            *(sys.executable, "-m", "tui_lab", "--preset", "adam_vs_sgd", "--export", "csv"),
            *("--out", str(out), "--figures", "none", *as_sets(LONG)),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        metrics = out / "metrics.csv"
        deadline = 60
        while not (metrics.exists() and metrics.read_text().count("\n") > 3):
            assert writer.poll() is None and deadline > 0, "the writer did not start"
            deadline -= 0.2
            subprocess.run(["sleep", "0.2"], check=True)

        async def scenario():
            app = opened_app(out)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                state = app.model.comparison.state
                assert "following live" in status_line(app, "compare-status")
                assert app.model.system.pid == writer.pid  # the system pane shows the writer
                first = sum(len(r.epochs) for r in state.runs.values())
                await wait_until(
                    pilot, lambda: sum(len(r.epochs) for r in state.runs.values()) > first + 3
                )
                assert {r.status for r in state.runs.values()} == {"running"}
                writer.send_signal(signal.SIGKILL)
                writer.wait()
                await wait_until(
                    pilot, lambda: "writer stopped" in status_line(app, "compare-status")
                )
                assert {r.status for r in state.runs.values()} == {"interrupted"}
                assert f"pid {writer.pid}" in state.runs["adam"].error
                shown = [str(n.message) for n in app._notifications]
                assert any(f"(pid {writer.pid}) has died" in text for text in shown)

        run(scenario())
    finally:
        writer.kill()
        writer.wait()


# ------------------------------------------------------------------------------ the command


def test_open_needs_a_readable_export_and_says_why_in_one_paragraph(tmp_path, capsys):
    assert main(["open", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["open", str(tmp_path)]) == 2
    assert "holds no experiment.json or results.json" in capsys.readouterr().err
    export = comparison_export(tmp_path / "pair")
    metrics = export / "metrics.csv"
    good = metrics.read_text()
    damaged = re.sub(r"^(adam,\d+,)1,", r"\1one,", good, count=1, flags=re.M)  # run,seed,epoch
    assert damaged != good
    metrics.write_text(damaged)
    assert main(["open", str(export)]) == 2
    err = capsys.readouterr().err
    assert "cannot be read back" in err and "damaged" in err and err.count("\n") == 1
    metrics.write_text(good.replace("adam,", "adamw,", 1))
    assert main(["open", str(export)]) == 2
    assert "metrics.csv has a run 'adamw'" in capsys.readouterr().err


def test_open_answers_errors_without_loading_torch(tmp_path):
    code = (
        "import sys; from tui_lab.cli.main import main; "
        f"code = main(['open', {str(tmp_path)!r}]); "
        "print(code, 'torch' in sys.modules, 'textual' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.split() == ["2", "False", "False"]
