"""Dataset files in torchvision's on-disk formats: IDX for the MNIST family, the pickled batches
of ``cifar-10-batches-py``, gzipped or not, found in several places so that Debian's
``/usr/share/datasets/fashion-mnist/*.gz`` works as it is installed; else torchvision's own
downloader. Images come back as uint8 (N, C, H, W), labels as int64.
"""

from __future__ import annotations

import gzip
import io
import pickle
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import torch

from tui_lab.data.catalog import DATASETS, IDX_FILES, DatasetInfo, default_data_dir
from tui_lab.data.decoded import Images, decoded
from tui_lab.errors import DataError


def _open_maybe_gz(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"Cannot read dataset file {path}: {exc}. The file is unreadable or corrupt "
            "(e.g. a truncated download); delete it and let tui-lab download it again, or "
            "replace it with a good copy."
        ) from None


def read_idx(path: Path, expect_dims: int) -> torch.Tensor:
    """Parse an IDX file (the MNIST format): magic 0x0000080D, then big-endian dims, then uint8."""
    buf = _open_maybe_gz(path)
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0 or buf[2] != 0x08 or buf[3] != expect_dims:
        raise DataError(
            f"Dataset file {path} is not an IDX file of {expect_dims} dimension(s) of unsigned "
            f"bytes (wrong magic number {buf[:4].hex() or 'empty'}). Check that it is the "
            "right file (images vs labels), or delete it so tui-lab can download it again."
        )
    header = 4 + 4 * expect_dims
    if len(buf) < header:
        raise DataError(f"Dataset file {path} is truncated inside its header; replace it.")
    dims = struct.unpack(">" + "I" * expect_dims, buf[4:header])
    count = 1
    for d in dims:
        count *= d
    if len(buf) - header != count:
        raise DataError(
            f"Dataset file {path} holds {len(buf) - header} bytes of data but its header "
            f"promises {count} ({'×'.join(map(str, dims))}): the file is truncated or corrupt. "
            "Delete it and let tui-lab download it again, or replace it with a good copy."
        )
    return torch.frombuffer(bytearray(buf), dtype=torch.uint8, offset=header).reshape(dims)


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles CIFAR batches without running arbitrary code: only numpy arrays are allowed."""

    ALLOWED: frozenset[tuple[str, str]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One ``cifar-10-batches-py`` file -> (uint8 N×3×32×32, int64 labels)."""
    raw = _open_maybe_gz(path)
    try:
        entry = _CifarUnpickler(io.BytesIO(raw), encoding="latin1").load()
        data, labels = entry["data"], entry.get("labels", entry.get("fine_labels"))
        x = torch.as_tensor(data, dtype=torch.uint8).reshape(-1, 3, 32, 32)
        y = torch.as_tensor(labels, dtype=torch.int64)
    except Exception as exc:  # noqa: BLE001 - any malformed pickle is the same user-facing problem
        raise DataError(
            f"Dataset file {path} is not a readable CIFAR-10 python batch ({exc}). Delete the "
            "folder so tui-lab can download it again, or replace it with the official "
            "cifar-10-python archive's contents."
        ) from None
    if x.shape[0] != y.shape[0]:
        raise DataError(f"Dataset file {path} has {x.shape[0]} images but {y.shape[0]} labels.")
    return x, y


# ---------------------------------------------------------------------------- finding the files


def candidate_dirs(info: DatasetInfo, data_dir: Path | None) -> list[Path]:
    """Where a dataset's files may be: under ``data_dir`` only when one is named (a folder the
    user chose is never silently replaced by another copy), else the default data dir and the
    system's copy."""
    roots = [Path(data_dir).expanduser()] if data_dir else [default_data_dir()]
    dirs: list[Path] = []
    for root in roots:
        dirs += [root / info.folder / "raw", root / info.folder, root]
    if not data_dir:
        dirs += [Path(d) for d in info.system_dirs]
    seen: set[Path] = set()
    return [d for d in dirs if not (d in seen or seen.add(d))]


def _find_idx(dirs: list[Path], stem: str) -> Path | None:
    for d in dirs:
        for name in (stem, stem + ".gz"):
            if (d / name).is_file():
                return d / name
    return None


def _mnist_sources(info: DatasetInfo, dirs: list[Path]) -> list[Path] | None:
    found = [_find_idx(dirs, stem) for stems in IDX_FILES.values() for stem in stems]
    paths = [p for p in found if p is not None]
    return paths if len(paths) == len(found) else None


def _decode_mnist(info: DatasetInfo, paths: list[Path]) -> tuple[Images, Images]:
    splits = []
    for img_path, lbl_path in (paths[:2], paths[2:]):
        x = read_idx(img_path, 3).unsqueeze(1)
        y = read_idx(lbl_path, 1).to(torch.int64)
        if x.shape[0] != y.shape[0]:
            raise DataError(f"{img_path} has {x.shape[0]} images but {lbl_path} has {y.shape[0]}.")
        if tuple(x.shape[1:]) != info.shape:
            raise DataError(
                f"{img_path} holds images of shape {tuple(x.shape[1:])}, expected {info.shape}."
            )
        splits.append((x, y))
    return splits[0], splits[1]


CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _cifar_sources(info: DatasetInfo, dirs: list[Path]) -> list[Path] | None:
    folder = next((d for d in dirs if all((d / n).is_file() for n in CIFAR_FILES)), None)
    return [folder / n for n in CIFAR_FILES] if folder else None


def _decode_cifar(info: DatasetInfo, paths: list[Path]) -> tuple[Images, Images]:
    parts = [read_cifar_batch(p) for p in paths]
    train = (torch.cat([p[0] for p in parts[:5]]), torch.cat([p[1] for p in parts[:5]]))
    return train, parts[5]


Finder = Callable[[DatasetInfo, list[Path]], list[Path] | None]
Decoder = Callable[[DatasetInfo, list[Path]], tuple[Images, Images]]
FORMATS: dict[str, tuple[Finder, Decoder]] = {
    "idx": (_mnist_sources, _decode_mnist),
    "cifar": (_cifar_sources, _decode_cifar),
}


def _load(info: DatasetInfo, dirs: list[Path]) -> tuple[Images, Images, str] | None:
    find, decode = FORMATS["cifar" if info.name == "cifar10" else "idx"]
    sources = find(info, dirs)
    if sources is None:
        return None
    train, test = decoded(sources, lambda: decode(info, sources))
    return train, test, str(sources[0].parent)


_TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def _download(info: DatasetInfo, root: Path) -> None:
    """Fetch with torchvision's own downloader into ``root`` (its usual on-disk layout)."""
    import torchvision

    cls = getattr(torchvision.datasets, _TORCHVISION[info.name])
    root.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        cls(root=str(root), train=train, download=True)


def _missing_message(info: DatasetInfo, dirs: list[Path], why: str) -> str:
    """One paragraph: what was searched, why there is no download, and the ways out, the
    nearest first (Fashion-MNIST ships as a Debian package and loads offline)."""
    where = ", ".join(str(d) for d in dirs)
    files = (
        "the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not)"
        if info.name != "cifar10"
        else "the extracted cifar-10-batches-py folder (data_batch_1..5, test_batch)"
    )
    if info.name == "fashion_mnist":
        instead = "Install Debian's package (apt-get install dataset-fashion-mnist), or put"
    else:
        instead = (
            "Use Fashion-MNIST instead, which Debian ships and tui-lab reads offline (apt-get "
            "install dataset-fashion-mnist): --set data.dataset=fashion_mnist, or dataset → "
            f"fashion_mnist in the Lab. Or put {files} in one of those folders"
        )
        files = ""
    return (
        f"Dataset {info.name} ({info.title}) is not on this machine: searched {where}. {why} "
        f"{instead}{' ' + files + ' in one of those folders' if files else ''}, point "
        "--data-dir (or $TUI_LAB_DATA) at the folder that holds them, or run once with an "
        "internet connection to download them."
    )


def _download_failure(exc: Exception) -> str:
    """Why a download failed, in a few words (torchvision's message lists every mirror)."""
    text = str(exc)
    reason = re.search(r"<urlopen error (.*?)>", text)
    short = reason.group(1) if reason else (text.splitlines() or [type(exc).__name__])[0]
    return f"Downloading it failed ({short[:120].rstrip('.')})."


def check_data_dir(info: DatasetInfo, data_dir: Path | None) -> None:
    """A named data dir must be a folder (an empty one is where a download goes)."""
    path = Path(data_dir).expanduser() if data_dir else None
    if path is not None and not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise DataError(
            f"Dataset {info.name}: the data dir {data_dir} (--data-dir or data.data_dir) {what}. "
            "Name the folder that holds the dataset (or an empty one to download it into), or "
            "leave it out to use $TUI_LAB_DATA, the user cache and the system's copy."
        )


def load_files(
    info: DatasetInfo, data_dir: Path | None, download: bool
) -> tuple[Images, Images, str]:
    check_data_dir(info, data_dir)
    dirs = candidate_dirs(info, data_dir)
    found = _load(info, dirs)
    if found:
        return found
    if not download:
        raise DataError(_missing_message(info, dirs, "Downloading is off (data.download = false)."))
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    try:
        _download(info, root)
    except Exception as exc:  # noqa: BLE001 - offline, proxy, disk: all mean "not available"
        raise DataError(_missing_message(info, dirs, _download_failure(exc))) from None
    found = _load(info, dirs)
    if not found:
        raise DataError(_missing_message(info, dirs, "The download did not produce the files."))
    return found


def availability(name: str, data_dir: Path | None = None) -> str | None:
    """Where a dataset's files are, or None when they would need a download."""
    info = DATASETS[name]
    if name == "synthetic":
        return "generated"
    dirs = candidate_dirs(info, data_dir)
    if name == "cifar10":
        hit = next((d for d in dirs if (d / "test_batch").is_file()), None)
        return str(hit) if hit else None
    hit = _find_idx(dirs, IDX_FILES["train"][0])
    return str(hit.parent) if hit else None
