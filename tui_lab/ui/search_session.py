"""A search as the Search view holds it — launched here, or followed in a storage that other
processes and machines write — and the bridges from its worker thread.

A launched search reaches the UI like a comparison does: its listeners run in the search thread
and only queue events in an ``EventRelay`` whose coalescing ``SearchEventsArrived`` nudges the UI
thread. Optuna's importance is computed in that thread too (``ImportanceTracker``), never in the
UI thread. A followed study is polled by ``follow_study`` in its own worker thread, which posts a
whole snapshot of the trials each time (``StudySnapshot``, coalescing as well).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from tui_lab.config import ParamSpace
from tui_lab.events import EpochEnded, RunStarted, StepLogged
from tui_lab.search import (
    Search,
    SearchOutcome,
    SearchPlan,
    StudyFinished,
    TrialFinished,
    TrialStarted,
    attach_study,
)
from tui_lab.search_study import (
    JOURNAL_NAME,
    TrialRecord,
    best_record,
    masked,
    param_importance,
    trial_records,
)
from tui_lab.ui.history import ComparisonState
from tui_lab.ui.session import EventRelay

FOLLOW_POLL_S = 2.0


@dataclass(frozen=True)
class ImportanceUpdated:
    """Optuna's importance over one study's finished trials (None, with why, until it exists)."""

    study: str
    importance: dict[str, float] | None
    note: str


class SearchEventsArrived(Message):
    def __init__(self, session: SearchSession) -> None:
        super().__init__()
        self.session = session

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SearchEventsArrived) and message.session is self.session


class StudySnapshot(Message):
    """Every trial of a followed study as stored now; a newer snapshot replaces an older one."""

    def __init__(self, session: SearchSession, records: list[TrialRecord],
                 importance: ImportanceUpdated, meta: dict[str, Any]) -> None:  # fmt: skip
        super().__init__()
        self.session = session
        self.records = records
        self.importance = importance
        self.meta = meta  # method, n_trials, objective and direction, as the study stores them

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StudySnapshot) and message.session is self.session


class SearchEnded(Message):
    """The search thread returned: its status, an error if it could not run, the expectations."""

    def __init__(self, session: SearchSession, status: str, error: str | None = None,
                 expectations: str = "") -> None:  # fmt: skip
        super().__init__()
        self.session = session
        self.status = status
        self.error = error
        self.expectations = expectations


class ImportanceTracker:
    """Search listener (search thread): after each finished trial, the importance so far,
    read from the study's storage like any other observer of the study would."""

    def __init__(self, search: Search, emit: EventRelay) -> None:
        self.search = search
        self.emit = emit
        self.studies: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        if not isinstance(event, TrialFinished):
            return
        name = event.record.study
        try:
            if name not in self.studies:
                self.studies[name] = attach_study(self.search.storage_url, name, self.search.run_dir)
            self.emit(ImportanceUpdated(name, *param_importance(self.studies[name])))
        except Exception as exc:  # noqa: BLE001 - the importance is a view: never stop the search
            self.emit(ImportanceUpdated(name, None, f"could not read the study: {exc}"))


TRIAL_EVENTS = (TrialStarted, TrialFinished, ImportanceUpdated, StudyFinished)


def trial_label(labels: dict[str, str], record: TrialRecord) -> str:
    """The name the engine gives a trial's run: ``<method> <number>``."""
    return f"{labels.get(record.study, record.study)} {record.number}"


def short_keys(keys: list[str]) -> dict[str, str]:
    """Column titles: the last part of each dotted key, the whole key where that is ambiguous."""
    tails = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: t if tails.count(t) == 1 else k for k, t in zip(keys, tails, strict=True)}


def history_curves(name: str, record: TrialRecord) -> ComparisonState:
    """A finished trial's stored per-epoch history as chart input: each epoch's mean training
    loss stands as one point of the training-loss curve."""
    state = ComparisonState([name])
    for epoch in record.history:
        state.apply(StepLogged(name, epoch["step"], epoch["epoch"], epoch["train_loss"], epoch["lr"],
                               0.0, epoch["seconds"]))  # fmt: skip
        state.apply(EpochEnded(run=name, **epoch))
    return state


