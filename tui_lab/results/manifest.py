"""experiment.json: what ran, where and how — enough to understand the results and to resume.

Every kind of job (comparison, search, toy problem) writes the same head (``manifest``) and
adds what is its own. ``resumed_experiment`` reads a comparison's back for ``--resume``.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import time
from typing import Any

import torch
from pydantic import ValidationError

from tui_lab import __version__
from tui_lab.config import ExperimentConfig, RunConfig, describe_validation
from tui_lab.errors import ConfigError, ResumeError

# what --resume may change: where and how the runs train, not what they are
RESUME_MAY_CHANGE = (
    "data.data_dir",
    "training.device",
    "training.threads",
    "training.workers",
    "training.checkpoint",
)


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


def resumed_experiment(
    meta: dict[str, Any], overrides: dict[str, Any], where: str
) -> tuple[ExperimentConfig, dict[str, Any]]:
    """The experiment and overrides recorded in ``meta`` (experiment.json of ``where``), with
    the new ``overrides`` merged in. A new override that would change what ran is refused:
    the resumed runs must be the runs whose results are already there."""
    recorded = meta.get("overrides", {})
    if "experiment_config" not in meta or not isinstance(recorded, dict):
        raise ResumeError(
            f"{where}/experiment.json does not record a comparison (no experiment_config); "
            "--resume continues an interrupted comparison. A search resumes by running its "
            "command again."
        )
    try:
        cfg = ExperimentConfig.model_validate(meta["experiment_config"])
        before = dict(cfg.resolved_runs(recorded))
    except (ValidationError, ConfigError) as exc:
        detail = (
            describe_validation(exc, "experiment_config")
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        raise ResumeError(
            f"{where}/experiment.json records a configuration that is not valid ({detail}); it "
            "is damaged or from another tui-lab version. Restore it, or start again with a new "
            "--out directory."
        ) from None
    if cfg.search is not None or cfg.toy2d is not None:
        raise ResumeError(
            f"{where} holds a {'search' if cfg.search else '2-D toy problem'}; --resume "
            "continues a comparison. Run the search's command again to resume it."
        )
    merged = {**recorded, **overrides}
    after = dict(cfg.resolved_runs(merged))
    changed = sorted(
        {
            key
            for name, run in after.items()
            for key, value in _dotted(run.model_dump(mode="json")).items()
            if key not in RESUME_MAY_CHANGE
            and _dotted(before[name].model_dump(mode="json")).get(key) != value
        }
    )
    if changed:
        raise ConfigError(
            f"--resume {where}: the new settings change what ran ({', '.join(changed)}); a "
            "resume continues the runs as they were recorded. Drop those --set options, or "
            "start a new experiment with another --out directory. Only "
            f"{', '.join(RESUME_MAY_CHANGE)} may differ."
        )
    return cfg, merged


def _dotted(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config dump as dotted keys (``{"model": {"arch": ...}}`` → ``model.arch``)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
