"""Headless entry point: ``tui-lab [--preset NAME] [--export csv|json] [--set key=value ...]``.

With neither --export nor --headless it opens the Textual app. Exit codes (``ExitCode``):
0 done (diverged runs are a result), 1 a run or tui-lab itself failed, 2 bad usage or
configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import enum
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from tui_lab import __version__
from tui_lab.config import ExperimentConfig, parse_value
from tui_lab.errors import ConfigError, UserError
from tui_lab.export import default_out_dir


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise ConfigError(f"{message}. Run `tui-lab --help` for the options.")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="tui-lab",
        description="A terminal training lab for deep-learning optimization. Without --export "
        "or --headless it opens the interactive lab.",
    )
    p.add_argument("--preset", metavar="NAME|PATH", help="a preset name (see --list-presets) or .toml file")
    p.add_argument("--export", choices=["csv", "json"], help="run headless and write result files")
    p.add_argument("--headless", action="store_true", help="run headless without writing files")
    p.add_argument("--out", type=Path, metavar="DIR", help="out dir (default runs/<preset>-<time>/)")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="dataset folder (default $TUI_LAB_DATA or the user cache)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs per run")
    p.add_argument("--max-steps", type=int, metavar="N", help="cap on optimizer steps per run")
    p.add_argument("--seed", type=int, metavar="N")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                   help="override any option, e.g. --set optimizer.lr=0.01 (repeatable)")  # fmt: skip
    p.add_argument("--checkpoint", action="store_true",
                   help="save each run after every epoch into OUT/checkpoints (needs --export)")
    p.add_argument("--resume", type=Path, metavar="DIR",
                   help="continue an interrupted --export run from its last completed epochs")
    p.add_argument("--storage", metavar="URL", help="search: Optuna storage URL (e.g. postgresql://...)")
    p.add_argument("--study", metavar="NAME", help="search: study name shared by several processes")
    p.add_argument("--workers", type=int, metavar="N", help="search: concurrent trial processes")
    p.add_argument("--serve", metavar="[HOST:]PORT",
                   help="serve the lab to a browser (binds 127.0.0.1 unless a HOST is given)")
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument("--version", action="version", version=f"tui-lab {__version__}")
    return p


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """--set pairs plus the shortcut options, as dotted keys (validated later, in one place)."""
    out: dict[str, Any] = {}
    for item in args.sets:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                f"--set {item!r} is not KEY=VALUE; write e.g. --set optimizer.lr=0.01 "
                "(keys are dotted paths like training.batch_size)."
            )
        out[key] = parse_value(value.strip())
    shortcuts = {
        "training.device": args.device,
        "training.epochs": args.epochs,
        "training.max_steps": args.max_steps,
        "training.seed": args.seed,
        "data.data_dir": str(args.data_dir) if args.data_dir else None,
    }
    out.update({k: v for k, v in shortcuts.items() if v is not None})
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except UserError as exc:
        print(f"tui-lab: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("tui-lab: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _main(argv: list[str]) -> int:
    from tui_lab.presets import list_presets, load_preset

    args = build_parser().parse_args(argv)
    if args.list_presets:
        from tui_lab.reporting import print_presets

        print_presets(list_presets())
        return ExitCode.OK
    overrides = overrides_from_args(args)
    if args.resume:
        cfg, overrides = _resume_arguments(args, overrides)
    else:
        cfg = load_preset(args.preset) if args.preset else ExperimentConfig()
    if args.checkpoint:
        if not args.export:
            raise ConfigError("--checkpoint needs --export csv|json: checkpoints live in the out dir.")
        overrides["training.checkpoint"] = True
    cfg.resolved_runs(overrides)  # validate every run's config before anything starts
    if args.serve:
        from tui_lab.ui.serve import serve

        return serve(args.serve, _without_serve(argv))
    if not (args.export or args.headless):
        from tui_lab.ui.app import run_app

        options = {"storage": args.storage, "study": args.study, "workers": args.workers}
        return run_app(cfg, overrides, {k: v for k, v in options.items() if v is not None})
    if cfg.search is not None:
        from tui_lab.search_cli import run_search_cli

        return run_search_cli(cfg, overrides, args, argv)
    if cfg.toy2d is not None:
        from tui_lab.toy2d import run_toy2d_headless

        return run_toy2d_headless(cfg, overrides, args, argv)
    return run_headless(cfg, overrides, args, argv)


def _without_serve(argv: list[str]) -> list[str]:
    """The same command line minus --serve, for the app that textual-serve starts per browser."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == "--serve":
            skip = True
        elif not item.startswith("--serve="):
            out.append(item)
    return out


