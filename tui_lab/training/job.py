"""The comparison job, the one runner both the headless CLI and the TUI use: a comparison
with its results recorded, written to an out dir as it trains (when it has one), resumed from
checkpoints on request, and concluded with the preset's expectations and report.md.

Into an out dir, experiment.json and the tables are written first, before any data is loaded,
and rewritten after every epoch: a kill at any moment leaves a directory that ``--resume``
continues. A run whose last epoch was checkpointed but whose end was never recorded (killed
during the test evaluation) is finished on resume.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tui_lab.config import ExperimentConfig, RunConfig, apply_overrides
from tui_lab.errors import ExportError, ResumeError, UserError, describe_failure
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
from tui_lab.results.manifest import comparison_manifest, now
from tui_lab.results.out_dir import claim_out_dir
from tui_lab.results.recorder import STEP_TABLES, ResultsRecorder
from tui_lab.results.report import FigureFile, comparison_report
from tui_lab.training.checkpoint import CHECKPOINT_DIR, checkpoint_path, load_checkpoint
from tui_lab.training.comparison import Comparison
from tui_lab.training.numerics import PRECISION_DTYPES
from tui_lab.training.run import Run

KEPT = tuple(s for s in FINAL_STATUSES if s not in ("interrupted", "stopped"))


ComparisonOutcome = JobOutcome[RunFinished]


def keep_numerics(cfg: RunConfig, label: str) -> RunConfig:
    """``cfg`` set to train with the numerics a label like ``bf16 channels_last`` names."""
    precision, *layout = label.split()
    if precision not in PRECISION_DTYPES:
        return cfg
    settings = {"training.precision": precision, "training.channels_last": bool(layout)}
    return apply_overrides(cfg, settings, where="experiment.json numerics")


class ComparisonJob:
    """``fmt`` (csv or json) is the format ``write_into`` writes an out dir in; ``figures``
    (svg, png or none) is what its exports draw at the end (results/figures.py)."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        *,
        command: list[str],
        fmt: str | None = None,
        figures: str = "svg",
        listeners: Iterable[Listener] = (),
    ) -> None:
        self.cfg = cfg
        self.fmt = fmt
        self.figures = figures
        self.recorder = ResultsRecorder()
        self.comparison = Comparison(cfg, overrides, [self.recorder])
        validate_checks(cfg.expect, comparison_functions(self.recorder))
        self.meta = comparison_manifest(cfg, self.comparison.runs_config, command, overrides)
        self.directory: RunDirectory | None = None
        self.resumed = False
        self.comparison.listeners.extend(listeners)
        self.outcome: ComparisonOutcome | None = None

    @property
    def runs(self) -> list[Run]:
        return self.comparison.runs

    def stop(self, status: Status = "stopped") -> None:
        self.comparison.stop(status)

    def write_into(self, out_dir: Path, *, resume: bool = False) -> list[str]:
        """Write the result files (and checkpoints, for runs that ask) into ``out_dir`` as the
        runs train, starting now with experiment.json. ``resume`` first takes up what an
        earlier process left there (see ``resume``); returns a line per run saying how."""
        self.comparison.checkpoint_into(out_dir / CHECKPOINT_DIR)
        lines = self._resume(out_dir) if resume else []
        assert self.fmt is not None, "an out dir needs a format"
        self.directory = RunDirectory(out_dir, self.fmt, self.meta, self.recorder)
        self.comparison.listeners.insert(1, self.directory)  # after the recorder it reads
        self.directory.write()
        return lines

    def prepare(self) -> None:
        """Load the data and build every run (a user error surfaces here, before training).
        A new out dir is left as it was found when this fails: nothing was trained."""
        try:
            self.comparison.prepare()
        except UserError:
            if self.directory is not None and not self.resumed:
                self.directory.discard()
            raise

    def run(self) -> ComparisonOutcome:
        """Train every run to its end, then conclude (expectations, final files, report). If
        that fails, experiment.json says so (stopped with the reason when the results could
        not be written, else failed) rather than staying ``running``."""
        try:
            results = self.comparison.run()
            status: Status = self.comparison.status
            expectations = self.conclude(status)
        except Exception as exc:
            self._record_failure(exc)
            raise
        self.outcome = ComparisonOutcome(status, tuple(results), tuple(expectations))
        return self.outcome

    def _record_failure(self, exc: Exception) -> None:
        if self.directory is None:
            return
        user = isinstance(exc, UserError)
        self.directory.meta["error"] = str(exc) if user else describe_failure(exc)
        with contextlib.suppress(ExportError):  # still full: the files written before stay
            self.directory.write("stopped" if isinstance(exc, ExportError) else "failed")

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
        from tui_lab.results.figures import comparison_figures, seed_groups  # matplotlib: 0.4 s

        runs = self.meta["runs"]
        return comparison_figures(
            self.recorder.tables(), list(runs), path, self.figures, seed_groups(runs)
        )

    def export(self, fmt: str, out: Path | None = None) -> Path:
        """The same files as ``--export`` into a new out dir (default runs/<preset>-<time>/):
        during training a snapshot, once finished the final files with the report."""
        with claim_out_dir(out, self.cfg.name) as claimed:
            directory = RunDirectory(claimed.path, fmt, dict(self.meta), self.recorder)
            if self.outcome is None:
                self._figures(claimed.path)
                directory.write()
            else:
                self._write_final(directory, self.outcome.status, list(self.outcome.expectations))
        return claimed.path

    # ------------------------------------------------------------------ --resume

    def _resume(self, out_dir: Path) -> list[str]:
        """Continue the comparison recorded in ``out_dir``: finished runs keep their results,
        checkpointed runs continue after their last epoch (or are only finished, when that was
        their last), the others start again. The original command and start time stay in
        experiment.json."""
        _, previous, tables = read_previous(out_dir)
        self.resumed = True
        self.meta["command"] = previous.get("command", self.meta["command"])
        self.meta["started"] = previous.get("started", self.meta["started"])
        self.meta["resumed"] = [*previous.get("resumed", []), now()]
        summary = {r["run"]: r for r in tables["summary"]}
        lines: list[str] = []
        kept: dict[str, tuple[float, float]] = {}
        numerics = previous.get("numerics", {})
        for run in self.runs:
            if run.name in numerics:  # the same numbers need the same numerics, measured or not
                run.cfg = keep_numerics(run.cfg, numerics[run.name].get("precision", ""))
            epoch, step, line = self._resume_run(out_dir, run, summary.get(run.name))
            kept[run.name] = (epoch, step)
            lines.append(f"{run.name}: {line}")
        with self.recorder.lock:  # the rows kept, in the order they were written
            self.recorder.metrics += [
                m for m in tables["metrics"] if m["epoch"] <= kept.get(m["run"], (-1, -1))[0]
            ]
            for name in STEP_TABLES:
                getattr(self.recorder, name).extend(
                    s for s in tables[name] if s["step"] <= kept.get(s["run"], (-1, -1))[1]
                )
            for run in self.runs:
                if run.result is not None:
                    self.recorder.summary[run.name] = dict(summary[run.name])
                    self.recorder.order[run.name] = run.index
        return lines

    def _resume_run(
        self, out_dir: Path, run: Run, previous: dict[str, Any] | None
    ) -> tuple[float, float, str]:
        """(last epoch kept, last step kept, what happens to the run)."""
        if previous is not None and previous["status"] in KEPT:
            run.result = RunFinished(
                **{k: previous.get(k) for k in RunFinished.__dataclass_fields__}
            )
            return float("inf"), float("inf"), f"kept ({previous['status']})"
        path = checkpoint_path(out_dir / CHECKPOINT_DIR, run.name)
        if not path.exists():
            return 0, 0, "restarted (no checkpoint)"
        state = load_checkpoint(path)
        run.setup()
        try:
            run.load_state(state)
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise ResumeError(
                f"Checkpoint {path} does not fit run {run.name!r} as configured now "
                f"({type(exc).__name__}: {str(exc)[:200]}); it was written by another "
                "configuration or tui-lab version. Delete it to restart that run from scratch."
            ) from None
        return run.epoch, run.step, f"resumed after epoch {run.epoch} (step {run.step})"
