"""Looking inside the optimizer while a run trains: what the lectures talk about, measured.

Every ``training.internals_every`` steps one step is watched: the gradient's norm, per layer
the size of the update relative to the weights ‖Δθ‖/‖θ‖ and the effective step per unit of
gradient |Δθ|/|g| across the layer's parameters (for SGD that is η everywhere; Adagrad's
η/√(s+ε) shrinks and spreads; Adam's step is η·m̂/(√v̂+ε) per g), the norm of the velocity or
first-moment buffer, and Adam's bias-correction factors 1/(1−β1ᵗ), 1/(1−β2ᵗ).

Every ``training.sharpness_every`` steps the loss's largest Hessian eigenvalue is estimated by
power iteration with Hessian-vector products on one fixed batch, in fp32 and eval mode:
gradient descent is stable only while it stays below 2/η (Cohen et al., "edge of stability").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from tui_lab.events import InternalsLogged, LayerInternals, SharpnessLogged

FIRST_MOMENT_KEYS = ("momentum_buffer", "exp_avg", "m")  # torch's and the lecture rules' names
LECTURE_VELOCITY = ("momentum", "nesterov")  # whose lecture rule calls its velocity v
POWER_ITERATIONS = 10  # from a random start
WARM_ITERATIONS = 3  # from the last estimate's eigenvector, which moves little between two
SHARPNESS_BATCH = 64
QUANTILE_SAMPLE = 4096  # per layer: the spread's deciles to about ±1%, at a fixed small cost


def layers_of(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """Each module that owns parameters, named by its place and kind (``0 Conv2d``)."""
    out = []
    for name, module in model.named_modules():
        params = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if params:
            out.append((f"{name} {type(module).__name__}".strip(), params))
    return out


class Probe:
    """Snapshot before an optimizer step, measure after it."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, rule: str) -> None:
        self.layers = layers_of(model)
        self.optimizer = optimizer
        self.rule = rule  # the optimizer's catalog name and implementation, e.g. "adam/torch"
        self.before: list[torch.Tensor] = []

    def snapshot(self) -> None:
        self.before = [p.detach().float().clone() for _, params in self.layers for p in params]

    @torch.no_grad()
    def measure(self, run: str, step: int) -> InternalsLogged:
        """Every number computed where the weights are, then read in one transfer: a watched
        step waits for the device once, not once per layer."""
        before = iter(self.before)
        names, per_layer = [], []
        for name, params in self.layers:
            old = [next(before) for _ in params]
            if any(p.grad is None for p in params):
                continue
            delta = torch.cat([(p.detach().float() - o).flatten() for p, o in zip(params, old)])
            grad = torch.cat([p.grad.detach().float().flatten() for p in params])  # type: ignore[union-attr]
            weights = torch.cat([o.flatten() for o in old])
            g_abs = grad.abs()
            seen = g_abs > 1e-12 * g_abs.max().clamp_min(1e-30)  # where |Δθ|/|g| is defined
            ratio = torch.where(seen, delta.abs() / g_abs.clamp_min(1e-30), torch.nan)
            levels = torch.tensor([0.1, 0.5, 0.9], device=ratio.device)
            quantiles = torch.nanquantile(_sample(ratio), levels)
            norms = torch.stack([grad.norm(), delta.norm(), weights.norm()])
            names.append(name)
            per_layer.append(torch.cat([norms, quantiles]))
        momentum = self._momentum_squares()
        parts = [*per_layer, *([] if momentum is None else [momentum.reshape(1)])]
        flat = torch.cat(parts).tolist() if parts else []
        values = [flat[i : i + 6] for i in range(0, 6 * len(per_layer), 6)]
        total = [math.sqrt(sum(v[i] ** 2 for v in values)) for i in range(3)]
        bc1, bc2 = self._bias_corrections()
        return InternalsLogged(
            run=run,
            step=step,
            grad_norm=total[0],
            update_ratio=total[1] / max(total[2], 1e-12),
            momentum_norm=None if momentum is None else math.sqrt(flat[-1]),
            bias_correction1=bc1,
            bias_correction2=bc2,
            layers=tuple(
                LayerInternals(
                    layer=name,
                    grad_norm=g,
                    update_ratio=d / max(w, 1e-12),
                    eff_lr_median=q50,
                    eff_lr_p10=q10,
                    eff_lr_p90=q90,
                )
                for name, (g, d, w, q10, q50, q90) in zip(names, values)
            ),
        )

    def _momentum_squares(self) -> torch.Tensor | None:
        """The squared norm of the velocity / first-moment buffers, as a device scalar."""
        name, impl = self.rule.split("/")
        keys = ("v",) if impl == "lecture" and name in LECTURE_VELOCITY else FIRST_MOMENT_KEYS
        squares = [
            state[k].float().pow(2).sum()
            for state in self.optimizer.state.values()
            for k in keys
            if isinstance(state.get(k), torch.Tensor)
        ]
        return torch.stack(squares).sum() if squares else None

    def _bias_corrections(self) -> tuple[float | None, float | None]:
        group = self.optimizer.param_groups[0]
        betas = group.get("betas") or (group.get("beta1"), group.get("beta2"))
        state = next(iter(self.optimizer.state.values()), {})
        t = state.get("step")
        if betas[0] is None or t is None:
            return None, None
        t = float(t)
        return 1 / (1 - betas[0] ** t), 1 / (1 - betas[1] ** t)


