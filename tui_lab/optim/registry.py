"""The optimizer registry: one table entry per optimizer the lectures teach.

Each entry names the torch.optim class it maps to (``impl = "torch"``), the lecture's
written-out rule (``impl = "lecture"``, see lectures.py), the hyperparameters it reads from
``OptimizerConfig`` with their lecture defaults, and the text the UI shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

Factory = Callable[[Iterable[torch.nn.Parameter], dict[str, float]], torch.optim.Optimizer]


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    title: str
    torch: Factory
    defaults: dict[str, float]
    formula: str
    when: str
    lecture: Factory | None = None
    batch: Literal["full", "one"] | None = None  # batch GD / pure SGD fix the batch size
    notes: str = ""
    hyper_help: dict[str, str] = field(default_factory=dict)

    def build(self, params: Iterable[torch.nn.Parameter], hp: dict[str, float], impl: str):
        factory = self.lecture if impl == "lecture" else self.torch
        if factory is None:
            raise ValueError(f"optimizer {self.name!r} has no {impl} implementation")
        return factory(params, hp)

    def describe(self) -> str:
        """The one-screen description the UI shows: rule, hyperparameters, when to use."""
        hps = ", ".join(f"{k}={v:g}" for k, v in self.defaults.items())
        text = f"{self.title}\n\n{self.formula}\n\nHyperparameters (defaults): {hps}\n\n{self.when}"
        return text + (f"\n\n{self.notes}" if self.notes else "")


def _sgd(params: Iterable[torch.nn.Parameter], hp: dict[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=hp["lr"])


def _momentum(params, hp):
    return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"])


def _nesterov(params, hp):
    return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"], nesterov=True)


def _rmsprop(params, hp):
    return torch.optim.RMSprop(params, lr=hp["lr"], alpha=hp["rho"], eps=hp["eps"])


def _adam(params, hp):
    return torch.optim.Adam(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])


_SGD_RULE = "θ ← θ − η·∇J(θ)"

_ENTRIES = [
    OptimizerSpec(
        name="sgd",
        title="Mini-batch SGD",
        torch=_sgd,
        defaults={"lr": 0.01},
        formula=f"{_SGD_RULE}   (gradient of one mini-batch of b examples)",
        when="The baseline and a good first pass (lecture: 'SGD as a first pass').",
    ),
    OptimizerSpec(
        name="momentum",
        title="SGD with momentum",
        torch=_momentum,
        defaults={"lr": 0.01, "momentum": 0.9},
        formula="v ← γ·v + η·∇J(θ)\nθ ← θ − v",
        when="Dampens oscillations along steep directions; γ ≈ 0.9.",
    ),
    OptimizerSpec(
        name="nesterov",
        title="Nesterov accelerated gradient (NAG)",
        torch=_nesterov,
        defaults={"lr": 0.01, "momentum": 0.9},
        formula="v ← γ·v + η·∇J(θ − γ·v)\nθ ← θ − v",
        when="Momentum that looks ahead before correcting: faster, fewer overshoots.",
    ),
    OptimizerSpec(
        name="rmsprop",
        title="RMSprop",
        torch=_rmsprop,
        defaults={"lr": 0.001, "rho": 0.9, "eps": 1e-8},
        formula="s ← γ·s + (1−γ)·∇J(θ)²\nθ ← θ − η/√(s+ε) · ∇J(θ)",
        when="Adaptive per-parameter rate that forgets the past; good for RNNs; η = 0.001.",
    ),
    OptimizerSpec(
        name="adam",
        title="Adam (adaptive moment estimation)",
        torch=_adam,
        defaults={"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        formula=(
            "m ← β1·m + (1−β1)·g      v ← β2·v + (1−β2)·g²\n"
            "m̂ = m/(1−β1ᵗ)            v̂ = v/(1−β2ᵗ)\n"
            "θ ← θ − η/(√v̂ + ε) · m̂"
        ),
        when="Adaptive + momentum: the robust default (lecture: 'Adam ... robust').",
    ),
]

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _ENTRIES}
