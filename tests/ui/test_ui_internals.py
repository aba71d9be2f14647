"""The Compare view's Internals tab: for the run picked (at first the Runs tab's), the latest
look inside its optimizer per layer, its gradient norm, update ratio, effective step, momentum
and Adam's bias corrections over steps, its sharpness against 2/η; and what to do when a run
logged none."""

from __future__ import annotations

import dataclasses
import math

import pytest
from lab_pilot import run
from test_ui_seeds import plotted
from test_ui_snapshots import OVERRIDES, compare_at, fake_events, lab_app, preset

from tui_lab.events import InternalsLogged, RunStarted, SharpnessLogged
from tui_lab.ui.replay import show_recorded
from tui_lab.ui.widgets.internals_view import InternalsChart, InternalsView


async def internals_tab(pilot, progress: float = 0.6) -> InternalsView:
    await compare_at(progress, "tab-internals")(pilot)
    return pilot.app.screen.query_one(InternalsView)


def chart(view: InternalsView, key: str) -> InternalsChart:
    return view.query_one(f"#internals-{key}", InternalsChart)


def test_the_tab_shows_the_selected_runs_latest_look_and_its_curves():
    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(120, 40)) as pilot:
            view = await internals_tab(pilot)
            events = fake_events(0.6)
            looks = [e for e in events if isinstance(e, InternalsLogged) and e.run == "adam"]
            sharp = [e for e in events if isinstance(e, SharpnessLogged) and e.run == "adam"]
            last = looks[-1]
            assert not app.screen.query_one("#charts").display  # the tab has the rows
            summary = str(view.query_one("#internals-summary").render())
            assert summary.startswith("adam · step 100: ‖g‖ " + f"{last.grad_norm:.3g}")
            assert f"1/(1−β1ᵗ) {last.bias_correction1:.3f}" in summary
            assert f"2/η = {sharp[-1].two_over_lr:.4g}" in summary
            table = view.query_one("#internals-layers")
            row = table.get_row("2 Linear")
            layer = last.layers[1]
            assert row[1:4] == [
                f"{layer.grad_norm:.3g}",
                f"{layer.update_ratio:.3g}",
                f"{layer.eff_lr_median:.3g}",
            ]
            grad = plotted(chart(view, "grad"))
            assert grad[0][1] == [e.step for e in looks]
            assert grad[0][2] == pytest.approx([e.grad_norm for e in looks])  # within a decade
            sharpness = chart(view, "sharpness")
            assert "(log10)" in str(sharpness.border_title)  # 2/η is ~100 times λmax
            limit, top = plotted(sharpness)
            assert top[2] == pytest.approx([math.log10(e.sharpness) for e in sharp])
            assert limit[2] == pytest.approx([math.log10(e.two_over_lr) for e in sharp])
            effective = plotted(chart(view, "eff"))
            assert [line[2][-1] for line in effective] == pytest.approx([2e-4, 5e-3, 1e-3])
            assert chart(view, "bias").display and chart(view, "momentum").display

    run(scenario())


def test_picking_a_run_and_a_layer_shows_theirs():
    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(120, 40)) as pilot:
            view = await internals_tab(pilot)
            view.query_one("#internals-runs").highlighted = 1  # rmsprop: no momentum buffer
            await pilot.pause()
            assert str(view.query_one("#internals-summary").render()).startswith("rmsprop")
            assert not chart(view, "momentum").display and not chart(view, "bias").display
            view.query_one("#internals-layers").move_cursor(row=2)
            await pilot.pause()
            assert "2 Linear" in str(chart(view, "eff").border_title)

    run(scenario())


def test_the_tab_says_when_internals_are_switched_off_or_not_logged_yet():
    async def scenario():
        app = lab_app(preset(), OVERRIDES)
        async with app.run_test(size=(80, 24)) as pilot:
            events = fake_events(0.0)
            off = {"training": {"internals_every": 0, "sharpness_every": 0}}
            events = [
                dataclasses.replace(e, config=off)
                if isinstance(e, RunStarted) and e.run == "rmsprop"
                else e
                for e in events
            ]
            show_recorded(app, events)
            await pilot.pause()
            app.screen.query_one("#tables").active = "tab-internals"
            await pilot.pause()
            view = app.screen.query_one(InternalsView)
            summary = str(view.query_one("#internals-summary").render())
            assert "measured every training.internals_every = 25 steps" in summary
            assert "this run has not logged any yet" in summary
            view.query_one("#internals-runs").highlighted = 1
            await pilot.pause()
            summary = str(view.query_one("#internals-summary").render())
            assert "switched off by training.internals_every = 0" in summary
            assert "switched off by training.sharpness_every = 0" in summary

    run(scenario())
