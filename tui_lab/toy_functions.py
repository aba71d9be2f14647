"""The 2-D toy problem's built-in functions (dataflowr Module 4 and two classics), each with
the start point, view, step count and per-optimizer settings that show its lesson, read from
toy_functions.toml beside this module.

The lecture minimizes f(x1, x2) = 0.1·x1² + 2·x2² from (−5, −2) for 20 steps (d2l's
``train_2d``). f is 20× more curved along x2 than along x1, so plain GD's learning rate is
capped by x2 (η < 2/4): at η = 0.4 every step overshoots x2 (x2 ← −0.6·x2, a zig-zag) while x1
crawls (x1 ← 0.92·x1). Momentum averages the alternating x2 gradients away and the adaptive
methods divide each coordinate's step by its own gradient scale, so their paths are smoother.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tui_lab.errors import ConfigError
from tui_lab.expressions import Formula, parse_formula

Bounds = tuple[float, float, float, float]  # x1_min, x1_max, x2_min, x2_max


@dataclass(frozen=True)
class ToyFunction:
    """A built-in problem: its formula and the defaults that show its lesson (``runs`` are
    ``[[toy2d.runs]]`` entries, validated by the config)."""

    title: str
    expression: str
    start: tuple[float, float]
    bounds: Bounds
    steps: int
    runs: tuple[dict[str, Any], ...]


def _load() -> dict[str, ToyFunction]:
    text = resources.files("tui_lab").joinpath("toy_functions.toml").read_text(encoding="utf-8")
    functions: dict[str, ToyFunction] = {}
    for name, entry in tomllib.loads(text)["functions"].items():
        aliases = entry.pop("aliases", [])
        function = ToyFunction(
            title=entry["title"],
            expression=entry["expression"],
            start=tuple(entry["start"]),
            bounds=tuple(entry["bounds"]),
            steps=entry["steps"],
            runs=tuple(entry["runs"]),
        )
        functions.update(dict.fromkeys([name, *aliases], function))
    return functions


FUNCTIONS = _load()  # toy_functions.toml: the built-ins with their lesson's settings
LECTURE = FUNCTIONS["lecture"]


def builtin(text: str) -> ToyFunction | None:
    """The built-in function ``text`` names (any case, surrounding space ignored), if any."""
    return FUNCTIONS.get(text.strip().lower())


def formula_of(text: str) -> Formula:
    """A built-in's name or an expression in x1, x2; ``ConfigError`` if it is neither."""
    function = builtin(text)
    if function is not None:
        return parse_formula(function.expression)
    try:
        return parse_formula(text)
    except ConfigError as exc:
        raise ConfigError(f"{exc} Built-in functions: {', '.join(FUNCTIONS)}.") from None
