"""Keep the host memory a training step frees for the next step instead of giving it back.

A CPU step frees and allocates again tens of MB of activations and gradients. glibc gives freed
heap memory back to the kernel once the heap's free top exceeds a trim threshold that it sizes
from the chunks it has seen, so in some processes every step maps fresh pages again, and each
4 KiB page faults and is zeroed (fresh memory arrives at 1.3–2.7 GB/s on a 2-core EPYC VM,
against 15 GB/s for writing memory already held). Under glibc's own policy the same 900-step
job there took 40 s with 3.4 million page faults one time and 32 s with 0.6 million the next
(bench/README.md). Fixed thresholds end the churn: chunks under 32 MiB (glibc's largest mapping
threshold) come from the heap, and up to 512 MiB of free heap stays with the process.

Only glibc has these knobs; elsewhere, or where the user tuned glibc's malloc through the
environment (``GLIBC_TUNABLES=glibc.malloc.…``, ``MALLOC_…_``), nothing changes. No number
of a run depends on it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 512 << 20

_applied: bool | None = None


def user_tuned(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment already sets glibc's malloc policy (it is then left alone)."""
    return "glibc.malloc." in environ.get("GLIBC_TUNABLES", "") or any(
        name.startswith("MALLOC_") and name.endswith("_") for name in environ
    )


def keep_freed_memory() -> bool:
    """Fix glibc's mapping and trim thresholds once per process; True where they are set."""
    global _applied
    if _applied is None:
        _applied = _set_thresholds()
    return _applied


def _set_thresholds() -> bool:
    if not sys.platform.startswith("linux") or user_tuned():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and (
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    )
