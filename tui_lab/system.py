"""What the machine is doing while a job trains: the CPU and memory use of one process (this
one, or the headless writer of a followed export on this host) and, per GPU, its utilization,
memory, temperature and power through NVML.

NVML comes from nvidia-ml-py (``pip install 'tui-lab[gpu]'``), an optional dependency that
installs where CUDA is; without it, or without a GPU, a reading is CPU-only and says why. A
monitor reads at most once a second (``MIN_INTERVAL_S``): a faster caller gets the last
reading, so a view may ask on every redraw.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import pynvml
except ImportError:  # the optional gpu extra is not installed: CPU readings only
    pynvml = None

MIN_INTERVAL_S = 1.0
NO_NVML = "no GPU readings: nvidia-ml-py is not installed (pip install 'tui-lab[gpu]')"


@dataclass(frozen=True)
class GpuReading:
    index: int
    name: str
    utilization: float | None  # percent of the last sample period the GPU was busy
    memory_used: int  # bytes
    memory_total: int
    temperature: float | None  # °C
    power: float | None  # W
    power_limit: float | None  # W


@dataclass(frozen=True)
class SystemReading:
    pid: int
    alive: bool
    cpu_percent: float | None  # of one core (200% = two cores busy); None at the first reading
    cores: int
    rss: int | None  # bytes resident
    threads: int | None
    memory_total: int | None  # bytes of RAM in the machine
    load: float | None  # 1-minute load average
    gpus: tuple[GpuReading, ...] = ()
    gpu_note: str = ""  # why there are no GPU readings


def _proc(pid: int, name: str) -> str | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc; this process anywhere)."""
    stat = _proc(pid, "stat")
    if stat is not None:
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    if pid == os.getpid():
        times = os.times()
        return times.user + times.system
    return None


def _status_field(pid: int, key: str) -> int | None:
    for line in (_proc(pid, "status") or "").splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def _memory_total() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


class SystemMonitor:
    """Readings of one process and of the GPUs; ``nvml`` is the pynvml module (a test passes
    a fake one), None when it is not installed."""

    def __init__(
        self,
        pid: int | None = None,
        nvml: Any = pynvml,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pid = os.getpid() if pid is None else pid
        self.nvml = nvml
        self.clock = clock
        self._nvml_ready: bool | None = None  # None: not tried yet
        self._gpu_note = NO_NVML if nvml is None else ""
        self._last: tuple[float, float] | None = None  # (clock, cpu seconds)
        self._reading: SystemReading | None = None

    def read(self) -> SystemReading:
        now = self.clock()
        if self._reading is not None and self._last and now - self._last[0] < MIN_INTERVAL_S:
            return self._reading
        cpu = process_cpu_seconds(self.pid)
        percent = None
        if cpu is not None and self._last is not None and now > self._last[0]:
            percent = 100.0 * (cpu - self._last[1]) / (now - self._last[0])
        if cpu is not None:
            self._last = (now, cpu)
        rss = _status_field(self.pid, "VmRSS")
        self._reading = SystemReading(
            pid=self.pid,
            alive=cpu is not None,
            cpu_percent=percent,
            cores=os.cpu_count() or 1,
            rss=None if rss is None else rss * 1024,
            threads=_status_field(self.pid, "Threads"),
            memory_total=_memory_total(),
            load=_load(),
            gpus=self._gpus(),
            gpu_note=self._gpu_note,
        )
        return self._reading

    def _gpus(self) -> tuple[GpuReading, ...]:
        nvml = self.nvml
        if nvml is None or self._nvml_ready is False:
            return ()
        try:
            if self._nvml_ready is None:
                nvml.nvmlInit()
                self._nvml_ready = True
            count = nvml.nvmlDeviceGetCount()
            if count == 0:
                self._gpu_note = "no GPU found by NVML"
            return tuple(self._gpu(i) for i in range(count))
        except nvml.NVMLError as exc:  # no driver, no device: say so once, stop asking
            self._nvml_ready = False
            self._gpu_note = f"no GPU readings: NVML says {exc}"
            return ()

    def _gpu(self, index: int) -> GpuReading:
        nvml = self.nvml
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)

        def optional(read: Callable[[], float], scale: float = 1.0) -> float | None:
            try:
                return read() * scale
            except nvml.NVMLError:  # a reading this GPU does not support
                return None

        name = nvml.nvmlDeviceGetName(handle)
        return GpuReading(
            index=index,
            name=name.decode() if isinstance(name, bytes) else str(name),
            utilization=optional(lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
            memory_used=int(memory.used),
            memory_total=int(memory.total),
            temperature=optional(
                lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
            ),
            power=optional(lambda: nvml.nvmlDeviceGetPowerUsage(handle), 1e-3),
            power_limit=optional(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle), 1e-3),
        )
