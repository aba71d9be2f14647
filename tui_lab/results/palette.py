"""The colour of each run, in run order: the lab's charts and the exported figures read this one
table, so a run has the same colour on screen and in a report."""

from __future__ import annotations

RUN_COLORS: tuple[tuple[int, int, int], ...] = (
    (66, 165, 245),
    (255, 167, 38),
    (102, 187, 106),
    (239, 83, 80),
    (171, 71, 188),
    (38, 198, 218),
    (255, 238, 88),
    (141, 110, 99),
)


def run_color(index: int) -> tuple[int, int, int]:
    """(r, g, b) of the run at ``index`` (the table repeats after eight runs)."""
    return RUN_COLORS[index % len(RUN_COLORS)]


def run_hex(index: int) -> str:
    """The same colour as ``#rrggbb`` (matplotlib, SVG)."""
    return "#{:02x}{:02x}{:02x}".format(*run_color(index))
