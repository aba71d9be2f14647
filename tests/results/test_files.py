"""Result files: written whole or not at all, with the user's umask, and read back with each
column's type (a resume must not turn a fractional epoch into a whole one)."""

from __future__ import annotations

import errno
import stat
import subprocess
import sys

import pytest

from tui_lab.errors import ExportError
from tui_lab.results import files
from tui_lab.results.columns import METRICS, STEPS, read_cell
from tui_lab.results.files import atomic_write, csv_text, read_csv


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_the_umask_asks_for(tmp_path, umask, mode):
    code = (
        f"import os; os.umask({umask}); from pathlib import Path;"
        "from tui_lab.results.files import atomic_write;"
        f"atomic_write(Path({str(tmp_path / 'r.csv')!r}), 'a\\n')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert stat.S_IMODE((tmp_path / "r.csv").stat().st_mode) == mode


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "metrics.csv"
    atomic_write(path, "old\n")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(ExportError, match="No space left on device") as err:
        atomic_write(path, "new\n")
    assert str(path) in str(err.value)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.csv"]


def test_rows_come_back_with_their_column_types(tmp_path):
    steps = [
        {
            "run": "adam",
            "step": 20,
            "epoch": 0.4705882,
            "loss": 1.5,
            "lr": 0.001,
            "samples_per_s": 4000.0,
            "seconds": 0.3,
        }
    ]
    metrics = [
        {
            "run": "adam",
            "epoch": 1,
            "step": 43,
            "train_loss": 1.1,
            "train_acc": 0.6,
            "val_loss": None,
            "val_acc": None,
            "lr": 0.001,
            "seconds": 1.0,
            "epoch_seconds": 1.0,
        }
    ]
    (tmp_path / "steps.csv").write_text(csv_text(STEPS, steps))
    (tmp_path / "metrics.csv").write_text(csv_text(METRICS, metrics))
    (back,) = read_csv(tmp_path / "steps.csv", STEPS)
    assert back["epoch"] == pytest.approx(0.470588) and isinstance(back["step"], int)
    (m,) = read_csv(tmp_path / "metrics.csv", METRICS)
    assert m["epoch"] == 1 and isinstance(m["epoch"], int) and m["val_acc"] is None
    assert read_csv(tmp_path / "missing.csv", STEPS) == []


def test_a_damaged_cell_is_an_error_not_a_wrong_number(tmp_path):
    (tmp_path / "metrics.csv").write_text("run,epoch\nadam,1.5\n")
    with pytest.raises(ValueError, match="not a whole number"):
        read_csv(tmp_path / "metrics.csv", METRICS)


@pytest.mark.parametrize(("value", "kind"), [(True, int), ([1], float), ({}, int), (3, str)])
def test_a_json_cell_of_the_wrong_kind_is_an_error(value, kind):
    with pytest.raises(ValueError, match="is not"):
        read_cell(value, kind)
