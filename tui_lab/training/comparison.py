"""A comparison: several runs advanced together and one event stream for all of them.

Runs advance a few steps at a time (``log_every``), so a person watching sees every curve
move. On CPU, worker threads — one per core, each with its share of torch's threads — take
the next waiting run from a shared queue: for small CNNs two 1-thread workers keep two cores
busier than one 2-thread loop (bench/many_runs.py). On a GPU one thread advances the runs in
lockstep. Each run draws from its own generators, so its numbers do not depend on the order in
which the workers reach it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch

from tui_lab.config import ExperimentConfig, RunConfig
from tui_lab.errors import ExportError, UserError, describe_failure
from tui_lab.events import Event, ExperimentFinished, Listener, RunFinished, Status
from tui_lab.training.numerics import GPU_WORKERS_PER_DEVICE, gpu_devices, resolve_device
from tui_lab.training.run import Run


class Comparison:
    """The runs of a preset (or of the Lab's edited comparison), one event stream for all."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        listeners: Iterable[Listener] = (),
    ):
        self.cfg = cfg
        self.runs_config: list[tuple[str, RunConfig]] = spread_over_gpus(
            cfg.resolved_runs(overrides)
        )
        self.listeners: list[Listener] = list(listeners)
        self._emit_lock = threading.RLock()  # listeners see one event at a time
        self._stop = threading.Event()
        self._stop_status: Status = "stopped"
        self.write_error: UserError | None = None  # results could not be written: stopped
        self.runs = [Run(name, rc, i, self.emit) for i, (name, rc) in enumerate(self.runs_config)]
        self._held: set[str] = set()  # runs a worker is advancing now
        self._released: dict[str, float] = {}  # run → when it was set up or last put back

    def waiting_for_worker(self, name: str) -> float:
        """Seconds run ``name`` has been waiting for a worker since it was set up or last
        advanced (0 while a worker holds it, or before it was set up): when runs outnumber
        workers, a run waits while the others train, evaluate or are set up (any thread)."""
        released = self._released.get(name)
        if released is None or name in self._held:
            return 0.0
        return time.monotonic() - released

    def checkpoint_into(self, directory: Path) -> None:
        """The runs that ask for checkpoints (``training.checkpoint``) save them here."""
        for run in self.runs:
            if run.cfg.training.checkpoint:
                run.checkpoint_dir = directory

    def emit(self, event: Event) -> None:
        """Deliver to every listener. A listener's user error (the out dir filled up) stops
        the experiment cleanly and is raised by ``run()`` once everything has stopped."""
        with self._emit_lock:
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except UserError as exc:
                self._cannot_write(exc)

    def _cannot_write(self, exc: UserError) -> None:
        """The results cannot be written (a full disk): stop every run, so that what is written
        stays consistent and ``--resume`` continues once there is room again."""
        if self.write_error is None:
            self.write_error = exc
            self.stop("stopped")

    def run_named(self, name: str) -> Run:
        return next(r for r in self.runs if r.name == name)

    def stop(self, status: Status = "stopped") -> None:
        """Stop every run after its current step (thread-safe)."""
        self._stop_status = status
        self._stop.set()
        for run in self.runs:
            run.stop(status)

    def prepare(self) -> None:
        """Load data and build every run; a user error (missing data, bad device) is raised
        here, before any training, so the caller can report it and exit cleanly. Each run is
        set up with the torch threads it will train with (its numerics are timed there)."""
        _, threads = self.parallelism(len(self.runs))
        before = torch.get_num_threads()
        try:
            for run in self.runs:
                if run.parts is None and not run.done:
                    use_threads(run.cfg.training.threads or threads)
                    self._guard(run, run.setup, user_errors=True)
                    self._released[run.name] = time.monotonic()
        finally:
            use_threads(before)

    def run(self, slice_steps: int | None = None) -> list[RunFinished]:
        """Train every run to its end; returns their results in run order."""
        self.prepare()
        # Sized by every run of the comparison, not the unfinished ones: a run's torch thread
        # count (and so its float rounding) is the same when it is resumed with fewer siblings.
        workers, threads = self.parallelism(len(self.runs))
        waiting = [r for r in self.runs if not r.done]
        advance_in_workers(waiting, workers, threads, lambda run: self._advance(run, slice_steps))
        status = self.status
        results = tuple(r.result for r in self.runs if r.result is not None)
        self.emit(ExperimentFinished(status=status, results=results))
        if self.write_error is not None:
            raise self.write_error
        return list(results)

    @property
    def status(self) -> Any:
        """completed, or why the comparison ended early (stopped, interrupted)."""
        return self._stop_status if self._stop.is_set() else "completed"

    def parallelism(self, runs: int) -> tuple[int, int]:
        """(worker threads, torch threads per worker) for a comparison of ``runs`` runs."""
        on_cpu = all(
            resolve_device(cfg.training.device).type == "cpu" for _, cfg in self.runs_config
        )
        return side_by_side(self.runs_config[0][1].training.workers, on_cpu, runs)

    def _advance(self, run: Run, slice_steps: int | None) -> bool:
        """One slice of ``run``; False once it has finished."""
        self._held.add(run.name)
        try:
            self._guard(run, lambda: run.advance(slice_steps or run.cfg.training.log_every))
        finally:
            self._held.discard(run.name)
            self._released[run.name] = time.monotonic()
        if run.paused and not run.done and not self._stop.is_set():
            time.sleep(0.02)  # all paused: don't spin
        return not run.done

    def _guard(self, run: Run, fn, user_errors: bool = False) -> None:
        """Run ``fn``; an exception fails this run only (a user error aborts when asked)."""
        try:
            fn()
        except ExportError as exc:  # a checkpoint could not be written
            self._cannot_write(exc)
        except UserError as exc:
            if user_errors:
                raise
            run.fail(describe_failure(exc))
        except Exception as exc:  # noqa: BLE001 - a run's crash must not take the others down
            run.fail(describe_failure(exc))


