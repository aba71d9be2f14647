"""The two plain-PyTorch loops the engine is measured against.

B1, the textbook loop: a torchvision dataset (PIL image per sample → ToTensor → Normalize),
``DataLoader(shuffle=True)``, fp32, the model and optimizer a tutorial would write.

B2, the best hand-tuned loop: the images already resident as uint8 tensors, randperm batches,
normalization on the batch, the engine's default numerics (bf16 autocast, channels_last for
CNNs where the CPU has native bf16), a fused optimizer, no host sync per step.

Both train the same network (the same function, parameters and initial weights as
``tui_lab.models.build.build_model``) with the same hyperparameters as the engine run they are
compared with, on the same images. B2 trains the engine's own module, so engine / B2 is the
loop's overhead alone. B1's module is written as a tutorial writes it: ``nn.Dropout`` and
conv → ReLU → max-pool, where the engine's has a per-run-generator dropout and pools before
the ReLU (same function, cheaper on CPU: see models/build.py) — part of what engine / B1 measures.
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from tui_lab.config import RunConfig
from tui_lab.data.tensors import DatasetTensors, load_dataset
from tui_lab.models.build import Dropout, build_model
from tui_lab.training.autotune import choose_numerics


def write_idx(path: Path, tensor: torch.Tensor) -> None:
    """The uncompressed IDX file torchvision's MNIST-family datasets read from ``raw/``."""
    header = struct.pack(">I", 0x0800 | tensor.dim()) + struct.pack(
        ">" + "I" * tensor.dim(), *tensor.shape
    )
    path.write_bytes(header + tensor.to(torch.uint8).contiguous().numpy().tobytes())


def textbook_model(cfg: RunConfig, data: DatasetTensors) -> torch.nn.Module:
    """The engine's network as a tutorial writes it: ``nn.Dropout``, and ReLU before each pool."""
    torch.manual_seed(cfg.training.seed)
    layers = []
    for layer in build_model(cfg.model, data.shape, data.num_classes):
        if isinstance(layer, Dropout):
            layer = torch.nn.Dropout(layer.p)
        if (
            isinstance(layer, torch.nn.ReLU)
            and layers
            and isinstance(layers[-1], torch.nn.MaxPool2d)
        ):
            layers.insert(-1, layer)
        else:
            layers.append(layer)
    return torch.nn.Sequential(*layers)


def engine_model(cfg: RunConfig, data: DatasetTensors) -> torch.nn.Module:
    torch.manual_seed(cfg.training.seed)
    return build_model(cfg.model, data.shape, data.num_classes)


class TextbookLoop:
    """B1: ``torchvision.datasets.FashionMNIST`` + ToTensor + Normalize + DataLoader, fp32."""

    def __init__(self, cfg: RunConfig, data: DatasetTensors):
        import torchvision
        from torchvision import transforms

        self._tmp = tempfile.TemporaryDirectory(prefix="tui-lab-b1-")
        raw = Path(self._tmp.name) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        write_idx(raw / "train-images-idx3-ubyte", data.train.x.squeeze(1))
        write_idx(raw / "train-labels-idx1-ubyte", data.train.y)
        write_idx(raw / "t10k-images-idx3-ubyte", data.test.x.squeeze(1))
        write_idx(raw / "t10k-labels-idx1-ubyte", data.test.y)
        transform = transforms.Compose(
            [
                transforms.ToTensor(),
                transforms.Normalize(data.info.mean, data.info.std),
            ]
        )
        dataset = torchvision.datasets.FashionMNIST(self._tmp.name, train=True, transform=transform)
        self.loader = torch.utils.data.DataLoader(
            dataset, batch_size=cfg.training.batch_size, shuffle=True
        )
        self.model = textbook_model(cfg, data)
        hp = cfg.optimizer.hyperparameters()
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=hp["lr"], betas=(hp["beta1"], hp["beta2"])
        )
        self._batches = iter(self.loader)

    def prepare(self, steps: int) -> None:
        pass

    def train(self, steps: int) -> int:
        self.model.train()
        seen = 0
        for batch_idx in range(steps):
            batch = next(self._batches, None)
            if batch is None:
                self._batches = iter(self.loader)
                batch = next(self._batches)
            x, y = batch
            self.optimizer.zero_grad()
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            if batch_idx % 10 == 0:
                loss.item()  # the tutorial's progress print
            seen += len(y)
        return seen


class HandTunedLoop:
    """B2: resident uint8 tensors, randperm batches, the engine's default numerics, fused Adam."""

    def __init__(self, cfg: RunConfig, data: DatasetTensors, fused: bool = True):
        self.device = torch.device("cpu")
        numerics = choose_numerics(cfg, self.device, data, cfg.training.batch_size)
        self.dtype = numerics.autocast_dtype
        self.channels_last = numerics.channels_last
        self.x, self.y = data.train.x, data.train.y
        self.scale = 1.0 / (255.0 * data.std)
        self.shift = -data.mean / data.std
        self.batch_size = cfg.training.batch_size
        model = engine_model(cfg, data)
        self.model = model.to(memory_format=torch.channels_last) if self.channels_last else model
        hp = cfg.optimizer.hyperparameters()
        self.optimizer = torch.optim.Adam(
            self.model.parameters(),
            lr=hp["lr"],
            betas=(hp["beta1"], hp["beta2"]),
            eps=hp["eps"],
            fused=fused,
        )
        self._perm = torch.randperm(len(self.y))
        self._at = 0

    def prepare(self, steps: int) -> None:
        pass

    def train(self, steps: int) -> int:
        self.model.train()
        autocast = (
            torch.autocast("cpu", dtype=self.dtype)
            if self.dtype is not None
            else contextlib.nullcontext()
        )
        seen = 0
        for _ in range(steps):
            if self._at >= len(self._perm):
                self._perm, self._at = torch.randperm(len(self.y)), 0
            idx = self._perm[self._at : self._at + self.batch_size]
            self._at += self.batch_size
            x = torch.addcmul(self.shift, self.x[idx], self.scale)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast:
                loss = F.cross_entropy(self.model(x), self.y[idx])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            seen += len(idx)
        return seen


def fashion_data(cfg: RunConfig) -> DatasetTensors:
    return load_dataset(cfg.data, torch.device("cpu"))
