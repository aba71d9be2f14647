"""Write SVG screenshots of the real app: the Lab before launch, a comparison mid-training, its
Internals tab, the same comparison over three seeds (means between 95% bands), the results
table, the 2-D toy problem and the toy edited live, a finished search and the sweep analysis
of grid against random search; and two figures an export writes (matplotlib): the
comparison's loss and the searches' optimization history.

The comparison is trained for real first (the ``adam_vs_sgd`` preset on the synthetic dataset,
fixed seeds) and its event stream recorded; the app is then fed the first half of those events
(mid-training) or all of them (results), so the pictures do not depend on when a timer fired.
The searches (``bayes_search``: TPE with median pruning; ``grid_vs_random``) are run for real
the same way and their whole event streams fed to the Search and analysis views.

    .venv/bin/python screenshots/make_screenshots.py  [OUT_DIR, default: screenshots/]
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tui_lab.config import ExperimentConfig, Toy2DConfig
from tui_lab.events import Event, StepLogged, StudyFinished
from tui_lab.presets import load_preset, preset_files
from tui_lab.results.figures import comparison_figures
from tui_lab.results.recorder import ResultsRecorder
from tui_lab.search.figures import search_figures, studies_of
from tui_lab.search.runner import Search
from tui_lab.training.comparison import Comparison
from tui_lab.ui.app import LabApp
from tui_lab.ui.replay import show_recorded, show_trials, show_walked

SIZE = (120, 40)
SMALL = (80, 24)
QUICK = {
    "data.dataset": "synthetic",
    "data.synthetic_size": 3000,
    "model.arch": "mlp",
    "model.hidden": 64,
    "training.epochs": 4,
    "training.log_every": 5,
    "training.internals_every": 5,
    "training.sharpness_every": 20,
    "training.device": "cpu",
    "training.precision": "fp32",
}
SEEDS = 3


SEARCH_QUICK = {
    "data.dataset": "synthetic",
    "data.synthetic_size": 1200,
    "model.arch": "mlp",
    "model.hidden": 32,
    "training.device": "cpu",
    "training.precision": "fp32",
    "training.log_every": 5,
    "training.threads": 1,
    "training.workers": 1,
}  # one trial at a time: TPE sees them in order


def record_search(cfg: ExperimentConfig) -> list:
    events: list = []
    search = Search(
        cfg,
        SEARCH_QUICK,
        run_dir=Path(tempfile.mkdtemp(prefix="tui-lab-shot-")),
        listeners=[events.append],
    )
    search.run()
    return events


def search_replay(cfg: ExperimentConfig, events: list):
    async def setup(app: LabApp, pilot) -> None:
        session = show_trials(app, cfg, events)
        session.status = "completed"
        await pilot.pause()
        app.screen.redraw()

    return setup


async def analysis_setup(app: LabApp, pilot) -> None:
    await pilot.pause()
    await app.switch_mode("analysis")
    await pilot.pause()
    app.screen.redraw()


def write_figures(out: Path, events: list[Event], search: ExperimentConfig, found: list) -> None:
    """The loss figure of the comparison and the history of the searches, as exports draw
    them, copied out of a scratch out dir."""
    scratch = Path(tempfile.mkdtemp(prefix="tui-lab-figures-"))
    recorder = ResultsRecorder()
    for event in events:
        recorder(event)
    names = sorted(recorder.summary, key=lambda name: recorder.order[name])
    drawn = comparison_figures(recorder.tables(), names, scratch, "svg")
    outcomes = [e.outcome for e in found if isinstance(e, StudyFinished)]
    assert search.search is not None
    s = search.search
    drawn += search_figures(studies_of(outcomes), s.objective, s.direction, s.space, scratch, "svg")
    for figure in drawn:
        stem = Path(figure.path).stem
        if stem in ("loss", "optimization_history"):
            shutil.copy(scratch / figure.path, out / f"figure_{stem}.svg")
            print(out / f"figure_{stem}.svg")


def record_comparison(cfg: ExperimentConfig, overrides: dict) -> list[Event]:
    events: list[Event] = []
    Comparison(cfg, overrides, [events.append]).run()
    return events


def first_half(events: list[Event]) -> list[Event]:
    steps = [i for i, e in enumerate(events) if isinstance(e, StepLogged)]
    return events[: steps[len(steps) // 2] + 1]


async def shoot(make_app: Callable[[], LabApp], name: str, out: Path, setup) -> None:
    """``name.svg`` at 120×40 and ``name_80x24.svg`` at 80×24, each from a fresh app."""
    for size, file in ((SIZE, f"{name}.svg"), (SMALL, f"{name}_80x24.svg")):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await setup(app, pilot)
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()  # a tab's underline slides into place
            app.save_screenshot(file, str(out))
        print(out / file)


def replay(events: list[Event], table: str):
    async def setup(app: LabApp, pilot) -> None:
        show_recorded(app, events)
        await pilot.pause()
        app.screen.query_one("#tables").active = table
        await pilot.pause()
        app.screen.redraw()

    return setup


async def toy_setup(app: LabApp, pilot) -> None:
    show_walked(app, app.model.draft.preset)
    await pilot.pause()
    await app.screen.redraw()


async def live_toy_setup(app: LabApp, pilot) -> None:
    """Momentum's η raised past its bound along x2: the path diverges and says why."""
    session = show_walked(app, app.model.draft.preset)
    session.selected = 1
    session.set_hyperparameter(1, "lr", 0.9)
    app.walk_toy(session)
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.screen.redraw()


async def optimizer_tab(app: LabApp, pilot) -> None:
    app.screen.query_one("#panels").active = "tab-optimizer"


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    preset = load_preset("adam_vs_sgd")
    events = record_comparison(preset, QUICK)
    await shoot(lambda: LabApp(preset, {}), "lab", out, optimizer_tab)
    await shoot(
        lambda: LabApp(preset, QUICK),
        "compare_mid_training",
        out,
        replay(first_half(events), "tab-runs"),
    )
    await shoot(lambda: LabApp(preset, QUICK), "internals", out, replay(events, "tab-internals"))
    await shoot(lambda: LabApp(preset, QUICK), "results", out, replay(events, "tab-results"))
    seeded = {**QUICK, "training.seeds": SEEDS}
    seeded_events = record_comparison(preset, seeded)
    await shoot(
        lambda: LabApp(preset, seeded), "compare_seeds", out, replay(seeded_events, "tab-results")
    )
    toy = (
        load_preset("toy_2d")
        if "toy_2d" in preset_files()
        else ExperimentConfig(name="toy_2d", toy2d=Toy2DConfig(function="lecture"))
    )
    await shoot(lambda: LabApp(toy, {}), "toy_2d", out, toy_setup)
    await shoot(lambda: LabApp(toy, {}), "toy_live", out, live_toy_setup)
    bayes = load_preset("bayes_search")
    search_events = record_search(bayes)
    await shoot(
        lambda: LabApp(bayes, SEARCH_QUICK), "search", out, search_replay(bayes, search_events)
    )
    versus = load_preset("grid_vs_random")
    versus_events = record_search(versus)

    async def sweep(app: LabApp, pilot) -> None:
        await search_replay(versus, versus_events)(app, pilot)
        await analysis_setup(app, pilot)

    await shoot(lambda: LabApp(versus, SEARCH_QUICK), "sweep_analysis", out, sweep)
    write_figures(out, events, versus, versus_events)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))
