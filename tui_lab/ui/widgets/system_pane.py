"""The machine beside the curves (tui_lab/system.py): a one-line summary under the Compare
view's status and a fuller System tab, both redrawn from a monitor that reads at most once a
second. The first thing one checks when training is slow: is the GPU busy, is memory full?"""

from __future__ import annotations

import os

from rich.text import Text
from textual.widgets import Static

from tui_lab.system import GpuReading, SystemReading

BAR_WIDTH = 20


def size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _process(r: SystemReading) -> str:
    if not r.alive:
        return f"pid {r.pid} gone"
    return f"CPU {percent(r.cpu_percent)} · RSS {size(r.rss)}/{size(r.memory_total)}"


def _gpu_short(g: GpuReading) -> str:
    memory = f"{size(g.memory_used)}/{size(g.memory_total)}"
    parts = [f"GPU{g.index} {percent(g.utilization)}", memory]
    if g.temperature is not None:
        parts.append(f"{g.temperature:.0f}°C")
    if g.power is not None:
        parts.append(f"{g.power:.0f} W")
    return " ".join(parts)


def whose(r: SystemReading) -> str:
    """This lab's own process, or the one it follows (a headless writer on this host)."""
    return "this lab" if r.pid == os.getpid() else f"writer pid {r.pid}"


def system_line(r: SystemReading) -> str:
    """``CPU 152% · RSS 1.2 GB/23.4 GB · GPU0 87% 40.1 GB/139.8 GB 54°C 310 W``."""
    head = "" if r.pid == os.getpid() else f"{whose(r)}: "
    gpus = " · ".join(_gpu_short(g) for g in r.gpus) or "no GPU"
    return f"{head}{_process(r)} · {gpus}"


def bar(used: float | None, total: float | None, width: int = BAR_WIDTH) -> str:
    if used is None or not total:
        return " " * width
    filled = round(max(0.0, min(1.0, used / total)) * width)
    return "█" * filled + "░" * (width - filled)


def system_details(r: SystemReading) -> Text:
    """The System tab: the process and the machine, then every GPU, a bar per quantity."""
    text = Text()
    text.append(whose(r), style="bold")
    if not r.alive:
        text.append(": the process has ended\n", style="yellow")
    else:
        threads = f" · {r.threads} threads" if r.threads is not None else ""
        load = f" · load {r.load:.2f} (machine)" if r.load is not None else ""
        text.append(f": CPU {percent(r.cpu_percent)} of {100 * r.cores}%{threads}{load}\n")
        text.append(f"  memory  {bar(r.rss, r.memory_total)} ")
        text.append(f"{size(r.rss)} of {size(r.memory_total)} resident\n")
    if not r.gpus:
        text.append(f"{r.gpu_note or 'no GPU'}\n", style="dim")
    for g in r.gpus:
        temperature = f" · {g.temperature:.0f} °C" if g.temperature is not None else ""
        text.append(f"GPU {g.index}  {g.name}{temperature}\n", style="bold")
        text.append(f"  busy    {bar(g.utilization, 100)} {percent(g.utilization)}\n")
        text.append(f"  memory  {bar(g.memory_used, g.memory_total)} ")
        text.append(f"{size(g.memory_used)} of {size(g.memory_total)}\n")
        if g.power is not None:
            limit = f" of {g.power_limit:.0f} W" if g.power_limit else ""
            text.append(f"  power   {bar(g.power, g.power_limit)} {g.power:.0f} W{limit}\n")
    return text


class SystemLine(Static):
    """One line: the process's CPU and memory, each GPU's load, memory, temperature, power."""

    DEFAULT_CSS = "SystemLine { height: 1; padding: 0 1; color: $text-muted; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._shown = ""

    def show(self, reading: SystemReading) -> None:
        text = system_line(reading)
        if text != self._shown:
            self._shown = text
            self.update(text)


class SystemDetails(Static):
    """The fuller System tab."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: SystemReading | None = None

    def show(self, reading: SystemReading) -> None:
        if reading != self._shown and self.is_on_screen:
            self._shown = reading
            self.update(system_details(reading))
