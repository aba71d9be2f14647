"""What the headless CLI shows: rich progress on stderr while training, a summary table at the
end. When output is piped, progress becomes plain lines (no control characters)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tui_lab.events import (
    EpochEnded,
    Event,
    RunFinished,
    RunStarted,
    SearchEvent,
    SearchOutcome,
    SearchPlan,
    StepLogged,
    StudyFinished,
    TrialFinished,
    TrialRecord,
    TrialStarted,
)
from tui_lab.presets import list_presets
from tui_lab.results.aggregate import aggregate_rows, difference_lines
from tui_lab.results.checks import ExpectationResult


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def _num(v: float | None, fmt: str = ".4f") -> str:
    return "—" if v is None else format(v, fmt)


class HeadlessReporter:
    """Event listener: a progress bar per run (TTY) or one line per epoch (pipe)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.err = Console(stderr=True, highlight=False, markup=False)
        self.out = Console(
            highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120
        )
        self.live = self.err.is_terminal
        self.progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=self.err,
            transient=False,
            disable=not self.live,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def say(self, line: str) -> None:
        """A line on stderr, above the progress bars when they are shown."""
        (self.progress.console if self.live else self.err).print(line)

    def note(self, text: str) -> None:
        """A one-off remark."""
        self.say(f"tui-lab: note: {text}")

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.tasks[event.run] = self.progress.add_task(
                event.run, total=event.total_steps, info=f"{event.device} {event.precision}"
            )
            why = f": {event.numerics}" if event.numerics else ""
            self.say(
                f"[{event.run}] started on {event.device} ({event.precision}{why}), "
                f"{event.parameters:,} parameters, {event.total_steps} steps"
            )
        elif isinstance(event, StepLogged):
            self.progress.update(
                self.tasks[event.run],
                completed=event.step,
                info=f"loss {event.loss:.4f} lr {event.lr:.2e}",
            )
        elif isinstance(event, EpochEnded):
            line = (
                f"[{event.run}] epoch {event.epoch}: train loss {event.train_loss:.4f} "
                f"acc {_pct(event.train_acc)}  val loss {_num(event.val_loss)} "
                f"acc {_pct(event.val_acc)}  lr {event.lr:.3g}  {event.seconds:.1f}s"
            )
            self.say(line)
        elif isinstance(event, RunFinished):
            if event.run in self.tasks:
                self.progress.update(
                    self.tasks[event.run], completed=event.steps, info=event.status
                )
            if not self.live:
                self.err.print(
                    f"[{event.run}] {event.status}" + (f": {event.error}" if event.error else "")
                )

    def print_summary(
        self,
        results: list[RunFinished],
        out_dir: Path | None,
        expectations: list[ExpectationResult],
    ) -> None:
        self.out.print(summary_table(self.title, results))
        rows = [dataclasses.asdict(r) for r in results]
        if any(row["seeds"] > 1 for row in aggregate_rows(rows)):
            self.out.print(aggregate_table(self.title, rows))
            for line in difference_lines(rows):
                self.out.print(escape(line))
        print_expectations(self.out, expectations)
        if out_dir is not None:
            self.out.print(f"Results written to {out_dir}/")


def table(title: str, text: str, numbers: str, **options: str) -> Table:
    """A table whose ``text`` columns are left-aligned and ``numbers`` columns right-aligned,
    in that order (column names separated by commas)."""
    out = Table(title=title, **options)
    for names, justify in ((text, "left"), (numbers, "right")):
        for name in filter(None, (n.strip() for n in names.split(","))):
            out.add_column(name, justify=justify)  # type: ignore[arg-type]
    return out


def summary_table(title: str, results: list[RunFinished]) -> Table:
    table_ = table(
        f"{title}: results",
        "run, status",
        "test acc, test loss, best val acc, epochs, epochs to target, seconds",
    )
    for r in results:
        status = r.status + (f" at step {r.diverged_at}" if r.diverged_at else "")
        table_.add_row(
            r.run,
            status,
            _pct(r.test_acc),
            _num(r.test_loss),
            _pct(r.best_val_acc),
            str(r.epochs),
            "—" if r.epochs_to_target is None else str(r.epochs_to_target),
            f"{r.seconds:.1f}",
        )
    return table_


def aggregate_table(title: str, summary: list[dict]) -> Table:
    """Each configuration over its seeds: mean ± the half-width of its 95% interval."""
    table_ = table(
        f"{title}: over seeds (mean ± 95% CI)",
        "run",
        "seeds, test acc, best val acc, seconds",
    )
    for row in aggregate_rows(summary):
        table_.add_row(
            row["run"],
            str(row["seeds"]),
            _pct_ci(row["test_acc_mean"], row["test_acc_ci95"]),
            _pct_ci(row["best_val_acc_mean"], row["best_val_acc_ci95"]),
            _num(row["seconds_mean"], ".1f"),
        )
    return table_


