"""The columns of every result file, in order, with the type each is read back as.

Column names are a documented, stable contract (README "Result files"): scripts and
notebooks read them. Each table is declared once here and both written and read (``--resume``,
``tui-lab open``) through it, so a column keeps its type on the way back: ``epoch`` is a whole
number in metrics.csv but a fraction in steps.csv.
"""

from __future__ import annotations

from typing import Any


class Columns:
    """One table's columns (name → type: int, float or str), in file order."""

    def __init__(self, **types: type) -> None:
        self.types = types

    @property
    def names(self) -> list[str]:
        return list(self.types)

    def __iter__(self):
        return iter(self.types)

    def __getitem__(self, index: slice) -> list[str]:
        return self.names[index]

    def without(self, *names: str) -> Columns:
        return Columns(**{k: t for k, t in self.types.items() if k not in names})

    def typed(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row read back from a CSV file: empty cells are None, numbers are numbers (a
        column this table does not declare, such as a searched parameter, is read as a number
        when it looks like one)."""
        return {k: read_cell(v, self.types.get(k)) for k, v in row.items()}


def read_cell(value: Any, kind: type | None) -> Any:
    """One cell as its column's type; raises ValueError for a cell that is not one."""
    if value in ("", None):
        return None
    if not isinstance(value, str) or kind is str:
        return value
    if kind is int:
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if kind is float:
        return float(value)
    try:
        return float(value)
    except ValueError:
        return value


METRICS = Columns(
    run=str,
    epoch=int,
    step=int,
    train_loss=float,
    train_acc=float,
    val_loss=float,
    val_acc=float,
    lr=float,
    seconds=float,
    epoch_seconds=float,
)
STEPS = Columns(
    run=str, step=int, epoch=float, loss=float, lr=float, samples_per_s=float, seconds=float
)
SUMMARY = Columns(
    run=str,
    status=str,
    best_val_acc=float,
    test_acc=float,
    test_loss=float,
    epochs=int,
    steps=int,
    seconds=float,
    epochs_to_target=int,
    diverged_at=int,
    error=str,
)
EXPECTATIONS = Columns(text=str, check=str, result=str)

# searches: trials.csv has one column per searched parameter between TRIALS and TRIALS_TAIL
TRIALS = Columns(study=str, number=int, state=str, status=str, value=float)
TRIALS_TAIL = Columns(
    epochs=int, seconds=float, pruned_at_epoch=int, attempts=int, reason=str
)
TRIAL_METRICS = Columns(study=str, trial=int, **METRICS.without("run").types)
BEST_TRIALS = Columns(study=str, trial=int, value=float, **SUMMARY.types)

# the 2-D toy problem
TRAJECTORIES = Columns(run=str, optimizer=str, lr=float, step=int, x1=float, x2=float, f=float)
TOY_SUMMARY = Columns(
    run=str,
    optimizer=str,
    lr=float,
    status=str,
    steps_to_converge=int,
    final_f=float,
    path_length=float,
    x2_reversals=int,
    diverged_at=int,
)
