"""Hyperparameter search: spaces, grid budget, diverged trials, files, kill -9 resume, and two
workers sharing one PostgreSQL study."""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from pydantic import ValidationError

from tui_lab.cli.main import main
from tui_lab.config import ExperimentConfig
from tui_lab.errors import ConfigError
from tui_lab.events import TrialFinished
from tui_lab.search import trials as trials_module
from tui_lab.search.plan import plan_search, search_base
from tui_lab.search.runner import Search, attach_study
from tui_lab.search.samplers import (
    PRUNER_FACTORIES,
    TrialSeededRandomSampler,
    TrialSeededTPESampler,
)
from tui_lab.search.space import suggest
from tui_lab.search.study import is_stale, worker_identity

BASE = {
    "data": {"dataset": "synthetic", "synthetic_size": 240, "val_fraction": 0.25},
    "model": {"filters": [4, 8], "hidden": 16},
    "training": {"epochs": 2, "batch_size": 32, "device": "cpu", "precision": "fp32"},
}
BASE_TOML = """
[base.data]
dataset = "synthetic"
synthetic_size = {size}
val_fraction = 0.25
[base.model]
filters = [4, 8]
hidden = 16
[base.training]
epochs = {epochs}
batch_size = 32
device = "cpu"
precision = "fp32"
"""


def experiment(search: dict) -> ExperimentConfig:
    return ExperimentConfig.model_validate({"name": "t", "base": BASE, "search": search})


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def journal_study(path: Path, name: str) -> optuna.Study:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.load_study(study_name=name, storage=storage)


# ------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("space", "message"),
    [
        (
            {"optimizer.lrx": {"type": "float", "low": 0.1, "high": 1.0}},
            "optimizer has no field 'lrx'",
        ),
        ({"model.dropout": {"type": "float", "low": 0.1, "high": 1.5}}, "model.dropout"),
        ({"optimizer.lr": {"type": "float", "low": 0.0, "high": 1.0, "log": True}}, "low > 0"),
        (
            {"optimizer.lr": {"type": "categorical", "choices": [0.1], "low": 0.1}},
            "takes only choices",
        ),
        ({"training.batch_size": {"type": "int", "low": 8, "high": 64, "grid": [100]}}, "within"),
    ],
)
def test_bad_search_spaces_are_config_errors(space, message):
    with pytest.raises(ValidationError, match=message):
        experiment({"method": "random", "n_trials": 2, "space": space})


def test_budgets_and_usage_errors():
    with pytest.raises(ValidationError, match="need n_trials"):
        experiment(
            {
                "method": "random",
                "space": {"optimizer.lr": {"type": "float", "low": 0.1, "high": 1}},
            }
        )
    cfg = experiment(
        {
            "method": ["grid", "random"],
            "space": {
                "optimizer.lr": {
                    "type": "float",
                    "low": 0.001,
                    "high": 0.1,
                    "log": True,
                    "grid": [0.001, 0.1],
                },
                "training.epochs": {"type": "int", "low": 1, "high": 3},
            },
        }
    )
    grid, rand = plan_search(cfg)
    assert (grid.n_trials, grid.cells, grid.budget_epochs) == (6, 6, 2 * (1 + 2 + 3))
    assert (rand.n_trials, rand.budget_epochs, rand.study) == (6, 6 * 3, "t-random")
    with pytest.raises(ConfigError, match="searches over that setting"):
        search_base(cfg, {"optimizer.lr": 0.1})
    with pytest.raises(ConfigError, match="seeds apply to comparisons"):
        search_base(cfg, {"training.seeds": 3})
    for name, build in PRUNER_FACTORIES.items():
        assert build(cfg.search, 3) is not None, name
    no_points = experiment(
        {"method": "grid", "space": {"model.dropout": {"type": "float", "low": 0, "high": 0.5}}}
    )
    with pytest.raises(ConfigError, match="grid search needs the points"):
        plan_search(no_points)


