"""Expectation checks: met, not met or undecided with the reason; never an exception after
training, never a huge value; a misspelt function is refused before anything trains."""

from __future__ import annotations

import random

import pytest
from support import TINY_MLP, comparison

from tui_lab.config import Expectation
from tui_lab.errors import ConfigError
from tui_lab.results.checks import check_all, comparison_functions, validate_checks
from tui_lab.results.recorder import ResultsRecorder

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
        ConfigError,
        match="unknown function 'scor'.*available: abs, ci, label, max, mean, min, score",
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
    assert f["completed"]("adam") and f["run"]("adam").epochs.values == (2,)
    assert f["epochs_to"]("adam", 0.0).values == (1,)
    assert f["max_lr"]("adam") == pytest.approx(0.001)


# ------------------------------------------------------------------ over seeds


def seeded(**configs: list[float]) -> ResultsRecorder:
    """A recorder holding finished runs ``name@seed`` with these test accuracies, and one
    epoch each whose validation accuracy is the same value."""
    recorder = ResultsRecorder()
    for name, accs in configs.items():
        for seed, acc in enumerate(accs):
            run = f"{name}@{seed}" if len(accs) > 1 else name
            recorder.summary[run] = {
                "run": run,
                "status": "completed",
                "test_acc": acc,
                "best_val_acc": acc,
                "test_loss": 1 - acc,
                "seconds": 10.0,
                "epochs": 1,
            }
            recorder.metrics.append(
                {
                    "run": run,
                    "epoch": 1,
                    "val_acc": acc,
                    "seconds": 10.0,
                    "lr": 0.1,
                    "train_loss": 1 - acc,
                    "val_loss": 1 - acc,
                }
            )
    return recorder


def draws(mean: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, 0.01) for _ in range(n)]


@pytest.mark.parametrize("check", ["run('a').test_acc > run('b').test_acc", "better('a', 'b')"])
def test_a_one_point_gap_is_undecided_on_two_seeds_and_decided_on_twenty(check):
    two = seeded(a=draws(0.86, 2, 1), b=draws(0.85, 2, 2))
    twenty = seeded(a=draws(0.86, 20, 1), b=draws(0.85, 20, 2))
    (on_two,) = results(check, functions=comparison_functions(two))
    (on_twenty,) = results(check, functions=comparison_functions(twenty))
    assert on_two.label == "undecided" and on_twenty.label == "met"
    assert "over 2 seeds" in on_two.detail and "(Welch)" in on_two.detail  # the interval shown
    assert "over 20 seeds" in on_twenty.detail


def test_a_threshold_is_met_only_when_the_whole_interval_clears_it():
    f = comparison_functions(
        seeded(a=[0.90, 0.91, 0.92], b=[0.84, 0.86, 0.88], c=[0.80, 0.81, 0.805])
    )
    met, across, missed = results(
        "run('a').test_acc >= 0.85",
        "run('b').test_acc >= 0.85",
        "run('c').test_acc >= 0.85",
        functions=f,
    )
    assert (met.label, across.label, missed.label) == ("met", "undecided", "not met")
    assert "0.86 [0.8103, 0.9097] over 3 seeds ≥ 0.85" in across.detail


def test_reaching_a_target_no_run_reached_is_undecided_never_met():
    """adam_vs_sgd on 3,000 images for one epoch: nobody reaches 85% (inf ≤ inf was 'met')."""
    f = comparison_functions(seeded(adam=[0.80, 0.81], rmsprop=[0.79, 0.8], sgd=[0.7, 0.72]))
    (nobody,) = results(
        "min(epochs_to('adam', 0.85), epochs_to('rmsprop', 0.85)) <= epochs_to('sgd', 0.85)",
        functions=f,
    )
    assert nobody.label == "undecided" and "never reached in 2 of 2 seed(s)" in nobody.detail
    one_side = comparison_functions(seeded(adam=[0.90, 0.91], sgd=[0.7, 0.72]))
    met, missed = results(
        "epochs_to('adam', 0.85) < epochs_to('sgd', 0.85)",
        "epochs_to('sgd', 0.85) <= epochs_to('adam', 0.85)",
        functions=one_side,
    )
    assert (met.label, missed.label) == ("met", "not met")


def test_and_or_not_combine_three_way_verdicts():
    f = comparison_functions(seeded(a=[0.90, 0.91, 0.92], b=[0.84, 0.86, 0.88]))
    undecided, met, negated = results(
        "run('a').test_acc > 0.85 and run('b').test_acc > 0.85",
        "run('a').test_acc > 0.85 or run('b').test_acc > 0.85",
        "not run('a').test_acc > 0.95",
        functions=f,
    )
    assert (undecided.label, met.label, negated.label) == ("undecided", "met", "met")


def test_mean_and_ci_are_numbers_a_check_can_use():
    f = comparison_functions(seeded(a=[0.90, 0.91, 0.92]))
    tight, mean = results(
        "ci(run('a').test_acc) < 0.03", "mean(run('a').test_acc) == 0.91", functions=f
    )
    assert tight.label == "met" and mean.label == "met"


def test_a_single_seed_decides_as_a_plain_comparison():
    f = comparison_functions(seeded(a=[0.86], b=[0.85]))
    (result,) = results("run('a').test_acc > run('b').test_acc", functions=f)
    assert result.label == "met" and "(1 seed)" in result.detail
