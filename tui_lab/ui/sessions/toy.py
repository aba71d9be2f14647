"""The 2-D toy animation: every optimizer's path computed step by step in a thread worker
that paces itself so the paths grow for a few seconds; points reach the UI through the relay
(ui/bridge.py), exactly like training events, and the toy view redraws on its clock."""

from __future__ import annotations

import math
import threading
import time

from textual.message_pump import MessagePump

from tui_lab.toy2d.problem import Point, Toy2DProblem, Trajectory, summarize, walk
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
        self.trajectories: list[Trajectory] | None = None
        self.stopped = threading.Event()
        self.version = 0

    def walk_all(self) -> None:
        """All runs advance together, a slice per frame, so the paths grow side by side."""
        problem = self.problem
        walkers = [walk(problem, run) for run in problem.runs]
        points: list[list[Point]] = [[] for _ in walkers]
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
                    points[i].append(point)
                    self.relay((i, point))
            time.sleep(self.seconds / frames)
        if not self.stopped.is_set():
            runs = zip(problem.runs, points, strict=True)
            self.relay([summarize(problem, run, pts) for run, pts in runs])

    def absorb(self) -> list[Notice]:
        for item in self.relay.drain():
            if isinstance(item, list):
                self.trajectories = item
            else:
                i, point = item
                self.paths[i].append(point)
            self.version += 1
        return []
