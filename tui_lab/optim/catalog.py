"""The optimizer catalog: one entry per optimizer the lectures teach.

Each entry holds the hyperparameters it reads from ``OptimizerConfig`` with their lecture
defaults, the batch it fixes (batch GD, pure SGD) and the one screen of text the UI shows: the
update rule, when to use it, and how torch.optim's class relates to the lecture's rule. No
torch here (the option tree validates against it); optim/build.py builds each entry as the
torch.optim class (``impl = "torch"``, the fast default) or as the lecture's written-out rule
(``impl = "lecture"``, optim/lectures.py). Both take the same hyperparameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

IMPLS = ("torch", "lecture")

HYPERPARAMETER_HELP = {
    "lr": "η: learning rate (step size)",
    "momentum": "γ: share of the velocity v kept at each step",
    "beta1": "β1: decay of m, the running mean of g",
    "beta2": "β2: decay of v, the running mean of g² (Adam family)",
    "eps": "ε: keeps the division finite where the gradient history is ~0",
    "rho": "γ: decay of the running mean of g²",
    "weight_decay": "λ: decoupled weight decay, applied to θ directly",
}


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


_SGD_RULE = "θ ← θ − η·∇J(θ)"
_ADAM_MOMENTS = "m ← β1·m + (1−β1)·g        v ← β2·v + (1−β2)·g²"
_ADAM_CORRECTED = "m̂ = m/(1−β1ᵗ)    v̂ = v/(1−β2ᵗ)"
_ADAM_HP = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
_SAME_SGD = "torch.optim.SGD(lr=η): the same rule, identical to float32 rounding."
_MOMENTUM_NOTE = (
    "v = η·b, so with a constant η both agree; when η changes, torch rescales the whole "
    "velocity by the new η while the lecture's v keeps the old η on past gradients."
)

_ENTRIES = [
    OptimizerSpec(
        name="batch_gd",
        title="Batch gradient descent",
        defaults={"lr": 0.1},
        batch="full",
        formula=f"{_SGD_RULE}   (gradient of the whole training set: one step per epoch)",
        when=(
            "Consistent convergence, but each step is a full pass over the data (lecture: "
            "'too long per iteration'). The gradient is exact, so η can be larger than for SGD."
        ),
        torch_mapping=_SAME_SGD,
    ),
    OptimizerSpec(
        name="sgd_1",
        title="Stochastic (online) gradient descent, batch size 1",
        defaults={"lr": 0.01},
        batch="one",
        formula=f"{_SGD_RULE}   (gradient of one example x(i), y(i))",
        when=(
            "One update per example: loss and parameters fluctuate, which may find better minima "
            "but keeps overshooting; hard to parallelize; η matters a lot. Slow on a GPU."
        ),
        torch_mapping=_SAME_SGD,
    ),
    OptimizerSpec(
        name="sgd",
        title="Mini-batch SGD",
        defaults={"lr": 0.01},
        formula=f"{_SGD_RULE}   (gradient of one mini-batch of b examples)",
        when=(
            "The algorithm of choice and a good first pass (lecture: 'SGD as a first pass'): a "
            "mini-batch (50–256, powers of 2) lowers the variance and is computed in parallel."
        ),
        torch_mapping=_SAME_SGD,
    ),
    OptimizerSpec(
        name="momentum",
        title="SGD with momentum",
        defaults={"lr": 0.01, "momentum": 0.9},
        formula="v ← γ·v + η·∇J(θ)\nθ ← θ − v",
        when=(
            "Averages the last gradients to dampen oscillations across steep directions and "
            "speed up along shallow ones; γ ≈ 0.9."
        ),
        torch_mapping=f"torch.optim.SGD(momentum=γ): b ← γ·b + g, θ ← θ − η·b. {_MOMENTUM_NOTE}",
    ),
    OptimizerSpec(
        name="nesterov",
        title="Nesterov accelerated gradient (NAG)",
        defaults={"lr": 0.01, "momentum": 0.9},
        formula="v ← γ·v + η·∇J(θ − γ·v)\nθ ← θ − v",
        when=(
            "Momentum that first steps along the velocity, then corrects with the gradient there: "
            "faster convergence, fewer overshoots than plain momentum."
        ),
        torch_mapping=(
            "torch.optim.SGD(momentum=γ, nesterov=True). Both keep the look-ahead point θ − γ·v "
            f"in the model's parameters (that is where the gradient is taken). {_MOMENTUM_NOTE}"
        ),
    ),
    OptimizerSpec(
        name="adagrad",
        title="Adagrad",
        defaults={"lr": 0.01, "eps": 1e-8},
        formula="s ← s + g²\nθ ← θ − η/√(s + ε) · g",
        when=(
            "A learning rate per parameter: small steps for frequent features, large for rare "
            "ones (sparse data); little tuning of η. But s only grows, so the rate decays to zero "
            "and never forgets the past."
        ),
        torch_mapping=(
            "torch.optim.Adagrad divides by √s + ε (ε outside the root): identical at ε = 0; "
            "otherwise the lecture damps gradients below ≈ √ε, torch only those below ε."
        ),
    ),
    OptimizerSpec(
        name="rmsprop",
        title="RMSprop",
        defaults={"lr": 0.001, "rho": 0.9, "eps": 1e-8},
        formula="s ← γ·s + (1−γ)·g²\nθ ← θ − η/√(s + ε) · g",
        when=(
            "Adagrad that forgets: an exponential average instead of a sum keeps the rate from "
            "vanishing. Good for RNNs and non-stationary objectives; γ = 0.9, η = 0.001."
        ),
        torch_mapping=(
            "torch.optim.RMSprop(alpha=γ) divides by √s + ε (ε outside the root): identical at "
            "ε = 0; otherwise the lecture damps gradients below ≈ √ε, torch only those below ε."
        ),
        hyper_help={"rho": "γ: decay of s, the running mean of g²"},
    ),
    OptimizerSpec(
        name="adadelta",
        title="Adadelta",
        defaults={"lr": 1.0, "rho": 0.9, "eps": 1e-6},
        formula=(
            "E[g²] ← γ·E[g²] + (1−γ)·g²          RMS[x] = √(E[x²] + ε)\n"
            "Δθ = −RMS[Δθ]ₜ₋₁ / RMS[g]ₜ · g\n"
            "E[Δθ²] ← γ·E[Δθ²] + (1−γ)·Δθ²\n"
            "θ ← θ + η·Δθ        (η = 1: the lecture's rule)"
        ),
        when=(
            "Adaptive like RMSprop, with the step's units set by the RMS of past updates: no "
            "learning rate to tune. Starts slowly (first steps ~√ε)."
        ),
        torch_mapping="torch.optim.Adadelta(lr=η, rho=γ): the same rule, identical to rounding.",
        hyper_help={
            "lr": "η: multiplies Δθ; 1 is the lecture's rule (schedules still act on it)",
            "rho": "γ: decay of E[g²] and E[Δθ²]",
        },
    ),
    OptimizerSpec(
        name="adam",
        title="Adam (adaptive moment estimation)",
        defaults=dict(_ADAM_HP),
        formula=f"{_ADAM_MOMENTS}\n{_ADAM_CORRECTED}\nθ ← θ − η/(√v̂ + ε) · m̂",
        when=(
            "Adaptive + momentum: the robust default (lecture: 'Adam ... robust'). Works well "
            "with noisy data and sparse gradients and needs little tuning."
        ),
        torch_mapping="torch.optim.Adam: the same rule and bias correction, identical to rounding.",
    ),
    OptimizerSpec(
        name="adamax",
        title="AdaMax",
        defaults={"lr": 0.002, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        formula="m ← β1·m + (1−β1)·g        u ← max(β2·u, |g|)\nθ ← θ − η/(1−β1ᵗ)·m/(u + ε)",
        when=(
            "Adam generalized to the L∞ norm: the max needs no bias correction and is steadier "
            "when gradients are occasionally huge. η = 0.002."
        ),
        torch_mapping=(
            "torch.optim.Adamax puts ε inside the max, u ← max(β2·u, |g| + ε), and divides by "
            "u: identical at ε = 0, and its denominator is at most ε smaller otherwise."
        ),
        hyper_help={"beta2": "β2: decay of u, the running max of |g|"},
    ),
    OptimizerSpec(
        name="nadam",
        title="Nadam (Nesterov-accelerated Adam)",
        defaults={"lr": 0.002, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        formula=(
            f"{_ADAM_MOMENTS}\nv̂ = v/(1−β2ᵗ)\n"
            "θ ← θ − η/(√v̂ + ε) · (β1·m/(1−β1ᵗ⁺¹) + (1−β1)·g/(1−β1ᵗ))"
        ),
        when=(
            "Adam with Nesterov's look-ahead on the momentum term: often converges a little "
            "faster than Adam for the same η. η = 0.002."
        ),
        torch_mapping=(
            "torch.optim.NAdam replaces the constant β1 in the two coefficients by Dozat's "
            "warming schedule μₜ = β1·(1 − ½·0.96^(0.004·t)) (≈ β1/2 early on)."
        ),
    ),
    OptimizerSpec(
        name="amsgrad",
        title="AMSGrad",
        defaults=dict(_ADAM_HP),
        formula=f"{_ADAM_MOMENTS}\nv̂ ← max(v̂, v)\nθ ← θ − η/(√v̂ + ε) · m",
        when=(
            "When Adam 'forgets too fast': the max keeps each parameter's rate from growing "
            "back after a burst of large gradients (Reddi et al. 2018)."
        ),
        torch_mapping=(
            "torch.optim.Adam(amsgrad=True) also divides m by 1−β1ᵗ and max v by 1−β2ᵗ (Adam's "
            "bias correction), so its first steps are ≈ 3.2× smaller than the lecture's."
        ),
    ),
    OptimizerSpec(
        name="adamw",
        title="AdamW (Adam with decoupled weight decay)",
        defaults={**_ADAM_HP, "weight_decay": 0.01},
        formula=f"{_ADAM_MOMENTS}\n{_ADAM_CORRECTED}\nθ ← θ − η·(m̂/(√v̂ + ε) + λ·θ)",
        when=(
            "Adam plus regularization: decay θ directly instead of adding λ‖θ‖² to the loss "
            "(training.l2), which Adam's 1/√v̂ would rescale (Loshchilov & Hutter 2019)."
        ),
        torch_mapping="torch.optim.AdamW(weight_decay=λ): the same rule, identical to rounding.",
    ),
]

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _ENTRIES}
