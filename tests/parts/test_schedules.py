"""Learning-rate schedules: each curve against its closed form and its torch.optim.lr_scheduler
equivalent (per epoch and per step), warm-up in front of every schedule, reduce-on-plateau,
selection by name, and the lr the engine actually logs."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

from tui_lab.config import ExperimentConfig, RunConfig, ScheduleConfig, apply_overrides
from tui_lab.errors import ConfigError
from tui_lab.events import EpochEnded, RunStarted, StepLogged
from tui_lab.presets import load_preset
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.schedules import SCHEDULES, Schedule, restart_phase
from tui_lab.training.comparison import Comparison

A0 = 0.1
EPOCHS = 8
SPE = 4  # steps per epoch in the per-step checks
PERS = ["epoch", "step"]


def our_lrs(name: str, per: str, params: dict, epochs: int = EPOCHS, **extra) -> list[float]:
    """The lr the engine would use at each optimizer step of a run."""
    schedule = Schedule(ScheduleConfig(name=name, per=per, **params, **extra), A0, epochs, SPE)
    return [schedule.lr(step) for step in range(epochs * SPE)]


def progress(step: int, per: str) -> tuple[float, float]:
    """(t in epochs, epochs per lr update) at ``step``."""
    return (step / SPE, 1 / SPE) if per == "step" else (float(step // SPE), 1.0)


def cos_between(start: float, end: float, frac: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * frac)) / 2


def sgdr_reference(t: float) -> float:
    """SGDR with T_0 = 1, T_mult = 2 written out: restarts at epochs 0, 1, 3, 7, 15."""
    starts = [0, 1, 3, 7, 15]
    i = max(k for k, s in enumerate(starts) if s <= t + 1e-12)
    return cos_between(A0, 0.0, (t - starts[i]) / (starts[i + 1] - starts[i]))


def triangle(t: float, half: float) -> tuple[float, int]:
    """(height in [0, 1], 1-based cycle number) of a triangle wave with half-cycle ``half``."""
    cycle = int(t // (2 * half)) + 1
    within = t - (cycle - 1) * 2 * half
    return (within / half if within <= half else (2 * half - within) / half), cycle


def one_cycle_reference(t: float, unit: float) -> float:
    peak_at, end_at = 0.25 * EPOCHS - unit, EPOCHS - unit
    if t <= peak_at:
        return cos_between(A0, 0.5, t / peak_at)
    return cos_between(0.5, A0 / 1e4, (t - peak_at) / (end_at - peak_at))


# name -> (parameters, lr(t, unit)) written from the lectures / papers, independent of the code
CLOSED_FORMS: dict[str, tuple[dict, Callable[[float, float], float]]] = {
    "constant": ({}, lambda t, u: A0),
    "step": ({"gamma": 0.5, "step_size": 3}, lambda t, u: A0 * 0.5 ** (t // 3)),
    "exponential": ({"gamma": 0.7}, lambda t, u: A0 * 0.7**t),
    "inverse_time": ({"decay": 0.5}, lambda t, u: A0 / (1 + 0.5 * t)),
    "power": ({"d": 0.8}, lambda t, u: 0.8**t * A0),
    "inverse_sqrt": ({"d": 0.9}, lambda t, u: 0.9 * A0 / math.sqrt(t) if t >= 1 else 0.9 * A0),
    "cosine": (
        {"eta_min": 0.001},
        lambda t, u: 0.001 + (A0 - 0.001) * (1 + math.cos(math.pi * t / EPOCHS)) / 2,
    ),
    "cosine_restarts": ({"t_0": 1, "t_mult": 2, "eta_min": 0.0}, lambda t, u: sgdr_reference(t)),
    "cyclic_triangular": (
        {"max_lr": 0.5, "cycle_epochs": 1.5},
        lambda t, u: A0 + (0.5 - A0) * triangle(t, 1.5)[0],
    ),
    "cyclic_triangular2": (
        {"max_lr": 0.5, "cycle_epochs": 1.5},
        lambda t, u: A0 + (0.5 - A0) * triangle(t, 1.5)[0] / 2 ** (triangle(t, 1.5)[1] - 1),
    ),
    "cyclic_exp_range": (
        {"max_lr": 0.5, "cycle_epochs": 1.5, "gamma": 0.8},
        lambda t, u: A0 + (0.5 - A0) * triangle(t, 1.5)[0] * 0.8**t,
    ),
    "one_cycle": ({"max_lr": 0.5, "pct_start": 0.25}, one_cycle_reference),
    "plateau": ({"factor": 0.5, "patience": 1}, lambda t, u: A0),  # no val loss observed yet
}


def test_every_schedule_has_a_closed_form_check():
    assert set(CLOSED_FORMS) == set(SCHEDULES)


@pytest.mark.parametrize("per", PERS)
@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_schedule_matches_its_closed_form(name, per):
    params, formula = CLOSED_FORMS[name]
    expected = [formula(*progress(step, per)) for step in range(EPOCHS * SPE)]
    assert our_lrs(name, per, params) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def torch_lrs(make: Callable[[torch.optim.Optimizer], object], n: int) -> list[float]:
    """The lr torch uses at each of ``n`` updates (the scheduler stepped after each one)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=A0)
    scheduler = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return out


