"""The one-line reason an edit was refused, shown under a form until the next valid edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape
from textual.widget import Widget
from textual.widgets import Static

from tui_lab.errors import UserError


class ErrorBox(Static):
    DEFAULT_CSS = """
    ErrorBox {
        height: auto;
        max-height: 4;
        background: $error 20%;
        color: $text;
        padding: 0 1;
        display: none;
    }
    """

    def show(self, message: str | None) -> None:
        """The refusal's reason, or nothing (hidden) when ``message`` is None."""
        self.update(f"[b]✗[/b] {escape(message)}" if message else "")
        self.display = bool(message)

    def attempt(self, widget: Widget, apply: Callable[[], Any]) -> bool:
        """Apply an edit made in ``widget``; a refused one (a user error, validated by the
        core) marks the widget red and shows the reason here. Returns whether it was taken."""
        try:
            apply()
        except UserError as exc:
            widget.add_class("-invalid")
            self.show(str(exc))
            return False
        widget.remove_class("-invalid")
        self.show(None)
        return True
