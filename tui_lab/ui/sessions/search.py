"""A search as the Search view holds it — launched here (the same ``SearchJob`` as the
headless CLI), or followed in a storage that other processes and machines write.

Both reach the UI through the session's ``Relay`` (ui/bridge.py): a launched search's events,
and Optuna's importance, computed in the search thread after each trial; a followed study's
snapshots, polled by ``follow_study`` in its own worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message_pump import MessagePump

from tui_lab.config import ParamSpace
from tui_lab.errors import UserError
from tui_lab.events import (
    EpochEnded,
    ImportanceUpdated,
    RunStarted,
    SearchOutcome,
    SearchPlan,
    StepLogged,
    StudyFinished,
    TrialFinished,
    TrialRecord,
    TrialStarted,
)
from tui_lab.search.runner import SearchJob, attach_study
from tui_lab.search.study import best_record, masked, param_importance, trial_records
from tui_lab.ui.bridge import Notice, Relay
from tui_lab.ui.state.comparison import ComparisonState

FOLLOW_POLL_S = 2.0
TRIAL_EVENTS = (TrialStarted, TrialFinished, ImportanceUpdated, StudyFinished)


@dataclass(frozen=True)
class StudySnapshot:
    """Every trial of a followed study as stored now."""

    records: list[TrialRecord]
    importance: ImportanceUpdated
    meta: dict[str, Any]  # method, n_trials, objective and direction, as the study stores them


@dataclass(frozen=True)
class SearchEnded:
    """The search thread returned: its status, an error if it could not run, the expectations."""

    status: str
    error: str | None = None
    expectations: str = ""


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
        state.apply(
            StepLogged(
                name,
                epoch["step"],
                epoch["epoch"],
                epoch["train_loss"],
                epoch["lr"],
                0.0,
                epoch["seconds"],
            )
        )
        state.apply(EpochEnded(run=name, **epoch))
    return state


class SearchSession:
    """Trials, curves and importance of one search, advanced in the UI thread only.

    ``labels`` maps each study to the method shown for it; ``space`` (known when launched here)
    decodes parameters and says which are on a log scale."""

    def __init__(
        self,
        target: MessagePump,
        title: str,
        labels: dict[str, str],
        direction: str,
        objective: str,
        space: dict[str, ParamSpace] | None,
        n_trials: int,
    ) -> None:
        self.title = title
        self.labels = labels
        self.direction = direction
        self.objective = objective
        self.space = space
        self.n_trials = n_trials
        self.relay = Relay(target)
        self.relay.owner = self
        self.job: SearchJob | None = None
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
    def launched(cls, job: SearchJob, target: MessagePump) -> SearchSession:
        search = job.search
        s = search.search
        session = cls(
            target,
            search.cfg.name,
            {p.study: p.method for p in search.plans},
            s.direction,
            s.objective,
            s.space,
            sum(p.n_trials for p in search.plans),
        )
        session.job, session.plans, session.run_dir, session.key = (
            job,
            search.plans,
            job.run_dir,
            job.key,
        )
        session.storage_label = job.storage_path  # what another view attaches to
        search.listeners.append(session.relay)
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
        if self.job is not None:
            self.job.stop(status)
        self.halted.set()

    def run(self) -> None:
        """The search thread's work: the whole job, then how it ended, through the relay."""
        assert self.job is not None
        try:
            result = self.job.run()
        except UserError as exc:
            self.relay(SearchEnded("failed", str(exc)))
            return
        met = sum(e.label == "met" for e in result.expectations)
        applicable = sum(e.applies for e in result.expectations)
        self.relay(
            SearchEnded(
                result.status, None, f"{met}/{applicable} expectations met" if applicable else ""
            )
        )

    def absorb(self) -> list[Notice]:
        """Apply the queued items (UI thread); ``version`` moves only when trials or importance
        changed, so the tables and trial charts stay put between trials."""
        notices = []
        for item in self.relay.drain():
            if isinstance(item, TRIAL_EVENTS):
                self.version += 1
            if isinstance(item, StudySnapshot):
                if self.status == "following":
                    self.apply_snapshot(item)
            elif isinstance(item, SearchEnded):
                notices.append(self._ended(item))
            else:
                self._apply(item)
        return notices

    def _ended(self, ended: SearchEnded) -> Notice:
        self.status, self.error = ended.status, ended.error
        if ended.error:
            return Notice(ended.error, "Search failed", "error", 15)
        where = f" Results in {self.run_dir}/." if self.run_dir else ""
        extra = f" {ended.expectations}." if ended.expectations else ""
        return Notice(f"{self.title}: search {ended.status}.{extra}{where}", timeout=10)

    def crashed(self, error: str) -> None:
        self.status, self.error = "failed", error

    def _apply(self, event: Any) -> None:
        if isinstance(event, TrialStarted):
            self.records[(event.study, event.number)] = TrialRecord(
                event.study,
                event.number,
                "RUNNING",
                "running",
                None,
                event.params,
                0,
                0.0,
                None,
                "",
                (),
                event.attempt,
            )
        elif isinstance(event, TrialFinished):
            self.records[(event.record.study, event.record.number)] = event.record
        elif isinstance(event, ImportanceUpdated):
            self.importance[event.study] = event
        elif isinstance(event, StudyFinished):
            o = event.outcome
            self.outcomes.append(o)
            self.importance[o.plan.study] = ImportanceUpdated(
                o.plan.study, o.importance, o.importance_note
            )
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
        if record.status == "running" and self.job is not None:
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
        return sorted(
            (r for r in self.records.values() if r.study == study), key=lambda r: r.number
        )

    def best(self, study: str) -> TrialRecord | None:
        return best_record(self.study_records(study), self.direction)

    def param_keys(self) -> list[str]:
        if self.space is not None:
            return list(self.space)
        return list(dict.fromkeys(k for r in self.records.values() for k in r.params))

    def test_acc(self, study: str) -> float | None:
        outcome = next((o for o in self.outcomes if o.plan.study == study), None)
        return outcome.test.test_acc if outcome and outcome.test else None


def follow_study(session: SearchSession, storage: str, study_name: str) -> None:
    """Poll a study (worker thread) every ``FOLLOW_POLL_S`` until the session is stopped.

    Importance is recomputed only when the set of finished trials changed."""
    try:
        study = attach_study(storage, study_name)
    except UserError as exc:
        session.relay(SearchEnded("failed", str(exc)))
        return
    attrs = study.user_attrs
    meta = {
        "method": attrs.get("method", study_name),
        "n_trials": attrs.get("n_trials"),
        "objective": attrs.get("objective", "val_acc"),
        "direction": study.direction.name.lower(),
    }
    finished: tuple | None = None
    importance = ImportanceUpdated(study_name, None, "")
    while True:
        records = trial_records(study)
        now = tuple((r.number, r.state) for r in records if r.state not in ("RUNNING", "WAITING"))
        if now != finished:
            finished = now
            importance = ImportanceUpdated(study_name, *param_importance(study))
        session.relay(StudySnapshot(records, importance, meta))
        if session.halted.wait(FOLLOW_POLL_S):
            return
