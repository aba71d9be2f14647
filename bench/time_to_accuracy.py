"""Time to accuracy: train a preset headless and report its training seconds and test accuracy.

Training seconds are the engine's own clock (``RunFinished.seconds``): optimizer steps only,
without data loading, model building or the end-of-epoch evaluations.

Run alone: ``python bench/time_to_accuracy.py [PRESET ...]`` (default: fast_fashion).
"""

from __future__ import annotations

import sys
import time

from common import machine

from tui_lab.data.files import availability
from tui_lab.events import RunFinished
from tui_lab.presets import load_preset
from tui_lab.training.comparison import Comparison
from tui_lab.training.numerics import cpu_supports_bf16

ACCURACY = {"fast_fashion": 0.90, "fast_mnist": 0.99}
# seconds of training to that accuracy, per machine class (fast_fashion; fast_mnist: none yet)
SECONDS: dict[str, float | None] = {"cpu with native bf16": 6.0, "cpu without bf16": None}


def machine_class() -> str:
    if cpu_supports_bf16():
        return "cpu with native bf16"
    return "cpu without bf16"


def time_to_accuracy(preset: str) -> tuple[str, str, str, str]:
    cfg = load_preset(preset)
    target = ACCURACY[preset]
    seconds = SECONDS[machine_class()] if preset == "fast_fashion" else None
    dataset = cfg.base.data.dataset
    if availability(dataset) is None:
        return (
            f"{preset}: test acc ≥ {target:.0%}",
            "n/a",
            "not run",
            f"{dataset} is not installed here",
        )
    t0 = time.perf_counter()
    results: list[RunFinished] = Comparison(cfg, {"training.device": "cpu"}).run()
    wall = time.perf_counter() - t0
    run = results[0]
    ok = (
        run.test_acc is not None
        and run.test_acc >= target
        and (seconds is None or run.seconds <= seconds)
    )
    goal = f"≥{target:.0%}" + (f" in ≤{seconds:g} s" if seconds else "")
    detail = (
        f"test acc {run.test_acc:.4f} after {run.epochs} epoch(s), "
        f"wall {wall:.1f} s incl. load + eval"
    )
    return (
        f"{preset}: train seconds to test acc ({machine_class()})",
        f"{run.seconds:.2f} s",
        f"{goal} {'ok' if ok else 'MISSED'}",
        detail,
    )


if __name__ == "__main__":
    print(machine())
    for name in sys.argv[1:] or ["fast_fashion"]:
        print(" | ".join(time_to_accuracy(name)))
