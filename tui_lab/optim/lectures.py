"""The lectures' update rules written out, one small ``torch.optim.Optimizer`` per rule.

Notation follows the lectures (dataflowr module 4, ECE 596 "Network training"): θ the
parameters, g = ∇J(θ) the mini-batch gradient, η the learning rate, t the step (from 1).
Each class keeps the lecture's variables as its state (``v``, ``s``, ``m`` ...) so the UI and
the tests can compare them with ``torch.optim``'s buffers. Where the lecture's form is not
PyTorch's, the class docstring states the exact mapping; tests/test_optim_zoo.py proves it.

These are written for reading, not speed: one plain loop over parameters, no foreach kernels.
Every rule reads ``lr`` from its param group at each step, so learning-rate schedules work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

State = dict[str, Any]
Group = dict[str, Any]


class LectureOptimizer(torch.optim.Optimizer):
    """The loop every rule shares: zero-initialized state buffers, a step count t, and one
    call of ``update`` per parameter that has a gradient."""

    buffers: tuple[str, ...] = ()
    """Names of the per-parameter state tensors, each starting at zero (v₀ = s₀ = m₀ = 0)."""
    hyperparameters: tuple[str, ...] = ("lr",)
    """The rule's hyperparameters, each required (optim/catalog.py holds their defaults)."""

    def __init__(self, params: Iterable[Tensor], **hyperparameters: float):
        given, wanted = set(hyperparameters), set(self.hyperparameters)
        if given != wanted:
            raise TypeError(
                f"{type(self).__name__} takes {', '.join(self.hyperparameters)}; "
                f"got {', '.join(sorted(given)) or 'none'}"
            )
        super().__init__(params, hyperparameters)

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def iterate(self, p: Tensor) -> Tensor:
        """The lecture's θ for parameter ``p``: what the lecture's update writes, drawn and
        exported as the path. Most rules keep θ in the parameter itself."""
        return p.detach().clone()

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._advance(p, p.grad, group)
        return loss

    @torch.no_grad()
    def step_with(self, p: Tensor, g: Tensor) -> None:
        """One step of parameter ``p`` with the gradient ``g`` given: the same rule as
        ``step``, without torch's per-step hooks (the 2-D toy takes 1000 steps at a time)."""
        group = next(gr for gr in self.param_groups if any(q is p for q in gr["params"]))
        self._advance(p, g, group)

    def _advance(self, p: Tensor, g: Tensor, group: Group) -> None:
        state = self.state[p]
        if not state:
            state["step"] = 0
            for name in self.buffers:
                state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        self.update(p, g, state, group)


def _ema(average: Tensor, value: Tensor, decay: float) -> Tensor:
    """average ← decay·average + (1−decay)·value, in place."""
    return average.mul_(decay).add_(value, alpha=1.0 - decay)


class LectureSGD(LectureOptimizer):
    """θ ← θ − η·∇J(θ) — batch GD, pure SGD and mini-batch SGD differ only in the batch the
    gradient is taken on (the registry fixes it). Identical to ``torch.optim.SGD(lr=η)``."""

    hyperparameters = ("lr",)

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        p.add_(g, alpha=-group["lr"])


class LectureMomentum(LectureOptimizer):
    """v ← γ·v + η·∇J(θ);  θ ← θ − v.

    PyTorch keeps b ← γ·b + g and steps θ ← θ − η·b, i.e. η sits outside the velocity: with a
    constant η the two coincide (v = η·b). When η changes between steps they differ: the
    lecture's v keeps the old η on past gradients, torch rescales all of b by the new η; after
    a change η₁ → η₂, θ_torch − θ_lecture = γ·(η₁ − η₂)·b (tested)."""

    buffers = ("v",)

    hyperparameters = ("lr", "momentum")

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        v = state["v"]
        v.mul_(group["momentum"]).add_(g, alpha=group["lr"])
        p.sub_(v)


class LectureNesterov(LectureOptimizer):
    """v ← γ·v + η·∇J(θ − γ·v);  θ ← θ − v.

    The gradient is needed at the look-ahead point θ − γ·v, so the parameters the model sees
    hold φ = θ − γ·v (the standard change of variables; φ = θ at the start since v₀ = 0).
    After ``backward`` p.grad is then exactly ∇J(θ − γ·v). A step recovers θ = φ + γ·v,
    applies the lecture's two lines, and stores the next look-ahead φ = θ − γ·v.

    Substituting gives φ ← φ − η·g − γ·v_new, which is ``torch.optim.SGD(nesterov=True)`` with
    v = η·b: torch's parameters are this same look-ahead sequence φ (tested to float32
    tolerance), and the lecture's θ is p + γ·v. η placement is as in ``LectureMomentum``; after
    a change η₁ → η₂, φ_torch − φ_lecture = γ²·(η₁ − η₂)·b (tested)."""

    buffers = ("v",)

    hyperparameters = ("lr", "momentum")

    @torch.no_grad()
    def iterate(self, p: Tensor) -> Tensor:
        """θ = φ + γ·v: the parameter holds the look-ahead point φ."""
        v = self.state[p].get("v")
        gamma = next(g["momentum"] for g in self.param_groups if any(q is p for q in g["params"]))
        return p.detach().clone() if v is None else p.detach() + gamma * v

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        v, gamma = state["v"], group["momentum"]
        p.add_(v, alpha=gamma)  # θ = φ + γ·v
        v.mul_(gamma).add_(g, alpha=group["lr"])  # v ← γ·v + η·∇J(θ − γ·v)
        p.sub_(v)  # θ ← θ − v
        p.sub_(v, alpha=gamma)  # φ = θ − γ·v: where the next gradient is taken


