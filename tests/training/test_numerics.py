"""Numerics chosen by measurement on the machine that runs: every open candidate timed once,
the fastest kept in the user cache and recorded with why; an explicit setting obeyed."""

from __future__ import annotations

import json

import pytest
import torch
from support import TINY_CNN, TINY_MLP, as_sets

from tui_lab.cli.main import main
from tui_lab.config import RunConfig, apply_overrides
from tui_lab.events import RunStarted
from tui_lab.training import autotune
from tui_lab.training.numerics import cache_path, candidates
from tui_lab.training.run import Run


def started(overrides: dict) -> tuple[RunStarted, Run]:
    events: list = []
    run = Run("r", apply_overrides(RunConfig(), overrides, "test"), 0, events.append)
    run.setup()
    (event,) = [e for e in events if isinstance(e, RunStarted)]
    return event, run


def test_the_candidates_are_what_the_settings_leave_open():
    cpu = torch.device("cpu")
    cnn = apply_overrides(RunConfig(), TINY_CNN, "test")
    assert [c.label for c in candidates(cnn, cpu)] == [
        "fp32",
        "fp32 channels_last",
        "bf16",
        "bf16 channels_last",
    ]
    mlp = apply_overrides(RunConfig(), TINY_MLP, "test")
    assert [c.label for c in candidates(mlp, cpu)] == ["fp32", "bf16"]  # no layout to choose
    fixed = apply_overrides(cnn, {"training.precision": "fp32"}, "test")
    assert [c.label for c in candidates(fixed, cpu)] == ["fp32", "fp32 channels_last"]


def test_an_explicit_choice_is_obeyed_and_nothing_is_timed(monkeypatch):
    monkeypatch.setattr(autotune, "ms_per_step", lambda *a: pytest.fail("timed an explicit choice"))
    event, run = started(
        {**TINY_CNN, "training.precision": "fp32", "training.channels_last": False}
    )
    assert event.precision == "fp32" and "as set" in event.numerics
    assert run.parts is not None and run.parts.numerics.autocast_dtype is None


def test_auto_times_each_candidate_once_then_remembers_the_fastest(monkeypatch):
    timed: list[str] = []
    fake = {"fp32": 9.0, "fp32 channels_last": 7.0, "bf16": 30.0, "bf16 channels_last": 8.0}

    def ms_per_step(cfg, device, data, batch, numerics, best):
        timed.append(numerics.label)
        return fake[numerics.label]

    monkeypatch.setattr(autotune, "ms_per_step", ms_per_step)
    config = {**TINY_CNN, "model.hidden": 24}  # a workload no other test has measured
    event, run = started(config)
    assert sorted(timed) == sorted(fake) and event.precision == "fp32 channels_last"
    assert "fastest measured here: fp32 channels_last 7.0 ms/step" in event.numerics
    assert run.parts is not None and run.parts.numerics.channels_last
    machines = json.loads(cache_path().read_text()).values()
    assert any(e["choice"] == "fp32 channels_last" for m in machines for e in m.values())
    again, _ = started(config)
    assert len(timed) == len(fake) and again.precision == "fp32 channels_last"
    assert "fastest here, measured" in again.numerics


def test_the_choice_and_why_are_in_experiment_json(tmp_path):

    out = tmp_path / "out"
    assert (
        main(
            [
                "--preset",
                "baseline_cnn",
                "--export",
                "csv",
                "--max-steps",
                "4",
                "--out",
                str(out),
                *as_sets(TINY_CNN),
            ]
        )
        == 0
    )
    numerics = json.loads((out / "experiment.json").read_text())["numerics"]
    (entry,) = numerics.values()
    assert entry["why"]
    assert entry["precision"].split()[0] in ("fp32", "bf16")
