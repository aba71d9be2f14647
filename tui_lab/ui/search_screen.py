"""The Search view (lecture week 6): edit the search and see its budget, launch it, and watch
the trials table, the current trial's curves, the objective per trial with the best so far,
the objective against one parameter, and Optuna's importance. It can also follow a study that
other processes or machines are running, read-only.

The search runs in a thread worker (group ``search``) and a followed study is polled in another
(group ``follow``); both reach this screen through coalescing messages, and everything on it
redraws on a 2 Hz clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from tui_lab.errors import UserError
from tui_lab.expectations import check_all
from tui_lab.search import Search
from tui_lab.search_cli import resolve_run_dir
from tui_lab.search_export import SearchDirectory, search_functions, search_key, search_metadata
from tui_lab.ui.attach_dialog import AttachDialog
from tui_lab.ui.charts import MetricChart
from tui_lab.ui.history import METRICS
from tui_lab.ui.search_charts import ImportanceBars, ParamChart, TrialsChart
from tui_lab.ui.search_editor import SearchEditor
from tui_lab.ui.search_session import (
    ImportanceTracker,
    SearchEnded,
    SearchEventsArrived,
    SearchSession,
    StudySnapshot,
    follow_study,
    trial_label,
)
from tui_lab.ui.trials_table import TrialsTable

REDRAW_HZ = 2
CURVES = {"chart-trial-loss": "train_loss", "chart-trial-acc": "val_acc"}
COUNTED = ("completed", "pruned", "diverged", "failed", "running", "waiting", "interrupted")


class SearchScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "launch", "Launch search", priority=True, id="search-launch"),
        Binding("ctrl+l", "attach", "Follow a study", priority=True, id="search-attach"),
        Binding("ctrl+o", "app.pick_preset", "Presets", priority=True, id="search-presets"),
        Binding("S", "stop", "Stop", id="search-stop"),
        Binding("o", "sort", "Sort", id="search-sort"),
        Binding("p", "next_param", "Parameter", id="search-param"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.param_index = 0
        self._status_text = ""

    @property
    def session(self) -> SearchSession | None:
        return self.app.search_session  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="search-status")
        with Horizontal(id="search"):
            yield SearchEditor(id="search-editor")
            with Vertical(id="search-main"):
                with Grid(id="search-charts"):
                    for chart_id, metric in CURVES.items():
                        yield MetricChart(metric, id=chart_id)
                    yield ImportanceBars(id="importance")
                    yield TrialsChart("trials", id="chart-trials")
                    yield ParamChart("parameters", id="chart-param")
                yield TrialsTable(id="trials-table")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "search"
        self.set_interval(1 / REDRAW_HZ, self.redraw)
        self.redraw()

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
            self._status("Nothing launched: edit the search on the left, ctrl+r launches it; "
                         "ctrl+l follows a study that runs elsewhere.")  # fmt: skip
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
        self._status(self.status_text(session))

    def status_text(self, session: SearchSession) -> str:
        records = list(session.records.values())
        counts = {s: sum(r.status == s for r in records) for s in COUNTED}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        done = sum(r.status not in ("running", "waiting", "interrupted") for r in records)
        state = {"following": f"following {escape(session.storage_label)} (read-only)"}.get(
            session.status, session.status)  # fmt: skip
        parts = [f"[b]{escape(session.title)}[/b] {state}",
                 f"{done}/{session.n_trials or '?'} trials" + (f" ({summary})" if summary else "")]  # fmt: skip
        for study in session.studies():
            best = session.best(study)
            if best is not None:
                test = session.test_acc(study)
                parts.append(f"best {escape(trial_label(session.labels, best))}: "
                             f"{session.objective} {best.value:.4f}"
                             + (f", test acc {test:.4f}" if test is not None else ""))  # fmt: skip
        if session.plans:
            spent = sum(r.epochs for r in records)
            parts.append(f"{spent}/{sum(p.budget_epochs for p in session.plans)} trial-epochs")
        table = self.query_one(TrialsTable)
        parts.append(f"sort: {table.sort_by} (o)")
        return " · ".join(parts)

    def _status(self, text: str) -> None:
        if text != self._status_text:
            self._status_text = text
            self.query_one("#search-status", Static).update(text)

    # ------------------------------------------------------------------ launching

    def action_launch(self) -> None:
        app = self.app
        current = self.session
        if current is not None and current.status == "running":
            self.notify("A search is running; S stops it (its trial is re-queued).", severity="warning")
            return
        draft = app.search_draft  # type: ignore[attr-defined]
        if draft is None:
            self.notify("This preset is not a search: load one with ctrl+o.", severity="warning")
            return
        if self.query_one(SearchEditor).invalid:
            self.notify("Fix the search settings marked in red first.", severity="error")
            return
        try:
            base = app.draft.runs[0][1]  # type: ignore[attr-defined]
            draft.plans(base)
            cfg = draft.experiment(base)
            search = Search(cfg, run_dir=Path("."), **app.search_options)  # type: ignore[attr-defined]
            key = search_key(search)
            again = current.run_dir if current is not None and current.key == key else None
            search.run_dir = resolve_run_dir(again, cfg.name, key)
        except UserError as exc:
            self.notify(str(exc), title="Cannot launch", severity="error", timeout=10)
            return
        if current is not None:
            current.stop()
        session = SearchSession.launched(search, self)
        session.key = key
        writer = SearchDirectory(search.run_dir, "csv",
                                 search_metadata(cfg, search, app.argv), search.records)  # type: ignore[attr-defined]  # fmt: skip
        search.listeners += [session.relay, writer, ImportanceTracker(search, session.relay)]
        app.search_session = session  # type: ignore[attr-defined]
        self.run_search(session, writer)
        self.query_one(TrialsTable).focus()
        self.redraw()

    @work(thread=True, exit_on_error=False, group="search", name="search")
    def run_search(self, session: SearchSession, writer: SearchDirectory) -> None:
        search = session.search
        assert search is not None
        try:
            search.open()
            writer.write()
            outcomes = search.run()
        except UserError as exc:
            self.post_message(SearchEnded(session, "failed", str(exc)))
            return
        status = next((o.status for o in outcomes if o.status != "completed"), "completed")
        expectations = check_all(search.cfg.expect, search_functions(outcomes), {search.base.data.dataset})
        writer.write(status, expectations)
        met, applicable = sum(e.label == "met" for e in expectations), sum(e.applies for e in expectations)
        self.post_message(SearchEnded(session, status, None,
                                      f"{met}/{applicable} expectations met" if applicable else ""))  # fmt: skip

    def on_search_events_arrived(self, message: SearchEventsArrived) -> None:
        message.session.absorb()

    def on_study_snapshot(self, message: StudySnapshot) -> None:
        if message.session.status == "following":
            message.session.apply_snapshot(message)

    def on_search_ended(self, message: SearchEnded) -> None:
        session = message.session
        session.absorb()
        session.status, session.error = message.status, message.error
        if message.error:
            self.notify(message.error, title="Search failed", severity="error", timeout=15)
            return
        where = f" Results in {session.run_dir}/." if session.run_dir else ""
        extra = f" {message.expectations}." if message.expectations else ""
        self.notify(f"{session.title}: search {message.status}.{extra}{where}", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        session = self.session
        if event.worker.group not in ("search", "follow") or event.state != WorkerState.ERROR:
            return
        event.stop()
        error = f"{type(event.worker.error).__name__}: {event.worker.error}"
        if session is not None:
            session.status, session.error = "failed", error
        self.notify(error, title="Search crashed", severity="error", timeout=15)

    # ------------------------------------------------------------------ following

    def action_attach(self) -> None:
        session = self.session
        if session is not None and session.status == "running":
            self.notify("A search is running here; stop it (S) before following another study.",
                        severity="warning")  # fmt: skip
            return
        storage = session.storage_label if session is not None and session.run_dir else ""
        study = next(iter(session.labels), "") if session is not None else ""
        if not study and self.app.search_draft is not None:  # type: ignore[attr-defined]
            study = self.app.search_draft.preset.name  # type: ignore[attr-defined]
        self.app.push_screen(AttachDialog(storage, study), self._follow_answer)

    def _follow_answer(self, answer: tuple[str, str] | None) -> None:
        if answer is None:
            return
        storage, study = answer
        if storage.endswith(".journal") and not Path(storage).expanduser().is_file():
            self.notify(f"No journal file {storage}: give the path of an existing study.journal "
                        "(or a database URL).", title="Cannot follow", severity="error", timeout=10)  # fmt: skip
            return
        if self.session is not None:
            self.session.stop()
        session = SearchSession.followed(self, storage, study)
        self.app.search_session = session  # type: ignore[attr-defined]
        self.follow(session, storage, study)
        self.query_one(TrialsTable).focus()
        self.redraw()

    @work(thread=True, exit_on_error=False, group="follow", name="follow")
    def follow(self, session: SearchSession, storage: str, study: str) -> None:
        try:
            follow_study(session, storage, study, self)
        except UserError as exc:
            self.post_message(SearchEnded(session, "failed", str(exc)))

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
            self.notify("Stopping after the current step; the running trial is re-queued "
                        "(ctrl+r resumes).", timeout=4)  # fmt: skip

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
