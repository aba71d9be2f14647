"""The optimizer zoo: every lecture rule matches its formula and its torch.optim counterpart.

Three kinds of evidence per optimizer:
- the ``lecture`` class reproduces the lecture's formula, restated below on plain floats;
- on the same model, seed and batches, ``lecture`` and ``torch`` agree to float32 tolerance
  over 50 steps, in the settings where the two parametrizations coincide;
- where they do not coincide (η placement, ε placement, bias correction, NAdam's μ schedule),
  the exact difference stated in lectures.py holds.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tui_lab.config import ExperimentConfig, OptimizerConfig, RunConfig, apply_overrides
from tui_lab.errors import ConfigError
from tui_lab.optim.build import LECTURE_RULES, TORCH_FACTORIES, build_optimizer
from tui_lab.optim.catalog import OPTIMIZERS
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.training.comparison import Comparison
from tui_lab.training.run import effective_batch_size

ISSUE_OPTIMIZERS = {
    "batch_gd",
    "sgd_1",
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamax",
    "nadam",
    "amsgrad",
    "adamw",
}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: intra-op threads only add overhead on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def nadam_torch_schedule(beta1: float) -> Callable[[int], float]:
    """torch.optim.NAdam's momentum μₜ at its default momentum_decay ψ = 0.004."""
    return lambda t: beta1 * (1.0 - 0.5 * 0.96 ** (t * 0.004))


# Settings in which the two parametrizations coincide: (hyperparameter overrides, extra
# arguments of the lecture class). Everything not listed coincides at its defaults.
EQUIVALENT_SETTINGS: dict[str, tuple[dict[str, float], dict]] = {
    "adagrad": ({"eps": 0.0}, {}),
    "rmsprop": ({"eps": 0.0}, {}),
    "adamax": ({"eps": 0.0}, {}),
    "amsgrad": ({}, {"bias_correction": True}),
    "nadam": ({}, {"momentum_schedule": nadam_torch_schedule(0.9)}),
}


