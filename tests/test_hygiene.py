"""The house rules a newcomer relies on, checked where a linter cannot: what importing each
part of tui-lab loads, and that the wheel lists every package. (The import direction itself is
checked by ``lint-imports`` in .ci/run, with the contracts in pyproject.toml.)"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = [
    "tui_lab.errors",
    "tui_lab.events",
    "tui_lab.expressions",
    "tui_lab.toy_functions",
    "tui_lab.data.tensors",
    "tui_lab.models.build",
    "tui_lab.optim.build",
    "tui_lab.schedules",
    "tui_lab.config",
    "tui_lab.presets",
    "tui_lab.results.report",
    "tui_lab.results.figures",
    "tui_lab.training.job",
    "tui_lab.search.runner",
    "tui_lab.toy2d.runner",
]


def loaded_after(module: str, probes: tuple[str, ...]) -> list[str]:
    code = f"import sys, {module}; print(' '.join(m for m in {probes!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("module", CORE)
def test_the_core_loads_neither_textual_nor_rich(module):
    assert loaded_after(module, ("textual", "rich", "tui_lab.ui", "tui_lab.cli")) == []


@pytest.mark.parametrize("module", ["tui_lab.config", "tui_lab.presets", "tui_lab.cli.main"])
def test_options_and_the_command_line_load_no_torch(module):
    """So that --help, --version, --list-presets and argument errors answer at once."""
    assert loaded_after(module, ("torch", "optuna", "textual", "rich", "matplotlib")) == []


def test_a_headless_comparison_loads_only_what_training_needs():
    """Start-up time (issue 12): report charts, figures, statistics over seeds and searches
    load when a run gets to them, not at every start."""
    probes = ("plotext", "matplotlib", "scipy", "optuna", "textual")
    assert loaded_after("tui_lab.cli.comparison", probes) == []


def test_the_wheel_lists_every_package():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        p.parent.relative_to(ROOT).as_posix().replace("/", ".")
        for p in (ROOT / "tui_lab").rglob("__init__.py")
    }
    assert listed - {"tui_lab.preset_files"} == found


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
        ["lint-imports", "--no-cache"],
    ],
    ids=["ruff-check", "ruff-format", "import-contracts"],
)
def test_linters_pass(command):
    """ruff's rules and formatting, and the import contracts of pyproject.toml."""
    tool = Path(sys.executable).parent / command[0]
    proc = subprocess.run(
        [str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
