"""The Textual lab: choose options (Lab view), launch, and watch runs live (Compare view);
search hyperparameters (Search view, which a search preset opens on).

Training runs in one thread worker (``Experiment.run`` advances all runs of a comparison in
lockstep); its events reach the UI as coalescing messages (see session.py). Quitting stops the
experiment first, so the worker thread ends after its current step and the app exits at once.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui_lab.config import ExperimentConfig
from tui_lab.errors import UserError
from tui_lab.events import ExperimentFinished, RunFinished
from tui_lab.presets import list_presets, load_preset
from tui_lab.toy2d import Toy2DProblem
from tui_lab.ui.compare_screen import CompareScreen
from tui_lab.ui.draft import Draft
from tui_lab.ui.history import X_AXES, XAxis
from tui_lab.ui.lab_screen import LabScreen
from tui_lab.ui.preset_picker import PresetPicker
from tui_lab.ui.search_draft import SearchDraft
from tui_lab.ui.search_screen import SearchScreen
from tui_lab.ui.search_session import SearchSession
from tui_lab.ui.session import Comparison, ComparisonFailed, EventsArrived
from tui_lab.ui.toy_screen import ToyAnimation, ToyPointsArrived, ToyScreen


class LabApp(App[int]):
    CSS_PATH = "lab.tcss"
    TITLE = "tui-lab"
    MODES: ClassVar[dict[str, type[Screen]]] = {"lab": LabScreen, "compare": CompareScreen, "toy": ToyScreen,
                                                "search": SearchScreen}  # fmt: skip
    DEFAULT_MODE = "lab"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (30, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "switch_mode('lab')", "Lab", id="mode-lab"),
        Binding("f3", "switch_mode('compare')", "Compare", id="mode-compare"),
        Binding("f4", "switch_mode('toy')", "2-D toy", id="mode-toy"),
        Binding("f5", "switch_mode('search')", "Search", id="mode-search"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    def __init__(self, cfg: ExperimentConfig, overrides: dict[str, Any] | None = None,
                 argv: list[str] | None = None, toy_seconds: float = 6.0,
                 search_options: dict[str, Any] | None = None) -> None:  # fmt: skip
        if cfg.search is not None:
            self.DEFAULT_MODE = "search"  # type: ignore[misc]  # read by App.__init__
        super().__init__()
        self.draft = Draft(cfg, overrides)
        self.search_draft = SearchDraft(cfg, overrides) if cfg.search is not None else None
        self.search_session: SearchSession | None = None
        self.search_options = search_options or {}  # --storage, --study, --workers
        self.argv = argv if argv is not None else ["tui-lab", *sys.argv[1:]]
        self.comparison: Comparison | None = None
        self.toy: ToyAnimation | None = None
        self.toy_seconds = toy_seconds
        self.x_axis: XAxis = "step"
        self.smooth = False
        self.last_export: Path | None = None

    # ------------------------------------------------------------------ launching

    @property
    def training(self) -> bool:
        return self.comparison is not None and not self.comparison.state.done

    async def action_launch(self) -> None:
        if self.search_draft is not None and self.search_draft.preset is self.draft.preset:
            await self.switch_mode("search")
            self._search_screen().action_launch()
            return
        if self.draft.preset.toy2d is not None:
            self.launch_toy()
            return
        if self.training:
            self.notify("A comparison is running; stop it (S in Compare) before launching another.",
                        severity="warning")  # fmt: skip
            return
        if isinstance(self.screen, LabScreen) and self.screen.invalid_fields:
            self.notify("Fix the fields marked in red first.", severity="error")
            return
        try:
            comparison = Comparison(self.draft.experiment_config(), self, self.argv)
        except UserError as exc:
            self.notify(str(exc), title="Cannot launch", severity="error", timeout=10)
            return
        self.comparison = comparison
        self.switch_mode("compare")
        self.train(comparison)

    @work(thread=True, exit_on_error=False, group="training", name="training")
    def train(self, comparison: Comparison) -> None:
        try:
            comparison.experiment.run()
        except UserError as exc:
            self.post_message(ComparisonFailed(comparison, str(exc)))

    def launch_toy(self) -> None:
        """Animate the toy preset's optimizers on f (a replay restarts the walk)."""
        toy = self.draft.preset.toy2d
        assert toy is not None
        if self.toy is not None:
            self.toy.stopped.set()
        try:
            problem = Toy2DProblem.from_config(toy.with_overrides(self.draft.overrides))
        except UserError as exc:
            self.notify(str(exc), title="Cannot launch", severity="error", timeout=10)
            return
        self.toy = ToyAnimation(problem, self, self.toy_seconds)
        self.switch_mode("toy")
        self.animate_toy(self.toy)

    @work(thread=True, exit_on_error=False, group="toy", name="toy2d")
    def animate_toy(self, animation: ToyAnimation) -> None:
        animation.walk_all()

    def on_toy_points_arrived(self, message: ToyPointsArrived) -> None:
        message.animation.absorb()

    def on_events_arrived(self, message: EventsArrived) -> None:
        comparison = message.comparison
        for event in comparison.absorb():
            if isinstance(event, RunFinished) and event.status in ("failed", "diverged"):
                why = event.error or (f"the loss blew up (NaN/inf or above training.diverge_loss) "
                                      f"at step {event.diverged_at}")
                self.notify(f"{event.run} {event.status}: {why}", severity="error", timeout=10)
            elif isinstance(event, ExperimentFinished):
                self.notify(f"{comparison.cfg.name}: {event.status}. Press e to export the results.")
                self._compare_screen().show_results()

    def on_comparison_failed(self, message: ComparisonFailed) -> None:
        message.comparison.absorb()
        message.comparison.state.fail_unfinished(message.error)
        self.notify(message.error, title="Cannot start training", severity="error", timeout=15)
        self._compare_screen().show_results()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "training" and self.comparison is not None:
            error = f"{type(event.worker.error).__name__}: {event.worker.error}"
            self.comparison.state.fail_unfinished(error)
            self.notify(error, title="Training crashed", severity="error", timeout=15)
            self._compare_screen().show_results()

    def _compare_screen(self) -> CompareScreen:
        return self.get_screen_stack("compare")[0]  # type: ignore[return-value]

    def _search_screen(self) -> SearchScreen:
        return self.get_screen_stack("search")[0]  # type: ignore[return-value]

    async def open_search(self, action: str | None = None) -> None:
        """The Search view, then one of its actions (for the command palette)."""
        await self.switch_mode("search")
        if action is not None:
            await self.screen.run_action(action)

    # ------------------------------------------------------------------ display options

    def action_cycle_x_axis(self) -> None:
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self._redraw()

    def action_toggle_smoothing(self) -> None:
        self.smooth = not self.smooth
        self._redraw()

    def _redraw(self) -> None:
        if isinstance(self.screen, CompareScreen):
            self.screen.redraw()

    # ------------------------------------------------------------------ presets, export

    def action_pick_preset(self) -> None:
        if not isinstance(self.screen, (LabScreen, SearchScreen)):
            self.switch_mode("lab")
        self.push_screen(PresetPicker(list_presets(), self.draft.preset.name), self._load_preset)

    async def _load_preset(self, name: str | None) -> None:
        if name is None:
            return
        try:
            preset = load_preset(name)
            self.draft = Draft(preset)
        except UserError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.search_draft = SearchDraft(preset) if preset.search is not None else None
        for mode, reload in (("lab", LabScreen.load_draft), ("search", SearchScreen.reload)):
            for screen in self._screens_of(mode)[:1]:
                await reload(screen)  # type: ignore[arg-type]
        in_lab = preset.search is not None and isinstance(self.screen, LabScreen)
        self.notify(f"Loaded preset {name!r}." + (" It is a search: f5 opens the Search view." if in_lab else ""))

    def _screens_of(self, mode: str) -> list[Screen]:
        try:
            return self.get_screen_stack(mode)
        except KeyError:  # the mode's screen was never opened
            return []

    def action_export(self, fmt: str = "csv") -> None:
        if self.comparison is None:
            self.notify("Nothing to export yet: launch a comparison first.", severity="warning")
            return
        try:
            self.last_export = self.comparison.export(fmt)
        except UserError as exc:
            self.notify(str(exc), title="Export failed", severity="error", timeout=10)
            return
        state = "" if self.comparison.state.done else " (a snapshot: training is still running)"
        self.notify(f"Wrote {fmt.upper()} results to {self.last_export}/{state}", title="Exported",
                    timeout=10)  # fmt: skip

    # ------------------------------------------------------------------ palette, quitting

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Launch", "Train the runs of the Lab's comparison", self.action_launch)
        yield SystemCommand("Load preset", "Pick a preset (lecture exercise)", self.action_pick_preset)
        yield SystemCommand("Lab view", "Choose options and runs", lambda: self.switch_mode("lab"))
        yield SystemCommand("Compare view", "Live charts and tables", lambda: self.switch_mode("compare"))
        yield SystemCommand("Export CSV", "Write metrics/steps/summary CSV files", self.action_export)
        yield SystemCommand("Export JSON", "Write results.json", lambda: self.action_export("json"))
        yield SystemCommand("Cycle x axis", "step → epoch → seconds", self.action_cycle_x_axis)
        yield SystemCommand("Toggle smoothing", "EMA-smooth the training loss", self.action_toggle_smoothing)
        yield SystemCommand("Stop all runs", "Stop every run after its current step", self.stop_training)
        yield SystemCommand("Search view", "Search space, budget, trials, importance", self.open_search)
        yield SystemCommand("Launch search", "Run the Search view's search",
                            lambda: self.open_search("launch"))  # fmt: skip
        yield SystemCommand("Stop search", "Stop the search; its running trial is re-queued",
                            lambda: self.open_search("stop"))  # fmt: skip
        yield SystemCommand("Follow a study", "Attach to a study by storage URL (read-only)",
                            lambda: self.open_search("attach"))  # fmt: skip
        yield SystemCommand("Sort trials", "Trials table: by number or by value", lambda: self.open_search("sort"))

    def stop_training(self, status: str = "stopped") -> None:
        if self.comparison is not None:
            self.comparison.experiment.stop(status)
        if self.toy is not None:
            self.toy.stopped.set()
        if self.search_session is not None:
            self.search_session.stop(status)

    async def action_quit(self) -> None:
        self.stop_training("interrupted")
        self.exit(0)

    def on_unmount(self) -> None:
        self.stop_training("interrupted")


def run_app(cfg: ExperimentConfig, overrides: dict[str, Any],
            search_options: dict[str, Any] | None = None) -> int:  # fmt: skip
    """Open the lab with ``cfg`` loaded; ``search_options`` (storage, study, workers) reach the
    searches it launches. Returns the process exit code."""
    app = LabApp(cfg, overrides, search_options=search_options)
    result = app.run()
    # The app's objects (widgets, histories, torch tensors) die with the process: freezing them
    # spares the interpreter's final collection, which measured 2.2 s of a 2.5 s quit.
    gc.freeze()
    return app.return_code or (result or 0)
