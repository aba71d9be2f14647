"""A comparison as the Compare view holds it: launched here (the comparison job, the same
runner as the headless CLI, training in a thread worker), or opened from an export
(ui/sessions/opened.py); either way the histories the view draws.

The job's listeners run in the training thread; the session's ``Relay`` only queues each event,
and ``absorb`` moves them into the histories in the UI thread (ui/bridge.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.message_pump import MessagePump

from tui_lab.config import Expectation, ExperimentConfig
from tui_lab.data.catalog import DATASETS
from tui_lab.errors import UserError
from tui_lab.events import Event, RunFinished, Status
from tui_lab.results.checks import ExpectationResult, JobOutcome
from tui_lab.training.job import ComparisonJob, ComparisonOutcome
from tui_lab.training.run import Run
from tui_lab.ui.bridge import Notice, Relay
from tui_lab.ui.state.comparison import ComparisonState, RunHistory

# Runs take turns of a few steps on the workers and wait less than this between turns; a run
# that waited longer is behind other runs' evaluations or set-up: it shows as "queued".
QUEUED_AFTER = 5.0


@dataclass(frozen=True)
class JobFailed:
    """The job could not start (a user error: missing data, absent device)."""

    error: str


class ShownComparison:
    """What the Compare view shows: the runs' histories, the preset's expectations and their
    verdicts, a title, and a note for the status line. Past results are read-only: no run to
    pause or stop, nothing to export again."""

    trains: ClassVar[bool] = False  # a job trains these runs in this process

    def __init__(self, title: str, state: ComparisonState, expect: list[Expectation]) -> None:
        self.title = title
        self.state = state
        self.expect = expect
        self.note = ""

    @property
    def expectations(self) -> list[ExpectationResult] | None:
        return None

    def run_named(self, name: str) -> Run | None:
        return None

    def shown_status(self, run: RunHistory) -> str:
        """What the run is doing, in the tables' words (a launched comparison says what a
        run waits for)."""
        return run.status

    @property
    def loading(self) -> str | None:
        """What the comparison waits for before any run starts, if anything."""
        return None

    def active_runs(self) -> list[Run]:
        return []

    def stop(self, status: Status = "stopped") -> None:
        return None

    def crashed(self, error: str) -> None:
        """The worker thread raised (a bug, not a run's failure): say so on each run."""
        self.state.fail_unfinished(error)

    def absorb(self) -> list[Notice]:
        return []

    def export(self, fmt: str = "csv", out: Path | None = None) -> Path:
        raise UserError(
            f"{self.title} was opened from its export, which holds its files already; "
            "launch new runs in the Lab (f2) to export new results."
        )


class ComparisonSession(ShownComparison):
    """One launched comparison: its job, and the histories of its runs (UI thread), with the
    Lab's reference runs beside them."""

    trains = True

    def __init__(
        self,
        cfg: ExperimentConfig,
        target: MessagePump,
        command: list[str],
        figures: str = "svg",
        references: Sequence[RunHistory] = (),
    ) -> None:
        self.cfg = cfg
        self.relay = Relay(target)
        self.relay.owner = self
        self.job = ComparisonJob(cfg, {}, command=command, figures=figures, listeners=[self.relay])
        state = ComparisonState([name for name, _ in self.job.comparison.runs_config])
        for run in references:
            state.add_reference(run, run.name)
        super().__init__(cfg.name, state, cfg.expect)
        self.outcome: ComparisonOutcome | None = None
        self.launched = time.monotonic()

    def run_named(self, name: str) -> Run | None:
        return next((r for r in self.job.runs if r.name == name), None)

    @property
    def loading(self) -> str | None:
        """ "loading Fashion-MNIST…" until the first run is set up (its data is loaded then)."""
        if self.state.done or any(r.started for r in self.state.runs.values()):
            return None
        return f"loading {DATASETS[self.job.runs[0].cfg.data.dataset].title}…"

    def shown_status(self, run: RunHistory) -> str:
        """ "loading" before its data is there, "setting up" while its model is built and its
        numerics timed, "queued" while it waits for a worker (more runs than cores)."""
        trained_here = self.run_named(run.name) is not None  # not a reference run
        if run.status == "pending" and trained_here and not self.state.done:
            return "loading" if self.loading else "setting up"
        waited = self.job.comparison.waiting_for_worker(run.name)
        if run.status == "running" and waited > QUEUED_AFTER:
            return "queued"
        return run.status

    def active_runs(self) -> list[Run]:
        return [r for r in self.job.runs if not r.done]

    def train(self) -> None:
        """The training thread's work: the whole job, then its outcome through the relay."""
        try:
            self.relay(self.job.run())
        except UserError as exc:
            self.relay(JobFailed(str(exc)))

    def stop(self, status: Status = "stopped") -> None:
        self.job.stop(status)

    @property
    def expectations(self) -> list[ExpectationResult] | None:
        """The preset's expectations checked against the results, once the job has ended."""
        return list(self.outcome.expectations) if self.outcome is not None else None

    def absorb(self) -> list[Notice]:
        """Apply the queued items (UI thread); returns what the user should be told."""
        notices = []
        for item in self.relay.drain():
            if isinstance(item, JobOutcome):
                self.outcome = item
                notices.append(
                    Notice(
                        f"{self.cfg.name}: {item.status}. Press e to export the results.",
                        final=True,
                    )
                )
            elif isinstance(item, JobFailed):
                self.state.fail_unfinished(item.error)
                notices.append(Notice(item.error, "Cannot start training", "error", 15, final=True))
            else:
                notices += self._apply(item)
        return notices

    def _apply(self, event: Event) -> list[Notice]:
        self.state.apply(event)
        if isinstance(event, RunFinished) and event.status in ("failed", "diverged"):
            why = event.error or (
                "the loss blew up (NaN/inf or above training.diverge_loss) "
                f"at step {event.diverged_at}"
            )
            return [Notice(f"{event.run} {event.status}: {why}", severity="error", timeout=10)]
        return []

    def export(self, fmt: str = "csv", out: Path | None = None) -> Path:
        """The same files as ``tui-lab --export`` (a snapshot while training)."""
        return self.job.export(fmt, out)
