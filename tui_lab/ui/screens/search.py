"""The Search view (lecture week 6): edit the search and see its budget, launch it, and watch
the trials table, the current trial's curves, the objective per trial with the best so far,
the objective against one parameter, and Optuna's importance. It can also follow a study that
other processes or machines are running, read-only.

The search runs in a thread worker (group ``search``) and a followed study is polled in another
(group ``follow``); both reach the session through its relay (ui/bridge.py), and everything on
this screen redraws on a 2 Hz clock.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Static

from tui_lab.errors import UserError
from tui_lab.search.runner import SearchJob
from tui_lab.ui.model import LabModel
from tui_lab.ui.screens.attach_dialog import AttachDialog
from tui_lab.ui.screens.view import PRESETS, LabView
from tui_lab.ui.sessions.search import SearchSession, follow_study, trial_label
from tui_lab.ui.state.comparison import METRICS
from tui_lab.ui.widgets.charts import MetricChart
from tui_lab.ui.widgets.search_charts import (
    ImportanceBars,
    ParamChart,
    TrialsChart,
    objective_text,
)
from tui_lab.ui.widgets.search_editor import SearchEditor
from tui_lab.ui.widgets.trials_table import TrialsTable

REDRAW_HZ = 2
CURVES = {"chart-trial-loss": "train_loss", "chart-trial-acc": "val_acc"}
COUNTED = ("completed", "pruned", "diverged", "failed", "running", "waiting", "interrupted")


class SearchScreen(LabView):
    STATUS_ID = "search-status"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+r",
            "launch",
            "Launch search",
            tooltip="Run the search as the editor describes it",
            priority=True,
            id="search-launch",
        ),
        Binding(
            "ctrl+l",
            "attach",
            "Follow a study",
            tooltip="Attach to a study by storage URL (read-only)",
            priority=True,
            id="search-attach",
        ),
        replace(PRESETS, show=True),
        Binding(
            "S", "stop", "Stop", tooltip="Stop; the running trial is re-queued", id="search-stop"
        ),
        Binding(
            "o", "sort", "Sort", tooltip="Trials table: by number or by value", id="search-sort"
        ),
        Binding(
            "p",
            "next_param",
            "Parameter",
            tooltip="The objective against the next parameter",
            show=False,
            id="search-param",
        ),
        Binding(
            "a",
            "app.switch_mode('analysis')",
            "Analysis",
            tooltip="The sweep analysis (f6)",
            show=False,
            id="search-analysis",
        ),
    ]

    def __init__(self, model: LabModel) -> None:
        super().__init__(model)
        self.param_index = 0

    @property
    def session(self) -> SearchSession | None:
        return self.model.search

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="search-status")
        with Horizontal(id="search"):
            yield SearchEditor(self.model, id="search-editor")
            with Vertical(id="search-main"):
                with Grid(id="search-charts"):
                    for chart_id, metric in CURVES.items():
                        yield MetricChart(metric, id=chart_id)
                    yield ImportanceBars(id="importance")
                    yield TrialsChart("trials", id="chart-trials")
                    yield ParamChart("parameters", hint="p: next", id="chart-param")
                yield TrialsTable(id="trials-table")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "search"
        self.redraw_every(REDRAW_HZ)

    def on_screen_resume(self) -> None:
        """The Lab may have changed the base config (epochs, data): show the budget it gives."""
        for editor in self.query(SearchEditor):
            editor.show_budget()

    async def reload(self) -> None:
        """A preset was loaded: edit its search (or say it has none)."""
        await self.query_one(SearchEditor).recompose()
        self.query_one(SearchEditor).show_budget()

    # ------------------------------------------------------------------ drawing

    def redraw(self) -> None:
        if not self.is_current:
            return
        session = self.session
        if session is None:
            self.show_status(
                "Nothing launched: edit the search on the left, ctrl+r launches it; "
                "ctrl+l follows a study that runs elsewhere."
            )
            return
        for chart in self.query(MetricChart):
            run = next(iter(session.curves.runs), None)
            chart.border_title = METRICS[chart.metric].title + (f" · {run}" if run else "")
            chart.update_from(session.curves, "epoch", False)
        keys = session.param_keys()
        key = keys[self.param_index % len(keys)] if keys else None
        self.query_one(TrialsChart).draw(session)
        self.query_one(ParamChart).draw(session, key)
        self.query_one(ImportanceBars).show(session)
        self.query_one(TrialsTable).show(session)
        self.show_status(self.status_text(session))

    def status_text(self, session: SearchSession) -> str:
        records = list(session.records.values())
        counts = {s: sum(r.status == s for r in records) for s in COUNTED}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        done = sum(r.status not in ("running", "waiting", "interrupted") for r in records)
        state = {"following": f"following {escape(session.storage_label)} (read-only)"}.get(
            session.status, session.status
        )
        parts = [
            f"[b]{escape(session.title)}[/b] {state}",
            f"{done}/{session.n_trials or '?'} trials" + (f" ({summary})" if summary else ""),
        ]
        for study in session.studies():
            best = session.best(study)
            if best is not None:
                test = session.test_acc(study)
                parts.append(
                    f"best {escape(trial_label(session.labels, best))}: "
                    f"{session.objective} {objective_text(session.objective, best.value)}"
                    + (f", test acc {100 * test:.2f}%" if test is not None else "")
                )
        if session.plans:
            spent = sum(r.epochs for r in records)
            parts.append(f"{spent}/{sum(p.budget_epochs for p in session.plans)} trial-epochs")
        table = self.query_one(TrialsTable)
        parts.append(f"sort: {table.sort_by} (o)")
        return " · ".join(parts)

    # ------------------------------------------------------------------ launching

    def action_launch(self) -> None:
        model = self.model
        current = self.session
        if current is not None and current.status == "running":
            self.notify(
                "A search is running; S stops it (its trial is re-queued).", severity="warning"
            )
            return
        draft = model.search_draft
        if draft is None:
            self.notify("This preset is not a search: load one with ctrl+o.", severity="warning")
            return
        if self.query_one(SearchEditor).invalid:
            self.notify("Fix the search settings marked in red first.", severity="error")
            return
        try:
            base = model.draft.runs[0][1]
            draft.plans(base)  # a --set on a searched key is refused, as headless
            cfg = draft.experiment(base)
            key = SearchJob.key_of(cfg, study=model.search_options.get("study"))
            again = current.run_dir if current is not None and current.key == key else None
            job = SearchJob(
                cfg,
                command=model.argv,
                out=again,
                figures=model.figures,
                track_importance=True,
                **model.search_options,
            )
        except UserError as exc:
            self.notify(str(exc), title="Cannot launch", severity="error", timeout=10)
            return
        if current is not None:
            current.stop()
        session = SearchSession.launched(job, self.app)
        model.search = session
        self.run_search(session)
        self.query_one(TrialsTable).focus()
        self.redraw()

    @work(thread=True, exit_on_error=False, group="search", name="search")
    def run_search(self, session: SearchSession) -> None:
        session.run()

    # ------------------------------------------------------------------ following

    def action_attach(self) -> None:
        session = self.session
        if session is not None and session.status == "running":
            self.notify(
                "A search is running here; stop it (S) before following another study.",
                severity="warning",
            )
            return
        storage = session.storage_label if session is not None and session.run_dir else ""
        study = next(iter(session.labels), "") if session is not None else ""
        if not study and self.model.search_draft is not None:
            study = self.model.search_draft.preset.name
        self.app.push_screen(AttachDialog(storage, study), self._follow_answer)

    def _follow_answer(self, answer: tuple[str, str] | None) -> None:
        if answer is None:
            return
        storage, study = answer
        if storage.endswith(".journal") and not Path(storage).expanduser().is_file():
            self.notify(
                f"No journal file {storage}: give the path of an existing study.journal "
                "(or a database URL).",
                title="Cannot follow",
                severity="error",
                timeout=10,
            )
            return
        if self.session is not None:
            self.session.stop()
        session = SearchSession.followed(self.app, storage, study)
        self.model.search = session
        self.follow(session, storage, study)
        self.query_one(TrialsTable).focus()
        self.redraw()

    @work(thread=True, exit_on_error=False, group="follow", name="follow")
    def follow(self, session: SearchSession, storage: str, study: str) -> None:
        follow_study(session, storage, study)

    # ------------------------------------------------------------------ controls

    def action_stop(self) -> None:
        session = self.session
        if session is None or not session.running:
            return
        session.stop()
        if session.status == "following":
            session.status = "stopped following"
            self.notify("Stopped following the study.", timeout=3)
        else:
            self.notify(
                "Stopping after the current step; the running trial is re-queued (ctrl+r resumes).",
                timeout=4,
            )

    def action_sort(self) -> None:
        by = self.query_one(TrialsTable).cycle_sort()
        self.redraw()
        self.notify(f"trials sorted by {by}", timeout=2)

    def action_next_param(self) -> None:
        self.param_index += 1
        self.redraw()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        session = self.session
        key = self.query_one(TrialsTable).keys.get(event.row_key.value or "")
        if session is not None and key is not None:
            session.pin(key)
            self.redraw()
