"""How the process ends: the exit codes, and what Ctrl+C or SIGTERM does mid-job."""

from __future__ import annotations

import enum
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    INTERRUPTED = 130


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interruptible(stop: Callable[[str], None]) -> Iterator[threading.Event]:
    """While the block runs, the first Ctrl+C or SIGTERM (what schedulers and containers send)
    calls ``stop("interrupted")`` so the job stops after its current step and writes what is
    finished; a second one exits at once. The event says whether it happened."""
    flag = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if flag.is_set():
            os._exit(ExitCode.INTERRUPTED)
        flag.set()
        print(
            "\ntui-lab: stopping after the current step (Ctrl+C again to quit at once)",
            file=sys.stderr,
        )
        stop("interrupted")

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
