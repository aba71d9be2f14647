"""The whole training step captured once in a CUDA graph and replayed.

A small CNN's step on a GPU is launch-bound: dozens of kernels, each launched from Python, for
less GPU work than the launches cost. Captured once, the step (gather and normalize the batch,
forward, loss, backward, the fused optimizer update, the correct-count) is one replay. What
varies per step is fed through static device buffers: the batch's indices into the resident
images, and the learning rate as a 0-dim tensor the fused optimizers read (so any schedule,
plateau included, keeps working). The run's dropout generator is registered with the graph, so
its masks advance as they do eagerly.

Only full batches replay the graph; the last, partial batch of an epoch runs eagerly. The first
``WARMUP_STEPS`` steps run eagerly as well (they allocate the optimizer's state and pick the
kernels a capture records). Capture can be refused by a torch or driver version: the run then
goes on eagerly, with a warning, and its numbers are the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

from tui_lab.config import RunConfig

WARMUP_STEPS = 3
# torch.optim classes whose fused CUDA kernels can be captured and read a tensor learning rate
CAPTURABLE = {"batch_gd", "sgd", "momentum", "nesterov", "adam", "amsgrad", "adamw"}

Step = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # indices → (loss, correct)


def graph_refusal(cfg: RunConfig, device: torch.device, augment: bool, scaled: bool) -> str | None:
    """Why this run's step is not captured (None: it is)."""
    t = cfg.training
    if device.type != "cuda":
        return "CUDA graphs need a CUDA device"
    if t.cuda_graphs is False:
        return "training.cuda_graphs = false"
    if cfg.optimizer.impl != "torch" or cfg.optimizer.name not in CAPTURABLE:
        return f"{cfg.optimizer.name} ({cfg.optimizer.impl}) has no capturable fused kernel"
    if augment:
        return "augmentation draws on the CPU"
    if scaled:
        return "fp16's gradient scaler decides per step"
    return None


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Every group's learning rate; a tensor learning rate (read by a graph) is filled in place."""
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


class GraphedStep:
    """Calls ``step`` eagerly for the warm-up and partial batches, else replays its capture."""

    def __init__(
        self,
        step: Step,
        optimizer: torch.optim.Optimizer,
        batch_size: int,
        device: torch.device,
        generators: list[torch.Generator],
    ) -> None:
        self.step = step
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.generators = generators
        self.indices = torch.zeros(batch_size, dtype=torch.int64, device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.outputs: tuple[torch.Tensor, torch.Tensor] | None = None
        self.eager_steps = 0
        self.refused: str | None = None

    def __call__(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        full = indices.shape[0] == self.batch_size
        if not full or self.refused is not None or self.eager_steps < WARMUP_STEPS:
            self.eager_steps += full
            return self.step(indices)
        self.indices.copy_(indices)
        if self.graph is None and not self._capture():
            return self.step(indices)
        assert self.graph is not None and self.outputs is not None
        self.graph.replay()
        return self.outputs

    def _capture(self) -> bool:
        for group in self.optimizer.param_groups:
            if not isinstance(group["lr"], torch.Tensor):
                group["lr"] = torch.tensor(float(group["lr"]), device=self.indices.device)
        graph = torch.cuda.CUDAGraph()
        try:
            for generator in self.generators:
                graph.register_generator_state(generator)
            self.optimizer.zero_grad(set_to_none=True)
            with torch.cuda.graph(graph):
                outputs = self.step(self.indices)
        except Exception as exc:  # noqa: BLE001 - any refusal: train on eagerly, same numbers
            self.refused = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"CUDA graph capture failed ({self.refused}); training goes on eagerly",
                stacklevel=2,
            )
            return False
        self.graph, self.outputs = graph, outputs
        return True
