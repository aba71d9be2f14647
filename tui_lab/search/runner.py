"""Grid, random and Bayesian hyperparameter search (lecture week 6) on top of the training runs.

Optuna does the sampling (GridSampler, RandomSampler, TPESampler / GPSampler), the pruning
(median, successive halving = ASHA, Hyperband), the storage (a journal file in the run
directory, or a database URL shared by several processes) and the importance. ``Search`` turns
a ``SearchConfig`` into studies and trains each trial as one run (search/trials.py), in
threads of this process or in ``--workers`` processes (search/workers.py); the best trial's
configuration is then trained once more from the same seed and evaluated on the test set once.

``SearchJob`` is the one runner both the headless CLI and the TUI use: the run directory (a
re-run of the same command resumes it), the result files, the expectations and report.md.
``attach_study`` follows a study that other processes or machines are running.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage

from tui_lab.config import ExperimentConfig, RunConfig, apply_overrides
from tui_lab.errors import ConfigError, describe_failure
from tui_lab.events import (
    ImportanceUpdated,
    RunFinished,
    SearchEvent,
    SearchListener,
    SearchOutcome,
    SearchPlan,
    StudyFinished,
    TrialFinished,
    TrialRecord,
)
from tui_lab.results.checks import JobOutcome, check_all, validate_checks
from tui_lab.search.checks import search_functions
from tui_lab.search.figures import search_figures, studies_of
from tui_lab.search.files import SearchDirectory, claim_run_dir, search_key, search_manifest
from tui_lab.search.plan import open_plan_study, plan_search, search_base, search_of
from tui_lab.search.report import search_report
from tui_lab.search.study import (
    JOURNAL_NAME,
    best_record,
    load_study,
    masked,
    open_storage,
    param_importance,
    requeue_stale,
    trial_records,
)
from tui_lab.search.trials import TrialLoop
from tui_lab.search.workers import WorkerSpec, run_in_processes
from tui_lab.training.comparison import side_by_side
from tui_lab.training.numerics import gpu_devices, resolve_device
from tui_lab.training.run import Run


class Search:
    """Run the studies of a search; thread-safe ``stop()``; listeners get every event."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        *,
        run_dir: Path,
        storage: str | None = None,
        study: str | None = None,
        workers: int = 1,
        listeners: Iterable[SearchListener] = (),
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers {workers}: give 1 or more worker processes.")
        self.cfg = cfg
        self.search = search_of(cfg)
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
        self._storage: BaseStorage | None = None

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
                self._studies[plan.study] = open_plan_study(
                    self._storage, self.cfg, self.base, plan
                )

    def records(self) -> list[TrialRecord]:
        """Every trial of every study opened so far, as stored (any process's)."""
        opened = [self._studies[p.study] for p in self.plans if p.study in self._studies]
        return [r for study in opened for r in trial_records(study, self.search.space)]

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
        its share of torch's threads (bench/many_runs.py measures it)."""
        on_cpu = resolve_device(self.base.training.device).type == "cpu"
        threads, torch_threads = side_by_side(self.base.training.workers, on_cpu, plan.n_trials)
        sampling = threading.Lock()
        loops = [
            TrialLoop(
                study,
                plan,
                self.base,
                self.search,
                self.emit,
                self._stop.is_set,
                device=device if device != self.base.training.device else None,
                sampling=sampling,
                torch_threads=torch_threads if threads > 1 else None,
            )
            for device in gpu_devices(self.base.training.device, threads)
        ]
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
        threads = self.base.training.threads or max(1, (os.cpu_count() or 1) // self.workers)
        devices = gpu_devices(self.base.training.device, self.workers)
        specs = [
            WorkerSpec(
                self.cfg, self.overrides, self.storage_url, self.run_dir, plan, device, threads
            )
            for device in devices
        ]
        run_in_processes(specs, self.emit, self._stop.is_set)

    def _outcome(self, study: optuna.Study, plan: SearchPlan) -> SearchOutcome:
        records = tuple(trial_records(study, self.search.space))
        best = best_record(list(records), self.search.direction)
        config = test = None
        if best is not None:
            config = apply_overrides(self.base, best.params, where=f"best {plan.method} trial")
            if not self._stop.is_set():
                test = self._evaluate_on_test(plan, best, config)
        done = not self._stop.is_set() and all(
            r.state not in ("RUNNING", "WAITING") for r in records
        )
        importance, note = param_importance(study)
        return SearchOutcome(
            plan=plan,
            status="completed" if done else self._stop_status,
            direction=self.search.direction,
            records=records,
            best=best,
            best_config=config.model_dump(mode="json") if config else None,
            test=test,
            importance=importance,
            importance_note=note,
        )

    def _evaluate_on_test(
        self, plan: SearchPlan, best: TrialRecord, cfg: RunConfig
    ) -> RunFinished | None:
        """Train the best configuration once more from its seed; its end evaluates the test
        set — the only time the search looks at it."""
        run = Run(f"{plan.method} best (trial {best.number})", cfg, -1, self.emit)
        run.setup()
        try:
            while run.advance(cfg.training.log_every):
                if self._stop.is_set():
                    run.stop(self._stop_status)
        except Exception as exc:  # noqa: BLE001 - report it with the outcome, keep the search results
            run.fail(describe_failure(exc))
        return run.result


SearchResult = JobOutcome[SearchOutcome]


class SearchJob:
    """A search with its run directory and result files, run the same way from the CLI and
    from the TUI. ``out`` names the directory (default: resume the newest unfinished run of
    this same search under runs/, else a new one), held locked until the job ends. ``fmt``
    None (``--headless``) writes no files: the study lives in a temporary directory removed
    when the job ends. ``figures`` (svg, png or none) is what the export draws at the end
    (search/figures.py)."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        *,
        command: list[str],
        out: Path | None = None,
        fmt: str | None = "csv",
        figures: str = "svg",
        storage: str | None = None,
        study: str | None = None,
        workers: int = 1,
        track_importance: bool = False,
        listeners: Iterable[SearchListener] = (),
    ) -> None:
        validate_checks(cfg.expect, search_functions([]))
        base = search_base(cfg, overrides)
        plans = plan_search(cfg, overrides, study)
        self.key = search_key(cfg, base, plans)
        self.out = claim_run_dir(out, cfg.name, self.key) if fmt is not None else None
        self.scratch = None if self.out else Path(tempfile.mkdtemp(prefix="tui-lab-search-"))
        try:
            self.search = Search(
                cfg,
                overrides,
                run_dir=self.out.path if self.out else self.scratch,  # type: ignore[arg-type]
                storage=storage,
                study=study,
                workers=workers,
            )
        except BaseException:
            self.close()
            raise
        meta = search_manifest(cfg, base, plans, self.search.storage_label, command)
        self.directory = SearchDirectory(self.run_dir, fmt, meta, self.search.records)
        self.figures = figures if fmt is not None else "none"
        if fmt is not None:
            self.search.listeners.append(self.directory)
        if track_importance:
            self.search.listeners.append(ImportanceTracker(self.search))
        self.search.listeners.extend(listeners)
        self.result: SearchResult | None = None

    @staticmethod
    def key_of(
        cfg: ExperimentConfig, overrides: dict[str, Any] | None = None, study: str | None = None
    ) -> str:
        """The key a job of this search would have (same key: a re-run resumes it)."""
        return search_key(cfg, search_base(cfg, overrides), plan_search(cfg, overrides, study))

    @property
    def run_dir(self) -> Path:
        return self.search.run_dir

    @property
    def storage_path(self) -> str:
        """What another view or process attaches to: the journal file, or the database URL."""
        if self.search.storage_url is None:
            return str(self.run_dir / JOURNAL_NAME)
        return self.search.storage_label

    def stop(self, status: str = "stopped") -> None:
        self.search.stop(status)

    def open(self) -> None:
        """Open the storage and the studies, and write experiment.json (user errors here; a
        directory this job created is then removed again)."""
        try:
            self.search.open()
            if self.out is not None:
                self.directory.write()
        except BaseException:
            self.close()
            raise

    def run(self) -> SearchResult:
        try:
            self.open()
            outcomes = self.search.run()
            status = next((o.status for o in outcomes if o.status != "completed"), "completed")
            expectations = check_all(
                self.search.cfg.expect, search_functions(outcomes), {self.search.base.data.dataset}
            )
            if self.out is not None:
                search = self.search.search
                figures = []
                if self.figures != "none":
                    figures = search_figures(
                        studies_of(outcomes),
                        search.objective,
                        search.direction,
                        search.space,
                        self.run_dir,
                        self.figures,
                    )
                meta = self.directory.meta
                report = search_report(meta, outcomes, expectations, figures, search.space)
                self.directory.write(status, expectations, report)
        finally:
            self.close()
        self.result = SearchResult(status, tuple(outcomes), tuple(expectations))
        return self.result

    def close(self) -> None:
        """Release the run directory (or remove the temporary one); idempotent."""
        if self.out is not None:
            self.out.release()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


class ImportanceTracker:
    """Search listener (search thread): after each finished trial, the importance so far, read
    from the study's storage as any other observer of the study would, as an event."""

    def __init__(self, search: Search) -> None:
        self.search = search
        self.studies: dict[str, optuna.Study] = {}

    def __call__(self, event: SearchEvent) -> None:
        if not isinstance(event, TrialFinished):
            return
        name = event.record.study
        try:
            if name not in self.studies:
                self.studies[name] = attach_study(
                    self.search.storage_url, name, self.search.run_dir
                )
            update = ImportanceUpdated(name, *param_importance(self.studies[name]))
        except Exception as exc:  # noqa: BLE001 - the importance is a view: never stop the search
            update = ImportanceUpdated(name, None, f"could not read the study: {exc}")
        self.search.emit(update)


def attach_study(storage: str | None, study: str, run_dir: Path = Path(".")) -> optuna.Study:
    """An existing study to follow (``trial_records``/``param_importance`` on it, polled)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return load_study(open_storage(storage, run_dir), study)
