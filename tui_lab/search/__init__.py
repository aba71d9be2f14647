"""Hyperparameter search (lecture week 6) on Optuna: space, studies, samplers, trials, runner,
files."""