def _pct_ci(mean: float | None, half: float | None) -> str:
    if mean is None:
        return "—"
    return _pct(mean) + ("" if half is None else f" ± {100 * half:.2f}")


def print_expectations(console: Console, expectations: list[ExpectationResult]) -> None:
    """Each expectation of the preset as met / not met / undecided / not applicable."""
    for e in expectations:
        mark = {
            "met": "[green]✔ met[/]",
            "not met": "[red]✘ not met[/]",
            "n/a": "[dim]– n/a[/]",
        }.get(e.label, "[yellow]? undecided[/]")
        console.print(f"{mark}  {escape(e.text)}  [dim]({escape(e.decided_on)})[/]")


def print_toy2d_summary(
    title: str,
    tolerance: float,
    rows: list[dict],
    expectations: list[ExpectationResult],
    out_dir: Path | None,
    notes: list[str] | None = None,
) -> None:
    """The 2-D toy problem's summary (rows: ``Trajectory.summary_row()``), why paths diverged
    (``notes``), then expectations."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    paths = table(
        f"{title}: steps to |f − f_min| < {tolerance:g} and the shape of each path",
        "run, hyperparameters, status",
        "steps, final f, path length, x2 reversals",
        caption="x2 reversals: how often the path turns back along x2 (the zig-zag)",
    )
    for r in rows:
        status = r["status"] + (
            f" at step {r['diverged_at']}" if r["diverged_at"] is not None else ""
        )
        hps = " ".join(f"{k}={v:g}" for k, v in r["hyperparameters"].items() if k != "eps")
        steps = "—" if r["steps_to_converge"] is None else str(r["steps_to_converge"])
        run = r["run"] if r["run"] == r["optimizer"] else f"{r['run']} ({r['optimizer']})"
        paths.add_row(
            run,
            hps,
            status,
            steps,
            f"{r['final_f']:.3g}",
            f"{r['path_length']:.3g}",
            str(r["x2_reversals"]),
        )
    console.print(paths)
    for note in notes or []:
        console.print(f"[red]{escape(note)}[/]")
    print_expectations(console, expectations)
    if out_dir is not None:
        console.print(f"Results written to {out_dir}/")


def print_presets() -> None:
    presets = list_presets()
    console = Console(highlight=False)
    listing = table("tui-lab presets", "preset, lecture · step, description", "")
    for p in presets:
        where = " · ".join(x for x in (p.lecture, p.step) if x)
        listing.add_row(p.name, where, p.description)
    console.print(listing)


# ---------------------------------------------------------------------------- search


def _objective(value: float | None, direction: str) -> str:
    return _pct(value) if direction == "maximize" else _num(value)


def _params(params: dict, width: int = 60) -> str:
    text = " ".join(
        f"{k.rsplit('.', 1)[-1]}={v:.4g}" if isinstance(v, float) else f"{k.rsplit('.', 1)[-1]}={v}"
        for k, v in params.items()
    )
    return text if len(text) <= width else text[: width - 1] + "…"


class SearchReporter(HeadlessReporter):
    """Search progress: a bar for each study's trials, a bar per running trial (removed when
    it ends) and one line per finished trial."""

    def __init__(self, plans: list[SearchPlan]) -> None:
        super().__init__("search")
        self.plans = {p.study: p for p in plans}
        self.study_tasks: dict[str, int] = {}
        self.finished: dict[str, set[int]] = {}
        self.trial_runs: set[str] = set()  # their end is told by the TrialFinished line

    def count_finished(self, records: list[TrialRecord]) -> None:
        """Trials finished before a resume count toward the study bars."""
        for r in records:
            if r.state in ("COMPLETE", "PRUNED", "FAIL"):
                self.finished.setdefault(r.study, set()).add(r.number)

    def __call__(self, event: SearchEvent) -> None:  # type: ignore[override]
        if isinstance(event, TrialStarted):
            if event.study not in self.study_tasks:
                plan = self.plans[event.study]
                self.study_tasks[event.study] = self.progress.add_task(
                    f"{plan.method} trials",
                    total=plan.n_trials,
                    info=event.study,
                    completed=len(self.finished.setdefault(event.study, set())),
                )
            self.trial_runs.add(event.run)
            again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            self.say(f"[{event.run}] {_params(event.params, 100)}{again}")
        elif isinstance(event, TrialFinished):
            r = event.record
            plan = self.plans[r.study]
            if r.status != "interrupted":
                self.finished.setdefault(r.study, set()).add(r.number)
            if r.study in self.study_tasks:
                self.progress.update(
                    self.study_tasks[r.study], completed=len(self.finished[r.study])
                )
            run = f"{plan.method} {r.number}"
            if run in self.tasks:
                self.progress.remove_task(self.tasks.pop(run))
            score = _pct(r.final.get("val_acc")) if r.history else "—"
            detail = f": {r.reason}" if r.reason else ""
            self.say(
                f"[{run}] {r.status}{detail}  val acc {score}  {r.epochs} epochs {r.seconds:.1f}s"
            )
        elif isinstance(event, StudyFinished):
            task = self.study_tasks.get(event.outcome.plan.study)
            if task is not None:
                self.progress.update(task, info=event.outcome.status)
        elif isinstance(event, (RunStarted, StepLogged, EpochEnded)) or (
            isinstance(event, RunFinished) and event.run not in self.trial_runs
        ):
            super().__call__(event)


def print_search_plan(plans: list[SearchPlan], storage: str, run_dir: Path | None) -> None:
    """The budget before launch: trials × epochs per study, the storage and the directory
    (None: --headless writes none)."""
    console = Console(stderr=True, highlight=False)
    for p in plans:
        cells = " (every cell of the grid)" if p.cells else ""
        console.print(
            f"[bold]{p.method}[/] search: {p.n_trials} trials{cells} × up to {p.epochs} "
            f"epochs = {p.budget_epochs} trial-epochs · study {escape(p.study)}"
        )
    where = f"run directory {run_dir}/" if run_dir else "no files written (--headless)"
    console.print(f"storage: {escape(storage)} · {where}")


def search_top_table(outcome: SearchOutcome, top: int = 5) -> Table:
    o = outcome
    objective = "val acc" if o.direction == "maximize" else "val loss"
    done = [r for r in o.records if r.status == "completed" and r.value is not None]
    done.sort(key=lambda r: (-r.value if o.direction == "maximize" else r.value, r.number))
    counts = ", ".join(f"{o.count(s)} {s}" for s in ("completed", "pruned", "diverged", "failed"))
    table = Table(
        title=f"{o.plan.method} search ({o.plan.study}): top {min(top, len(done))} of "
        f"{len(o.records)} trials",
        caption=f"{counts} · {o.trial_epochs} of {o.plan.budget_epochs} trial-epochs "
        f"trained · {o.seconds:.1f}s training",
    )
    keys = list(o.records[0].params) if o.records else []
    for col in ("trial", objective, "epochs", "seconds", *keys):
        table.add_column(
            col.rsplit(".", 1)[-1] if col in keys else col,
            justify="left" if col in keys else "right",
        )
    for r in done[:top]:
        values = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.params.values()]
        table.add_row(
            str(r.number),
            _objective(r.value, o.direction),
            str(r.epochs),
            f"{r.seconds:.1f}",
            *values,
        )
    return table


def importance_table(outcome: SearchOutcome) -> Table | None:
    if outcome.importance is None:
        return None
    bars = table(
        f"{outcome.plan.method}: which hyperparameters mattered (Optuna PED-ANOVA)",
        "hyperparameter",
        "importance",
    )
    bars.add_column("")
    for key, value in sorted(outcome.importance.items(), key=lambda kv: -kv[1]):
        bars.add_row(key, f"{value:.3f}", "█" * max(1, round(30 * value)) if value > 0 else "")
    return bars


def comparison_table(outcomes: list[SearchOutcome]) -> Table:
    methods = table(
        "search methods compared at the same trial budget",
        "method",
        "trials, best val acc, test acc of best, training s, trial-epochs",
    )
    methods.add_column("most important")
    for o in outcomes:
        top = max(o.importance, key=o.importance.get) if o.importance else "—"
        methods.add_row(
            o.plan.method,
            str(len(o.records)),
            _pct(o.best.final.get("val_acc")) if o.best else "—",
            _pct(o.test.test_acc) if o.test else "—",
            f"{o.seconds:.1f}",
            str(o.trial_epochs),
            top,
        )
    return methods


def print_search_summary(
    outcomes: list[SearchOutcome], expectations: list[ExpectationResult], out_dir: Path | None
) -> None:
    """Top trials, the best configuration with its one test score, importance, comparison."""
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    for o in outcomes:
        console.print(search_top_table(o))
        if o.best is None:
            console.print(f"[bold]{o.plan.method}[/]: no trial completed.")
        else:
            test = (
                f"test acc {_pct(o.test.test_acc)} (retrained from its seed, the test set "
                f"evaluated once)"
                if o.test and o.test.test_acc is not None
                else "no test score"
            )
            console.print(
                f"[bold]Best {o.plan.method} trial {o.best.number}[/]: "
                f"{_objective(o.best.value, o.direction)} on validation → {test}"
            )
            for key, value in o.best.params.items():
                console.print(f"  {key} = {escape(str(value))}")
        table = importance_table(o)
        if table is not None:
            console.print(table)
        else:
            console.print(f"importance: {o.importance_note}")
    if len(outcomes) > 1:
        console.print(comparison_table(outcomes))
    print_expectations(console, expectations)
    if out_dir is not None:
        console.print(f"Results written to {out_dir}/")
