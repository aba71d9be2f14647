"""The Lab view: the runs of the comparison on the left, the option panels of the selected run
on the right. Every edit goes through the draft (and so through the core's validation)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import (
    Footer,
    Header,
    Input,
    Label,
    ListItem,
    ListView,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from tui_lab.config import ExperimentConfig
from tui_lab.errors import OpenError, UserError
from tui_lab.results.exports import KIND_NAMES, read_export
from tui_lab.toy2d.runner import toy_problem
from tui_lab.ui.screens.reference_dialog import ReferenceDialog
from tui_lab.ui.screens.view import LAUNCH, PRESETS, LabView
from tui_lab.ui.sessions.opened import OpenedComparison
from tui_lab.ui.state.draft import Draft
from tui_lab.ui.widgets.config_panels import PANELS, ConfigPanel
from tui_lab.ui.widgets.error_box import ErrorBox


def toy_text(preset: ExperimentConfig) -> str:
    """What the Lab says for a toy preset, in place of the training form."""
    problem = toy_problem(preset)
    runs = ", ".join(escape(r.label) for r in problem.runs)
    return (
        f"[b]{escape(preset.name)}[/b]: {escape(preset.description)}\n\n"
        f"[b]The 2-D toy problem[/b] f(x1, x2) = {escape(problem.expression.text)} from "
        f"{problem.start}, {problem.steps} steps; runs: {runs}.\n\n"
        "It trains no network, so there is no dataset, model or schedule to set here: each "
        "run's η, γ, β1, β2 and the start point are edited in the toy view, live.\n\n"
        "  [b]ctrl+r[/b]  walk the paths in the toy view (f4)\n"
        "  [b]ctrl+o[/b]  load another preset"
    )


class RunsList(ListView):
    """The comparison's runs; the highlighted one is the run the panels edit."""


