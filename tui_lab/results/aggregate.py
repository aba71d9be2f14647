"""A comparison over seeds, summarized: each configuration's mean and 95% interval
(aggregate.csv), and each configuration against the best one in words with the Welch interval
of the difference (report.md), so that a 0.5-point gap is told from noise."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tui_lab.config import configuration_of
from tui_lab.results.stats import Interval, mean_interval, welch_interval

MEASURED = ("test_acc", "best_val_acc")  # the metrics aggregate.csv gives intervals of


def by_configuration(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Summary rows (run ids ``adam@3``) grouped by configuration, in order of appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(configuration_of(row["run"]), []).append(row)
    return groups


def finite(numbers: Iterable[Any]) -> list[float]:
    """The finite numbers among ``numbers`` (a diverged seed has none: None, inf or nan)."""
    return [v for v in numbers if isinstance(v, (int, float)) and math.isfinite(v)]


def values(rows: list[dict[str, Any]], metric: str) -> list[float]:
    """The finite values of ``metric`` over a configuration's seeds."""
    return finite(r.get(metric) for r in rows)


def interval_of(numbers: Iterable[Any]) -> Interval | None:
    """The mean and 95% interval of the finite numbers, None without any."""
    found = finite(numbers)
    return mean_interval(found) if found else None


def aggregate_rows(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """aggregate.csv: one row per configuration."""
    out = []
    for name, rows in by_configuration(summary).items():
        row: dict[str, Any] = {"run": name, "seeds": len(rows)}
        for metric in MEASURED:
            found = values(rows, metric)
            interval = interval_of(found)
            row[f"{metric}_mean"] = interval.estimate if interval else None
            row[f"{metric}_ci95"] = interval.half_width if interval and len(found) > 1 else None
        seconds = values(rows, "seconds")
        row["seconds_mean"] = sum(seconds) / len(seconds) if seconds else None
        out.append(row)
    return out


def difference_lines(summary: list[dict[str, Any]], metric: str = "test_acc") -> list[str]:
    """Each configuration against the one with the best mean ``metric``, e.g. "adam − sgd:
    +1.2 points test accuracy, 95% CI [+0.6, +1.8] over 5 and 5 seeds (Welch)"; none unless
    some configuration has two seeds or more."""
    groups = {n: values(rows, metric) for n, rows in by_configuration(summary).items()}
    groups = {n: v for n, v in groups.items() if v}
    if len(groups) < 2 or all(len(v) < 2 for v in groups.values()):
        return []
    best = max(groups, key=lambda n: sum(groups[n]) / len(groups[n]))
    label = metric.replace("_", " ").replace("acc", "accuracy")
    lines = []
    for name, other in groups.items():
        if name == best:
            continue
        d = welch_interval(groups[best], other)
        verdict = "a difference beyond noise" if d.low > 0 else "not told apart from noise"
        lines.append(
            f"{best} − {name}: {100 * d.estimate:+.2f} points {label}, 95% CI "
            f"[{100 * d.low:+.2f}, {100 * d.high:+.2f}] over {len(groups[best])} and "
            f"{len(other)} seeds (Welch): {verdict}"
        )
    return lines
