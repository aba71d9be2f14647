"""The two small languages users write in presets, parsed without ever running their text.

``ast.parse(text, mode="eval")`` only builds a syntax tree; this module walks that tree itself
and accepts an allow-listed grammar. Anything else is a ``ConfigError`` naming what is not
allowed, as is text longer than the grammar's limit or nested deeper than ``MAX_DEPTH``.

**Formulas** f(x1, x2) of the 2-D toy problem::

    expr     := number | variable | constant | expr OP expr | -expr | +expr | (expr) | FN(expr)
    OP       := + - * / ** ^        (``^`` is read as ``**``: power, with its precedence)
    variable := x1 x2 (aliases x y)     constant := pi e
    FN       := sin cos exp log sqrt abs tanh

A parsed ``Formula`` is evaluated with a backend of math functions (``Ops``): torch tensors
for the toy problem (gradients from autograd), so this module itself never needs torch.

**Checks**, the ``[[expect]]`` lines of a preset: numbers, strings, ``and``/``or``/``not``,
comparisons, + − × ÷, plain calls like ``run('adam')`` and attribute reads on their results
(no private attributes). What the calls mean is up to the job that evaluates the check
(results/checks.py).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tui_lab.errors import ConfigError

MAX_FORMULA_LENGTH = 400
MAX_CHECK_LENGTH = 500
MAX_DEPTH = 40

VARIABLES: dict[str, int] = {"x1": 0, "x2": 1, "x": 0, "y": 1}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
FUNCTIONS = ("sin", "cos", "exp", "log", "sqrt", "abs", "tanh")
FORMULA_BINARY: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "truediv",
    ast.Pow: "pow",
}
FORMULA_GRAMMAR = (
    "an expression may use x1 and x2 (or x and y), numbers, pi, e, + - * / ** ^, parentheses "
    "and the functions " + " ".join(FUNCTIONS)
)

CHECK_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
CHECK_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
CHECK_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.BinOp,
    ast.Call,
    ast.Attribute,
    ast.Name,
    ast.Constant,
    ast.Load,
    *CHECK_COMPARE,
    *CHECK_BINARY,
)


# ---------------------------------------------------------------------------- formulas


class Ops(Protocol):
    """The math a formula is evaluated with (the ``torch`` module satisfies it)."""

    def as_tensor(self, value: float, *, dtype: Any = ..., device: Any = ...) -> Any: ...

    def pow(self, base: Any, exponent: Any) -> Any: ...


Node = Callable[[Any, Any, Any], Any]  # (ops, x1, x2) -> value


@dataclass(frozen=True)
class Formula:
    """A parsed f(x1, x2): ``evaluate(ops, x1, x2)`` with any broadcastable values."""

    text: str
    variables: frozenset[int]
    _node: Node

    def evaluate(self, ops: Any, x1: Any, x2: Any) -> Any:
        return self._node(ops, x1, x2)


def parse_formula(text: str) -> Formula:
    """Parse ``text`` in the formula grammar; ``ConfigError`` names what is not allowed."""
    if len(text) > MAX_FORMULA_LENGTH:
        raise ConfigError(
            f"The expression is {len(text)} characters long; the limit is {MAX_FORMULA_LENGTH}."
        )
    if not text.strip():
        raise ConfigError(f"The expression is empty; {FORMULA_GRAMMAR}.")
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")  # ^ binds like **
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        raise ConfigError(
            f"Cannot parse the expression {_short(text)!r}: {reason}; {FORMULA_GRAMMAR}."
        ) from None
    used: set[int] = set()
    node = _formula_node(tree.body, text, used, depth=0)
    if not used:
        raise ConfigError(
            f"The expression {_short(text)!r} is a constant; it must depend on x1 or x2."
        )
    return Formula(text, frozenset(used), node)


def _formula_node(node: ast.AST, text: str, used: set[int], depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise ConfigError(
            f"The expression {_short(text)!r} is nested more than {MAX_DEPTH} levels deep."
        )
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _constant(node.value, text)
    if isinstance(node, ast.Name) and node.id in VARIABLES:
        index = VARIABLES[node.id]
        used.add(index)
        return (lambda ops, x1, x2: x1) if index == 0 else (lambda ops, x1, x2: x2)
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return _constant(CONSTANTS[node.id], text)
    if isinstance(node, ast.BinOp) and type(node.op) in FORMULA_BINARY:
        name = FORMULA_BINARY[type(node.op)]
        left = _formula_node(node.left, text, used, depth + 1)
        right = _formula_node(node.right, text, used, depth + 1)
        if name == "pow":
            return lambda ops, x1, x2: ops.pow(left(ops, x1, x2), right(ops, x1, x2))
        binary = getattr(operator, name)
        return lambda ops, x1, x2: binary(left(ops, x1, x2), right(ops, x1, x2))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        unary = operator.neg if isinstance(node.op, ast.USub) else operator.pos
        operand = _formula_node(node.operand, text, used, depth + 1)
        return lambda ops, x1, x2: unary(operand(ops, x1, x2))
    if _is_function_call(node):
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        fn_name = node.func.id
        arg = _formula_node(node.args[0], text, used, depth + 1)
        return lambda ops, x1, x2: getattr(ops, fn_name)(arg(ops, x1, x2))
    raise ConfigError(
        f"The expression {_short(text)!r} contains {_describe(node)}, which is not allowed; "
        f"{FORMULA_GRAMMAR}."
    )


def _is_function_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
    )


def _constant(value: float, text: str) -> Node:
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(
            f"The expression {_short(text)!r} contains a number too large for a float."
        ) from None
    return lambda ops, x1, x2: ops.as_tensor(number, dtype=x1.dtype, device=x1.device)


def _describe(node: ast.AST) -> str:
    """The offending piece of the tree, in words the error message can show."""
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        if name in FUNCTIONS:
            return f"a call of {name} that does not take exactly one plain argument"
        return f"a call of {_short(name)!r}"
    if isinstance(node, ast.Constant):
        return f"the literal {_short(repr(node.value))}"
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp)):
        return f"the operator {type(node.op).__name__}"
    kind = NODE_WORDS.get(type(node).__name__, f"a {type(node).__name__} node")
    return f"{kind} ({_short(ast.unparse(node))!r})"


NODE_WORDS = {
    "Attribute": "an attribute access",
    "Subscript": "indexing",
    "Lambda": "a lambda",
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a generator",
    "Compare": "a comparison",
    "IfExp": "a conditional",
    "NamedExpr": "an assignment",
    "JoinedStr": "a string",
}


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------- checks


def parse_check(check: str) -> ast.Expression:
    """Parse and validate a check; raises ConfigError naming what is not allowed."""
    if len(check) > MAX_CHECK_LENGTH:
        raise ConfigError(f"expectation check is longer than {MAX_CHECK_LENGTH} characters.")
    try:
        tree = ast.parse(check, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        raise ConfigError(
            f"expectation check {check!r} is not a valid expression: {reason}."
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, CHECK_NODES):
            raise ConfigError(
                f"expectation check {check!r} uses {type(node).__name__}, which checks do not "
                "allow; use comparisons, and/or/not, arithmetic and the documented functions."
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ConfigError(f"expectation check {check!r} reads a private attribute.")
        if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name)):
            raise ConfigError(f"expectation check {check!r}: only plain calls like run('adam').")
        if isinstance(node, ast.Constant) and type(node.value) not in (int, float, str):
            raise ConfigError(f"expectation check {check!r}: constants must be numbers or strings.")
    if _depth(tree) > MAX_DEPTH:
        raise ConfigError(
            f"expectation check {check!r} is nested more than {MAX_DEPTH} levels deep."
        )
    return tree


def check_calls(tree: ast.Expression) -> list[str]:
    """The names of the functions a parsed check calls, in order of appearance."""
    return [
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    ]


def _depth(node: ast.AST) -> int:
    return 1 + max((_depth(child) for child in ast.iter_child_nodes(node)), default=0)
