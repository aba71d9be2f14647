"""The Compare view reads well at 80×24 and says what runs wait for: one chart at a time with
a key to the next and to zoom, the legend outside the plots, percent units, a runs table that
keeps its ETA and trend, "loading …" then "queued", and an ETA at the pace runs really move."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lab_pilot import TINY, run, wait_until
from support import TINY_CNN
from test_ui_snapshots import OVERRIDES, compare_at, lab_app, preset

from tui_lab.config import ExperimentConfig, RunSpec
from tui_lab.events import RunStarted, StepLogged
from tui_lab.ui.app import LabApp
from tui_lab.ui.sessions import comparison as sessions
from tui_lab.ui.sessions.comparison import ComparisonSession
from tui_lab.ui.state.comparison import RunHistory, series
from tui_lab.ui.widgets.charts import MetricChart, RunsLegend
from tui_lab.ui.widgets.results import ResultsTable
from tui_lab.ui.widgets.runs_table import RunsTable


def test_at_80x24_one_chart_shows_with_keys_to_the_next_and_to_zoom():
    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(80, 24)) as pilot:
            await compare_at(0.6)(pilot)
            screen = app.screen
            shown = [c for c in screen.query(MetricChart) if c.display]
            assert [c.metric for c in shown] == ["train_loss"]
            assert "1/4 · c: next · z: zoom" in str(shown[0].border_title)
            await pilot.press("c")
            shown = [c for c in screen.query(MetricChart) if c.display]
            assert [c.metric for c in shown] == ["val_loss"] and shown[0].region.height >= 8
            await pilot.press("z")
            assert screen.maximized is shown[0]
            assert "adam" in str(shown[0].border_subtitle)  # the legend comes along
            await pilot.press("z")
            assert screen.maximized is None
            legend = str(screen.query_one(RunsLegend).render())
            assert all(name in legend for name in ("adam", "rmsprop", "sgd_momentum"))
            table = screen.query_one(RunsTable)
            labels = [str(c.label) for c in table.columns.values()]
            assert {"ETA", "trend", "val acc"} <= set(labels)
            assert table.virtual_size.width <= table.size.width  # nothing cut on the right

    run(scenario())


def test_t_walks_every_table_and_back_whatever_has_the_focus():
    """The Internals tab focuses its run list; t must still move on from there (focus left
    in a hidden pane used to take its tab back)."""

    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(120, 40)) as pilot:
            await compare_at(0.6)(pilot)
            tables = app.screen.query_one("#tables")
            walked = []
            for _ in range(5):
                await pilot.press("t")
                await pilot.pause(0.2)
                walked.append(tables.active)
                if tables.active == "tab-internals":
                    assert app.focused is app.screen.query_one("#internals-runs")
            assert walked == [
                "tab-results",
                "tab-expectations",
                "tab-internals",
                "tab-system",
                "tab-runs",
            ]
            assert app.focused is app.screen.query_one(RunsTable)

    run(scenario())


def test_the_results_tab_stays_when_training_ends_right_after_a_tab_switch():
    """On a busy host the Runs tab's own focus (sent when the tab is shown) arrived after the
    end of training had opened the Results tab, and took the Runs tab back."""

    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(120, 40)) as pilot:
            await compare_at(1.0, "tab-results")(pilot)
            screen = app.screen
            tables = screen.query_one("#tables")
            tables.active = "tab-runs"  # its focus is sent when the tab is shown ...
            screen.show_results()  # ... but training ended first
            await pilot.pause(0.3)
            assert tables.active == "tab-results"
            await pilot.press("t", "t", "t", "t")  # the walk goes on from there, to Runs
            await pilot.pause(0.3)
            assert tables.active == "tab-runs"
            assert app.focused is screen.query_one(RunsTable)

    run(scenario())


def test_accuracy_is_in_percent_in_the_chart_and_both_tables():
    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(120, 40)) as pilot:
            await compare_at(1.0, "tab-results")(pilot)
            state = app.model.comparison.state
            _, ys = series(state.runs["adam"], "val_acc", "epoch", False, 100)
            assert 50 < ys[-1] <= 100
            screen = app.screen
            assert str(screen.query_one(RunsTable).get_cell("adam", "val acc")).endswith("%")
            assert str(screen.query_one(ResultsTable).get_row("adam")[2]).endswith("%")
            assert "(%)" in str(screen.query_one("#chart-val-acc", MetricChart).border_title)

    run(scenario())


def test_the_eta_goes_at_the_pace_steps_arrive_waits_for_a_worker_included():
    """cosine_restarts sat at "149/172 ETA 0:03" for 55 s: its own training time said 3 s,
    but it shared two cores with five runs."""
    run_ = RunHistory("r", 0, status="running")
    run_.started = RunStarted("r", 0, {}, 43, 172, 1000, "cpu", "fp32")
    run_.steps = [StepLogged("r", 149, 3.4, 0.5, 0.01, 1000.0, 1.49)]  # 0.01 s a step alone
    assert run_.eta_seconds() == pytest.approx(23 * 0.01)
    run_.first_seen, run_.last_seen = (100.0, 49), (200.0, 149)  # 1 s a step in wall time
    assert run_.eta_seconds() == pytest.approx(23 * 1.0)


def test_runs_say_loading_then_queued_while_they_wait(monkeypatch):
    monkeypatch.setattr(sessions, "QUEUED_AFTER", 0.05)
    cfg = ExperimentConfig(
        name="three",
        runs=[RunSpec(name=n, set={"optimizer.name": n}) for n in ("adam", "sgd", "rmsprop")],
    )
    slow = {**TINY_CNN, "training.epochs": 50, "training.workers": 1, "training.threads": 1}

    async def scenario():
        app = LabApp(cfg, slow)
        async with app.run_test(size=(120, 40)) as pilot:
            session = ComparisonSession(app.model.draft.experiment_config(), app, ["tui-lab"])
            assert session.loading == "loading Synthetic blobs…"
            assert {session.shown_status(r) for r in session.state.runs.values()} == {"loading"}
            await pilot.press("ctrl+r")
            shown = app.model.comparison

            def queued() -> bool:
                statuses = [shown.shown_status(r) for r in shown.state.runs.values()]
                return "queued" in statuses and "running" in statuses

            await wait_until(pilot, queued, timeout=60)
            app.stop_jobs()
            await app.workers.wait_for_complete()

    run(scenario())


def test_a_reference_run_is_never_loading():
    async def scenario():
        app = LabApp(preset(), TINY)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            past = replace(RunHistory("past", 0), status="completed")
            session = ComparisonSession(
                app.model.draft.experiment_config(), app, ["tui-lab"], references=[past]
            )
            assert session.shown_status(session.state.runs["past"]) == "completed"

    run(scenario())
