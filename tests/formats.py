"""Writers for small datasets in torchvision's exact on-disk formats (IDX, cifar-10-batches-py)."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import torch


def idx_bytes(array: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, array.dim()]) + struct.pack(">" + "I" * array.dim(), *array.shape)
    return header + array.to(torch.uint8).contiguous().numpy().tobytes()


def write_idx(path: Path, array: torch.Tensor, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def make_images(n: int, shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Learnable images: the label sets the brightness of a band, so a model can fit them."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.randint(0, 60, (n, *shape), generator=g, dtype=torch.int64)
    x[..., :, 2:6] += (y * 19).view(-1, *([1] * len(shape)))[..., :1]
    return x.clamp(0, 255).to(torch.uint8), y


def write_mnist_family(
    folder: Path, n_train: int = 200, n_test: int = 50, gz: bool = False
) -> Path:
    """The four IDX files of MNIST / Fashion-MNIST into ``folder`` (e.g. ROOT/MNIST/raw)."""
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        x, y = make_images(n, (28, 28), seed)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", x, gz)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", y, gz)
    return folder


def write_cifar(folder: Path, per_batch: int = 40, n_test: int = 40) -> Path:
    """``cifar-10-batches-py``: five pickled training batches and test_batch (N×3072 uint8)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        x, y = make_images(n_test if name == "test_batch" else per_batch, (3, 32, 32), 10 + i)
        entry = {
            "batch_label": name,
            "labels": y.tolist(),
            "data": np.asarray(x.reshape(len(y), -1).numpy()),
            "filenames": [f"{name}_{j}.png" for j in range(len(y))],
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(entry, fh)
    return folder