def spread_over_gpus(runs: list[tuple[str, RunConfig]]) -> list[tuple[str, RunConfig]]:
    """With several GPUs and the device left to tui-lab, the runs take them in turn."""
    devices = gpu_devices(runs[0][1].training.device, len(runs)) if runs else []
    return [
        (name, cfg if cfg.training.device == device else _on(cfg, device))
        for (name, cfg), device in zip(runs, devices, strict=True)
    ]


def _on(cfg: RunConfig, device: str) -> RunConfig:
    return cfg.model_copy(update={"training": cfg.training.model_copy(update={"device": device})})


def side_by_side(requested: int | None, on_cpu: bool, jobs: int) -> tuple[int, int]:
    """(worker threads, torch threads each) for ``jobs`` runs or trials trained side by side:
    ``training.workers`` if set, else one worker per core on CPU, and on GPUs a few per device
    (each run steps on its own CUDA stream, so their small kernels overlap on the card)."""
    cores = torch.get_num_threads()
    gpus = max(1, torch.cuda.device_count()) if not on_cpu else 0
    default = cores if on_cpu else GPU_WORKERS_PER_DEVICE * gpus
    workers = requested if requested is not None else default
    workers = max(1, min(workers, jobs))
    return workers, max(1, cores // workers)


def advance_in_workers(
    runs: list[Run], workers: int, threads: int, advance: Callable[[Run], bool]
) -> None:
    """Advance ``runs`` until each is finished: ``workers`` threads (the calling thread when 1),
    each using ``threads`` torch threads (or the run's ``training.threads``), take the next
    waiting run from a shared queue, call ``advance(run)`` (False: finished) and requeue it. A
    run is only ever in one worker's hands, so its events stay in order."""
    waiting, lock = deque(runs), threading.Lock()

    def work() -> None:
        before = torch.get_num_threads()
        try:
            while True:
                with lock:
                    if not waiting:
                        return
                    run = waiting.popleft()
                use_threads(run.cfg.training.threads or threads)
                if advance(run):
                    with lock:
                        waiting.append(run)
        finally:
            use_threads(before)

    if workers <= 1:
        work()
        return
    pool = [
        threading.Thread(target=work, name=f"tui-lab-worker-{i}", daemon=True)
        for i in range(workers)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def use_threads(count: int) -> None:
    """``training.threads``: torch's CPU threads for this run's steps. On a CPU shared with
    other work, fewer threads than cores can be much faster (bench/README.md)."""
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
