"""A modal asking which study to follow: its storage URL and its name; returns both."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from tui_lab.ui.screens.dialog import Dialog


class AttachDialog(Dialog[tuple[str, str]]):
    def __init__(self, storage: str, study: str) -> None:
        super().__init__()
        self.storage = storage
        self.study = study

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "[b]Follow a study[/b] read-only, as other processes or machines run its "
                "trials  (enter: follow · esc: cancel)"
            )
            yield Label("storage: a database URL or a .journal file")
            yield Input(
                self.storage,
                placeholder="postgresql://user@host/db  or  runs/…/study.journal",
                id="attach-storage",
            )
            yield Label("study name (--study; by default the preset's name)")
            yield Input(self.study, placeholder="study name", id="attach-study")

    def on_mount(self) -> None:
        self.query_one("#attach-storage" if not self.storage else "#attach-study", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        fields = [self.query_one("#attach-storage", Input), self.query_one("#attach-study", Input)]
        empty = next((f for f in fields if not f.value.strip()), None)
        if empty is not None:
            empty.focus()
            return
        self.dismiss((fields[0].value.strip(), fields[1].value.strip()))
