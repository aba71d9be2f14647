"""Optuna's samplers and pruners as the search methods of the lectures (week 6) ask for them.

Grid search takes cell n for trial n; random and TPE sampling draw trial n from its own seed
(``study.reseed_sampler``), so a resumed or multi-process search gives every trial the
parameters it would have had in one uninterrupted process.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import optuna
from optuna.samplers import BaseSampler, GridSampler, RandomSampler, TPESampler

from tui_lab.config import PRUNERS, SearchConfig
from tui_lab.search.space import grid_points
from tui_lab.search.study import reseed_sampler


class TrialSeededRandomSampler(RandomSampler):
    def __init__(self, seed: int):
        super().__init__(seed=seed)
        self.trial_seed = seed

    def before_trial(self, study, trial) -> None:
        reseed_sampler(self, self.trial_seed, trial.number)
        super().before_trial(study, trial)


class TrialSeededTPESampler(TPESampler):
    def __init__(self, seed: int, startup_trials: int):
        super().__init__(
            seed=seed, n_startup_trials=startup_trials, multivariate=True, constant_liar=True
        )
        self.trial_seed = seed

    def before_trial(self, study, trial) -> None:
        reseed_sampler(self, self.trial_seed, trial.number)
        super().before_trial(study, trial)


class CellGridSampler(GridSampler):
    """Optuna's grid: trial n < cells takes cell n. Its ``after_trial`` would call
    ``study.stop()``, which works only inside ``study.optimize``; our loop ends the grid."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def build_sampler(method: str, search: SearchConfig) -> BaseSampler:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if method == "grid":
            return CellGridSampler(grid_points(search.space), seed=search.seed)
        if method == "random":
            return TrialSeededRandomSampler(search.seed)
        if search.bayes == "gp":
            return optuna.samplers.GPSampler(
                seed=search.seed, n_startup_trials=search.startup_trials
            )
        return TrialSeededTPESampler(search.seed, search.startup_trials)


PrunerFactory = Callable[[SearchConfig, int], optuna.pruners.BasePruner]
PRUNER_FACTORIES: dict[str, PrunerFactory] = {
    "none": lambda s, epochs: optuna.pruners.NopPruner(),
    "median": lambda s, epochs: optuna.pruners.MedianPruner(
        n_startup_trials=s.startup_trials, n_warmup_steps=s.pruner_warmup_epochs
    ),
    "asha": lambda s, epochs: optuna.pruners.SuccessiveHalvingPruner(
        min_resource=max(1, s.pruner_warmup_epochs), reduction_factor=3
    ),
    "hyperband": lambda s, epochs: optuna.pruners.HyperbandPruner(
        min_resource=max(1, s.pruner_warmup_epochs), max_resource=max(epochs, 1), reduction_factor=3
    ),
}
assert tuple(PRUNER_FACTORIES) == PRUNERS, "config.PRUNERS lists the pruners this table builds"


def build_pruner(search: SearchConfig, epochs: int) -> optuna.pruners.BasePruner:
    return PRUNER_FACTORIES[search.pruner](search, epochs)
