"""What the lab's views have in common: the shared model, a redraw on a clock, and a status
line that is only re-rendered when its text changes (an update re-lays out the screen)."""

from __future__ import annotations

from typing import ClassVar

from textual.screen import Screen
from textual.widgets import Static

from tui_lab.ui.model import LabModel


class LabView(Screen):
    STATUS_ID: ClassVar[str] = ""  # the id of the view's status line, if it has one

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
