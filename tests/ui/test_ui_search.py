"""Pilot tests of the Search view: edit a search and watch its budget, launch a tiny search and
read its trials, and follow (attach to) a study in a journal file that another search wrote."""

from __future__ import annotations

import asyncio
import csv
import time

import pytest
from lab_pilot import SIZE, wait_until
from optuna.distributions import FloatDistribution

from tui_lab.config import ExperimentConfig
from tui_lab.search.runner import Search, attach_study
from tui_lab.search.study import JOURNAL_NAME
from tui_lab.ui.app import LabApp
from tui_lab.ui.screens.search import SearchScreen
from tui_lab.ui.sessions import search as search_session
from tui_lab.ui.state.search_draft import SearchDraft, parse_space, space_text
from tui_lab.ui.widgets.trials_table import TrialsTable

BASE = {
    "data": {"dataset": "synthetic", "synthetic_size": 300, "val_fraction": 0.25},
    "model": {"arch": "mlp", "hidden": 8},
    "training": {
        "epochs": 2,
        "batch_size": 32,
        "max_steps": 12,
        "device": "cpu",
        "threads": 1,
        "log_every": 2,
        "precision": "fp32",
    },
}
SPACE = {
    "optimizer.lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True, "grid": [0.001, 0.1]},
    "model.dropout": {"type": "categorical", "choices": [0.0, 0.3]},
}


def tiny_search(n_trials: int = 3, name: str = "tiny_search") -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "name": name,
            "description": "three random trials on synthetic blobs",
            "base": BASE,
            "search": {"method": "random", "n_trials": n_trials, "seed": 0, "space": SPACE},
        }
    )


def test_search_draft_validates_edits_like_a_preset_and_plans_the_budget():
    cfg = tiny_search()
    draft = SearchDraft(cfg)
    base = cfg.base
    (plan,) = draft.set_trials(base, "5")
    assert (plan.n_trials, plan.budget_epochs) == (5, 10)
    (grid,) = draft.set_method(base, "grid")
    assert (draft.search.n_trials, grid.cells, grid.budget_epochs) == (None, 4, 8)
    (back,) = draft.set_method(base, "random")
    assert back.n_trials == 4  # the grid's size becomes the random budget
    spec = draft.search.space["optimizer.lr"]
    assert parse_space("optimizer.lr", space_text(spec)) == spec
    with pytest.raises(Exception, match="low < high"):
        draft.set_param(base, "optimizer.lr", 'type = "float", low = 0.1, high = 0.01')
    with pytest.raises(Exception, match="model.dropout"):
        draft.set_param(base, "model.dropout", "{ type = 'categorical', choices = [0.0, 1.5] }")
    assert draft.search.space["optimizer.lr"] == spec  # a refused edit leaves the draft as it was
    with pytest.raises(Exception, match="searches over that setting"):
        SearchDraft(cfg, {"optimizer.lr": 0.1}).plans(base)


def test_search_view_edits_launches_and_shows_the_trials(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def scenario():
        app = LabApp(tiny_search(), {})
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SearchScreen)  # a search preset opens on the Search view
            budget = screen.query_one("#search-budget")
            assert "3 trials × 2 epochs = 6 trial-epochs" in str(budget.render())
            trials = screen.query_one("#search-trials")
            trials.value = "x"
            await pilot.pause()
            assert trials.has_class("-invalid") and screen.query_one("#search-error").display
            trials.value = "4"
            await pilot.pause()
            assert "4 trials × 2 epochs = 8 trial-epochs" in str(budget.render())
            screen.query_one("#search-pruner").value = "median"
            await pilot.pause()
            assert app.model.search_draft.search.pruner == "median" and "median pruner" in str(
                budget.render()
            )
            screen.query_one("#search-pruner").value = "none"
            trials.value = "3"
            await pilot.pause()
            assert not screen.query(".-invalid")

            await pilot.press("ctrl+r")
            await app.workers.wait_for_complete()
            await pilot.pause(0.6)
            session = app.model.search
            assert session.status == "completed"
            table = screen.query_one(TrialsTable)
            assert table.row_count == 3
            best = session.best("tiny_search")
            assert best is not None and best.status == "completed"
            status = str(screen.query_one("#search-status").render())
            assert (
                f"best random {best.number}: val_acc {100 * best.value:.2f}%" in status
                and "test acc" in status
            )
            labels = [str(table.get_row_at(i)[0]) for i in range(3)]
            assert labels.count(f"★ random {best.number}") == 1
            await pilot.press("o")  # sort by value: the best trial comes first
            await pilot.pause(0.6)
            assert str(table.get_row_at(0)[0]) == f"★ random {best.number}"
            table.move_cursor(row=2)
            await pilot.press("enter")  # that trial's stored curves replace the retrain's
            await pilot.pause(0.6)
            shown = next(iter(session.curves.runs))
            assert shown == str(table.get_row_at(2)[0]).removeprefix("★ ")
            assert len(session.curves.runs[shown].epochs) == 2
            assert any("search completed" in n.message for n in app._notifications)
            return session.run_dir

    out = asyncio.run(scenario())
    with open(out / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["number"] for r in rows] == ["0", "1", "2"] and all(
        r["status"] == "completed" for r in rows
    )


