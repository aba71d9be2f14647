"""Grid, random and Bayesian hyperparameter search (lecture week 6) on top of the engine.

Optuna does the sampling (GridSampler, RandomSampler, TPESampler / GPSampler), the pruning
(median, successive halving = ASHA, Hyperband), the storage (a journal file in the run
directory, or a database URL shared by several processes) and the importance. This module
turns a ``SearchConfig`` into studies and trains each trial as one ``engine.Run``, reporting
the objective after every epoch so that pruners can stop bad trials early.

Trials never look at the test set: the best trial's configuration is trained once more from
the same seed at the end and evaluated on the test set once (``SearchOutcome.test``).

UI-free API (the CLI shell is ``search_cli``; the TUI uses the same calls):
``plan_search`` (budget before launch), ``Search(...).run()`` / ``.stop()`` in a worker
thread with listeners receiving engine events plus ``TrialStarted`` / ``TrialFinished`` /
``StudyFinished``, ``Search.records()`` at any time, and ``attach_study`` to follow a study
that other processes or machines are running.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.samplers import BaseSampler, GridSampler, RandomSampler, TPESampler
from optuna.trial import TrialState

from tui_lab.config import ExperimentConfig, RunConfig, SearchConfig, apply_overrides
from tui_lab.data import Split
from tui_lab.engine import Run, resolve_device
from tui_lab.errors import ConfigError, UserError
from tui_lab.events import EpochEnded, Event, RunFinished
from tui_lab.experiment import _short_error, _use_threads, side_by_side
from tui_lab.search_space import grid_cells, grid_points, suggest
from tui_lab.search_study import (
    HEARTBEAT_S,
    WORST_VALUE,
    TrialRecord,
    best_record,
    fingerprint,
    load_study,
    mark_alive,
    masked,
    open_storage,
    open_study,
    param_importance,
    record,
    requeue_stale,
    trial_records,
    worker_identity,
)

POLL_S = 2.0  # how often an idle process looks for re-queued or finished trials
MACHINE_LOCAL = ("training.device", "training.threads", "data.data_dir", "data.download")


# ------------------------------------------------------------------------------ events


@dataclass(frozen=True)
class TrialStarted:
    study: str
    number: int
    run: str  # the engine's run name for this trial's events
    params: dict[str, Any]
    attempt: int


@dataclass(frozen=True)
class TrialFinished:
    record: TrialRecord


@dataclass(frozen=True)
class StudyFinished:
    outcome: SearchOutcome


SearchEvent = Event | TrialStarted | TrialFinished | StudyFinished
SearchListener = Callable[[SearchEvent], None]


# ------------------------------------------------------------------------------ plan


@dataclass(frozen=True)
class SearchPlan:
    """One study of a search, as shown before launch."""

    method: str  # grid, random or bayes; also the label of its runs and results
    study: str
    n_trials: int
    epochs: int  # the most epochs one trial trains
    budget_epochs: int  # trial-epochs if nothing is pruned: trials × epochs
    cells: int | None  # grid cells (grid only)


def search_base(cfg: ExperimentConfig, overrides: dict[str, Any] | None) -> RunConfig:
    """The base every trial starts from: the preset's base plus the user's --set overrides."""
    search = _search_of(cfg)
    clash = sorted(set(overrides or {}) & set(search.space))
    if clash:
        raise ConfigError(
            f"--set {', '.join(clash)}: this preset searches over that setting, so it cannot also "
            "be fixed; remove it from --set (or from the preset's [search.space])."
        )
    return apply_overrides(cfg.base, overrides or {}, where="--set")


def plan_search(cfg: ExperimentConfig, overrides: dict[str, Any] | None = None,
                study: str | None = None) -> list[SearchPlan]:  # fmt: skip
    """The studies a search will run, with the budget (trials × epochs) of each."""
    search = _search_of(cfg)
    base = search_base(cfg, overrides)
    cells = grid_cells(search.space) if "grid" in search.methods else None
    if cells is not None and search.n_trials not in (None, len(cells)):
        raise ConfigError(
            f"search.n_trials = {search.n_trials}, but grid search trains every one of its "
            f"{len(cells)} cells; leave n_trials out (or set it to {len(cells)})."
        )
    n_trials = search.n_trials or len(cells or ())
    epochs_spec = search.space.get("training.epochs")
    most = int(max(epochs_spec.candidates())) if epochs_spec else base.training.epochs
    name = study or cfg.name
    plans = []
    for method in search.methods:
        if method == "grid":
            budget = sum(int(c.get("training.epochs", base.training.epochs)) for c in cells or ())
        else:
            budget = n_trials * most
        plans.append(SearchPlan(
            method=method, study=name if len(search.methods) == 1 else f"{name}-{method}",
            n_trials=n_trials, epochs=most, budget_epochs=budget,
            cells=len(cells) if method == "grid" and cells else None,
        ))  # fmt: skip
    return plans


def _search_of(cfg: ExperimentConfig) -> SearchConfig:
    if cfg.search is None:
        raise ConfigError(f"Preset {cfg.name!r} has no [search] table; it is not a search.")
    return cfg.search


# ------------------------------------------------------------------------------ samplers


def _reseed(sampler: BaseSampler, seed: int, number: int) -> None:
    """Trial n draws from its own seed (seed, n): the same parameters whichever process runs
    it and however often the search is resumed (a restarted seeded sampler would otherwise
    replay the parameters of the trials already done)."""
    state = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
    sampler._rng.rng.seed(state)  # type: ignore[attr-defined]
    inner = getattr(sampler, "_random_sampler", None)
    if inner is not None:
        inner._rng.rng.seed(state)


class TrialSeededRandomSampler(RandomSampler):
    def __init__(self, seed: int):
        super().__init__(seed=seed)
        self.trial_seed = seed

    def before_trial(self, study, trial) -> None:
        _reseed(self, self.trial_seed, trial.number)
        super().before_trial(study, trial)


class TrialSeededTPESampler(TPESampler):
    def __init__(self, seed: int, startup_trials: int):
        super().__init__(seed=seed, n_startup_trials=startup_trials, multivariate=True,
                         constant_liar=True)  # fmt: skip
        self.trial_seed = seed

    def before_trial(self, study, trial) -> None:
        _reseed(self, self.trial_seed, trial.number)
        super().before_trial(study, trial)


class CellGridSampler(GridSampler):
    """Optuna's grid: trial n < cells takes cell n. Its ``after_trial`` would call
    ``study.stop()``, which works only inside ``study.optimize``; our loop ends the grid."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def build_sampler(method: str, search: SearchConfig) -> BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _new_sampler(method, search)


