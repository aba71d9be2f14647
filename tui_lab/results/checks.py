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
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Generic, TypeVar

from tui_lab.config import Expectation, ExperimentConfig, configuration_of
from tui_lab.errors import ConfigError
from tui_lab.expressions import CHECK_BINARY, CHECK_COMPARE, check_calls, parse_check
from tui_lab.results.measured import (
    Measured,
    Verdict,
    all_of,
    any_of,
    arithmetic,
    compare,
    negate,
    pick,
)
from tui_lab.results.recorder import ResultsRecorder

CheckFunctions = Mapping[str, Callable[..., Any]]
T = TypeVar("T")
BUILTINS: dict[str, Callable[..., Any]] = {
    "min": lambda *v: pick(list(v), min),
    "max": lambda *v: pick(list(v), max),
    "abs": lambda v: v.map(abs, f"abs({v.label})") if isinstance(v, Measured) else abs(v),
    "mean": lambda v: v.mean if isinstance(v, Measured) else v,
    "ci": lambda v: v.interval().half_width if isinstance(v, Measured) else 0.0,
}


class Unavailable(Exception):
    """A value the check needs does not exist (a run diverged, never reached a target ...)."""


@dataclass(frozen=True)
class ExpectationResult:
    text: str
    check: str
    met: bool | None  # None: undecided (an interval across the line, a value unavailable), n/a
    detail: str  # the numbers it was decided on, with their intervals
    applies: bool = True  # False: stated for another dataset than the one these runs used

    @property
    def label(self) -> str:
        if not self.applies:
            return "n/a"
        return {True: "met", False: "not met", None: "undecided"}[self.met]

    @property
    def decided_on(self) -> str:
        """The check and the numbers (with their intervals) it was decided on; for a check
        that does not apply, why not."""
        if not self.applies:
            return self.detail
        return self.check + ("" if self.detail == self.label else f": {self.detail}")


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
                return all_of([_truth(ev(v)) for v in values])
            case ast.BoolOp(op=ast.Or(), values=values):
                return any_of([_truth(ev(v)) for v in values])
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return negate(_truth(ev(operand)))
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return arithmetic(operator.mul, -1.0, _number(ev(operand)), "×")
            case ast.BinOp(left=left, op=op, right=right):
                symbol = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "/"}[type(op)]
                return arithmetic(
                    CHECK_BINARY[type(op)], _number(ev(left)), _number(ev(right)), symbol
                )
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                value, parts = ev(left), []
                for op, comp in zip(ops, comparators, strict=True):
                    other = ev(comp)
                    a, b = _comparable(value, other)
                    check_op = CHECK_COMPARE[type(op)]
                    measured = isinstance(a, Measured) or isinstance(b, Measured)
                    parts.append(compare(a, check_op, b) if measured else check_op(a, b))
                    value = other
                return all_of(parts)
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


def _truth(v: Any) -> bool | Verdict:
    return v if isinstance(v, Verdict) else bool(v)


def _number(v: Any) -> float | Measured:
    if v is None:
        raise Unavailable
    if isinstance(v, Measured):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CheckTypeError(f"arithmetic needs numbers, not {v!r}")
    return v


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if a is None or b is None:
        raise Unavailable
    numbers = all(isinstance(v, (int, float, Measured)) for v in (a, b))
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
            value = evaluate_check(e.check, functions)
            if isinstance(value, Verdict):
                met = {"met": True, "not met": False, "undecided": None}[value.state]
                out.append(ExpectationResult(e.text, e.check, met, value.detail))
            else:
                met = bool(value)
                out.append(ExpectationResult(e.text, e.check, met, "met" if met else "not met"))
        except Unavailable:
            out.append(ExpectationResult(e.text, e.check, None, "a value it needs is unavailable"))
        except (
            KeyError,
            ValueError,
            ZeroDivisionError,
            OverflowError,
            CheckTypeError,
            ConfigError,
        ) as exc:
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
    return [
        {"text": e.text, "check": e.check, "result": e.label, "detail": e.detail} for e in results
    ]


VERDICTS = {"met": True, "not met": False, "undecided": None, "n/a": None}


