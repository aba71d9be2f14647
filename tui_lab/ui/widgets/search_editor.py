"""The Search view's editor: method, trial budget, pruner, objective and the space, with the
planned budget (trials × epochs = trial-epochs) updated after every valid edit.

Every edit goes through ``SearchDraft`` (and so through the same validation as a preset file);
an invalid one is marked in red with the reason and leaves the draft as it was.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label, Select, Static

from tui_lab.config import PRUNERS, RunConfig
from tui_lab.errors import UserError
from tui_lab.events import SearchPlan
from tui_lab.ui.model import LabModel
from tui_lab.ui.state.search_draft import (
    METHODS,
    OBJECTIVES,
    SearchDraft,
    budget_text,
    method_label,
    space_summary,
    space_text,
)
from tui_lab.ui.widgets.config_panels import FieldRow
from tui_lab.ui.widgets.error_box import ErrorBox

NOT_A_SEARCH = (
    "[b]{name}[/b] is not a search.\n\nLoad a search preset (ctrl+o): grid_search, random_search, "
    "bayes_search or grid_vs_random — or follow a study that other processes or machines are "
    "running (ctrl+l)."
)


class SearchEditor(VerticalScroll):
    """Edits ``app.search_draft`` over the Lab's first run, which is the search's base config."""

    DEFAULT_CSS = """
    SearchEditor { padding: 0 1; }
    SearchEditor .space-key { margin-top: 1; }
    SearchEditor > Label { width: 100%; }  /* wrapped, not cut, in a narrow editor */
    SearchEditor #search-budget { height: auto; margin: 1 0; }
    """

    def __init__(self, model: LabModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model

    @property
    def draft(self) -> SearchDraft | None:
        return self.model.search_draft

    @property
    def base(self) -> RunConfig:
        return self.model.draft.runs[0][1]

    def compose(self) -> ComposeResult:
        draft = self.draft
        if draft is None:
            name = self.model.draft.preset.name
            yield Static(NOT_A_SEARCH.format(name=escape(name)), id="search-preset")
            return
        s = draft.search
        yield Static(
            f"[b]{escape(draft.preset.name)}[/b]\n{escape(draft.preset.description)}",
            id="search-preset",
        )
        choices = {
            "method": (list(dict.fromkeys([*METHODS, method_label(s)])), method_label(s)),
            "trials": None,
            "pruner": (PRUNERS, s.pruner),
            "objective": (OBJECTIVES, s.objective),
        }
        for setting, options in choices.items():
            with FieldRow():
                yield Label(setting)
                if options is None:
                    trials = str(s.n_trials or "")
                    yield Input(trials, placeholder="grid size", compact=True, id="search-trials")
                else:
                    names, value = options
                    yield Select(
                        [(n, n) for n in names],
                        value=value,
                        allow_blank=False,
                        compact=True,
                        id=f"search-{setting}",
                    )
        yield Static(id="search-budget")
        yield Label("[b]Space[/b] (edit as in a preset's \\[search.space])")
        for i, (key, spec) in enumerate(s.space.items()):
            yield Label(
                f"{escape(key)}: [dim]{escape(space_summary(spec))}[/]", classes="space-key"
            )
            yield Input(
                space_text(spec), name=key, compact=True, classes="space-field", id=f"space-{i}"
            )
        yield ErrorBox(id="search-error")

    def on_mount(self) -> None:
        self.show_budget()

    def show_budget(self) -> None:
        """The budget of the draft as it stands (the Lab may have changed the base since)."""
        draft = self.draft
        if draft is None or not self.query("#search-budget"):
            return
        try:
            self._show(draft.plans(self.base))
        except UserError as exc:
            self._error(str(exc))

    def _show(self, plans: list[SearchPlan]) -> None:
        assert self.draft is not None
        self.query_one("#search-budget", Static).update(
            budget_text(plans, self.draft.search.pruner)
        )
        self._error(None)

    def _error(self, message: str | None) -> None:
        self.query_one(ErrorBox).show(message)

    @property
    def invalid(self) -> bool:
        return bool(self.query(".-invalid")) or any(
            box.display for box in self.query("#search-error")
        )

    # ------------------------------------------------------------------ edits

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        draft = self.draft
        assert draft is not None
        value = str(event.value)
        s = draft.search
        current = {
            "search-method": method_label(s),
            "search-pruner": s.pruner,
            "search-objective": s.objective,
        }[event.select.id or ""]
        if value == current:
            return
        try:
            if event.select.id == "search-method":
                plans = draft.set_method(self.base, value)
                trials = self.query_one("#search-trials", Input)
                trials.value = str(draft.search.n_trials or "")
                trials.remove_class("-invalid")
            else:
                setting = (event.select.id or "").removeprefix("search-")
                plans = draft.apply(self.base, **{setting: value})
        except UserError as exc:
            event.select.value = current  # the draft is unchanged: show what it holds
            self._error(str(exc))
            return
        self._show(plans)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        draft = self.draft
        assert draft is not None
        field, text = event.input, event.value
        key = field.name or ""
        is_trials = field.id == "search-trials"
        current = (
            str(draft.search.n_trials or "") if is_trials else space_text(draft.search.space[key])
        )
        try:
            if text.strip() == current:
                plans = None
            elif is_trials:
                plans = draft.set_trials(self.base, text)
            else:
                plans = draft.set_param(self.base, key, text)
        except UserError as exc:
            field.add_class("-invalid")
            self._error(str(exc))
            return
        field.remove_class("-invalid")
        if plans is not None and not is_trials:
            label = self.query(".space-key").nodes[list(draft.search.space).index(key)]
            assert isinstance(label, Label)
            label.update(f"{escape(key)}: [dim]{escape(space_summary(draft.search.space[key]))}[/]")
        if plans is not None:
            self._show(plans)
        elif not self.query(".-invalid"):
            self.show_budget()
