"""A launched comparison as the UI holds it, and the bridge from the training thread.

The engine calls its listeners in the training thread. ``EventRelay`` only appends the event
to a deque and posts ``EventsArrived``; that message's ``can_replace`` lets a burst collapse
into one, and the UI thread drains the deque. Nothing in the training thread touches a widget
or waits for the UI (no ``call_from_thread`` per batch), so the UI costs training nothing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from tui_lab.config import ExperimentConfig
from tui_lab.events import Event
from tui_lab.experiment import Experiment
from tui_lab.export import (
    ResultsRecorder,
    RunDirectory,
    check_expectations,
    conclude,
    default_out_dir,
    experiment_metadata,  # fmt: skip
    prepare_out_dir,
)
from tui_lab.ui.history import ComparisonState


class EventsArrived(Message):
    """New events wait in ``comparison``'s relay; a newer one replaces an unhandled older one."""

    def __init__(self, comparison: Comparison) -> None:
        super().__init__()
        self.comparison = comparison

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EventsArrived) and message.comparison is self.comparison


class ComparisonFailed(Message):
    """The experiment could not start: the user error's message, to show on every run."""

    def __init__(self, comparison: Comparison, error: str) -> None:
        super().__init__()
        self.comparison = comparison
        self.error = error


class EventRelay:
    """Listener (worker thread): queue the event, nudge the UI thread with ``nudge()``'s message.

    Shared by comparisons and searches; each owner names its own coalescing message."""

    def __init__(self, target: MessagePump, nudge: Callable[[], Message] | None = None) -> None:
        self.target = target
        self.nudge = nudge
        self.queue: deque[Any] = deque()

    def __call__(self, event: Any) -> None:
        self.queue.append(event)
        if self.nudge is not None:
            self.target.post_message(self.nudge())

    def drain(self) -> list[Any]:
        events = []
        while self.queue:
            events.append(self.queue.popleft())
        return events


class Comparison:
    """One launched experiment: the core ``Experiment``, its results tables and the histories."""

    def __init__(self, cfg: ExperimentConfig, target: MessagePump, argv: list[str]) -> None:
        self.cfg = cfg
        self.relay = EventRelay(target)
        self.experiment = Experiment(cfg, {}, [self.relay])
        self.relay.nudge = lambda: EventsArrived(self)
        self.recorder = ResultsRecorder()
        self.state = ComparisonState([name for name, _ in self.experiment.runs_config])
        self.metadata = experiment_metadata(cfg, self.experiment.runs_config, argv, {})
        self.launched = time.monotonic()
        self._expectations: list | None = None

    def expectations(self) -> list | None:
        """The preset's expectations checked against the results, once the comparison is over."""
        if self._expectations is None and self.state.finished is not None:
            self._expectations = check_expectations(self.cfg, self.recorder)
        return self._expectations

    def show_recorded(self, app: Any, events: list[Event]) -> None:
        """Display recorded events in the Compare view as if they had just streamed in
        (screenshots and snapshot tests: pictures that do not depend on timers)."""
        self.relay.queue.extend(events)
        self.absorb()
        app.comparison = self
        app.switch_mode("compare")

    def absorb(self) -> list[Event]:
        """Move queued events into the recorder and the histories (UI thread)."""
        events = self.relay.drain()
        for event in events:
            self.recorder(event)
            self.state.apply(event)
        return events

    def export(self, fmt: str = "csv", out: Path | None = None) -> Path:
        """Write the same files as ``tui-lab --export`` into ``out`` (default runs/<preset>-<time>/):
        during training a snapshot, once finished the final files with expectations and report."""
        path = prepare_out_dir(out or default_out_dir(self.cfg.name))
        writer = RunDirectory(path, fmt, dict(self.metadata), self.recorder)
        finished = self.state.finished
        if finished is None:
            writer.write()
            return path
        conclude(self.cfg, self.recorder, writer, finished.status)
        return path
