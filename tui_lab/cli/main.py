"""Entry point: ``tui-lab [--preset NAME] [--export csv|json] [--set key=value ...]``, and
``tui-lab open DIR [DIR ...]`` for past or running exports.

With neither --export nor --headless it opens the Textual app. Each path imports only what it
needs (torch, rich, Textual, Optuna), so ``--help``, ``--version``, ``--list-presets``,
argument errors and a directory ``open`` cannot read answer without loading them. Exit codes:
see cli/exits.py.
"""

from __future__ import annotations

import os
import resource
import sys
import traceback
from typing import Any

from tui_lab.cli.args import build_open_parser, build_parser, overrides_from_args
from tui_lab.cli.exits import ExitCode
from tui_lab.config import ExperimentConfig
from tui_lab.errors import ConfigError, ResumeError, UserError, describe_failure, out_of_memory
from tui_lab.presets import load_preset

DEBUG_ENV = "TUI_LAB_DEBUG"


def main(argv: list[str] | None = None) -> int:
    """The one error boundary: a user error is one paragraph and exit 2, anything else one
    paragraph and exit 1 (a run's own failure is recorded in its results before it gets here);
    ``TUI_LAB_DEBUG=1`` adds the traceback."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return _main(argv)
    except UserError as exc:
        _debug_traceback()
        print(f"tui-lab: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("tui-lab: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except ImportError as exc:
        _debug_traceback()
        print(f"tui-lab: error: {_import_failure(exc)}", file=sys.stderr)
        return ExitCode.FAILED
    except Exception as exc:  # noqa: BLE001 - the one boundary: never a bare traceback
        _debug_traceback()
        bug = f" This is a bug: run again with {DEBUG_ENV}=1 for the traceback and report it."
        print(
            f"tui-lab: error: tui-lab failed ({describe_failure(exc)}). Result files already "
            f"written are complete.{'' if out_of_memory(exc) else bug}",
            file=sys.stderr,
        )
        return ExitCode.FAILED


def _debug_traceback() -> None:
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        traceback.print_exc()


def _import_failure(exc: ImportError) -> str:
    """A library that cannot load: under a low memory limit torch's own import fails."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    memory = (
        f"; this process may use at most {limit / 2**30:.1f} GiB of address space (ulimit -v), "
        "too little for PyTorch: raise the limit (4 GiB or more) and run again"
        if limit != resource.RLIM_INFINITY
        else "; if memory is short, free some, else reinstall tui-lab's dependencies"
    )
    return f"a library could not be loaded ({type(exc).__name__}: {str(exc)[:300]}){memory}."


def _main(argv: list[str]) -> int:
    if argv[:1] == ["open"]:
        return _open(argv[1:])
    args = build_parser().parse_args(argv)
    if args.list_presets:
        from tui_lab.cli.console import print_presets

        print_presets()
        return ExitCode.OK
    overrides = overrides_from_args(args)
    if args.resume:
        cfg, overrides = _resume_arguments(args, overrides)
    else:
        cfg = load_preset(args.preset) if args.preset else ExperimentConfig()
    if args.checkpoint:
        if not args.export:
            raise ConfigError(
                "--checkpoint needs --export csv|json: checkpoints live in the out dir."
            )
        overrides["training.checkpoint"] = True
    cfg.resolved_runs(overrides)  # validate every run's config before anything starts
    command = ["tui-lab", *argv]
    if args.serve:
        from tui_lab.ui.serve import serve

        return serve(args.serve, _without_serve(argv))
    if not (args.export or args.headless):
        from tui_lab.ui.app import run_app

        options = {"storage": args.storage, "study": args.study, "workers": args.workers}
        chosen = {k: v for k, v in options.items() if v is not None}
        return run_app(cfg, overrides, chosen, args.figures)
    if cfg.search is not None:
        from tui_lab.cli.search import run_search

        return run_search(cfg, overrides, args, command)
    if cfg.toy2d is not None:
        from tui_lab.cli.toy import run_toy

        return run_toy(cfg, overrides, args, command)
    from tui_lab.cli.comparison import run_comparison

    return run_comparison(cfg, overrides, args, command)


def _open(argv: list[str]) -> int:
    """``tui-lab open DIR ...``: every directory read (a bad one is one paragraph, before the
    app loads), then the lab on them."""
    from tui_lab.results.exports import read_export

    args = build_open_parser().parse_args(argv)
    exports = [read_export(path) for path in args.dirs]
    from tui_lab.ui.app import run_app
    from tui_lab.ui.sessions.opened import read_opened

    return run_app(ExperimentConfig(), {}, figures=args.figures, opened=read_opened(exports))


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


def _resume_arguments(
    args: Any, overrides: dict[str, Any]
) -> tuple[ExperimentConfig, dict[str, Any]]:
    """--resume DIR: the experiment, overrides and format recorded in DIR (new --set may only
    say where and how it trains)."""
    from tui_lab.results.directory import read_previous
    from tui_lab.results.manifest import resumed_experiment

    if args.preset:
        raise ConfigError("--resume continues the experiment recorded in DIR; drop --preset.")
    if not args.resume.is_dir():
        raise ResumeError(
            f"--resume {args.resume}: no such directory. Pass the --out directory of an earlier "
            "--export run."
        )
    fmt, meta, _ = read_previous(args.resume)
    if args.export not in (None, fmt):
        raise ConfigError(
            f"--resume {args.resume} continues a --export {fmt} run; drop --export {args.export}."
        )
    args.export = fmt
    return resumed_experiment(meta, overrides, str(args.resume))


if __name__ == "__main__":
    raise SystemExit(main())
