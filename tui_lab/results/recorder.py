"""The tables of one comparison, built from its event stream: metrics (a row per run and
epoch), steps (a row per logged step), summary (a row per finished run), and what the optimizer
did (internals, a row per layer of each watched step; sharpness, a row per estimate)."""

from __future__ import annotations

import threading
from typing import Any

from tui_lab.events import (
    EpochEnded,
    Event,
    InternalsLogged,
    RunFinished,
    RunStarted,
    SharpnessLogged,
    StepLogged,
)
from tui_lab.results.columns import INTERNALS, METRICS, SHARPNESS, STEPS, SUMMARY

STEP_TABLES = ("steps", "internals", "sharpness")  # rows of a step: a resume keeps those ≤ it


class ResultsRecorder:
    """Event listener. Events arrive from training threads; ``lock`` is held while a table
    changes, so another thread can take a consistent ``snapshot`` at any time."""

    def __init__(self) -> None:
        self.started: dict[str, RunStarted] = {}
        self.metrics: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.internals: list[dict[str, Any]] = []
        self.sharpness: list[dict[str, Any]] = []
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
            elif isinstance(event, InternalsLogged):
                self.internals += internals_rows(event)
            elif isinstance(event, SharpnessLogged):
                self.sharpness.append({k: getattr(event, k) for k in SHARPNESS})
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
                "internals": list(self.internals),
                "sharpness": list(self.sharpness),
            }
            if self.expectations is not None:
                out["expectations"] = list(self.expectations)
            return out


def internals_rows(event: InternalsLogged) -> list[dict[str, Any]]:
    """internals.csv's rows of one watched step: the whole model, then each layer."""
    whole = {
        "run": event.run,
        "step": event.step,
        "layer": "all",
        "grad_norm": event.grad_norm,
        "update_ratio": event.update_ratio,
        "momentum_norm": event.momentum_norm,
        "bias_correction1": event.bias_correction1,
        "bias_correction2": event.bias_correction2,
    }
    layers = [
        {"run": event.run, "step": event.step, **{k: getattr(layer, k) for k in INTERNALS[2:8]}}
        for layer in event.layers
    ]
    return [{k: row.get(k) for k in INTERNALS} for row in (whole, *layers)]
