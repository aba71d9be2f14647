"""A modal asking for a past comparison's out dir, whose runs the Lab's next launch draws as
reference lines beside its own; returns the path (empty: no reference runs)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from tui_lab.ui.screens.dialog import Dialog


class ReferenceDialog(Dialog[str]):
    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "[b]Reference runs[/b]: the runs of a past comparison, drawn beside the next "
                "launch  (enter: add · esc: cancel)"
            )
            yield Label("the export's out dir (empty: no reference runs)")
            yield Input(placeholder="runs/adam_vs_sgd-20260101-120000", id="reference-dir")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())