def tiny_model(dtype: torch.dtype = torch.float32) -> nn.Module:
    """tanh keeps every gradient entry nonzero, so ε = 0 never divides zero by zero."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3)).to(dtype)


class Batches:
    """The same 16-example mini-batches, in the same order, for every optimizer under test."""

    def __init__(self, dtype: torch.dtype = torch.float32):
        gen = torch.Generator().manual_seed(1)
        self.x = torch.randn(64, 8, generator=gen, dtype=dtype)
        self.y = torch.randint(0, 3, (64,), generator=gen)
        self.order = torch.randint(0, 64, (200, 16), generator=gen)

    def train(self, model: nn.Module, opt: torch.optim.Optimizer, steps: range) -> None:
        for k in steps:
            idx = self.order[k]
            opt.zero_grad()
            F.cross_entropy(model(self.x[idx]), self.y[idx]).backward()
            opt.step()


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# ------------------------------------------------------------------------- registry and config


def test_registry_has_every_optimizer_of_the_issue_with_both_impls_and_a_description():
    assert set(OPTIMIZERS) == ISSUE_OPTIMIZERS == set(TORCH_FACTORIES) == set(LECTURE_RULES)
    param = nn.Parameter(torch.zeros(2))
    for name, spec in OPTIMIZERS.items():
        assert isinstance(
            build_optimizer(spec.name, [param], spec.defaults, "torch"), torch.optim.Optimizer
        )
        lecture = build_optimizer(spec.name, [param], spec.defaults, "lecture")
        assert type(lecture).__module__ == "tui_lab.optim.lectures", name
        text = spec.describe()
        assert spec.title in text and spec.when in text and spec.torch_mapping in text
        assert all(line.strip() in text for line in spec.formula.splitlines())
        for key, value in spec.defaults.items():
            assert f"{key} = {value:g}" in text, (name, key)
        assert len(text.splitlines()) <= 24, f"{name}: description longer than one screen"
    with pytest.raises(ValueError, match="torch, lecture"):
        build_optimizer("sgd", [param], {"lr": 0.1}, "numpy")


def test_batch_gd_uses_the_whole_set_and_sgd_1_one_example():
    def batch(name: str) -> int:
        cfg = RunConfig.model_validate(
            {"optimizer": {"name": name}, "training": {"batch_size": 64}}
        )
        return effective_batch_size(cfg, 600)

    assert (batch("batch_gd"), batch("sgd_1"), batch("sgd")) == (600, 1, 64)


@pytest.mark.parametrize("impl", ["torch", "lecture"])
def test_every_name_is_selectable_in_config_with_its_defaults(impl):
    for name, spec in OPTIMIZERS.items():
        cfg = apply_overrides(
            RunConfig(), {"optimizer.name": name, "optimizer.impl": impl}, "--set"
        )
        assert cfg.optimizer.hyperparameters() == spec.defaults
    tuned = OptimizerConfig(name="adamw", weight_decay=0.05, lr=0.01).hyperparameters()
    assert tuned == {**OPTIMIZERS["adamw"].defaults, "weight_decay": 0.05, "lr": 0.01}


def test_unknown_optimizer_is_a_config_error_naming_the_valid_names():
    with pytest.raises(ConfigError) as err:
        apply_overrides(RunConfig(), {"optimizer.name": "adamm"}, where="--set")
    message = str(err.value)
    assert "optimizer.name" in message and "'adamm'" in message
    assert all(name in message for name in OPTIMIZERS)


# ------------------------------------------------------------------------- lecture == torch


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lecture_and_torch_agree_over_50_steps(name):
    spec = OPTIMIZERS[name]
    overrides, extra = EQUIVALENT_SETTINGS.get(name, ({}, {}))
    hp = {**spec.defaults, **overrides}
    batches = Batches()
    by_torch, by_lecture = tiny_model(), tiny_model()
    start = flat(by_torch)
    batches.train(
        by_torch, build_optimizer(spec.name, by_torch.parameters(), hp, "torch"), range(50)
    )
    batches.train(
        by_lecture, LECTURE_RULES[name](by_lecture.parameters(), **hp, **extra), range(50)
    )
    assert (flat(by_torch) - start).abs().max() > 1e-2, "too little movement to compare"
    torch.testing.assert_close(flat(by_lecture), flat(by_torch))  # float32 rtol/atol


@pytest.mark.parametrize(("name", "factor"), [("momentum", 1), ("nesterov", 2)])
def test_momentum_lr_placement_velocity_and_exact_difference_after_an_lr_change(name, factor):
    """v = η·b under a constant η; after η₁ → η₂, θ_torch − θ_lecture = γ^factor·(η₁−η₂)·b."""
    spec, eta1, eta2, gamma = OPTIMIZERS[name], 0.05, 0.01, 0.9
    hp = {"lr": eta1, "momentum": gamma}
    batches = Batches(torch.float64)
    by_torch, by_lecture = tiny_model(torch.float64), tiny_model(torch.float64)
    opt_t = build_optimizer(spec.name, by_torch.parameters(), hp, "torch")
    opt_l = build_optimizer(spec.name, by_lecture.parameters(), hp, "lecture")
    batches.train(by_torch, opt_t, range(10))
    batches.train(by_lecture, opt_l, range(10))
    buffers = [opt_t.state[p]["momentum_buffer"].clone() for p in by_torch.parameters()]
    for b, p in zip(buffers, by_lecture.parameters(), strict=True):
        torch.testing.assert_close(opt_l.state[p]["v"], eta1 * b)
    torch.testing.assert_close(flat(by_lecture), flat(by_torch))
    for opt in (opt_t, opt_l):
        opt.param_groups[0]["lr"] = eta2
    batches.train(by_torch, opt_t, range(10, 11))
    batches.train(by_lecture, opt_l, range(10, 11))
    expected = gamma**factor * (eta1 - eta2) * torch.cat([b.flatten() for b in buffers])
    assert expected.abs().max() > 1e-3
    torch.testing.assert_close(flat(by_torch) - flat(by_lecture), expected)


@pytest.mark.parametrize(("name", "torch_state"), [("adagrad", "sum"), ("rmsprop", "square_avg")])
def test_eps_inside_the_root_differs_from_torch_by_the_stated_amount(name, torch_state):
    """From the same state s, one step differs by η·g·(1/(√s + ε) − 1/√(s + ε)) exactly."""
    spec = OPTIMIZERS[name]
    hp, eta, eps = spec.defaults, spec.defaults["lr"], spec.defaults["eps"]
    gen = torch.Generator().manual_seed(0)
    p_t = torch.ones(7, dtype=torch.float64, requires_grad=True)
    p_l = torch.ones(7, dtype=torch.float64, requires_grad=True)
    opt_t, opt_l = (
        build_optimizer(spec.name, [p_t], hp, "torch"),
        build_optimizer(spec.name, [p_l], hp, "lecture"),
    )
    scales = torch.logspace(-6, 0, 7, dtype=torch.float64)  # |g| from 1e-6 to 1
    for _ in range(4):
        with torch.no_grad():
            p_l.copy_(p_t)
        g = scales * torch.randn(7, generator=gen, dtype=torch.float64)
        p_t.grad, p_l.grad = g.clone(), g.clone()
        opt_t.step()
        opt_l.step()
    s = opt_t.state[p_t][torch_state]
    torch.testing.assert_close(opt_l.state[p_l]["s"], s, rtol=1e-12, atol=0.0)
    expected = eta * g * (1.0 / (s.sqrt() + eps) - 1.0 / (s + eps).sqrt())
    torch.testing.assert_close(p_l.detach() - p_t.detach(), expected, rtol=1e-6, atol=1e-15)
    torch_step = eta * g.abs() / (s.sqrt() + eps)
    assert expected[0].abs() > 0.5 * torch_step[0]  # |g| ≪ √ε: ε inside the root dominates
    assert expected[-1].abs() < 1e-6 * torch_step[-1]  # |g| ≫ √ε: the two agree


# ------------------------------------------------------------------------- lecture == formula


def grad_J(theta: float) -> float:
    """J(θ) = log cosh θ + 0.1·θ² — smooth, not quadratic, gradients shrinking towards 0."""
    return math.tanh(theta) + 0.2 * theta


def ref_sgd(hp, steps, th=2.0):
    for _ in range(steps):
        th -= hp["lr"] * grad_J(th)
        yield th


def ref_momentum(hp, steps, th=2.0, v=0.0):
    for _ in range(steps):
        v = hp["momentum"] * v + hp["lr"] * grad_J(th)
        th -= v
        yield th


def ref_nesterov(hp, steps, th=2.0, v=0.0):
    gamma = hp["momentum"]
    for _ in range(steps):
        v = gamma * v + hp["lr"] * grad_J(th - gamma * v)
        th -= v
        yield th - gamma * v  # the parameters hold the look-ahead point θ − γ·v


def ref_adagrad(hp, steps, th=2.0, s=0.0):
    for _ in range(steps):
        g = grad_J(th)
        s += g * g
        th -= hp["lr"] / math.sqrt(s + hp["eps"]) * g
        yield th


def ref_rmsprop(hp, steps, th=2.0, s=0.0):
    for _ in range(steps):
        g = grad_J(th)
        s = hp["rho"] * s + (1 - hp["rho"]) * g * g
        th -= hp["lr"] / math.sqrt(s + hp["eps"]) * g
        yield th


def ref_adadelta(hp, steps, th=2.0, eg2=0.0, edx2=0.0):
    rho, eps = hp["rho"], hp["eps"]
    for _ in range(steps):
        g = grad_J(th)
        eg2 = rho * eg2 + (1 - rho) * g * g
        dx = -math.sqrt(edx2 + eps) / math.sqrt(eg2 + eps) * g
        edx2 = rho * edx2 + (1 - rho) * dx * dx
        th += hp["lr"] * dx
        yield th


def ref_adam(hp, steps, th=2.0, m=0.0, v=0.0, decoupled=False):
    b1, b2 = hp["beta1"], hp["beta2"]
    for t in range(1, steps + 1):
        g = grad_J(th)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        decay = hp["weight_decay"] * th if decoupled else 0.0
        th -= hp["lr"] * (m_hat / (math.sqrt(v_hat) + hp["eps"]) + decay)
        yield th


def ref_adamw(hp, steps):
    return ref_adam(hp, steps, decoupled=True)


def ref_adamax(hp, steps, th=2.0, m=0.0, u=0.0):
    b1, b2 = hp["beta1"], hp["beta2"]
    for t in range(1, steps + 1):
        g = grad_J(th)
        m, u = b1 * m + (1 - b1) * g, max(b2 * u, abs(g))
        th -= hp["lr"] / (1 - b1**t) * m / (u + hp["eps"])
        yield th


def ref_nadam(hp, steps, th=2.0, m=0.0, v=0.0):
    b1, b2 = hp["beta1"], hp["beta2"]
    for t in range(1, steps + 1):
        g = grad_J(th)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        v_hat = v / (1 - b2**t)
        look_ahead = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
        th -= hp["lr"] / (math.sqrt(v_hat) + hp["eps"]) * look_ahead
        yield th


def ref_amsgrad(hp, steps, th=2.0, m=0.0, v=0.0, v_max=0.0):
    b1, b2 = hp["beta1"], hp["beta2"]
    for _ in range(steps):
        g = grad_J(th)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        v_max = max(v_max, v)
        th -= hp["lr"] / (math.sqrt(v_max) + hp["eps"]) * m
        yield th


REFERENCES = {
    "batch_gd": ref_sgd,
    "sgd_1": ref_sgd,
    "sgd": ref_sgd,
    "momentum": ref_momentum,
    "nesterov": ref_nesterov,
    "adagrad": ref_adagrad,
    "rmsprop": ref_rmsprop,
    "adadelta": ref_adadelta,
    "adam": ref_adam,
    "adamax": ref_adamax,
    "nadam": ref_nadam,
    "amsgrad": ref_amsgrad,
    "adamw": ref_adamw,
}
FORMULA_OVERRIDES = {"amsgrad": {"beta2": 0.9, "lr": 0.1}, "adamw": {"weight_decay": 0.5}}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lecture_rule_follows_the_lecture_formula(name):
    """The lecture class, stepped with p.grad = ∇J(p), retraces the formula on plain floats."""
    spec = OPTIMIZERS[name]
    hp = {**spec.defaults, **FORMULA_OVERRIDES.get(name, {})}
    p = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    opt = build_optimizer(spec.name, [p], hp, "lecture")
    for expected in REFERENCES[name](hp, 40):
        p.grad = torch.tensor([grad_J(p.item())], dtype=torch.float64)
        opt.step()
        assert p.item() == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert p.item() != 2.0
    if name == "amsgrad":  # the max was binding, so the check above exercised it
        assert opt.state[p]["v_max"].item() > opt.state[p]["v"].item()


def test_nadam_amsgrad_adamax_defaults_really_differ_from_torch():
    """The documented differences are real at the defaults (so the equivalence settings above
    are needed, not decorative); AdaMax's ε effect stays below float32 resolution here."""
    batches = Batches()
    gaps = {}
    for name in ("nadam", "amsgrad", "adamax"):
        spec = OPTIMIZERS[name]
        by_torch, by_lecture = tiny_model(), tiny_model()
        opt_t = build_optimizer(spec.name, by_torch.parameters(), spec.defaults, "torch")
        opt_l = build_optimizer(spec.name, by_lecture.parameters(), spec.defaults, "lecture")
        batches.train(by_torch, opt_t, range(50))
        batches.train(by_lecture, opt_l, range(50))
        gaps[name] = (flat(by_torch) - flat(by_lecture)).abs().max().item()
    assert gaps["nadam"] > 1e-3 and gaps["amsgrad"] > 1e-2 and gaps["adamax"] < 1e-6