# name -> (parameters, torch scheduler given (optimizer, updates per epoch k))
TORCH_EQUIVALENTS = {
    "step": ({"gamma": 0.5, "step_size": 3}, lambda o, k: torch_sched.StepLR(o, 3 * k, gamma=0.5)),
    "exponential": ({"gamma": 0.7}, lambda o, k: torch_sched.ExponentialLR(o, 0.7 ** (1 / k))),
    "power": ({"d": 0.8}, lambda o, k: torch_sched.ExponentialLR(o, 0.8 ** (1 / k))),
    "cosine": (
        {"eta_min": 0.001},
        lambda o, k: torch_sched.CosineAnnealingLR(o, T_max=EPOCHS * k, eta_min=0.001),
    ),
    "cosine_restarts": (
        {"t_0": 2, "t_mult": 2, "eta_min": 0.01},
        lambda o, k: torch_sched.CosineAnnealingWarmRestarts(o, T_0=2 * k, T_mult=2, eta_min=0.01),
    ),
    **{
        f"cyclic_{mode}": (
            {"max_lr": 0.5, "cycle_epochs": 2, "gamma": 0.8}
            if mode == "exp_range"
            else {"max_lr": 0.5, "cycle_epochs": 2},
            lambda o, k, mode=mode: torch_sched.CyclicLR(
                o,
                base_lr=A0,
                max_lr=0.5,
                step_size_up=2 * k,
                mode=mode,
                gamma=0.8 ** (1 / k),
                cycle_momentum=False,
            ),
        )
        for mode in ("triangular", "triangular2", "exp_range")
    },
    "one_cycle": (
        {"max_lr": 0.5, "pct_start": 0.3},
        lambda o, k: torch_sched.OneCycleLR(
            o,
            max_lr=0.5,
            total_steps=EPOCHS * k,
            pct_start=0.3,
            anneal_strategy="cos",
            div_factor=0.5 / A0,
            final_div_factor=1e4,
            cycle_momentum=False,
        ),
    ),
}


@pytest.mark.parametrize("per", PERS)
@pytest.mark.parametrize("name", list(TORCH_EQUIVALENTS))
def test_schedule_matches_torch(name, per):
    params, make = TORCH_EQUIVALENTS[name]
    k = SPE if per == "step" else 1
    expected = torch_lrs(lambda opt: make(opt, k), EPOCHS * k)
    if per == "epoch":
        expected = [lr for lr in expected for _ in range(SPE)]  # one value held for each step
    assert our_lrs(name, per, params) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("per", PERS)
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_warmup_ramps_in_front_of_every_schedule(name, per):
    params = CLOSED_FORMS[name][0]
    plain = our_lrs(name, per, params)
    warmed = our_lrs(name, per, params, warmup_epochs=2)
    n = 2 * SPE if per == "step" else 2  # updates inside the warm-up
    for step, (lr, base) in enumerate(zip(warmed, plain, strict=True)):
        k = step + 1 if per == "step" else step // SPE + 1  # k-th update of the run
        assert lr == pytest.approx(base * min(1.0, k / (n + 1)), rel=1e-12)
    assert 0 < warmed[0] < plain[0] and warmed[2 * SPE :] == plain[2 * SPE :]


@pytest.mark.parametrize("per", PERS)
def test_warmup_matches_torch_linear_lr_chained_with_step_decay(per):
    k = SPE if per == "step" else 1
    n = 1 * k

    def make(opt):
        return torch_sched.ChainedScheduler(
            [
                torch_sched.LinearLR(opt, start_factor=1 / (n + 1), total_iters=n),
                torch_sched.StepLR(opt, 3 * k, gamma=0.5),
            ]
        )

    expected = torch_lrs(make, EPOCHS * k)
    if per == "epoch":
        expected = [lr for lr in expected for _ in range(SPE)]
    got = our_lrs("step", per, {"gamma": 0.5, "step_size": 3}, warmup_epochs=1)
    assert got == pytest.approx(expected, rel=1e-9)


LOSSES = [1.0, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]


@pytest.mark.parametrize("per", PERS)
def test_plateau_matches_torch_reduce_on_plateau(per):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=A0)
    reference = torch_sched.ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=0.02)
    schedule = Schedule(
        ScheduleConfig(name="plateau", per=per, factor=0.5, patience=1, eta_min=0.02), A0, 12, SPE
    )
    ours, theirs = [], []
    for epoch, loss in enumerate(LOSSES):
        ours.append([schedule.lr(epoch * SPE + i) for i in range(SPE)])
        theirs.append([opt.param_groups[0]["lr"]] * SPE)
        schedule.end_epoch(loss)
        reference.step(loss)
    assert ours == theirs
    assert ours[0][0] == A0 and ours[-1][0] == 0.02  # cut twice, then held at the floor


