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
            # COLUMNS/LINES (set under pytest) would override the pane's size
            f"cd {tmp_path} && env -u COLUMNS -u LINES TERM=xterm-256color {exe} "
            f"--preset adam_vs_sgd {sets}; "
            f"echo $? > {self.done}.part; mv {self.done}.part {self.done}; sleep 30"
        )
        # a server per test: the previous test's may still be shutting down
        self.tmux = ["tmux", "-L", f"tui-lab-test-{os.getpid()}-{tmp_path.name}"]
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
    drawn = ("Launch", "sgd_momentum", "Dataset", "Optimizer")  # the Lab, drawn whole
    lab = terminal.wait_for(lambda s: all(text in s for text in drawn), 60)
    assert max(len(line) for line in lab.splitlines()) > 100  # drawn for the 120×40 pane
    terminal.keys("C-r")
    # all on one screen: a capture may catch the terminal half-way through a frame
    shown = ("test acc", "Training loss", "adam")
    terminal.wait_for(lambda s: s.count("completed") >= 3 and all(t in s for t in shown), 90)
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