def expectations_from_rows(rows: list[dict[str, Any]]) -> list[ExpectationResult]:
    """expectations.csv read back (``tui-lab open``): each verdict as it was given."""
    return [
        ExpectationResult(
            r["text"],
            r["check"],
            VERDICTS.get(r["result"]),
            r.get("detail") or r["result"],  # older exports lack it
            r["result"] != "n/a",
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
    """The functions checks may call on a comparison's results (documented in the README).
    A configuration trained with several seeds (runs ``adam@0``, ``adam@1``, …) answers with
    a value per seed (results/measured.py); a learning rate, the same for every seed, is one
    number."""

    def seeds(name: str) -> list[str]:
        ids = [run for run in recorder.summary if configuration_of(run) == name]
        if not ids:
            raise KeyError(f"no run named {name!r}")
        return ids

    def measured(label: str, values: list[Any]) -> Measured | str | None:
        """A field over seeds: text when all seeds agree on it, None when no seed has it."""
        found = [v for v in values if v is not None]
        if not found:
            return None
        if all(isinstance(v, str) for v in found):
            return found[0] if len(set(found)) == 1 else "mixed"
        return Measured(label, tuple(float(v) for v in found))

    def final(run: str, key: str) -> Any:
        epochs = [m for m in recorder.metrics if m["run"] == run]
        return epochs[-1][key] if epochs else None

    def run(name: str) -> SimpleNamespace:
        ids = seeds(name)
        fields = dict(recorder.summary[ids[0]])
        per_seed = {k: [recorder.summary[i][k] for i in ids] for k in fields}
        for key in ("val_acc", "train_loss", "val_loss"):
            per_seed[f"final_{key}"] = [final(i, key) for i in ids]
        return SimpleNamespace(
            **{k: measured(f"run({name!r}).{k}", v) for k, v in per_seed.items() if k != "run"},
            run=name,
        )

    def first_reaching(name: str, acc: float, key: str, label: str) -> Measured:
        """Per seed, the first epoch's ``key`` whose validation accuracy reaches ``acc`` (∞ for
        a seed that never did)."""
        values = []
        for i in seeds(name):
            hits = [
                m[key] for m in recorder.metrics if m["run"] == i and (m["val_acc"] or 0) >= acc
            ]
            values.append(min(hits) if hits else math.inf)
        return Measured(f"{label}({name!r}, {acc:g})", tuple(values))

    def _lrs(name: str) -> list[float]:
        first = seeds(name)[0]  # the schedule is the same for every seed
        return [s["lr"] for s in recorder.steps if s["run"] == first] or [
            m["lr"] for m in recorder.metrics if m["run"] == first
        ]

    def lr_at_epoch(name: str, epoch: int) -> float | None:
        first = seeds(name)[0]
        return next(
            (m["lr"] for m in recorder.metrics if m["run"] == first and m["epoch"] == epoch), None
        )

    def best_run() -> str:
        scored: dict[str, list[float]] = {}
        for run_id, row in recorder.summary.items():
            if row["test_acc"] is not None:
                scored.setdefault(configuration_of(run_id), []).append(row["test_acc"])
        return max(scored, key=lambda n: sum(scored[n]) / len(scored[n])) if scored else ""

    def completed(name: str) -> bool:
        return all(recorder.summary[i]["status"] == "completed" for i in seeds(name))

    def better(a: str, b: str, metric: str = "test_acc") -> Verdict:
        """Whether ``a`` beats ``b`` on ``metric`` beyond noise: higher for accuracies, lower
        for losses and seconds (Welch's interval of the difference)."""
        if metric not in LOWER_IS_BETTER and metric not in HIGHER_IS_BETTER:
            known = ", ".join(sorted(LOWER_IS_BETTER | HIGHER_IS_BETTER))
            raise CheckTypeError(f"better(): unknown metric {metric!r} (one of: {known})")
        va, vb = getattr(run(a), metric), getattr(run(b), metric)
        if va is None or vb is None:
            raise Unavailable
        op = operator.lt if metric in LOWER_IS_BETTER else operator.gt
        return compare(va, op, vb)

    return {
        "run": run,
        "epochs_to": lambda name, acc: first_reaching(name, acc, "epoch", "epochs_to"),
        "seconds_to": lambda name, acc: first_reaching(name, acc, "seconds", "seconds_to"),
        "max_lr": lambda n: max(_lrs(n)),
        "min_lr": lambda n: min(_lrs(n)),
        "lr_at_epoch": lr_at_epoch,
        "best_run": best_run,
        "completed": completed,
        "better": better,
    }


HIGHER_IS_BETTER = {"test_acc", "best_val_acc", "final_val_acc"}
LOWER_IS_BETTER = {"test_loss", "final_train_loss", "final_val_loss", "seconds"}
