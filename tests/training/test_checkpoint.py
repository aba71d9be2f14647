"""Checkpoints: a run saved after an epoch and loaded into a fresh process continues exactly
as if it had never stopped; a file that is not a run's state is refused in one paragraph."""

from __future__ import annotations

import pytest
import torch
from support import TINY_CNN

from tui_lab.config import RunConfig, apply_overrides
from tui_lab.errors import ResumeError
from tui_lab.events import EpochEnded
from tui_lab.training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from tui_lab.training.run import Run

CFG = {**TINY_CNN, "training.epochs": 3, "model.dropout": 0.3, "training.threads": 1}


def epochs_of(run_events: list) -> list[tuple]:
    return [
        (e.epoch, e.step, round(e.train_loss, 6), e.val_acc)
        for e in run_events
        if isinstance(e, EpochEnded)
    ]


def make_run(events: list, checkpoint_dir=None) -> Run:
    cfg = apply_overrides(
        RunConfig(), {**CFG, "training.checkpoint": checkpoint_dir is not None}, "test"
    )
    run = Run("adam", cfg, 0, events.append, checkpoint_dir=checkpoint_dir)
    run.setup()
    return run


def test_a_run_resumed_from_its_checkpoint_matches_an_uninterrupted_one(tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        whole: list = []
        uninterrupted = make_run(whole)
        while uninterrupted.advance(10):
            pass
        first: list = []
        killed = make_run(first, tmp_path)
        while killed.epoch < 1:
            killed.advance(10)
        state = load_checkpoint(checkpoint_path(tmp_path, "adam"))
        resumed: list = []
        again = make_run(resumed)
        again.load_state(state)
        while again.advance(10):
            pass
    finally:
        torch.set_num_threads(before)
    assert epochs_of(first)[:1] + epochs_of(resumed) == epochs_of(whole)
    assert again.result is not None and uninterrupted.result is not None
    assert again.result.test_acc == uninterrupted.result.test_acc


def test_a_file_that_is_not_a_runs_state_is_refused(tmp_path):
    path = tmp_path / "adam.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(ResumeError, match="does not hold a run's state"):
        load_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ResumeError, match="cannot be loaded"):
        load_checkpoint(path)


def test_checkpoints_hold_only_tensors_and_plain_values(tmp_path):
    events: list = []
    run = make_run(events, tmp_path)
    path = save_checkpoint(tmp_path, run.name, run.state())
    state = torch.load(path, weights_only=True)  # refuses anything that could run code
    assert state["step"] == 0 and set(state) >= {
        "model",
        "optimizer",
        "shuffle_state",
        "dropout_state",
    }


def test_a_run_loaded_after_its_last_epoch_only_finishes(tmp_path):
    """Killed during the final test evaluation: the last checkpoint is there, the end is not.
    Loaded again, the run evaluates and finishes at once, as the uninterrupted one did."""
    whole: list = []
    finished = make_run(whole, tmp_path)
    while finished.advance(10):
        pass
    events: list = []
    again = make_run(events)
    again.load_state(load_checkpoint(checkpoint_path(tmp_path, "adam")))
    assert again.advance(10) is False
    assert again.result is not None and finished.result is not None
    assert (again.result.status, again.result.steps) == ("completed", finished.result.steps)
    assert again.result.test_acc == finished.result.test_acc
    assert not any(isinstance(e, EpochEnded) for e in events)


def test_a_run_that_fails_before_setup_records_the_failure():
    run = Run("adam", apply_overrides(RunConfig(), CFG, "test"), 0, [].append)
    run.fail("DataError: the data is gone")
    assert run.result is not None and run.result.status == "failed"
    assert run.result.error == "DataError: the data is gone" and run.result.epochs == 0