def test_random_and_tpe_give_trial_n_the_same_parameters_in_any_process():
    """Resume and several workers must not replay or collide: trial n's draw depends on n."""
    space = experiment(
        {
            "method": "random",
            "n_trials": 3,
            "space": {
                "optimizer.lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True},
                "model.filters": {"type": "categorical", "choices": [[4, 8], [8, 16]]},
            },
        }
    ).search.space
    draws = []
    for sampler in (
        TrialSeededRandomSampler(3),
        TrialSeededRandomSampler(3),
        TrialSeededTPESampler(3, 5),
    ):
        study = optuna.create_study(sampler=sampler)
        draws.append([suggest(study.ask(), space) for _ in range(4)])
    assert draws[0] == draws[1] == draws[2]
    assert len({json.dumps(d) for d in draws[0]}) == 4
    assert isinstance(draws[0][0]["model.filters"], list)


def test_stale_running_trials_are_recognized():
    study = optuna.create_study()
    trial = study.ask()

    def frozen():
        return study.trials[trial.number]

    now = time.time()
    assert not is_stale(frozen(), now) and is_stale(frozen(), now + 31)  # died right after ask()
    trial.set_user_attr("worker", worker_identity())
    trial.set_user_attr("heartbeat", now)
    assert not is_stale(frozen(), now + 60) and is_stale(frozen(), now + 121)  # alive, then silent
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    trial.set_user_attr("worker", {**worker_identity(), "pid": dead.pid})
    assert is_stale(frozen(), now)  # same host, the process is gone: at once


# ------------------------------------------------------------------------------ one process


def test_grid_runs_every_cell_once_and_records_diverged_and_failed_trials(tmp_path, monkeypatch):
    class OutOfMemoryAt64(trials_module.Run):
        def advance(self, steps: int) -> bool:
            if self.cfg.training.batch_size == 64:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return super().advance(steps)

    monkeypatch.setattr(trials_module, "Run", OutOfMemoryAt64)
    cfg = experiment(
        {
            "method": "grid",
            "space": {
                "optimizer.lr": {"type": "categorical", "choices": [0.01, 10.0]},
                "training.batch_size": {"type": "categorical", "choices": [32, 64]},
            },
        }
    )
    finished = []
    search = Search(
        cfg,
        run_dir=tmp_path,
        listeners=[lambda e: finished.append(e.record) if isinstance(e, TrialFinished) else None],
    )
    assert search.plans[0].budget_epochs == 4 * 2
    (outcome,) = search.run()
    assert outcome.status == "completed"
    cells = {
        (r.params["optimizer.lr"], r.params["training.batch_size"]): r for r in outcome.records
    }
    assert set(cells) == {(lr, b) for lr in (0.01, 10.0) for b in (32, 64)}
    assert [r.number for r in outcome.records] == [0, 1, 2, 3] and len(finished) == 4
    assert {k: r.status for k, r in cells.items()} == {
        (0.01, 32): "completed",
        (10.0, 32): "diverged",
        (0.01, 64): "failed",
        (10.0, 64): "failed",
    }
    for r in outcome.records:  # the sampler sees the worst value for diverged and failed trials
        assert r.state == "COMPLETE" and (r.value == 0.0) == (r.status != "completed")
    assert "NaN" in cells[(10.0, 32)].reason and "out of memory" in cells[(0.01, 64)].reason
    assert outcome.best == cells[(0.01, 32)]
    assert outcome.test is not None and outcome.test.test_acc is not None
    assert outcome.best.epochs == 2 and len(outcome.best.history) == 2


