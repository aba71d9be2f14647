"""Start-up: training never pays for TorchDynamo, which tui-lab does not use (importing it
takes longer than importing torch). If a torch release wraps its optimizers differently, this
is the test that says so."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui_lab.optim.catalog import OPTIMIZERS

PROBE = """
import sys
from tui_lab.config import ExperimentConfig
from tui_lab.training.job import ComparisonJob
cfg = ExperimentConfig.model_validate({{"name": "t", "runs": [{{"name": "r", "set": {{
    "optimizer.name": "{name}", "optimizer.impl": "{impl}", "data.dataset": "synthetic",
    "data.synthetic_size": 200, "model.arch": "mlp", "model.hidden": 8,
    "training.device": "cpu", "training.epochs": 1, "training.checkpoint": True}}}}]}})
import tempfile, pathlib
out = pathlib.Path(tempfile.mkdtemp())
job = ComparisonJob(cfg, command=["t"], fmt="csv")
job.write_into(out)
job.run()
print("torch._dynamo" in sys.modules)
"""


@pytest.mark.parametrize("impl", ["torch", "lecture"])
@pytest.mark.parametrize("name", ["adam", "momentum", "rmsprop", "adagrad", "adadelta", "nadam"])
def test_training_and_checkpoints_never_import_dynamo(name, impl):
    assert name in OPTIMIZERS
    code = PROBE.format(name=name, impl=impl)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False"
