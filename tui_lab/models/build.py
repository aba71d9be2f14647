"""Model builders: the lectures' baseline CNN, a deeper CNN for CIFAR-10, an MLP and logistic
regression, one builder per entry of models/catalog.py. Input shape and class count come from
the dataset, knobs from ``ModelConfig``."""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch
from torch import nn

from tui_lab.errors import ConfigError
from tui_lab.models.catalog import ARCHITECTURES


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from the run's own generator.

    ``nn.Dropout`` draws from torch's process-wide RNG, so runs trained in parallel threads
    would perturb each other's masks, and on CPU it spends one Bernoulli draw per element. Here
    every element gets 16 bits of a 64-bit draw: a quarter of the random numbers, and p is exact
    to 1/65536.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None  # set by the run; None: torch's global RNG
        self._threshold = min(round(p * 65536) - 32768, 32767)  # keep where int16 bits ≥ this

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        n = x.numel()
        words = torch.randint(
            -(2**63),
            2**63 - 1,
            ((n + 3) // 4,),
            dtype=torch.int64,
            device=x.device,
            generator=self.generator,
        )
        keep = words.view(torch.int16)[:n].view(x.shape) >= self._threshold
        return x * keep * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


def use_generator(model: nn.Module, generator: torch.Generator) -> None:
    """Make every dropout layer of ``model`` draw its masks from ``generator``."""
    for m in model.modules():
        if isinstance(m, Dropout):
            m.generator = generator


def _baseline_cnn(cfg, shape: tuple[int, int, int], classes: int) -> nn.Module:
    """Week 5 step 1: conv → ReLU → max-pool per entry of ``filters``, then FC → dropout → FC.

    The pool comes before the ReLU: the same function and the same gradients (max commutes
    with the monotone ReLU), but the ReLU and its backward touch a quarter of the values and
    the pool's backward skips the ties ReLU makes at zero (bench/README.md has the figures)."""
    c, h, w = shape
    layers: list[nn.Module] = []
    for f in cfg.filters:
        layers.append(nn.Conv2d(c, f, cfg.kernel_size, padding=cfg.kernel_size // 2))
        if min(h, w) >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        layers.append(nn.ReLU())
        c = f
    layers += [
        nn.Flatten(),
        Dropout(cfg.dropout),
        nn.Linear(c * h * w, cfg.hidden),
        nn.ReLU(),
        Dropout(cfg.dropout),
        nn.Linear(cfg.hidden, classes),
    ]
    return nn.Sequential(*layers)


def _deep_cnn(cfg, shape: tuple[int, int, int], classes: int) -> nn.Module:
    """Two 3×3-style conv + batch-norm layers per stage, pooled; global average pool at the end."""
    c, h, w = shape
    k, pad = cfg.kernel_size, cfg.kernel_size // 2
    layers: list[nn.Module] = []
    for f in cfg.filters:
        for _ in range(2):
            layers += [nn.Conv2d(c, f, k, padding=pad, bias=False), nn.BatchNorm2d(f), nn.ReLU()]
            c = f
        if min(h, w) >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), Dropout(cfg.dropout), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


def _mlp(cfg, shape: tuple[int, int, int], classes: int) -> nn.Module:
    """The 'simple neural network' of the MNIST lab: flatten → (FC → ReLU → dropout)× → FC."""
    width = shape[0] * shape[1] * shape[2]
    layers: list[nn.Module] = [nn.Flatten()]
    for _ in range(cfg.hidden_layers):
        layers += [nn.Linear(width, cfg.hidden), nn.ReLU(), Dropout(cfg.dropout)]
        width = cfg.hidden
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def _logreg(cfg, shape: tuple[int, int, int], classes: int) -> nn.Module:
    """Multinomial logistic regression: one linear layer on the flattened image."""
    return nn.Sequential(nn.Flatten(), nn.Linear(shape[0] * shape[1] * shape[2], classes))


Builder = Callable[..., nn.Module]
BUILDERS: dict[str, Builder] = {
    "baseline_cnn": _baseline_cnn,
    "deep_cnn": _deep_cnn,
    "mlp": _mlp,
    "logreg": _logreg,
}


_INIT_LOCK = threading.Lock()


def build_seeded(cfg, shape: tuple[int, int, int], classes: int, seed: int) -> nn.Module:
    """``build_model`` with its initial weights drawn from ``seed``: runs set up in parallel
    threads take turns, since weight init draws from torch's process-wide generator."""
    with _INIT_LOCK:
        torch.manual_seed(seed)
        return build_model(cfg, shape, classes)


def build_model(cfg, shape: tuple[int, int, int], classes: int) -> nn.Module:
    if ARCHITECTURES[cfg.arch].convolutional and cfg.kernel_size > min(shape[1], shape[2]):
        raise ConfigError(
            f"model.kernel_size={cfg.kernel_size} is larger than the {shape[1]}×{shape[2]} "
            f"images of this dataset; choose a kernel size of at most {min(shape[1], shape[2])}."
        )
    return BUILDERS[cfg.arch](cfg, shape, classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
