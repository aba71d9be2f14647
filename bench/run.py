"""Every CPU benchmark in one go: ``python bench/run.py [--threads N] [--only NAME ...]``.

Prints one table of ratios (each measured within this one process, contenders interleaved)
under a line naming the machine. Takes a few minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time

import many_runs
import memory
import throughput
import time_to_accuracy
import torch
import whole_process
from common import machine

SECTIONS = {
    "overhead": throughput.engine_vs_hand_tuned,
    "fused_adam": throughput.fused_adam_effect,
    "textbook": throughput.engine_vs_textbook,
    "precision": throughput.precision_table,
    "time_to_accuracy": lambda: [
        time_to_accuracy.time_to_accuracy(p) for p in ("fast_fashion", "fast_mnist")
    ],
    "memory": memory.rows,
    "many_runs": many_runs.rows,
    "whole_process": whole_process.rows,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (default: torch's, one per core)"
    )
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine())
    rows = []
    for name in args.only or SECTIONS:
        t0 = time.perf_counter()
        rows += SECTIONS[name]()
        print(f"  [{name} measured in {time.perf_counter() - t0:.0f} s]", flush=True)
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
    print(machine())


if __name__ == "__main__":
    main()
