"""Values measured over seeds, and the three-way verdict of comparing them.

A check such as ``run('adam').test_acc >= 0.85`` or ``run('adam').test_acc >
run('sgd').test_acc`` reads a metric of a configuration trained with N seeds. Its verdict is
*met* when the whole 95% interval is on the right side, *not met* when it is wholly on the
wrong side and *undecided* otherwise: against a number, the t-interval of the mean; against
another configuration, the Welch interval of the difference (results/stats.py). With one seed
the interval is the value itself, so a single run decides as a plain comparison would.

Epochs or seconds "to reach X" are ∞ for a seed that never reached X. Two sides that both
hold an ∞ cannot be told apart (undecided, never "∞ ≤ ∞ met"); one side that never reached X
is worse than one that always did.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tui_lab.results.stats import Interval, mean_interval, welch_interval

State = Literal["met", "not met", "undecided"]
SYMBOLS = {
    operator.lt: "<",
    operator.le: "≤",
    operator.gt: ">",
    operator.ge: "≥",
    operator.eq: "=",
    operator.ne: "≠",
}


@dataclass(frozen=True)
class Measured:
    """One metric of one configuration, a value per seed (``label`` says which)."""

    label: str
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    @property
    def reached_all(self) -> bool:
        return all(math.isfinite(v) for v in self.values)

    def interval(self) -> Interval:
        return mean_interval(self.values)

    def text(self) -> str:
        """``run('adam').test_acc 0.861 [0.852, 0.870] over 5 seeds``."""
        n = len(self.values)
        if not self.reached_all:
            never = sum(not math.isfinite(v) for v in self.values)
            return f"{self.label} never reached in {never} of {n} seed(s)"
        if n == 1:
            return f"{self.label} {self.values[0]:.4g} (1 seed)"
        i = self.interval()
        return f"{self.label} {i.estimate:.4g} [{i.low:.4g}, {i.high:.4g}] over {n} seeds"

    def map(self, fn: Callable[[float], float], label: str) -> Measured:
        return Measured(label, tuple(fn(v) for v in self.values))


@dataclass(frozen=True)
class Verdict:
    """A three-way answer and the numbers it was read from."""

    state: State
    detail: str

    def __bool__(self) -> bool:
        raise TypeError("a Verdict is three-way; combine it with all_of / any_of / negate")


def as_number_text(value: Any) -> str:
    return value.text() if isinstance(value, Measured) else f"{value:.4g}"


def compare(a: Any, op: Callable[[Any, Any], bool], b: Any) -> Verdict:
    """``a op b`` with at least one side Measured."""
    detail = f"{as_number_text(a)} {SYMBOLS[op]} {as_number_text(b)}"
    if (
        isinstance(a, Measured)
        and isinstance(b, Measured)
        and a.reached_all
        and b.reached_all
        and max(len(a.values), len(b.values)) > 1
    ):
        d = welch_interval(a.values, b.values)
        detail += f"; difference {d.estimate:+.4g} [{d.low:+.4g}, {d.high:+.4g}] (Welch)"
    return Verdict(_state(a, op, b), detail)


def _state(a: Any, op: Callable[[Any, Any], bool], b: Any) -> State:
    ma, mb = (_values(v) for v in (a, b))
    if not all(math.isfinite(v) for v in ma) or not all(math.isfinite(v) for v in mb):
        return _unreached(ma, op, mb)
    if op in (operator.eq, operator.ne):  # equality of noisy values: on the means
        return "met" if op(_mean(ma), _mean(mb)) else "not met"
    # the interval of a − b: Welch between two configurations, a t-interval against a number
    if (len(ma) > 1) == (len(mb) > 1):
        d = welch_interval(ma, mb)
    elif len(ma) > 1:
        i = mean_interval(ma)
        d = Interval(i.estimate - mb[0], i.low - mb[0], i.high - mb[0])
    else:
        i = mean_interval(mb)
        d = Interval(ma[0] - i.estimate, ma[0] - i.high, ma[0] - i.low)
    if op(d.low, 0.0) and op(d.high, 0.0):
        return "met"
    if not op(d.low, 0.0) and not op(d.high, 0.0):
        return "not met"
    return "undecided"


def _unreached(ma: list[float], op: Callable[[Any, Any], bool], mb: list[float]) -> State:
    """A side with a seed that never reached the target is +∞ on average: it can be compared
    with a side that always reached it, never with another that did not."""
    ia, ib = (not all(math.isfinite(v) for v in m) for m in (ma, mb))
    if ia and ib:
        return "undecided"
    return "met" if op(_mean(ma), _mean(mb)) else "not met"


def _values(v: Any) -> list[float]:
    return list(v.values) if isinstance(v, Measured) else [float(v)]


def _mean(values: list[float]) -> float:
    return math.inf if any(math.isinf(v) for v in values) else math.fsum(values) / len(values)


def all_of(parts: list[bool | Verdict]) -> bool | Verdict:
    """``and``: not met as soon as one part is, met when every part is, else undecided."""
    return _combine(parts, decisive="not met", plain=all)


def any_of(parts: list[bool | Verdict]) -> bool | Verdict:
    """``or``: met as soon as one part is, not met when no part is, else undecided."""
    return _combine(parts, decisive="met", plain=any)


def _combine(
    parts: list[bool | Verdict], decisive: State, plain: Callable[[list], bool]
) -> bool | Verdict:
    """One ``decisive`` part decides; all parts the other way decide the other way."""
    verdicts = [p for p in parts if isinstance(p, Verdict)]
    if not verdicts:
        return plain(parts)
    other: State = "met" if decisive == "not met" else "not met"
    states = [_as_state(p) for p in parts]
    state: State = (
        decisive if decisive in states else other if set(states) == {other} else "undecided"
    )
    return Verdict(state, "; ".join(v.detail for v in verdicts))


def negate(part: bool | Verdict) -> bool | Verdict:
    if not isinstance(part, Verdict):
        return not part
    flipped = {"met": "not met", "not met": "met", "undecided": "undecided"}[part.state]
    return Verdict(flipped, f"not ({part.detail})")  # type: ignore[arg-type]


def _as_state(part: bool | Verdict) -> State:
    if isinstance(part, Verdict):
        return part.state
    return "met" if part else "not met"


def arithmetic(op: Callable[[float, float], float], a: Any, b: Any, symbol: str) -> Any:
    """``a op b``: numbers as numbers; a Measured with a number per seed; two Measured seed by
    seed (the same seeds of two configurations are a paired sample)."""
    if not isinstance(a, Measured) and not isinstance(b, Measured):
        return op(a, b)
    label = f"({_label(a)} {symbol} {_label(b)})"
    if isinstance(a, Measured) and isinstance(b, Measured):
        if len(a.values) != len(b.values):
            raise ValueError(
                f"{a.label} and {b.label} have {len(a.values)} and {len(b.values)} seeds; "
                "arithmetic pairs them seed by seed (compare them directly instead)"
            )
        return Measured(label, tuple(op(x, y) for x, y in zip(a.values, b.values)))
    if isinstance(a, Measured):
        return a.map(lambda x: op(x, b), label)
    return b.map(lambda y: op(a, y), label)


def _label(v: Any) -> str:
    return v.label if isinstance(v, Measured) else f"{v:g}"


def pick(values: list[Any], best: Callable[..., Any]) -> Any:
    """``min`` / ``max`` over numbers and Measured values: the one with the lowest / highest
    mean (a never-reached target counts as ∞)."""
    if len(values) < 2:
        raise TypeError(f"{best.__name__} takes two values or more")
    return best(values, key=lambda v: _mean(_values(v)))
