"""One process's share of a study: take the next trial, train it as one ``Run``, report the
objective after every epoch (so a pruner can stop it), tell Optuna the outcome, repeat.

Trials never look at the test set: the best trial's configuration is trained once more at the
end and evaluated on the test set once (search/runner.py).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from tui_lab.config import RunConfig, SearchConfig, apply_overrides
from tui_lab.errors import ConfigError, UserError, describe_failure
from tui_lab.events import (
    EpochEnded,
    Event,
    SearchListener,
    SearchPlan,
    TrialFinished,
    TrialStarted,
)
from tui_lab.search.space import suggest
from tui_lab.search.study import (
    HEARTBEAT_S,
    WORST_VALUE,
    mark_alive,
    record,
    requeue,
    requeue_stale,
    set_trial_attrs,
    stored_trial,
    worker_identity,
)
from tui_lab.training.comparison import use_threads
from tui_lab.training.run import Run

POLL_S = 2.0  # how often an idle process looks for re-queued or finished trials


@dataclasses.dataclass
class TrialLoop:
    """One process's share of a study: take a trial, train it, tell Optuna, until none is left.

    Trials numbered n_trials or more are *surplus* (two processes raced for the last slot) and
    are closed at once as FAIL. While other processes still run the last trials, an idle loop
    waits, so that it can pick up any trial whose process dies (see search/study.py).

    Loops in threads of one process share the sampler, which each trial reseeds: asking for a
    trial and drawing its parameters happen under ``sampling``, as one step.
    """

    study: optuna.Study
    plan: SearchPlan
    base: RunConfig
    search: SearchConfig
    emit: SearchListener
    should_stop: Callable[[], bool]
    device: str | None = None
    sampling: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    torch_threads: int | None = None
    interrupted: bool = False

    def run(self) -> None:
        if self.torch_threads:
            use_threads(self.torch_threads)
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
                    set_trial_attrs(self.study, trial, status="surplus")
                    self.study.tell(trial, state=TrialState.FAIL)
                    continue
                if not any(t.state == TrialState.RUNNING for t in trials):
                    return None
            self._sleep(POLL_S)  # the last trials are training elsewhere; take over any that dies
        return None

    def _claim(self, trial: optuna.Trial) -> int:
        """Mark the trial as this worker's (process id, attempt, heartbeat); returns the attempt."""
        attempt = int(trial.user_attrs.get("attempt", 0)) + 1
        set_trial_attrs(self.study, trial, worker=worker_identity(), attempt=attempt)
        mark_alive(self.study, trial)
        return attempt

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.should_stop():
            time.sleep(0.1)

    def _train(self, trial: optuna.Trial, params: dict[str, Any], attempt: int) -> None:
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
        run = Run(name, cfg, trial.number, watcher, test_at_end=False)  # trials never peek at test
        watcher.run = run
        try:
            run.setup()
        except UserError:
            requeue(self.study, trial)  # not the trial's fault
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory building a huge model
            self._tell(trial, "failed", describe_failure(exc), None)
            return
        beat = time.monotonic()
        try:
            while run.advance(cfg.training.log_every):
                if self.should_stop():
                    run.stop("interrupted")
                if time.monotonic() - beat > HEARTBEAT_S:
                    mark_alive(self.study, trial)
                    beat = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory at a large batch: record, go on
            run.fail(describe_failure(exc))
        self._finish(trial, run, watcher)

    def _finish(self, trial: optuna.Trial, run: Run, watcher: _EpochWatcher) -> None:
        result = run.result
        assert result is not None
        if result.status == "interrupted":
            self.interrupted = True
            requeue(self.study, trial)
            self._announce(trial)
            return
        done = {"history": watcher.history, "epochs": run.epoch, "seconds": round(run.seconds, 3)}
        if watcher.pruned_at is not None and result.status == "stopped":
            self._tell(
                trial,
                "pruned",
                f"pruned after epoch {watcher.pruned_at}",
                None,
                pruned_at=watcher.pruned_at,
                **done,
            )
        elif result.status == "completed" and watcher.values:
            self._tell(trial, "completed", "", watcher.values[-1], **done)
        elif result.status == "diverged" or watcher.diverged:
            where = f"step {result.diverged_at}" if result.diverged_at else "validation"
            self._tell(trial, "diverged", f"loss became NaN/inf at {where}", None, **done)
        else:
            reason = result.error or "no validation score (data.val_fraction too small?)"
            self._tell(trial, "failed", reason, None, **done)

    def _tell(
        self,
        trial: optuna.Trial,
        status: str,
        reason: str,
        value: float | None,
        history: list[dict[str, Any]] | None = None,
        epochs: int = 0,
        seconds: float = 0.0,
        pruned_at: int | None = None,
    ) -> None:
        """Store the outcome (user attributes first: a finished trial cannot take more)."""
        attrs = {
            "status": status,
            "reason": reason[:500],
            "history": history or [],
            "epochs": epochs,
            "seconds": seconds,
            "pruned_at": pruned_at,
        }
        try:
            set_trial_attrs(self.study, trial, **attrs)
            if status == "pruned":
                self.study.tell(trial, state=TrialState.PRUNED)
            else:
                worst = WORST_VALUE[self.search.direction]
                self.study.tell(trial, value if value is not None else worst)
        except UpdateFinishedTrialError:
            return  # thought dead and re-run elsewhere, which finished first: keep that result
        self._announce(trial)

    def _announce(self, trial: optuna.Trial) -> None:
        frozen = stored_trial(self.study, trial)
        self.emit(TrialFinished(record(self.plan.study, frozen, self.search.space)))


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
        self.history.append(
            {k: _finite(v) for k, v in dataclasses.asdict(event).items() if k != "run"}
        )
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
