"""The toy view's problem, edited live, and its animated walk.

``ToySession`` (UI thread) holds a toy problem with the user's edits — each run's η, γ, β1,
β2…, runs tried from the Lab, the start point — validated by the config like a preset's
``toy2d`` table. Every edit marks the runs it changed; a thread worker walks them at once
(``walk_runs``: ~1 ms a run on the lecture's 20 steps, ~30 ms for 1000 Rosenbrock steps) and
``take`` keeps the paths only if no later edit came meanwhile. The preset's expectations are
checked on the paths as they stand.

``ToyAnimation`` replays the paths growing step by step (``r``) in a worker thread that paces
itself; points reach the UI through the relay (ui/bridge.py), like training events.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from textual.message_pump import MessagePump

from tui_lab.config import Expectation, Toy2DRun, describe_validation
from tui_lab.errors import ConfigError
from tui_lab.results.checks import ExpectationResult, check_all
from tui_lab.toy2d.checks import check_functions
from tui_lab.toy2d.problem import Point, Toy2DProblem, Trajectory, summarize, walk
from tui_lab.toy2d.stability import divergence_note
from tui_lab.ui.bridge import Notice, Relay

ANIMATION_SECONDS = 6.0
FRAMES_PER_SECOND = 8


class ToyAnimation:
    """Walks every run of a toy problem step by step (worker thread); the UI drains the points."""

    def __init__(
        self, problem: Toy2DProblem, target: MessagePump, seconds: float = ANIMATION_SECONDS
    ) -> None:
        self.problem = problem
        self.seconds = seconds
        self.relay = Relay(target)
        self.relay.owner = self
        self.paths: list[list[Point]] = [[] for _ in problem.runs]  # UI thread
        self.done = False
        self.stopped = threading.Event()
        self.version = 0

    def walk_all(self) -> None:
        """All runs advance together, a slice per frame, so the paths grow side by side."""
        problem = self.problem
        walkers = [walk(problem, run) for run in problem.runs]
        frames = max(1, round(self.seconds * FRAMES_PER_SECOND))
        per_frame = max(1, math.ceil((problem.steps + 1) / frames))
        alive = set(range(len(walkers)))
        while alive and not self.stopped.is_set():
            for i in sorted(alive):
                for _ in range(per_frame):
                    point = next(walkers[i], None)
                    if point is None:
                        alive.discard(i)
                        break
                    self.relay((i, point))
            time.sleep(self.seconds / frames)
        self.relay(None)  # the end

    def absorb(self) -> list[Notice]:
        for item in self.relay.drain():
            if item is None:
                self.done = True
            else:
                i, point = item
                self.paths[i].append(point)
            self.version += 1
        return []


@dataclass(frozen=True)
class Walked:
    """Paths a worker walked for one state of a session (``edit``): run index → trajectory."""

    session: ToySession
    edit: int
    trajectories: dict[int, Trajectory]


def toy_run(name: str, optimizer: str, hyperparameters: dict[str, float]) -> Toy2DRun:
    """A run of the Lab (its optimizer and hyperparameters) as a toy run; ConfigError if the
    toy cannot take it."""
    try:
        return Toy2DRun.model_validate({"name": name, "optimizer": optimizer, **hyperparameters})
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc, f"run {name!r} on the toy")) from None


def walk_runs(problem: Toy2DProblem, indices: list[int]) -> dict[int, Trajectory]:
    """The whole path of each run ``indices`` names (any thread)."""
    return {
        i: summarize(problem, problem.runs[i], list(walk(problem, problem.runs[i])))
        for i in indices
    }


class ToySession:
    """A toy problem edited live in the toy view (UI thread)."""

    def __init__(
        self,
        title: str,
        problem: Toy2DProblem,
        expect: list[Expectation],
        trajectories: list[Trajectory] | None = None,
    ) -> None:
        self.title = title
        self.problem = problem
        self.expect = expect
        walked = {t.run: t for t in trajectories or []}
        self.trajectories: list[Trajectory | None] = [walked.get(r.label) for r in problem.runs]
        self.stale = {i for i, t in enumerate(self.trajectories) if t is None}
        self.edit = 0  # bumped by every edit: paths walked for an older state are dropped
        self.version = 0  # bumped whenever what the view shows changed
        self.selected = 0
        self.animation: ToyAnimation | None = None

    # ------------------------------------------------------------------ edits

    def set_hyperparameter(self, index: int, key: str, value: float | None) -> None:
        """``key`` (lr, momentum, beta1, …) of run ``index``; None: its default. A value the
        config refuses raises ConfigError and changes nothing."""
        runs = [run.model_dump(exclude_none=True) for run in self.problem.runs]
        if value is None:
            runs[index].pop(key, None)
        else:
            runs[index][key] = value
        self._apply({"toy2d.runs": runs}, {index})

    def set_start(self, x1: float, x2: float) -> None:
        self._apply({"toy2d.start": [x1, x2]}, set(range(len(self.problem.runs))))

    def try_run(self, run: Toy2DRun) -> None:
        """Walk ``run`` beside the others (in place of a run of the same name), selected."""
        labels = [r.label for r in self.problem.runs]
        runs = [r.model_dump(exclude_none=True) for r in self.problem.runs]
        index = labels.index(run.label) if run.label in labels else len(runs)
        runs[index : index + 1] = [run.model_dump(exclude_none=True)]
        self._apply({"toy2d.runs": runs}, {index})
        self.selected = index

    def _apply(self, overrides: dict[str, Any], changed: set[int]) -> None:
        toy = self.problem.config().with_overrides(overrides, where="the toy view")
        self.problem = Toy2DProblem.from_config(toy)
        self.trajectories += [None] * (len(self.problem.runs) - len(self.trajectories))
        for i in changed:
            self.trajectories[i] = None
        self.stale |= changed
        self.edit += 1
        self.stop_animation()
        self.version += 1

    # ------------------------------------------------------------------ paths

    def pending(self) -> tuple[int, Toy2DProblem, list[int]]:
        """What a worker should walk now: (edit, problem, stale run indices)."""
        return self.edit, self.problem, sorted(self.stale)

    def take(self, walked: Walked) -> bool:
        """Keep paths walked for the current state; returns whether they were kept."""
        if walked.edit != self.edit:
            return False
        for i, trajectory in walked.trajectories.items():
            self.trajectories[i] = trajectory
        self.stale -= set(walked.trajectories)
        self.version += 1
        return True

    def replay(self, target: MessagePump, seconds: float) -> ToyAnimation:
        """The paths again, growing step by step (the caller walks it in a worker)."""
        self.stop_animation()
        self.animation = ToyAnimation(self.problem, target, seconds)
        return self.animation

    def stop_animation(self) -> None:
        if self.animation is not None:
            self.animation.stopped.set()
            self.animation = None

    @property
    def animating(self) -> bool:
        return self.animation is not None and not self.animation.done

    @property
    def shown_version(self) -> tuple[int, int]:
        return self.version, self.animation.version if self.animation is not None else 0

    def paths(self) -> list[list[Point]]:
        """What the plot draws: the animation's points while it runs, else the paths."""
        if self.animation is not None and self.animating:
            return self.animation.paths
        return [list(t.points) if t is not None else [] for t in self.trajectories]

    @property
    def walked(self) -> list[Trajectory]:
        return [t for t in self.trajectories if t is not None]

    def expectations(self) -> list[ExpectationResult] | None:
        """The preset's expectations on the paths as they stand (None while some are being
        walked)."""
        if self.stale or not self.expect:
            return None
        return check_all(self.expect, check_functions(self.walked))

    def note(self, index: int) -> str | None:
        """Why run ``index`` diverged, where its rule's bound says so."""
        trajectory = self.trajectories[index]
        if trajectory is None:
            return None
        return divergence_note(self.problem, self.problem.runs[index], trajectory)
