"""Key-to-paint latency of the TUI while runs train, against the same keys with nothing
training: the goal (issue 15) is every key within 100 ms while two runs train.

The walk is the pilot test's (tests/ui/lab_pilot.walk_keys): the view keys, typing a learning
rate, cycling the Compare view's tables; each time is from the key to the first frame that
shows its effect. The app is the real ``LabApp`` with its start-up warm-up, under Textual's
headless pilot. Idle and training walks alternate, each in a fresh app, so that a busy machine
slows both alike; the printed ratio is training over idle.

    .venv/bin/python bench/key_latency.py [--repeats 3] [--preset adam_vs_sgd]

Without ``--preset``: two tiny MLPs that log every step (the most events a second); with one,
its runs on synthetic data.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

from common import machine

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "ui")]

from lab_pilot import (  # noqa: E402
    LONG,
    SIZE,
    latency_lines,
    launch_until_training,
    two_runs,
    wait_until,
    walk_keys,
)

from tui_lab.presets import load_preset  # noqa: E402
from tui_lab.ui.app import LabApp  # noqa: E402

GOAL = 0.100


async def walk(cfg, overrides: dict, training: bool) -> dict[str, list[float]]:
    app = LabApp(cfg, overrides, warm_up=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not any(w.group == "warm-up" for w in app.workers), 60)
        if training:
            await launch_until_training(app, pilot, logged=5)
        times = await walk_keys(app, pilot)
        app.stop_jobs()
        await app.workers.wait_for_complete()
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    within = sum(t <= GOAL for t in times)
    return (
        f"median {1000 * statistics.median(times):4.0f} ms, p90 {1000 * p90:4.0f} ms, "
        f"max {1000 * max(times):5.0f} ms, {within}/{len(times)} within 100 ms"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--preset", help="a preset's runs on synthetic data instead of two MLPs")
    args = p.parse_args()
    if args.preset:
        cfg = load_preset(args.preset)
        overrides = {
            "data.dataset": "synthetic",
            "training.device": "cpu",
            "training.epochs": 10_000,
            "training.seeds": 1,
        }
    else:
        cfg, overrides = two_runs(), LONG
    print(machine())
    walks: dict[str, list[float]] = {"idle": [], "training": []}
    for i in range(args.repeats):
        for mode in walks:
            groups = asyncio.run(walk(cfg, overrides, training=mode == "training"))
            times = [t for ts in groups.values() for t in ts]
            walks[mode] += times
            print(f"round {i + 1} {mode}: {summary(times)}")
            print("".join(f"    {line}\n" for line in latency_lines(groups)[:-1]), end="")
    what = args.preset or "two tiny MLPs logging every step"
    print(f"\nkey to paint, {what}, {args.repeats} walks of {len(times)} keys each:")
    for mode, times in walks.items():
        print(f"  {mode:8} {summary(times)}")
    ratio = statistics.median(walks["training"]) / statistics.median(walks["idle"])
    print(f"  ratio training/idle (medians) = {ratio:.2f}")


if __name__ == "__main__":
    main()
