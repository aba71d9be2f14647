"""Confidence intervals over seeds, against answers computed by hand and by SciPy's Welch test."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from tui_lab.results.stats import mean_interval, welch_interval


def test_the_mean_interval_of_five_values():
    interval = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    # s = √2.5, t(0.975, 4) = 2.7764451: half-width 2.7764451·√2.5/√5 = 1.9632432
    assert interval.estimate == 3.0
    assert interval.half_width == pytest.approx(1.9632432, rel=1e-7)


def test_one_value_has_no_spread_to_estimate():
    interval = mean_interval([0.91])
    assert interval.low == interval.estimate == interval.high == 0.91


def test_welch_matches_scipy_on_unequal_variances():
    a = [0.912, 0.905, 0.918, 0.909, 0.915]
    b = [0.887, 0.902, 0.871, 0.895, 0.880, 0.899]
    interval = welch_interval(a, b)
    reference = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert interval.estimate == pytest.approx(sum(a) / 5 - sum(b) / 6)
    assert (interval.low, interval.high) == pytest.approx((reference.low, reference.high), rel=1e-9)
    assert interval.low > 0  # a is better, and the data say so


def test_the_interval_narrows_as_seeds_are_added():
    wide = welch_interval([0.90, 0.92], [0.89, 0.91])
    narrow = welch_interval([0.90, 0.92] * 10, [0.89, 0.91] * 10)
    assert wide.low < 0 < wide.high  # two seeds: cannot tell
    assert narrow.low > 0  # twenty: can
    assert math.isclose(wide.estimate, narrow.estimate)
