"""The columns of every result file, in order, with the type each is read back as.

Column names are a documented, stable contract (README "Result files"): scripts and
notebooks read them. Each table is declared once here and both written and read (``--resume``,
``tui-lab open``) through it, so a column keeps its type on the way back: ``epoch`` is a whole
number in metrics.csv but a fraction in steps.csv.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Columns:
    """One table's columns in file order, each with its type: written ``name`` (a float),
    ``name:int`` or ``name:str``."""

    KINDS: ClassVar[dict[str, type]] = {"int": int, "str": str, "float": float}

    def __init__(self, spec: str = "", **types: type) -> None:
        self.types: dict[str, type] = {}
        for token in spec.split():
            name, _, kind = token.partition(":")
            self.types[name] = self.KINDS[kind or "float"]
        self.types.update(types)

    @property
    def names(self) -> list[str]:
        return list(self.types)

    def __iter__(self):
        return iter(self.types)

    def __getitem__(self, index: slice) -> list[str]:
        return self.names[index]

    def __add__(self, other: Columns) -> Columns:
        return Columns(**self.types, **other.types)

    def without(self, *names: str) -> Columns:
        return Columns(**{k: t for k, t in self.types.items() if k not in names})

    def typed(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row read back from a CSV file: empty cells are None, numbers are numbers (a
        column this table does not declare, such as a searched parameter, is read as a number
        when it looks like one)."""
        return {k: read_cell(v, self.types.get(k)) for k, v in row.items()}


def read_cell(value: Any, kind: type | None) -> Any:
    """One cell (CSV text, or a JSON value) as its column's type; raises ValueError for a cell
    that is not one."""
    if value is None or value == "":
        return None
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not text")
        return value
    if kind is None:
        if not isinstance(value, str):
            return value
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a number")
    number = float(value)
    if kind is int:
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    return number


METRICS = Columns(
    "run:str epoch:int step:int train_loss train_acc val_loss val_acc lr seconds epoch_seconds"
)
STEPS = Columns("run:str step:int epoch loss lr samples_per_s seconds")
SUMMARY = Columns(
    "run:str status:str best_val_acc test_acc test_loss epochs:int steps:int seconds "
    "epochs_to_target:int diverged_at:int error:str"
)
EXPECTATIONS = Columns("text:str check:str result:str detail:str")
# what the optimizer did, every training.internals_every steps: a row per layer, and a row
# "all" for the whole model with the buffers' norm and Adam's bias corrections
INTERNALS = Columns(
    "run:str step:int layer:str grad_norm update_ratio eff_lr_median eff_lr_p10 eff_lr_p90 "
    "momentum_norm bias_correction1 bias_correction2"
)
SHARPNESS = Columns("run:str step:int sharpness two_over_lr")
# one row per configuration of a comparison: its seeds' mean and the half-width of its t-based
# 95% confidence interval (results/stats.py); empty intervals for a single seed
AGGREGATE = Columns(
    "run:str seeds:int test_acc_mean test_acc_ci95 best_val_acc_mean best_val_acc_ci95 seconds_mean"
)


def seeded(columns: Columns) -> Columns:
    """A comparison's table as written: ``run`` names the configuration and ``seed`` the seed
    (in memory a run of several seeds is ``adam@3``, config.with_seeds)."""
    return Columns("run:str seed:int") + columns.without("run")


# a comparison's files (aggregate.csv is derived from summary.csv, so not read back)
COMPARISON_FILES = {
    "metrics": seeded(METRICS),
    "steps": seeded(STEPS),
    "summary": seeded(SUMMARY),
    "internals": seeded(INTERNALS),
    "sharpness": seeded(SHARPNESS),
}

# searches: trials.csv has one column per searched parameter between TRIALS and TRIALS_TAIL
TRIALS = Columns("study:str number:int state:str status:str value")
TRIALS_TAIL = Columns("epochs:int seconds pruned_at_epoch:int attempts:int reason:str")
TRIAL_METRICS = Columns("study:str trial:int") + METRICS.without("run")
BEST_TRIALS = Columns("study:str trial:int value") + SUMMARY

# the 2-D toy problem
TRAJECTORIES = Columns("run:str optimizer:str lr step:int x1 x2 f")
TOY_SUMMARY = Columns(
    "run:str optimizer:str lr status:str steps_to_converge:int final_f path_length "
    "x2_reversals:int diverged_at:int"
)