class LectureAdagrad(LectureOptimizer):
    """s ← s + g²;  θ ← θ − η/√(s + ε) · g   (ε inside the root, as the lecture writes it).

    ``torch.optim.Adagrad`` divides by √s + ε instead. Everything else is identical, so at
    ε = 0 the two coincide (tested); for ε > 0 one step differs by exactly
    η·g·(1/(√s + ε) − 1/√(s + ε)) (tested). Inside the root ε competes with g², outside with
    |g|: the lecture's rule damps coordinates whose gradients are below about √ε (1e-4 at
    ε = 1e-8), torch's only those below ε."""

    buffers = ("s",)

    hyperparameters = ("lr", "eps")

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        s = state["s"]
        s.addcmul_(g, g)
        p.addcdiv_(g, s.add(group["eps"]).sqrt_(), value=-group["lr"])


class LectureRMSprop(LectureOptimizer):
    """s ← γ·s + (1−γ)·g²;  θ ← θ − η/√(s + ε) · g   (ε inside the root).

    ``torch.optim.RMSprop(alpha=γ)`` divides by √s + ε instead; as for Adagrad the two coincide
    at ε = 0 and differ in one step by exactly η·g·(1/(√s + ε) − 1/√(s + ε)), i.e. the lecture
    damps gradients below about √ε where torch damps those below ε (tested)."""

    buffers = ("s",)

    hyperparameters = ("lr", "rho", "eps")

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        s = state["s"]
        s.mul_(group["rho"]).addcmul_(g, g, value=1.0 - group["rho"])
        p.addcdiv_(g, s.add(group["eps"]).sqrt_(), value=-group["lr"])


class LectureAdadelta(LectureOptimizer):
    """E[g²] ← γ·E[g²] + (1−γ)·g²;   Δθ = −RMS[Δθ]ₜ₋₁ / RMS[g]ₜ · g;
    E[Δθ²] ← γ·E[Δθ²] + (1−γ)·Δθ²;   θ ← θ + η·Δθ,   with RMS[x] = √(E[x²] + ε).

    The lecture's rule has no learning rate: it is η = 1 (the default). η is kept as a plain
    multiplier so schedules still act; ``torch.optim.Adadelta(lr=η, rho=γ)`` is the same rule,
    identical to float32 rounding."""

    buffers = ("eg2", "edx2")

    hyperparameters = ("lr", "rho", "eps")

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        rho, eps = group["rho"], group["eps"]
        eg2, edx2 = state["eg2"], state["edx2"]
        eg2.mul_(rho).addcmul_(g, g, value=1.0 - rho)
        delta = edx2.add(eps).sqrt_().div_(eg2.add(eps).sqrt_()).mul_(g).neg_()
        edx2.mul_(rho).addcmul_(delta, delta, value=1.0 - rho)
        p.add_(delta, alpha=group["lr"])


class LectureAdam(LectureOptimizer):
    """m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²;
    m̂ = m/(1−β1ᵗ);   v̂ = v/(1−β2ᵗ);   θ ← θ − η/(√v̂ + ε) · m̂.

    Exactly ``torch.optim.Adam(betas=(β1, β2))`` (same ε placement, same bias correction)."""

    buffers = ("m", "v")

    hyperparameters = ("lr", "beta1", "beta2", "eps")

    def moments(self, g: Tensor, state: State, group: Group) -> tuple[Tensor, Tensor]:
        """Update and return the raw moving averages (m, v) of g and g²."""
        m, v = state["m"], state["v"]
        _ema(m, g, group["beta1"])
        v.mul_(group["beta2"]).addcmul_(g, g, value=1.0 - group["beta2"])
        return m, v

    def adam_direction(self, g: Tensor, state: State, group: Group) -> Tensor:
        """m̂ / (√v̂ + ε): the bias-corrected step of length ~1 that η scales."""
        m, v = self.moments(g, state, group)
        t = state["step"]
        v_hat = v.div(1.0 - group["beta2"] ** t)
        return m.div(1.0 - group["beta1"] ** t).div_(v_hat.sqrt_().add_(group["eps"]))

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        p.sub_(self.adam_direction(g, state, group), alpha=group["lr"])


