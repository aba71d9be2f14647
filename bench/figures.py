"""Seconds the figures add to an export: ``python bench/figures.py [--repeats 3]``.

Figures are drawn once, after training has ended, in the thread that writes the export
(training/job.py, search/runner.py, toy2d/runner.py), so they cost training nothing; what
they cost is this wait at the end. Each line times, on synthetic results of a given size (no
training), writing the export's tables, experiment.json and report.md, then drawing its
figures as SVG and as PNG; medians of ``--repeats`` runs, matplotlib's one-off import apart.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tui_lab.config import ExperimentConfig, Toy2DConfig
from tui_lab.events import TrialRecord
from tui_lab.results.directory import RunDirectory
from tui_lab.results.figures import comparison_figures
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.search.figures import StudyTrials, search_figures
from tui_lab.toy2d.figures import toy_figures
from tui_lab.toy2d.problem import Toy2DProblem
from tui_lab.toy2d.runner import run_toy2d

IMPORT = (
    "import time; t = time.perf_counter(); import matplotlib.figure; print(time.perf_counter() - t)"
)


def import_seconds() -> float:
    """matplotlib's import in a fresh process (an export pays it once, at its first figure)."""
    out = subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True)
    return float(out.stdout)


def recorder_of(runs: int, epochs: int, logged: int) -> ResultsRecorder:
    """A comparison's tables: ``logged`` step rows per epoch per run, smooth curves."""
    recorder = ResultsRecorder()
    for r in range(runs):
        name = f"run{r}"
        recorder.order[name] = r
        for e in range(1, epochs + 1):
            for s in range(logged):
                t = e - 1 + s / logged
                recorder.steps.append(
                    {
                        "run": name,
                        "step": (e - 1) * logged + s,
                        "epoch": t,
                        "loss": 2 * math.exp(-t / (r + 1)) + 0.1,
                        "lr": 0.01 * 0.5 ** (t // 2),
                        "samples_per_s": 5000.0,
                        "seconds": t,
                    }
                )
            recorder.metrics.append(
                {"run": name, "epoch": e, "step": e * logged, "train_loss": 1 / e}
                | {"train_acc": 1 - 1 / (e + 1), "val_loss": 1.1 / e, "val_acc": 1 - 1 / (e + 2)}
                | {"lr": 0.01, "seconds": float(e), "epoch_seconds": 1.0}
            )
        recorder.summary[name] = {"run": name, "status": "completed", "epochs": epochs}
    return recorder


def median_seconds(work: Callable[[Path], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            work(Path(tmp))
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def comparison_line(runs: int, epochs: int, logged: int, repeats: int) -> str:
    recorder = recorder_of(runs, epochs, logged)
    names = list(recorder.summary)
    meta = {"preset": "bench", "runs": {n: {} for n in names}}

    def files(path: Path) -> None:
        RunDirectory(path, "csv", dict(meta), recorder).write("completed", "# report\n")

    def figures(fmt: str) -> Callable[[Path], object]:
        return lambda path: comparison_figures(recorder.tables(), names, path, fmt)

    rest = median_seconds(files, repeats)
    svg = median_seconds(figures("svg"), repeats)
    png = median_seconds(figures("png"), repeats)
    rows = len(recorder.steps)
    what = f"comparison: {runs} runs × {epochs} epochs, {rows:,} step rows"
    return f"{what:<52} files {rest:6.2f} s   + svg {svg:5.2f} s   + png {png:5.2f} s"


def search_line(studies: int, trials: int, repeats: int) -> str:
    def trial(study: str, n: int) -> TrialRecord:
        lr, batch = 10 ** (-4 + 3 * ((n * 7) % trials) / trials), (32, 64, 128)[n % 3]
        value = 0.9 - 0.1 * abs(math.log10(lr) + 2)
        params = {"optimizer.lr": lr, "training.batch_size": batch, "model.dropout": n / trials}
        return TrialRecord(study, n, "COMPLETE", "completed", value, params, 2, 3.0, None, "")

    found = [
        StudyTrials(f"s{s}", tuple(trial(f"s{s}", n) for n in range(trials)), {"optimizer.lr": 1})
        for s in range(studies)
    ]

    def figures(fmt: str) -> Callable[[Path], object]:
        return lambda path: search_figures(found, "val_acc", "maximize", None, path, fmt)

    svg, png = (median_seconds(figures(fmt), repeats) for fmt in ("svg", "png"))
    what = f"search: {studies} {'study' if studies == 1 else 'studies'} × {trials} trials"
    return f"{what:<52} {'':18} + svg {svg:5.2f} s   + png {png:5.2f} s"


def toy_line(repeats: int) -> str:
    toy = ExperimentConfig(toy2d=Toy2DConfig(function="lecture")).toy2d
    assert toy is not None
    problem = Toy2DProblem.from_config(toy)
    walked = run_toy2d(problem)

    def figures(fmt: str) -> Callable[[Path], object]:
        return lambda path: toy_figures(problem, walked, path, fmt)

    svg, png = (median_seconds(figures(fmt), repeats) for fmt in ("svg", "png"))
    what = f"toy: {len(walked)} paths of {problem.steps} steps, 160×160 contour"
    return f"{what:<52} {'':18} + svg {svg:5.2f} s   + png {png:5.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"matplotlib import (once per process): {import_seconds():.2f} s")
    print(comparison_line(3, 3, 42, args.repeats))  # adam_vs_sgd, 3 epochs of Fashion-MNIST
    print(comparison_line(8, 50, 100, args.repeats))  # many runs, long: 1,000 points a curve
    print(search_line(2, 18, args.repeats))  # grid_vs_random
    print(search_line(1, 200, args.repeats))
    print(toy_line(args.repeats))


if __name__ == "__main__":
    main()
