"""The Lab's form is a view of the config: after a preset load, a run switch, an edit that
adds or removes fields, every widget shows the selected run's value, the schedule preview is
drawn, and focus stays on the field being edited."""

from __future__ import annotations

from lab_pilot import SIZE, form_mismatches, pick_preset, run

from tui_lab.config import ExperimentConfig
from tui_lab.ui.app import LabApp
from tui_lab.ui.screens.lab import RunsList
from tui_lab.ui.widgets.charts import LrPreviewChart
from tui_lab.ui.widgets.config_panels import field_id


def braille_dots(chart) -> int:
    """How many braille cells the chart draws: 0 when it is blank."""
    return sum("\u2801" <= c <= "\u28ff" for c in chart.render().plain)


async def type_into(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause()


def test_every_widget_shows_the_config_through_presets_run_switches_and_edits():
    async def scenario():
        app = LabApp(ExperimentConfig(), {})
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            lab = app.screen
            await type_into(pilot, "#field-data-subset", "3000")
            await type_into(pilot, "#field-model-filters", "16, 32")
            await type_into(pilot, "#field-training-batch-size", "16")
            assert app.model.draft.current.data.subset == 3000
            assert form_mismatches(lab) == []

            await pick_preset(pilot, "adam_vs_sgd")  # the same fields: only values change
            assert form_mismatches(lab) == []
            assert lab.query_one("#field-data-subset").value == ""
            assert lab.query_one("#field-model-filters").value == "32, 64"

            await pick_preset(pilot, "gd_variants")
            assert form_mismatches(lab) == []
            assert lab.query_one("#field-data-dataset").value == "mnist"

            await pick_preset(pilot, "adam_vs_sgd")
            runs = lab.query_one(RunsList)
            runs.focus()
            await pilot.press("a")  # adam_2, a copy of adam, selected
            await pilot.pause()
            await type_into(pilot, "#field-optimizer-lr", "0.002")
            assert app.model.draft.current.optimizer.lr == 0.002
            runs.focus()
            for index in (0, 1, 2, 3, 1, 0):  # adam, adam_2, rmsprop, sgd_momentum, back
                runs.index = index
                await pilot.pause()
                assert form_mismatches(lab) == [], app.model.draft.names[index]
            assert lab.query_one("#field-optimizer-lr").value == "0.001"  # adam, not adam_2
            runs.index = 1
            await pilot.pause()
            assert lab.query_one("#field-optimizer-lr").value == "0.002"

    run(scenario())


def test_the_schedule_preview_is_drawn_after_every_change():
    async def scenario():
        app = LabApp(ExperimentConfig(), {})
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            lab = app.screen
            lab.query_one("#panels").active = "tab-schedule"
            await pilot.pause()
            assert braille_dots(lab.query_one(LrPreviewChart)) > 0
            lab.query_one("#field-schedule-name").value = "cosine"  # new fields: recomposed
            await pilot.pause()
            assert app.model.draft.current.schedule.name == "cosine"
            assert braille_dots(lab.query_one(LrPreviewChart)) > 0

            await pick_preset(pilot, "lr_schedules")
            lab.query_one(RunsList).index = 1  # constant → step
            await pilot.pause()
            assert app.model.draft.current.schedule.name == "step"
            assert braille_dots(lab.query_one(LrPreviewChart)) > 0

    run(scenario())


def test_focus_stays_on_the_edited_field_when_fields_come_and_go():
    async def scenario():
        app = LabApp(ExperimentConfig(), {})
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            lab = app.screen
            for tab, key, value in [
                ("dataset", "data.dataset", "synthetic"),
                ("optimizer", "optimizer.name", "momentum"),
                ("optimizer", "optimizer.name", "adam"),
                ("schedule", "schedule.name", "cosine"),
            ]:
                lab.query_one("#panels").active = f"tab-{tab}"
                await pilot.pause()
                select = lab.query_one(f"#{field_id(key)}")
                select.focus()
                await pilot.pause()
                select.value = value
                await pilot.pause()
                assert app.focused is not None and app.focused.name == key, (key, app.focused)
                assert form_mismatches(lab) == []
            # the tab bar's next stop is the first field: no invisible stop in between
            lab.query_one("#panels Tabs").focus()
            await pilot.press("tab")
            assert app.focused is lab.query_one("#field-schedule-name")

    run(scenario())
