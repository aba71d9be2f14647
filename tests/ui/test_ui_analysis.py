"""The sweep analysis view (f6, or a in the Search view): two studies compared by the
training they spent, parallel coordinates, a slice per parameter, the heat-map of the two
parameters that mattered most, and importance."""

from __future__ import annotations

from lab_pilot import SIZE, FixedSystem, fake_sweep, run, sweep_preset

from tui_lab.config import ExperimentConfig
from tui_lab.ui.app import LabApp
from tui_lab.ui.replay import show_trials
from tui_lab.ui.widgets.search_charts import ParamChart
from tui_lab.ui.widgets.sweep_charts import HeatMapView


def test_the_analysis_compares_both_studies_of_a_search():
    async def scenario():
        app = LabApp(sweep_preset(), {}, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            show_trials(app, sweep_preset(), fake_sweep())
            await pilot.pause()
            await pilot.press("a")  # from the Search view
            await pilot.pause()
            screen = app.screen
            assert type(screen).__name__ == "AnalysisScreen"
            screen.redraw()
            await pilot.pause()
            status = str(screen.query_one("#analysis-status").render())
            assert "2 studies: grid, random · 48 scored trials" in status
            slices = [c for c in screen.query(ParamChart) if c.display]
            assert [c.border_title for c in slices] == [
                "slice: optimizer.lr",
                "slice: training.batch_size",
                "slice: model.dropout",
            ]
            heat = str(screen.query_one(HeatMapView).render())
            assert "↓ dropout   → lr" in heat and "90.00" in heat  # the best cell: lr 0.01, in %

    run(scenario())


def test_without_a_search_the_analysis_says_where_one_comes_from():
    async def scenario():
        app = LabApp(ExperimentConfig(), {}, system=FixedSystem())
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("analysis")
            await pilot.pause()
            assert "tui-lab open DIR" in str(app.screen.query_one("#analysis-status").render())

    run(scenario())
