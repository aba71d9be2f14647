"""The wheel carries the presets and the stylesheet: `pip install .` (non-editable) works."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_presets_and_runs_without_the_checkout(tmp_path):
    # from a clean copy: setuptools' build/ in the checkout may hold modules that no longer exist
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".*", "build", "runs", "*.egg-info", "__pycache__"),
    )
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
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
    # every module of every package must be in the wheel (pyproject lists the packages)
    probe = (
        "import importlib, pkgutil, tui_lab; from tui_lab.presets import list_presets;"
        "mods = pkgutil.walk_packages(tui_lab.__path__, 'tui_lab.');"
        "[importlib.import_module(m.name) for m in mods if not m.name.endswith('__main__')];"
        "print(tui_lab.__file__); print(len(list_presets()))"
    )
    run = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{site}:{deps}"},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    where, count = run.stdout.split()
    assert where.startswith(str(site))
    assert int(count) == len(list((ROOT / "presets").glob("*.toml")))
    modules = {
        Path(n).with_suffix("").as_posix().replace("/", ".") for n in names if n.endswith(".py")
    }
    in_checkout = {
        p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for p in (ROOT / "tui_lab").rglob("*.py")
    }
    assert in_checkout <= modules