def test_follow_a_study_in_a_journal_file_as_another_process_adds_trials(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(search_session, "FOLLOW_POLL_S", 0.2)
    Search(tiny_search(4, "elsewhere"), run_dir=tmp_path).run()  # another machine's search
    journal = str(tmp_path / JOURNAL_NAME)

    async def scenario():
        app = LabApp(ExperimentConfig(name="plain"), {})
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f5")
            await pilot.pause()
            screen = app.screen
            assert "not a search" in str(screen.query_one("#search-preset").render())
            await pilot.press("ctrl+l")
            await pilot.pause()
            await pilot.press(*"nowhere.journal", "enter")
            await pilot.press(*"elsewhere", "enter")
            await pilot.pause(0.3)
            assert any("No journal file" in n.message for n in app._notifications)

            await pilot.press("ctrl+l")
            await pilot.pause()
            app.screen.query_one("#attach-storage").value = journal
            app.screen.query_one("#attach-study").value = "elsewhere"
            await pilot.press("enter")
            session = app.model.search
            await wait_until(pilot, lambda: len(session.records) == 4)
            await pilot.pause(0.6)
            table = screen.query_one(TrialsTable)
            assert table.row_count == 4 and session.status == "following"
            bars = str(screen.query_one("#importance").render())  # 4 completed: Optuna's importance
            assert {line.split()[0] for line in bars.splitlines()} == {"lr", "dropout"}
            assert next(iter(session.curves.runs)) == "random 3"  # the latest finished trial

            study = attach_study(journal, "elsewhere")  # a trial finishes on another machine
            trial = study.ask({"optimizer.lr": FloatDistribution(0.001, 0.1, log=True)})
            trial.set_user_attr("status", "completed")
            study.tell(trial, 0.99)
            await wait_until(pilot, lambda: len(session.records) == 5)
            await pilot.pause(0.6)
            assert table.row_count == 5
            assert "best random 4: val_acc 99.00%" in str(
                screen.query_one("#search-status").render()
            )

            await pilot.press("S")
            await pilot.pause(0.5)
            assert session.status == "stopped following"
            await app.workers.wait_for_complete()

            await pilot.press("ctrl+l")  # a study that is not there: the error names those that are
            await pilot.pause()
            app.screen.query_one("#attach-storage").value = journal
            app.screen.query_one("#attach-study").value = "nope"
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            assert app.model.search.status == "failed"
            assert any("studies there: elsewhere" in n.message for n in app._notifications)

    asyncio.run(scenario())


def test_stop_requeues_the_running_trial_relaunch_resumes_and_quit_is_prompt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    endless = tiny_search(2).model_copy(deep=True)
    endless.base.training.max_steps = None
    endless.base.training.epochs = 10_000

    async def scenario():
        app = LabApp(endless, {})
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(
                "f2", "ctrl+r"
            )  # the Lab's launch of a search preset opens the Search view
            session = app.model.search
            assert isinstance(app.screen, SearchScreen) and session is not None
            await wait_until(
                pilot,
                lambda: session.curves.runs and next(iter(session.curves.runs.values())).steps,
            )
            await pilot.press("S")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            assert session.status == "stopped"
            assert [r.status for r in session.records.values()] == ["interrupted"]  # re-queued

            await pilot.press("ctrl+r")
            resumed = app.model.search
            assert resumed is not session and resumed.run_dir == session.run_dir
            await wait_until(
                pilot,
                lambda: resumed.curves.runs and next(iter(resumed.curves.runs.values())).steps,
            )
            assert next(iter(resumed.curves.runs)) == "random 0"  # the interrupted trial runs again
            worker = next(w for w in app.workers if w.group == "search")
            started = time.monotonic()
            await pilot.press("ctrl+q")
        return time.monotonic() - started, worker

    elapsed, worker = asyncio.run(scenario())
    assert elapsed < 2.0 and worker.is_finished
