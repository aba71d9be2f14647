"""On the lecture's quadratic (L = 0.2 along x1, 4 along x2) a path diverges exactly when η
crosses its rule's bound along x2, and the toy says which axis broke which bound."""

from __future__ import annotations

import pytest

from tui_lab.config import ExperimentConfig, Toy2DConfig
from tui_lab.toy2d.problem import Toy2DProblem, run_toy2d
from tui_lab.toy2d.runner import run_toy_job
from tui_lab.toy2d.stability import curvatures, divergence_note

GAMMA = 0.6
BOUNDS = {  # along x2, L₂ = 4
    "batch_gd": ("2/L₂", 2 / 4),
    "momentum": ("2(1+γ)/L₂", 2 * (1 + GAMMA) / 4),
    "nesterov": ("2(1+γ)/((1+2γ)·L₂)", 2 * (1 + GAMMA) / ((1 + 2 * GAMMA) * 4)),
}


def walked(optimizer: str, lr: float) -> tuple[Toy2DProblem, object]:
    run = {"optimizer": optimizer, "lr": lr}
    if optimizer != "batch_gd":
        run["momentum"] = GAMMA
    problem = Toy2DProblem.from_config(Toy2DConfig(function="lecture", steps=2000, runs=[run]))
    return problem, run_toy2d(problem)[0]


def test_the_lecture_quadratic_curves_0_2_and_4():
    problem = Toy2DProblem.from_config(Toy2DConfig(function="lecture"))
    assert curvatures(problem) == pytest.approx((0.2, 4.0))
    assert curvatures(Toy2DProblem.from_config(Toy2DConfig(function="rosenbrock"))) is None


@pytest.mark.parametrize("optimizer", list(BOUNDS))
def test_a_path_diverges_past_its_rules_bound_and_says_which_axis(optimizer):
    form, bound = BOUNDS[optimizer]
    problem, below = walked(optimizer, 0.97 * bound)
    assert below.status != "diverged"
    assert divergence_note(problem, problem.runs[0], below) is None
    problem, above = walked(optimizer, 1.03 * bound)
    assert above.status == "diverged"
    note = divergence_note(problem, problem.runs[0], above)
    assert note is not None and f"{form} = {bound:.3g} along x2" in note
    assert "along x1" not in note and f"step {above.diverged_at}" in note


def test_report_md_says_why_a_path_diverged(tmp_path):
    cfg = ExperimentConfig(name="toy", toy2d=Toy2DConfig(function="lecture", steps=60))
    overrides = {"toy2d.runs": [{"optimizer": "batch_gd", "lr": 0.6}]}
    result = run_toy_job(cfg, overrides, command=["t"], out=tmp_path / "out", fmt="csv")
    report = (result.out_dir / "report.md").read_text()
    assert "## Why paths diverged" in report and "2/L₂ = 0.5 along x2" in report
