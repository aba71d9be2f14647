"""The wheel carries the presets and the stylesheet: `pip install .` (non-editable) works."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_presets_and_runs_without_the_checkout(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("tui_lab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("tui_lab/preset_files/")}
    assert {p.name for p in (ROOT / "presets").glob("*.toml")} <= shipped
    assert "tui_lab/ui/lab.tcss" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no site-packages .pth files, so the editable install of the checkout is invisible.
    deps = sysconfig.get_paths()["purelib"]
    probe = ("import tui_lab; from tui_lab.presets import list_presets;"
             "print(tui_lab.__file__); print(len(list_presets()))")  # fmt: skip
    run = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path,
                         env={"PYTHONPATH": f"{site}:{deps}"}, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    where, count = run.stdout.split()
    assert where.startswith(str(site))
    assert int(count) == len(list((ROOT / "presets").glob("*.toml")))
