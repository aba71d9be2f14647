"""Shared test set-up: no test may download anything or touch the user's cache."""

from __future__ import annotations

import pytest
from formats import write_mnist_family


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TUI_LAB_DATA", str(tmp_path_factory.getbasetemp() / "tui-lab-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture
def mnist_root(tmp_path):
    """A data root holding a small MNIST in torchvision's raw layout (ROOT/MNIST/raw)."""
    write_mnist_family(tmp_path / "data" / "MNIST" / "raw")
    return tmp_path / "data"
