"""Training runs side by side: reproducible, failures isolated, divergence pinned to its step,
stop and pause obeyed from another thread."""

from __future__ import annotations

import threading

import pytest
import torch
from support import TINY_CNN, comparison

from tui_lab.errors import DeviceError
from tui_lab.events import EpochEnded, RunFinished, StepLogged

SMALL = {**TINY_CNN, "data.synthetic_size": 1500, "data.val_fraction": 0.2, "training.epochs": 2}


def experiment(runs, base=SMALL, listeners=()):
    return comparison(runs, base, listeners)


def _numbers(rec, run):
    return [
        {k: v for k, v in m.items() if "seconds" not in k} for m in rec.metrics if m["run"] == run
    ]


def test_a_runs_numbers_do_not_depend_on_its_siblings_or_on_parallel_workers():
    """Each run draws batches and dropout masks from its own generators: trained beside others in
    parallel worker threads, in lockstep in one thread, or alone, with the same torch thread count
    it gives the same numbers, and the same command twice gives the same numbers."""
    base = {**SMALL, "model.dropout": 0.3, "training.threads": 1}
    runs = [
        {"name": "adam", "set": {"optimizer.name": "adam"}},
        {"name": "sgd", "set": {"optimizer.name": "momentum", "optimizer.lr": 0.05}},
        {"name": "rms", "set": {"optimizer.name": "rmsprop"}},
    ]
    parallel, rec_parallel = experiment(runs, base)
    assert parallel.parallelism(len(runs))[0] == min(3, torch.get_num_threads())
    parallel.run()
    lockstep, rec_lockstep = experiment(runs, {**base, "training.workers": 1})
    lockstep.run()
    alone, rec_alone = experiment(runs[:1], base)
    alone.run()
    again, rec_again = experiment(runs[:1], base)
    again.run()
    assert (
        _numbers(rec_parallel, "adam")
        == _numbers(rec_lockstep, "adam")
        == _numbers(rec_alone, "adam")
    )
    assert _numbers(rec_parallel, "rms") == _numbers(rec_lockstep, "rms")
    assert _numbers(rec_alone, "adam") == _numbers(rec_again, "adam")
    assert len(_numbers(rec_parallel, "sgd")) == 2


def test_runs_learn_and_report_every_epoch():
    exp, rec = experiment([{"name": "adam", "set": {"optimizer.lr": 0.003}}])
    (result,) = exp.run()
    assert result.status == "completed" and result.epochs == 2
    assert [m["epoch"] for m in rec.metrics] == [1, 2]
    assert result.test_acc is not None and result.test_acc > 0.5  # 10 classes: chance is 0.1
    assert rec.metrics[-1]["train_loss"] < rec.steps[0]["loss"]
    assert all(s["lr"] > 0 for s in rec.steps)


def test_divergence_is_pinned_to_its_step_and_siblings_go_on():
    exp, rec = experiment(
        [
            {"name": "wild", "set": {"optimizer.name": "sgd", "optimizer.lr": 100.0}},
            {"name": "calm", "set": {"optimizer.name": "adam"}},
        ]
    )
    wild, calm = exp.run()
    assert wild.status == "diverged" and wild.diverged_at is not None
    assert 1 <= wild.diverged_at <= wild.steps
    assert all(s["step"] < wild.diverged_at for s in rec.steps if s["run"] == "wild")
    assert calm.status == "completed"


def test_max_steps_caps_a_run_with_a_partial_epoch():
    exp, rec = experiment([{"name": "a"}])
    exp.runs[0].cfg.training.max_steps = 7
    (result,) = exp.run()
    assert result.steps == 7 and result.status == "completed"
    assert len(rec.metrics) == 1


def test_stop_from_another_thread_ends_after_the_current_step():
    seen = []

    def stop_after_first_log(event):
        if isinstance(event, StepLogged) and not seen:
            seen.append(event.step)
            threading.Thread(target=exp.stop).start()

    exp, _ = experiment([{"name": "a"}, {"name": "b"}], listeners=[stop_after_first_log])
    results = exp.run()
    assert {r.status for r in results} == {"stopped"}
    assert all(r.steps < 2 * 15 for r in results)


def test_pause_holds_a_run_while_others_advance():
    steps_while_paused = []

    def watch(event):
        if isinstance(event, StepLogged) and event.run == "b" and exp.runs[0].paused:
            steps_while_paused.append(event.step)
        if isinstance(event, EpochEnded) and event.run == "b" and event.epoch == 1:
            exp.runs[0].resume()

    exp, _ = experiment([{"name": "a"}, {"name": "b"}], listeners=[watch])
    exp.runs[0].pause()
    results = exp.run()
    assert steps_while_paused and all(r.status == "completed" for r in results)


def test_an_exception_in_one_run_fails_that_run_only(monkeypatch):
    exp, _ = experiment([{"name": "boom"}, {"name": "fine"}])
    exp.prepare()
    original = exp.runs[0]._train_steps

    def explode(steps):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(exp.runs[0], "_train_steps", explode)
    boom, fine = exp.run()
    assert boom.status == "failed" and "out of memory" in boom.error and "batch_size" in boom.error
    assert fine.status == "completed"
    assert original  # the other run used the real loop


def test_l1_l2_penalties_shrink_weights():
    norms = {}
    for name, l2 in (("plain", 0.0), ("l2", 0.05)):
        exp, _ = experiment(
            [
                {
                    "name": name,
                    "set": {"training.l2": l2, "optimizer.name": "sgd", "optimizer.lr": 0.05},
                }
            ]
        )
        exp.run()
        norms[name] = sum(
            p.pow(2).sum().item() for p in exp.runs[0].parts.model.parameters() if p.dim() > 1
        )
    assert norms["l2"] < norms["plain"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: no error to provoke")
def test_cuda_without_cuda_is_a_device_error():
    exp, _ = experiment([{"name": "a", "set": {"training.device": "cuda"}}])
    with pytest.raises(DeviceError, match="no CUDA device"):
        exp.run()


def test_finished_event_carries_epochs_to_target():
    events = []
    exp, _ = experiment(
        [{"name": "a", "set": {"training.target_acc": 0.2}}], listeners=[events.append]
    )
    exp.run()
    (finished,) = [e for e in events if isinstance(e, RunFinished)]
    assert finished.epochs_to_target == 1
