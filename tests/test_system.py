"""The system pane's readings (tui_lab/system.py): the process's CPU and memory from /proc,
each GPU from NVML — faked here — and CPU-only readings that say why when NVML is absent."""

from __future__ import annotations

import os
import subprocess
import sys

from support import FakeNVML

from tui_lab.system import NO_NVML, SystemMonitor


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gpu_readings_come_from_nvml():
    monitor = SystemMonitor(nvml=FakeNVML(), clock=Clock())
    reading = monitor.read()
    first, second = reading.gpus
    assert (first.name, first.utilization, first.temperature) == ("NVIDIA H200", 87, 54)
    assert (first.memory_used, first.memory_total) == (40 * 2**30, 140 * 2**30)
    assert (first.power, first.power_limit) == (310.0, 700.0)
    assert second.name == "NVIDIA L4" and second.power is None and second.temperature == 31
    assert reading.gpu_note == ""


def test_without_nvml_the_reading_is_cpu_only_and_says_why():
    reading = SystemMonitor(nvml=None).read()
    assert reading.gpus == () and reading.gpu_note == NO_NVML
    assert reading.alive and reading.rss is not None and reading.rss > 0
    broken = FakeNVML(fail_init=True)
    clock = Clock()
    monitor = SystemMonitor(nvml=broken, clock=clock)
    assert monitor.read().gpu_note == "no GPU readings: NVML says Driver Not Loaded"
    clock.now += 5
    monitor.read()
    assert broken.inits == 1  # not asked again
    assert SystemMonitor(nvml=FakeNVML(count=0)).read().gpu_note == "no GPU found by NVML"


def test_readings_come_at_most_once_a_second_and_cpu_is_a_rate():
    clock = Clock()
    monitor = SystemMonitor(nvml=None, clock=clock)
    first = monitor.read()
    assert first.cpu_percent is None  # a rate needs two readings
    clock.now += 0.5
    assert monitor.read() is first
    clock.now += 0.6
    second = monitor.read()
    assert second is not first and second.cpu_percent is not None and second.cpu_percent >= 0


def test_another_process_is_read_until_it_ends():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        reading = SystemMonitor(pid=child.pid, nvml=None).read()
        assert reading.alive and reading.pid == child.pid and reading.pid != os.getpid()
    finally:
        child.kill()
        child.wait()
    assert not SystemMonitor(pid=child.pid, nvml=None).read().alive
