"""Datasets in torchvision's on-disk formats, generated here, and the errors for bad files."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import pytest
import torch
from formats import write_cifar, write_mnist_family

from tui_lab.config import DataConfig
from tui_lab.data import decoded, files, tensors
from tui_lab.data.files import availability
from tui_lab.data.tensors import augment, load_dataset
from tui_lab.errors import DataError

CPU = torch.device("cpu")


def load(**kw):
    return load_dataset(DataConfig(download=False, **kw), CPU)


def test_mnist_raw_layout_of_torchvision(tmp_path):
    write_mnist_family(tmp_path / "MNIST" / "raw", n_train=200, n_test=50)
    data = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.1)
    assert data.train.x.dtype == torch.uint8 and data.train.x.shape[1:] == (1, 28, 28)
    assert (len(data.train), len(data.val), len(data.test)) == (180, 20, 50)
    assert data.train.y.dtype == torch.int64 and int(data.train.y.max()) <= 9


def test_fashion_gz_files_read_in_place(tmp_path):
    folder = write_mnist_family(tmp_path / "flat", n_train=100, n_test=30, gz=True)
    data = load(dataset="fashion_mnist", data_dir=folder, val_fraction=0.0)
    assert (len(data.train), len(data.test)) == (100, 30)
    assert data.source == str(folder)


def test_cifar_python_batches(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-py", per_batch=20, n_test=10)
    data = load(dataset="cifar10", data_dir=tmp_path, val_fraction=0.2)
    assert data.train.x.shape[1:] == (3, 32, 32)
    assert (len(data.train), len(data.val), len(data.test)) == (80, 20, 10)
    assert availability("cifar10", tmp_path)


def test_split_is_deterministic_and_disjoint(tmp_path):
    write_mnist_family(tmp_path / "MNIST" / "raw", n_train=300, n_test=20)
    a = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.2)
    x_val = a.val.x.clone()
    b = load_dataset(
        DataConfig(
            dataset="mnist", data_dir=tmp_path, val_fraction=0.2, download=False, subset=None
        ),
        CPU,
    )
    assert torch.equal(x_val, b.val.x)
    train_rows = {bytes(r.numpy()) for r in a.train.x.flatten(1)}
    assert not any(bytes(r.numpy()) in train_rows for r in a.val.x.flatten(1)[:20] if r.any())


def test_subset_limits_training_images(tmp_path):
    write_mnist_family(tmp_path / "MNIST" / "raw", n_train=300, n_test=20)
    data = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.1, subset=100)
    assert len(data.train) + len(data.val) == 100


def test_missing_dataset_offline_names_paths_and_fix(tmp_path):
    with pytest.raises(DataError) as err:
        load(dataset="mnist", data_dir=tmp_path / "nowhere")
    msg = str(err.value)
    assert "mnist" in msg and str(tmp_path / "nowhere") in msg and "--data-dir" in msg


def test_an_offline_mnist_is_one_paragraph_pointing_at_fashion_mnist(tmp_path, monkeypatch):
    """torchvision's download error lists every mirror on its own line: it is cut to the
    reason, and the way out nearest at hand, Fashion-MNIST, comes with its exact --set."""

    def offline(info, root):
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\nTried https://a/, got:\n"
            "<urlopen error [Errno -2] Name or service not known>\nTried http://b/, got:\n"
            "<urlopen error [Errno -2] Name or service not known>\n"
        )

    monkeypatch.setattr(files, "_download", offline)
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(dataset="mnist", data_dir=tmp_path), CPU)
    msg = str(err.value)
    assert "\n" not in msg and "failed ([Errno -2] Name or service not known)" in msg
    assert "--set data.dataset=fashion_mnist" in msg and msg.count("(") == msg.count(")")


def test_truncated_gz_is_a_clear_error(tmp_path):
    folder = write_mnist_family(tmp_path / "MNIST" / "raw", gz=True)
    target = folder / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load(dataset="mnist", data_dir=tmp_path)


def test_a_bit_flipped_gz_is_a_clear_error(tmp_path):
    """A flipped bit inside the deflate stream is a zlib.error, not an OSError."""
    folder = write_mnist_family(tmp_path / "MNIST" / "raw", gz=True)
    target = folder / "train-images-idx3-ubyte.gz"
    raw = bytearray(target.read_bytes())
    for i in range(20, 60):
        raw[i] ^= 0xFF
    target.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*corrupt"):
        load(dataset="mnist", data_dir=tmp_path)


@pytest.mark.parametrize("kind", ["empty", "missing", "a file"])
def test_a_named_data_dir_is_never_silently_replaced_by_another_copy(tmp_path, kind):
    """The default data dir holds MNIST; a --data-dir without it is an error, not a fallback."""
    write_mnist_family(Path(os.environ["TUI_LAB_DATA"]) / "MNIST" / "raw")
    (tmp_path / "empty").mkdir()
    (tmp_path / "a file").write_text("x")
    with pytest.raises(DataError, match=str(tmp_path / kind)):
        load(dataset="mnist", data_dir=tmp_path / kind)
    assert load(dataset="mnist").train.x.shape[1:] == (1, 28, 28)  # found where not named


def test_wrong_magic_number_is_a_clear_error(tmp_path):
    folder = write_mnist_family(tmp_path / "MNIST" / "raw")
    (folder / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(100))
    with pytest.raises(DataError, match="magic number"):
        load(dataset="mnist", data_dir=tmp_path)


def test_truncated_payload_is_a_clear_error(tmp_path):
    folder = write_mnist_family(tmp_path / "MNIST" / "raw")
    path = folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match="truncated"):
        load(dataset="mnist", data_dir=tmp_path)


class _Boom:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/tui-lab-pwned"),))


def test_cifar_loader_never_runs_pickled_code(tmp_path):
    folder = write_cifar(tmp_path / "cifar-10-batches-py", per_batch=4, n_test=4)
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": _Boom(), "labels": [1]}))
    Path("/tmp/tui-lab-pwned").unlink(missing_ok=True)
    with pytest.raises(DataError, match="data_batch_1"):
        load(dataset="cifar10", data_dir=tmp_path)
    assert not Path("/tmp/tui-lab-pwned").exists()


def test_synthetic_dataset_any_shape():
    data = load(
        dataset="synthetic", synthetic_shape=(3, 16, 12), synthetic_classes=4, synthetic_size=200
    )
    assert data.train.x.shape[1:] == (3, 16, 12) and data.num_classes == 4
    assert data.train.x.dtype == torch.uint8


def test_augment_keeps_shape_and_pixels():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    out = augment(x, torch.Generator().manual_seed(0), pad=2)
    assert out.shape == x.shape
    nonzero = out[out != 0]
    assert set(nonzero.tolist()) <= set(x.flatten().tolist())


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)",
)
def test_debian_fashion_mnist_is_found_without_configuration():
    data = load(dataset="fashion_mnist", val_fraction=0.1)
    assert (len(data.train), len(data.val), len(data.test)) == (54_000, 6_000, 10_000)
    assert data.source == "/usr/share/datasets/fashion-mnist"
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as fh:
        fh.read(8)
        first = fh.read(1)[0]
    assert int(data.test.y[0]) == first


def test_a_dataset_is_decoded_once_and_again_when_its_files_change(tmp_path, monkeypatch):
    folder = write_mnist_family(tmp_path / "MNIST" / "raw", n_train=120, n_test=20, gz=True)
    first = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.0)
    calls = []
    tensors._CACHE.clear()  # the process keeps one loaded dataset; here the files are the point
    real = files.FORMATS["idx"]
    monkeypatch.setitem(files.FORMATS, "idx", (real[0], lambda *a: calls.append(a) or real[1](*a)))
    again = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.0)
    assert calls == [] and torch.equal(first.train.x, again.train.x)  # read from the cache
    write_mnist_family(folder, n_train=90, n_test=20, gz=True)  # the files were replaced
    tensors._CACHE.clear()
    changed = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.0)
    assert len(calls) == 1 and len(changed.train) == 90
    entry = max(decoded.cache_dir().iterdir(), key=lambda p: p.stat().st_mtime_ns)  # the last
    (entry / "train_x.npy").write_bytes(b"\x93NUMPY damaged")  # e.g. a disk that filled up
    tensors._CACHE.clear()
    repaired = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.0)
    assert len(calls) == 2 and torch.equal(repaired.train.x, changed.train.x)
    tensors._CACHE.clear()
    assert torch.equal(
        load(dataset="mnist", data_dir=tmp_path, val_fraction=0.0).train.x, changed.train.x
    )
    assert len(calls) == 2  # the repaired entry is used again
    real_load = decoded.np.load

    def no_mmap(path, mmap_mode=None):  # a file system that cannot map files
        if mmap_mode:
            raise OSError("mmap length is greater than file size")
        return real_load(path)

    monkeypatch.setattr(decoded.np, "load", no_mmap)
    tensors._CACHE.clear()
    unmapped = load(dataset="mnist", data_dir=tmp_path, val_fraction=0.0)
    assert len(calls) == 2 and torch.equal(unmapped.train.x, changed.train.x)  # read, not decoded
