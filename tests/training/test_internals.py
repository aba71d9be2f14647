"""Looking inside the optimizer: the probe's numbers against values worked out by hand on a
tiny model, the sharpness against the Hessian's eigenvalues computed in full, the files a run
writes, training unchanged by watching it, and a diverging run that says why."""

from __future__ import annotations

import csv
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tui_lab.cli.main import main
from tui_lab.config import OptimizerConfig
from tui_lab.optim.build import build_optimizer
from tui_lab.training.internals import Probe, sharpness

X = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.8, -1.5], [2.0, 0.1, 0.7], [-0.4, 1.1, 0.2]])
Y = torch.tensor([0, 1, 1, 0])


def one_watched_step(name: str, impl: str = "torch", lr: float = 0.1):
    """A Linear(3, 2) after one step of ``name``: (its internals, the gradient, θ before)."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    hp = OptimizerConfig(name=name, impl=impl, lr=lr).hyperparameters()
    optimizer = build_optimizer(name, list(model.parameters()), hp, impl)
    probe = Probe(model, optimizer, f"{name}/{impl}")
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    F.cross_entropy(model(X), Y).backward()
    grad = torch.cat([p.grad.flatten().clone() for p in model.parameters()])
    probe.snapshot()
    optimizer.step()
    return probe.measure("r", 1), grad, before


def test_sgd_steps_every_parameter_by_eta_per_unit_of_gradient():
    event, g, theta = one_watched_step("sgd", lr=0.1)
    (layer,) = event.layers
    assert layer.layer == "Linear"
    assert event.grad_norm == pytest.approx(float(g.norm()), rel=1e-6)
    assert event.update_ratio == pytest.approx(0.1 * float(g.norm() / theta.norm()), rel=1e-5)
    for q in (layer.eff_lr_p10, layer.eff_lr_median, layer.eff_lr_p90):
        assert q == pytest.approx(0.1, rel=1e-4)
    assert event.momentum_norm is None and event.bias_correction1 is None


def test_adams_first_step_is_eta_per_sign_and_its_bias_corrections_are_10_and_1000():
    event, g, _ = one_watched_step("adam", lr=0.01)
    # step 1: m̂ = g, v̂ = g², so Δθ = −η·g/(|g| + ε) and |Δθ|/|g| = η/|g| per parameter
    expected = (0.01 / g.abs()).quantile(torch.tensor([0.1, 0.5, 0.9]))
    (layer,) = event.layers
    got = [layer.eff_lr_p10, layer.eff_lr_median, layer.eff_lr_p90]
    assert got == pytest.approx(expected.tolist(), rel=1e-3)
    assert (event.bias_correction1, event.bias_correction2) == pytest.approx((10.0, 1000.0))
    assert event.momentum_norm == pytest.approx(0.1 * float(g.norm()), rel=1e-5)  # (1−β1)·g


def test_lecture_adagrads_step_is_eta_over_root_of_s_plus_eps():
    event, g, _ = one_watched_step("adagrad", impl="lecture", lr=0.1)
    eps = OptimizerConfig(name="adagrad", impl="lecture").hyperparameters()["eps"]
    expected = (0.1 / (g**2 + eps).sqrt()).quantile(torch.tensor([0.1, 0.5, 0.9]))
    (layer,) = event.layers
    assert [layer.eff_lr_p10, layer.eff_lr_median, layer.eff_lr_p90] == pytest.approx(
        expected.tolist(), rel=1e-3
    )


@pytest.mark.parametrize(("impl", "scale"), [("torch", 1.0), ("lecture", 0.1)])
def test_the_velocity_after_one_step_is_the_gradient(impl, scale):
    """torch keeps b = g, the lecture's v = η·g: each is reported in its own rule's terms."""
    event, g, _ = one_watched_step("momentum", impl=impl, lr=0.1)
    assert event.momentum_norm == pytest.approx(scale * float(g.norm()), rel=1e-5)


def test_sharpness_is_the_top_eigenvalue_of_the_full_hessian():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    flat = torch.cat([p.detach().flatten() for p in params])

    def loss_of(vector: torch.Tensor) -> torch.Tensor:
        chunks, at = [], 0
        for shape in shapes:
            chunks.append(vector[at : at + math.prod(shape)].reshape(shape))
            at += math.prod(shape)
        h = torch.tanh(X @ chunks[0].T + chunks[1])
        return F.cross_entropy(h @ chunks[2].T + chunks[3], Y)

    eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_of, flat))
    top = float(eigenvalues[eigenvalues.abs().argmax()])
    value, vector = sharpness(model, X, Y, None)
    for _ in range(5):  # warm-started estimates, as a run makes them every K steps
        value, vector = sharpness(model, X, Y, vector)
    assert value == pytest.approx(top, rel=1e-3)


SMALL = [
    "--set",
    "data.dataset=synthetic",
    "--set",
    "data.synthetic_size=600",
    "--set",
    "model.arch=mlp",
    "--set",
    "model.hidden=16",
    "--device",
    "cpu",
]


def rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def export(out, *args: str) -> int:
    return main([*SMALL, *args, "--export", "csv", "--out", str(out), "--figures", "none"])


def test_an_export_writes_the_internals_and_the_sharpness_against_2_over_eta(tmp_path):
    out = tmp_path / "x"
    settings = ["training.internals_every=3", "training.sharpness_every=5", "optimizer.lr=0.002"]
    assert export(out, "--epochs", "1", *[a for s in settings for a in ("--set", s)]) == 0
    internals = rows(out / "internals.csv")
    assert list(internals[0])[:9] == [
        "run",
        "seed",
        "step",
        "layer",
        "grad_norm",
        "update_ratio",
        "eff_lr_median",
        "eff_lr_p10",
        "eff_lr_p90",
    ]
    steps = sorted({int(r["step"]) for r in internals})
    assert steps[:3] == [1, 3, 6]  # the first step, then every 3rd
    layers = {r["layer"] for r in internals if r["step"] == "3"}
    assert layers == {"all", "1 Linear", "4 Linear"}  # Flatten, Linear, ReLU, Dropout, Linear
    whole = next(r for r in internals if r["layer"] == "all")
    assert float(whole["bias_correction1"]) == pytest.approx(10.0)  # Adam, step 1
    sharp = rows(out / "sharpness.csv")
    assert [int(r["step"]) for r in sharp] == [0, 5]  # 9 steps: before the 1st and the 6th
    assert all(float(r["two_over_lr"]) == pytest.approx(1000.0) for r in sharp)
    assert all(float(r["sharpness"]) > 0 for r in sharp)


def test_watching_the_optimizer_does_not_change_what_it_trains(tmp_path):
    def metrics(name, every):
        out = tmp_path / name
        every_set = [f"training.internals_every={every}", f"training.sharpness_every={every}"]
        settings = [*every_set, "model.dropout=0.3"]
        assert export(out, "--epochs", "2", *[a for s in settings for a in ("--set", s)]) == 0
        return [(r["train_loss"], r["val_acc"]) for r in rows(out / "metrics.csv")]

    assert metrics("watched", 2) == metrics("unwatched", 0)


def test_a_diverging_run_says_what_the_numbers_showed(tmp_path, capsys):
    out = tmp_path / "d"
    export(out, "--epochs", "1", "--set", "optimizer.name=sgd", "--set", "optimizer.lr=10")
    (run,) = rows(out / "summary.csv")
    assert run["status"] == "diverged"
    assert "above the stability limit 2/η = 0.2" in run["error"]
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "[sgd] diverged: at step" in err and "2/η = 0.2" in err
    assert "2/η = 0.2" in (out / "report.md").read_text()
