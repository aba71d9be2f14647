"""The headless CLI end to end: files, exit codes, and one-paragraph errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from support import TINY_CNN, as_sets, comparison, rows

from tui_lab.cli.comparison import busy_cpu_hint
from tui_lab.cli.main import main

SYNTH = as_sets(TINY_CNN)


def test_export_csv_writes_the_four_files(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["--preset", "adam_vs_sgd", "--export", "csv", "--epochs", "2", "--out", str(out), *SYNTH]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "expectations.csv",
        "experiment.json",
        "figures",
        "metrics.csv",
        "report.md",
        "steps.csv",
        "summary.csv",
    ]
    metrics = rows(out / "metrics.csv")
    runs = {"adam", "rmsprop", "sgd_momentum"}
    assert {(m["run"], m["epoch"]) for m in metrics} == {(r, e) for r in runs for e in ("1", "2")}
    summary = {r["run"]: r for r in rows(out / "summary.csv")}
    assert set(summary) == runs and all(r["status"] == "completed" for r in summary.values())
    assert all(0 <= float(r["test_acc"]) <= 1 for r in summary.values())
    steps = rows(out / "steps.csv")
    assert {s["run"] for s in steps} == runs and all(float(s["lr"]) > 0 for s in steps)
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["preset"] == "adam_vs_sgd" and meta["status"] == "completed"
    assert meta["runs"]["adam"]["data"]["dataset"] == "synthetic"
    assert "torch" in meta["environment"]
    assert "adam_vs_sgd: results" in capsys.readouterr().out


def test_export_json_holds_the_same_tables(tmp_path):
    out = tmp_path / "out"
    assert (
        main(
            [
                "--preset",
                "baseline_cnn",
                "--export",
                "json",
                "--max-steps",
                "10",
                "--out",
                str(out),
                *SYNTH,
            ]
        )
        == 0
    )
    payload = json.loads((out / "results.json").read_text())
    assert set(payload) >= {"experiment", "metrics", "steps", "summary"}
    assert payload["summary"][0]["status"] == "completed"


def test_existing_out_dir_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["--preset", "baseline_cnn", "--export", "csv", "--out", str(out), *SYNTH]) == 2
    assert (out / "keep.txt").read_text() == "precious"
    assert "never overwrites" in capsys.readouterr().err


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui_lab", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--preset", "no_such_preset", "--headless"], "Unknown preset"),
        (["--headless", "--set", "optimizer.lr"], "KEY=VALUE"),
        (["--headless", "--set", "optimizer.learning_rate=0.1"], "learning_rate"),
        (["--headless", "--set", "optimizer.lr=-1"], "optimizer.lr"),
        (["--headless", "--device", "cuda", *SYNTH], "CUDA"),
        (
            ["--headless", "--set", "data.dataset=mnist", "--set", "data.download=false"],
            "--data-dir",
        ),
        (["--headless", "--epochs", "zero"], "--epochs"),
    ],
)
def test_bad_input_is_one_paragraph_and_exit_2(args, needle):
    if "cuda" in args and torch.cuda.is_available():
        return  # the no-CUDA error only exists on machines without CUDA
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("tui-lab: error:") and proc.stderr.count("\n") <= 2


def test_piped_output_has_no_control_characters(tmp_path):
    proc = cli("--preset", "baseline_cnn", "--headless", "--max-steps", "25", *SYNTH)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr
    assert "epoch 1" in proc.stderr and "results" in proc.stdout


def test_list_presets_and_version():
    listing = cli("--list-presets")
    assert listing.returncode == 0 and "adam_vs_sgd" in listing.stdout
    version = cli("--version")
    assert version.returncode == 0 and "tui-lab" in version.stdout


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)",
)
def test_adam_baseline_reaches_85_percent_on_fashion_mnist_in_one_epoch(tmp_path):
    out = tmp_path / "fm"
    assert (
        main(["--preset", "baseline_cnn", "--export", "csv", "--epochs", "1", "--out", str(out)])
        == 0
    )
    (summary,) = rows(out / "summary.csv")
    assert summary["status"] == "completed" and float(summary["test_acc"]) >= 0.85


def test_a_busy_cpu_gets_a_hint_to_use_fewer_threads_only_when_it_applies():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        one, _ = comparison([{"name": "adam"}])
        assert "training.threads=1" in busy_cpu_hint(one, load=1.5)
        assert busy_cpu_hint(one, load=0.2) is None
        pinned, _ = comparison([{"name": "adam"}], {**TINY_CNN, "training.threads": 2})
        assert busy_cpu_hint(pinned, load=1.5) is None  # the user chose the thread count
        three, _ = comparison([{"name": "a"}, {"name": "b"}, {"name": "c"}])
        assert busy_cpu_hint(three, load=1.5) is None  # side by side, one thread each already
    finally:
        torch.set_num_threads(before)
