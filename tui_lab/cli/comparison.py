"""``tui-lab --preset NAME --export csv|json`` (or ``--headless``) for a comparison: rich
progress while it trains, then the results table, the expectations and where the files are."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tui_lab.cli.console import HeadlessReporter
from tui_lab.cli.exits import ExitCode, interruptible
from tui_lab.config import ExperimentConfig
from tui_lab.results.out_dir import claim_out_dir
from tui_lab.training.comparison import Comparison
from tui_lab.training.job import ComparisonJob


def run_comparison(
    cfg: ExperimentConfig, overrides: dict[str, Any], args: Any, command: list[str]
) -> int:
    reporter = HeadlessReporter(cfg.name)
    job = ComparisonJob(
        cfg,
        overrides,
        command=command,
        fmt=args.export,
        figures=args.figures,
        listeners=[reporter],
    )
    if not args.export:
        return _train(job, reporter, None)
    resume = args.resume is not None
    with claim_out_dir(args.resume or args.out, cfg.name, resume=resume) as out:
        for line in job.write_into(out.path, resume=resume):
            print(f"tui-lab: {line}", file=sys.stderr)
        return _train(job, reporter, out.path)


def _train(job: ComparisonJob, reporter: HeadlessReporter, out_dir: Path | None) -> int:
    with interruptible(job.stop) as interrupted, reporter:
        job.prepare()  # a user error (missing data) ends here, before any note
        if (hint := busy_cpu_hint(job.comparison)) is not None:
            reporter.note(hint)
        outcome = job.run()
    reporter.print_summary(list(outcome.results), out_dir, list(outcome.expectations))
    if interrupted.is_set():
        print("tui-lab: interrupted; finished results were written.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if any(r.status == "failed" for r in outcome.results):
        return ExitCode.FAILED
    return ExitCode.OK


def busy_cpu_hint(comparison: Comparison, load: float | None = None) -> str | None:
    """Other work on the CPU makes torch's threads wait for each other (bench/README.md). The
    numbers of a run depend on its thread count, so tui-lab does not change it by itself."""
    workers, threads = comparison.parallelism(len(comparison.runs))
    if threads < 2 or any(cfg.training.threads for _, cfg in comparison.runs_config):
        return None
    load = os.getloadavg()[0] if load is None else load
    if load < 0.75:
        return None
    return (
        f"the CPU is busy (load average {load:.1f}, {threads} torch threads per run on "
        f"{workers * threads} cores). If training is slow, other work on the cores is making "
        "torch's threads wait for each other: --set training.threads=1 can be twice as fast."
    )
