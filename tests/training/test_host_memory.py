"""Host memory: tui-lab fixes glibc's malloc thresholds for training, unless the user set them,
and a run's numbers are the same either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tui_lab.training.host_memory import user_tuned

PROBE = """
import json
from tui_lab.config import RunConfig, apply_overrides
from tui_lab.events import EpochEnded, StepLogged
from tui_lab.training import host_memory
from tui_lab.training.run import Run
cfg = apply_overrides(RunConfig(), {"data.dataset": "synthetic", "data.synthetic_size": 256,
    "model.arch": "baseline_cnn", "model.filters": [4], "model.hidden": 8,
    "training.batch_size": 32, "training.epochs": 2, "training.device": "cpu",
    "training.log_every": 1}, where="test")
seen = []
def keep(event):
    if isinstance(event, StepLogged):
        seen.append(event.loss)
    elif isinstance(event, EpochEnded):
        seen.append([event.train_loss, event.val_loss, event.val_acc])
run = Run("r", cfg, 0, keep)
run.setup()
while run.advance(8):
    pass
print(json.dumps({"applied": host_memory.keep_freed_memory(), "numbers": seen}))
"""


def probe(extra_env: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not user_tuned({k: v})}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**env, **extra_env},
    )
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_thresholds_are_set_unless_the_user_tuned_malloc_and_numbers_do_not_change():
    fixed = probe({})
    own = probe({"GLIBC_TUNABLES": "glibc.malloc.tcache_count=7"})
    assert fixed["applied"] is True
    assert own["applied"] is False
    assert len(fixed["numbers"]) > 10
    assert fixed["numbers"] == own["numbers"]


def test_user_tuned_recognizes_glibc_settings():
    assert user_tuned({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"})
    assert user_tuned({"MALLOC_ARENA_MAX": "x", "MALLOC_TRIM_THRESHOLD_": "1"})
    assert not user_tuned({"GLIBC_TUNABLES": "glibc.rtld.nns=2", "MALLOC_ARENA_MAX": "2"})
