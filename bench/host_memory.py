"""Host memory between steps: the same short CLI job with tui-lab's fixed glibc thresholds
(training/host_memory.py) and with glibc's own policy, as whole processes, alternated.

glibc's own policy is reached by setting a glibc malloc tunable to its default value
(``glibc.malloc.tcache_count=7``): tui-lab then leaves malloc alone. Prints the wall-time ratio
(median of the pairs), and per job the minor page faults and the seconds spent in the kernel,
which show the churn even where the wall time is noisy.

Run alone: ``python bench/host_memory.py [--reps 3] [--steps 900]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

from common import machine, ratio_row

GLIBC_OWN = {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=7"}


def job(steps: int, extra_env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, minor page faults and kernel seconds of one headless job."""
    command = [sys.executable, "-m", "tui_lab", "--preset", "baseline_cnn", "--headless"]
    command += ["--device", "cpu", "--max-steps", str(steps), "--set", "data.val_fraction=0"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        command, check=True, capture_output=True, timeout=1800, env={**os.environ, **extra_env}
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_minflt - before.ru_minflt, after.ru_stime - before.ru_stime


def rows(reps: int = 3, steps: int = 900) -> list[tuple[str, str, str, str]]:
    fixed, own = [], []
    for _ in range(reps):
        fixed.append(job(steps, {}))
        own.append(job(steps, GLIBC_OWN))
    ratio = statistics.median(o[0] / f[0] for f, o in zip(fixed, own, strict=True))

    def describe(runs: list[tuple[float, int, float]]) -> str:
        return ", ".join(f"{w:.1f} s / {n / 1e6:.2f} M faults / {s:.1f} s sys" for w, n, s in runs)

    return [
        ratio_row(
            f"{steps}-step job: glibc's own policy / fixed thresholds (wall)",
            ratio,
            None,
            f"fixed: {describe(fixed)}; glibc's own: {describe(own)}",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--steps", type=int, default=900)
    args = parser.parse_args()
    print(machine())
    for row in rows(args.reps, args.steps):
        print(" | ".join(row))
