"""The datasets a run can train on, as data: torchvision's folder names, shapes, class names,
sizes and normalization constants. No torch here: the option tree validates against it and the
TUI describes a dataset before anything is loaded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SPLIT_SEED = 20_240_905  # fixed: every run of a comparison sees the same validation split


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    folder: str  # torchvision's folder name under the root
    shape: tuple[int, int, int]
    classes: tuple[str, ...]
    train_size: int
    test_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    system_dirs: tuple[str, ...] = ()


_DIGITS = tuple(str(i) for i in range(10))
_FASHION = (
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_CIFAR = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        "mnist", "MNIST digits", "MNIST", (1, 28, 28), _DIGITS, 60_000, 10_000, (0.1307,), (0.3081,)
    ),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist",
        "Fashion-MNIST",
        "FashionMNIST",
        (1, 28, 28),
        _FASHION,
        60_000,
        10_000,
        (0.2860,),
        (0.3530,),
        ("/usr/share/datasets/fashion-mnist",),
    ),
    "cifar10": DatasetInfo(
        "cifar10",
        "CIFAR-10",
        "cifar-10-batches-py",
        (3, 32, 32),
        _CIFAR,
        50_000,
        10_000,
        (0.4914, 0.4822, 0.4465),
        (0.2470, 0.2435, 0.2616),
    ),
    "synthetic": DatasetInfo(
        "synthetic", "Synthetic blobs", "", (1, 28, 28), _DIGITS, 6_000, 1_200, (0.5,), (0.25,)
    ),
}

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def default_data_dir() -> Path:
    """``$TUI_LAB_DATA``, else the user cache directory."""
    env = os.environ.get("TUI_LAB_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "tui-lab" / "data"
