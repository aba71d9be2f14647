"""The sweep analysis (search/analysis.py) that the Search view, report.md and the figures
share: best so far per trial and per trial-epoch, parameters on axes, the heat-map."""

from __future__ import annotations

import pytest

from tui_lab.config import ParamSpace
from tui_lab.events import TrialRecord
from tui_lab.search.analysis import (
    best_quarter,
    best_so_far,
    heatmap,
    param_axis,
    scored,
    top_two,
)


def trial(n: int, value: float | None, status: str = "completed", epochs: int = 2, **params):
    return TrialRecord("s", n, "COMPLETE", status, value, params, epochs, 1.0, None, "")


def test_best_so_far_counts_every_trial_epoch_spent_pruned_ones_included():
    records = [
        trial(0, 0.5, epochs=3),
        trial(1, 0.4, "pruned", epochs=1),
        trial(2, 0.7, epochs=3),
        trial(3, 0.0, "diverged", epochs=1),
        trial(4, 0.6, epochs=3),
    ]
    assert [r.number for r in scored(records)] == [0, 2, 4]
    assert best_so_far(records, "maximize") == ([0, 2, 2, 4], [0.5, 0.5, 0.7, 0.7])
    assert best_so_far(records, "maximize", by_epochs=True) == ([3, 7, 7, 11], [0.5, 0.5, 0.7, 0.7])
    assert best_so_far(records, "minimize")[1] == [0.5, 0.5, 0.5]


def test_parameters_sit_on_axes_log_rates_and_named_choices():
    records = [trial(0, 0.5, lr=0.001, filters=[8, 16]), trial(1, 0.6, lr=0.1, filters=[16, 32])]
    lr = param_axis(records, "lr")
    assert lr.log and lr.positions == pytest.approx([-3, -1]) and lr.title == "log10(lr)"
    assert [t for _, t in lr.ticks()] == ["0.001", "0.01", "0.1"]
    space = {"filters": ParamSpace(type="categorical", choices=[[8, 16], [16, 32], [32, 64]])}
    filters = param_axis(records, "filters", space)
    assert filters.labels == ["[8, 16]", "[16, 32]", "[32, 64]"] and filters.normalized() == [
        0,
        0.5,
    ]


def test_the_heat_map_keeps_each_cells_best_trial():
    records = [
        trial(0, 0.5, lr=0.001, batch=32),
        trial(1, 0.7, lr=0.001, batch=32),
        trial(2, 0.6, lr=0.1, batch=64),
        trial(3, 0.9, lr=0.1, batch=64),
    ]
    cells = heatmap(records, "lr", "batch", "maximize")
    assert (cells.x_labels, cells.y_labels) == (["0.001", "0.1"], ["32", "64"])
    assert cells.cells == [[0.7, None], [None, 0.9]]
    exponents = [-4, -3.5, -2.5, -1.5, -1]
    spread = [trial(i, (i + 1) / 10, lr=10**e, batch=32) for i, e in enumerate(exponents)]
    binned = heatmap(spread, "lr", "batch", "maximize", bins=3)
    assert binned.x_labels == ["0.0001–0.001", "0.001–0.01", "0.01–0.1"]
    assert binned.x_ticks == ["0.0001", "0.001", "0.01"]
    assert binned.cells == [[0.2, 0.3, 0.5]]


def test_the_two_parameters_that_mattered_most_and_the_best_quarter():
    assert top_two({"a": 0.1, "b": 0.7, "c": 0.2}, ["a", "b", "c"]) == ("b", "c")
    assert top_two(None, ["a", "b", "c"]) == ("a", "b")
    assert top_two(None, ["a"]) is None
    records = [trial(i, i / 10) for i in range(8)]
    assert best_quarter(records, "maximize") == {("s", 7), ("s", 6)}
    assert best_quarter(records, "minimize") == {("s", 0), ("s", 1)}


def test_learning_rates_sit_on_a_log_axis_even_when_the_space_lists_them():
    """grid_search lists lr as choices: on a linear axis 0.001 and 0.01 would overlap."""
    space = {"optimizer.lr": ParamSpace(type="categorical", choices=[0.001, 0.01, 0.1])}
    records = [trial(n, 0.5, **{"optimizer.lr": lr}) for n, lr in enumerate((0.001, 0.01, 0.1))]
    axis = param_axis(records, "optimizer.lr", space)
    assert axis.log and axis.positions == pytest.approx([-3, -2, -1])
