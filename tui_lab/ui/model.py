"""What the lab's views share, typed: the drafts under edit, the launched sessions and the
display options. The app owns one ``LabModel`` and hands it to every screen it creates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_lab.system import SystemMonitor
from tui_lab.ui.sessions.comparison import ComparisonSession
from tui_lab.ui.sessions.search import SearchSession
from tui_lab.ui.sessions.toy import ANIMATION_SECONDS, ToyAnimation
from tui_lab.ui.state.comparison import XAxis
from tui_lab.ui.state.draft import Draft
from tui_lab.ui.state.search_draft import SearchDraft


@dataclass
class LabModel:
    draft: Draft
    search_draft: SearchDraft | None
    argv: list[str]
    search_options: dict[str, Any] = field(default_factory=dict)  # --storage, --study, --workers
    toy_seconds: float = ANIMATION_SECONDS
    comparison: ComparisonSession | None = None
    search: SearchSession | None = None
    toy: ToyAnimation | None = None
    x_axis: XAxis = "step"
    smooth: bool = False
    last_export: Path | None = None
    figures: str = "svg"  # what the export key draws (--figures)
    system: SystemMonitor = field(default_factory=SystemMonitor)  # the Compare view's system pane

    @property
    def training(self) -> bool:
        return self.comparison is not None and not self.comparison.state.done
