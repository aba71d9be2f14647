"""What the lab's views share, typed: the drafts under edit, the launched sessions and the
display options. The app owns one ``LabModel`` and hands it to every screen it creates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_lab.system import SystemMonitor
from tui_lab.ui.sessions.comparison import ShownComparison
from tui_lab.ui.sessions.search import SearchSession
from tui_lab.ui.sessions.toy import ANIMATION_SECONDS, ToySession
from tui_lab.ui.state.comparison import RunHistory, XAxis
from tui_lab.ui.state.draft import Draft
from tui_lab.ui.state.search_draft import SearchDraft


@dataclass
class LabModel:
    draft: Draft
    search_draft: SearchDraft | None
    argv: list[str]
    search_options: dict[str, Any] = field(default_factory=dict)  # --storage, --study, --workers
    toy_seconds: float = ANIMATION_SECONDS
    comparison: ShownComparison | None = None  # launched here, or opened (tui-lab open)
    search: SearchSession | None = None
    toy: ToySession | None = None  # the toy view's problem, edited live
    x_axis: XAxis = "step"
    smooth: bool = False
    every_seed: bool = False  # over seeds, the charts draw every seed, not the mean ± band
    last_export: Path | None = None
    figures: str = "svg"  # what the export key draws (--figures)
    system: SystemMonitor = field(default_factory=SystemMonitor)  # the Compare view's system pane
    references: list[RunHistory] = field(default_factory=list)  # past runs beside the next launch

    @property
    def training(self) -> bool:
        shown = self.comparison
        return shown is not None and shown.trains and not shown.state.done
