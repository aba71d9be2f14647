"""Start-up: training never pays for TorchDynamo, which tui-lab does not use (importing it
takes longer than importing torch). If a torch release wraps its optimizers differently, this
is the test that says so."""

from __future__ import annotations

import json
import subprocess
import sys

from tui_lab.optim.catalog import OPTIMIZERS

PROBE = """
import json, pathlib, sys, tempfile
from tui_lab.config import ExperimentConfig
from tui_lab.training.job import ComparisonJob
culprits = []
for name, impl in json.loads(sys.argv[1]):
    cfg = ExperimentConfig.model_validate({"name": "t", "runs": [{"name": "r", "set": {
        "optimizer.name": name, "optimizer.impl": impl, "data.dataset": "synthetic",
        "data.synthetic_size": 200, "model.arch": "mlp", "model.hidden": 8,
        "training.device": "cpu", "training.epochs": 1, "training.checkpoint": True}}]})
    job = ComparisonJob(cfg, command=["t"], fmt="csv")
    job.write_into(pathlib.Path(tempfile.mkdtemp()))
    job.run()
    if "torch._dynamo" in sys.modules:
        culprits.append(f"{name}/{impl}")
        break  # once imported, later optimizers cannot be told apart
print(json.dumps(culprits))
"""

NAMES = ["adam", "momentum", "rmsprop", "adagrad", "adadelta", "nadam"]


def test_training_and_checkpoints_never_import_dynamo():
    """Every optimizer, torch's and the lecture's, trained and checkpointed in one process (one
    interpreter start instead of twelve)."""
    assert set(NAMES) <= set(OPTIMIZERS)
    pairs = [[name, impl] for name in NAMES for impl in ("torch", "lecture")]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(pairs)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.splitlines()[-1]) == []
