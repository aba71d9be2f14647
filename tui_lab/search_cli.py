"""The headless shell of a search: find (or resume) the run directory, show the budget, rich
progress per trial, then the top trials, the best configuration, importance and the files.

Re-running the same command resumes: with ``--out DIR`` that directory, without it the newest
``runs/<preset>-*`` whose search (same preset, space and settings) never finished.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from tui_lab.config import ExperimentConfig
from tui_lab.export import prepare_out_dir
from tui_lab.search import Search
from tui_lab.search_export import (
    SearchDirectory,
    find_resumable,
    saved_run,
    search_functions,
    search_key,
    search_metadata,
)
from tui_lab.search_study import JOURNAL_NAME


def resolve_run_dir(out: Path | None, preset: str, key: str) -> Path:
    from tui_lab.export import default_out_dir

    if out is None:
        out = find_resumable(Path("runs"), preset, key) or default_out_dir(preset)
    same = (Path(out) / JOURNAL_NAME).exists() or saved_run(Path(out)).get("fingerprint") == key
    return prepare_out_dir(out, resume=same)


def run_search_cli(cfg: ExperimentConfig, overrides: dict[str, Any], args, argv: list[str]) -> int:
    from tui_lab.cli import ExitCode, _install_interrupt
    from tui_lab.expectations import check_all
    from tui_lab.reporting import SearchReporter, print_search_plan, print_search_summary

    search = Search(cfg, overrides, run_dir=Path("."), storage=args.storage, study=args.study,
                    workers=args.workers or 1)  # fmt: skip
    search.run_dir = resolve_run_dir(args.out, cfg.name, search_key(search))
    writer = SearchDirectory(search.run_dir, args.export,
                             search_metadata(cfg, search, ["tui-lab", *argv]), search.records)  # fmt: skip
    reporter = SearchReporter(cfg, search.plans)
    search.listeners += [writer, reporter]
    print_search_plan(search.plans, search.storage_label, search.run_dir)
    search.open()
    reporter.count_finished(search.records())
    writer.write()
    interrupted = _install_interrupt(search)
    try:
        with reporter:
            outcomes = search.run()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    expectations = check_all(cfg.expect, search_functions(outcomes), {search.base.data.dataset})
    writer.write("interrupted" if interrupted.is_set() else "completed", expectations)
    print_search_summary(outcomes, expectations, search.run_dir if args.export else None)
    if interrupted.is_set():
        print("tui-lab: interrupted; the same command resumes the search.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if not any(o.best is not None for o in outcomes):
        return ExitCode.FAILED
    return ExitCode.OK
