"""f and ∇f at a point of the 2-D toy problem, by forward-mode differentiation: the formula
(expressions.py) is evaluated on dual numbers a + b₁·ε₁ + b₂·ε₂ (ε² = 0), whose ε parts come
out as the exact partial derivatives. Autograd builds and walks a graph for every step, which
made a 1000-step walk take ~200 ms; this takes ~20 ms, so the toy view recomputes paths live.
"""

from __future__ import annotations

import math
from typing import Any

from tui_lab.expressions import Formula

Number = float | int


class Dual:
    """v + d1·ε₁ + d2·ε₂: a value and its two partial derivatives."""

    __slots__ = ("d1", "d2", "v")
    dtype = None  # what the formula's constants ask of a tensor backend
    device = None

    def __init__(self, v: float, d1: float = 0.0, d2: float = 0.0) -> None:
        self.v, self.d1, self.d2 = v, d1, d2

    def __add__(self, o: Dual | Number) -> Dual:
        if isinstance(o, Dual):
            return Dual(self.v + o.v, self.d1 + o.d1, self.d2 + o.d2)
        return Dual(self.v + o, self.d1, self.d2)

    __radd__ = __add__

    def __sub__(self, o: Dual | Number) -> Dual:
        if isinstance(o, Dual):
            return Dual(self.v - o.v, self.d1 - o.d1, self.d2 - o.d2)
        return Dual(self.v - o, self.d1, self.d2)

    def __rsub__(self, o: Number) -> Dual:
        return Dual(o - self.v, -self.d1, -self.d2)

    def __mul__(self, o: Dual | Number) -> Dual:
        if isinstance(o, Dual):
            return Dual(self.v * o.v, self.d1 * o.v + self.v * o.d1, self.d2 * o.v + self.v * o.d2)
        return Dual(self.v * o, self.d1 * o, self.d2 * o)

    __rmul__ = __mul__

    def __truediv__(self, o: Dual | Number) -> Dual:
        if isinstance(o, Dual):
            q = _div(self.v, o.v)
            return Dual(q, _div(self.d1 - q * o.d1, o.v), _div(self.d2 - q * o.d2, o.v))
        return Dual(_div(self.v, o), _div(self.d1, o), _div(self.d2, o))

    def __rtruediv__(self, o: Number) -> Dual:
        return Dual(o) / self

    def __neg__(self) -> Dual:
        return Dual(-self.v, -self.d1, -self.d2)

    def __pos__(self) -> Dual:
        return self

    def chain(self, value: float, slope: float) -> Dual:
        """g(self) for a function g with g(v) = value and g'(v) = slope."""
        return Dual(value, slope * self.d1, slope * self.d2)


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.copysign(math.inf, a) if a else math.nan
    return a / b


def _nan() -> Dual:
    return Dual(math.nan, math.nan, math.nan)


def _power(base: Dual, exponent: Dual) -> Dual:
    if exponent.d1 == 0 and exponent.d2 == 0:  # x ** constant
        e = exponent.v
        try:
            value = base.v**e
            slope = e * base.v ** (e - 1) if e != 0 else 0.0
        except (OverflowError, ZeroDivisionError):
            return Dual(math.inf) if base.v else _nan()
        if isinstance(value, complex):
            return _nan()
        return base.chain(value, slope)
    if base.v <= 0:  # a ** f(x): defined (and differentiable) for a > 0
        return _nan()
    try:
        value = base.v**exponent.v
    except OverflowError:
        return Dual(math.inf)
    log = math.log(base.v)
    return Dual(
        value,
        value * (exponent.d1 * log + exponent.v * base.d1 / base.v),
        value * (exponent.d2 * log + exponent.v * base.d2 / base.v),
    )


def _guarded(fn, derivative):
    def apply(x: Dual) -> Dual:
        try:
            return x.chain(fn(x.v), derivative(x.v))
        except OverflowError:  # exp of a large number: torch says inf too
            return Dual(math.inf, math.nan, math.nan)
        except (ValueError, ZeroDivisionError):  # outside the function's domain
            return _nan()

    return apply


class DualOps:
    """The math functions a formula may call (expressions.FUNCTIONS), on dual numbers."""

    @staticmethod
    def as_tensor(number: float, dtype: Any = None, device: Any = None) -> Dual:
        return Dual(number)

    pow = staticmethod(lambda a, b: _power(_dual(a), _dual(b)))
    sin = staticmethod(_guarded(math.sin, math.cos))
    cos = staticmethod(_guarded(math.cos, lambda v: -math.sin(v)))
    exp = staticmethod(_guarded(math.exp, math.exp))
    log = staticmethod(_guarded(math.log, lambda v: 1.0 / v))
    sqrt = staticmethod(_guarded(math.sqrt, lambda v: 0.5 / math.sqrt(v)))
    abs = staticmethod(_guarded(abs, lambda v: math.copysign(1.0, v) if v else 0.0))
    tanh = staticmethod(_guarded(math.tanh, lambda v: 1.0 - math.tanh(v) ** 2))


def _dual(x: Dual | Number) -> Dual:
    return x if isinstance(x, Dual) else Dual(float(x))


def value_and_gradient(formula: Formula, x1: float, x2: float) -> tuple[float, float, float]:
    """(f, ∂f/∂x1, ∂f/∂x2) at (x1, x2); NaN where f is undefined there."""
    try:
        out = formula.evaluate(DualOps, Dual(x1, 1.0, 0.0), Dual(x2, 0.0, 1.0))
    except (OverflowError, ZeroDivisionError, ValueError):
        return math.nan, math.nan, math.nan
    out = _dual(out)
    return out.v, out.d1, out.d2
