"""A comparison over seeds in the Compare view: each chart draws every configuration's mean
over its seeds between the edges of its band (the t-based 95% interval of the mean, min–max of
two seeds), the legend names configurations with their seeds, ``a`` shows every seed's curve,
and the runs and results tables give mean ± 95% CI per configuration above its seeds' rows."""

from __future__ import annotations

import math
import statistics

import pytest
from lab_pilot import run
from test_ui_snapshots import OVERRIDES, fake_events, lab_app

from tui_lab.config import ExperimentConfig, RunSpec
from tui_lab.events import EpochEnded, RunFinished, StepLogged
from tui_lab.results.palette import run_color
from tui_lab.ui.replay import show_recorded
from tui_lab.ui.state.draft import Draft
from tui_lab.ui.widgets.charts import MetricChart, RunsLegend
from tui_lab.ui.widgets.results import ResultsTable
from tui_lab.ui.widgets.runs_table import RunsTable

TWO = {"adam": 0.35, "sgd_momentum": 0.8}
T_975 = {2: 4.302652729911275, 1: 12.706204736174705}  # t(0.975, df) from a table


def two_configurations() -> ExperimentConfig:
    return ExperimentConfig(
        name="seeded",
        runs=[
            RunSpec(name="adam", set={"optimizer.name": "adam"}),
            RunSpec(name="sgd_momentum", set={"optimizer.name": "momentum"}),
        ],
    )


def plotted(chart: MetricChart) -> list[tuple[tuple, list[float], list[float]]]:
    """Each line the chart drew: (its colour, xs, ys), in drawing order."""
    m = chart.plt.monitor
    return [(color[0], list(x), list(y)) for color, x, y in zip(m.color, m.x, m.y, strict=True)]


def by_seed(events, kind, value) -> dict[str, dict[int, list[float]]]:
    """configuration → step → the seeds' values, straight from the events."""
    out: dict[str, dict[int, list[float]]] = {}
    for e in events:
        if isinstance(e, kind):
            out.setdefault(e.run.split("@")[0], {}).setdefault(e.step, []).append(value(e))
    return out


def ci_half(values: list[float]) -> float:
    return T_975[len(values) - 1] * statistics.stdev(values) / math.sqrt(len(values))


async def seeded_view(pilot, seeds: int = 3, progress: float = 1.0):
    events = fake_events(progress, TWO, seeds=seeds)
    show_recorded(pilot.app, events)
    await pilot.pause()
    pilot.app.screen.redraw()
    await pilot.pause()
    return events


def test_each_configuration_is_its_mean_between_the_95_percent_interval_of_its_seeds():
    async def scenario():
        app = lab_app(two_configurations(), {**OVERRIDES, "training.seeds": 3})
        async with app.run_test(size=(120, 40)) as pilot:
            events = await seeded_view(pilot)
            losses = by_seed(events, StepLogged, lambda e: e.loss)
            lines = plotted(app.screen.query_one("#chart-train-loss", MetricChart))
            assert len(lines) == 6  # per configuration: the band's two edges, then the mean
            for k, (config, index) in enumerate((("adam", 0), ("sgd_momentum", 3))):
                low, high, mean = lines[3 * k : 3 * k + 3]
                steps = sorted(losses[config])
                assert mean[0] == run_color(index) and mean[1] == steps
                means = [statistics.fmean(losses[config][s]) for s in steps]
                halves = [ci_half(losses[config][s]) for s in steps]
                assert mean[2] == pytest.approx(means)
                assert low[2] == pytest.approx([m - h for m, h in zip(means, halves)])
                assert high[2] == pytest.approx([m + h for m, h in zip(means, halves)])
                assert low[0] != mean[0]  # the edges are dimmer
            legend = str(app.screen.query_one(RunsLegend).render())
            assert "adam × 3 seeds" in legend and "sgd_momentum × 3 seeds" in legend
            assert "95% CI of the mean (t)" in legend

    run(scenario())


def test_two_seeds_are_drawn_between_their_min_and_max():
    async def scenario():
        app = lab_app(two_configurations(), {**OVERRIDES, "training.seeds": 2})
        async with app.run_test(size=(120, 40)) as pilot:
            events = await seeded_view(pilot, seeds=2)
            accs = by_seed(events, EpochEnded, lambda e: 100 * e.val_acc)
            low, high = plotted(app.screen.query_one("#chart-val-acc", MetricChart))[:2]
            seeds = [accs["adam"][s] for s in sorted(accs["adam"])]
            assert low[2] == pytest.approx([min(v) for v in seeds])
            assert high[2] == pytest.approx([max(v) for v in seeds])
            assert "min–max of 2 seeds" in str(app.screen.query_one(RunsLegend).render())

    run(scenario())


