"""Past results in the lab's views (``tui-lab open DIR …``), read-only, and followed live while
the process writing them — a headless ``--export`` run in another shell, over SSH — is at work.

``read_opened`` reads and checks every directory before the app starts (a damaged one is one
paragraph and exit 2). A follower thread (``follow_exports``) reads each growing export again
every ``FOLLOW_POLL_S`` seconds and hands it to the session's relay (ui/bridge.py); in the UI
thread the session takes what is new and says when the writer finished, died or fell silent
(results/exports.py).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from textual.message_pump import MessagePump

from tui_lab.config import SEARCH_OBJECTIVES, Expectation
from tui_lab.errors import OpenError
from tui_lab.events import ImportanceUpdated, SearchOutcome, SearchPlan, TrialRecord
from tui_lab.results.checks import ExpectationResult, expectations_from_rows
from tui_lab.results.exports import Export, read_export, row_events, run_started, writer_gone
from tui_lab.search.files import export_outcomes, export_records, export_space
from tui_lab.toy2d.files import read_toy
from tui_lab.ui.bridge import Notice, Relay
from tui_lab.ui.sessions.comparison import ShownComparison
from tui_lab.ui.sessions.search import SearchSession
from tui_lab.ui.sessions.toy import ToySession
from tui_lab.ui.state.comparison import ComparisonState, RunHistory

FOLLOW_POLL_S = 1.0
TABLES = ("steps", "metrics", "summary")  # in the order their events happen


@dataclass(frozen=True)
class Opened:
    """What ``tui-lab open`` read, by view: comparisons (Compare), searches (Search), a toy."""

    comparisons: list[Export] = field(default_factory=list)
    searches: list[Export] = field(default_factory=list)
    toy: ToySession | None = None

    @property
    def first_mode(self) -> str:
        return "compare" if self.comparisons else "search" if self.searches else "toy"


def read_opened(exports: Iterable[Export]) -> Opened:
    """The exports by view, each checked further (a search's trials, a toy's problem); an
    ``OpenError`` paragraph for the first that cannot be shown."""
    opened = Opened()
    toys = []
    for export in exports:
        if export.kind == "comparison":
            opened.comparisons.append(export)
        elif export.kind == "search":
            _checked(export, lambda e=export: export_outcomes(e, export_records(e)))
            opened.searches.append(export)
        else:
            toys.append(export)
    if len(toys) > 1:
        raise OpenError(
            f"{toys[1].path} is a second 2-D toy export; the toy view shows one problem at a "
            f"time. Open {toys[0].path} and {toys[1].path} one after the other."
        )
    if toys:
        return dataclasses.replace(opened, toy=_checked(toys[0], lambda: opened_toy(toys[0])))
    return opened


def _checked(export: Export, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise OpenError(
            f"{export.path} cannot be read back ({type(exc).__name__}: {str(exc)[:200]}); a "
            "result file there is damaged. Restore it, or use another export."
        ) from None


@dataclass(frozen=True)
class FollowFailed:
    """A followed export could not be read again (its files were damaged or removed)."""

    path: Path
    error: str


def follow_exports(paths: list[Path], relay: Relay, halted: threading.Event) -> None:
    """Worker thread: read each export again every ``FOLLOW_POLL_S`` seconds and relay it,
    until none is being written any more or ``halted`` is set."""
    running = list(paths)
    while running and not halted.wait(FOLLOW_POLL_S):
        for path in list(running):
            try:
                export = read_export(path)
            except OpenError as exc:
                relay(FollowFailed(path, str(exc)))
                running.remove(path)
                continue
            relay(export)
            if not export.running or writer_gone(export) is not None:
                running.remove(path)


class Following:
    """The exports a session shows, and the state of each one's writer (UI thread)."""

    def __init__(self, relay: Relay, halted: threading.Event, exports: list[Export]) -> None:
        self.relay = relay
        self.halted = halted
        self.exports = {e.path: e for e in exports}
        self.ended: dict[Path, str] = {}  # why an export will not grow (its writer died)

    @property
    def growing(self) -> list[Path]:
        return [p for p, e in self.exports.items() if e.running and p not in self.ended]

    def follow(self) -> None:
        """The follower thread's work (the app runs it as a worker)."""
        follow_exports(self.growing, self.relay, self.halted)

    def writer_news(self, export: Export) -> Notice | None:
        """What changed for this export's writer since the last reading."""
        before = self.exports.get(export.path)
        self.exports[export.path] = export
        gone = writer_gone(export)
        if gone is not None and export.path not in self.ended:
            self.ended[export.path] = gone
            return Notice(f"{export.path}: {gone}.", "Writer stopped", "warning", 15)
        if before is not None and before.running and not export.running:
            status = export.meta.get("status")
            return Notice(f"{export.path}: the writer finished ({status}).", timeout=10)
        return None

    def describe(self) -> str:
        """The status-line note: opened read-only, followed, or why it stopped."""
        notes = []
        for path, export in self.exports.items():
            if path in self.ended:
                notes.append(f"{export.name}: writer stopped")
            elif export.running:
                notes.append(f"following {export.name}")
        return " · ".join(notes) or "opened read-only"


