"""A safe expression language for the 2-D toy problem's user-supplied functions f(x1, x2).

No user text is ever evaluated as Python: ``ast.parse(text, mode="eval")`` only builds a syntax
tree, and this module walks that tree itself, accepting an allow-listed grammar and turning it
into a closure over torch operations (so gradients come from autograd):

    expr     := number | variable | constant | expr OP expr | -expr | +expr | (expr) | FN(expr)
    OP       := + - * / ** ^        (``^`` is read as ``**``: power, with its precedence)
    variable := x1 x2 (aliases x y)     constant := pi e
    FN       := sin cos exp log sqrt abs tanh

Anything else (names, attributes, subscripts, keyword arguments, lambdas, comprehensions,
strings, comparisons ...) is a ``ConfigError``, as is text longer than ``MAX_LENGTH`` or nested
deeper than ``MAX_DEPTH``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import torch

from tui_lab.errors import ConfigError

MAX_LENGTH = 400
MAX_DEPTH = 40

Node = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

VARIABLES: dict[str, int] = {"x1": 0, "x2": 1, "x": 0, "y": 1}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": torch.sin,
    "cos": torch.cos,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "tanh": torch.tanh,
}
BINARY: dict[type[ast.operator], Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: torch.pow,
}
UNARY: dict[type[ast.unaryop], Callable[[torch.Tensor], torch.Tensor]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}

GRAMMAR = (
    "an expression may use x1 and x2 (or x and y), numbers, pi, e, + - * / ** ^, parentheses "
    "and the functions " + " ".join(FUNCTIONS)
)


@dataclass(frozen=True)
class Expression:
    """A parsed f(x1, x2): call it with two tensors (any broadcastable shapes)."""

    text: str
    variables: frozenset[int]
    _node: Node

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self._node(x1, x2)


def parse(text: str) -> Expression:
    """Parse ``text`` in the allow-listed grammar; ``ConfigError`` names what is not allowed."""
    if len(text) > MAX_LENGTH:
        raise ConfigError(
            f"The expression is {len(text)} characters long; the limit is {MAX_LENGTH}."
        )
    if not text.strip():
        raise ConfigError(f"The expression is empty; {GRAMMAR}.")
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")  # ^ binds like **
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        raise ConfigError(
            f"Cannot parse the expression {_short(text)!r}: {reason}; {GRAMMAR}."
        ) from None
    used: set[int] = set()
    node = _build(tree.body, text, used, depth=0)
    if not used:
        raise ConfigError(
            f"The expression {_short(text)!r} is a constant; it must depend on x1 or x2."
        )
    return Expression(text, frozenset(used), node)


def _build(node: ast.AST, text: str, used: set[int], depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise ConfigError(
            f"The expression {_short(text)!r} is nested more than {MAX_DEPTH} levels deep."
        )
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _constant(node.value, text)
    if isinstance(node, ast.Name) and node.id in VARIABLES:
        index = VARIABLES[node.id]
        used.add(index)
        return (lambda x1, x2: x1) if index == 0 else (lambda x1, x2: x2)
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return _constant(CONSTANTS[node.id], text)
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        op = BINARY[type(node.op)]
        left = _build(node.left, text, used, depth + 1)
        right = _build(node.right, text, used, depth + 1)
        return lambda x1, x2: op(left(x1, x2), right(x1, x2))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        uop = UNARY[type(node.op)]
        operand = _build(node.operand, text, used, depth + 1)
        return lambda x1, x2: uop(operand(x1, x2))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
    ):
        fn = FUNCTIONS[node.func.id]
        arg = _build(node.args[0], text, used, depth + 1)
        return lambda x1, x2: fn(arg(x1, x2))
    raise ConfigError(
        f"The expression {_short(text)!r} contains {_describe(node)}, which is not allowed; {GRAMMAR}."
    )


def _constant(value: float, text: str) -> Node:
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(
            f"The expression {_short(text)!r} contains a number too large for a float."
        ) from None
    return lambda x1, x2: torch.as_tensor(number, dtype=x1.dtype, device=x1.device)


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