class LectureAdamW(LectureAdam):
    """θ ← θ − η·(m̂/(√v̂ + ε) + λ·θ)   (Adam with decoupled weight decay, Loshchilov & Hutter
    2019; not in the lectures). The decay is applied to θ directly instead of being added to
    the loss, so Adam's 1/√v̂ does not rescale it. Exactly ``torch.optim.AdamW(weight_decay=λ)``,
    which applies the same two terms as θ·(1 − ηλ) followed by the Adam step."""

    hyperparameters = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        direction = self.adam_direction(g, state, group).add_(p, alpha=group["weight_decay"])
        p.sub_(direction, alpha=group["lr"])


class LectureAMSGrad(LectureAdam):
    """m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²;   v̂ ← max(v̂, v);   θ ← θ − η/(√v̂ + ε) · m.

    The lecture (Reddi et al. 2018) applies no bias correction. ``torch.optim.Adam(amsgrad=
    True)`` keeps the same running max of the raw v but divides m by 1−β1ᵗ and the max by
    1−β2ᵗ before the root, so early steps differ: the lecture's first step is
    η(1−β1)/√(1−β2) ≈ 3.16·η per coordinate instead of η. With ``bias_correction=True`` this
    class applies torch's corrections and then matches it to float32 rounding (tested)."""

    buffers = ("m", "v", "v_max")

    def __init__(
        self, params: Iterable[Tensor], bias_correction: bool = False, **hyperparameters: float
    ):
        super().__init__(params, **hyperparameters)
        self.bias_correction = bias_correction

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        m, v = self.moments(g, state, group)
        v_max = torch.maximum(state["v_max"], v, out=state["v_max"])
        lr, denom = group["lr"], v_max.sqrt()
        if self.bias_correction:
            t = state["step"]
            lr = lr / (1.0 - group["beta1"] ** t)
            denom.div_((1.0 - group["beta2"] ** t) ** 0.5)
        p.addcdiv_(m, denom.add_(group["eps"]), value=-lr)


class LectureAdaMax(LectureOptimizer):
    """m ← β1·m + (1−β1)·g;   u ← max(β2·u, |g|);   θ ← θ − η/(1−β1ᵗ) · m/(u + ε).

    Adam with the L2 norm of past gradients replaced by the L∞ norm (Kingma & Ba 2015, §7.1);
    the lecture only names it, so ε sits where Adam's lecture formula puts it, beside the
    norm. ``torch.optim.Adamax`` puts ε inside the max instead, u ← max(β2·u, |g| + ε), and
    divides by u. The rules coincide at ε = 0 (tested); for ε > 0 torch's u lies between the
    lecture's u and u + ε, so its denominator is at most ε smaller."""

    buffers = ("m", "u")

    hyperparameters = ("lr", "beta1", "beta2", "eps")

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        m = _ema(state["m"], g, group["beta1"])
        u = torch.maximum(state["u"].mul_(group["beta2"]), g.abs(), out=state["u"])
        step = group["lr"] / (1.0 - group["beta1"] ** state["step"])
        p.addcdiv_(m, u.add(group["eps"]), value=-step)


MomentumSchedule = Callable[[int], float]


class LectureNAdam(LectureAdam):
    """m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²;   v̂ = v/(1−β2ᵗ);
    θ ← θ − η/(√v̂ + ε) · (β1·m/(1−β1ᵗ⁺¹) + (1−β1)·g/(1−β1ᵗ)).

    Nesterov-accelerated Adam (Dozat 2016): the momentum term uses the bias correction of the
    next step — the look-ahead — and the fresh gradient enters on its own. The lecture only
    names it; this is Dozat's rule with a constant momentum μₜ = β1. ``torch.optim.NAdam`` uses
    Dozat's warming schedule μₜ = β1·(1 − ½·0.96^(0.004·t)) (≈ β1/2 for the first thousands of
    steps) in place of β1 in the two coefficients, with 1−∏μ as the corrections. Passing that
    schedule as ``momentum_schedule`` reproduces torch to float32 rounding (tested)."""

    def __init__(
        self,
        params: Iterable[Tensor],
        momentum_schedule: MomentumSchedule | None = None,
        **hyperparameters: float,
    ):
        super().__init__(params, **hyperparameters)
        self.momentum_schedule = momentum_schedule

    def _mu(self, t: int, group: Group) -> float:
        return self.momentum_schedule(t) if self.momentum_schedule else group["beta1"]

    def update(self, p: Tensor, g: Tensor, state: State, group: Group) -> None:
        m, v = self.moments(g, state, group)
        t = state["step"]
        mu, mu_next = self._mu(t, group), self._mu(t + 1, group)
        mu_product = state.get("mu_product", 1.0) * mu  # ∏μ up to t (β1ᵗ when constant)
        state["mu_product"] = mu_product
        denom = v.div(1.0 - group["beta2"] ** t).sqrt_().add_(group["eps"])
        lr = group["lr"]
        p.addcdiv_(g, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        p.addcdiv_(m, denom, value=-lr * mu_next / (1.0 - mu_product * mu_next))