class OpenedComparison(ShownComparison):
    """Comparison exports in the Compare view: their runs (named ``DIR/run`` when several
    exports are open), their expectations' verdicts, followed while they grow."""

    def __init__(self, target: MessagePump, exports: list[Export]) -> None:
        relay = Relay(target)
        relay.owner = self
        self.following = Following(relay, threading.Event(), exports)
        self.several = len(exports) > 1
        names = [self.shown(e, run) for e in exports for run in e.meta["runs"]]
        first = exports[0].meta
        title = f"{len(exports)} exports" if self.several else str(first.get("preset", "export"))
        expect = [] if self.several else [Expectation(**x) for x in first.get("expect", [])]
        super().__init__(title, ComparisonState(names), expect)
        self.seen: dict[tuple[Path, str], int] = {}
        self.verdicts: list[ExpectationResult] | None = None
        for export in exports:
            self._take(export)

    def shown(self, export: Export, run: str) -> str:
        return f"{export.name}/{run}" if self.several else run

    @property
    def expectations(self) -> list[ExpectationResult] | None:
        return self.verdicts

    def stop(self, status: str = "stopped") -> None:
        self.following.halted.set()

    def absorb(self) -> list[Notice]:
        notices = []
        for item in self.following.relay.drain():
            if isinstance(item, FollowFailed):
                self.following.ended[item.path] = item.error
                notices.append(Notice(item.error, "Cannot follow", "error", 15))
            else:
                notices += self._take(item)
        return notices

    def _take(self, export: Export) -> list[Notice]:
        """Apply what is new in ``export`` since it was last read."""
        runs = {self.shown(export, run): run for run in export.meta["runs"]}
        state = self.state
        if any(len(export.tables[t]) < self.seen.get((export.path, t), 0) for t in TABLES):
            for name in runs:  # a table shrank (the run was resumed): read it from the start
                index = state.runs[name].index
                state.runs[name] = RunHistory(name, index)
            self.seen = {k: v for k, v in self.seen.items() if k[0] != export.path}
        for name, run in runs.items():
            if state.runs[name].started is None:
                state.apply(dataclasses.replace(run_started(export, run, 0), run=name))
        for table in TABLES:
            rows = export.tables[table]
            new = rows[self.seen.get((export.path, table), 0) :]
            self.seen[(export.path, table)] = len(rows)
            for event in row_events(table, new):
                state.apply(dataclasses.replace(event, run=self.shown(export, event.run)))
        if export.tables["expectations"] and not self.several:
            self.verdicts = expectations_from_rows(export.tables["expectations"])
        news = self.following.writer_news(export)
        ended = self.following.ended.get(export.path)
        for name in runs:
            history = state.runs[name]
            if history.finished:
                continue
            if ended is not None:  # the runs it was training when it died
                history.status, history.error = "interrupted", ended
            elif not export.running:
                history.status = str(export.meta.get("status", "stopped"))
            elif history.steps:
                history.status = "running"
        state.version += 1
        self.note = self.following.describe()
        return [news] if news is not None else []

    def references(self) -> list[RunHistory]:
        """These runs as reference lines for the Lab's next launch (``ref <run>``)."""
        return [
            dataclasses.replace(h, name=f"ref {h.name}")
            for h in self.state.runs.values()
            if h.steps or h.epochs
        ]


