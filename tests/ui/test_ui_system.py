"""The system pane in the Compare view: a line under the status and a System tab, read from
NVML (faked) and the process, redrawn at most once a second."""

from __future__ import annotations

from lab_pilot import SIZE, run, two_runs
from support import TINY_MLP, FakeNVML

from tui_lab.system import SystemMonitor
from tui_lab.ui.app import LabApp
from tui_lab.ui.widgets.system_pane import SystemDetails, SystemLine


def test_the_compare_view_shows_each_gpu_and_the_process():
    async def scenario():
        app = LabApp(two_runs(), TINY_MLP, system=SystemMonitor(nvml=FakeNVML()))
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("compare")
            await pilot.pause()
            line = str(app.screen.query_one(SystemLine).render())
            assert line.startswith("CPU ") and "RSS " in line
            assert "GPU0 87% 40.0 GB/140.0 GB 54°C 310 W" in line
            assert "GPU1 3% 1.0 GB/140.0 GB 31°C" in line  # its power is not readable
            app.screen.query_one("#tables").active = "tab-system"
            await pilot.pause()
            app.screen.redraw()
            await pilot.pause()
            details = str(app.screen.query_one(SystemDetails).render())
            assert "GPU 0  NVIDIA H200 · 54 °C" in details and "310 W of 700 W" in details
            assert "GPU 1  NVIDIA L4" in details

    run(scenario())


def test_without_nvml_the_line_says_no_gpu():
    async def scenario():
        app = LabApp(two_runs(), TINY_MLP, system=SystemMonitor(nvml=None))
        async with app.run_test(size=SIZE) as pilot:
            await app.switch_mode("compare")
            await pilot.pause()
            assert str(app.screen.query_one(SystemLine).render()).endswith("· no GPU")
            app.screen.query_one("#tables").active = "tab-system"
            await pilot.pause()
            app.screen.redraw()
            await pilot.pause()
            assert "nvidia-ml-py is not installed" in str(
                app.screen.query_one(SystemDetails).render()
            )

    run(scenario())
