"""The functions a search preset's ``[[expect]]`` checks may call (results/checks.py)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from tui_lab.events import SearchOutcome
from tui_lab.search.files import outcome_summary


def search_functions(outcomes: list[SearchOutcome]) -> dict[str, Callable[..., Any]]:
    """``study('grid').best_val_acc``, ``importance('random', 'optimizer.lr')``,
    ``top_param('grid')``:
    ``study('grid').best_val_acc``, ``importance('random', 'optimizer.lr')``,
    ``top_param('grid')``."""
    by_method = {o.plan.method: o for o in outcomes}

    def _get(method: str) -> SearchOutcome:
        if method not in by_method:
            raise KeyError(f"no study searched by {method!r} (have: {', '.join(by_method)})")
        return by_method[method]

    def study(method: str) -> SimpleNamespace:
        s = outcome_summary(_get(method))
        best = s.pop("best") or {}
        s.pop("importance")
        s.update(s.pop("counts"))
        s.update({f"best_{k}": best.get(k) for k in ("trial", "value", "val_acc", "val_loss")})
        s.update({k: best.get(k) for k in ("test_acc", "test_loss")})
        return SimpleNamespace(**s)

    def importance(method: str, key: str) -> float | None:
        values = _get(method).importance
        return None if values is None else values.get(key, 0.0)

    def top_param(method: str) -> str | None:
        values = _get(method).importance
        return max(values, key=values.get) if values else None

    return {"study": study, "importance": importance, "top_param": top_param}
