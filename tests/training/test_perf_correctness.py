"""The performance properties that must not regress silently (no timing assertions here):
data held once as uint8, one host sync per logged window, the fused input normalization,
the ``training.threads`` option, and the fast presets' validity."""

from __future__ import annotations

import dataclasses
import sys

import pytest
import torch

from tui_lab.config import ExperimentConfig, RunConfig, apply_overrides
from tui_lab.data.tensors import load_dataset, normalize
from tui_lab.presets import load_preset
from tui_lab.training.comparison import Comparison
from tui_lab.training.run import Run

SMALL = {
    "data.dataset": "synthetic",
    "data.synthetic_size": 3000,
    "model.filters": [4, 8],
    "model.hidden": 16,
    "training.batch_size": 32,
    "training.device": "cpu",
    "training.log_every": 20,
}


def small_run(**extra) -> Run:
    run = Run(
        "perf", apply_overrides(RunConfig(), {**SMALL, **extra}, where="test"), 0, lambda e: None
    )
    run.setup()
    return run


def test_images_stay_uint8_and_no_float_copy_of_the_set_is_kept():
    run = small_run()
    run.advance(30)
    assert run.parts is not None
    data = run.parts.data
    for split in (data.train, data.val, data.test):
        assert split.x.dtype == torch.uint8
    set_size = data.train.x.numel()
    held = [getattr(data, f.name) for f in dataclasses.fields(data)] + list(data.input_affine)
    floats = [t for t in held if isinstance(t, torch.Tensor) and t.is_floating_point()]
    assert floats and all(t.numel() < set_size for t in floats)


def count_syncs(monkeypatch, run: Run, steps: int) -> list[str]:
    """Reads of tensor values made by tui-lab's own code while ``run`` trains ``steps`` (torch.
    optim's host-side step counters are plain CPU scalars, not reads of the training device)."""
    syncs: list[str] = []
    for name in ("item", "tolist", "__float__", "__int__", "__bool__", "cpu", "numpy"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            if sys._getframe(1).f_globals.get("__name__", "").startswith("tui_lab"):
                syncs.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    run.advance(steps)
    assert run.step == steps
    return syncs


def test_sixty_steps_sync_with_the_host_once_per_logged_window(monkeypatch):
    # 2,700 training images / 32 = 85 steps per epoch: no epoch end below
    unwatched = {"training.internals_every": 0, "training.sharpness_every": 0}
    syncs = count_syncs(monkeypatch, small_run(**unwatched), 60)
    assert len(syncs) <= 3, syncs


def test_a_look_inside_the_optimizer_reads_the_device_once(monkeypatch):
    """Watched steps 1, 20, 40, 60 and sharpness estimates before steps 1 and 31: each reads
    its numbers in one transfer (and Adam's step count, a CPU scalar)."""
    watched = {"training.internals_every": 20, "training.sharpness_every": 30}
    syncs = count_syncs(monkeypatch, small_run(**watched), 60)
    assert len(syncs) <= 3 + 4 * 2 + 2, syncs


def test_fused_normalization_matches_the_textbook_formula():
    run = small_run()
    assert run.parts is not None
    data = run.parts.data
    xb = data.train.x[:16]
    textbook = (xb.float() / 255.0 - data.mean) / data.std
    fused = normalize(xb, data, channels_last=True)
    assert fused.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fused, textbook, rtol=1e-5, atol=1e-5)


def test_threads_option_applies_during_the_run_and_is_restored():
    seen = []
    cfg = ExperimentConfig.model_validate(
        {"name": "t", "runs": [{"name": "one", "set": {"training.threads": 1}}]}
    )
    overrides = {**SMALL, "training.max_steps": 5, "data.synthetic_size": 200}
    comparison = Comparison(cfg, overrides, [lambda event: seen.append(torch.get_num_threads())])
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        comparison.run()
        assert 1 in seen
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["fast_fashion", "fast_mnist"])
def test_fast_presets_are_valid_and_use_the_fast_recipe(name):
    cfg = load_preset(name)
    ((_, run),) = cfg.resolved_runs()
    assert cfg.lecture == "Performance" and cfg.expect
    assert run.schedule.name == "one_cycle" and run.optimizer.beta1 == 0.7
    assert run.training.precision == "auto"  # bf16 + channels_last where the CPU has it


def test_dataset_loads_once_per_process():
    cfg = apply_overrides(RunConfig(), SMALL, where="test").data
    assert load_dataset(cfg, torch.device("cpu")) is load_dataset(cfg, torch.device("cpu"))