def test_trials_trained_in_parallel_threads_match_trials_trained_one_at_a_time(tmp_path):
    """On CPU a search trains one trial per core side by side; trial n still gets its own
    parameters and, with the same torch thread count, the same score as when trained alone."""

    def outcome(workers: int) -> dict[int, tuple]:
        base = {
            **BASE,
            "model": {**BASE["model"], "dropout": 0.2},
            "training": {**BASE["training"], "threads": 1, "workers": workers},
        }
        cfg = ExperimentConfig.model_validate(
            {
                "name": "t",
                "base": base,
                "search": {
                    "method": "random",
                    "n_trials": 4,
                    "pruner": "none",
                    "space": {
                        "optimizer.lr": {"type": "float", "low": 0.001, "high": 0.05, "log": True}
                    },
                },
            }
        )
        (tmp_path / f"w{workers}").mkdir()
        (result,) = Search(cfg, run_dir=tmp_path / f"w{workers}").run()
        return {r.number: (r.params, r.status, r.value) for r in result.records}

    alone, side_by_side = outcome(1), outcome(2)
    assert len(alone) == 4 and all(status == "completed" for _, status, _ in alone.values())
    assert side_by_side == alone


SEARCH_TOML = """
[search]
method = "random"
n_trials = {n}
pruner = "median"
startup_trials = 1
[search.space]
"optimizer.lr" = {{ type = "float", low = 0.001, high = 0.05, log = true }}
"model.dropout" = {{ type = "float", low = 0.0, high = 0.5 }}
"""


def write_preset(tmp_path: Path, n: int, epochs: int, size: int) -> Path:
    path = tmp_path / "tiny_search.toml"
    path.write_text(BASE_TOML.format(size=size, epochs=epochs) + SEARCH_TOML.format(n=n))
    return path


def test_export_csv_and_json_files(tmp_path, capsys):
    preset = write_preset(tmp_path, n=3, epochs=2, size=240)
    out = tmp_path / "csv"
    assert main(["--preset", str(preset), "--export", "csv", "--out", str(out)]) == 0
    assert {"trials.csv", "metrics.csv", "summary.csv", "experiment.json", "study.journal"} <= {
        p.name for p in out.iterdir()
    }
    trials = rows(out / "trials.csv")
    assert [t["number"] for t in trials] == ["0", "1", "2"]
    assert {
        "state",
        "status",
        "value",
        "optimizer.lr",
        "model.dropout",
        "epochs",
        "seconds",
        "pruned_at_epoch",
        "reason",
    } <= set(trials[0])
    metrics = rows(out / "metrics.csv")
    assert len(metrics) == sum(int(t["epochs"]) for t in trials)
    (best,) = rows(out / "summary.csv")
    assert best["status"] == "completed" and 0 <= float(best["test_acc"]) <= 1
    meta = json.loads((out / "experiment.json").read_text())
    assert (
        meta["status"] == "completed" and meta["studies"]["random"]["best"]["test_acc"] is not None
    )
    printed = capsys.readouterr().out
    assert "top" in printed and "Best random trial" in printed
    drawn = {"optimization_history", "parallel_coordinates", "slices", "contour"}
    assert {p.name for p in (out / "figures").iterdir()} == {f"{n}.svg" for n in drawn}
    assert "## Sweep analysis" in (out / "report.md").read_text()

    out_json = tmp_path / "json"
    assert (
        main(["--preset", str(preset), "--export", "json", "--out", str(out_json), "--epochs", "1"])
        == 0
    )
    payload = json.loads((out_json / "results.json").read_text())
    assert len(payload["trials"]) == 3 and payload["summary"][0]["test_acc"] is not None
    assert len(payload["metrics"]) == sum(t["epochs"] for t in payload["trials"])


# ------------------------------------------------------------------------------ resume


