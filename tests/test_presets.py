"""Every lecture preset: listed with its lecture and step, runs end to end (a short version on
the synthetic dataset), and writes a report with its expectations. Real-data runs are slow."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tui_lab.cli.main import main
from tui_lab.data.files import availability
from tui_lab.presets import list_presets, load_preset

LECTURE_PRESETS = [
    "baseline_cnn",
    "optimizers_cnn",
    "momentum_nag",
    "lr_schedules",
    "adam_vs_sgd",
    "grid_search",
    "random_search",
    "bayes_search",
    "grid_vs_random",
    "gd_variants",
    "lr_decay",
    "optimizer_zoo",
    "mnist_90",
    "toy_2d",
    "pytorch_optimizers",
]
COMPARISONS = [p for p in LECTURE_PRESETS if not load_preset(p).search and not load_preset(p).toy2d]
SHORT = [
    "--set",
    "data.dataset=synthetic",
    "--set",
    "data.synthetic_size=300",
    "--set",
    "data.subset=240",
    "--max-steps",
    "4",
    "--epochs",
    "1",
]


def test_every_lecture_exercise_is_a_preset_with_lecture_and_step():
    listed = {p.name: p for p in list_presets()}
    missing = [name for name in LECTURE_PRESETS if name not in listed]
    assert missing == []
    for name in LECTURE_PRESETS:
        assert listed[name].lecture and listed[name].step and listed[name].description, name
        assert load_preset(name).expect, f"{name} states no expected outcome"


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_preset_runs_short_on_synthetic_data(name, tmp_path):
    out = tmp_path / name
    assert main(["--preset", name, "--export", "csv", "--out", str(out), *SHORT]) == 0
    with open(out / "summary.csv", newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert len(summary) == len(load_preset(name).resolved_runs())
    assert all(r["status"] in ("completed", "diverged") for r in summary)
    report = (out / "report.md").read_text()
    assert "## Expectations" in report and "## Learning curves" in report
    with open(out / "expectations.csv", newline="") as fh:
        assert {r["result"] for r in csv.DictReader(fh)} <= {"met", "not met", "undecided", "n/a"}


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(not FASHION.is_dir(), reason="real Fashion-MNIST is not installed")
@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_preset_meets_its_expectations_on_real_data(name, tmp_path):
    """The full preset on its default dataset where that is on disk, else on Fashion-MNIST,
    over 3 seeds: every run completes, and every expectation stated for the dataset it ran on
    is met with its whole 95% interval on the right side."""
    dataset = load_preset(name).base.data.dataset
    on_default = availability(dataset) is not None
    extra = ["--seeds", "3"] + ([] if on_default else ["--set", "data.dataset=fashion_mnist"])
    out = tmp_path / name
    assert main(["--preset", name, "--export", "csv", "--out", str(out), *extra]) == 0
    with open(out / "summary.csv", newline="") as fh:
        assert all(r["status"] == "completed" for r in csv.DictReader(fh))
    with open(out / "expectations.csv", newline="") as fh:
        results = list(csv.DictReader(fh))
    checked = [r for r in results if r["result"] != "n/a"]
    assert checked, f"{name} states no expectation for the dataset it ran on"
    assert all(r["result"] == "met" for r in checked), checked


def test_expectations_stated_for_another_dataset_are_reported_not_applicable(tmp_path, capsys):
    """mnist_90's 90% is an MNIST figure: on another dataset it is shown as n/a with the reason,
    never as a failure, while the expectation written for Fashion-MNIST is checked there."""
    out = tmp_path / "m"
    assert main(["--preset", "mnist_90", "--export", "csv", "--out", str(out), *SHORT]) == 0
    with open(out / "expectations.csv", newline="") as fh:
        results = [r["result"] for r in csv.DictReader(fh)]
    assert results == ["n/a", "n/a", "n/a"]
    assert "stated for mnist; these runs used synthetic" in (out / "report.md").read_text()
    assert "n/a" in capsys.readouterr().out

    fashion = load_preset("mnist_90").model_copy(deep=True)
    fashion.base.data.dataset = "fashion_mnist"
    from tui_lab.results.checks import comparison_expectations
    from tui_lab.results.recorder import ResultsRecorder

    rec = ResultsRecorder()
    rec.summary["mlp"] = {"run": "mlp", "status": "completed", "test_acc": 0.84}
    labels = [r.label for r in comparison_expectations(fashion, rec)]
    assert labels == ["n/a", "n/a", "met"]
