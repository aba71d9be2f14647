"""The 2-D toy problem's built-in functions (dataflowr Module 4 and two classics), each with
the start point, view, step count and per-optimizer settings that show its lesson.

The lecture minimizes f(x1, x2) = 0.1·x1² + 2·x2² from (−5, −2) for 20 steps (d2l's
``train_2d``). f is 20× more curved along x2 than along x1, so plain GD's learning rate is
capped by x2 (η < 2/4): at η = 0.4 every step overshoots x2 (x2 ← −0.6·x2, a zig-zag) while x1
crawls (x1 ← 0.92·x1). Momentum averages the alternating x2 gradients away and the adaptive
methods divide each coordinate's step by its own gradient scale, so their paths are smoother.
"""

from __future__ import annotations

from dataclasses import dataclass
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


LECTURE = ToyFunction(
    title="f(x1, x2) = 0.1·x1² + 2·x2²  (dataflowr Module 4)",
    expression="0.1*x1**2 + 2*x2**2",
    start=(-5.0, -2.0),
    bounds=(-5.5, 1.0, -3.0, 1.0),
    steps=20,
    # GD at d2l's η = 0.4; the others reach f < 1e-3 within the 20 steps. Adam and AMSGrad use
    # β1 = 0.5: with 0.9 their momentum needs more than 20 steps to settle on this problem.
    runs=(
        {"name": "gd", "optimizer": "batch_gd", "lr": 0.4},
        {"optimizer": "momentum", "lr": 0.3, "momentum": 0.6},
        {"optimizer": "nesterov", "lr": 0.25, "momentum": 0.7},
        {"optimizer": "adagrad", "lr": 1.5},
        {"optimizer": "rmsprop", "lr": 0.35},
        {"optimizer": "adam", "lr": 0.5, "beta1": 0.5},
        {"optimizer": "amsgrad", "lr": 0.05, "beta1": 0.5},
    ),
)
FUNCTIONS: dict[str, ToyFunction] = {
    "lecture": LECTURE,
    "quadratic": LECTURE,
    "rosenbrock": ToyFunction(
        title="Rosenbrock: (1 − x1)² + 100·(x2 − x1²)², minimum 0 at (1, 1)",
        expression="(1 - x1)**2 + 100*(x2 - x1**2)**2",
        start=(-1.5, 2.0),
        bounds=(-2.0, 2.0, -1.0, 3.0),
        steps=1000,
        runs=(
            {"name": "gd", "optimizer": "batch_gd", "lr": 0.001},
            {"optimizer": "momentum", "lr": 0.001, "momentum": 0.9},
            {"optimizer": "nesterov", "lr": 0.001, "momentum": 0.9},
            {"optimizer": "adagrad", "lr": 2.0},
            {"optimizer": "rmsprop", "lr": 0.003},
            {"optimizer": "adam", "lr": 0.1},
            {"optimizer": "amsgrad", "lr": 0.1},
        ),
    ),
    "beale": ToyFunction(
        title="Beale: (1.5 − x1 + x1·x2)² + (2.25 − x1 + x1·x2²)² + (2.625 − x1 + x1·x2³)², "
        "minimum 0 at (3, 0.5)",
        expression="(1.5 - x1 + x1*x2)**2 + (2.25 - x1 + x1*x2**2)**2 + (2.625 - x1 + x1*x2**3)**2",
        start=(1.0, 1.5),
        bounds=(-4.5, 4.5, -4.5, 4.5),
        steps=1000,
        runs=(
            {"name": "gd", "optimizer": "batch_gd", "lr": 0.01},
            {"optimizer": "momentum", "lr": 0.002, "momentum": 0.9},
            {"optimizer": "nesterov", "lr": 0.002, "momentum": 0.9},
            {"optimizer": "adagrad", "lr": 1.0},
            {"optimizer": "rmsprop", "lr": 0.01},
            {"optimizer": "adam", "lr": 0.1},
            {"optimizer": "amsgrad", "lr": 0.03},
        ),
    ),
}


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
