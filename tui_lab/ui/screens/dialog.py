"""What the lab's small modal questions share: a framed box in the middle of the screen, and
escape to cancel (the answer is then None)."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen

Answer = TypeVar("Answer")


class Dialog(ModalScreen[Answer | None]):
    """Subclasses compose one ``Vertical`` of labels and inputs."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 90%; max-width: 90; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    Dialog Label { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="cancel")
    ]
