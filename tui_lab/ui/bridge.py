"""The one bridge from worker threads to the UI thread.

A session (a comparison, a search, the toy animation) gives its worker thread a ``Relay`` as
listener. The relay only appends the item to a deque and posts ``Arrived``, whose
``can_replace`` lets a burst collapse into one message; the app then calls the session's
``absorb()`` in the UI thread, which drains the deque, updates the session's state and returns
the notices to show. Nothing in a worker thread touches a widget or waits for the UI (no
``call_from_thread`` per batch), so the UI costs training nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from textual.message import Message
from textual.message_pump import MessagePump

Severity = Literal["information", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """Something a session's new items mean for the user: a notification, and whether the
    results are final (the Compare view then shows them at once)."""

    text: str
    title: str = ""
    severity: Severity = "information"
    timeout: float = 5.0
    final: bool = False


class Session(Protocol):
    def absorb(self) -> list[Notice]: ...


class Relay:
    """Listener (worker thread): queue the item and nudge ``target`` (the app)."""

    def __init__(self, target: MessagePump) -> None:
        self.target = target
        self.owner: Session | None = None
        self.queue: deque[Any] = deque()

    def __call__(self, item: Any) -> None:
        self.queue.append(item)
        self.target.post_message(Arrived(self))

    def drain(self) -> list[Any]:
        items = []
        while self.queue:
            items.append(self.queue.popleft())
        return items


class Arrived(Message):
    """New items wait in ``relay``; a newer message replaces an unhandled older one."""

    def __init__(self, relay: Relay) -> None:
        super().__init__()
        self.relay = relay

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Arrived) and message.relay is self.relay
