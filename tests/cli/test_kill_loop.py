"""The kill loop of issue 17: an export with --checkpoint killed (kill -9) at random moments,
each time resumed and killed again, then resumed to the end. Nothing hangs, no row is lost or
doubled, and the numbers are those of the same export never interrupted.

The short loop (three kills) runs with every test run; the long one (ten) is marked slow."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import TINY_CNN, as_sets, rows

from tui_lab.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {**TINY_CNN, "data.synthetic_size": 600, "training.threads": 1}
EXPORT = ["--preset", "adam_vs_sgd", "--export", "csv", "--checkpoint", *as_sets(CONFIG)]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_lab", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


def kill_at_random(proc: subprocess.Popen, rng: random.Random, longest: float) -> None:
    time.sleep(rng.uniform(0.2, longest))
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def learning(path: Path, *columns: str) -> list[tuple[str, ...]]:
    """The rows of a result file without the timing columns, in a stable order."""
    return sorted(tuple(r[c] for c in columns) for r in rows(path))


def kill_loop(tmp_path: Path, kills: int, epochs: int, seed: int) -> None:
    rng = random.Random(seed)
    args = [*EXPORT, "--epochs", str(epochs)]
    out = tmp_path / "killed"
    first = start(*args, "--out", str(out))
    deadline = time.monotonic() + 120
    while not (out / "experiment.json").exists():  # from here on, a resume can continue
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    kill_at_random(first, rng, 3.0)
    for _ in range(kills - 1):
        kill_at_random(start("--resume", str(out)), rng, 5.0)
    done = subprocess.run(
        [sys.executable, "-m", "tui_lab", "--resume", str(out)],
        capture_output=True,
        text=True,
        timeout=300,  # a hang fails here
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]

    whole = tmp_path / "whole"
    assert main([*args, "--out", str(whole)]) == 0
    for table, columns in {
        "metrics.csv": ("run", "epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc"),
        "steps.csv": ("run", "step", "epoch", "loss", "lr"),
        "summary.csv": ("run", "status", "test_acc", "test_loss", "epochs", "steps"),
    }.items():
        assert learning(out / table, *columns) == learning(whole / table, *columns), table
    assert len(rows(out / "metrics.csv")) == 3 * epochs  # every epoch once, none twice
    assert not list(out.glob("**/.*.tmp")) and not (out / ".lock").exists()


def test_three_random_kills_then_resume_give_the_uninterrupted_numbers(tmp_path):
    kill_loop(tmp_path, kills=3, epochs=3, seed=17)


@pytest.mark.slow
def test_ten_random_kills_then_resume_give_the_uninterrupted_numbers(tmp_path):
    kill_loop(tmp_path, kills=10, epochs=6, seed=1717)
