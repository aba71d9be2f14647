"""Showing finished results in the views without training: recorded events replayed into the
histories of a comparison or a search, or a toy problem walked at once. Pictures made this way
do not depend on timers (screenshots/, snapshot tests)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tui_lab.config import ExperimentConfig
from tui_lab.events import Event, ExperimentFinished
from tui_lab.search.plan import plan_search
from tui_lab.toy2d.problem import Toy2DProblem, run_toy2d
from tui_lab.training.job import ComparisonOutcome
from tui_lab.ui.app import LabApp
from tui_lab.ui.bridge import Session
from tui_lab.ui.sessions.comparison import ComparisonSession
from tui_lab.ui.sessions.search import SearchSession
from tui_lab.ui.sessions.toy import ToySession


def feed(session: Session, relay: Any, items: Iterable[Any]) -> None:
    """Items as if the session's worker thread had sent them, applied at once."""
    for item in items:
        relay(item)
    session.absorb()


def show_recorded(app: LabApp, events: Iterable[Event]) -> ComparisonSession:
    """Open the Compare view on ``events`` of the Lab's comparison, as if they had just streamed
    in: the job records them, and concludes (expectations) when the comparison has finished."""
    session = ComparisonSession(app.model.draft.experiment_config(), app, ["tui-lab"])
    job = session.job
    for event in events:
        job.recorder(event)
        session.relay(event)
        if isinstance(event, ExperimentFinished):
            expectations = tuple(job.conclude(event.status))
            session.relay(ComparisonOutcome(event.status, event.results, expectations))
    session.absorb()
    app.model.comparison = session
    app.switch_mode("compare")
    return session


def show_trials(app: LabApp, cfg: ExperimentConfig, events: Iterable[Any]) -> SearchSession:
    """Open the Search view on a search's recorded trial and run events."""
    assert cfg.search is not None
    plans = plan_search(cfg)
    s = cfg.search
    labels = {p.study: p.method for p in plans}
    session = SearchSession(
        app, cfg.name, labels, s.direction, s.objective, s.space, sum(p.n_trials for p in plans)
    )
    session.plans = plans
    feed(session, session.relay, events)
    app.model.search = session
    app.switch_mode("search")
    return session


def show_walked(app: LabApp, cfg: ExperimentConfig) -> ToySession:
    """Walk every path of the toy preset ``cfg`` at once and open the toy view on them."""
    assert cfg.toy2d is not None
    problem = Toy2DProblem.from_config(cfg.toy2d)
    session = ToySession(cfg.name, problem, cfg.expect, run_toy2d(problem))
    app.model.toy = session
    app.switch_mode("toy")
    return session
