"""The comparison being edited in the Lab: a preset's runs, each a full validated ``RunConfig``.

Edits go through ``apply_overrides`` with the same dotted keys as presets and ``--set``, so the
Lab accepts exactly what the headless CLI accepts and reports errors in the same words.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tui_lab.config import (
    ExperimentConfig,
    RunConfig,
    RunSpec,
    apply_overrides,
    configuration_of,
    parse_value,
    unread_hyperparameters,
)
from tui_lab.errors import ConfigError


def get_value(cfg: RunConfig, key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        node = getattr(node, part)
    return node


def leaf_values(cfg: RunConfig) -> dict[str, Any]:
    """Every option of a run as ``{dotted key: value}``."""
    out: dict[str, Any] = {}
    for section, values in cfg.model_dump(mode="python").items():
        for name, value in values.items():
            out[f"{section}.{name}"] = value
    return out


def config_diff(base: RunConfig, cfg: RunConfig) -> dict[str, Any]:
    """The dotted-key overrides that turn ``base`` into ``cfg``."""
    before = leaf_values(base)
    return {k: v for k, v in leaf_values(cfg).items() if before[k] != v}


def toml_value(value: Any) -> str | None:
    """``value`` as ``--set`` reads it (TOML, without spaces), or None when TOML cannot say
    it (unset: the default). A plain word needs no quotes: ``--set`` takes what is not TOML
    as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        plain = re.fullmatch(r"[\w./:-]+", value) and parse_value(value) == value
        return value if plain else json.dumps(value)
    if isinstance(value, list | tuple):
        items = [toml_value(v) for v in value]
        return None if None in items else "[" + ",".join(str(i) for i in items) + "]"
    return None


def configurations_of(runs: list[tuple[str, RunConfig]]) -> list[tuple[str, RunConfig]]:
    """A preset's runs as the Lab edits them: one per configuration (its first seed's config,
    which carries ``training.seeds``); the job trains each as ``name@seed`` again."""
    first: dict[str, RunConfig] = {}
    for name, cfg in runs:
        first.setdefault(configuration_of(name), cfg)
    return list(first.items())


def preset_argument(argv: list[str]) -> str | None:
    """What ``--preset`` names in a command line (a preset's name or a file)."""
    for i, item in enumerate(argv):
        if item == "--preset" and i + 1 < len(argv):
            return argv[i + 1]
        if item.startswith("--preset="):
            return item.split("=", 1)[1]
    return None


class Draft:
    """Runs of a comparison under edit; ``selected`` is the run the panels show. ``source``
    is how a command names the preset (its ``--preset`` argument; default its name)."""

    def __init__(
        self,
        preset: ExperimentConfig,
        overrides: dict[str, Any] | None = None,
        source: str | None = None,
    ):
        self.preset = preset
        self.source = source or preset.name
        self.overrides = overrides or {}  # kept for a toy preset, whose runs live in toy2d
        self.runs = configurations_of(preset.resolved_runs(overrides))
        self.selected = 0
        self.edit_all = False  # apply panel edits to every run instead of the selected one

    @property
    def current(self) -> RunConfig:
        return self.runs[self.selected][1]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.runs]

    def set_value(self, key: str, value: Any) -> None:
        """Set one option on the selected run (or all runs); raises ConfigError when invalid."""
        targets = range(len(self.runs)) if self.edit_all else [self.selected]
        updated = {i: apply_overrides(self.runs[i][1], {key: value}, where=key) for i in targets}
        if key == "optimizer.name":  # the new optimizer's own defaults, not the old one's settings
            updated = {
                i: apply_overrides(
                    cfg, {f"optimizer.{k}": None for k in unread_hyperparameters(cfg)}, where=key
                )
                for i, cfg in updated.items()
            }
        for i, cfg in updated.items():
            name = self.runs[i][0]
            if key == "optimizer.name":
                name = self._named_after(i, self.runs[i][1].optimizer.name, cfg.optimizer.name)
            self.runs[i] = (name, cfg)

    def _named_after(self, i: int, old: str, new: str) -> str:
        """A run named after its optimizer (``adam``, ``adam_2``) takes the new one's name, so
        that no run called adam trains RMSprop; a name the user chose stays."""
        name = self.runs[i][0]
        match = re.fullmatch(rf"{re.escape(old)}(_\d+)?", name)
        if match is None or old == new:
            return name
        others = {n for j, n in enumerate(self.names) if j != i}
        candidate, n = new + (match.group(1) or ""), 2
        while candidate in others:
            candidate, n = f"{new}_{n}", n + 1
        return candidate

    def rename(self, name: str) -> None:
        """Rename the selected run; names are 1–64 characters and unique in the comparison."""
        name = name.strip()
        others = [n for i, n in enumerate(self.names) if i != self.selected]
        if not 1 <= len(name) <= 64 or name in others:
            raise ConfigError(
                f"run name {name!r}: a run needs a unique name of 1 to 64 characters."
            )
        self.runs[self.selected] = (name, self.current)

    def add_run(self) -> str:
        """A copy of the selected run under a fresh name; it becomes the selected run."""
        base = self.runs[self.selected][0]
        n = 2
        while f"{base}_{n}" in self.names:
            n += 1
        name = f"{base}_{n}"
        self.runs.insert(self.selected + 1, (name, self.current))
        self.selected += 1
        return name

    def remove_run(self) -> bool:
        """Drop the selected run; a comparison keeps at least one run."""
        if len(self.runs) == 1:
            return False
        del self.runs[self.selected]
        self.selected = min(self.selected, len(self.runs) - 1)
        return True

    def command(self) -> list[str]:
        """The headless command that trains these runs: the preset, and a ``--set`` for each
        setting changed alike in every run. What ``--set`` cannot say — one run edited
        alone, runs added, removed or renamed, a setting cleared back to its default — the
        command says it leaves out; report.md's table shows each run's differing settings."""
        preset_runs = dict(configurations_of(self.preset.resolved_runs()))
        command = ["tui-lab"] if self.source == "custom" else ["tui-lab", "--preset", self.source]
        diffs = [config_diff(preset_runs[n], cfg) for n, cfg in self.runs if n in preset_runs]
        shared = {
            k: v
            for k, v in (diffs[0] if diffs else {}).items()
            if toml_value(v) is not None and all(k in d and d[k] == v for d in diffs)
        }
        for key, value in shared.items():
            command += ["--set", f"{key}={toml_value(value)}"]
        if list(preset_runs) != self.names:
            command += ["#", "runs added, removed or renamed in the Lab"]
        elif any(set(d) - set(shared) for d in diffs):
            command += ["#", "and settings of single runs edited in the Lab"]
        return command

    def experiment_config(self) -> ExperimentConfig:
        """The edited comparison as a preset: the first run as base, the others as overrides."""
        base = self.runs[0][1]
        specs = [RunSpec(name=name, set=config_diff(base, cfg)) for name, cfg in self.runs]
        return self.preset.model_copy(update={"base": base, "runs": specs})
