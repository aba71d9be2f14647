"""A comparison: several runs advanced together and one event stream for all of them.

Runs advance in lockstep, round-robin, a few steps at a time in one thread: on CPU this keeps
every core busy inside each step's kernels (parallel threads only contend for the same two
cores), and a person watching sees all curves move together.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from tui_lab.config import ExperimentConfig, RunConfig
from tui_lab.engine import Run
from tui_lab.errors import UserError
from tui_lab.events import Event, ExperimentFinished, Listener, RunFinished


class Experiment:
    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        listeners: Iterable[Listener] = (),
        checkpoint_dir: Path | None = None,
    ):
        self.cfg = cfg
        self.runs_config: list[tuple[str, RunConfig]] = cfg.resolved_runs(overrides)
        self.listeners: list[Listener] = list(listeners)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_status = "stopped"
        self.listener_error: UserError | None = None
        self.runs = [
            Run(name, rc, i, self.emit, checkpoint_dir) for i, (name, rc) in enumerate(self.runs_config)
        ]

    def emit(self, event: Event) -> None:
        """Deliver to every listener. A listener's user error (the out dir filled up) stops
        the experiment cleanly and is raised by ``run()`` once everything has stopped."""
        for listener in self.listeners:
            try:
                listener(event)
            except UserError as exc:
                if self.listener_error is None:
                    self.listener_error = exc
                    self.stop("stopped")

    def run_named(self, name: str) -> Run:
        return next(r for r in self.runs if r.name == name)

    def stop(self, status: str = "stopped") -> None:
        """Stop every run after its current step (thread-safe)."""
        self._stop_status = status
        self._stop.set()
        for run in self.runs:
            run.stop(status)

    def prepare(self) -> None:
        """Load data and build every run; a user error (missing data, bad device) is raised
        here, before any training, so the caller can report it and exit cleanly."""
        for run in self.runs:
            if not hasattr(run, "model") and not run.done:
                self._guard(run, run.setup, user_errors=True)

    def run(self, slice_steps: int | None = None) -> list[RunFinished]:
        """Train every run to its end; returns their results in run order."""
        self.prepare()
        active = [r for r in self.runs if not r.done]
        default_threads = torch.get_num_threads()
        try:
            while active:
                if all(r.paused for r in active) and not self._stop.is_set():
                    time.sleep(0.05)
                for run in active:
                    _use_threads(run.cfg.training.threads or default_threads)
                    steps = slice_steps or run.cfg.training.log_every
                    self._guard(run, lambda r=run, s=steps: r.advance(s))
                active = [r for r in active if not r.done]
        finally:
            _use_threads(default_threads)
        status = self._stop_status if self._stop.is_set() else "completed"
        results = tuple(r.result for r in self.runs if r.result is not None)
        self.emit(ExperimentFinished(status=status, results=results))  # type: ignore[arg-type]
        if self.listener_error is not None:
            raise self.listener_error
        return list(results)

    def _guard(self, run: Run, fn, user_errors: bool = False) -> None:
        """Run ``fn``; an exception fails this run only (a user error aborts when asked)."""
        try:
            fn()
        except UserError:
            if user_errors:
                raise
            run.fail(_short_error())
        except Exception:  # noqa: BLE001 - a run's crash must not take the others down
            run.fail(_short_error())


def _use_threads(count: int) -> None:
    """``training.threads``: torch's CPU threads for this run's steps. On a CPU shared with
    other work, fewer threads than cores can be several times faster (bench/throughput.py)."""
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


def _short_error() -> str:
    import sys

    exc = sys.exc_info()[1]
    text = f"{type(exc).__name__}: {exc}"
    if "out of memory" in text.lower():
        text += " — lower training.batch_size or use a smaller model."
    frames = traceback.extract_tb(sys.exc_info()[2])
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return text[:500] + where
