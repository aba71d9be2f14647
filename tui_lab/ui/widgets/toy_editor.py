"""The toy view's editor: the selected run's hyperparameters (η, γ, β1, β2 … as its optimizer
reads them) and the start point, each edit walked again at once (ui/sessions/toy.py), and why
the run diverged where its rule's bound says so."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from tui_lab.optim.catalog import HYPERPARAMETER_HELP, OPTIMIZERS
from tui_lab.ui.sessions.toy import ToySession
from tui_lab.ui.widgets.config_panels import FieldRow, value_text
from tui_lab.ui.widgets.error_box import ErrorBox

START_KEYS = ("x1", "x2")


def symbol(key: str) -> str:
    """The lecture's letter for a hyperparameter (η, γ, β1 …), from its help text."""
    return HYPERPARAMETER_HELP.get(key, key).split(":")[0]


class ToyEditor(VerticalScroll):
    """Fields named by their key (``lr``, ``x1`` …); the screen applies what is typed."""

    DEFAULT_CSS = """
    ToyEditor { width: 30; padding: 0 1; border-left: vkey $primary 40%; scrollbar-gutter: stable; }
    ToyEditor FieldRow { margin-bottom: 0; }
    ToyEditor FieldRow > Label { width: 13; }
    ToyEditor .heading { margin-top: 1; width: 100%; }
    ToyEditor #toy-note { color: $error; height: auto; margin-top: 1; }
    """
    can_focus = False

    def __init__(self, session: ToySession, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.keys: tuple[str, ...] = ()

    def _run_keys(self) -> tuple[str, ...]:
        run = self.session.problem.runs[self.session.selected]
        return tuple(OPTIMIZERS[run.optimizer].defaults)

    def compose(self) -> ComposeResult:
        session = self.session
        run = session.problem.runs[session.selected]
        spec = OPTIMIZERS[run.optimizer]
        self.keys = self._run_keys()
        yield Static(f"[b]{run.label}[/b] · {spec.title}", id="toy-run-title")
        for key in self.keys:
            with FieldRow():
                yield Label(f"{symbol(key)} ({key})")
                yield Input(
                    placeholder=f"default {spec.defaults[key]:g}",
                    name=key,
                    compact=True,
                    id=f"toy-{key}",
                )
        yield Label("[b]start[/b] (arrows or click on the plot)", classes="heading")
        for key in START_KEYS:
            with FieldRow():
                yield Label(key)
                yield Input(name=key, compact=True, id=f"toy-{key}")
        yield ErrorBox(id="toy-error")
        yield Static(id="toy-note")

    def on_mount(self) -> None:
        self.show(self.session)

    def show(self, session: ToySession, keep: Widget | None = None) -> bool:
        """Every field from the session (but ``keep``, being typed in, and red ones); True
        when the selected run takes other fields (the caller recomposes)."""
        self.session = session
        if self._run_keys() != self.keys:
            return True
        run = session.problem.runs[session.selected]
        values = {key: getattr(run, key) for key in self.keys}
        values.update(zip(START_KEYS, session.problem.start, strict=True))
        for key, value in values.items():
            field = self.query_one(f"#toy-{key}", Input)
            text = value_text(value)
            if field is not keep and not field.has_class("-invalid") and field.value != text:
                with field.prevent(Input.Changed):
                    field.value = text
        self.query_one("#toy-run-title", Static).update(
            f"[b]{run.label}[/b] · {OPTIMIZERS[run.optimizer].title}"
        )
        note = session.note(session.selected)
        self.query_one("#toy-note", Static).update(note or "")
        return False