# ------------------------------------------------------------------------- integration


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lecture_optimizer_descends_on_a_bare_2d_tensor(name):
    """What the 2-D toy does: one 2-element tensor, backward, plain ``step()``."""
    xy = torch.tensor([-4.0, 1.5], requires_grad=True)
    spec = OPTIMIZERS[name]
    opt = build_optimizer(spec.name, [xy], spec.defaults, "lecture")

    def f() -> torch.Tensor:
        return 0.1 * xy[0] ** 2 + 2.0 * xy[1] ** 2  # the dataflowr toy problem

    start = f().item()
    for _ in range(60):
        opt.zero_grad()
        f().backward()
        opt.step()
    assert math.isfinite(f().item()) and f().item() < start


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lecture_state_dict_round_trip_continues_identically(name):
    spec = OPTIMIZERS[name]
    batches = Batches()
    model = tiny_model()
    opt = build_optimizer(spec.name, model.parameters(), spec.defaults, "lecture")
    batches.train(model, opt, range(5))
    saved_model, saved_opt = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    batches.train(model, opt, range(5, 10))
    resumed = tiny_model()
    resumed.load_state_dict(saved_model)
    opt2 = build_optimizer(spec.name, resumed.parameters(), spec.defaults, "lecture")
    opt2.load_state_dict(saved_opt)
    batches.train(resumed, opt2, range(5, 10))
    assert torch.equal(flat(resumed), flat(model))