def test_a_shows_every_seeds_curve_in_its_configurations_colour_and_back():
    async def scenario():
        app = lab_app(two_configurations(), {**OVERRIDES, "training.seeds": 3})
        async with app.run_test(size=(120, 40)) as pilot:
            events = await seeded_view(pilot)
            await pilot.press("a")
            chart = app.screen.query_one("#chart-train-loss", MetricChart)
            lines = plotted(chart)
            assert len(lines) == 6
            for line, name in zip(lines, [f"{c}@{s}" for c in TWO for s in range(3)]):
                mine = [e.loss for e in events if isinstance(e, StepLogged) and e.run == name]
                assert line[2] == pytest.approx(mine)
                assert line[0] == run_color(0 if name.startswith("adam") else 3)
            legend = str(app.screen.query_one(RunsLegend).render())
            assert "every seed" in legend and "adam × 3 seeds" in legend
            assert "every seed (a)" in str(app.screen.query_one("#compare-status").render())
            await pilot.press("a")
            assert "95% CI" in str(app.screen.query_one(RunsLegend).render())
            assert len(plotted(chart)) == 6 and plotted(chart)[2][0] == run_color(0)

    run(scenario())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_the_tables_give_mean_and_95_percent_ci_per_configuration_above_its_seeds(size):
    async def scenario():
        app = lab_app(two_configurations(), {**OVERRIDES, "training.seeds": 3})
        async with app.run_test(size=size) as pilot:
            events = await seeded_view(pilot)
            screen = app.screen
            table = screen.query_one(RunsTable)
            accs = by_seed(events, EpochEnded, lambda e: 100 * e.val_acc)["adam"]
            last = accs[max(accs)]
            want = f"{statistics.fmean(last):.2f}% ± {ci_half(last):.2f}"
            assert str(table.get_cell("adam@*", "val acc")) == want
            keys = [row.key.value for row in table.ordered_rows]
            assert keys[:4] == ["adam@*", "adam@0", "adam@1", "adam@2"]
            assert "adam ×3" in str(table.get_cell("adam@*", "run"))
            assert table.virtual_size.width <= table.size.width  # nothing cut on the right
            table.move_cursor(row=0)
            assert screen.query_one(RunsTable).selected_runs == ["adam@0", "adam@1", "adam@2"]

            results = screen.query_one(ResultsTable)
            tests = [100 * e.test_acc for e in events if isinstance(e, RunFinished)][3:]
            row = results.get_row("sgd_momentum@*")
            assert str(row[2]) == f"{statistics.fmean(tests):.2f}% ± {ci_half(tests):.2f}"
            assert str(results.get_row("sgd_momentum@1")[2]) == f"{tests[1]:.2f}%"

    run(scenario())


def test_without_seeds_nothing_changes():
    async def scenario():
        app = lab_app(two_configurations(), OVERRIDES)
        async with app.run_test(size=(120, 40)) as pilot:
            events = await seeded_view(pilot, seeds=1)
            lines = plotted(app.screen.query_one("#chart-train-loss", MetricChart))
            assert [line[0] for line in lines] == [run_color(0), run_color(1)]
            adam = [e.loss for e in events if isinstance(e, StepLogged) and e.run == "adam"]
            assert lines[0][2] == pytest.approx(adam)
            table = app.screen.query_one(RunsTable)
            assert [row.key.value for row in table.ordered_rows] == ["adam", "sgd_momentum"]
            assert "seeds" not in str(app.screen.query_one(RunsLegend).render())

    run(scenario())


def test_the_lab_edits_configurations_and_the_job_trains_their_seeds():
    """--seeds 3 in the Lab: one run per configuration to edit, launched as adam@0 … again."""
    draft = Draft(two_configurations(), {**OVERRIDES, "training.seeds": 3})
    assert draft.names == ["adam", "sgd_momentum"]
    assert draft.current.training.seeds == 3
    runs = draft.experiment_config().resolved_runs()
    assert [name for name, _ in runs][:3] == ["adam@0", "adam@1", "adam@2"]
    assert "--set training.seeds=3" in " ".join(draft.command())