def _new_sampler(method: str, search: SearchConfig) -> BaseSampler:
    if method == "grid":
        return CellGridSampler(grid_points(search.space), seed=search.seed)
    if method == "random":
        return TrialSeededRandomSampler(search.seed)
    if search.bayes == "gp":
        return optuna.samplers.GPSampler(seed=search.seed, n_startup_trials=search.startup_trials)
    return TrialSeededTPESampler(search.seed, search.startup_trials)


PRUNERS: dict[str, Callable[[SearchConfig, int], optuna.pruners.BasePruner]] = {
    "none": lambda s, epochs: optuna.pruners.NopPruner(),
    "median": lambda s, epochs: optuna.pruners.MedianPruner(
        n_startup_trials=s.startup_trials, n_warmup_steps=s.pruner_warmup_epochs),
    "asha": lambda s, epochs: optuna.pruners.SuccessiveHalvingPruner(
        min_resource=max(1, s.pruner_warmup_epochs), reduction_factor=3),
    "hyperband": lambda s, epochs: optuna.pruners.HyperbandPruner(
        min_resource=max(1, s.pruner_warmup_epochs), max_resource=max(epochs, 1),
        reduction_factor=3),
}  # fmt: skip


# ------------------------------------------------------------------------------ one process


class TrialLoop:
    """One process's share of a study: take a trial, train it, tell Optuna, until none is left.

    Trials numbered n_trials or more are *surplus* (two processes raced for the last slot) and
    are closed at once as FAIL. While other processes still run the last trials, an idle loop
    waits, so that it can pick up any trial whose process dies (see search_study).
    """

    def __init__(self, study: optuna.Study, plan: SearchPlan, base: RunConfig,
                 search: SearchConfig, emit: SearchListener, should_stop: Callable[[], bool],
                 device: str | None = None, sampling: threading.Lock | None = None,
                 torch_threads: int | None = None):  # fmt: skip
        self.study = study
        self.plan = plan
        self.base = base
        self.search = search
        self.emit = emit
        self.should_stop = should_stop
        self.device = device
        # Loops in threads of one process share the sampler, which each trial reseeds: asking
        # for a trial and drawing its parameters happen under this lock, as one step.
        self.sampling = sampling or threading.Lock()
        self.torch_threads = torch_threads
        self.interrupted = False

    def run(self) -> None:
        if self.torch_threads:
            _use_threads(self.torch_threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "step already reported" on re-runs
            while (asked := self._next_trial()) is not None:
                self._train(*asked)

    def _next_trial(self) -> tuple[optuna.Trial, dict[str, Any], int] | None:
        """The next trial to train, claimed for this worker: (trial, parameters, attempt), or
        None when the study is done."""
        n = self.plan.n_trials
        while not self.should_stop():
            with self.sampling:  # a sibling thread must not see our trial before we claim it
                requeue_stale(self.study)
                trials = [t for t in self.study.get_trials(deepcopy=False) if t.number < n]
                if len(trials) < n or any(t.state == TrialState.WAITING for t in trials):
                    trial = self.study.ask()
                    if trial.number < n:
                        return trial, suggest(trial, self.search.space), self._claim(trial)
                    self.study._storage.set_trial_user_attr(trial._trial_id, "status", "surplus")
                    self.study.tell(trial, state=TrialState.FAIL)
                    continue
                if not any(t.state == TrialState.RUNNING for t in trials):
                    return None
            self._sleep(POLL_S)  # the last trials are training elsewhere; take over any that dies
        return None

    def _claim(self, trial: optuna.Trial) -> int:
        """Mark the trial as this worker's (process id, attempt, heartbeat); returns the attempt."""
        storage, tid = self.study._storage, trial._trial_id
        attempt = int(trial.user_attrs.get("attempt", 0)) + 1
        for key, value in {"worker": worker_identity(), "attempt": attempt}.items():
            storage.set_trial_user_attr(tid, key, value)
        mark_alive(self.study, tid)
        return attempt

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.should_stop():
            time.sleep(0.1)

    def _train(self, trial: optuna.Trial, params: dict[str, Any], attempt: int) -> None:
        storage, tid = self.study._storage, trial._trial_id
        name = f"{self.plan.method} {trial.number}"
        self.emit(TrialStarted(self.plan.study, trial.number, name, params, attempt))
        try:
            cfg = apply_overrides(self.base, params, where=f"{name}")
            if self.device is not None:
                cfg = apply_overrides(cfg, {"training.device": self.device}, where=name)
        except ConfigError as exc:
            self._tell(trial, "failed", str(exc), None)
            return
        watcher = _EpochWatcher(trial, self.search.objective, self.emit)
        run = Run(name, cfg, trial.number, watcher)
        watcher.run = run
        try:
            run.setup()
        except UserError:
            storage.set_trial_state_values(tid, TrialState.WAITING)  # not the trial's fault
            raise
        except Exception:  # noqa: BLE001 - e.g. out of memory building a huge model
            self._tell(trial, "failed", _short_error(), None)
            return
        run.data = dataclasses.replace(run.data, test=_empty(run.data.test))  # never peek
        beat = time.monotonic()
        try:
            while run.advance(cfg.training.log_every):
                if self.should_stop():
                    run.stop("interrupted")
                if time.monotonic() - beat > HEARTBEAT_S:
                    mark_alive(self.study, tid)
                    beat = time.monotonic()
        except Exception:  # noqa: BLE001 - e.g. out of memory at a large batch: record, go on
            run.fail(_short_error())
        self._finish(trial, run, watcher)

    def _finish(self, trial: optuna.Trial, run: Run, watcher: _EpochWatcher) -> None:
        result = run.result
        assert result is not None
        if result.status == "interrupted":
            self.interrupted = True
            self.study._storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)
            self._announce(trial)
            return
        done = {"history": watcher.history, "epochs": run.epoch, "seconds": round(run.seconds, 3)}
        if watcher.pruned_at is not None and result.status == "stopped":
            self._tell(trial, "pruned", f"pruned after epoch {watcher.pruned_at}", None,
                       pruned_at=watcher.pruned_at, **done)  # fmt: skip
        elif result.status == "completed" and watcher.values:
            self._tell(trial, "completed", "", watcher.values[-1], **done)
        elif result.status == "diverged" or watcher.diverged:
            where = f"step {result.diverged_at}" if result.diverged_at else "validation"
            self._tell(trial, "diverged", f"loss became NaN/inf at {where}", None, **done)
        else:
            reason = result.error or "no validation score (data.val_fraction too small?)"
            self._tell(trial, "failed", reason, None, **done)

    def _tell(self, trial: optuna.Trial, status: str, reason: str, value: float | None,
              history: list[dict[str, Any]] | None = None, epochs: int = 0, seconds: float = 0.0,
              pruned_at: int | None = None) -> None:  # fmt: skip
        """Store the outcome (user attributes first: a finished trial cannot take more)."""
        attrs = {"status": status, "reason": reason[:500], "history": history or [],
                 "epochs": epochs, "seconds": seconds, "pruned_at": pruned_at}  # fmt: skip
        try:
            for key, v in attrs.items():
                self.study._storage.set_trial_user_attr(trial._trial_id, key, v)
            if status == "pruned":
                self.study.tell(trial, state=TrialState.PRUNED)
            else:
                worst = WORST_VALUE[self.search.direction]
                self.study.tell(trial, value if value is not None else worst)
        except UpdateFinishedTrialError:
            return  # thought dead and re-run elsewhere, which finished first: keep that result
        self._announce(trial)

    def _announce(self, trial: optuna.Trial) -> None:
        frozen = self.study._storage.get_trial(trial._trial_id)
        self.emit(TrialFinished(record(self.plan.study, frozen, self.search.space)))