def _resume_arguments(args, overrides: dict[str, Any]) -> tuple[ExperimentConfig, dict[str, Any]]:
    """--resume DIR: the experiment, overrides and format recorded in DIR (new --set wins)."""
    from tui_lab.checkpoint import ResumeError, read_previous

    fmt, meta, _ = read_previous(args.resume)
    if "experiment_config" not in meta:
        raise ResumeError(f"{args.resume}/experiment.json has no experiment_config; cannot resume.")
    if args.preset:
        raise ConfigError("--resume continues the experiment recorded in DIR; drop --preset.")
    cfg = ExperimentConfig.model_validate(meta["experiment_config"])
    args.export, args.out = args.export or fmt, args.resume
    return cfg, {**meta.get("overrides", {}), **overrides}


def run_headless(cfg: ExperimentConfig, overrides: dict[str, Any], args, argv: list[str]) -> int:
    from tui_lab.checkpoint import CHECKPOINT_DIR, read_previous, resume_runs
    from tui_lab.experiment import Experiment
    from tui_lab.export import (
        ResultsRecorder,
        RunDirectory,
        conclude,
        experiment_metadata,
        prepare_out_dir,
    )
    from tui_lab.reporting import HeadlessReporter

    recorder = ResultsRecorder()
    out_dir = writer = None
    if args.export:
        out_dir = prepare_out_dir(args.out or default_out_dir(cfg.name), resume=bool(args.resume))
    experiment = Experiment(cfg, overrides, [recorder],
                            checkpoint_dir=out_dir / CHECKPOINT_DIR if out_dir else None)  # fmt: skip
    if out_dir is not None:
        meta = experiment_metadata(cfg, experiment.runs_config, ["tui-lab", *argv], overrides)
        writer = RunDirectory(out_dir, args.export, meta, recorder)
        experiment.listeners.append(writer)
    reporter = HeadlessReporter(cfg, experiment)
    experiment.listeners.append(reporter)
    if args.resume:
        for line in resume_runs(experiment, recorder, out_dir, read_previous(out_dir)[2]):
            print(f"tui-lab: {line}", file=sys.stderr)
    interrupted = _install_interrupt(experiment)
    try:
        with reporter:
            experiment.prepare()  # a user error (missing data) ends here, before any note
            if (hint := busy_cpu_hint(experiment)) is not None:
                reporter.note(hint)
            results = experiment.run()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    expectations = conclude(cfg, recorder, writer, "interrupted" if interrupted.is_set() else "completed")
    reporter.print_summary(results, out_dir, expectations)
    if interrupted.is_set():
        print("tui-lab: interrupted; finished results were written.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if any(r.status == "failed" for r in results):
        return ExitCode.FAILED
    return ExitCode.OK


def busy_cpu_hint(experiment, load: float | None = None) -> str | None:
    """Other work on the CPU makes torch's threads wait for each other: with one of two cores
    busy, a 2-thread run measured 1.9× slower than a 1-thread one (bench/README.md). The
    numbers of a run depend on its thread count, so tui-lab does not change it by itself."""
    workers, threads = experiment.parallelism(len(experiment.runs))
    if threads < 2 or any(cfg.training.threads for _, cfg in experiment.runs_config):
        return None
    load = os.getloadavg()[0] if load is None else load
    if load < 0.75:
        return None
    return (f"the CPU is busy (load average {load:.1f}, {threads} torch threads per run on "
            f"{workers * threads} cores). If training is slow, other work on the cores is making torch's "
            "threads wait for each other: --set training.threads=1 can be twice as fast.")


def _install_interrupt(experiment) -> threading.Event:
    """First Ctrl+C: stop after the current step and write results. Second: exit at once."""
    flag = threading.Event()

    def handler(signum, frame):
        if flag.is_set():
            os._exit(ExitCode.INTERRUPTED)
        flag.set()
        print("\ntui-lab: stopping after the current step (Ctrl+C again to quit at once)",
              file=sys.stderr)  # fmt: skip
        experiment.stop("interrupted")

    signal.signal(signal.SIGINT, handler)
    return flag


if __name__ == "__main__":
    raise SystemExit(main())