def test_kill_9_mid_search_then_the_same_command_resumes(tmp_path):
    preset = write_preset(tmp_path, n=3, epochs=4, size=2000)  # trials of a few seconds each
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "tui_lab",
        "--preset",
        str(preset),
        "--export",
        "csv",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    journal, before = out / "study.journal", None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        try:  # the journal file exists a moment before the study's first record
            trials = journal_study(journal, "tiny_search").trials if journal.exists() else []
        except KeyError:
            trials = []
        if not trials:
            continue
        running = trials[-1].state.name == "RUNNING" and "worker" in trials[-1].user_attrs
        if running and any(t.state.is_finished() for t in trials):  # killed while training
            before = trials
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert before is not None, "the search never had a finished and a running trial at once"
    running = before[-1]
    assert journal_study(journal, "tiny_search").trials[running.number].state.name == "RUNNING"

    rerun = subprocess.run(
        cmd, check=False, capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    after = journal_study(journal, "tiny_search").trials
    assert [t.number for t in after] == [0, 1, 2]
    assert all(t.state.is_finished() for t in after)
    for old in before:
        if old.state.is_finished():  # kept as they were, not re-run
            new = after[old.number]
            assert (new.value, new.datetime_complete) == (old.value, old.datetime_complete)
    again = after[running.number]
    assert again.params == running.params and again.user_attrs["attempt"] == 2
    assert len(rows(out / "trials.csv")) == 3


# ------------------------------------------------------------------------------ PostgreSQL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    """Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return shutil.which(name) or (found[-1] if found else None)


NO_POSTGRES = not (_pg_bin("initdb") and _pg_bin("pg_ctl"))
NO_POSTGRES_REASON = (
    "PostgreSQL test SKIPPED: initdb/pg_ctl not found on PATH or in "
    "/usr/lib/postgresql/*/bin (install Debian's postgresql package); "
    "two-worker sharing was NOT tested"
)


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server on loopback. Installed but unable to start is a failure."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="tui-lab-pg-"))
    data, port = root / "data", _free_port()

    def as_db_user(command: str) -> subprocess.CompletedProcess:
        argv = ["su", "postgres", "-c", command] if os.geteuid() == 0 else ["sh", "-c", command]
        return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)

    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    server = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    steps = [
        f"{initdb} -A trust -U postgres -D {data}",
        f"{pg_ctl} -D {data} -l {root}/log -w -o '{server}' start",
    ]
    for step in steps:
        done = as_db_user(step)
        if done.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(
                f"PostgreSQL is installed but `{Path(step.split()[0]).name}` failed: "
                f"{(done.stderr or done.stdout).strip()[-400:]}"
            )
    yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    as_db_user(f"{pg_ctl} -D {data} -m immediate stop")
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(NO_POSTGRES, reason=NO_POSTGRES_REASON)
def test_two_workers_share_one_postgres_study_without_duplicates(tmp_path, postgres_url):
    preset = tmp_path / "pg_grid.toml"
    preset.write_text(
        BASE_TOML.format(size=400, epochs=1)
        + """
[search]
method = "grid"
[search.space]
"optimizer.lr" = { type = "categorical", choices = [0.003, 0.01, 0.03] }
"model.filters" = { type = "categorical", choices = [[4, 8], [8, 8]] }
"""
    )
    cmd = [
        sys.executable,
        "-m",
        "tui_lab",
        "--preset",
        str(preset),
        "--export",
        "csv",
        "--out",
        str(tmp_path / "out"),
        "--storage",
        postgres_url,
        "--study",
        "shared",
        "--workers",
        "2",
    ]
    done = subprocess.run(
        cmd, check=False, capture_output=True, text=True, cwd=tmp_path, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    study = attach_study(postgres_url, "shared")
    surplus = [t for t in study.trials if t.user_attrs.get("status") == "surplus"]
    assert all(t.state.name == "FAIL" and t.number >= 6 for t in surplus)  # raced past the budget
    trials = [t for t in study.trials if t not in surplus]
    assert [t.number for t in trials] == list(range(6))
    assert all(t.state.name == "COMPLETE" and t.user_attrs["status"] == "completed" for t in trials)
    cells = {(t.params["optimizer.lr"], t.params["model.filters"]) for t in trials}
    assert len(cells) == 6  # every cell once: no duplicates, none lost
    workers = {t.user_attrs["worker"]["pid"] for t in trials}
    assert len(workers) == 2, f"one worker ran every trial: {workers}"
