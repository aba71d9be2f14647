"""The search being edited in the Search view: method, trial budget, pruner, objective and the
space, over the base configuration the Lab edits.

Every edit is validated the way a preset is (``SearchConfig``, then the whole experiment, then
``plan_search``), so the Search view accepts exactly what a preset file accepts, and the budget
shown is the one ``tui-lab --export`` would print. Space entries are edited as the TOML inline
tables of a preset's ``[search.space]``.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from pydantic import ValidationError

from tui_lab.config import (
    SEARCH_OBJECTIVES,
    ExperimentConfig,
    ParamSpace,
    RunConfig,
    SearchConfig,
    describe_validation,
)
from tui_lab.errors import ConfigError
from tui_lab.events import SearchPlan
from tui_lab.search.plan import plan_search, search_base
from tui_lab.search.space import display, grid_cells

# label shown -> the [search] settings it stands for
METHODS: dict[str, dict[str, Any]] = {
    "grid": {"method": "grid"},
    "random": {"method": "random"},
    "bayes (TPE)": {"method": "bayes", "bayes": "tpe"},
    "bayes (GP)": {"method": "bayes", "bayes": "gp"},
    "grid vs random": {"method": ["grid", "random"]},
}
OBJECTIVES = tuple(SEARCH_OBJECTIVES)
DEFAULT_TRIALS = 10  # a random/Bayesian budget when switching from a grid whose size is unknown


def method_label(search: SearchConfig) -> str:
    for label, settings in METHODS.items():
        if search.method == settings["method"] and search.bayes == settings.get(
            "bayes", search.bayes
        ):
            return label
    return " + ".join(search.methods)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def space_text(spec: ParamSpace) -> str:
    """A parameter as a preset writes it:
    ``{ type = "float", low = 0.001, high = 0.1, log = true }``."""
    fields = spec.model_dump(exclude_none=True)
    if not fields.get("log"):
        fields.pop("log")
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in fields.items()) + " }"


def space_summary(spec: ParamSpace) -> str:
    """A parameter in a few words: ``0.001 | 0.01 | 0.1`` or
    ``float 0.001–0.1 log, grid 0.001 0.1``."""
    if spec.type == "categorical":
        return " | ".join(display(c) for c in spec.choices or [])
    text = f"{spec.type} {spec.low:g}–{spec.high:g}" + (" log" if spec.log else "")
    if spec.step is not None:
        text += f" step {spec.step:g}"
    if spec.grid:
        text += ", grid " + " ".join(f"{g:g}" for g in spec.grid)
    return text


def parse_space(key: str, text: str) -> ParamSpace:
    body = text.strip()
    if not body.startswith("{"):
        body = "{ " + body + " }"
    try:
        data = tomllib.loads(f"v = {body}")["v"]
        return ParamSpace.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"search.space.{key}: not a TOML inline table ({exc}); write it as in "
            'a preset, e.g. { type = "float", low = 0.001, high = 0.1, log = true }.'
        ) from None
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc, f"search.space.{key}")) from None


class SearchDraft:
    """A search preset under edit; ``apply`` commits a change only when its plan is valid."""

    def __init__(
        self, preset: ExperimentConfig, cli_overrides: dict[str, Any] | None = None
    ) -> None:
        if preset.search is None:
            raise ConfigError(f"Preset {preset.name!r} has no [search] table; it is not a search.")
        self.preset = preset
        self.search: SearchConfig = preset.search
        self.cli_overrides = dict(cli_overrides or {})

    def experiment(self, base: RunConfig, search: SearchConfig | None = None) -> ExperimentConfig:
        """The preset with ``base`` (the Lab's first run) and the edited search, fully validated."""
        data = self.preset.model_dump(mode="json")
        data.update(
            base=base.model_dump(mode="json"),
            search=(search or self.search).model_dump(mode="json"),
        )
        try:
            return ExperimentConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(describe_validation(exc, "search")) from None

    def plans(self, base: RunConfig, search: SearchConfig | None = None) -> list[SearchPlan]:
        cfg = self.experiment(base, search)
        search_base(cfg, self.cli_overrides)  # a --set on a searched key is refused, as headless
        return plan_search(cfg)

    def apply(self, base: RunConfig, **changes: Any) -> list[SearchPlan]:
        """Change [search] settings (``space`` entries included); raises ConfigError if invalid."""
        data = self.search.model_dump(mode="python") | changes
        try:
            candidate = SearchConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(describe_validation(exc, "search")) from None
        plans = self.plans(base, candidate)
        self.search = candidate
        return plans

    def set_method(self, base: RunConfig, label: str) -> list[SearchPlan]:
        """Grid search trains every cell (no n_trials); random and Bayesian need a budget, the
        grid's size when it has one."""
        settings = dict(METHODS[label])
        methods = (
            settings["method"] if isinstance(settings["method"], list) else [settings["method"]]
        )
        if "grid" in methods:
            settings["n_trials"] = None
        elif self.search.n_trials is None:
            try:
                settings["n_trials"] = len(grid_cells(self.search.space))
            except ConfigError:
                settings["n_trials"] = DEFAULT_TRIALS
        return self.apply(base, **settings)

    def set_trials(self, base: RunConfig, text: str) -> list[SearchPlan]:
        text = text.strip()
        if text and not text.isdigit():
            raise ConfigError(
                f"trials {text!r}: give a whole number of trials (empty: the grid's size)."
            )
        return self.apply(base, n_trials=int(text) if text else None)

    def set_param(self, base: RunConfig, key: str, text: str) -> list[SearchPlan]:
        space = dict(self.search.space)
        space[key] = parse_space(key, text)
        return self.apply(base, space=space)


def budget_text(plans: list[SearchPlan], pruner: str) -> str:
    """The planned budget per study: trials × epochs = trial-epochs (before any pruning)."""
    lines = []
    for p in plans:
        if p.n_trials * p.epochs == p.budget_epochs:
            size = f"{p.n_trials} trials × {p.epochs} epochs"
        else:  # training.epochs is searched: the grid's cells train different epochs
            size = f"{p.n_trials} trials of ≤ {p.epochs} epochs"
        cells = f" ({p.cells} grid cells)" if p.cells else ""
        lines.append(f"{p.method}: {size} = [b]{p.budget_epochs} trial-epochs[/b]{cells}")
    total = sum(p.budget_epochs for p in plans)
    if len(plans) > 1:
        lines.append(f"in all: [b]{total} trial-epochs[/b]")
    if pruner != "none":
        lines.append(f"an upper bound: the {pruner} pruner may stop weak trials early")
    return "\n".join(lines)
