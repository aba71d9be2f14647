"""How sure a comparison over seeds is: t-based 95% confidence intervals of a mean, and of a
difference of two means without assuming equal variances (Welch).

A configuration trained with N seeds gives N values of a metric; their mean is the estimate
and ``t(0.975, N−1)·s/√N`` its half-width. Two configurations are told apart by the interval
of their difference; an expectation is *met* when the whole interval is on its side, *not met*
when it is wholly on the other, and *undecided* otherwise (results/checks.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def text(self, scale: float = 1.0, unit: str = "", signed: bool = False) -> str:
        """``+1.2 [+0.6, +1.8]`` (scaled, e.g. to points of accuracy)."""
        fmt = "+.2f" if signed else ".2f"
        e, lo, hi = (scale * v for v in (self.estimate, self.low, self.high))
        return f"{e:{fmt}}{unit} [{lo:{fmt}}, {hi:{fmt}}]"


@functools.cache  # the Compare view's bands ask for the same few quantiles at every point
def _t(df: float) -> float:
    from scipy import stats  # 0.65 s to import: only once seeds are compared

    return float(stats.t.ppf(0.5 + LEVEL / 2, df))


def mean_interval(values: Sequence[float]) -> Interval:
    """The mean and its 95% interval (a single value: no spread is known, the interval is it)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return Interval(mean, mean, mean)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t(n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half)


def band(values: Sequence[float]) -> Interval:
    """What a chart draws around a mean over seeds: its 95% interval, but min–max for two
    seeds, whose t-interval is 12.7 standard errors wide and says little."""
    if len(values) == 2:
        low, high = sorted(values)
        return Interval((low + high) / 2, low, high)
    return mean_interval(values)


def welch_interval(a: Sequence[float], b: Sequence[float]) -> Interval:
    """mean(a) − mean(b) and its 95% interval, Welch–Satterthwaite degrees of freedom."""
    ma, mb = math.fsum(a) / len(a), math.fsum(b) / len(b)
    diff = ma - mb
    if len(a) < 2 or len(b) < 2:
        return Interval(diff, diff, diff)
    va = math.fsum((v - ma) ** 2 for v in a) / (len(a) - 1) / len(a)
    vb = math.fsum((v - mb) ** 2 for v in b) / (len(b) - 1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(diff, diff, diff)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = _t(df) * se
    return Interval(diff, diff - half, diff + half)
