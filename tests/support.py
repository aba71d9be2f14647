"""What many tests share: the tiny configurations that train in a second on the synthetic
blobs, the same as ``--set`` arguments, a comparison built from them, and CSV readers."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tui_lab.config import ExperimentConfig
from tui_lab.results.columns import Columns
from tui_lab.results.files import read_csv
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.training.comparison import Comparison

# a small CNN on the synthetic blobs: learns well past chance within an epoch or two
TINY_CNN: dict[str, Any] = {
    "data.dataset": "synthetic",
    "data.synthetic_size": 400,
    "model.filters": [8, 16],
    "model.hidden": 32,
    "training.device": "cpu",
    "training.batch_size": 32,
    "training.log_every": 5,
}
# an MLP for tests that only need events to flow (UI tests: milliseconds a step)
TINY_MLP: dict[str, Any] = {
    "data.dataset": "synthetic",
    "data.synthetic_size": 200,
    "model.arch": "mlp",
    "model.hidden": 8,
    "training.device": "cpu",
    "training.epochs": 2,
    "training.batch_size": 32,
    "training.log_every": 2,
    "training.threads": 1,
}


def toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return str(value)


def as_sets(overrides: dict[str, Any]) -> list[str]:
    """The same overrides as command-line arguments: ``--set key=value`` each."""
    return [arg for key, value in overrides.items() for arg in ("--set", f"{key}={toml(value)}")]


def nested(overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Dotted keys as a preset's ``[base]`` tables."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        section, name = key.split(".", 1)
        out.setdefault(section, {})[name] = value
    return out


def comparison_config(
    runs: list[dict[str, Any]], base: dict[str, Any] | None = None, **extra: Any
) -> ExperimentConfig:
    """A preset of ``runs`` over ``base`` (dotted keys; default TINY_CNN)."""
    data = {"name": "t", "base": nested(TINY_CNN if base is None else base), "runs": runs, **extra}
    return ExperimentConfig.model_validate(data)


def comparison(
    runs: list[dict[str, Any]], base: dict[str, Any] | None = None, listeners=()
) -> tuple[Comparison, ResultsRecorder]:
    """A comparison with a recorder listening: (comparison, recorder)."""
    recorder = ResultsRecorder()
    return Comparison(comparison_config(runs, base), listeners=[recorder, *listeners]), recorder


def rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as written (strings)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def typed_rows(path: Path, columns: Columns) -> list[dict[str, Any]]:
    """A result file's rows read back as tui-lab reads them (numbers as numbers)."""
    return read_csv(path, columns)
