"""Entry point: ``tui-lab [--preset NAME] [--export csv|json] [--set key=value ...]``, and
``tui-lab open DIR [DIR ...]`` for past or running exports.

With neither --export nor --headless it opens the Textual app. Each path imports only what it
needs (torch, rich, Textual, Optuna), so ``--help``, ``--version``, ``--list-presets``,
argument errors and a directory ``open`` cannot read answer without loading them. Exit codes:
see cli/exits.py.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import ValidationError

from tui_lab.cli.args import build_open_parser, build_parser, overrides_from_args
from tui_lab.cli.exits import ExitCode
from tui_lab.config import ExperimentConfig, describe_validation
from tui_lab.errors import ConfigError, UserError
from tui_lab.presets import load_preset


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
    """--resume DIR: the experiment, overrides and format recorded in DIR (new --set wins)."""
    from tui_lab.errors import ResumeError
    from tui_lab.results.directory import read_previous

    fmt, meta, _ = read_previous(args.resume)
    if "experiment_config" not in meta:
        raise ResumeError(f"{args.resume}/experiment.json has no experiment_config; cannot resume.")
    if args.preset:
        raise ConfigError("--resume continues the experiment recorded in DIR; drop --preset.")
    try:
        cfg = ExperimentConfig.model_validate(meta["experiment_config"])
    except ValidationError as exc:
        raise ResumeError(describe_validation(exc, f"{args.resume}/experiment.json")) from None
    args.export, args.out = args.export or fmt, args.resume
    return cfg, {**meta.get("overrides", {}), **overrides}


if __name__ == "__main__":
    raise SystemExit(main())
