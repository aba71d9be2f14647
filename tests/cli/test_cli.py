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


def test_export_csv_writes_the_tables_the_report_and_the_figures(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["--preset", "adam_vs_sgd", "--export", "csv", "--epochs", "2", "--out", str(out), *SYNTH]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "aggregate.csv",
        "expectations.csv",
        "experiment.json",
        "figures",
        "internals.csv",
        "metrics.csv",
        "report.md",
        "sharpness.csv",
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
        (["--headless", "--epochs", "0"], "--epochs 0: "),
        (["--headless", "--max-steps", "0"], "--max-steps 0: "),
        (["--headless", "--set", "optimizer.lr", "0.1"], "write --set optimizer.lr=0.1"),
        (["--headless", "--set", 'optimizer={name="sgd"}'], "'optimizer' is a section"),
        (["--headless", "--set", "training=5"], "'training' is a section"),
        (["--headless", "--set", "model.filters=" + "[" * 5000 + "]" * 5000], "nested too"),
        (["--headless", "--set", "training.batch_size=true"], "training.batch_size"),
        (["--headless", "--set", "schedule.warmup_epochs=inf"], "finite"),
        (["--headless", "--workers", "0"], "--workers"),
        (["--headless", "--workers", "100000"], "--workers"),
        (["--headless", "--preset", "/dev/null"], "not a regular file"),
        (["--headless", "--preset", "/"], "is a directory"),
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


def test_a_fifo_as_preset_is_refused_at_once(tmp_path):
    fifo = tmp_path / "preset.toml"
    os.mkfifo(fifo)
    proc = cli("--headless", "--preset", str(fifo))  # would block forever reading it
    assert proc.returncode == 2 and "not a regular file" in proc.stderr


def test_a_preset_named_like_a_path_still_writes_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("../../../escaped", str(tmp_path / "absolute")):
        preset = tmp_path / "p.toml"
        preset.write_text(f'name = "{name}"\n')
        assert main(["--preset", str(preset), "--export", "csv", "--max-steps", "3", *SYNTH]) == 0
    made = sorted(p.relative_to(tmp_path).parts[:1] for p in tmp_path.rglob("summary.csv"))
    assert made == [("runs",), ("runs",)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml", "runs"]


def test_checks_are_refused_before_training_or_decided_after_it(tmp_path, capsys):
    preset = tmp_path / "p.toml"
    preset.write_text('[[expect]]\ntext = "typo"\ncheck = "run(\'adam\').test_acc > scor(1)"\n')
    out = tmp_path / "refused"
    assert main(["--preset", str(preset), "--export", "csv", "--out", str(out), *SYNTH]) == 2
    assert "unknown function 'scor'" in capsys.readouterr().err and not out.exists()
    checks = ["'a' < 1", "run('adam') > 1", "min(1) > 0", "abs('a') > 1", "'a' * 10 < 'b'"]
    preset.write_text("".join(f'[[expect]]\ntext = "t"\ncheck = "{c}"\n' for c in checks))
    out = tmp_path / "decided"
    argv = ["--preset", str(preset), "--export", "csv", "--max-steps", "3", "--out", str(out)]
    assert main([*argv, *SYNTH]) == 0
    assert [r["result"] for r in rows(out / "expectations.csv")] == ["undecided"] * 5
    assert "undecided" in (out / "report.md").read_text()


def test_an_out_path_that_is_a_device_is_exit_2():
    proc = cli("--export", "csv", "--out", "/dev/null", "--max-steps", "1", *SYNTH)
    assert proc.returncode == 2 and "not a directory" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
