"""Shared test set-up: no test may download anything or touch the user's cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TUI_LAB_DATA", str(tmp_path_factory.getbasetemp() / "tui-lab-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
