"""The comparison job, the one runner both the headless CLI and the TUI use: a comparison
with its results recorded, written to an out dir as it trains (when it has one), resumed from
checkpoints on request, and concluded with the preset's expectations and report.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tui_lab.config import ExperimentConfig
from tui_lab.errors import ResumeError
from tui_lab.events import FINAL_STATUSES, Listener, RunFinished, Status
from tui_lab.results.checks import (
    ExpectationResult,
    JobOutcome,
    comparison_expectations,
    comparison_functions,
    expectation_rows,
    validate_checks,
)
from tui_lab.results.directory import RunDirectory, read_previous
from tui_lab.results.figures import comparison_figures, seed_groups
from tui_lab.results.files import default_out_dir, prepare_out_dir
from tui_lab.results.manifest import comparison_manifest, now
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.results.report import FigureFile, comparison_report
from tui_lab.training.checkpoint import CHECKPOINT_DIR, checkpoint_path, load_checkpoint
from tui_lab.training.comparison import Comparison
from tui_lab.training.run import Run

KEPT = tuple(s for s in FINAL_STATUSES if s not in ("interrupted", "stopped"))


ComparisonOutcome = JobOutcome[RunFinished]


class ComparisonJob:
    """``out_dir`` and ``fmt`` (csv or json) make it write its files as it trains; ``figures``
    (svg, png or none) is what its exports draw at the end (results/figures.py)."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        *,
        command: list[str],
        out_dir: Path | None = None,
        fmt: str | None = None,
        figures: str = "svg",
        listeners: Iterable[Listener] = (),
    ) -> None:
        self.cfg = cfg
        self.figures = figures
        self.recorder = ResultsRecorder()
        checkpoints = out_dir / CHECKPOINT_DIR if out_dir is not None else None
        self.comparison = Comparison(cfg, overrides, [self.recorder], checkpoint_dir=checkpoints)
        validate_checks(cfg.expect, comparison_functions(self.recorder))
        self.meta = comparison_manifest(cfg, self.comparison.runs_config, command, overrides)
        self.out_dir = out_dir
        self.directory = (
            RunDirectory(out_dir, fmt, self.meta, self.recorder) if out_dir and fmt else None
        )
        if self.directory is not None:
            self.comparison.listeners.append(self.directory)
        self.comparison.listeners.extend(listeners)
        self.outcome: ComparisonOutcome | None = None

    @property
    def runs(self) -> list[Run]:
        return self.comparison.runs

    def stop(self, status: Status = "stopped") -> None:
        self.comparison.stop(status)

    def prepare(self) -> None:
        """Load the data and build every run (a user error surfaces here, before training)."""
        self.comparison.prepare()

    def run(self) -> ComparisonOutcome:
        """Train every run to its end, then conclude (expectations, final files, report)."""
        results = self.comparison.run()
        status: Status = self.comparison.status
        expectations = self.conclude(status)
        self.outcome = ComparisonOutcome(status, tuple(results), tuple(expectations))
        return self.outcome

    def conclude(self, status: Status) -> list[ExpectationResult]:
        """Check the preset's expectations, add them to the tables and, with an out dir, write
        the final files and report.md."""
        expectations = comparison_expectations(self.cfg, self.recorder)
        with self.recorder.lock:
            self.recorder.expectations = expectation_rows(expectations)
        if self.directory is not None:
            self._write_final(self.directory, status, expectations)
        return expectations

    def _write_final(
        self, directory: RunDirectory, status: str, expectations: list[ExpectationResult]
    ) -> None:
        """The figures, then the tables, experiment.json (its final status last of all, for
        whoever follows the out dir) and report.md showing the figures."""
        figures = self._figures(directory.path)
        report = comparison_report(directory.meta, self.recorder, expectations, figures)
        directory.write(status, report)

    def _figures(self, path: Path) -> list[FigureFile]:
        """Drawn in the exporting thread once training is over (or at a snapshot export)."""
        if self.figures == "none":
            return []
        runs = self.meta["runs"]
        return comparison_figures(
            self.recorder.tables(), list(runs), path, self.figures, seed_groups(runs)
        )

    def export(self, fmt: str, out: Path | None = None) -> Path:
        """The same files as ``--export`` into a new out dir (default runs/<preset>-<time>/):
        during training a snapshot, once finished the final files with the report."""
        path = prepare_out_dir(out or default_out_dir(self.cfg.name))
        directory = RunDirectory(path, fmt, dict(self.meta), self.recorder)
        if self.outcome is None:
            self._figures(path)
            directory.write()
        else:
            self._write_final(directory, self.outcome.status, list(self.outcome.expectations))
        return path

    # ------------------------------------------------------------------ --resume

    def resume(self) -> list[str]:
        """Continue the comparison recorded in ``out_dir``: finished runs keep their results,
        checkpointed runs continue after their last epoch, the others start again. The
        original command and start time stay in experiment.json. Returns a line per run."""
        assert self.out_dir is not None
        _, previous, tables = read_previous(self.out_dir)
        self.meta["command"] = previous.get("command", self.meta["command"])
        self.meta["started"] = previous.get("started", self.meta["started"])
        self.meta["resumed"] = [*previous.get("resumed", []), now()]
        summary = {r["run"]: r for r in tables["summary"]}
        lines = []
        for run in self.runs:
            keep_epoch, keep_step, line = self._resume_run(run, summary.get(run.name))
            lines.append(f"{run.name}: {line}")
            with self.recorder.lock:
                self.recorder.metrics += [
                    m
                    for m in tables["metrics"]
                    if m["run"] == run.name and m["epoch"] <= keep_epoch
                ]
                self.recorder.steps += [
                    s for s in tables["steps"] if s["run"] == run.name and s["step"] <= keep_step
                ]
                if run.result is not None:
                    self.recorder.summary[run.name] = dict(summary[run.name])
                    self.recorder.order[run.name] = run.index
        return lines

    def _resume_run(self, run: Run, previous: dict[str, Any] | None) -> tuple[float, float, str]:
        """(last epoch kept, last step kept, what happens to the run)."""
        assert self.out_dir is not None
        if previous is not None and previous["status"] in KEPT:
            run.result = RunFinished(
                **{k: previous.get(k) for k in RunFinished.__dataclass_fields__}
            )
            return float("inf"), float("inf"), f"kept ({previous['status']})"
        path = checkpoint_path(self.out_dir / CHECKPOINT_DIR, run.name)
        if not path.exists():
            return 0, 0, "restarted (no checkpoint)"
        state = load_checkpoint(path)
        run.setup()
        try:
            run.load_state(state)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise ResumeError(
                f"Checkpoint {path} does not fit run {run.name!r} as configured now "
                f"({type(exc).__name__}: {str(exc)[:200]}); it was written by another "
                "configuration or tui-lab version. Delete it to restart that run from scratch."
            ) from None
        return run.epoch, run.step, f"resumed after epoch {run.epoch} (step {run.step})"
