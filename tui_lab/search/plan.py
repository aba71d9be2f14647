"""What a search will run before it runs: its studies and their budget (trials × epochs)."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.storages import BaseStorage

from tui_lab.config import ExperimentConfig, RunConfig, SearchConfig, apply_overrides
from tui_lab.errors import ConfigError
from tui_lab.events import SearchPlan
from tui_lab.search.samplers import build_pruner, build_sampler
from tui_lab.search.space import grid_cells
from tui_lab.search.study import fingerprint, open_study


def search_of(cfg: ExperimentConfig) -> SearchConfig:
    if cfg.search is None:
        raise ConfigError(f"Preset {cfg.name!r} has no [search] table; it is not a search.")
    return cfg.search


def search_base(cfg: ExperimentConfig, overrides: dict[str, Any] | None) -> RunConfig:
    """The base every trial starts from: the preset's base plus the user's --set overrides."""
    search = search_of(cfg)
    clash = sorted(set(overrides or {}) & set(search.space))
    if clash:
        raise ConfigError(
            f"--set {', '.join(clash)}: this preset searches over that setting, so it cannot also "
            "be fixed; remove it from --set (or from the preset's [search.space])."
        )
    base = apply_overrides(cfg.base, overrides or {}, where="--set")
    if base.training.seeds > 1:
        raise ConfigError(
            f"training.seeds = {base.training.seeds}: a search trains each trial once, with its "
            "own seed, and compares trials on validation data; seeds apply to comparisons. "
            "Remove --seeds (or training.seeds), or raise search.n_trials for more evidence."
        )
    return base


def plan_search(
    cfg: ExperimentConfig, overrides: dict[str, Any] | None = None, study: str | None = None
) -> list[SearchPlan]:
    """The studies a search will run, with the budget (trials × epochs) of each."""
    search = search_of(cfg)
    base = search_base(cfg, overrides)
    cells = grid_cells(search.space) if "grid" in search.methods else None
    if cells is not None and search.n_trials not in (None, len(cells)):
        raise ConfigError(
            f"search.n_trials = {search.n_trials}, but grid search trains every one of its "
            f"{len(cells)} cells; leave n_trials out (or set it to {len(cells)})."
        )
    n_trials = search.n_trials or len(cells or ())
    epochs_spec = search.space.get("training.epochs")
    most = int(max(epochs_spec.candidates())) if epochs_spec else base.training.epochs
    name = study or cfg.name
    plans = []
    for method in search.methods:
        if method == "grid":
            budget = sum(int(c.get("training.epochs", base.training.epochs)) for c in cells or ())
        else:
            budget = n_trials * most
        plans.append(
            SearchPlan(
                method=method,
                study=name if len(search.methods) == 1 else f"{name}-{method}",
                n_trials=n_trials,
                epochs=most,
                budget_epochs=budget,
                cells=len(cells) if method == "grid" and cells else None,
            )
        )
    return plans


MACHINE_LOCAL = ("training.device", "training.threads", "data.data_dir", "data.download")


def shared_settings(base: RunConfig) -> dict[str, Any]:
    """The base settings every process of a study must agree on (devices may differ)."""
    data = base.model_dump(mode="json")
    for key in MACHINE_LOCAL:
        section, name = key.split(".")
        data[section].pop(name)
    return data


def open_plan_study(
    storage: BaseStorage, cfg: ExperimentConfig, base: RunConfig, plan: SearchPlan
) -> optuna.Study:
    """The study of ``plan`` in ``storage`` with its sampler and pruner, created or joined;
    a study of that name made by a different search is refused (study.open_study)."""
    search = search_of(cfg)
    print_ = fingerprint(
        {
            "base": shared_settings(base),
            "method": plan.method,
            "search": search.model_dump(mode="json"),
            "n_trials": plan.n_trials,
        }
    )
    attrs = {
        "preset": cfg.name,
        "method": plan.method,
        "n_trials": plan.n_trials,
        "objective": search.objective,
    }
    sampler = build_sampler(plan.method, search)
    return open_study(
        storage,
        plan.study,
        search.direction,
        sampler,
        build_pruner(search, plan.epochs),
        print_,
        attrs,
    )
