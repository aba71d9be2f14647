"""What the lab's views have in common: the shared model, the keys of every view, a redraw on a
clock, and a status line that is only re-rendered when its text changes (an update re-lays out
the screen)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from tui_lab.ui.model import LabModel

LAUNCH = Binding(
    "ctrl+r",
    "app.launch",
    "Launch",
    tooltip="Train the Lab's comparison (or walk a toy preset, or run a search preset)",
    show=False,
    priority=True,
    id="launch",
)
PRESETS = Binding(
    "ctrl+o",
    "app.pick_preset",
    "Presets",
    tooltip="Pick a preset (a lecture exercise)",
    show=False,
    priority=True,
    id="presets",
)

# Every view's footer starts with these: the views, quitting and the help, then its own keys.
# The command palette lists every binding of every view (LabApp.get_system_commands).
COMMON_KEYS: list[BindingType] = [
    Binding(
        "f2", "app.switch_mode('lab')", "Lab", tooltip="Choose options and runs", id="mode-lab"
    ),
    Binding(
        "f3",
        "app.switch_mode('compare')",
        "Compare",
        tooltip="Live charts, runs, results and expectations",
        id="mode-compare",
    ),
    Binding(
        "f4",
        "app.switch_mode('toy')",
        "Toy",
        tooltip="The 2-D toy problem: optimizer paths on a contour, edited live",
        id="mode-toy",
    ),
    Binding(
        "f5",
        "app.switch_mode('search')",
        "Search",
        tooltip="Search space, budget, trials, importance",
        id="mode-search",
    ),
    Binding(
        "f6",
        "app.switch_mode('analysis')",
        "Analysis",
        tooltip="Best so far per trial-epoch, parallel coordinates, slices, heat-map",
        id="mode-analysis",
    ),
    Binding(
        "ctrl+q", "app.quit", "Quit", tooltip="Stop every job and quit", priority=True, id="quit"
    ),
    Binding(
        "f1,question_mark",
        "app.toggle_keys",
        "Keys",
        tooltip="Show or hide every key of this view",
        key_display="?",
        id="keys",
    ),
    LAUNCH,
    PRESETS,
]


def view_bindings(view: type[Screen]) -> Iterator[Binding]:
    """A view's bindings as Textual merges them: a subclass's binding replaces its base's for
    the same key, in the place the key first appeared."""
    merged: dict[str, Binding] = {}
    for klass in reversed(view.__mro__):
        if not issubclass(klass, LabView):
            continue  # Textual's own (tab, shift+tab) are in the help, not the palette
        for binding in klass.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding):
                merged[binding.key] = binding
    yield from merged.values()


class LabView(Screen):
    STATUS_ID: ClassVar[str] = ""  # the id of the view's status line, if it has one
    BINDINGS: ClassVar[list[BindingType]] = COMMON_KEYS

    def __init__(self, model: LabModel) -> None:
        super().__init__()
        self.model = model
        self._status_text = ""

    def redraw(self) -> None:
        """Bring the view up to its session; cheap when nothing changed (subclasses)."""

    def redraw_every(self, hz: float) -> None:
        """Redraw on a clock, not per event, and once now."""
        self.set_interval(1 / hz, self.redraw)
        self.redraw()

    def show_status(self, text: str) -> None:
        if text != self._status_text:
            self._status_text = text
            self.query_one(f"#{self.STATUS_ID}", Static).update(text)