def _sample(values: torch.Tensor) -> torch.Tensor:
    """Every parameter of a small layer; of a large one, an evenly strided sample (sorting
    400,000 ratios every watched step would cost more than the step)."""
    return values[:: values.numel() // QUANTILE_SAMPLE + 1]


def sharpness(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, start: torch.Tensor | None
) -> tuple[float, torch.Tensor]:
    """The largest Hessian eigenvalue of the mean cross-entropy on one batch, and its
    eigenvector (to start the next estimate from)."""
    params = [p for p in model.parameters() if p.requires_grad]
    was_training = model.training
    model.eval()
    try:
        with torch.autocast(inputs.device.type, enabled=False):
            loss = F.cross_entropy(model(inputs.float()), targets)
            grads = torch.autograd.grad(loss, params, create_graph=True)
        flat = torch.cat([g.reshape(-1) for g in grads])
        warm = start is not None and start.shape == flat.shape
        v = start if warm else _random_start(flat)
        v = v / v.norm()
        iterations = WARM_ITERATIONS if warm else POWER_ITERATIONS
        for i in range(iterations):
            # d(g·v)/dθ = Hv; a scalar output spares autograd's grad_outputs checks, whose
            # first use imports torch.fx's symbolic shapes (0.4 s)
            hv = torch.autograd.grad(flat @ v, params, retain_graph=i < iterations - 1)
            hv_flat = torch.cat([h.reshape(-1) for h in hv]).detach()
            rayleigh = hv_flat @ v  # read once, after the last iteration
            v = hv_flat / hv_flat.norm().clamp_min(1e-30)
    finally:
        model.train(was_training)
    return float(rayleigh), v


def _random_start(like: torch.Tensor) -> torch.Tensor:
    """A random direction drawn from its own generator: the training's random streams (the
    seed's shuffling and dropout) stay as they would be without the estimate."""
    generator = torch.Generator(like.device).manual_seed(0)
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


class Sharpness:
    """The power iteration of one run, warm-started from its last eigenvector."""

    def __init__(self, model: nn.Module, batch: Callable[[], tuple[torch.Tensor, torch.Tensor]]):
        self.model = model
        self.batch = batch
        self.vector: torch.Tensor | None = None
        self.last: SharpnessLogged | None = None

    def measure(self, run: str, step: int, lr: float) -> SharpnessLogged:
        x, y = self.batch()
        value, self.vector = sharpness(self.model, x, y, self.vector)
        self.last = SharpnessLogged(run, step, value, 2 / lr if lr > 0 else math.inf)
        return self.last


def divergence_reason(
    step: int, sharp: SharpnessLogged | None, history: list[InternalsLogged]
) -> str:
    """What the numbers showed when a run diverged, in one sentence after "diverged"."""
    if sharp is not None and sharp.sharpness > sharp.two_over_lr:
        when = "had risen to" if sharp.step > 0 else "was"
        return (
            f"at step {step}: the sharpness (the loss's top Hessian eigenvalue) {when} "
            f"{sharp.sharpness:.3g} at step {sharp.step}, above the stability limit 2/η = "
            f"{sharp.two_over_lr:.3g}, so each step overshoots along the steepest direction"
        )
    if len(history) >= 2 and history[0].grad_norm > 0:
        first, last = history[0], history[-1]
        growth = last.grad_norm / first.grad_norm
        if growth > 10:
            return (
                f"at step {step}: the gradient norm had grown ×{growth:.3g}, from "
                f"{first.grad_norm:.3g} at step {first.step} to {last.grad_norm:.3g} at step "
                f"{last.step}: the learning rate is too large for this curvature"
            )
    if sharp is not None:
        return (
            f"at step {step}, though the last sharpness ({sharp.sharpness:.3g} at step "
            f"{sharp.step}) was below 2/η = {sharp.two_over_lr:.3g}: the curvature rose between "
            "two estimates, or one batch threw the weights off"
        )
    return (
        f"at step {step}: the loss became NaN/inf or exceeded training.diverge_loss "
        "(training.sharpness_every = 0: no curvature was measured to say why)"
    )
