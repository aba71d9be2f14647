"""Whole processes, start-up included: what a user waits for, from the command to the answer.

- ``tui-lab --version``: the interpreter and tui-lab's command line (no torch);
- a process that imports torch, timed until it has (not until it has also exited): the floor
  under any start that trains, for reference;
- command → first training step: ``tui-lab --headless`` on a dataset already decoded once
  (data/decoded.py), timed until the run's start line, which is printed right before its first
  step (the run is set up, its numerics chosen, the data on the device);
- a short job, engine vs textbook: ``STEPS`` optimizer steps of the baseline CNN on
  Fashion-MNIST at batch 64, then the test set evaluated, as ``tui-lab --headless`` and as the
  script a tutorial would write (bench/textbook_job.py: torchvision dataset, ToTensor +
  Normalize, DataLoader, fp32), each a fresh process, alternated.

Run alone: ``python bench/whole_process.py [--reps 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from baselines import write_idx
from common import machine, ratio_row

from tui_lab.data.catalog import DATASETS
from tui_lab.data.files import load_files

HERE = Path(__file__).resolve().parent
STEPS = 600
TUI_LAB = [sys.executable, "-m", "tui_lab"]
JOB = ["--preset", "baseline_cnn", "--headless", "--device", "cpu"]
ENGINE_JOB = [*JOB, "--max-steps", str(STEPS), "--set", "data.val_fraction=0"]


def seconds(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - t0


def seconds_to_start_line(command: list[str], marker: str = "] started on ") -> float:
    """Seconds until the process prints ``marker`` (by default a run's start line) on stderr;
    then it is stopped."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if marker in line:
            elapsed = time.perf_counter() - t0
            proc.kill()
            proc.wait()
            return elapsed
    raise RuntimeError(f"no run started: {command}")


def textbook_root(folder: Path) -> Path:
    """Fashion-MNIST where torchvision's dataset class reads it (ROOT/FashionMNIST/raw)."""
    (train_x, train_y), (test_x, test_y), _ = load_files(DATASETS["fashion_mnist"], None, False)
    raw = folder / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, tensor in {
        "train-images-idx3-ubyte": train_x.squeeze(1),
        "train-labels-idx1-ubyte": train_y.to(torch.uint8),
        "t10k-images-idx3-ubyte": test_x.squeeze(1),
        "t10k-labels-idx1-ubyte": test_y.to(torch.uint8),
    }.items():
        write_idx(raw / name, tensor)
    return folder


def rows(reps: int = 3) -> list[tuple[str, str, str, str]]:
    root = textbook_root(Path(tempfile.mkdtemp(prefix="tui-lab-textbook-")))
    seconds([*TUI_LAB, *JOB, "--max-steps", "1"])  # warm: the decoded dataset, the numerics
    version = statistics.median(seconds([*TUI_LAB, "--version"]) for _ in range(5))
    import_torch = [sys.executable, "-c", "import sys, torch; print('imported', file=sys.stderr)"]
    torch_alone = statistics.median(
        seconds_to_start_line(import_torch, "imported") for _ in range(reps)
    )
    first = statistics.median(seconds_to_start_line([*TUI_LAB, *JOB]) for _ in range(reps))
    engine, textbook = [], []
    for _ in range(reps):
        engine.append(seconds([*TUI_LAB, *ENGINE_JOB]))
        textbook.append(
            seconds([sys.executable, str(HERE / "textbook_job.py"), str(STEPS), str(root)])
        )
    e, t = statistics.median(engine), statistics.median(textbook)
    ok = "≤0.5 s ok" if version <= 0.5 else "≤0.5 s MISSED"
    ready = "≤1.5 s ok" if first <= 1.5 else "≤1.5 s MISSED"
    detail = (
        f"whole processes, median of {reps}: tui-lab {e:.1f} s vs textbook script {t:.1f} s "
        f"({STEPS} steps of the baseline CNN at batch 64 + the test set)"
    )
    return [
        ("tui-lab --version", f"{version:.2f} s", ok, "median of 5 processes"),
        ("a process that imports torch", f"{torch_alone:.2f} s", "", "for reference, median"),
        (
            "command → first training step",
            f"{first:.2f} s",
            ready,
            f"cached dataset, median; {first - torch_alone:.2f} s more than importing torch",
        ),
        ratio_row("short job, engine / textbook (start-up included)", t / e, 2.0, detail),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    for row in rows(args.reps):
        print(" | ".join(row))
