"""The optimizer catalog: one entry per optimizer the lectures teach, read from
optimizers.toml beside this module.

Each entry holds the hyperparameters it reads from ``OptimizerConfig`` with their lecture
defaults, the batch it fixes (batch GD, pure SGD) and the one screen of text the UI shows: the
update rule, when to use it, and how torch.optim's class relates to the lecture's rule. No
torch here (the option tree validates against it); optim/build.py builds each entry as the
torch.optim class (``impl = "torch"``, the fast default) or as the lecture's written-out rule
(``impl = "lecture"``, optim/lectures.py). Both take the same hyperparameters.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

IMPLS = ("torch", "lecture")


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    title: str
    defaults: dict[str, float]
    formula: str
    when: str
    torch_mapping: str
    batch: Literal["full", "one"] | None = None  # batch GD / pure SGD fix the batch size
    hyper_help: dict[str, str] = field(default_factory=dict)  # overrides HYPERPARAMETER_HELP

    def hyperparameters(self) -> list[tuple[str, float, str]]:
        """(name, default, meaning) for each hyperparameter this optimizer reads."""
        help_for = HYPERPARAMETER_HELP | self.hyper_help
        return [(key, value, help_for[key]) for key, value in self.defaults.items()]

    def describe(self) -> str:
        """The one-screen description the UI shows: rule, hyperparameters, when to use, and
        how the torch implementation relates to the lecture's rule."""
        rows = self.hyperparameters()
        width = max(len(f"{k} = {v:g}") for k, v, _ in rows)
        hps = "\n".join(f"  {f'{k} = {v:g}':<{width}}  {meaning}" for k, v, meaning in rows)
        batch = {
            "full": "\n\nBatch: the whole training set per step (training.batch_size is ignored).",
            "one": "\n\nBatch: one example per step (training.batch_size is ignored).",
            None: "",
        }[self.batch]
        formula = "\n".join(f"  {line}" for line in self.formula.splitlines())
        return (
            f"{self.title}\n\n{formula}\n\nHyperparameters (defaults)\n{hps}{batch}\n\n"
            f"When to use\n  {self.when}\n\nPyTorch\n  {self.torch_mapping}"
        )


def _load() -> tuple[dict[str, str], dict[str, OptimizerSpec]]:
    text = resources.files(__package__).joinpath("optimizers.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    specs = {name: OptimizerSpec(name=name, **entry) for name, entry in data["optimizers"].items()}
    return data["hyperparameter_help"], specs


HYPERPARAMETER_HELP, OPTIMIZERS = _load()
