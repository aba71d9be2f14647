"""The tables of one comparison, built from its event stream: metrics (a row per run and
epoch), steps (a row per logged step) and summary (a row per finished run)."""

from __future__ import annotations

import threading
from typing import Any

from tui_lab.events import EpochEnded, Event, RunFinished, RunStarted, StepLogged
from tui_lab.results.columns import METRICS, STEPS, SUMMARY


class ResultsRecorder:
    """Event listener. Events arrive from training threads; ``lock`` is held while a table
    changes, so another thread can take a consistent ``snapshot`` at any time."""

    def __init__(self) -> None:
        self.started: dict[str, RunStarted] = {}
        self.metrics: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.summary: dict[str, dict[str, Any]] = {}
        self.order: dict[
            str, int
        ] = {}  # run name → its place in the preset (runs finish in any order)
        self.expectations: list[dict[str, Any]] | None = None  # once checked (results/checks.py)
        self.lock = threading.RLock()

    def __call__(self, event: Event) -> None:
        with self.lock:
            if isinstance(event, RunStarted):
                self.started[event.run] = event
                self.order[event.run] = event.index
            elif isinstance(event, StepLogged):
                self.steps.append({k: getattr(event, k) for k in STEPS})
            elif isinstance(event, EpochEnded):
                self.metrics.append({k: getattr(event, k) for k in METRICS})
            elif isinstance(event, RunFinished):
                self.summary[event.run] = {k: getattr(event, k) for k in SUMMARY}

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per finished run, in the preset's run order."""
        with self.lock:
            rows = list(self.summary.values())
        return sorted(rows, key=lambda row: self.order.get(row["run"], len(self.order)))

    def datasets(self) -> set[str]:
        """The datasets the started runs trained on."""
        with self.lock:
            configs = [s.config for s in self.started.values()]
        return {c.get("data", {}).get("dataset") for c in configs} - {None}

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """A consistent copy of every table, by file stem (metrics, steps, summary, ...)."""
        with self.lock:
            out = {
                "metrics": list(self.metrics),
                "steps": list(self.steps),
                "summary": self.summary_rows(),
            }
            if self.expectations is not None:
                out["expectations"] = list(self.expectations)
            return out
