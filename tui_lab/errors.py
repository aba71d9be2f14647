"""Errors a user can fix, and the one-line description of a failure that is not theirs.

A ``UserError``'s message says what is wrong, where, and how to fix it; the CLI prints it as
one paragraph and exits 2, the TUI shows it in a notification. Any other exception inside a
run fails that run only, described by ``describe_failure``.
"""

from __future__ import annotations

import traceback
from pathlib import Path

# how torch, the C++ runtime and Python word it per device and allocator
MEMORY_WORDS = (
    "out of memory",
    "cannot allocate memory",  # "[enforce fail at alloc_cpu.cpp] ... Cannot allocate memory"
    "can't allocate memory",
    "bad_alloc",  # std::bad_alloc
    "memoryerror",
)


class UserError(Exception):
    """Bad input: the message says what is wrong, where, and how to fix it."""


class ConfigError(UserError):
    """An invalid option, preset or --set override."""


class DataError(UserError):
    """A dataset that is missing, unreadable or corrupt."""


class DeviceError(UserError):
    """A device that this machine does not have."""


class ExportError(UserError):
    """The out dir cannot be created or written (permissions, full disk)."""


class ResumeError(UserError):
    """A directory that cannot be resumed (not a tui-lab out dir, corrupt checkpoint)."""


class OpenError(UserError):
    """A directory that cannot be opened as an export (not one, damaged, files mixed up)."""


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says the machine ran out of memory."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(word in text for word in MEMORY_WORDS)


def describe_failure(exc: BaseException) -> str:
    """``Type: message (at file:line)``, at most about 500 characters, with a hint when the
    machine ran out of memory."""
    text = f"{type(exc).__name__}: {exc}"
    if out_of_memory(exc):
        text += " — out of memory: lower training.batch_size or use a smaller model."
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return text[:500] + where