def test_engine_trains_with_lecture_optimizers():
    base = {
        "data": {"dataset": "synthetic", "synthetic_size": 200, "val_fraction": 0.2},
        "model": {"arch": "mlp", "hidden": 16},
        "training": {
            "epochs": 2,
            "batch_size": 32,
            "log_every": 5,
            "device": "cpu",
            "precision": "fp32",
        },
    }
    runs = [
        {"name": "adam-torch", "set": {"optimizer.name": "adam"}},
        {"name": "adam-lecture", "set": {"optimizer.name": "adam", "optimizer.impl": "lecture"}},
        {"name": "nadam-lecture", "set": {"optimizer.name": "nadam", "optimizer.impl": "lecture"}},
    ]
    cfg = ExperimentConfig.model_validate({"name": "zoo", "base": base, "runs": runs})
    rec = ResultsRecorder()
    results = Comparison(cfg, listeners=[rec]).run()
    assert [r.status for r in results] == ["completed"] * 3
    losses = {
        name: [m["train_loss"] for m in rec.metrics if m["run"] == name]
        for name in ("adam-torch", "adam-lecture", "nadam-lecture")
    }
    assert losses["adam-lecture"] == pytest.approx(losses["adam-torch"], rel=1e-4)
    assert all(math.isfinite(v) for v in losses["nadam-lecture"])
    assert losses["nadam-lecture"][-1] < losses["nadam-lecture"][0]
