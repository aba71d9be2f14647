"""Where a search keeps its study: a storage that cannot be used is one paragraph and exit 2
with nothing left behind, processes racing to create one sqlite database all get it, and
--headless keeps nothing at all."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy.exc

from tui_lab.cli.main import main
from tui_lab.search import study as study_module
from tui_lab.search.study import open_storage

PRESET = """
name = "tiny_search"
[base.data]
dataset = "synthetic"
synthetic_size = 120
val_fraction = 0.25
[base.model]
arch = "mlp"
hidden = 8
[base.training]
epochs = 1
batch_size = 32
device = "cpu"
threads = 1
[search]
method = "random"
n_trials = 2
[search.space]
"optimizer.lr" = { type = "float", low = 0.001, high = 0.05, log = true }
"""


@pytest.fixture
def preset(tmp_path) -> Path:
    path = tmp_path / "tiny_search.toml"
    path.write_text(PRESET)
    return path


def test_a_headless_search_writes_no_files(tmp_path, preset, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    monkeypatch.chdir(tmp_path)
    assert main(["--preset", str(preset), "--headless"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny_search.toml", "tmp"]
    assert not list(scratch.glob("tui-lab-*"))  # the study's temporary journal is gone too


def _read_only(path: str) -> None:
    raise OSError(errno.EROFS, "Read-only file system", path)


@pytest.mark.parametrize("kind", ["missing folder", "a directory", "garbage", "read-only"])
def test_an_unusable_journal_is_one_paragraph_and_leaves_no_out_dir(
    tmp_path, preset, monkeypatch, capsys, kind
):
    (tmp_path / "dir.journal").mkdir()
    (tmp_path / "garbage.journal").write_text("not a journal\n")
    storage = {
        "missing folder": tmp_path / "nowhere" / "s.journal",
        "a directory": tmp_path / "dir.journal",
        "garbage": tmp_path / "garbage.journal",
        "read-only": tmp_path / "new.journal",
    }[kind]
    if kind == "read-only":
        monkeypatch.setattr(study_module, "JournalFileBackend", _read_only)
    out = tmp_path / "out"
    args = ["--preset", str(preset), "--export", "csv", "--out", str(out)]
    assert main([*args, "--storage", str(storage)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tui-lab: error: --storage {storage}") and err.count("\n") == 1, err
    assert not out.exists()
    assert (tmp_path / "garbage.journal").read_text() == "not a journal\n"


def test_losing_the_race_to_create_a_sqlite_database_is_retried(tmp_path, monkeypatch):
    real, calls = study_module.RDBStorage, []

    def racing(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:  # another process stamped the schema version first
            raise sqlalchemy.exc.IntegrityError("INSERT INTO alembic_version", {}, Exception())
        return real(url, **kwargs)

    monkeypatch.setattr(study_module, "RDBStorage", racing)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert open_storage(url, tmp_path).get_all_studies() == []
    assert len(calls) == 2


def test_processes_creating_one_new_sqlite_study_at_once_all_get_it(tmp_path):
    code = (
        "import sys, time, optuna\n"
        "from pathlib import Path\n"
        "from tui_lab.search.study import open_storage\n"
        "optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
        "url, start = sys.argv[1], float(sys.argv[2])\n"
        "while time.time() < start: pass\n"
        "storage = open_storage(url, Path('.'))\n"
        "optuna.create_study(storage=storage, study_name='s', load_if_exists=True)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for round_ in range(2):
        url, start = f"sqlite:///{tmp_path / f'db{round_}.sqlite'}", time.time() + 3
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, url, str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(3)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0 and out == "ok\n", err
