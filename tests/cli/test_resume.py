"""--resume is faithful: the numbers, types, command and configuration that ran are kept, a
--set that would change what ran is refused, a run killed during its final evaluation is
finished, a kill at any moment leaves a directory it continues, and a damaged directory is one
paragraph and exit 2. One writer per out dir at a time."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from support import TINY_MLP, as_sets, rows

from tui_lab.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
MLP = as_sets({**TINY_MLP, "model.hidden": 16})
EXPORT = ["--preset", "adam_vs_sgd", "--export", "csv", "--checkpoint", *MLP]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_lab", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def resume(out: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A resume in its own process: a hang fails the test instead of blocking it."""
    return subprocess.run(
        [sys.executable, "-m", "tui_lab", "--resume", str(out), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def rewrite_csv(path: Path, edit) -> None:
    table = rows(path)
    fields = list(table[0]) if table else next(csv.reader(path.open()))
    table = [r for r in (edit(dict(r)) for r in table) if r is not None]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(table)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished three-run export with checkpoints (copied by each test that changes it)."""
    out = tmp_path_factory.mktemp("finished") / "out"
    assert main([*EXPORT, "--out", str(out)]) == 0
    return out


@pytest.fixture
def copy(finished, tmp_path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "copy"))


def test_a_resume_keeps_every_file_its_types_and_the_original_command(copy, capsys):
    steps, meta = (
        (copy / "steps.csv").read_text(),
        json.loads((copy / "experiment.json").read_text()),
    )
    names = sorted(p.name for p in copy.iterdir())
    assert any("." in r["epoch"] for r in rows(copy / "steps.csv"))  # a fraction of an epoch
    assert main(["--resume", str(copy), "--set", "training.threads=1"]) == 0
    assert "kept (completed)" in capsys.readouterr().err
    assert (copy / "steps.csv").read_text() == steps
    again = json.loads((copy / "experiment.json").read_text())
    assert (again["command"], again["started"]) == (meta["command"], meta["started"])
    assert again["runs"] == meta["runs"] and len(again["resumed"]) == 1
    assert sorted(p.name for p in copy.iterdir()) == names  # and no .lock left behind


@pytest.mark.parametrize(
    "change",
    [["--set", "model.arch=logreg"], ["--set", "optimizer.lr=0.5"], ["--epochs", "9"]],
)
def test_a_resume_refuses_a_set_that_changes_what_ran(copy, capsys, change):
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    assert main(["--resume", str(copy), *change]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tui-lab: error: --resume") and "change what ran" in err
    assert err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before


def test_a_run_killed_during_its_final_evaluation_is_finished_by_the_resume(copy, finished):
    """The last epoch's checkpoint is there, the run's end (test accuracy) is not: the resume
    evaluates it instead of spinning forever, and the numbers are the uninterrupted ones."""
    rewrite_csv(copy / "summary.csv", lambda r: None)
    meta = json.loads((copy / "experiment.json").read_text())
    (copy / "experiment.json").write_text(json.dumps({**meta, "status": "running"}))
    done = resume(copy)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("resumed after epoch 2") == 3
    assert rows(copy / "summary.csv") == rows(finished / "summary.csv")
    assert rows(copy / "metrics.csv") == rows(finished / "metrics.csv")
    assert json.loads((copy / "experiment.json").read_text())["status"] == "completed"


def test_a_kill_before_the_first_epoch_ends_leaves_a_resumable_directory(tmp_path):
    out = tmp_path / "out"
    proc = start(*EXPORT, "--epochs", "50", "--out", str(out))
    wait_for(out / "experiment.json", proc)  # written before the data is even loaded
    proc.kill()
    proc.wait()
    assert json.loads((out / "experiment.json").read_text())["status"] == "running"
    done = resume(out, timeout=240)
    assert done.returncode == 0, done.stderr
    summary = rows(out / "summary.csv")
    assert [r["status"] for r in summary] == ["completed"] * 3


def test_sigterm_is_an_interrupt_and_the_resume_continues(tmp_path):
    out = tmp_path / "out"
    proc = start(*EXPORT, "--epochs", "30", "--out", str(out))
    wait_for(out / "checkpoints" / "adam.pt", proc)
    proc.send_signal(signal.SIGTERM)  # what schedulers and containers send
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert {r["status"] for r in rows(out / "summary.csv")} == {"interrupted"}
    assert json.loads((out / "experiment.json").read_text())["status"] == "interrupted"
    done = resume(out, timeout=240)
    assert done.returncode == 0 and "resumed after epoch" in done.stderr, done.stderr


def test_a_second_writer_gets_exit_2_naming_the_first_and_changes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    first = start(*EXPORT, "--epochs", "200", "--out", str(out))
    try:
        wait_for(out / "experiment.json", first)
        other = ["--preset", "baseline_cnn", "--export", "csv", *MLP, "--out", str(out)]
        assert main(other) == 2
        assert main(["--resume", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count(f"another tui-lab process (PID {first.pid})") == 2
        assert json.loads((out / "experiment.json").read_text())["preset"] == "adam_vs_sgd"
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    assert {r["run"] for r in rows(out / "summary.csv")} == {"adam", "rmsprop", "sgd_momentum"}


def test_a_start_that_fails_before_training_leaves_no_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = ["--set", "data.dataset=mnist", "--set", "data.download=false"]
    for out in (["--out", "new"], ["--out", str(empty)], []):
        code = main(["--export", "csv", "--data-dir", str(empty), *missing, *out])
        assert code == 2 and "is not on this machine" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
    assert list(empty.iterdir()) == []


def _bare_tensor(out: Path) -> None:
    torch.save(torch.zeros(3), out / "checkpoints" / "adam.pt")


def _string_step(out: Path) -> None:
    path = out / "checkpoints" / "adam.pt"
    torch.save({**torch.load(path, weights_only=True), "step": "many"}, path)


def _edit_meta(out: Path, edit) -> None:
    meta = json.loads((out / "experiment.json").read_text())
    edit(meta)
    (out / "experiment.json").write_text(json.dumps(meta))


DAMAGE = {
    "invalid experiment.json": lambda out: (out / "experiment.json").write_text("{"),
    "experiment.json a list": lambda out: (out / "experiment.json").write_text("[1]"),
    "no experiment config": lambda out: _edit_meta(out, lambda m: m.pop("experiment_config")),
    "invalid stored config": lambda out: _edit_meta(
        out, lambda m: m["experiment_config"]["base"]["training"].update(epochs=-1)
    ),
    "overrides not a table": lambda out: _edit_meta(out, lambda m: m.update(overrides=[1])),
    "non-numeric cell": lambda out: rewrite_csv(
        out / "metrics.csv", lambda r: {**r, "epoch": "two"}
    ),
    "summary row missing columns": lambda out: (out / "summary.csv").write_text(
        "run,status\nadam\n"
    ),
    "NUL in a cell": lambda out: (out / "steps.csv").write_bytes(b"run,step\nadam,\x00\n"),
    "steps.csv cut short": lambda out: (out / "steps.csv").write_text(
        (out / "steps.csv").read_text()[:-30]
    ),
    "a column renamed": lambda out: (out / "metrics.csv").write_text(
        (out / "metrics.csv").read_text().replace("val_acc", "val_acx", 1)
    ),
    "checkpoint bytes damaged": lambda out: (out / "checkpoints" / "adam.pt").write_bytes(
        b"\x00" + (out / "checkpoints" / "adam.pt").read_bytes()[1:]
    ),
    "bare tensor checkpoint": _bare_tensor,
    "checkpoint step a string": _string_step,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_directory_is_one_paragraph_and_exit_2(copy, capsys, damage):
    rewrite_csv(copy / "summary.csv", lambda r: {**r, "status": "interrupted"})
    DAMAGE[damage](copy)
    assert main(["--resume", str(copy)]) == 2
    said = capsys.readouterr().err
    *_, err = said.splitlines()  # after any "[run] started" of the console
    assert err.startswith("tui-lab: error:") and str(copy) in err, said


def test_a_damaged_json_export_is_one_paragraph_and_exit_2(tmp_path, capsys):
    out = tmp_path / "json"
    assert main([*EXPORT, "--export", "json", "--out", str(out)]) == 0
    capsys.readouterr()
    for payload in ("{}", '{"experiment": {}, "summary": [{"run": "adam"}]}', '{"steps": 3}'):
        (out / "results.json").write_text(payload)
        assert main(["--resume", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tui-lab: error:") and err.count("\n") == 1, err


def test_only_a_comparison_export_can_be_resumed(tmp_path, copy, capsys):
    toy = tmp_path / "toy"
    assert main(["--preset", "toy_2d", "--export", "csv", "--out", str(toy)]) == 0
    assert main(["--resume", str(toy)]) == 2
    assert "holds a 2-D toy problem" in capsys.readouterr().err
    assert main(["--resume", str(copy), "--export", "json"]) == 2
    assert "continues a --export csv run" in capsys.readouterr().err
    assert main(["--resume", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
