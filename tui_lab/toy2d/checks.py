"""The functions a toy preset's ``[[expect]]`` checks may call (results/checks.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tui_lab.toy2d.problem import Trajectory


def check_functions(trajectories: list[Trajectory]) -> dict[str, Callable[[str], Any]]:
    """steps(run) (inf if it never converged), zigzag(run) (x2 reversals), path(run) (path
    length), final_f(run) and status(run)."""
    by_run = {t.run: t for t in trajectories}

    def get(name: str) -> Trajectory:
        if name not in by_run:
            raise KeyError(f"no run named {name!r}")
        return by_run[name]

    return {
        "steps": lambda n: (
            math.inf if get(n).steps_to_converge is None else get(n).steps_to_converge
        ),
        "zigzag": lambda n: get(n).x2_reversals,
        "path": lambda n: get(n).path_length,
        "final_f": lambda n: get(n).final_f,
        "status": lambda n: get(n).status,
    }
