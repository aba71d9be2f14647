"""What many tests share: the tiny configurations that train in a second on the synthetic
blobs, the same as ``--set`` arguments, a comparison built from them, and CSV readers."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace
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
    "training.seeds": 1,  # one run per configuration, named as in the preset
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
    "training.seeds": 1,
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


class FakeNVML:
    """pynvml's functions that the monitor calls, answering for two GPUs; the second cannot
    read its power (as some boards cannot)."""

    NVML_TEMPERATURE_GPU = 0

    class NVMLError(Exception):
        pass

    def __init__(self, count: int = 2, fail_init: bool = False) -> None:
        self.count = count
        self.fail_init = fail_init
        self.inits = 0

    def nvmlInit(self) -> None:
        self.inits += 1
        if self.fail_init:
            raise self.NVMLError("Driver Not Loaded")

    def nvmlDeviceGetCount(self) -> int:
        return self.count

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> bytes:
        return b"NVIDIA H200" if h == 0 else b"NVIDIA L4"

    def nvmlDeviceGetUtilizationRates(self, h: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=87 if h == 0 else 3, memory=40)

    def nvmlDeviceGetMemoryInfo(self, h: int) -> SimpleNamespace:
        return SimpleNamespace(used=(40 if h == 0 else 1) * 2**30, total=140 * 2**30)

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> int:
        return 54 if h == 0 else 31

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        if h == 1:
            raise self.NVMLError("Not Supported")
        return 310_000  # milliwatts

    def nvmlDeviceGetEnforcedPowerLimit(self, h: int) -> int:
        return 700_000