class OpenedSearch(SearchSession):
    """Search exports in the Search view: every study's trials (a study named ``DIR:study``
    when several exports are open), each study's outcome and importance, followed while the
    search runs. Two exports of grid and random search, or grid_vs_random's two studies, are
    compared in one view."""

    def __init__(self, target: MessagePump, exports: list[Export]) -> None:
        search = exports[0].meta["search"]
        spaces = [export_space(e) for e in exports]
        space = spaces[0] if all(s == spaces[0] for s in spaces) else None
        objective = search.get("objective", "val_acc")
        direction = outcome_direction(objective)
        title = str(exports[0].meta.get("preset")) if len(exports) == 1 else "searches"
        super().__init__(target, title, {}, direction, objective, space, 0)
        self.several = len(exports) > 1
        self.storage_label = ", ".join(str(e.path) for e in exports)
        self.following = Following(self.relay, self.halted, exports)
        for export in exports:
            self._take(export)

    def absorb(self) -> list[Notice]:
        notices = []
        for item in self.relay.drain():
            if isinstance(item, FollowFailed):
                self.following.ended[item.path] = item.error
                notices.append(Notice(item.error, "Cannot follow", "error", 15))
            elif isinstance(item, Export):
                notices += self._take(item)
        return notices

    def _take(self, export: Export) -> list[Notice]:
        """Every trial and finished study of ``export`` as it is now."""
        records = export_records(export)
        outcomes = export_outcomes(export, records)
        plans = [SearchPlan(**p) for p in export.meta.get("plans", [])]
        if self.several:
            plans, records, outcomes = renamed(export.name, plans, records, outcomes)
        mine = {p.study for p in plans}
        for plan in plans:
            suffix = f" ({export.name})" if self.several else ""
            self.labels[plan.study] = plan.method + suffix
        self.plans = [p for p in self.plans if p.study not in mine] + plans
        self.n_trials = sum(p.n_trials for p in self.plans)
        self.records = {k: r for k, r in self.records.items() if k[0] not in mine}
        self.records.update({(r.study, r.number): r for r in records})
        self.outcomes = [o for o in self.outcomes if o.plan.study not in mine] + outcomes
        for o in outcomes:
            self.importance[o.plan.study] = ImportanceUpdated(
                o.plan.study, o.importance, o.importance_note
            )
        news = self.following.writer_news(export)
        self.status = "following" if self.following.growing else self.following.describe()
        self.version += 1
        done = [r for r in self.records.values() if r.history]
        if self.pinned is None and done:
            self._show(max(done, key=lambda r: r.number))
        return [news] if news is not None else []


def outcome_direction(objective: str) -> str:
    return SEARCH_OBJECTIVES.get(objective, "maximize")


def renamed(
    prefix: str, plans: list[SearchPlan], records: list[TrialRecord], outcomes: list[SearchOutcome]
) -> tuple[list[SearchPlan], list[TrialRecord], list[SearchOutcome]]:
    """Studies named ``<prefix>:<study>``: two exports of one preset keep their trials apart."""

    def study(name: str) -> str:
        return f"{prefix}:{name}"

    def record(r: TrialRecord) -> TrialRecord:
        return dataclasses.replace(r, study=study(r.study))

    def outcome(o: SearchOutcome) -> SearchOutcome:
        return dataclasses.replace(
            o,
            plan=dataclasses.replace(o.plan, study=study(o.plan.study)),
            records=tuple(record(r) for r in o.records),
            best=None if o.best is None else record(o.best),
        )

    return (
        [dataclasses.replace(p, study=study(p.study)) for p in plans],
        [record(r) for r in records],
        [outcome(o) for o in outcomes],
    )


def opened_toy(export: Export) -> ToySession:
    """The toy view on the paths an export holds (nothing is walked again until an edit)."""
    expect = [Expectation.model_validate(e) for e in export.meta.get("expect", [])]
    problem, trajectories = read_toy(export)
    return ToySession(str(export.path), problem, expect, trajectories)