class SearchSession:
    """Trials, curves and importance of one search, advanced in the UI thread only.

    ``labels`` maps each study to the method shown for it; ``space`` (known when launched here)
    decodes parameters and says which are on a log scale."""

    def __init__(self, target: MessagePump, title: str, labels: dict[str, str], direction: str,
                 objective: str, space: dict[str, ParamSpace] | None, n_trials: int) -> None:  # fmt: skip
        self.title = title
        self.labels = labels
        self.direction = direction
        self.objective = objective
        self.space = space
        self.n_trials = n_trials
        self.relay = EventRelay(target, lambda: SearchEventsArrived(self))
        self.search: Search | None = None
        self.plans: list[SearchPlan] = []
        self.run_dir: Path | None = None
        self.key = ""  # search_key of a launched search: a relaunch of the same one resumes it
        self.storage_label = ""
        self.halted = threading.Event()  # set by stop(): a followed study is no longer polled
        self.records: dict[tuple[str, int], TrialRecord] = {}
        self.curves = ComparisonState([])
        self.pinned: tuple[str, int] | None = None  # a trial the user picked for the curves
        self._curves_of: tuple[str, int] | None = None  # (trial, epochs) drawn from a history
        self.importance: dict[str, ImportanceUpdated] = {}
        self.outcomes: list[SearchOutcome] = []
        self.status = "running"
        self.error: str | None = None
        self.version = 0

    @classmethod
    def launched(cls, search: Search, target: MessagePump) -> SearchSession:
        s = search.search
        session = cls(target, search.cfg.name, {p.study: p.method for p in search.plans}, s.direction,
                      s.objective, s.space, sum(p.n_trials for p in search.plans))  # fmt: skip
        session.search, session.plans, session.run_dir = search, search.plans, search.run_dir
        own_journal = search.storage_url is None  # then its path is what another view attaches to
        session.storage_label = str(search.run_dir / JOURNAL_NAME) if own_journal else search.storage_label
        return session

    @classmethod
    def followed(cls, target: MessagePump, storage: str, study: str) -> SearchSession:
        """Filled in by the first snapshot (method, budget and objective live in the study)."""
        session = cls(target, study, {}, "maximize", "val_acc", None, 0)
        session.storage_label = masked(storage)
        session.status = "following"
        return session

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self.status in ("running", "following")

    def stop(self, status: str = "stopped") -> None:
        """Stop the search after its current training slice, or stop following (thread-safe)."""
        if self.search is not None:
            self.search.stop(status)
        self.halted.set()

    def absorb(self) -> None:
        """Apply the queued search events (UI thread); ``version`` moves only when trials or
        importance changed, so the tables and trial charts stay put between trials."""
        for event in self.relay.drain():
            if isinstance(event, TRIAL_EVENTS):
                self.version += 1
            self._apply(event)

    def _apply(self, event: Any) -> None:
        if isinstance(event, TrialStarted):
            self.records[(event.study, event.number)] = TrialRecord(
                event.study, event.number, "RUNNING", "running", None, event.params, 0, 0.0, None,
                "", (), event.attempt)  # fmt: skip
        elif isinstance(event, TrialFinished):
            self.records[(event.record.study, event.record.number)] = event.record
        elif isinstance(event, ImportanceUpdated):
            self.importance[event.study] = event
        elif isinstance(event, StudyFinished):
            o = event.outcome
            self.outcomes.append(o)
            self.importance[o.plan.study] = ImportanceUpdated(o.plan.study, o.importance, o.importance_note)
        elif isinstance(event, RunStarted):
            if self.pinned is None:
                self.curves, self._curves_of = ComparisonState([event.run]), None
                self.curves.apply(event)
        elif event.run in self.curves.runs:  # the other engine events of the trial on the charts
            self.curves.apply(event)

    def apply_snapshot(self, snapshot: StudySnapshot) -> None:
        """A followed study's trials replace what was shown; the curves show the latest
        finished trial unless the user picked one."""
        meta = snapshot.meta
        self.labels = {self.title: str(meta.get("method", self.title))}
        self.direction = meta.get("direction", self.direction)
        self.objective = meta.get("objective", self.objective)
        self.n_trials = int(meta.get("n_trials") or 0)
        self.records = {(r.study, r.number): r for r in snapshot.records}
        self.importance[self.title] = snapshot.importance
        self.version += 1
        if self.pinned is None:
            done = [r for r in snapshot.records if r.history]
            if done:
                self._show(max(done, key=lambda r: r.number))

    def pin(self, key: tuple[str, int]) -> None:
        """Show a chosen trial's curves (its stored history; the live one while it trains)."""
        record = self.records.get(key)
        if record is None:
            return
        if record.status == "running" and self.search is not None:
            self.pinned = None
            return
        self.pinned = key
        self._show(record)

    def _show(self, record: TrialRecord) -> None:
        shown = (trial_label(self.labels, record), len(record.history))
        if shown != self._curves_of:
            self._curves_of = shown
            self.curves = history_curves(shown[0], record)

    # ------------------------------------------------------------------ what the view reads

    def studies(self) -> list[str]:
        return list(dict.fromkeys([*self.labels, *(study for study, _ in self.records)]))

    def study_records(self, study: str) -> list[TrialRecord]:
        return sorted((r for r in self.records.values() if r.study == study), key=lambda r: r.number)

    def best(self, study: str) -> TrialRecord | None:
        return best_record(self.study_records(study), self.direction)

    def param_keys(self) -> list[str]:
        if self.space is not None:
            return list(self.space)
        return list(dict.fromkeys(k for r in self.records.values() for k in r.params))

    def test_acc(self, study: str) -> float | None:
        outcome = next((o for o in self.outcomes if o.plan.study == study), None)
        return outcome.test.test_acc if outcome and outcome.test else None


def follow_study(session: SearchSession, storage: str, study_name: str, target: MessagePump) -> None:
    """Poll a study (worker thread) every ``FOLLOW_POLL_S`` until the session is stopped.

    Importance is recomputed only when the set of finished trials changed."""
    study = attach_study(storage, study_name)
    attrs = study.user_attrs
    meta = {"method": attrs.get("method", study_name), "n_trials": attrs.get("n_trials"),
            "objective": attrs.get("objective", "val_acc"),
            "direction": study.direction.name.lower()}  # fmt: skip
    finished: tuple | None = None
    importance = ImportanceUpdated(study_name, None, "")
    while True:
        records = trial_records(study)
        now = tuple((r.number, r.state) for r in records if r.state not in ("RUNNING", "WAITING"))
        if now != finished:
            finished = now
            importance = ImportanceUpdated(study_name, *param_importance(study))
        target.post_message(StudySnapshot(session, records, importance, meta))
        if session.halted.wait(FOLLOW_POLL_S):
            return
