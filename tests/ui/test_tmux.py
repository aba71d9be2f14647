"""The real ``tui-lab`` console script in a real terminal (tmux): launch a short synthetic
comparison with the keyboard, read the screen, quit, and check the process exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None,
    reason="tmux is not installed: the real-terminal test cannot run here",
)

SETTINGS = [
    "data.dataset=synthetic",
    "data.synthetic_size=200",
    "model.arch=mlp",
    "model.hidden=8",
    "training.device=cpu",
    "training.epochs=2",
    "training.batch_size=32",
    "training.log_every=2",
    "training.seeds=1",
]


class Terminal:
    """tui-lab running in a detached tmux session of its own server (-L): keys in, text out."""

    def __init__(self, tmp_path: Path, settings: list[str]) -> None:
        exe = Path(sys.executable).parent / "tui-lab"
        sets = " ".join(f"--set {s}" for s in settings)
        self.done = tmp_path / "exit-code"
        command = (
            f"cd {tmp_path} && TERM=xterm-256color {exe} --preset adam_vs_sgd {sets}; "
            f"echo $? > {self.done}.part; mv {self.done}.part {self.done}; sleep 30"
        )
        self.tmux = ["tmux", "-L", f"tui-lab-test-{os.getpid()}"]
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                "lab",
                "-x",
                "120",
                "-y",
                "40",
                "bash",
                "-c",
                command,
            ],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "lab"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", "lab", *keys], check=True)

    def wait_for(self, predicate, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never matched; it shows:\n{self.screen()}")

    def wait_exit(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not self.done.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.done.exists(), f"tui-lab did not exit; screen:\n{self.screen()}"
        return self.done.read_text().strip()

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def terminal(tmp_path: Path, request):
    term = Terminal(tmp_path, request.param)
    yield term
    term.close()


@pytest.mark.parametrize("terminal", [SETTINGS], indirect=True)
def test_tui_lab_launches_a_run_shows_results_and_quits(terminal: Terminal):
    lab = terminal.wait_for(lambda s: "Launch" in s and "sgd_momentum" in s, 60)
    assert "Dataset" in lab and "Optimizer" in lab
    terminal.keys("C-r")
    results = terminal.wait_for(lambda s: s.count("completed") >= 3 and "test acc" in s, 90)
    assert "Training loss" in results and "adam" in results
    terminal.keys("C-q")
    assert terminal.wait_exit(10) == "0"


@pytest.mark.parametrize("terminal", [[*SETTINGS, "training.epochs=10000"]], indirect=True)
def test_quitting_during_training_ends_the_process_within_two_seconds(terminal: Terminal):
    terminal.wait_for(lambda s: "Launch" in s, 60)
    terminal.keys("C-r")
    terminal.wait_for(lambda s: s.count("running") >= 3 and "/60000" in s, 60)
    started = time.monotonic()
    terminal.keys("C-q")
    assert terminal.wait_exit(10) == "0"
    assert time.monotonic() - started < 2.0
