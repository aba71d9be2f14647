"""The 2-D toy problem (dataflowr Module 4): the lecture's point in numbers, convergence and
divergence detection, the built-ins, the toy2d config and the CLI end to end."""

from __future__ import annotations

import csv
import itertools
import json
import math

import pytest
import torch

from tui_lab.cli.main import main
from tui_lab.config import ExperimentConfig, Toy2DConfig, Toy2DRun, parse_value
from tui_lab.errors import ConfigError
from tui_lab.presets import load_preset
from tui_lab.results.checks import check_all
from tui_lab.toy2d.checks import check_functions
from tui_lab.toy2d.problem import Toy2DProblem, contour_grid, summarize, view_bounds, walk
from tui_lab.toy2d.runner import run_toy2d
from tui_lab.toy_functions import FUNCTIONS


def problem(**settings) -> Toy2DProblem:
    return Toy2DProblem.from_config(Toy2DConfig(**settings))


def trajectory(prob: Toy2DProblem, **run):
    r = Toy2DRun(**run)
    return summarize(prob, r, list(walk(prob, r)))


@pytest.fixture(scope="module")
def lecture():
    return {t.run: t for t in run_toy2d(problem(function="lecture"))}


def test_gd_follows_the_lectures_closed_form():
    """GD at η = 0.4: x1 ← (1 − 0.4·0.2)·x1 = 0.92·x1 and x2 ← (1 − 0.4·4)·x2 = −0.6·x2."""
    t = trajectory(problem(), optimizer="batch_gd", lr=0.4)
    start = t.points[0]
    assert len(t.points) == 21 and (start.x1, start.x2, start.f) == (-5.0, -2.0, 10.5)
    for p in t.points:
        assert p.x1 == pytest.approx(-5 * 0.92**p.step, rel=1e-12)
        assert p.x2 == pytest.approx(-2 * (-0.6) ** p.step, rel=1e-12)
        assert p.f == pytest.approx(0.1 * p.x1**2 + 2 * p.x2**2, rel=1e-12)
    assert t.x2_reversals == 19  # turns back along x2 at every step: the zig-zag


def test_lecture_point_gd_zigzags_momentum_and_adaptive_do_not(lecture):
    gd = lecture["gd"]
    assert gd.status == "did not converge" and gd.steps_to_converge is None
    assert gd.x2_reversals >= 15
    for name in ("momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad"):
        t = lecture[name]
        assert t.status == "converged" and t.steps_to_converge <= 20, name
        assert t.x2_reversals < gd.x2_reversals / 2, name
        assert t.final_f < gd.final_f, name
    for name in ("adagrad", "rmsprop", "adam", "amsgrad"):
        assert lecture[name].path_length < 0.6 * gd.path_length, name
    assert lecture["adagrad"].x2_reversals == 0


def test_steps_to_converge_is_the_first_step_below_the_tolerance():
    t = trajectory(problem(steps=100), optimizer="batch_gd", lr=0.4)

    def f(k: int) -> float:  # 0.1·(5·0.92ᵏ)² + 2·(2·0.6ᵏ)²
        return 2.5 * 0.92 ** (2 * k) + 8 * 0.36**k

    assert t.status == "converged" and t.steps_to_converge == 47
    assert f(47) < 1e-3 <= f(46)
    t = trajectory(problem(steps=100, tolerance=0.5), optimizer="batch_gd", lr=0.4)
    assert t.steps_to_converge == next(k for k in range(101) if f(k) < 0.5)


def test_huge_learning_rate_diverges_and_the_walk_stops():
    t = trajectory(problem(steps=200), optimizer="batch_gd", lr=10.0)
    assert t.status == "diverged"
    assert t.diverged_at is not None and t.diverged_at < 10
    assert len(t.points) == t.diverged_at + 1
    assert check_functions([t])["steps"]("batch_gd") == math.inf


def test_non_finite_values_count_as_diverged():
    t = trajectory(problem(function="log(x1) + x2^2", start=(-1.0, 1.0)), optimizer="adam", lr=0.1)
    assert (t.status, t.diverged_at, len(t.points)) == ("diverged", 0, 1)


def test_reaching_then_leaving_the_minimum_is_reported():
    """RMSprop with a constant η keeps stepping ~η once g is small: it bounces back out."""
    t = trajectory(problem(steps=200), optimizer="rmsprop", lr=0.35)
    assert t.steps_to_converge is not None and t.steps_to_converge <= 20
    assert t.status == "reached, then left" and t.final_f > 1e-3


