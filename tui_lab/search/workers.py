"""``--workers N``: a study's trials trained by N spawned processes sharing its storage.

Each process runs its own ``TrialLoop``; its events come back to the parent through a queue,
so the parent's listeners (console, files, TUI) see every trial. The parent handles Ctrl+C and
tells the workers to stop; a worker that dies leaves its trial stale, and a sibling re-runs it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import torch

from tui_lab.config import ExperimentConfig
from tui_lab.errors import UserError, describe_failure
from tui_lab.events import SearchListener, SearchPlan
from tui_lab.search.plan import open_plan_study, search_base, search_of
from tui_lab.search.study import open_storage
from tui_lab.search.trials import TrialLoop


@dataclass(frozen=True)
class WorkerSpec:
    cfg: ExperimentConfig
    overrides: dict[str, Any]
    storage: str | None
    run_dir: Path
    plan: SearchPlan
    device: str | None
    threads: int


@dataclass(frozen=True)
class WorkerExit:
    error: str | None = None
    user_error: bool = False


def worker_main(spec: WorkerSpec, events: Any, stop: Any, parent_pid: int) -> None:
    """A spawned worker: the parent handles Ctrl+C and tells us through ``stop``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(spec.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    exit_ = WorkerExit()
    try:
        base = search_base(spec.cfg, spec.overrides)
        study = open_plan_study(open_storage(spec.storage, spec.run_dir), spec.cfg, base, spec.plan)
        loop = TrialLoop(
            study,
            spec.plan,
            base,
            search_of(spec.cfg),
            events.put,
            lambda: stop.is_set() or os.getppid() != parent_pid,
            spec.device,
        )
        loop.run()
    except UserError as exc:
        exit_ = WorkerExit(str(exc), user_error=True)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the search
        exit_ = WorkerExit(describe_failure(exc))
    events.put(exit_)


def run_in_processes(
    specs: list[WorkerSpec], emit: SearchListener, should_stop: Callable[[], bool]
) -> None:
    """Start a process per spec and relay their events to ``emit`` until all have exited."""
    ctx = mp.get_context("spawn")
    events, stop = ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=worker_main, daemon=True, args=(spec, events, stop, os.getpid()))
        for spec in specs
    ]
    for p in procs:
        p.start()
    running, failure = len(procs), None
    while running:
        if should_stop():
            stop.set()
        try:
            event = events.get(timeout=0.2)
        except queue_mod.Empty:
            if not any(p.is_alive() for p in procs) and events.empty():
                break  # a worker died without a word (killed): its trial is stale, re-run
            continue
        if isinstance(event, WorkerExit):
            running -= 1
            if event.error and failure is None:
                failure = event
                stop.set()
        else:
            emit(event)
    for p in procs:
        p.join(timeout=30)
    if failure is not None:
        raise (UserError if failure.user_error else RuntimeError)(failure.error)
