"""``tui-lab --preset <search> --export csv|json`` (or ``--headless``): the budget, rich
progress per trial, then the top trials, the best configuration, importance and the files.

Re-running the same command resumes: with ``--out DIR`` that directory, without it the newest
``runs/<preset>-*`` whose search (same preset, space and settings) never finished.
"""

from __future__ import annotations

import sys
from typing import Any

from tui_lab.cli.console import SearchReporter, print_search_plan, print_search_summary
from tui_lab.cli.exits import ExitCode, interruptible
from tui_lab.config import ExperimentConfig
from tui_lab.search.runner import SearchJob


def run_search(
    cfg: ExperimentConfig, overrides: dict[str, Any], args: Any, command: list[str]
) -> int:
    job = SearchJob(
        cfg,
        overrides,
        command=command,
        out=args.out,
        fmt=args.export,
        figures=args.figures,
        storage=args.storage,
        study=args.study,
        workers=args.workers or 1,
    )
    search = job.search
    reporter = SearchReporter(search.plans)
    search.listeners.append(reporter)
    print_search_plan(search.plans, search.storage_label, job.run_dir)
    job.open()
    reporter.count_finished(search.records())
    with interruptible(job.stop) as interrupted, reporter:
        result = job.run()
    print_search_summary(
        list(result.results), list(result.expectations), job.run_dir if args.export else None
    )
    if interrupted.is_set():
        print("tui-lab: interrupted; the same command resumes the search.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if not any(o.best is not None for o in result.results):
        return ExitCode.FAILED
    return ExitCode.OK
