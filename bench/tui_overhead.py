"""Training throughput with the TUI open vs headless, on the same preset and settings.

Headless: ``Comparison.run()`` with no listener. TUI: the real ``LabApp`` under Textual's
headless pilot (``run_test``: the compositor renders every frame, charts redraw on their clock;
only the bytes to a terminal are skipped), launched with its own key binding. Throughput is
samples trained per second of training time (``RunFinished.seconds``, evaluation excluded),
summed over the runs. Modes alternate, so a busy machine slows both alike; medians are compared.

    .venv/bin/python bench/tui_overhead.py [--repeats 3] [--preset adam_vs_sgd] [--steps 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from tui_lab.events import RunFinished
from tui_lab.presets import load_preset
from tui_lab.training.comparison import Comparison
from tui_lab.ui.app import LabApp


def throughput(results: list[RunFinished], batch_size: int) -> float:
    return sum(r.steps * batch_size for r in results) / sum(r.seconds for r in results)


def headless(preset: str, overrides: dict) -> float:
    results = Comparison(load_preset(preset), overrides).run()
    return throughput(results, overrides["training.batch_size"])


UI_CPU: list[float] = []  # the UI thread's CPU seconds per wall second while training


async def with_tui(preset: str, overrides: dict) -> float:
    app = LabApp(load_preset(preset), overrides)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        wall, cpu = time.perf_counter(), time.thread_time()  # this thread runs the app
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        UI_CPU.append((time.thread_time() - cpu) / (time.perf_counter() - wall))
        await pilot.pause()
        assert app.model.comparison is not None
        results = [r.result for r in app.model.comparison.state.runs.values() if r.result]
    return throughput(results, overrides["training.batch_size"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="adam_vs_sgd")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    p.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist or synthetic")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="training.threads, pinned in both modes: torch's default differs between the "
        "main thread (headless) and a worker thread (TUI), measured up to 4x on a busy CPU",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="training.workers in both modes (default: the engine's, one per core on CPU)",
    )
    p.add_argument("--epochs", type=int, default=1)
    args = p.parse_args()
    overrides = {
        "data.dataset": args.dataset,
        "data.subset": 20_000,
        "training.max_steps": args.steps,
        "training.batch_size": 64,
        "training.device": "cpu",
        "training.epochs": args.epochs,
        "training.threads": args.threads,
        "training.workers": args.workers,
    }
    headless(args.preset, {**overrides, "training.max_steps": 20})  # warm-up: data load, kernels
    rates: dict[str, list[float]] = {"headless": [], "tui": []}
    for i in range(args.repeats):
        t = time.perf_counter()
        rates["headless"].append(headless(args.preset, overrides))
        rates["tui"].append(asyncio.run(with_tui(args.preset, overrides)))
        print(
            f"round {i + 1}: headless {rates['headless'][-1]:,.0f} samples/s, "
            f"TUI {rates['tui'][-1]:,.0f} samples/s ({time.perf_counter() - t:.0f} s)"
        )
    h, u = statistics.median(rates["headless"]), statistics.median(rates["tui"])
    print(
        f"\n{args.preset} on {args.dataset}, {args.steps} steps per run, CPU with "
        f"{args.threads} torch thread(s) per run, workers {args.workers or 'default'}, median of "
        f"{args.repeats}:\n  headless {h:,.0f} samples/s\n  TUI open {u:,.0f} samples/s\n"
        f"  ratio TUI/headless = {u / h:.3f}\n"
        f"  UI thread CPU while training: {100 * statistics.median(UI_CPU):.1f}% of one core"
    )


if __name__ == "__main__":
    main()
