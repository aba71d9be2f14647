"""Nothing lost, no traceback on bad input, no hang: interrupts, kill -9, resume, full disk,
low memory, corrupt files, unexpected errors (the fuzzers are in test_fuzz.py)."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import TINY_CNN, TINY_MLP, as_sets, rows

from tui_lab.cli.main import main

SYNTH = as_sets({**TINY_CNN, "data.synthetic_size": 800})
MLP = as_sets(TINY_MLP)
ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_lab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def wait_for_epochs(out: Path, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = out / "metrics.csv"
        if path.exists() and len(rows(path)) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("no epoch finished in time")


def test_first_ctrl_c_stops_writes_and_exits_130(tmp_path):
    out = tmp_path / "out"
    proc = start(
        "--preset", "adam_vs_sgd", "--export", "csv", "--epochs", "200", "--out", str(out), *SYNTH
    )
    wait_for_epochs(out, 3, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    summary = rows(out / "summary.csv")
    assert {r["status"] for r in summary} == {"interrupted"} and len(summary) == 3
    assert json.loads((out / "experiment.json").read_text())["status"] == "interrupted"
    assert (out / "report.md").exists()


def test_second_ctrl_c_exits_at_once(tmp_path):
    proc = start(
        "--preset",
        "adam_vs_sgd",
        "--export",
        "csv",
        "--epochs",
        "200",
        "--out",
        str(tmp_path / "o"),
        *SYNTH,
    )
    wait_for_epochs(tmp_path / "o", 1, proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert proc.returncode == 130


def _learning(table: list[dict[str, str]]) -> list[tuple]:
    return sorted(
        (r["run"], r["epoch"], r["train_loss"], r["val_loss"], r["val_acc"]) for r in table
    )


def test_kill_9_leaves_complete_files_and_resume_matches_an_uninterrupted_run(tmp_path):
    args = ["--preset", "adam_vs_sgd", "--export", "csv", "--epochs", "4", "--checkpoint", *SYNTH]
    killed = tmp_path / "killed"
    proc = start(*args, "--out", str(killed))
    wait_for_epochs(killed, 4, proc)
    proc.kill()
    proc.wait()
    for name in ("metrics.csv", "steps.csv", "summary.csv"):
        text = (killed / name).read_text()
        assert text.endswith("\n")
        header, *body = list(csv.reader(text.splitlines()))
        assert all(len(r) == len(header) for r in body), name
    resumed = start("--resume", str(killed))
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "resumed after epoch" in err
    assert not list(killed.glob("**/.*.tmp"))  # a write cut short by the kill is cleared away

    whole = tmp_path / "whole"
    assert main([*args, "--out", str(whole)]) == 0
    assert _learning(rows(killed / "metrics.csv")) == _learning(rows(whole / "metrics.csv"))

    def test_accs(d):
        return [(r["run"], r["test_acc"]) for r in rows(d / "summary.csv")]

    assert test_accs(killed) == test_accs(whole)


def test_checkpoints_load_with_weights_only(tmp_path):
    import torch

    out = tmp_path / "o"
    assert (
        main(
            [
                "--preset",
                "baseline_cnn",
                "--export",
                "csv",
                "--epochs",
                "1",
                "--checkpoint",
                "--out",
                str(out),
                *SYNTH,
            ]
        )
        == 0
    )
    state = torch.load(out / "checkpoints" / "baseline.pt", weights_only=True)
    assert state["epoch"] == 1 and "model" in state


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "o"
    main(
        [
            "--preset",
            "baseline_cnn",
            "--export",
            "csv",
            "--epochs",
            "1",
            "--checkpoint",
            "--out",
            str(out),
            *SYNTH,
        ]
    )
    rows_ = rows(out / "summary.csv")
    rows_[0]["status"] = "interrupted"
    with open(out / "summary.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows_[0]))
        w.writeheader()
        w.writerows(rows_)
    (out / "checkpoints" / "baseline.pt").write_bytes(b"not a checkpoint")
    assert main(["--resume", str(out)]) == 2
    assert "baseline.pt" in capsys.readouterr().err


def test_lr_10_diverges_at_a_step_and_the_siblings_finish(tmp_path):
    out = tmp_path / "o"
    cfg = tmp_path / "p.toml"
    cfg.write_text(
        '[[runs]]\nname = "wild"\nset = { "optimizer.name" = "sgd", "optimizer.lr" = 10.0 }\n'
        '[[runs]]\nname = "calm"\nset = { "optimizer.name" = "adam" }\n'
    )
    assert (
        main(
            [
                "--preset",
                str(cfg),
                "--export",
                "csv",
                "--epochs",
                "2",
                "--out",
                str(out),
                *SYNTH,
                "--set",
                "model.filters=[32, 64]",
                "--set",
                "model.hidden=128",
            ]
        )
        == 0
    )
    summary = {r["run"]: r for r in rows(out / "summary.csv")}
    assert summary["wild"]["status"] == "diverged" and int(summary["wild"]["diverged_at"]) >= 1
    assert summary["calm"]["status"] == "completed"


def test_unwritable_out_dir_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        main(["--preset", "baseline_cnn", "--export", "csv", "--out", str(blocker / "out"), *SYNTH])
        == 2
    )
    assert str(blocker / "out") in capsys.readouterr().err


def test_full_disk_while_exporting_names_the_path_and_keeps_finished_files(
    tmp_path, monkeypatch, capsys
):
    from tui_lab.results import files

    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) > 8:  # the first epoch's files are written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    out = tmp_path / "o"
    code = main(
        ["--preset", "baseline_cnn", "--export", "csv", "--epochs", "5", "--out", str(out), *SYNTH]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and str(out) in err and "Traceback" not in err
    assert len(rows(out / "metrics.csv")) >= 1
    assert not list(out.glob(".*.tmp"))


def test_full_disk_while_checkpointing_stops_resumably_and_keeps_complete_files(
    tmp_path, monkeypatch, capsys
):
    """The big checkpoint is what no longer fits: its temporary is removed, so the small files
    still record why the runs stopped, and the resume continues once there is room."""
    from tui_lab.results import files

    real_fsync, checkpoints = os.fsync, []

    def fsync(fd):
        if ".pt." in os.readlink(f"/proc/self/fd/{fd}"):
            checkpoints.append(fd)
            if len(checkpoints) > 3:  # each run's first checkpoint fits, the next one not
                raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    out = tmp_path / "o"
    args = ["--preset", "adam_vs_sgd", "--export", "csv", "--checkpoint", "--epochs", "4"]
    assert main([*args, "--out", str(out), *MLP]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and ".pt" in err and "Traceback" not in err
    meta = json.loads((out / "experiment.json").read_text())
    assert meta["status"] == "stopped" and "No space left" in meta["error"]
    summary = rows(out / "summary.csv")
    assert {r["run"] for r in summary} == {"adam", "rmsprop", "sgd_momentum"}
    assert {r["status"] for r in summary} == {"stopped"}
    assert not list(out.glob("**/.*.tmp"))
    monkeypatch.setattr(files.os, "fsync", real_fsync)  # room again
    assert main(["--resume", str(out)]) == 0
    assert {r["status"] for r in rows(out / "summary.csv")} == {"completed"}


def test_no_code_path_evaluates_text_as_python():
    pattern = re.compile(r"(?<![\w.])(eval|exec|compile)\(|pickle\.loads?\(|__import__\(")
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in (ROOT / "tui_lab").rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_served_lab_binds_loopback_only(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_lab", "--serve", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening_addresses(port) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_serve_address_is_exit_2(capsys):
    assert main(["--serve", "localhost:http"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_kernel_larger_than_the_image_is_exit_2(capsys):
    assert (
        main(
            [
                "--headless",
                *SYNTH,
                "--set",
                "data.synthetic_shape=[1, 8, 8]",
                "--set",
                "model.kernel_size=9",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "model.kernel_size=9" in err and "8×8" in err


def test_corrupt_dataset_file_is_exit_2_naming_the_file(tmp_path, capsys):
    from formats import write_mnist_family

    folder = write_mnist_family(tmp_path / "MNIST" / "raw", gz=True)
    target = folder / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:100])
    assert main(["--headless", "--set", "data.dataset=mnist", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "t10k-images-idx3-ubyte.gz" in err and "Traceback" not in err


def test_a_bit_flipped_gz_is_exit_2_naming_the_file(tmp_path, capsys):
    from formats import write_mnist_family

    folder = write_mnist_family(tmp_path / "MNIST" / "raw", gz=True)
    target = folder / "train-labels-idx1-ubyte.gz"
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    target.write_bytes(bytes(raw))
    out = tmp_path / "out"
    args = ["--export", "csv", "--out", str(out), "--set", "data.dataset=mnist"]
    assert main([*args, "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "train-labels-idx1-ubyte.gz" in err and err.count("\n") == 1
    assert not out.exists()  # a failed start leaves nothing behind


def test_a_data_dir_that_is_not_a_folder_is_exit_2(tmp_path, capsys):
    for data_dir in (tmp_path / "missing", Path(__file__)):
        assert main(["--headless", "--set", "data.dataset=mnist", "--data-dir", str(data_dir)]) == 2
        assert str(data_dir) in capsys.readouterr().err


def limited_memory(code: str, gib: float) -> subprocess.CompletedProcess:
    """Run ``code`` in a process whose address space is limited (ulimit -v) to ``gib`` GiB
    beyond what it has mapped once ``code``'s imports are done (``SET_LIMIT`` marks where)."""
    limit = (
        "import resource\n"
        "mapped = next(int(l.split()[1]) for l in open('/proc/self/status') if "
        "l.startswith('VmSize')) * 1024\n"
        f"resource.setrlimit(resource.RLIMIT_AS, (mapped + int({gib} * 2**30),) * 2)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code.replace("SET_LIMIT\n", limit)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "sets",
    [
        ["model.arch=mlp", "model.hidden=65536", "model.hidden_layers=8"],
        ["data.synthetic_size=100000000"],
    ],
    ids=["huge model", "huge dataset"],
)
def test_an_allocation_failure_at_setup_fails_the_run_with_a_memory_hint(tmp_path, sets):
    out = tmp_path / "out"
    argv = [
        "--export",
        "csv",
        "--out",
        str(out),
        "--set",
        "data.dataset=synthetic",
        "--device",
        "cpu",
    ]
    argv += [a for s in sets for a in ("--set", s)]
    done = limited_memory(
        "import torch\nfrom tui_lab.cli.main import main\nSET_LIMIT\n"
        f"raise SystemExit(main({argv!r}))\n",
        gib=1.0,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "out of memory" in done.stderr
    (summary,) = rows(out / "summary.csv")
    assert summary["status"] == "failed" and "lower training.batch_size" in summary["error"]
    assert json.loads((out / "experiment.json").read_text())["status"] == "completed"


def test_torch_that_cannot_load_under_a_low_memory_limit_is_one_paragraph():
    done = limited_memory(
        "import sys\nSET_LIMIT\nfrom tui_lab.cli.main import main\n"
        "raise SystemExit(main(['--headless', '--set', 'data.dataset=synthetic']))\n",
        gib=0.5,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("tui-lab: error: a library could not be loaded")
    assert "ulimit -v" in done.stderr and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("[enforce fail at alloc_cpu.cpp:127] err == 0. Cannot allocate memory", True),
        ("DefaultCPUAllocator: can't allocate memory: you tried to allocate 4 bytes", True),
        ("std::bad_alloc", True),
        ("CUDA out of memory. Tried to allocate 2.00 GiB", True),
        ("mat1 and mat2 shapes cannot be multiplied", False),
    ],
)
def test_out_of_memory_is_recognized_in_every_wording(text, hint):
    from tui_lab.errors import describe_failure

    described = describe_failure(RuntimeError(text))
    assert ("out of memory: lower training.batch_size" in described) is hint


def test_an_unexpected_error_is_one_paragraph_exit_1_and_recorded(tmp_path, monkeypatch, capsys):
    from tui_lab.training import job

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(job, "comparison_report", broken)

    def argv(out):
        return ["--preset", "baseline_cnn", "--export", "csv", "--out", str(out), *MLP]

    assert main(argv(tmp_path / "out")) == 1
    *_, err = capsys.readouterr().err.splitlines()
    assert err.startswith("tui-lab: error: tui-lab failed (ZeroDivisionError: a bug")
    assert "TUI_LAB_DEBUG=1" in err
    meta = json.loads((tmp_path / "out" / "experiment.json").read_text())
    assert meta["status"] == "failed" and "ZeroDivisionError: a bug" in meta["error"]
    monkeypatch.setenv("TUI_LAB_DEBUG", "1")
    assert main(argv(tmp_path / "again")) == 1
    assert "Traceback" in capsys.readouterr().err
