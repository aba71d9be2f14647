"""experiment.json: what ran, where and how — enough to understand the results and to resume.

Every kind of job (comparison, search, toy problem) writes the same head (``manifest``) and
adds what is its own.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import time
from typing import Any

import torch

from tui_lab import __version__
from tui_lab.config import ExperimentConfig, RunConfig


def environment() -> dict[str, Any]:
    return {
        "tui_lab": __version__,
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
    }


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def writer() -> dict[str, Any]:
    """The process writing an export: whoever follows it (``tui-lab open``) can tell whether
    it is still at work (results/exports.py)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def manifest(cfg: ExperimentConfig, command: list[str] | None, **extra: Any) -> dict[str, Any]:
    """The head every experiment.json starts with, then ``extra``."""
    return {
        "preset": cfg.name,
        "description": cfg.description,
        "lecture": cfg.lecture,
        "step": cfg.step,
        "command": command,
        "started": now(),
        "environment": environment(),
        "writer": writer(),
        **extra,
    }


def comparison_manifest(
    cfg: ExperimentConfig,
    runs: list[tuple[str, RunConfig]],
    command: list[str] | None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A comparison's experiment.json: each run's resolved config, and the preset and
    overrides that ``--resume`` rebuilds the comparison from."""
    return manifest(
        cfg,
        command,
        runs={name: rc.model_dump(mode="json") for name, rc in runs},
        expect=[e.model_dump(mode="json") for e in cfg.expect],
        experiment_config=cfg.model_dump(mode="json"),
        overrides=overrides or {},
    )