def test_plateau_reductions_survive_warmup():
    schedule = Schedule(
        ScheduleConfig(name="plateau", per="epoch", factor=0.5, patience=0, warmup_epochs=1),
        A0,
        5,
        SPE,
    )
    assert schedule.lr(0) == pytest.approx(A0 / 2)  # epoch 0: half of α0 (1 of 1 warm-up epochs)
    schedule.end_epoch(1.0)
    schedule.end_epoch(1.0)  # no improvement: α0 → α0/2
    assert schedule.lr(2 * SPE) == pytest.approx(A0 / 2)


def test_restart_phase_with_a_fractional_multiplier():
    # periods 1, 1.5, 2.25: restarts at epochs 1, 2.5 and 4.75
    assert restart_phase(0.5, 1.0, 1.5) == pytest.approx((0.5, 1.0))
    assert restart_phase(2.5, 1.0, 1.5) == pytest.approx((0.0, 2.25))
    assert restart_phase(4.0, 1.0, 1.5) == pytest.approx((1.5, 2.25))
    assert restart_phase(7.0, 2.0, 1.0) == pytest.approx((1.0, 2.0))


def test_every_schedule_is_selectable_by_name_with_a_title_and_formula():
    for name, spec in SCHEDULES.items():
        cfg = apply_overrides(RunConfig(), {"schedule.name": name}, where="--set")
        assert cfg.schedule.name == name and spec.title and "α" in spec.formula
        schedule = Schedule(cfg.schedule, A0, 3, SPE)
        lrs = [schedule.lr(step) for step in range(3 * SPE)]
        assert all(math.isfinite(lr) and lr > 0 for lr in lrs), name
        assert schedule.preview(3)[0] == (0.0, lrs[0])  # previewable before training
    assert len({spec.title for spec in SCHEDULES.values()}) == len(SCHEDULES)


def test_unknown_schedule_name_lists_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        apply_overrides(RunConfig(), {"schedule.name": "cosin"}, where="--set")
    message = str(info.value)
    assert "cosin" in message and all(name in message for name in SCHEDULES)


def test_per_defaults_to_the_schedules_own_cadence_and_can_be_overridden():
    assert not Schedule(ScheduleConfig(name="step"), A0, 3, SPE).per_step
    assert Schedule(ScheduleConfig(name="one_cycle"), A0, 3, SPE).per_step
    assert not Schedule(ScheduleConfig(name="cyclic_triangular", per="epoch"), A0, 3, SPE).per_step


def test_presets_compare_the_lecture_schedules():
    def schedules(preset: str) -> set[str]:
        return {rc.schedule.name for _, rc in load_preset(preset).resolved_runs()}

    compared = schedules("lr_schedules")
    assert {"constant", "step", "exponential", "cosine", "cosine_restarts"} <= compared
    assert any(name.startswith("cyclic") for name in compared)
    assert {"inverse_time", "power", "inverse_sqrt"} <= schedules("lr_decay")
    assert load_preset("lr_decay").base.data.dataset == "mnist"
    assert all(load_preset(p).expect for p in ("lr_schedules", "lr_decay"))


def test_logged_lr_follows_the_schedule_in_the_engine():
    """StepLogged (and so steps.csv) carries the lr used at each logged step, for a per-epoch,
    a per-step and an adaptive schedule."""
    torch.set_num_threads(1)
    base = {
        "data": {"dataset": "synthetic", "synthetic_size": 200, "synthetic_shape": [1, 8, 8]},
        "model": {"arch": "logreg"},
        "optimizer": {"name": "sgd", "lr": 0.05},
        "training": {
            "epochs": 4,
            "batch_size": 20,
            "log_every": 1,
            "max_steps": 30,
            "device": "cpu",
        },
    }
    runs = [
        {"name": "step", "set": {"schedule.name": "step", "schedule.step_size": 1}},
        {"name": "one_cycle", "set": {"schedule.name": "one_cycle", "schedule.warmup_epochs": 0.5}},
        {"name": "plateau", "set": {"schedule.name": "plateau", "schedule.patience": 0}},
    ]
    cfg = ExperimentConfig.model_validate({"name": "t", "base": base, "runs": runs})
    events: list = []
    recorder = ResultsRecorder()
    experiment = Comparison(cfg, listeners=[recorder, events.append])
    experiment.run()

    references = {}
    checked = 0
    for event in events:
        if isinstance(event, RunStarted):
            rc = dict(experiment.runs_config)[event.run]
            references[event.run] = Schedule(rc.schedule, 0.05, 4, event.steps_per_epoch)
        elif isinstance(event, StepLogged):
            assert event.lr == pytest.approx(references[event.run].lr(event.step - 1), rel=1e-12)
            checked += 1
        elif isinstance(event, EpochEnded):
            references[event.run].end_epoch(event.val_loss)
    assert checked == 3 * 30
    logged = [event.lr for event in events if isinstance(event, StepLogged)]
    assert [row["lr"] for row in recorder.steps] == logged
    step_lrs = [row["lr"] for row in recorder.steps if row["run"] == "step"]
    assert step_lrs[0] == 0.05 and step_lrs[-1] == pytest.approx(0.05 * 0.5**3)