def test_walk_is_lazy_and_works_under_no_grad():
    prob = problem(steps=10_000)
    with torch.no_grad():
        first = list(itertools.islice(walk(prob, Toy2DRun(optimizer="momentum", lr=0.1)), 3))
    assert [p.step for p in first] == [0, 1, 2]
    assert (first[0].x1, first[0].x2) == (-5.0, -2.0)
    assert first[2].f < first[1].f < first[0].f


@pytest.mark.parametrize(("name", "minimum"), [("rosenbrock", (1.0, 1.0)), ("beale", (3.0, 0.5))])
def test_builtin_functions(name, minimum):
    prob = problem(function=name)
    assert prob.f(*minimum) == 0.0
    assert prob.f(*prob.start) > 1.0
    assert prob.steps == FUNCTIONS[name].steps and prob.bounds == FUNCTIONS[name].bounds
    runs = {t.run: t for t in run_toy2d(prob)}
    assert set(runs) == {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad"}
    assert not any(t.status == "diverged" for t in runs.values())
    assert runs["adam"].status == "converged"
    assert runs["adam"].final_f < 1e-3
    assert math.dist((runs["adam"].points[-1].x1, runs["adam"].points[-1].x2), minimum) < 0.1


def test_quadratic_is_the_lecture_alias():
    assert problem(function="quadratic").f(-5.0, -2.0) == 10.5
    assert FUNCTIONS["quadratic"] is FUNCTIONS["lecture"]


def test_user_expression_is_minimized_with_lecture_defaults():
    prob = problem(function="(x1 - 1)^2 + (x2 + 2)^2", start=(3.0, 1.0), steps=200)
    assert prob.bounds is None and len(prob.runs) == 7
    t = trajectory(prob, optimizer="adam", lr=0.1)
    assert t.status == "converged"
    assert (t.points[-1].x1, t.points[-1].x2) == pytest.approx((1.0, -2.0), abs=0.05)


def test_f_min_shifts_the_convergence_test():
    prob = problem(function="x1^2 + x2^2 + 5", start=(1.0, 1.0), steps=50, f_min=5.0)
    assert trajectory(prob, optimizer="batch_gd", lr=0.25).status == "converged"


def test_contour_grid_samples_f_row_by_x2():
    prob = problem()
    grid = contour_grid(prob.expression, (-5.0, 1.0, -2.0, 1.0), n=7)
    assert len(grid.x1) == len(grid.x2) == 7 and len(grid.f) == 7 and len(grid.f[0]) == 7
    assert grid.f[0][0] == pytest.approx(prob.f(-5.0, -2.0))
    assert grid.f[0][-1] == pytest.approx(prob.f(1.0, -2.0))
    assert grid.f[-1][0] == pytest.approx(prob.f(-5.0, 1.0))
    with pytest.raises(ValueError):
        contour_grid(prob.expression, (0, 1, 0, 1), n=1)


def test_view_bounds_hold_the_paths_but_not_diverged_ones():
    prob = problem(function="x1^2 + 10*x2^2", start=(2.0, 1.0), steps=30)
    good = trajectory(prob, optimizer="momentum", lr=0.05)
    bad = trajectory(prob, optimizer="batch_gd", lr=5.0)
    assert bad.status == "diverged"
    x1_min, x1_max, x2_min, x2_max = view_bounds(prob, [good, bad])
    for p in good.points:
        assert x1_min <= p.x1 <= x1_max and x2_min <= p.x2 <= x2_max
    assert max(x1_max - x1_min, x2_max - x2_min) < 10
    assert view_bounds(problem(), []) == FUNCTIONS["lecture"].bounds


def test_preset_matches_the_builtin_and_its_expectations_are_met():
    cfg = load_preset("toy_2d")
    assert cfg.toy2d is not None and cfg.lecture.startswith("dataflowr Module 4")
    prob = Toy2DProblem.from_config(cfg.toy2d)
    assert [r.model_dump() for r in prob.runs] == [
        Toy2DRun.model_validate(r).model_dump() for r in FUNCTIONS["lecture"].runs
    ]
    assert (prob.start, prob.steps, prob.tolerance) == ((-5.0, -2.0), 20, 1e-3)
    results = check_all(cfg.expect, check_functions(run_toy2d(prob)))
    assert len(results) >= 4 and all(r.met for r in results), [(r.text, r.detail) for r in results]


@pytest.mark.parametrize(
    ("toy2d", "needle"),
    [
        ({"function": "os.system('x')"}, "toy2d.function"),
        ({"steps": 0}, "toy2d.steps"),
        ({"stepz": 3}, "toy2d.stepz"),
        ({"bounds": [1, 0, 0, 1]}, "min < max"),
        ({"runs": [{"optimizer": "adam"}, {"optimizer": "adam"}]}, "distinct name"),
        ({"runs": [{"optimizer": "adam", "momentum": 0.9}]}, "does not use momentum"),
        ({"runs": [{"optimizer": "lbfgs"}]}, "unknown optimizer"),
        ({"runs": [{"optimizer": "sgd", "lr": -1}]}, "toy2d.runs.0.lr"),
    ],
)
def test_invalid_toy2d_settings_name_the_field(tmp_path, toy2d, needle):
    path = tmp_path / "bad.toml"
    lines = ["[toy2d]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in toy2d.items() if k != "runs"]
    for run in toy2d.get("runs", []):
        lines += ["[[toy2d.runs]]", *(f"{k} = {json.dumps(v)}" for k, v in run.items())]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        load_preset(str(path))
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_overrides_target_toy2d_fields_only():
    toy = Toy2DConfig(function="lecture")
    assert toy.with_overrides({"toy2d.steps": 50}).steps == 50
    runs = parse_value('[{optimizer="adam", lr=0.5}, {name="gd", optimizer="batch_gd", lr=0.1}]')
    changed = toy.with_overrides({"toy2d.runs": runs, "toy2d.function": "beale"})
    assert [r.label for r in changed.runs] == ["adam", "gd"] and changed.function == "beale"
    assert Toy2DProblem.from_config(changed).start == FUNCTIONS["beale"].start
    for key in ("toy2d.stepz", "optimizer.lr", "toy2d.runs.gd.lr"):
        with pytest.raises(ConfigError, match="does not apply to the 2-D toy problem"):
            toy.with_overrides({key: 1})
    with pytest.raises(ConfigError, match="toy2d.steps"):
        toy.with_overrides({"toy2d.steps": -1})
    ExperimentConfig(toy2d=toy).resolved_runs({"toy2d.steps": 5})  # the CLI's early check


def test_cli_exports_csv(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--preset", "toy_2d", "--export", "csv", "--out", str(out), "--set", "toy2d.steps=30"]
    assert main(argv) == 0
    files = {"trajectories.csv", "summary.csv", "expectations.csv", "experiment.json", "report.md"}
    assert {p.name for p in out.iterdir()} >= files
    with open(out / "trajectories.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["run", "optimizer", "lr", "step", "x1", "x2", "f"]
    assert len(rows) == 7 * 31
    first = rows[0]
    assert (first["run"], first["step"], first["x1"], first["f"]) == ("gd", "0", "-5", "10.5")
    with open(out / "summary.csv", newline="") as fh:
        summary = {r["run"]: r for r in csv.DictReader(fh)}
    assert summary["gd"]["status"] == "did not converge"
    assert summary["momentum"]["status"] == "converged"
    assert int(summary["gd"]["x2_reversals"]) > int(summary["adagrad"]["x2_reversals"])
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["toy2d"]["steps"] == 30 and meta["runs"]["gd"]["optimizer"] == "batch_gd"
    printed = capsys.readouterr().out
    assert "did not converge" in printed and "x2 reversals" in printed
    svg = (out / "figures" / "paths.svg").read_text()
    assert svg.startswith("<?xml") and "paths on f = 0.1*x1**2 + 2*x2**2" in svg
    assert (
        "![optimizer paths on the contour of f](figures/paths.svg)"
        in (out / "report.md").read_text()
    )


def test_cli_exports_json_and_rejects_bad_sets(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            [
                "--preset",
                "toy_2d",
                "--export",
                "json",
                "--out",
                str(out),
                "--set",
                "toy2d.function=rosenbrock",
                "--set",
                "toy2d.steps=40",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"]["toy2d"]["function"] == "rosenbrock"
    assert len(results["trajectories"]) == 7 * 41 and len(results["summary"]) == 7
    assert results["experiment"]["toy2d"]["start"] == list(FUNCTIONS["rosenbrock"].start)
    assert not any(row["status"] == "diverged" for row in results["summary"])  # its own lrs
    capsys.readouterr()
    bad = ["--preset", "toy_2d", "--headless", "--set", "toy2d.function=__import__('os')"]
    assert main(bad) == 2
    assert "not allowed" in capsys.readouterr().err
