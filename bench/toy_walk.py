"""The toy view's answer to an edit: milliseconds to walk one run's whole path again (what an
edit of η, γ, β1 or β2 costs before the path is redrawn), per toy function of the catalogue
the lectures use most, each run of the preset walked ``--repeats`` times.

Run alone: ``python bench/toy_walk.py [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import machine

from tui_lab.config import Toy2DConfig
from tui_lab.toy2d.problem import Toy2DProblem
from tui_lab.ui.sessions.toy import walk_runs

FUNCTIONS = ("lecture", "rosenbrock", "beale")


def rows(repeats: int = 5) -> list[tuple[str, str, str, str]]:
    out = []
    for function in FUNCTIONS:
        problem = Toy2DProblem.from_config(Toy2DConfig(function=function))
        walk_runs(problem, [0])  # warm-up
        seconds = []
        for _ in range(repeats):
            for i in range(len(problem.runs)):
                started = time.perf_counter()
                walk_runs(problem, [i])
                seconds.append(time.perf_counter() - started)
        median = statistics.median(seconds)
        out.append(
            (
                f"toy {function}: one run walked again",
                f"{1000 * median:.0f} ms",
                "≤100 ms ok" if median <= 0.1 else "≤100 ms MISSED",
                f"median of {len(seconds)} walks ({len(problem.runs)} runs), slowest "
                f"{1000 * max(seconds):.0f} ms",
            )
        )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    for row in rows(args.repeats):
        print(" | ".join(row))
