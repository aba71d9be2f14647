"""The toy problem's expression language: the allow-listed grammar works, everything else is a
one-paragraph ConfigError, and no user text ever runs as Python."""

from __future__ import annotations

import math

import pytest
import torch

from tui_lab.errors import ConfigError
from tui_lab.expressions import MAX_DEPTH
from tui_lab.expressions import MAX_FORMULA_LENGTH as MAX_LENGTH
from tui_lab.toy2d.problem import expression as parse


def value(text: str, x1: float, x2: float) -> float:
    t = torch.tensor
    return float(parse(text)(t(x1, dtype=torch.float64), t(x2, dtype=torch.float64)))


@pytest.mark.parametrize(
    ("text", "x1", "x2", "expected"),
    [
        ("0.1*x1**2 + 2*x2**2", -5.0, -2.0, 10.5),
        ("0.1*x^2 + 2*y^2", -5.0, -2.0, 10.5),  # aliases, ^ as power
        ("x1 + x2^2", 1.0, 3.0, 10.0),  # ^ binds tighter than + (not Python's xor precedence)
        ("-x1^2", 3.0, 0.0, -9.0),  # as in maths: −(x1²)
        ("2^3^2 * x1", 1.0, 0.0, 512.0),  # right-associative
        ("(x1 - 1) * (x2 + 2) / 4", 3.0, 2.0, 2.0),
        ("+x1 - -x2", 1.0, 2.0, 3.0),
        ("sin(x1) + cos(x2) + tanh(x1*x2)", 0.5, 0.25, math.sin(0.5) + math.cos(0.25) + 0.124353),
        ("exp(x1) + log(x2) + sqrt(x2) + abs(x1)", -1.0, 4.0, math.exp(-1) + math.log(4) + 2 + 1),
        ("pi * x1 + e * x2", 1.0, 1.0, math.pi + math.e),
    ],
)
def test_grammar_evaluates_like_maths(text, x1, x2, expected):
    assert value(text, x1, x2) == pytest.approx(expected, rel=1e-6)


def test_gradients_come_from_autograd():
    xy = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
    parse("0.1*x1^2 + 2*x2^2 + sin(x1*x2)")(xy[0], xy[1]).backward()
    c = math.cos(10.0)
    assert xy.grad.tolist() == pytest.approx([0.2 * -5 + c * -2, 4 * -2 + c * -5])


def test_expression_broadcasts_over_a_grid():
    x1, x2 = torch.meshgrid(torch.linspace(0, 1, 3), torch.linspace(0, 1, 4), indexing="ij")
    assert parse("x1 + 3")(x1, x2).shape == (3, 4)
    assert parse("x1 * x2")(x1, x2).shape == (3, 4)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("__import__('os').system('true')", "call of"),
        ("x1.real", "attribute access"),
        ("x1.__class__", "attribute access"),
        ("foo(x1)", "call of 'foo'"),
        ("eval('1') + x1", "call of 'eval'"),
        ("sin(x1, x2)", "exactly one plain argument"),
        ("sin(x=x1)", "exactly one plain argument"),
        ("exp(*x1)", "exactly one plain argument"),
        ("lambda: x1", "lambda"),
        ("[x for x in (1, 2)]", "comprehension"),
        ("(x for x in (1,))", "generator"),
        ("x1[0]", "indexing"),
        ("x1 if x2 else 1", "conditional"),
        ("x1 < x2", "comparison"),
        ("(z := x1)", "assignment"),
        ("'a' + x1", "literal"),
        ("True + x1", "literal"),
        ("1j * x1", "literal"),
        ("x1 % 2", "Mod"),
        ("x1 and x2", "And"),
        ("z", "name 'z'"),
        ("x1 +", "Cannot parse"),
        ("x1; x2", "Cannot parse"),
        ("", "empty"),
        ("1 + 2", "constant"),
        ("9" * 350 + " * x1", "too large"),
    ],
)
def test_anything_outside_the_grammar_is_a_config_error(text, needle):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_long_and_deep_input_is_refused_before_it_can_hurt():
    with pytest.raises(ConfigError, match=f"limit is {MAX_LENGTH}"):
        parse("x1 + " * 200 + "x2")
    with pytest.raises(ConfigError, match=f"more than {MAX_DEPTH} levels"):
        parse("sin(" * 60 + "x1" + ")" * 60)
    with pytest.raises(ConfigError, match=f"more than {MAX_DEPTH} levels"):
        parse("-" * 300 + "x1")
    assert value("(" * 150 + "x1" + ")" * 150, 2.0, 0.0) == 2.0  # parentheses add no depth


def test_rejected_text_has_no_side_effect(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ConfigError):
        parse(f"__import__('pathlib').Path({str(marker)!r}).touch() or x1")
    assert not marker.exists()
