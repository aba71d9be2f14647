"""Where and how a run computes: the device it asked for, and the precision and memory layout
it trains with there.

Which precision and layout are fastest depends on the machine, not on a rule: a CPU with
AVX512-BF16 trains a small CNN about twice as fast in bf16 with channels_last, one with AVX2
only emulates bf16 several times slower than fp32 yet still gains from channels_last pooling,
and a GPU's choice depends on its tensor cores. So ``training.precision = "auto"`` (and
``channels_last`` left unset) time a few steps of each candidate on the machine that runs
(training/autotune.py) and remember the fastest per machine, device, model and batch size in
the user cache. An explicit setting is always obeyed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tui_lab.config import RunConfig
from tui_lab.errors import DeviceError
from tui_lab.models.catalog import ARCHITECTURES
from tui_lab.results.files import atomic_write

PRECISION_DTYPES: dict[str, torch.dtype | None] = {
    "fp32": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; asking for a device that is absent is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"training.device={name!r} but this machine has no CUDA device (torch "
                f"{torch.__version__} sees none). Use --device cpu or --device auto."
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"training.device={name!r} but only {torch.cuda.device_count()} CUDA device(s) "
                f"exist (cuda:0..cuda:{torch.cuda.device_count() - 1})."
            )
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("training.device='mps' but MPS is not available; use --device cpu.")
    return torch.device(name)


def gpu_devices(setting: str, jobs: int) -> list[str]:
    """The device of each of ``jobs`` runs or trials: round-robin over every visible GPU when
    the setting lets tui-lab choose (auto, cuda) and there are several; else the setting."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count > 1 and setting in ("auto", "cuda"):
        return [f"cuda:{i % count}" for i in range(jobs)]
    return [setting] * jobs


GPU_WORKERS_PER_DEVICE = 4  # runs whose steps are in flight on one GPU at once


def cpu_supports_bf16() -> bool:
    return bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())


@dataclass(frozen=True)
class Numerics:
    """Precision and memory layout a run trains with, and why (shown and recorded)."""

    precision: str  # fp32, bf16 or fp16 (fp16 trains with a gradient scaler)
    channels_last: bool
    reason: str = ""

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return PRECISION_DTYPES[self.precision]

    @property
    def scaled(self) -> bool:
        """fp16 gradients underflow: the loss is scaled (torch.amp.GradScaler)."""
        return self.precision == "fp16"

    @property
    def label(self) -> str:
        return self.precision + (" channels_last" if self.channels_last else "")

    def because(self, reason: str) -> Numerics:
        return Numerics(self.precision, self.channels_last, reason)


def precisions_for(device: torch.device) -> list[str]:
    """The precisions worth timing on ``device``: fp32 always; bf16 where the device computes
    in it (a CPU emulating it is timed too, and loses); fp16 with a scaler on GPUs without
    bf16."""
    if device.type == "cuda":
        return ["fp32", "bf16"] if torch.cuda.is_bf16_supported() else ["fp32", "fp16"]
    return ["fp32", "bf16"]


def candidates(cfg: RunConfig, device: torch.device) -> list[Numerics]:
    """The numerics a run may take: every candidate its settings leave open."""
    t = cfg.training
    conv = ARCHITECTURES[cfg.model.arch].convolutional
    precisions = precisions_for(device) if t.precision == "auto" else [t.precision]
    if not conv:
        layouts = [False]
    elif t.channels_last is not None:
        layouts = [t.channels_last]
    else:
        layouts = [False, True]
    return [Numerics(p, c) for p in precisions for c in layouts]


# ---------------------------------------------------------------------------- the cache


def cache_path() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "tui-lab" / "numerics.json"


def machine_key(device: torch.device) -> str:
    """What a measurement depends on besides the model: the processor, torch and threads."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        hardware = f"{props.name} sm{props.major}{props.minor}"
    else:
        # what the kernels may use: ATEN_CPU_CAPABILITY and ONEDNN_MAX_CPU_ISA can lower it
        isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "")
        hardware = (
            f"{_cpu_model()} ({torch.backends.cpu.get_cpu_capability()}{' ' + isa if isa else ''})"
        )
    return f"{device.type}|{hardware}|torch {torch.__version__}|{torch.get_num_threads()} threads"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    flags = next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), [])
    relevant = sorted(f for f in flags if f.startswith(("avx", "amx")))
    return f"{model or platform.machine()} {' '.join(relevant)}"


def workload_key(
    cfg: RunConfig, device: torch.device, shape: tuple[int, ...], batch_size: int
) -> str:
    m = cfg.model
    parts: dict[str, Any] = {
        "arch": m.arch,
        "filters": m.filters,
        "kernel": m.kernel_size,
        "hidden": m.hidden,
        "layers": m.hidden_layers,
        "shape": list(shape),
        "batch": batch_size,
        "optimizer": f"{cfg.optimizer.name}/{cfg.optimizer.impl}",
        "candidates": [c.label for c in candidates(cfg, device)],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def cached_choice(machine: str, workload: str) -> dict[str, Any] | None:
    try:
        entries = json.loads(cache_path().read_text(encoding="utf-8"))
        return entries.get(machine, {}).get(workload)
    except (OSError, ValueError, AttributeError):
        return None


def remember_choice(machine: str, workload: str, entry: dict[str, Any]) -> None:
    """Add a measurement to the cache (a cache that cannot be written is not an error)."""
    path = cache_path()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    entries.setdefault(machine, {})[workload] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(entries, indent=1, sort_keys=True))
    except Exception:  # noqa: BLE001 - a read-only cache only costs the next measurement
        return
