"""Out dirs: created exclusively, named under runs/ whatever the preset is called, written by
one process at a time, and never a traceback for a path that cannot be one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_lab.errors import ExportError, ResumeError
from tui_lab.results.out_dir import LOCK_NAME, claim_out_dir


@pytest.mark.parametrize("preset", ["../../../escaped", "/etc/absolute", "a/b", "x" * 300, ".."])
def test_default_out_dirs_stay_under_runs(tmp_path, monkeypatch, preset):
    monkeypatch.chdir(tmp_path)
    with claim_out_dir(None, preset) as out:
        (out.path / "summary.csv").write_text("run\n")
    assert out.path.parent == Path("runs")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    assert len(out.path.name.encode()) < 255


def test_the_same_default_name_twice_gets_two_directories(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with claim_out_dir(None, "p") as first, claim_out_dir(None, "p") as second:
        assert first.path != second.path and first.path.is_dir() and second.path.is_dir()


def test_an_out_dir_with_results_is_never_reused_unless_resuming(tmp_path):
    out = tmp_path / "out"
    with claim_out_dir(out, "p"):
        (out / "summary.csv").write_text("run\n")
        (out / ".summary.csv.x.tmp").write_text("half")  # a kill mid-write
    with pytest.raises(ExportError, match="never overwrites"):
        claim_out_dir(out, "p")
    with claim_out_dir(out, "p", resume=True):
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "summary.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]


def test_an_existing_empty_dir_is_used_and_a_failed_start_leaves_no_new_dir(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / LOCK_NAME).write_text("12345\n")  # left by a process killed before writing
    with claim_out_dir(empty, "p"):
        pass
    assert empty.is_dir() and list(empty.iterdir()) == []
    with claim_out_dir(tmp_path / "new" / "deeper", "p"):
        pass
    assert not (tmp_path / "new").exists()
    monkeypatch.chdir(tmp_path)
    with claim_out_dir(None, "p"):
        pass
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("kind", ["file", "link to a file", "device", "long name", "in a file"])
def test_an_out_path_that_cannot_be_a_directory_is_one_paragraph(tmp_path, kind):
    target = tmp_path / "f"
    target.write_text("keep")
    paths = {
        "file": target,
        "link to a file": tmp_path / "link",
        "device": "/dev/null",
        "long name": tmp_path / ("x" * 300),
        "in a file": target / "out",
    }
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(ExportError) as err:
        claim_out_dir(paths[kind], "p")
    assert "\n" not in str(err.value) and "--out" in str(err.value)
    assert target.read_text() == "keep"


def test_resume_needs_an_existing_directory(tmp_path):
    with pytest.raises(ResumeError, match="does not exist"):
        claim_out_dir(tmp_path / "nowhere", "p", resume=True)


def test_a_second_writer_is_refused_naming_the_holders_pid(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from tui_lab.results.out_dir import claim_out_dir;"
            f"d = claim_out_dir(Path({str(out)!r}), 'p'); print('held', flush=True);"
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        for resume in (False, True):
            with pytest.raises(ExportError, match=f"PID {holder.pid}"):
                claim_out_dir(out, "p", resume=resume)
        holder.kill()  # kill -9: the kernel drops the lock, the stale .lock file stays
        holder.wait()
        with claim_out_dir(out, "p", resume=True) as again:
            assert (again.path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    finally:
        holder.kill()
        holder.wait()


def test_claims_racing_for_one_new_dir_give_one_writer(tmp_path):
    """Many processes claim the same new --out at the same moment: exactly one gets it."""
    out, start = tmp_path / "out", time.time() + 2
    code = (
        "import sys, time; from pathlib import Path;"
        "from tui_lab.results.out_dir import claim_out_dir;"
        "from tui_lab.errors import ExportError\n"
        f"while time.time() < {start}: pass\n"
        f"try:\n d = claim_out_dir(Path({str(out)!r}), 'p');"
        " (d.path / 'mine').write_text('x'); time.sleep(1); print('won')\n"
        "except ExportError as e: print('lost')"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(4)
    ]
    results = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert results == ["lost", "lost", "lost", "won"]
