"""Datasets decoded once: the uint8 arrays a set of source files decodes to, kept in the user
cache as one uncompressed ``.npz`` beside the download cache, so the next start reads them in
milliseconds instead of gunzipping and parsing again (a few seconds for Fashion-MNIST).

An entry is keyed by each source file's path, size and modification time: a replaced or
re-downloaded file is decoded afresh. A cache that cannot be written only costs the decode.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

Images = tuple[torch.Tensor, torch.Tensor]  # uint8 (N, C, H, W), int64 (N,)
Splits = tuple[Images, Images]  # train, test
ARRAYS = ("train_x", "train_y", "test_x", "test_y")


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "tui-lab" / "decoded"


def source_key(sources: list[Path]) -> str:
    parts = []
    for path in sources:
        st = path.stat()
        parts.append(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def decoded(sources: list[Path], decode: Callable[[], Splits]) -> Splits:
    """The splits ``sources`` decode to: from the cache when these very files were decoded
    before, else ``decode()``'s result (then cached)."""
    path = cache_dir() / f"{source_key(sources)}.npz"
    try:
        with np.load(path) as arrays:
            tensors = [torch.from_numpy(arrays[name]) for name in ARRAYS]
        return (tensors[0], tensors[1]), (tensors[2], tensors[3])
    except (OSError, ValueError, KeyError):
        pass
    splits = decode()
    _save(path, splits)
    return splits


def _save(path: Path, splits: Splits) -> None:
    (train_x, train_y), (test_x, test_y) = splits
    arrays = dict(zip(ARRAYS, (train_x, train_y, test_x, test_y), strict=True))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".npz.tmp")
    except OSError:
        return
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **{key: t.numpy() for key, t in arrays.items()})
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
