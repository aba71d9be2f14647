"""Find, load and validate presets: TOML files shipped in the wheel (as ``tui_lab.preset_files``,
built from the repo's top-level ``presets/``) or any path the user names."""

from __future__ import annotations

import difflib
import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tui_lab.config import ExperimentConfig, describe_validation
from tui_lab.errors import ConfigError


def _preset_dirs() -> list[Path]:
    """In a checkout its ``presets/`` (what is being edited), then the installed presets (the
    wheel's ``tui_lab/preset_files``)."""
    dirs = [Path(__file__).resolve().parent.parent / "presets"]
    spec = importlib.util.find_spec("tui_lab.preset_files")
    dirs += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    return [d for d in dirs if d.is_dir()]


def preset_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in _preset_dirs():
        for path in sorted(d.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


@dataclass(frozen=True)
class PresetInfo:
    name: str
    description: str
    lecture: str
    step: str
    path: Path


def list_presets() -> list[PresetInfo]:
    out = []
    for name, path in sorted(preset_files().items()):
        cfg = load_preset(str(path))
        out.append(PresetInfo(name, cfg.description, cfg.lecture, cfg.step, path))
    return out


def parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{where} is not valid TOML: {exc}. Fix the syntax at that line and column "
            "(strings need quotes, tables look like [base.training])."
        ) from None


def load_preset(name_or_path: str) -> ExperimentConfig:
    """A preset by name (see --list-presets) or by path to a .toml file."""
    files = preset_files()
    path = Path(name_or_path).expanduser()
    if name_or_path in files:
        path = files[name_or_path]
    elif not (path.suffix == ".toml" or path.exists()):
        close = difflib.get_close_matches(name_or_path, files, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"Unknown preset {name_or_path!r}.{hint} Run `tui-lab --list-presets` to see the "
            f"presets ({len(files)} available), or pass the path of a .toml preset file."
        )
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file (a FIFO, device or socket)"
        raise ConfigError(
            f"Preset {path} is {kind}; pass a preset name (see --list-presets) or the path of "
            "a .toml preset file."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read preset file {path}: {exc}. Check the path.") from None
    data = parse_toml(text, f"Preset file {path}")
    data.setdefault("name", path.stem)
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc, f"Preset {path}")) from None