class LabScreen(LabView):
    BINDINGS: ClassVar[list[BindingType]] = [
        replace(LAUNCH, show=True),
        replace(PRESETS, show=True),
        Binding(
            "a,plus",
            "add_run",
            "Add run",
            tooltip="A copy of the selected run, to edit (a types in a text field)",
            id="add-run",
        ),
        Binding(
            "x,minus,delete",
            "remove_run",
            "Drop run",
            tooltip="Drop the selected run from the comparison",
            id="remove-run",
        ),
        Binding(
            "ctrl+t",
            "toggle_edit_all",
            "Edit all runs",
            tooltip="Edits apply to every run, or to the selected run only",
            show=False,
            priority=True,
            id="edit-all",
        ),
        Binding(
            "ctrl+g",
            "app.try_on_toy",
            "Try on the toy",
            tooltip="The selected run's optimizer and hyperparameters on the 2-D toy (f4)",
            show=False,
            priority=True,
            id="try-toy",
        ),
        Binding(
            "ctrl+b",
            "references",
            "Reference runs",
            tooltip="Draw a past comparison's runs beside the next launch",
            show=False,
            priority=True,
            id="references",
        ),
    ]

    @property
    def draft(self) -> Draft:
        return self.model.draft

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="lab"):
            with Vertical(id="sidebar"):
                yield Static(id="preset-info")
                yield Label("[b]Runs[/b]  a add  x drop", id="runs-label")
                yield RunsList(id="runs-list")
                yield Input(name="run.name", placeholder="run name", compact=True, id="run-name")
                yield Static(id="edit-scope")
                yield Static(id="references")
            yield Static(id="lab-toy")
            with TabbedContent(id="panels"):
                for spec in PANELS:
                    with TabPane(spec.title, id=f"tab-{spec.name}"):
                        yield ConfigPanel(spec, self.draft.current)
        yield ErrorBox(id="form-error")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        await self.load_draft()

    def on_screen_resume(self) -> None:
        self.show_references()

    def show_references(self) -> None:
        """The past runs the next launch draws beside its own (ctrl+b)."""
        names = ", ".join(escape(r.name) for r in self.model.references)
        text = f"beside them: [b]{names}[/b] (ctrl+b)" if names else ""
        self.query_one("#references", Static).update(text)

    def action_references(self) -> None:
        self.app.push_screen(ReferenceDialog(), self._reference_answer)

    def _reference_answer(self, path: str | None) -> None:
        """The runs of a comparison export become the reference lines of the next launch (an
        empty path clears them)."""
        if path is None:
            return
        if not path:
            self.model.references = []
        else:
            try:
                export = read_export(Path(path).expanduser())
                if export.kind != "comparison":
                    raise OpenError(f"{path} holds {KIND_NAMES[export.kind]}, not a comparison.")
            except UserError as exc:
                self.notify(str(exc), title="No reference runs", severity="error", timeout=10)
                return
            self.model.references = OpenedComparison(self.app, [export]).references()
        self.show_references()

    async def load_draft(self) -> None:
        """Show the app's draft from scratch (after launch of the app or a preset change)."""
        preset = self.draft.preset
        self.sub_title = preset.name
        text = f"[b]{escape(preset.name)}[/b]\n{escape(preset.description)}"
        self.query_one("#lab").set_class(preset.toy2d is not None, "-toy")
        if preset.toy2d is not None:
            self.query_one("#lab-toy", Static).update(toy_text(preset))
        if preset.search is not None:
            text += (
                "\n\n[b]A search[/b]: this run is the base of every trial; the space and the "
                "budget are in the Search view (f5), ctrl+r launches it."
            )
        self.query_one("#preset-info", Static).update(text)
        await self._fill_runs_list()
        await self.show_selected_run()

    async def _fill_runs_list(self) -> None:
        runs = self.query_one(RunsList)
        await runs.clear()
        await runs.extend(ListItem(Label(escape(name))) for name in self.draft.names)
        runs.index = self.draft.selected

    async def show_selected_run(self) -> None:
        """Every widget of the form from the selected run's config (a run switch, a preset
        load, a run added or removed)."""
        name = self.query_one("#run-name", Input)
        with name.prevent(Input.Changed):
            name.value = self.draft.names[self.draft.selected]
        await self._show_config()
        self._show_scope()
        self._show_error(None)

    async def _show_config(self, keep: Collection[Widget] = ()) -> None:
        """The panels follow the selected run's config; a panel whose fields changed is
        composed anew, and focus returns to the field it was on."""
        focused = self.focused.id if self.focused is not None else None
        for panel in self.query(ConfigPanel):
            if panel.show(self.draft.current, keep):
                await panel.recompose()
        if focused and (self.focused is None or self.focused.id != focused):
            for widget in self.query(f"#{focused}"):
                widget.focus()

    def _show_scope(self) -> None:
        scope = "every run" if self.draft.edit_all else "this run only"
        self.query_one("#edit-scope", Static).update(f"edits apply to: [b]{scope}[/b] (ctrl+t)")

    def _show_error(self, message: str | None) -> None:
        self.query_one(ErrorBox).show(message)

    @property
    def invalid_fields(self) -> int:
        return len(self.query("Input.-invalid"))

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        for panel in event.pane.query(ConfigPanel):
            panel.show_info()

    # ------------------------------------------------------------------ edits

    async def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        index = event.list_view.index
        if index is not None and index != self.draft.selected:
            self.draft.selected = index
            await self.show_selected_run()

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.name == "run.name":
            await self._rename(event.input)
            return
        panel = next(a for a in event.input.ancestors if isinstance(a, ConfigPanel))
        await self._edit(panel, event.input, event.value)

    async def on_select_changed(self, event: Select.Changed) -> None:
        panel = next(a for a in event.select.ancestors if isinstance(a, ConfigPanel))
        await self._edit(panel, event.select, str(event.value))

    async def _edit(self, panel: ConfigPanel, widget: Input | Select, raw: str) -> None:
        key = widget.name or ""
        if key not in panel.fields:
            return
        if panel.unchanged(key, raw):
            widget.remove_class("-invalid")
            return
        if not self.query_one(ErrorBox).attempt(
            widget, lambda: self.draft.set_value(key, panel.parse(key, raw))
        ):
            return
        await self._show_config(keep={widget, *self.query(".-invalid")})
        self._show_names()

    def _show_names(self) -> None:
        """The runs list and the name field follow the draft's names (a run named after its
        optimizer is renamed with it)."""
        for item, name in zip(self.query_one(RunsList).children, self.draft.names, strict=False):
            item.query_one(Label).update(escape(name))
        field = self.query_one("#run-name", Input)
        with field.prevent(Input.Changed):
            field.value = self.draft.names[self.draft.selected]

    async def _rename(self, field: Input) -> None:
        if field.value.strip() == self.draft.names[self.draft.selected]:
            return
        if not self.query_one(ErrorBox).attempt(field, lambda: self.draft.rename(field.value)):
            return
        item = self.query_one(RunsList).highlighted_child
        if item is not None:
            item.query_one(Label).update(escape(field.value.strip()))

    # ------------------------------------------------------------------ actions

    async def action_add_run(self) -> None:
        name = self.draft.add_run()
        await self._fill_runs_list()
        await self.show_selected_run()
        self.notify(f"Added run {name!r} (a copy of the selected run); edit it in the panels.")

    async def action_remove_run(self) -> None:
        if not self.draft.remove_run():
            self.notify("A comparison needs at least one run.", severity="warning")
            return
        await self._fill_runs_list()
        await self.show_selected_run()

    def action_toggle_edit_all(self) -> None:
        self.draft.edit_all = not self.draft.edit_all
        self._show_scope()
