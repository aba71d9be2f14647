"""What looking inside the optimizer costs, as a share of training time at the default periods
(issue 14 asks for at most 3%): on Fashion-MNIST with the baseline CNN, one optimizer step, one
watched step's measurement (training/internals.py ``Probe``) and one sharpness estimate are
timed in the same run, alternated, medians compared:

    share = (probe / internals_every + sharpness / sharpness_every) / step

    .venv/bin/python bench/internals.py [--reps 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from common import EngineLoop, machine, run_config

from tui_lab.config import TrainingConfig

DEFAULTS = TrainingConfig()
OFF = {"training.internals_every": 0, "training.sharpness_every": 0}


def timed(fn, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    loop = EngineLoop(run_config(OFF))
    print(f"numerics: {loop.chosen()}")
    loop.prepare(200)
    run = loop.run
    assert run is not None and run.parts is not None
    p = run.parts
    batch = torch.arange(p.batch_size)

    p.train_step(batch)  # gradients in place: what a watched step adds is these two calls

    def probe() -> None:
        p.probe.snapshot()
        p.probe.measure("bench", 1)

    def sharpness() -> None:
        p.sharpness.measure("bench", 1, 1e-3)

    sharpness()  # the first estimate starts from a random vector; later ones warm-start
    steps, probes, sharps = [], [], []
    for _ in range(args.reps):
        steps.append(timed(lambda: p.train_step(batch), 20))
        probes.append(timed(probe, 5))
        sharps.append(timed(sharpness, 1))
    step, probe_s, sharp_s = (statistics.median(v) for v in (steps, probes, sharps))
    share_i = probe_s / DEFAULTS.internals_every / step
    share_s = sharp_s / DEFAULTS.sharpness_every / step
    print(
        f"one step {1e3 * step:.1f} ms, one watched step's measurement {1e3 * probe_s:.1f} ms, "
        f"one sharpness estimate {1e3 * sharp_s:.0f} ms ({sharp_s / step:.0f} steps' time)"
    )
    print(f"internals every {DEFAULTS.internals_every}: {100 * share_i:.2f}% of training time")
    print(f"sharpness every {DEFAULTS.sharpness_every}: {100 * share_s:.2f}% of training time")
    print(f"both (the defaults): {100 * (share_i + share_s):.2f}% (issue 14: ≤ 3%)")


if __name__ == "__main__":
    main()
