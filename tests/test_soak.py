"""Soak: a 30-minute headless comparison keeps its memory flat (slow; run with -m slow)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

MINUTES = float(os.environ.get("TUI_LAB_SOAK_MINUTES", "30"))


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        line = next(ln for ln in fh if ln.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.slow
@pytest.mark.timeout(int(MINUTES * 60) + 600)
def test_long_comparison_has_flat_memory(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_lab",
            "--preset",
            "adam_vs_sgd",
            "--export",
            "csv",
            "--epochs",
            "100000",
            "--set",
            "data.dataset=synthetic",
            "--set",
            "data.synthetic_size=4000",
            "--out",
            str(tmp_path / "o"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples = []
    try:
        start = time.monotonic()
        while time.monotonic() - start < MINUTES * 60:
            time.sleep(10)
            assert proc.poll() is None, "the soak run ended early"
            samples.append(rss_mib(proc.pid))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    warm = samples[len(samples) // 5]  # after start-up allocations settle
    assert max(samples[len(samples) // 5 :]) < warm * 1.10 + 50, samples
