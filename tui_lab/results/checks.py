"""Check a preset's ``expect`` block against results, without evaluating user text as Python.

A check is parsed by expressions.parse_check (an allow-listed grammar) and walked here against
the functions of the job that ran: each kind of job has one table of them
(``comparison_functions`` below, search/checks.py, toy2d/checks.py). Arithmetic takes numbers
only and comparisons numbers or strings on both sides, so no check can build a huge value;
a check that cannot be evaluated is *undecided* with the reason, never an error after training.
Function names are checked before anything trains (``validate_checks``).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from tui_lab.config import Expectation, ExperimentConfig
from tui_lab.errors import ConfigError
from tui_lab.expressions import CHECK_BINARY, CHECK_COMPARE, check_calls, parse_check
from tui_lab.results.recorder import ResultsRecorder

CheckFunctions = Mapping[str, Callable[..., Any]]
T = TypeVar("T")
BUILTINS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "abs": abs}


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


class CheckTypeError(Exception):
    """A check combines values it cannot (text with numbers, a call with the wrong arguments)."""


def evaluate_check(check: str, functions: CheckFunctions) -> Any:
    funcs = {**BUILTINS, **functions}

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
                return CHECK_BINARY[type(op)](_number(ev(left)), _number(ev(right)))
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                value = ev(left)
                for op, comp in zip(ops, comparators, strict=True):
                    other = ev(comp)
                    if not CHECK_COMPARE[type(op)](*_comparable(value, other)):
                        return False
                    value = other
                return True
            case ast.Call(func=ast.Name(id=name), args=args):
                if name not in funcs:
                    raise ConfigError(_unknown_function(check, name, funcs))
                values = [ev(a) for a in args]
                try:
                    return funcs[name](*values)
                except TypeError as exc:
                    raise CheckTypeError(f"{name}(): {exc}") from None
            case ast.Attribute(value=value, attr=attr):
                obj = ev(value)
                if not isinstance(obj, SimpleNamespace) or not hasattr(obj, attr):
                    fields = (
                        ", ".join(sorted(vars(obj))) if isinstance(obj, SimpleNamespace) else ""
                    )
                    raise CheckTypeError(f"no field {attr!r}" + (f" ({fields})" if fields else ""))
                return getattr(obj, attr)
            case ast.Name(id=name):
                raise ConfigError(f"expectation check {check!r}: unknown name {name!r}.")
        raise ConfigError(f"expectation check {check!r} is not supported.")

    return ev(parse_check(check))


def _unknown_function(check: str, name: str, funcs: CheckFunctions) -> str:
    return (
        f"expectation check {check!r} calls unknown function {name!r}; "
        f"available: {', '.join(sorted(funcs))}."
    )


def _number(v: Any) -> float:
    if v is None:
        raise Unavailable
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CheckTypeError(f"arithmetic needs numbers, not {v!r}")
    return v


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if a is None or b is None:
        raise Unavailable
    numbers = all(isinstance(v, (int, float)) for v in (a, b))
    if not numbers and not all(isinstance(v, str) for v in (a, b)):
        raise CheckTypeError(f"cannot compare {a!r} with {b!r}")
    return a, b


def validate_checks(expect: list[Expectation], functions: CheckFunctions) -> None:
    """Refuse, before anything trains, a check that calls a function this job does not have."""
    funcs = {**BUILTINS, **functions}
    for e in expect:
        unknown = next((n for n in check_calls(parse_check(e.check)) if n not in funcs), None)
        if unknown is not None:
            raise ConfigError(_unknown_function(e.check, unknown, funcs))


def check_all(
    expect: list[Expectation], functions: CheckFunctions, datasets: set[str] | None = None
) -> list[ExpectationResult]:
    """Evaluate each expectation; one stated for other datasets (``datasets = [...]`` in the
    preset) than the ``datasets`` the runs used is reported as not applicable."""
    out = []
    for e in expect:
        stated = e.datasets
        if stated and datasets and not datasets <= set(stated):
            detail = (
                f"stated for {', '.join(stated)}; these runs used {', '.join(sorted(datasets))}"
            )
            out.append(ExpectationResult(e.text, e.check, None, detail, applies=False))
            continue
        try:
            met = bool(evaluate_check(e.check, functions))
            out.append(ExpectationResult(e.text, e.check, met, "met" if met else "not met"))
        except Unavailable:
            out.append(ExpectationResult(e.text, e.check, None, "a value it needs is unavailable"))
        except (KeyError, ZeroDivisionError, OverflowError, CheckTypeError, ConfigError) as exc:
            out.append(ExpectationResult(e.text, e.check, None, f"cannot evaluate: {exc}"))
    return out


@dataclass(frozen=True)
class JobOutcome(Generic[T]):
    """How a job (a comparison, a search) ended: its status, its results and the preset's
    expectations checked against them."""

    status: str
    results: tuple[T, ...]
    expectations: tuple[ExpectationResult, ...]


def expectation_rows(results: list[ExpectationResult]) -> list[dict[str, Any]]:
    """expectations.csv: one row per expectation."""
    return [{"text": e.text, "check": e.check, "result": e.label} for e in results]


VERDICTS = {"met": True, "not met": False, "undecided": None, "n/a": None}


def expectations_from_rows(rows: list[dict[str, Any]]) -> list[ExpectationResult]:
    """expectations.csv read back (``tui-lab open``): each verdict as it was given."""
    return [
        ExpectationResult(
            r["text"], r["check"], VERDICTS.get(r["result"]), r["result"], r["result"] != "n/a"
        )
        for r in rows
    ]


def comparison_expectations(
    cfg: ExperimentConfig, recorder: ResultsRecorder
) -> list[ExpectationResult]:
    """The preset's expectations against a comparison's results, for the datasets its runs used."""
    datasets = recorder.datasets() or {cfg.base.data.dataset}
    return check_all(cfg.expect, comparison_functions(recorder), datasets)


def comparison_functions(recorder: ResultsRecorder) -> dict[str, Callable[..., Any]]:
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
        hits = [
            m["epoch"] for m in recorder.metrics if m["run"] == name and (m["val_acc"] or 0) >= acc
        ]
        return min(hits) if hits else math.inf

    def seconds_to(name: str, acc: float) -> float:
        _known(name)
        hits = [
            m["seconds"]
            for m in recorder.metrics
            if m["run"] == name and (m["val_acc"] or 0) >= acc
        ]
        return min(hits) if hits else math.inf

    def _lrs(name: str) -> list[float]:
        _known(name)
        return [s["lr"] for s in recorder.steps if s["run"] == name] or [
            m["lr"] for m in recorder.metrics if m["run"] == name
        ]

    def lr_at_epoch(name: str, epoch: int) -> float | None:
        _known(name)
        return next(
            (m["lr"] for m in recorder.metrics if m["run"] == name and m["epoch"] == epoch), None
        )

    def best_run() -> str:
        scored = [
            (v["test_acc"], k) for k, v in recorder.summary.items() if v["test_acc"] is not None
        ]
        return max(scored)[1] if scored else ""

    def completed(name: str) -> bool:
        _known(name)
        return recorder.summary[name]["status"] == "completed"

    return {
        "run": run,
        "epochs_to": epochs_to,
        "seconds_to": seconds_to,
        "max_lr": lambda n: max(_lrs(n)),
        "min_lr": lambda n: min(_lrs(n)),
        "lr_at_epoch": lr_at_epoch,
        "best_run": best_run,
        "completed": completed,
    }
