"""The Textual lab: choose options (Lab view), launch, and watch runs live (Compare view);
walk the 2-D toy problem (Toy view); search hyperparameters (Search view, which a search
preset opens on).

Each launch runs its job in a thread worker: a comparison's runs train side by side in the
job's own worker threads (training/comparison.py), a search's trials likewise. Their items
reach the UI through one bridge (ui/bridge.py): the app drains a session when its ``Arrived``
message comes and shows the notices it returns. Quitting stops every job first, so the
worker threads end after their current step and the app exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.app import App, SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui_lab.config import ExperimentConfig, RunConfig
from tui_lab.data.files import availability
from tui_lab.data.tensors import load_dataset
from tui_lab.errors import UserError
from tui_lab.presets import list_presets, load_preset
from tui_lab.results.exports import pid_alive, writer_pid
from tui_lab.system import SystemMonitor
from tui_lab.toy2d.runner import toy_problem
from tui_lab.training.numerics import resolve_device
from tui_lab.ui.bridge import Arrived, Notice
from tui_lab.ui.model import LabModel
from tui_lab.ui.screens.analysis import AnalysisScreen
from tui_lab.ui.screens.compare import CompareScreen
from tui_lab.ui.screens.lab import LabScreen
from tui_lab.ui.screens.preset_picker import PresetPicker
from tui_lab.ui.screens.search import SearchScreen
from tui_lab.ui.screens.toy import ToyScreen
from tui_lab.ui.screens.view import COMMON_KEYS, LabView, view_bindings
from tui_lab.ui.sessions.comparison import ComparisonSession, ShownComparison
from tui_lab.ui.sessions.opened import (
    Following,
    Opened,
    OpenedComparison,
    OpenedSearch,
)
from tui_lab.ui.sessions.toy import (
    ANIMATION_SECONDS,
    ToyAnimation,
    ToySession,
    Walked,
    toy_run,
    walk_runs,
)
from tui_lab.ui.state.comparison import X_AXES
from tui_lab.ui.state.draft import Draft, preset_argument
from tui_lab.ui.state.search_draft import SearchDraft

ScreenT = TypeVar("ScreenT", bound=Screen)
LECTURE_TOY = "toy_2d"  # the toy preset r opens in an empty toy view, and ctrl+g beside


@dataclass(frozen=True)
class Exported:
    """What the export worker did: the out dir it wrote (None if it could not), and why."""

    path: Path | None
    notice: Notice


SCREENS_BY_MODE: dict[str, type[LabView]] = {
    "lab": LabScreen,
    "compare": CompareScreen,
    "toy": ToyScreen,
    "search": SearchScreen,
    "analysis": AnalysisScreen,
}
VIEW_TITLES = {
    "lab": "Lab",
    "compare": "Compare",
    "toy": "Toy",
    "search": "Search",
    "analysis": "Analysis",
}


class LabApp(App[int]):
    CSS_PATH = "lab.tcss"
    TITLE = "tui-lab"
    DEFAULT_MODE = "lab"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (30, "-tall")]
    # the views' keys are in ui/screens/view.py; quitting works over a dialog too
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app-quit"),
    ]

    def __init__(
        self,
        cfg: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        argv: list[str] | None = None,
        toy_seconds: float = ANIMATION_SECONDS,
        search_options: dict[str, Any] | None = None,
        figures: str = "svg",
        system: SystemMonitor | None = None,
        opened: Opened | None = None,
        warm_up: bool = False,
    ) -> None:
        super().__init__()
        # run_app: compose the other views once the first is shown, and load each preset's
        # data in the background (tests leave both off: they would compete with the test)
        self.warm_up = warm_up
        self._wanted_mode = self.DEFAULT_MODE  # the view shown last, warm-up aside
        argv = argv if argv is not None else ["tui-lab", *sys.argv[1:]]
        self.model = LabModel(
            draft=Draft(cfg, overrides, preset_argument(argv)),
            search_draft=SearchDraft(cfg, overrides) if cfg.search is not None else None,
            argv=argv,
            search_options=search_options or {},
            toy_seconds=toy_seconds,
            figures=figures,
            system=system or SystemMonitor(),
        )
        for mode, screen in SCREENS_BY_MODE.items():
            self.add_mode(mode, lambda screen=screen: screen(self.model))
        self.first_mode = "search" if cfg.search is not None else "lab"
        self.opened = opened
        if opened is not None:
            self.first_mode = opened.first_mode

    async def on_mount(self) -> None:
        if self.opened is not None:
            self.show_opened(self.opened)
        if self.first_mode != self.current_mode:
            await self.switch_mode(self.first_mode)

    def on_ready(self) -> None:
        if self.warm_up:
            self.run_worker(self._compose_views(), group="warm-up", name="warm-up")
            self.prefetch_data()

    def prefetch_data(self) -> None:
        """Start loading the Lab's dataset as soon as a preset is chosen, so that a launch
        finds it in memory (data/tensors.py keeps the last one). Only what is on disk: a
        download waits for the launch, where its failure is reported."""
        cfg = self.model.draft.runs[0][1]
        wanted = self.warm_up and self.model.draft.preset.toy2d is None
        if wanted and availability(cfg.data.dataset, cfg.data.data_dir) is not None:
            self.load_data(cfg)

    @work(thread=True, exit_on_error=False, group="prefetch", name="prefetch")
    def load_data(self, cfg: RunConfig) -> None:
        with contextlib.suppress(UserError):  # reported by the launch that needs the data
            load_dataset(cfg.data, resolve_device(cfg.training.device))

    async def _compose_views(self) -> None:
        """Compose each view now, unseen, one at a time, rather than on its first key: Textual
        restyles the whole app when a view is first shown (0.2–0.6 s)."""
        for mode in SCREENS_BY_MODE:
            await asyncio.sleep(0.05)  # keys pressed meanwhile come first
            if self._screens_of(mode):
                continue
            with self.batch_update():
                await App.switch_mode(self, mode)
                self.refresh_css(animate=False)  # now that it is mounted: styled for good
                await App.switch_mode(self, self._wanted_mode)  # a key may have asked meanwhile
        # The imports and the composed views are some 400,000 objects that live as long as the
        # app: a full collection walked them all, stalling a key by 0.3 s (2 s on a busy host)
        # now and then. Frozen, collections walk only what the session makes after this.
        gc.freeze()

    def switch_mode(self, mode: str) -> AwaitComplete:
        self._wanted_mode = mode
        return super().switch_mode(mode)

    # ------------------------------------------------------------------ past results

    def show_opened(self, opened: Opened) -> None:
        """``tui-lab open``: each export in its view, read-only, followed while it grows; the
        comparisons' runs become the Lab's reference runs."""
        model = self.model
        followed = [*opened.comparisons, *opened.searches]
        writers = [writer_pid(e.path, e.meta) for e in followed if e.running]
        alive = [pid for pid in writers if pid is not None and pid_alive(pid)]
        if alive:  # the system pane shows the process training these runs (on this host)
            model.system = SystemMonitor(pid=alive[0])
        if opened.comparisons:
            comparison = OpenedComparison(self, opened.comparisons)
            model.comparison = comparison
            model.references = comparison.references()
            self.follow_exports(comparison.following)
        if opened.searches:
            search = OpenedSearch(self, opened.searches)
            model.search = search
            self.follow_exports(search.following)
        if opened.toy is not None:
            model.toy = opened.toy

    @work(thread=True, exit_on_error=False, group="follow-exports", name="follow-exports")
    def follow_exports(self, following: Following) -> None:
        following.follow()

    # ------------------------------------------------------------------ launching

    async def action_launch(self) -> None:
        model = self.model
        if model.search_draft is not None and model.search_draft.preset is model.draft.preset:
            await self.switch_mode("search")
            screen = self.screen_of("search", SearchScreen)
            if screen is not None:
                screen.action_launch()
            return
        if model.draft.preset.toy2d is not None:
            self.launch_toy()
            return
        if model.training:
            self.notify(
                "A comparison is running; stop it (S in Compare) before launching another.",
                severity="warning",
            )
            return
        if isinstance(self.screen, LabScreen) and self.screen.invalid_fields:
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        try:
            cfg = model.draft.experiment_config()
            command = model.draft.command()
            session = ComparisonSession(cfg, self, command, model.figures, model.references)
        except UserError as exc:
            self.notify(str(exc), title="Cannot launch", severity="error", timeout=10)
            return
        if model.comparison is not None and not model.comparison.trains:
            model.comparison.stop()  # opened results: no longer followed
        model.comparison = session
        self.switch_mode("compare")
        self.train(session)

    @work(thread=True, exit_on_error=False, group="training", name="training")
    def train(self, session: ComparisonSession) -> None:
        session.train()

    def launch_toy(self, preset: ExperimentConfig | None = None) -> None:
        """The toy view on a toy preset's problem (the Lab's, or ``preset``), its paths
        walked at once and replayed growing step by step."""
        model = self.model
        cfg = preset or model.draft.preset
        try:
            problem = toy_problem(cfg, model.draft.overrides if preset is None else {})
        except UserError as exc:
            self.notify(str(exc), title="Cannot launch", severity="error", timeout=10)
            return
        self.show_toy(ToySession(cfg.name, problem, cfg.expect))
        self.action_replay_toy()

    def show_toy(self, session: ToySession) -> None:
        """Make ``session`` the toy view's problem, walk its paths, and show it."""
        if self.model.toy is not None:
            self.model.toy.stop_animation()
        self.model.toy = session
        self.walk_toy(session)
        self.switch_mode("toy")

    def action_replay_toy(self) -> None:
        """``r`` in the toy view: the paths again, animated; with nothing loaded, the
        lecture's problem (never the Lab's training)."""
        session = self.model.toy
        if session is None:
            self.launch_toy(load_preset(LECTURE_TOY))
            return
        self.animate_toy(session.replay(self, self.model.toy_seconds))

    def action_try_on_toy(self) -> None:
        """The Lab's selected run on the 2-D toy: its optimizer (the lecture's rule) and
        hyperparameters beside the toy's runs, or the lecture's, selected for editing."""
        model = self.model
        cfg = model.draft.current
        name = model.draft.names[model.draft.selected]
        try:
            run = toy_run(name, cfg.optimizer.name, cfg.optimizer.hyperparameters())
            if model.toy is None:
                lecture = load_preset(LECTURE_TOY)
                model.toy = ToySession(lecture.name, toy_problem(lecture), lecture.expect)
            model.toy.try_run(run)
        except UserError as exc:
            self.notify(str(exc), title="Cannot try on the toy", severity="error", timeout=10)
            return
        self.show_toy(model.toy)
        self.notify(f"{name} ({cfg.optimizer.name}) on the toy: edit η, γ, β1, β2 on the right.")

    def on_toy_screen_edited(self, message: ToyScreen.Edited) -> None:
        self.walk_toy(message.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="toy-paths", name="toy-paths")
    def walk_toy(self, session: ToySession) -> Walked:
        """The paths an edit changed, walked off the UI thread (a later edit cancels this
        one: its own walk covers these runs too)."""
        edit, problem, indices = session.pending()
        return Walked(session, edit, walk_runs(problem, indices))

    @work(thread=True, exit_on_error=False, group="toy", name="toy2d")
    def animate_toy(self, animation: ToyAnimation) -> None:
        animation.walk_all()

    def on_arrived(self, message: Arrived) -> None:
        """A session's worker thread queued items: apply them and show what they mean."""
        owner = message.relay.owner
        if owner is None:
            return
        for notice in owner.absorb():
            self.show_notice(notice)

    def show_notice(self, notice: Notice) -> None:
        self.notify(
            notice.text, title=notice.title, severity=notice.severity, timeout=notice.timeout
        )
        screen = self.screen_of("compare", CompareScreen)
        if notice.final and screen is not None:
            screen.show_results()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        done = event.worker.result
        if event.state == WorkerState.SUCCESS and isinstance(done, Exported):
            self.model.last_export = done.path or self.model.last_export
            self.show_notice(done.notice)
        if event.state == WorkerState.SUCCESS and isinstance(done, Walked):
            kept = done.session.take(done)
            if kept and isinstance(self.screen, ToyScreen):
                self.call_later(self.screen.redraw)
        if event.state != WorkerState.ERROR:
            return
        error = f"{type(event.worker.error).__name__}: {event.worker.error}"
        model = self.model
        if event.worker.group == "training" and model.comparison is not None:
            model.comparison.crashed(error)
            self.show_notice(Notice(error, "Training crashed", "error", 15, final=True))
        elif event.worker.group == "follow-exports":
            self.show_notice(Notice(error, "Following stopped", "error", 15))
        elif event.worker.group in ("search", "follow") and model.search is not None:
            model.search.crashed(error)
            self.show_notice(Notice(error, "Search crashed", "error", 15))

    def screen_of(self, mode: str, kind: type[ScreenT]) -> ScreenT | None:
        """The base screen of ``mode``, if it was opened."""
        screens = self._screens_of(mode)
        return screens[0] if screens and isinstance(screens[0], kind) else None

    # ------------------------------------------------------------------ display options

    def action_cycle_x_axis(self) -> None:
        model = self.model
        model.x_axis = X_AXES[(X_AXES.index(model.x_axis) + 1) % len(X_AXES)]
        self._redraw()

    def action_toggle_smoothing(self) -> None:
        self.model.smooth = not self.model.smooth
        self._redraw()

    def _redraw(self) -> None:
        if isinstance(self.screen, CompareScreen):
            self.screen.redraw()

    # ------------------------------------------------------------------ presets, export

    def action_pick_preset(self) -> None:
        if not isinstance(self.screen, (LabScreen, SearchScreen)):
            self.switch_mode("lab")
        self.push_screen(
            PresetPicker(list_presets(), self.model.draft.preset.name), self._load_preset
        )

    async def _load_preset(self, name: str | None) -> None:
        if name is None:
            return
        try:
            preset = load_preset(name)
            draft = Draft(preset)
        except UserError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.model.draft = draft
        self.model.search_draft = SearchDraft(preset) if preset.search is not None else None
        self.prefetch_data()
        if (lab := self.screen_of("lab", LabScreen)) is not None:
            await lab.load_draft()
        if (search := self.screen_of("search", SearchScreen)) is not None:
            await search.reload()
        in_lab = preset.search is not None and isinstance(self.screen, LabScreen)
        hint = " It is a search: f5 opens the Search view." if in_lab else ""
        self.notify(f"Loaded preset {name!r}.{hint}")

    def _screens_of(self, mode: str) -> list[Screen]:
        try:
            return self.get_screen_stack(mode)
        except KeyError:  # the mode's screen was never opened
            return []

    def action_export(self, fmt: str = "csv") -> None:
        session = self.model.comparison
        if session is None:
            self.notify("Nothing to export yet: launch a comparison first.", severity="warning")
            return
        self.notify(f"Exporting {fmt.upper()} results and figures…", timeout=3)
        self.export_files(session, fmt)

    @work(thread=True, exit_on_error=False, group="export", name="export")
    def export_files(self, session: ShownComparison, fmt: str) -> Exported:
        """The same files as --export, figures included, drawn in this worker thread (a second
        or two of matplotlib) while the UI goes on."""
        try:
            path = session.export(fmt)
        except UserError as exc:
            return Exported(None, Notice(str(exc), "Export failed", "error", 10))
        state = "" if session.state.done else " (a snapshot: training is still running)"
        text = f"Wrote {fmt.upper()} results to {path}/{state}"
        return Exported(path, Notice(text, "Exported", timeout=10))

    # ------------------------------------------------------------------ palette, quitting

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key of every view, with the key shown, and what has no key."""
        own = {"Quit", "Keys"}  # Textual's own, listed below with their keys
        yield from (c for c in super().get_system_commands(screen) if c.title not in own)
        seen: set[tuple[str | None, str]] = set()
        common_ids = {b.id for b in COMMON_KEYS if isinstance(b, Binding)}
        for mode, view in SCREENS_BY_MODE.items():
            title = VIEW_TITLES[mode]
            for binding in view_bindings(view):
                where = None if binding.id in common_ids else mode
                if (where, binding.action) in seen:
                    continue
                seen.add((where, binding.action))
                yield SystemCommand(
                    binding.description if where is None else f"{title}: {binding.description}",
                    f"{self.get_key_display(binding)} · {binding.tooltip or binding.description}",
                    partial(self.open_view, where, binding.action),
                )
        yield SystemCommand(
            "Compare: Export JSON",
            "no key · write results.json, report.md and the figures",
            lambda: self.action_export("json"),
        )

    async def open_view(self, mode: str | None, action: str) -> None:
        """A view (None: the current one), then one of its actions (the command palette)."""
        if mode is not None:
            await self.switch_mode(mode)
        await self.screen.run_action(action)

    def action_toggle_keys(self) -> None:
        """``?``: every key of the view and the focused widget, beside it (Textual's help)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def stop_jobs(self, status: str = "stopped") -> None:
        model = self.model
        if model.comparison is not None:
            model.comparison.stop("interrupted" if status == "interrupted" else "stopped")
        if model.toy is not None:
            model.toy.stop_animation()
        if model.search is not None:
            model.search.stop(status)

    async def action_quit(self) -> None:
        self.stop_jobs("interrupted")
        self.exit(0)

    def on_unmount(self) -> None:
        self.stop_jobs("interrupted")


def run_app(
    cfg: ExperimentConfig,
    overrides: dict[str, Any],
    search_options: dict[str, Any] | None = None,
    figures: str = "svg",
    opened: Opened | None = None,
) -> int:
    """Open the lab with ``cfg`` loaded; ``search_options`` (storage, study, workers) reach the
    searches it launches, ``figures`` is what its exports draw, ``opened`` are past results
    to show (``tui-lab open``). Returns the process exit code."""
    app = LabApp(
        cfg,
        overrides,
        search_options=search_options,
        figures=figures,
        opened=opened,
        warm_up=True,
    )
    result = app.run()
    # The app's objects (widgets, histories, torch tensors) die with the process: freezing them
    # spares the interpreter's final collection, which takes most of a quit otherwise.
    gc.freeze()
    return app.return_code or (result or 0)
