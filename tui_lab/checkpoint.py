"""Per-epoch checkpoints and ``--resume``: continue an interrupted experiment from each run's
last completed epoch and get the same numbers as an uninterrupted run (same seed, CPU).

A checkpoint holds tensors and plain values only and is loaded with
``torch.load(weights_only=True)``: a checkpoint file can never run code.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from tui_lab.errors import UserError
from tui_lab.events import FINAL_STATUSES, EpochEnded, RunFinished

CHECKPOINT_DIR = "checkpoints"


class ResumeError(UserError):
    """The directory to resume cannot be resumed (not a tui-lab out dir, corrupt checkpoint)."""


def checkpoint_path(directory: Path, run_name: str) -> Path:
    return directory / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', run_name)}.pt"


def save_checkpoint(run: Any, directory: Path) -> Path:
    """Atomically write ``run.state()`` (temp file + rename: never a half-written checkpoint)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(directory, run.name)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(run.state(), tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is the same user problem
        raise ResumeError(
            f"Checkpoint {path} cannot be loaded ({type(exc).__name__}: {exc}). Delete it to "
            "restart that run from scratch, or resume from another directory."
        ) from None


def restore(run: Any, state: dict[str, Any]) -> None:
    """Put a set-up run back where its checkpoint left it, ready for its next epoch."""
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    run.step, run.epoch, run.seconds = state["step"], state["epoch"], state["seconds"]
    run.best_val_acc, run.epochs_to_target = state["best_val_acc"], state["epochs_to_target"]
    run.shuffle_gen.set_state(state["shuffle_state"])
    run.dropout_gen.set_state(state["dropout_state"])
    run.history = [EpochEnded(**h) for h in state["history"]]
    for loss in state["observed_losses"]:
        run.observed_losses.append(loss)
        run.schedule.end_epoch(loss)
    run._start_epoch()


# --------------------------------------------------------------------------- resuming a dir

_INT = {"epoch", "step", "epochs", "steps", "epochs_to_target", "diverged_at"}
_TEXT = {"run", "status", "error", "text", "check", "result"}


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if v in ("", None):
            out[k] = None
        elif k in _TEXT or not isinstance(v, str):
            out[k] = v
        else:
            out[k] = int(float(v)) if k in _INT else float(v)
    return out


def _read_csv(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [_typed(r) for r in csv.DictReader(fh)]


def read_previous(out_dir: Path) -> tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(format, experiment.json content, tables) of an earlier, possibly interrupted, export."""
    if (out_dir / "results.json").exists():
        payload = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
        tables = {k: [_typed(r) for r in payload.get(k, [])] for k in ("metrics", "steps", "summary")}
        return "json", payload["experiment"], tables
    meta_path = out_dir / "experiment.json"
    if not meta_path.exists():
        raise ResumeError(
            f"{out_dir} holds no experiment.json or results.json, so it is not a tui-lab out "
            "directory that can be resumed. Pass the --out directory of an earlier --export run."
        )
    tables = {k: _read_csv(out_dir / f"{k}.csv") for k in ("metrics", "steps", "summary")}
    return "csv", json.loads(meta_path.read_text(encoding="utf-8")), tables


def resume_runs(experiment: Any, recorder: Any, out_dir: Path, tables: dict[str, list]) -> list[str]:
    """Prepare ``experiment`` to continue: finished runs keep their results, checkpointed runs
    continue from their last epoch, the others start again. Returns a line per run."""
    summary = {r["run"]: r for r in tables["summary"]}
    ckpt_dir = out_dir / CHECKPOINT_DIR
    lines = []
    for run in experiment.runs:
        prev = summary.get(run.name)
        if prev and prev["status"] in FINAL_STATUSES and prev["status"] not in ("interrupted", "stopped"):
            run.result = RunFinished(**{k: prev.get(k) for k in RunFinished.__dataclass_fields__})
            keep_epoch, keep_step = 10**9, 10**9
            lines.append(f"{run.name}: kept ({prev['status']})")
        elif checkpoint_path(ckpt_dir, run.name).exists():
            path = checkpoint_path(ckpt_dir, run.name)
            state = load_checkpoint(path)
            run.setup()
            try:
                restore(run, state)
            except (KeyError, RuntimeError, ValueError, TypeError) as exc:
                raise ResumeError(
                    f"Checkpoint {path} does not fit run {run.name!r} as configured now "
                    f"({type(exc).__name__}: {str(exc)[:200]}); it was written by another "
                    "configuration or tui-lab version. Delete it to restart that run from scratch."
                ) from None
            keep_epoch, keep_step = state["epoch"], state["step"]
            lines.append(f"{run.name}: resumed after epoch {state['epoch']} (step {state['step']})")
        else:
            keep_epoch = keep_step = 0
            lines.append(f"{run.name}: restarted (no checkpoint)")
        recorder.metrics += [m for m in tables["metrics"] if m["run"] == run.name and m["epoch"] <= keep_epoch]
        recorder.steps += [s for s in tables["steps"] if s["run"] == run.name and s["step"] <= keep_step]
        if run.result is not None:
            recorder.summary[run.name] = {k: prev.get(k) for k in prev}
            recorder.order[run.name] = run.index
    return lines
