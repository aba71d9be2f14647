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
    headless = args.export is None
    storage = "temporary" if headless and args.storage is None else search.storage_label
    job.open()  # a storage that cannot be used ends here, before anything is printed
    print_search_plan(search.plans, storage, None if headless else job.run_dir)
    reporter.count_finished(search.records())
    with interruptible(job.stop) as interrupted, reporter:
        result = job.run()
    print_search_summary(
        list(result.results), list(result.expectations), None if headless else job.run_dir
    )
    if interrupted.is_set():
        print("tui-lab: interrupted; the same command resumes the search.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if not any(o.best is not None for o in result.results):
        return ExitCode.FAILED
    return ExitCode.OK
