"""Figures (matplotlib) of every kind of export: files that are valid SVG or PNG, embedded in
report.md by relative path, runs in their lab colours, repeated seeds as a mean with a band."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.collections import PolyCollection
from support import TINY_MLP, comparison_config

from tui_lab.events import SearchOutcome, SearchPlan, TrialRecord
from tui_lab.results.figures import (
    Line,
    draw_lines,
    mean_band,
    new_figure,
    seed_groups,
)
from tui_lab.results.palette import run_hex
from tui_lab.search.figures import StudyTrials, search_figures
from tui_lab.search.report import search_report
from tui_lab.training.job import ComparisonJob

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_svg(path: Path) -> bool:
    return ET.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def embedded(report: str) -> list[str]:
    """The image paths report.md shows: ``![title](path)``."""
    return re.findall(r"!\[[^\]]+\]\(([^)]+)\)", report)


def finished_job(tmp_path: Path, figures: str) -> Path:
    cfg = comparison_config(
        [{"name": "adam"}, {"name": "sgd", "set": {"optimizer.name": "sgd"}}], TINY_MLP
    )
    out = tmp_path / figures
    out.mkdir()
    job = ComparisonJob(cfg, command=["tui-lab"], fmt="csv", figures=figures)
    job.write_into(out)
    job.run()
    return out


def test_a_comparison_export_draws_loss_accuracy_and_lr_as_svg_shown_by_the_report(tmp_path):
    out = finished_job(tmp_path, "svg")
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert names == ["accuracy.svg", "loss.svg", "lr.svg"]
    assert all(is_svg(out / "figures" / n) for n in names)
    report = (out / "report.md").read_text()
    assert embedded(report) == ["figures/loss.svg", "figures/accuracy.svg", "figures/lr.svg"]
    loss = (out / "figures" / "loss.svg").read_text()
    assert run_hex(0) in loss and run_hex(1) in loss  # the runs' colours in the lab
    assert "training loss (per logged step)" in loss
    lr = (out / "figures" / "lr.svg").read_text()
    assert re.search(r"\$\\mathdefault\{10\^\{-\d\}\}\$", lr)  # a log axis: ticks 10^-n


def test_png_on_request_and_none_draws_nothing(tmp_path):
    out = finished_job(tmp_path, "png")
    for name in ("loss", "accuracy", "lr"):
        assert (out / "figures" / f"{name}.png").read_bytes().startswith(PNG_MAGIC)
    assert "figures/lr.png" in embedded((out / "report.md").read_text())
    bare = finished_job(tmp_path, "none")
    assert not (bare / "figures").exists()
    assert embedded((bare / "report.md").read_text()) == []


def test_runs_repeated_with_other_seeds_are_drawn_as_a_mean_with_a_band():
    xs = [1.0, 2.0, 3.0]
    lines = [
        Line("adam/0", 0, xs, [1.0, 0.5, 0.25]),
        Line("adam/1", 1, xs, [3.0, 1.5, 0.75]),
        Line("sgd/0", 2, xs, [2.0, 2.0, 2.0]),
        Line("sgd/1", 3, xs, [4.0, 2.0, 2.0]),
        Line("alone", 4, xs, [0.0, 0.0, 0.0]),
    ]
    groups = {"adam": ["adam/0", "adam/1"], "sgd": ["sgd/0", "sgd/1"]}
    mx, bands = mean_band(lines[:2])
    assert (mx, [b.estimate for b in bands]) == (xs, [2.0, 1.0, 0.5])
    assert [(b.low, b.high) for b in bands] == [(1.0, 3.0), (0.5, 1.5), (0.25, 0.75)]  # min–max
    third = Line("adam/2", 5, xs, [2.0, 1.0, 0.5])
    _, three = mean_band([*lines[:2], third])
    t_975_2df = 4.302652729911275  # three seeds: the t-based 95% interval of the mean
    sds = [1.0, 0.5, 0.25]
    expected = [t_975_2df * sd / math.sqrt(3) for sd in sds]
    assert [b.half_width for b in three] == pytest.approx(expected, rel=1e-6)
    _, (ax,) = new_figure()
    draw_lines(ax, lines, groups)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == [
        "alone",
        "adam (mean, min–max over 2 seeds)",
        "sgd (mean, min–max over 2 seeds)",
    ]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    assert list(ax.get_lines()[1].get_ydata()) == [2.0, 1.0, 0.5]


def test_seed_groups_are_runs_that_differ_only_in_their_seed():
    base = {"optimizer": {"name": "adam"}, "training": {"seed": 0, "epochs": 2}}

    def seeded(name: str, seed: int) -> dict:
        return {"optimizer": {"name": name}, "training": {"seed": seed, "epochs": 2}}

    runs = {"adam-s0": base, "adam-s1": seeded("adam", 1), "sgd-s0": seeded("sgd", 0)}
    assert seed_groups(runs) == {"adam": ["adam-s0", "adam-s1"]}
    assert seed_groups({"a": base, "b": seeded("sgd", 0)}) is None
    runs = {"adam@0": base, "adam@1": seeded("adam", 1)}  # training.seeds names them so
    assert seed_groups(runs) == {"adam": ["adam@0", "adam@1"]}


def trial(study: str, n: int, lr: float, batch: int, value: float, epochs: int = 2) -> TrialRecord:
    params = {"optimizer.lr": lr, "training.batch_size": batch}
    return TrialRecord(study, n, "COMPLETE", "completed", value, params, epochs, 1.0, None, "")


def two_studies() -> list[StudyTrials]:
    grid = [
        trial("g", i, lr, b, 0.5 + 0.1 * i / 9)
        for i, (lr, b) in enumerate((lr, b) for lr in (0.001, 0.01, 0.1) for b in (32, 64, 128))
    ]
    rand = [
        trial("r", i, 10 ** (-3 + 2 * ((i * 7) % 9) / 8), 32 + 10 * i, 0.4 + 0.03 * i)
        for i in range(9)
    ]
    importance = {"optimizer.lr": 0.8, "training.batch_size": 0.2}
    return [StudyTrials("grid", tuple(grid), importance), StudyTrials("random", tuple(rand), None)]


def test_a_search_draws_history_parallel_coordinates_slices_and_contour(tmp_path):
    files = search_figures(two_studies(), "val_acc", "maximize", None, tmp_path, "svg")
    assert [f.path for f in files] == [
        "figures/optimization_history.svg",
        "figures/parallel_coordinates.svg",
        "figures/slices.svg",
        "figures/contour.svg",
    ]
    assert all(is_svg(tmp_path / f.path) for f in files)
    assert files[-1].title == "contour of optimizer.lr and training.batch_size"
    history = (tmp_path / "figures" / "optimization_history.svg").read_text()
    assert "trial-epochs" in history and run_hex(0) in history and run_hex(1) in history


def test_the_search_report_shows_the_figures_and_the_sweep_analysis_as_text(tmp_path):
    studies = two_studies()
    files = search_figures(studies, "val_acc", "maximize", None, tmp_path, "png")
    outcomes = [
        SearchOutcome(
            SearchPlan(s.label, s.label[0], 9, 2, 18, None),
            "completed",
            "maximize",
            s.records,
            None,
            None,
            None,
            s.importance,
            "",
        )
        for s in studies
    ]
    meta = {"preset": "gvr", "search": {"objective": "val_acc"}}
    report = search_report(meta, outcomes, [], files)
    assert embedded(report) == [f.path for f in files]
    for heading in (
        "## Sweep analysis",
        "best validation accuracy so far per trial-epochs",
        "validation accuracy against optimizer.lr",
        "### Best validation accuracy by training.batch_size (rows) and optimizer.lr (columns)",
        "parallel coordinates (each axis scaled 0–1)",
    ):
        assert heading in report
    assert "•• grid" in report and "++ random" in report  # both studies in one chart
