"""Where and how a run computes: the device it asked for, and the precision and memory layout
it trains with on that device."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tui_lab.config import RunConfig
from tui_lab.errors import DeviceError
from tui_lab.models.catalog import ARCHITECTURES


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


def cpu_supports_bf16() -> bool:
    return bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())


@dataclass(frozen=True)
class Numerics:
    """Precision and memory layout a run trains with."""

    autocast_dtype: torch.dtype | None
    channels_last: bool

    @property
    def label(self) -> str:
        dtype = "bf16" if self.autocast_dtype is torch.bfloat16 else "fp32"
        return dtype + (" channels_last" if self.channels_last else "")


def resolve_numerics(cfg: RunConfig, device: torch.device) -> Numerics:
    """``auto``: bf16 autocast where the hardware has native bf16 (AVX512-BF16 CPUs, CUDA),
    fp32 elsewhere; channels_last for CNNs under bf16 (bench/throughput.py measures both)."""
    t = cfg.training
    if t.precision == "auto":
        native = cpu_supports_bf16() if device.type == "cpu" else device.type == "cuda"
        use_bf16 = native and (device.type != "cuda" or torch.cuda.is_bf16_supported())
    else:
        use_bf16 = t.precision == "bf16"
    conv = ARCHITECTURES[cfg.model.arch].convolutional
    channels_last = t.channels_last if t.channels_last is not None else (conv and use_bf16)
    return Numerics(torch.bfloat16 if use_bf16 else None, bool(channels_last and conv))
