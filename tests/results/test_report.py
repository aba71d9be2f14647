"""report.md of a comparison: what was compared (only the settings that differ), the results,
the expectations with their verdicts, and the curves drawn as text."""

from __future__ import annotations

from support import TINY_MLP, comparison_config

from tui_lab.results.checks import comparison_expectations
from tui_lab.results.manifest import comparison_manifest
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.results.report import comparison_report, differing_settings
from tui_lab.training.comparison import Comparison


def test_differing_settings_names_only_what_differs():
    runs = {
        "a": {"optimizer": {"name": "adam", "lr": 0.001}, "training": {"epochs": 2}},
        "b": {"optimizer": {"name": "sgd", "lr": 0.001}, "training": {"epochs": 2}},
    }
    assert differing_settings(runs) == {
        "a": {"optimizer.name": "adam"},
        "b": {"optimizer.name": "sgd"},
    }


def test_the_report_of_a_comparison_reads_as_a_hand_in():
    runs = [{"name": "adam"}, {"name": "sgd", "set": {"optimizer.name": "sgd"}}]
    expect = [{"text": "both finish", "check": "completed('adam') and completed('sgd')"}]
    cfg = comparison_config(runs, TINY_MLP, expect=expect)
    recorder = ResultsRecorder()
    comp = Comparison(cfg, listeners=[recorder])
    comp.run()
    meta = comparison_manifest(cfg, comp.runs_config, ["tui-lab", "--preset", "t"])
    report = comparison_report(meta, recorder, comparison_expectations(cfg, recorder))
    assert report.startswith("# t: report")
    assert "Command: `tui-lab --preset t`" in report
    assert "| run | optimizer.name |" in report and "| sgd | sgd |" in report
    assert "## Results" in report and report.count("| completed |") == 2
    assert "- **met** — both finish" in report
    assert "training loss per logged step" in report and "```text" in report
