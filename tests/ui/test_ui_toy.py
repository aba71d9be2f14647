"""The 2-D toy in the TUI, live: each run's η, γ, β1, β2 and the start point edited in the toy
view and walked again at once, the table with the full hyperparameters, the expectations and
why a path diverged beside it, the Lab's run tried on the toy, an empty view that says what to
do — and whose r never launches the Lab's training."""

from __future__ import annotations

import pytest
from lab_pilot import SIZE, TINY, FixedSystem, run, two_runs

from tui_lab.config import Toy2DConfig
from tui_lab.presets import load_preset
from tui_lab.toy2d.problem import Toy2DProblem
from tui_lab.ui.app import LabApp
from tui_lab.ui.replay import show_walked
from tui_lab.ui.sessions.toy import walk_runs
from tui_lab.ui.widgets.toy_plot import NUDGES, ToyPlot


async def toy_app(pilot) -> None:
    """The toy view on toy_2d, walked."""
    show_walked(pilot.app, load_preset("toy_2d"))
    await pilot.pause()
    await pilot.app.screen.redraw()
    await pilot.pause()


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.screen.redraw()
    await pilot.pause()


def cell(screen, row: int, column: str) -> str:
    return str(screen.query_one("#toy-table").get_cell(str(row), column))


def test_r_in_an_empty_toy_view_walks_the_lecture_problem_never_the_labs_training():
    async def scenario():
        app = LabApp(two_runs(), TINY, toy_seconds=0.1, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f4")
            await pilot.pause()
            assert "Nothing is loaded yet" in str(app.screen.query_one("#toy-empty").render())
            await pilot.press("r")
            await settle(pilot)
            assert app.model.comparison is None
            assert not any(w.group == "training" for w in app.workers)
            assert app.model.toy is not None and app.model.toy.title == "toy_2d"
            assert app.screen.query_one("#toy-table").row_count == 7

    run(scenario())


def test_eta_and_gamma_are_edited_live_and_a_diverged_path_says_which_axis_broke():
    async def scenario():
        app = LabApp(two_runs(), TINY, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await toy_app(pilot)
            screen, session = app.screen, app.model.toy
            assert [cell(screen, 1, c) for c in ("η", "γ", "β1")] == ["0.3", "0.6", "—"]
            assert [cell(screen, 5, c) for c in ("η", "β1", "β2")] == ["0.5", "0.5", "0.999"]
            assert "5/5 expectations met" in str(screen.query_one("#toy-status").render())
            screen.query_one("#toy-table").move_cursor(row=1)  # momentum
            await pilot.pause()
            await screen.redraw()
            lr = screen.query_one("#toy-lr")
            assert lr.value == "0.3" and screen.query_one("#toy-momentum").value == "0.6"
            lr.focus()  # first: the view refills every field but the focused one
            await pilot.pause()
            lr.value = ""
            await pilot.press(*"0.9")
            await settle(pilot)
            assert session.problem.runs[1].lr == 0.9 and app.focused is lr
            assert cell(screen, 1, "η") == "0.9" and cell(screen, 1, "status").startswith(
                "diverged"
            )
            note = str(screen.query_one("#toy-note").render())
            assert "η = 0.9 ≥ 2(1+γ)/L₂ = 0.8 along x2" in note
            expectations = str(screen.query_one("#toy-expectations").render())
            assert "not met" in expectations  # momentum no longer converges
            screen.query_one("#toy-momentum").focus()
            screen.query_one("#toy-momentum").value = "2"
            await pilot.pause()
            assert screen.query_one("#toy-momentum").has_class("-invalid")
            assert session.problem.runs[1].momentum == 0.6  # refused: γ < 1

    run(scenario())


def test_arrows_and_a_click_place_the_start():
    async def scenario():
        app = LabApp(two_runs(), TINY, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await toy_app(pilot)
            session, plot = app.model.toy, app.screen.query_one(ToyPlot)
            x1_min, x1_max, *_ = plot._bounds
            plot.focus()
            await pilot.press("right")
            await settle(pilot)
            assert session.problem.start == pytest.approx((-5 + (x1_max - x1_min) / NUDGES, -2))
            first = session.trajectories[0].points[0]
            assert (first.x1, first.x2) == pytest.approx(session.problem.start)
            column, row = 40, 8
            wanted = plot.point_at(column, row)
            await pilot.click(ToyPlot, offset=(column + 1, row + 1))  # inside the border
            await settle(pilot)
            assert session.problem.start == pytest.approx(wanted, abs=1e-3)

    run(scenario())


def test_the_labs_run_is_tried_on_the_toy():
    async def scenario():
        app = LabApp(two_runs(), TINY, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.screen.query_one("#runs-list").index = 1  # sgd: momentum, lr 0.05
            await pilot.pause()
            await pilot.press("ctrl+g")
            await settle(pilot)
            session = app.model.toy
            assert app.current_mode == "toy" and session.title == "toy_2d"
            tried = session.problem.runs[session.selected]
            assert (tried.label, tried.optimizer, tried.lr) == ("sgd", "momentum", 0.05)
            assert cell(app.screen, session.selected, "η") == "0.05"
            assert app.screen.query_one("#toy-lr").value == "0.05"
            assert len(session.problem.runs) == 8  # beside the lecture's seven

    run(scenario())


def test_a_toy_preset_in_the_lab_points_at_the_toy_view():
    async def scenario():
        app = LabApp(load_preset("toy_2d"), {}, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert not app.screen.query_one("#panels").display
            assert "edited in the toy view" in str(app.screen.query_one("#lab-toy").render())

    run(scenario())


@pytest.mark.parametrize("function", ["lecture", "rosenbrock", "beale"])
def test_an_edit_walks_only_the_run_it_changed(function):
    """One edit walks one run again, and its path is the one walking every run gives (how long
    a walk takes: bench/toy_walk.py)."""
    problem = Toy2DProblem.from_config(Toy2DConfig(function=function))
    every = walk_runs(problem, list(range(len(problem.runs))))
    for i in range(len(problem.runs)):
        assert walk_runs(problem, [i]) == {i: every[i]}
    assert len({every[i].run for i in every}) == len(problem.runs) > 1
