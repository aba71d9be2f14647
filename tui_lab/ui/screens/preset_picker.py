"""A modal list of the shipped presets with their descriptions; returns the chosen name."""

from __future__ import annotations

from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui_lab.presets import PresetInfo


class PresetPicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PresetPicker { align: center middle; }
    PresetPicker > Vertical {
        width: 90%; max-width: 110; height: 80%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PresetPicker OptionList { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="cancel")
    ]

    def __init__(self, presets: list[PresetInfo], current: str) -> None:
        super().__init__()
        self.presets = presets
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("[b]Load a preset[/b]  (enter: load · esc: cancel)")
            options = [
                Option(
                    f"[b]{escape(p.name)}[/b]  [dim]{escape(p.lecture)}[/dim]\n"
                    f"  {escape(p.description)}"
                    + (f"\n  [i]{escape(p.step)}[/i]" if p.step else ""),
                    id=p.name,
                )
                for p in self.presets
            ]
            yield OptionList(*options, id="preset-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [p.name for p in self.presets]
        if self.current in names:
            options.highlighted = names.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
