"""Per-epoch checkpoints of a run's ``state()``, written atomically into ``OUT/checkpoints``.

A checkpoint holds tensors and plain values only and is loaded with
``torch.load(weights_only=True)``: a checkpoint file can never run code.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import torch

from tui_lab.errors import ResumeError
from tui_lab.results.files import atomic_write, write_error

CHECKPOINT_DIR = "checkpoints"


def checkpoint_path(directory: Path, run_name: str) -> Path:
    return directory / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', run_name)}.pt"


def save_checkpoint(directory: Path, run_name: str, state: dict[str, Any]) -> Path:
    """Write ``state`` as the run's checkpoint (temp file + rename: never half a checkpoint).
    It is serialized in memory first, so a full disk is an ``ExportError`` naming the file,
    not a torch writer's enforce message."""
    path = checkpoint_path(directory, run_name)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from None
    atomic_write(path, buffer.getvalue())
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is the same user problem
        first = (str(exc).strip().splitlines() or [""])[0][:200]  # torch's run many lines long
        raise ResumeError(
            f"Checkpoint {path} cannot be loaded ({type(exc).__name__}: {first}). Delete it to "
            "restart that run from scratch, or resume from another directory."
        ) from None
    if not isinstance(state, dict):
        raise ResumeError(
            f"Checkpoint {path} does not hold a run's state (it holds a {type(state).__name__}). "
            "Delete it to restart that run from scratch."
        )
    return state
