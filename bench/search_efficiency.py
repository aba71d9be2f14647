"""Search efficiency: how few trial-epochs do random and TPE search (with median pruning) need to
come within 0.5 percentage points of the grid's best validation accuracy, on one fixed space?

The space (Fashion-MNIST subset, baseline CNN, Adam): learning rate log-uniform in
0.0003–0.03, batch size 32–128 and dropout 0–0.5. Grid search trains its 4 × 3 × 2 = 24 grid
points for the full epochs each (the reference). Random and TPE sample the same ranges, each
trial reports its validation accuracy per epoch to a median pruner, and each method stops as
soon as its best validation accuracy is within ``TOLERANCE`` of the grid's best; the figure is
the trial-epochs it trained by then divided by the grid's (the fraction; lower is better).
Several sampler seeds are run; each one's fraction and the median are printed.

Run alone: ``python bench/search_efficiency.py [--seeds N]`` (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import machine

from tui_lab.config import ExperimentConfig
from tui_lab.events import TrialFinished
from tui_lab.search.runner import Search

TOLERANCE = 0.005
BASE = {
    "data": {"dataset": "fashion_mnist", "subset": 2400, "val_fraction": 0.25, "test_subset": 2000},
    "model": {"arch": "baseline_cnn", "filters": [16, 32], "hidden": 64},
    "optimizer": {"name": "adam"},
    "training": {"epochs": 3, "device": "cpu", "seed": 0},
}
SPACE = {
    "optimizer.lr": {
        "type": "float",
        "low": 0.0003,
        "high": 0.03,
        "log": True,
        "grid": [0.0003, 0.001, 0.003, 0.01],
    },
    "training.batch_size": {"type": "int", "low": 32, "high": 128, "grid": [32, 64, 128]},
    "model.dropout": {"type": "float", "low": 0.0, "high": 0.5, "grid": [0.0, 0.5]},
}


def search(
    method: str, seed: int, n_trials: int | None, target: float | None
) -> tuple[float, int, bool]:
    """Best validation accuracy, trial-epochs trained, and whether ``target`` was reached."""
    cfg = ExperimentConfig.model_validate(
        {
            "name": f"bench-{method}-{seed}",
            "base": BASE,
            "search": {
                "method": method,
                "n_trials": n_trials,
                "seed": seed,
                "space": SPACE,
                "pruner": "none" if method == "grid" else "median",
                "startup_trials": 4,
            },
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        state = {"best": 0.0, "epochs": 0, "reached": False}
        runner: Search

        def watch(event) -> None:
            if not isinstance(event, TrialFinished) or event.record.status == "interrupted":
                return
            r = event.record
            state["epochs"] += r.epochs
            if r.status == "completed" and r.value is not None:
                state["best"] = max(state["best"], r.value)
            if target is not None and state["best"] >= target - TOLERANCE and not state["reached"]:
                state["reached"] = True
                runner.stop("stopped")

        runner = Search(cfg, run_dir=Path(tmp), listeners=[watch])
        runner.run()
    return state["best"], state["epochs"], state["reached"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="sampler seeds per method")
    args = parser.parse_args()
    print(machine())
    grid_best, grid_epochs, _ = search("grid", 0, None, None)
    print(f"grid: best val acc {100 * grid_best:.2f}% after {grid_epochs} trial-epochs (24 trials)")
    for method in ("random", "bayes"):
        fractions = []
        for seed in range(args.seeds):
            best, epochs, reached = search(method, seed, 24, grid_best)
            fraction = epochs / grid_epochs
            fractions.append(fraction if reached else float("inf"))
            verdict = "reached" if reached else "NOT reached within 24 trials"
            print(
                f"{method} + median pruner, seed {seed}: best {100 * best:.2f}% {verdict} "
                f"after {epochs} trial-epochs = {fraction:.2f} of the grid's"
            )
        label = "TPE" if method == "bayes" else "random"
        print(
            f"{label}: median fraction of the grid's trial-epochs to come within "
            f"{100 * TOLERANCE:.1f} pp of its best: {statistics.median(fractions):.2f}"
        )


if __name__ == "__main__":
    main()
