"""What the headless CLI shows: rich progress on stderr while training, a summary table at the
end. When output is piped, progress becomes plain lines (no control characters)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tui_lab.events import EpochEnded, Event, RunFinished, RunStarted, StepLogged


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def _num(v: float | None, fmt: str = ".4f") -> str:
    return "—" if v is None else format(v, fmt)


class HeadlessReporter:
    """Event listener: a progress bar per run (TTY) or one line per epoch (pipe)."""

    def __init__(self, cfg, experiment) -> None:
        self.cfg = cfg
        self.err = Console(stderr=True, highlight=False, markup=False)
        self.out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)
        self.live = self.err.is_terminal
        self.progress = Progress(
            TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
            console=self.err, transient=False, disable=not self.live,
        )  # fmt: skip
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.tasks[event.run] = self.progress.add_task(
                event.run, total=event.total_steps, info=f"{event.device} {event.precision}"
            )
            if not self.live:
                self.err.print(f"[{event.run}] started on {event.device} ({event.precision}), "
                               f"{event.parameters:,} parameters, {event.total_steps} steps")  # fmt: skip
        elif isinstance(event, StepLogged):
            self.progress.update(self.tasks[event.run], completed=event.step,
                                 info=f"loss {event.loss:.4f} lr {event.lr:.2e}")  # fmt: skip
        elif isinstance(event, EpochEnded):
            line = (f"[{event.run}] epoch {event.epoch}: train loss {event.train_loss:.4f} "
                    f"acc {_pct(event.train_acc)}  val loss {_num(event.val_loss)} "
                    f"acc {_pct(event.val_acc)}  lr {event.lr:.3g}  {event.seconds:.1f}s")  # fmt: skip
            if self.live:
                self.progress.console.print(line)
            else:
                self.err.print(line)
        elif isinstance(event, RunFinished):
            if event.run in self.tasks:
                self.progress.update(self.tasks[event.run], completed=event.steps, info=event.status)
            if not self.live:
                self.err.print(f"[{event.run}] {event.status}"
                               + (f": {event.error}" if event.error else ""))  # fmt: skip

    def print_summary(self, results: list[RunFinished], out_dir: Path | None,
                      expectations=()) -> None:  # fmt: skip
        self.out.print(summary_table(self.cfg.name, results))
        print_expectations(self.out, expectations)
        if out_dir is not None:
            self.out.print(f"Results written to {out_dir}/")


def summary_table(title: str, results: list[RunFinished]) -> Table:
    table = Table(title=f"{title}: results")
    for col in ("run", "status", "test acc", "test loss", "best val acc", "epochs",
                "epochs to target", "seconds"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("run", "status") else "right")
    for r in results:
        status = r.status + (f" at step {r.diverged_at}" if r.diverged_at else "")
        table.add_row(
            r.run, status, _pct(r.test_acc), _num(r.test_loss), _pct(r.best_val_acc),
            str(r.epochs), "—" if r.epochs_to_target is None else str(r.epochs_to_target),
            f"{r.seconds:.1f}",
        )  # fmt: skip
    return table


def print_expectations(console: Console, expectations) -> None:
    """Each expectation of the preset as met / not met / undecided."""
    for e in expectations:
        mark = {"met": "[green]✔ met[/]", "not met": "[red]✘ not met[/]"}.get(e.label, "[yellow]? undecided[/]")
        console.print(f"{mark}  {escape(e.text)}  [dim]({escape(e.check)})[/]")


def print_presets(presets) -> None:
    console = Console(highlight=False)
    table = Table(title="tui-lab presets")
    table.add_column("preset")
    table.add_column("lecture · step")
    table.add_column("description")
    for p in presets:
        where = " · ".join(x for x in (p.lecture, p.step) if x)
        table.add_row(p.name, where, p.description)
    console.print(table)
