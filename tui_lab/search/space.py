"""A search space in Optuna's terms: the distribution each trial samples, the grid's points.

Optuna stores only scalars (None, bool, int, float, str), so a list-valued setting such as
``model.filters = [32, 64]`` travels through the study as its JSON text and is decoded before
it reaches the config.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import optuna

from tui_lab.config import ParamSpace
from tui_lab.errors import ConfigError

MAX_GRID_CELLS = 10_000
Scalar = None | bool | int | float | str


def encode(value: Any) -> Scalar:
    """A config value as Optuna stores it (lists become their JSON text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value)


def decode(spec: ParamSpace, stored: Scalar) -> Any:
    """The config value behind a stored parameter (the inverse of ``encode`` for choices)."""
    if spec.type == "categorical":
        return next((c for c in spec.choices or [] if encode(c) == stored), stored)
    if spec.type == "int":
        return int(stored)  # type: ignore[arg-type]
    return float(stored)  # type: ignore[arg-type]


def suggest(trial: optuna.Trial, space: dict[str, ParamSpace]) -> dict[str, Any]:
    """Ask the trial for every parameter; returns dotted key → config value."""
    out: dict[str, Any] = {}
    for key, spec in space.items():
        if spec.type == "categorical":
            stored = trial.suggest_categorical(key, [encode(c) for c in spec.choices or []])
        elif spec.type == "int":
            stored = trial.suggest_int(
                key,
                int(spec.low),
                int(spec.high),  # type: ignore[arg-type]
                step=int(spec.step or 1),
                log=spec.log,
            )
        else:
            stored = trial.suggest_float(key, spec.low, spec.high, step=spec.step, log=spec.log)  # type: ignore[arg-type]
        out[key] = decode(spec, stored)
    return out


def grid_points(space: dict[str, ParamSpace]) -> dict[str, list[Scalar]]:
    """The values grid search takes per parameter: choices, ``grid`` points, or the range
    enumerated by its step (ints step 1 by default); a float range needs ``grid`` or ``step``."""
    points: dict[str, list[Scalar]] = {}
    for key, spec in space.items():
        if spec.type == "categorical":
            points[key] = [encode(c) for c in spec.choices or []]
        elif spec.grid is not None:
            cast = int if spec.type == "int" else float
            points[key] = [cast(v) for v in spec.grid]
        elif spec.type == "int" or spec.step is not None:
            low, high = spec.low, spec.high
            step = spec.step or 1
            count = math.floor((high - low) / step + 1e-9) + 1  # type: ignore[operator]
            if count > MAX_GRID_CELLS:
                raise ConfigError(f"search.space.{key}: {count} grid points; give grid = [...].")
            values = [low + i * step for i in range(count)]  # type: ignore[operator]
            points[key] = (
                [int(v) for v in values] if spec.type == "int" else [round(v, 12) for v in values]
            )
        else:
            raise ConfigError(
                f"search.space.{key}: grid search needs the points of a float range — add "
                f"grid = [...] (e.g. grid = [{spec.low:g}, {spec.high:g}]) or a step."
            )
    cells = math.prod(len(v) for v in points.values())
    if cells > MAX_GRID_CELLS:
        raise ConfigError(
            f"The grid has {cells:,} cells (more than {MAX_GRID_CELLS:,}); use fewer points or "
            "random / Bayesian search with an n_trials budget."
        )
    return points


def grid_cells(space: dict[str, ParamSpace]) -> list[dict[str, Any]]:
    """Every combination of the grid, as config values (dotted key → value)."""
    points = grid_points(space)
    keys = list(points)
    return [
        {k: decode(space[k], v) for k, v in zip(keys, combo, strict=True)}
        for combo in itertools.product(*points.values())
    ]


def display(value: Any) -> str:
    """A parameter value for tables: floats in 4 significant digits, lists as written."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(display(v) for v in value) + "]"
    return str(value)
