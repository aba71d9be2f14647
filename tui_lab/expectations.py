"""Check a preset's ``expect`` block against results, without evaluating user text as Python.

A check is a tiny expression language parsed with ``ast`` and walked against an allow-list:
numbers, strings, ``and``/``or``/``not``, comparisons, + − × ÷, calls of the functions the
context provides (``run('adam').test_acc``, ``epochs_to('sgd', 0.85)`` ...) and attribute reads
on their results. Anything else (names, subscripts, lambdas, dunder attributes) is rejected.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from tui_lab.errors import ConfigError

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}  # fmt: skip
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv}  # fmt: skip
_BUILTINS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "abs": abs}
MAX_CHECK_LENGTH = 500


class Unavailable(Exception):
    """A value the check needs does not exist (a run diverged, never reached a target ...)."""


@dataclass(frozen=True)
class ExpectationResult:
    text: str
    check: str
    met: bool | None  # None: could not be decided (a value was unavailable), or does not apply
    detail: str
    applies: bool = True  # False: stated for another dataset than the one these runs used

    @property
    def label(self) -> str:
        if not self.applies:
            return "n/a"
        return {True: "met", False: "not met", None: "undecided"}[self.met]


def parse_check(check: str) -> ast.Expression:
    """Parse and validate a check; raises ConfigError naming what is not allowed."""
    if len(check) > MAX_CHECK_LENGTH:
        raise ConfigError(f"expectation check is longer than {MAX_CHECK_LENGTH} characters.")
    try:
        tree = ast.parse(check, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"expectation check {check!r} is not a valid expression: {exc.msg}.") from None
    allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub,
               ast.Compare, ast.BinOp, ast.Call, ast.Attribute, ast.Name, ast.Constant, ast.Load,
               *_COMPARE, *_BINARY)  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ConfigError(
                f"expectation check {check!r} uses {type(node).__name__}, which checks do not "
                "allow; use comparisons, and/or/not, arithmetic and the documented functions."
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ConfigError(f"expectation check {check!r} reads a private attribute.")
        if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name)):
            raise ConfigError(f"expectation check {check!r}: only plain calls like run('adam').")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)):
            raise ConfigError(f"expectation check {check!r}: constants must be numbers or strings.")
    return tree


def evaluate_check(check: str, functions: Mapping[str, Callable[..., Any]]) -> Any:
    funcs = {**_BUILTINS, **functions}

    def ev(node: ast.AST) -> Any:
        match node:
            case ast.Expression(body=body):
                return ev(body)
            case ast.Constant(value=value):
                return value
            case ast.BoolOp(op=ast.And(), values=values):
                return all(ev(v) for v in values)
            case ast.BoolOp(op=ast.Or(), values=values):
                return any(ev(v) for v in values)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not ev(operand)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -_number(ev(operand))
            case ast.BinOp(left=left, op=op, right=right):
                return _BINARY[type(op)](_number(ev(left)), _number(ev(right)))
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                value = ev(left)
                for op, comp in zip(ops, comparators, strict=True):
                    other = ev(comp)
                    if not _COMPARE[type(op)](_comparable(value), _comparable(other)):
                        return False
                    value = other
                return True
            case ast.Call(func=ast.Name(id=name), args=args):
                if name not in funcs:
                    raise ConfigError(
                        f"expectation check {check!r} calls unknown function {name!r}; "
                        f"available: {', '.join(sorted(funcs))}."
                    )
                return funcs[name](*[ev(a) for a in args])
            case ast.Attribute(value=value, attr=attr):
                obj = ev(value)
                if not isinstance(obj, SimpleNamespace) or not hasattr(obj, attr):
                    fields = ", ".join(sorted(vars(obj))) if isinstance(obj, SimpleNamespace) else ""
                    raise ConfigError(f"expectation check {check!r}: no field {attr!r} ({fields}).")
                return getattr(obj, attr)
            case ast.Name(id=name):
                raise ConfigError(f"expectation check {check!r}: unknown name {name!r}.")
        raise ConfigError(f"expectation check {check!r} is not supported.")

    return ev(parse_check(check))


def _number(v: Any) -> float:
    if v is None:
        raise Unavailable
    return v


def _comparable(v: Any) -> Any:
    if v is None:
        raise Unavailable
    return v


def check_all(expect: list[Any], functions: Mapping[str, Callable[..., Any]],
              datasets: set[str] | None = None) -> list[ExpectationResult]:  # fmt: skip
    """Evaluate each expectation; one stated for other datasets (``datasets = [...]`` in the
    preset) than the ``datasets`` the runs used is reported as not applicable."""
    out = []
    for e in expect:
        stated = getattr(e, "datasets", None)
        if stated and datasets and not datasets <= set(stated):
            detail = f"stated for {', '.join(stated)}; these runs used {', '.join(sorted(datasets))}"
            out.append(ExpectationResult(e.text, e.check, None, detail, applies=False))
            continue
        try:
            met = bool(evaluate_check(e.check, functions))
            out.append(ExpectationResult(e.text, e.check, met, "met" if met else "not met"))
        except Unavailable:
            out.append(ExpectationResult(e.text, e.check, None, "a value it needs is unavailable"))
        except (KeyError, ZeroDivisionError) as exc:
            out.append(ExpectationResult(e.text, e.check, None, f"cannot evaluate: {exc}"))
    return out


def comparison_functions(recorder: Any) -> dict[str, Callable[..., Any]]:
    """The functions checks may call on a comparison's results (documented in the README)."""

    def _known(name: str) -> None:
        if name not in recorder.summary:
            raise KeyError(f"no run named {name!r}")

    def run(name: str) -> SimpleNamespace:
        _known(name)
        s = dict(recorder.summary[name])
        epochs = [m for m in recorder.metrics if m["run"] == name]
        s["final_val_acc"] = epochs[-1]["val_acc"] if epochs else None
        s["final_train_loss"] = epochs[-1]["train_loss"] if epochs else None
        s["final_val_loss"] = epochs[-1]["val_loss"] if epochs else None
        return SimpleNamespace(**s)

    def epochs_to(name: str, acc: float) -> float:
        """First epoch whose validation accuracy reaches ``acc`` (inf if never)."""
        _known(name)
        hits = [m["epoch"] for m in recorder.metrics if m["run"] == name and (m["val_acc"] or 0) >= acc]
        return min(hits) if hits else math.inf

    def seconds_to(name: str, acc: float) -> float:
        _known(name)
        hits = [m["seconds"] for m in recorder.metrics if m["run"] == name and (m["val_acc"] or 0) >= acc]
        return min(hits) if hits else math.inf

    def _lrs(name: str) -> list[float]:
        _known(name)
        return [s["lr"] for s in recorder.steps if s["run"] == name] or [
            m["lr"] for m in recorder.metrics if m["run"] == name
        ]

    def lr_at_epoch(name: str, epoch: int) -> float | None:
        _known(name)
        return next((m["lr"] for m in recorder.metrics if m["run"] == name and m["epoch"] == epoch), None)

    def best_run() -> str:
        scored = [(v["test_acc"], k) for k, v in recorder.summary.items() if v["test_acc"] is not None]
        return max(scored)[1] if scored else ""

    def completed(name: str) -> bool:
        _known(name)
        return recorder.summary[name]["status"] == "completed"

    return {
        "run": run, "epochs_to": epochs_to, "seconds_to": seconds_to,
        "max_lr": lambda n: max(_lrs(n)), "min_lr": lambda n: min(_lrs(n)),
        "lr_at_epoch": lr_at_epoch, "best_run": best_run, "completed": completed,
    }  # fmt: skip