def _empty(split: Split) -> Split:
    return Split(split.x[:0], split.y[:0])


class _EpochWatcher:
    """The trial's event listener: forwards engine events and, after every epoch, reports the
    objective to Optuna and asks the pruner whether to stop."""

    def __init__(self, trial: optuna.Trial, objective: str, emit: SearchListener):
        self.trial = trial
        self.objective = objective
        self.emit = emit
        self.run: Run | None = None
        self.values: list[float] = []
        self.history: list[dict[str, Any]] = []
        self.pruned_at: int | None = None
        self.diverged = False

    def __call__(self, event: Event) -> None:
        self.emit(event)
        if not isinstance(event, EpochEnded) or self.run is None:
            return
        self.history.append({k: _finite(v) for k, v in dataclasses.asdict(event).items() if k != "run"})
        value = getattr(event, self.objective)
        if value is None:
            return
        if not math.isfinite(value):
            self.diverged = True
            self.run.stop("diverged")
            return
        self.values.append(value)
        self.trial.report(value, event.epoch)
        if self.trial.should_prune():
            self.pruned_at = event.epoch
            self.run.stop("stopped")


def _finite(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


# ------------------------------------------------------------------------------ workers


@dataclass(frozen=True)
class _WorkerSpec:
    cfg: ExperimentConfig
    overrides: dict[str, Any]
    storage: str | None
    run_dir: Path
    plan: SearchPlan
    device: str | None
    threads: int


@dataclass(frozen=True)
class _WorkerExit:
    error: str | None = None
    user_error: bool = False


def worker_devices(base_device: str, workers: int) -> list[str | None]:
    """One CUDA device per worker, round-robin, when several exist; else the configured one."""
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count > 1 and base_device in ("auto", "cuda"):
        return [f"cuda:{i % count}" for i in range(workers)]
    return [None] * workers


def _worker_main(spec: _WorkerSpec, events, stop, parent_pid: int) -> None:
    """A spawned worker: the parent handles Ctrl+C and tells us through ``stop``."""
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(spec.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    exit_ = _WorkerExit()
    try:
        search = _search_of(spec.cfg)
        base = search_base(spec.cfg, spec.overrides)
        study = _open_plan_study(open_storage(spec.storage, spec.run_dir), spec.cfg, base, spec.plan)
        loop = TrialLoop(study, spec.plan, base, search, events.put,
                         lambda: stop.is_set() or os.getppid() != parent_pid, spec.device)  # fmt: skip
        loop.run()
    except UserError as exc:
        exit_ = _WorkerExit(str(exc), user_error=True)
    except Exception:  # noqa: BLE001 - reported to the parent, which stops the search
        exit_ = _WorkerExit(_short_error())
    events.put(exit_)


# ------------------------------------------------------------------------------ the search


@dataclass(frozen=True)
class SearchOutcome:
    """A finished (or stopped) study: its trials, the best, its test score and importance."""

    plan: SearchPlan
    status: str  # completed, stopped or interrupted
    direction: str
    records: tuple[TrialRecord, ...]
    best: TrialRecord | None
    best_config: dict[str, Any] | None
    test: RunFinished | None  # the best configuration retrained once, evaluated on test once
    importance: dict[str, float] | None
    importance_note: str

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.records)

    @property
    def seconds(self) -> float:
        """Total training time of the trials (evaluation excluded)."""
        return sum(r.seconds for r in self.records)

    @property
    def trial_epochs(self) -> int:
        return sum(r.epochs for r in self.records)


def _shared_settings(base: RunConfig) -> dict[str, Any]:
    """The base settings every process of a study must agree on (devices may differ)."""
    data = base.model_dump(mode="json")
    for key in MACHINE_LOCAL:
        section, name = key.split(".")
        data[section].pop(name)
    return data


def _open_plan_study(storage, cfg: ExperimentConfig, base: RunConfig, plan: SearchPlan) -> optuna.Study:
    search = _search_of(cfg)
    print_ = fingerprint({"base": _shared_settings(base), "method": plan.method,
                          "search": search.model_dump(mode="json"), "n_trials": plan.n_trials})  # fmt: skip
    attrs = {"preset": cfg.name, "method": plan.method, "n_trials": plan.n_trials,
             "objective": search.objective}  # fmt: skip
    return open_study(storage, plan.study, search.direction, build_sampler(plan.method, search),
                      PRUNERS[search.pruner](search, plan.epochs), print_, attrs)  # fmt: skip


class Search:
    """Run the studies of a search; thread-safe ``stop()``; listeners get every event."""

    def __init__(self, cfg: ExperimentConfig, overrides: dict[str, Any] | None = None, *,
                 run_dir: Path, storage: str | None = None, study: str | None = None,
                 workers: int = 1, listeners: Iterable[SearchListener] = ()):  # fmt: skip
        if workers < 1:
            raise ConfigError(f"--workers {workers}: give 1 or more worker processes.")
        self.cfg = cfg
        self.search = _search_of(cfg)
        self.overrides = dict(overrides or {})
        self.base = search_base(cfg, overrides)
        self.plans = plan_search(cfg, overrides, study)
        self.run_dir = Path(run_dir)
        self.storage_url = storage
        self.workers = workers
        self.listeners: list[SearchListener] = list(listeners)
        self._stop = threading.Event()
        self._emit_lock = threading.RLock()
        self._stop_status = "stopped"
        self._studies: dict[str, optuna.Study] = {}
        self._storage = None

    @property
    def storage_label(self) -> str:
        return masked(self.storage_url)

    def emit(self, event: SearchEvent) -> None:
        with self._emit_lock:  # trials train in parallel threads; listeners see one event at a time
            for listener in self.listeners:
                listener(event)

    def stop(self, status: str = "stopped") -> None:
        """Stop after the current training slice; the running trial is re-queued (thread-safe)."""
        self._stop_status = status
        self._stop.set()

    def open(self) -> None:
        """Open the storage and every study (user errors surface here, before any training)."""
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if self._storage is None:
            self._storage = open_storage(self.storage_url, self.run_dir)
        for plan in self.plans:
            if plan.study not in self._studies:
                self._studies[plan.study] = _open_plan_study(self._storage, self.cfg, self.base, plan)

    def records(self) -> list[TrialRecord]:
        """Every trial of every study opened so far, as stored (any process's)."""
        return [r for plan in self.plans if plan.study in self._studies
                for r in trial_records(self._studies[plan.study], self.search.space)]  # fmt: skip

    def run(self) -> list[SearchOutcome]:
        self.open()
        outcomes = []
        for plan in self.plans:
            study = self._studies[plan.study]
            requeue_stale(study)
            if not self._stop.is_set():
                if self.workers == 1:
                    self._run_threads(study, plan)
                else:
                    self._run_workers(plan)
            outcome = self._outcome(study, plan)
            outcomes.append(outcome)
            self.emit(StudyFinished(outcome))
        return outcomes

    def _run_threads(self, study: optuna.Study, plan: SearchPlan) -> None:
        """This process's trials: on CPU one thread per core, each training its own trial with
        its share of torch's threads (bench/many_runs.py: 1.2× one trial at a time)."""
        on_cpu = resolve_device(self.base.training.device).type == "cpu"
        threads, torch_threads = side_by_side(self.base.training.workers, on_cpu, plan.n_trials)
        sampling = threading.Lock()
        loops = [TrialLoop(study, plan, self.base, self.search, self.emit, self._stop.is_set,
                           sampling=sampling, torch_threads=torch_threads if threads > 1 else None)
                 for _ in range(threads)]  # fmt: skip
        if threads == 1:
            loops[0].run()
            return
        failures: list[BaseException] = []

        def work(loop: TrialLoop) -> None:
            try:
                loop.run()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
                failures.append(exc)
                self._stop.set()

        pool = [threading.Thread(target=work, args=(loop,), daemon=True) for loop in loops]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        if failures:
            raise failures[0]

    def _run_workers(self, plan: SearchPlan) -> None:
        ctx = mp.get_context("spawn")
        events, stop = ctx.Queue(), ctx.Event()
        threads = self.base.training.threads or max(1, (os.cpu_count() or 1) // self.workers)
        devices = worker_devices(self.base.training.device, self.workers)
        procs = [ctx.Process(target=_worker_main, daemon=True, args=(
            _WorkerSpec(self.cfg, self.overrides, self.storage_url, self.run_dir, plan, device,
                        threads), events, stop, os.getpid()))
            for device in devices]  # fmt: skip
        for p in procs:
            p.start()
        running, failure = len(procs), None
        while running:
            if self._stop.is_set():
                stop.set()
            try:
                event = events.get(timeout=0.2)
            except queue_mod.Empty:
                if not any(p.is_alive() for p in procs) and events.empty():
                    break  # a worker died without a word (killed): its trial is stale, re-run
                continue
            if isinstance(event, _WorkerExit):
                running -= 1
                if event.error and failure is None:
                    failure = event
                    stop.set()
            else:
                self.emit(event)
        for p in procs:
            p.join(timeout=30)
        if failure is not None:
            raise (UserError if failure.user_error else RuntimeError)(failure.error)

    def _outcome(self, study: optuna.Study, plan: SearchPlan) -> SearchOutcome:
        records = tuple(trial_records(study, self.search.space))
        best = best_record(list(records), self.search.direction)
        config = test = None
        if best is not None:
            config = apply_overrides(self.base, best.params, where=f"best {plan.method} trial")
            if not self._stop.is_set():
                test = self._evaluate_on_test(plan, best, config)
        done = not self._stop.is_set() and all(r.state not in ("RUNNING", "WAITING") for r in records)
        importance, note = param_importance(study)
        return SearchOutcome(
            plan=plan, status="completed" if done else self._stop_status,
            direction=self.search.direction, records=records, best=best,
            best_config=config.model_dump(mode="json") if config else None, test=test,
            importance=importance, importance_note=note,
        )  # fmt: skip

    def _evaluate_on_test(self, plan: SearchPlan, best: TrialRecord, cfg: RunConfig) -> RunFinished | None:
        """Train the best configuration once more from its seed; its end evaluates the test
        set — the only time the search looks at it."""
        run = Run(f"{plan.method} best (trial {best.number})", cfg, -1, self.emit)
        run.setup()
        try:
            while run.advance(cfg.training.log_every):
                if self._stop.is_set():
                    run.stop(self._stop_status)
        except Exception:  # noqa: BLE001 - report it with the outcome, keep the search results
            run.fail(_short_error())
        return run.result


def attach_study(storage: str | None, study: str, run_dir: Path = Path(".")) -> optuna.Study:
    """An existing study to follow (``trial_records``/``param_importance`` on it, polled)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return load_study(open_storage(storage, run_dir), study)
