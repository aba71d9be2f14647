"""The command line: the parser and the dotted-key overrides its options stand for.

No torch here: ``--help``, ``--version`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from tui_lab import __version__
from tui_lab.config import FIGURE_FORMATS, RunConfig, apply_overrides, parse_value
from tui_lab.errors import ConfigError

# the options that stand for one dotted key each (``--epochs 3`` is ``--set training.epochs=3``)
SHORTCUTS = {
    "device": "training.device",
    "epochs": "training.epochs",
    "max_steps": "training.max_steps",
    "seed": "training.seed",
    "seeds": "training.seeds",
    "data_dir": "data.data_dir",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message}. Run `tui-lab --help` for the options.")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        """As argparse, but ``--set optimizer.lr 0.1`` (a space for the ``=``) is named."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            split = next((s for s in parsed.sets if "=" not in s), None)
            if split is not None:
                raise ConfigError(
                    f"--set {split} {extra[0]}: a --set pair is joined by '=', not a space; "
                    f"write --set {split.strip()}={extra[0]}."
                )
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed


WORKERS_PER_CORE = 4


def worker_count(text: str) -> int:
    """--workers N: 1 to 4 per CPU core. Each worker is a process with its own copy of torch
    and the data; beyond a few per core they only wait for each other."""
    most = WORKERS_PER_CORE * len(os.sched_getaffinity(0))
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= most:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a worker count: give 1 to {most} ({WORKERS_PER_CORE} per CPU "
            "core at most; each worker process trains one trial at a time)"
        )
    return number


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="tui-lab",
        description="A terminal training lab for deep-learning optimization. Without --export "
        "or --headless it opens the interactive lab. `tui-lab open DIR [DIR ...]` opens past "
        "or running exports (see `tui-lab open --help`).",
    )
    p.add_argument(
        "--preset", metavar="NAME|PATH", help="a preset name (see --list-presets) or .toml file"
    )
    p.add_argument("--export", choices=["csv", "json"], help="run headless and write result files")
    p.add_argument("--headless", action="store_true", help="run headless without writing files")
    p.add_argument(
        "--figures",
        choices=FIGURE_FORMATS,
        default="svg",
        help="figures an export draws into OUT/figures/ (default svg; the lab's export key too)",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="out dir (default runs/<preset>-<time>/)"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="dataset folder (default $TUI_LAB_DATA or the user cache)",
    )
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs per run")
    p.add_argument("--max-steps", type=int, metavar="N", help="cap on optimizer steps per run")
    p.add_argument("--seed", type=int, metavar="N", help="the (first) seed")
    p.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help="train each configuration with N seeds: results as mean ± 95%% CI",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="sets",
        help="override any option, e.g. --set optimizer.lr=0.01 (repeatable)",
    )
    p.add_argument(
        "--checkpoint",
        action="store_true",
        help="save each run after every epoch into OUT/checkpoints (needs --export)",
    )
    p.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue an interrupted --export run from its last completed epochs",
    )
    p.add_argument(
        "--storage", metavar="URL", help="search: Optuna storage URL (e.g. postgresql://...)"
    )
    p.add_argument("--study", metavar="NAME", help="search: study name shared by several processes")
    p.add_argument(
        "--workers", type=worker_count, metavar="N", help="search: concurrent trial processes"
    )
    p.add_argument(
        "--serve",
        metavar="[HOST:]PORT",
        help="serve the lab to a browser (binds 127.0.0.1 unless a HOST is given)",
    )
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument("--version", action="version", version=f"tui-lab {__version__}")
    return p


def build_open_parser() -> argparse.ArgumentParser:
    """``tui-lab open DIR [DIR ...]``: past results in the lab's views."""
    p = _Parser(
        prog="tui-lab open",
        description="Open exports (the out dirs of --export or the lab's e key) read-only in "
        "the lab's views: comparisons in Compare, searches in Search (several compared in one "
        "view), the 2-D toy in its view. An export still being written (a headless run in "
        "another shell) is followed live until its writer finishes or dies. Its runs become "
        "reference lines beside the next runs launched in the Lab.",
    )
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="an export's out dir")
    p.add_argument(
        "--figures",
        choices=FIGURE_FORMATS,
        default="svg",
        help="figures the lab's exports draw (default svg)",
    )
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
    for option, key in SHORTCUTS.items():
        value = getattr(args, option)
        if value is not None:
            value = str(value) if isinstance(value, Path) else value
            flag = "--" + option.replace("_", "-")
            apply_overrides(RunConfig(), {key: value}, where=f"{flag} {value}")  # names the option
            out[key] = value
    return out
