"""Keys: every view's footer shows the views, quit and help first, at 80×24 too; every
binding of every view is in the command palette with its key; the app-wide keys work in every
view; the run list's keys work from anywhere in the Lab but a text field."""

from __future__ import annotations

import pytest
from lab_pilot import SIZE, TINY, run, two_runs, wait_until
from textual.widgets._footer import FooterKey

from tui_lab.ui.app import SCREENS_BY_MODE, LabApp
from tui_lab.ui.screens.preset_picker import PresetPicker
from tui_lab.ui.screens.view import view_bindings
from tui_lab.ui.state.draft import Draft

ALWAYS = ["f2", "f3", "f4", "f5", "f6", "ctrl+q", "f1"]


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_every_footer_shows_the_views_quit_and_help_whole(size):
    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=size) as pilot:

            def shown() -> dict:
                return {
                    key.key: key.region
                    for key in app.screen.query(FooterKey)
                    if key.region.width > 0
                }

            for mode in SCREENS_BY_MODE:
                await app.switch_mode(mode)
                # the footer recomposes once the new view's bindings are known (a busy host
                # may need more than one frame for it)
                await wait_until(
                    pilot,
                    lambda: set(ALWAYS) <= shown().keys(),
                    timeout=10,
                    what=f"{mode}: {ALWAYS} not all in the footer",
                )
                for key in ALWAYS:
                    assert shown()[key].right <= size[0], (mode, key)

    run(scenario())


def test_the_palette_lists_every_key_of_every_view():
    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            helps = [c.help for c in app.get_system_commands(app.screen)]
            for view in SCREENS_BY_MODE.values():
                for binding in view_bindings(view):
                    key = app.get_key_display(binding)
                    wanted = binding.tooltip or binding.description
                    assert f"{key} · {wanted}" in helps, (view.__name__, binding.key)

    run(scenario())


def test_launch_and_presets_answer_in_the_compare_view():
    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            await pilot.press("ctrl+o")
            await pilot.pause()
            assert isinstance(app.screen, PresetPicker)
            await pilot.press("escape")
            await pilot.press("f3", "ctrl+r")
            await wait_until(pilot, lambda: app.model.comparison is not None)
            await app.workers.wait_for_complete()

    run(scenario())


def test_add_and_remove_runs_from_anywhere_in_the_lab_but_a_text_field():
    async def scenario():
        app = LabApp(two_runs(), TINY)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            lab = app.screen
            lab.query_one("#field-data-dataset").focus()
            await pilot.press("a")
            assert app.model.draft.names == ["adam", "adam_2", "sgd"]
            lab.query_one("#panels Tabs").focus()
            await pilot.press("x")
            assert app.model.draft.names == ["adam", "sgd"]
            lab.query_one("#field-data-subset").focus()
            await pilot.press("a")  # typed: the subset field holds text
            assert app.model.draft.names == ["adam", "sgd"]

    run(scenario())


def test_a_run_named_after_its_optimizer_follows_it():
    draft = Draft(two_runs(), TINY)
    draft.add_run()  # adam_2
    draft.set_value("optimizer.name", "rmsprop")
    assert draft.names == ["adam", "rmsprop_2", "sgd"]
    draft.selected = 0
    draft.set_value("optimizer.name", "rmsprop")
    assert draft.names == ["rmsprop", "rmsprop_2", "sgd"]
    draft.selected = 2
    draft.set_value("optimizer.name", "adam")  # a name the user chose stays
    assert draft.names == ["rmsprop", "rmsprop_2", "sgd"]
