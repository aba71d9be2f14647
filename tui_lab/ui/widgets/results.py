"""The results table (one row per finished run, from its ``RunFinished`` event; over seeds each
configuration's mean ± 95% CI above its seeds' rows) and the preset's expectations: what the
comparison should show, then whether it did."""

from __future__ import annotations

import math

from rich.markup import escape
from rich.text import Text
from textual.widgets import DataTable, Static

from tui_lab.results.aggregate import interval_of
from tui_lab.ui.state.comparison import ComparisonState, RunHistory
from tui_lab.ui.state.seeds import Configuration, configurations, has_seeds
from tui_lab.ui.state.seeds import interval_text as ci
from tui_lab.ui.widgets.charts import run_name
from tui_lab.ui.widgets.runs_table import (
    CONFIGURATION_ROW,
    SEED_INDENT,
    STATUS_STYLES,
    configuration_label,
    duration,
    statuses_text,
)

COLUMNS = (
    "run",
    "status",
    "test acc",
    "test loss",
    "best val acc",
    "epochs to target",
    "epochs",
    "steps",
    "wall time",
    "diverged at",
    "error",
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def result_row(
    run: RunHistory, target: float | None, index: int | None = None, indent: str = ""
) -> list[Text | str]:
    """A run's row (a seed's: in its configuration's colour ``index``, indented under it)."""
    r = run.result
    if r is None:  # the experiment failed before this run started
        return [
            run_name(run, index, indent),
            Text(run.status, style=STATUS_STYLES.get(run.status, "")),
            *["—"] * (len(COLUMNS) - 3),
            run.error or "",
        ]
    to_target = "—" if r.epochs_to_target is None else str(r.epochs_to_target)
    if target is not None and r.epochs_to_target is None and r.best_val_acc is not None:
        to_target = f"never ({target:.0%})"
    return [
        run_name(run, index, indent),
        Text(r.status, style=STATUS_STYLES.get(r.status, "")),
        _pct(r.test_acc),
        "—" if r.test_loss is None else f"{r.test_loss:.4f}",
        _pct(r.best_val_acc),
        to_target,
        str(r.epochs),
        str(r.steps),
        duration(r.seconds),
        "—" if r.diverged_at is None else f"step {r.diverged_at}",
        r.error or "",
    ]


def configuration_row(config: Configuration, target: float | None) -> list[Text | str]:
    """Mean ± 95% CI over the seeds that finished; epochs to target over those that reached
    it, and how many never did."""
    results = [r.result for r in config.runs if r.result is not None]
    reached = [r.epochs_to_target for r in results if r.epochs_to_target is not None]
    to_target = ci(interval_of([float(e) for e in reached]), ".1f")
    if not reached:
        to_target = "—" if target is None else f"never ({target:.0%})"
    elif len(reached) < len(results):
        to_target += f", {len(results) - len(reached)} never"
    diverged = sum(r.diverged_at is not None for r in results)
    return [
        configuration_label(config),
        statuses_text([r.status for r in results]),
        ci(interval_of([r.test_acc for r in results]), ".2f", 100, "%"),
        ci(interval_of([r.test_loss for r in results]), ".3f"),
        ci(interval_of([r.best_val_acc for r in results]), ".2f", 100, "%"),
        to_target,
        str(max(r.epochs for r in results)),
        str(max(r.steps for r in results)),
        duration(math.fsum(r.seconds for r in results) / len(results)),
        f"{diverged} of {len(results)} seeds" if diverged else "—",
        "",
    ]


def _target(run: RunHistory) -> float | None:
    return run.started.config["training"]["target_acc"] if run.started else None


class ResultsTable(DataTable):
    """Rows appear as runs finish, in run order; over seeds a configuration's row (keyed
    ``CONFIGURATION_ROW``) appears with its first finished seed."""

    DEFAULT_CSS = """
    ResultsTable {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: tuple | None = None

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)

    def show(self, state: ComparisonState) -> None:
        key = (id(state), *((r.status, r.error) for r in state.runs.values() if r.finished))
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        seeded = has_seeds(state)
        for config in configurations(state):
            shown = [r for r in config.runs if r.result is not None or r.error is not None]
            finished = [r for r in shown if r.result is not None]
            if seeded and finished:
                key = CONFIGURATION_ROW.format(config.name)
                self.add_row(*configuration_row(config, _target(finished[0])), key=key)
            for run in shown:
                index, indent = (config.index, SEED_INDENT) if seeded else (None, "")
                self.add_row(*result_row(run, _target(run), index, indent), key=run.name)


MARKS = {
    "met": "[green]✔ met[/]",
    "not met": "[red]✘ not met[/]",
    "undecided": "[yellow]? undecided[/]",
    "n/a": "[dim]– n/a[/]",
}


def subset_note(state: ComparisonState) -> str:
    """A preset states its expectations for the whole training set: runs that trained on a
    subset (data.subset) may miss them for that reason alone, and the view says so."""
    subsets = {
        r.started.config.get("data", {}).get("subset") for r in state.runs.values() if r.started
    }
    subsets.discard(None)
    if not subsets:
        return ""
    sizes = ", ".join(f"{s:,}" for s in sorted(subsets))
    return (
        f"These runs trained on a subset (data.subset = {sizes} images); the expectations "
        "are stated for the full training set, so a miss may be the subset's."
    )


def expectations_text(expect: list, results: list | None, note: str = "") -> str:
    """The preset's ``expect`` block: pending while it trains, then met / not met per line,
    under ``note`` (what the runs did differently from the preset's claim)."""
    if not expect:
        return "[dim]This preset states no expected outcome.[/]"
    if results is None:
        lines = [
            "[b]What this comparison should show[/] (checked when every run has finished):",
            "",
        ]
        lines += [f"[dim]…[/] {escape(e.text)}" for e in expect]
        return "\n".join(lines)
    met = sum(r.label == "met" for r in results)
    applicable = sum(r.applies for r in results)
    head = (
        f"{met} of {applicable} expectations met"
        if applicable
        else "No expectation is stated for this dataset"
    )
    lines = [f"[b]{head}[/]", *([f"[yellow]{escape(note)}[/]"] if note else []), ""]
    for r in results:
        lines.append(f"{MARKS[r.label]}  {escape(r.text)}  [dim]({escape(r.decided_on)})[/]")
    return "\n".join(lines)


class ExpectationsView(Static):
    """The Expectations tab; re-rendered only when its text changes."""

    def show(self, expect: list, results: list | None, note: str = "") -> None:
        text = expectations_text(expect, results, note)
        if text != getattr(self, "_text", None):
            self._text = text
            self.update(text)
