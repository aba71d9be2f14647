"""Expectation checks: met, not met or undecided with the reason; never an exception after
training, never a huge value; a misspelt function is refused before anything trains."""

from __future__ import annotations

import pytest
from support import TINY_MLP, comparison

from tui_lab.config import Expectation
from tui_lab.errors import ConfigError
from tui_lab.results.checks import check_all, comparison_functions, validate_checks

FUNCTIONS = {
    "score": lambda name: {"a": 0.9, "b": 0.8, "gone": None}[name],
    "label": lambda name: f"run {name}",
}


def results(*checks: str, datasets=None, functions=FUNCTIONS):
    expect = [Expectation(text=c, check=c) for c in checks]
    return check_all(expect, functions, datasets)


def test_met_not_met_and_unavailable():
    met, missed, undecided = results(
        "score('a') > score('b')", "score('b') >= 0.85", "score('gone') > 0"
    )
    assert (met.label, missed.label, undecided.label) == ("met", "not met", "undecided")
    assert "unavailable" in undecided.detail


@pytest.mark.parametrize(
    "check",
    [
        "'a' < 1",
        "label('a') > 1",
        "min(1) > 0",
        "abs('a') > 1",
        "'a' * 1000 * 1000 * 1000 * 1000 * 1000 < 'b'",
        "score('a', 'b') > 0",
        "score('a').test_acc > 0",
        "score('nope') > 0",
    ],
)
def test_a_check_that_cannot_be_evaluated_is_undecided_with_its_reason(check):
    (result,) = results(check)
    assert result.label == "undecided" and result.detail.startswith("cannot evaluate")


def test_unknown_functions_are_refused_before_training():
    validate_checks([Expectation(text="x", check="score('a') > 0.5")], FUNCTIONS)
    with pytest.raises(
        ConfigError, match="unknown function 'scor'.*available: abs, label, max, min, score"
    ):
        validate_checks([Expectation(text="x", check="scor('a') > 0.5")], FUNCTIONS)


def test_an_expectation_stated_for_another_dataset_does_not_apply():
    expect = [Expectation(text="MNIST figure", check="score('a') > 0.95", datasets=["mnist"])]
    (result,) = check_all(expect, FUNCTIONS, {"fashion_mnist"})
    assert result.label == "n/a" and "stated for mnist" in result.detail


def test_comparison_functions_read_the_recorded_results():
    comp, recorder = comparison([{"name": "adam"}], TINY_MLP)
    comp.run()
    f = comparison_functions(recorder)
    assert f["completed"]("adam") and f["run"]("adam").epochs == 2
    assert f["epochs_to"]("adam", 0.0) == 1 and f["max_lr"]("adam") == pytest.approx(0.001)
