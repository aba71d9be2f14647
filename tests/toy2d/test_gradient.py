"""Dual numbers give the same f and ∇f as autograd, for every function a formula may call."""

from __future__ import annotations

import math

import pytest
import torch

from tui_lab.expressions import parse_formula
from tui_lab.toy2d.gradient import value_and_gradient

FORMULAS = [
    "0.1*x1**2 + 2*x2**2",
    "(1 - x1)**2 + 100*(x2 - x1**2)**2",
    "sin(x1)*cos(x2) + exp(x1/4) - log(1 + x2^2) + sqrt(abs(x1) + 1) * tanh(x2) + 2**x1 / x2",
]


@pytest.mark.parametrize("text", FORMULAS)
@pytest.mark.parametrize("point", [(-1.3, 0.7), (0.4, -2.1), (2.5, 1.5)])
def test_dual_numbers_agree_with_autograd(text, point):
    formula = parse_formula(text)
    xy = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    value = formula.evaluate(torch, xy[0], xy[1])
    value.backward()
    f, g1, g2 = value_and_gradient(formula, *point)
    assert (f, g1, g2) == pytest.approx((value.item(), *xy.grad.tolist()), rel=1e-12)


def test_undefined_points_are_nan_not_errors():
    f, g1, _ = value_and_gradient(parse_formula("log(x1) + sqrt(x2)"), -1.0, 4.0)
    assert math.isnan(f) and math.isnan(g1)
    assert math.isinf(value_and_gradient(parse_formula("exp(x1) + x2"), 1e4, 0.0)[0])
