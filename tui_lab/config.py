"""The validated option tree: one pydantic model for every option the CLI, presets and TUI touch.

Dotted keys (``optimizer.lr``, ``training.batch_size`` ...) are a public contract: presets,
``--set`` and the docs use them, so renaming a field is a breaking change.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from tui_lab.data.catalog import DATASETS
from tui_lab.errors import ConfigError
from tui_lab.expressions import parse_check
from tui_lab.models.catalog import ARCHITECTURES
from tui_lab.optim.catalog import IMPLS, OPTIMIZERS
from tui_lab.schedules import SCHEDULES
from tui_lab.toy_functions import formula_of

PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # fp16 trains with a gradient scaler
FIGURE_FORMATS = ("svg", "png", "none")  # --figures: what an export draws (results/figures.py)
SEARCH_OBJECTIVES = {"val_acc": "maximize", "val_loss": "minimize"}
PRUNERS = ("none", "median", "asha", "hyperband")  # search/samplers.py builds each
DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?|mps")
MAX_EPOCHS = 10_000
# A schedule's period in epochs: far below one step is meaningless, and t / 1e-320 overflows.
Epochs = Annotated[StrictFloat, Field(ge=1e-6, le=MAX_EPOCHS)]
SHOWN_INPUT = 60  # characters of a refused value quoted back in an error


def _filled(defaults: dict[str, Any], settings: BaseModel) -> dict[str, Any]:
    """A registry entry's defaults, each replaced by the setting of that name where it is set."""
    chosen = {k: getattr(settings, k, None) for k in defaults}
    return {k: defaults[k] if v is None else v for k, v in chosen.items()}


def repeated(names: list[str]) -> list[str]:
    """The names that occur more than once, sorted."""
    return sorted({n for n in names if names.count(n) > 1})


def one_of(kind: str, names: Iterable[str]) -> AfterValidator:
    """A string validated against a registry's names, the one list of what exists."""

    def check(value: str) -> str:
        if value not in names:
            raise ValueError(f"unknown {kind} {value!r}; choose one of: {', '.join(names)}")
        return value

    return AfterValidator(check)


def parsed_by(parse: Callable[[str], Any]) -> AfterValidator:
    """A string that must parse in one of the preset languages (expressions.py)."""

    def check(value: str) -> str:
        try:
            parse(value)
        except ConfigError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
        return value

    return AfterValidator(check)


DatasetName = Annotated[str, one_of("dataset", DATASETS)]
ArchName = Annotated[str, one_of("architecture", ARCHITECTURES)]
OptimizerName = Annotated[str, one_of("optimizer", OPTIMIZERS)]
ScheduleName = Annotated[str, one_of("schedule", SCHEDULES)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a preset must not be silently ignored. Numbers are
    finite (inf or nan is never a sensible setting), and counts and rates take numbers only
    (``StrictInt``/``StrictFloat``: ``true`` is not 1). Validators are built on first use
    (``defer_build``): a start pays only for the models it meets."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, allow_inf_nan=False, defer_build=True
    )


class Registered(Strict):
    """A section whose ``name`` picks an entry of a registry (optimizers, schedules); the
    entry's settings left as None take the entry's defaults."""

    registry: ClassVar[Mapping[str, Any]]
    name: str

    def settings(self) -> dict[str, Any]:
        """The entry's defaults, each replaced by this section's value where it is set."""
        return _filled(self.registry[self.name].defaults, self)


class DataConfig(Strict):
    dataset: DatasetName = "fashion_mnist"
    data_dir: Path | None = None
    val_fraction: StrictFloat = Field(0.1, ge=0.0, lt=1.0)
    subset: StrictInt | None = Field(None, ge=1, description="use only this many training images")
    test_subset: StrictInt | None = Field(None, ge=1, description="use only this many test images")
    augment: bool | None = Field(None, description="random crop + flip; default: on for cifar10")
    download: bool = True
    synthetic_shape: tuple[StrictInt, StrictInt, StrictInt] = (1, 28, 28)
    synthetic_classes: StrictInt = Field(10, ge=2, le=1000)
    synthetic_size: StrictInt = Field(6000, ge=20)

    @field_validator("synthetic_shape")
    @classmethod
    def _shape_positive(cls, v: tuple[int, int, int]) -> tuple[int, int, int]:
        if v[0] not in (1, 3) or v[1] < 4 or v[2] < 4:
            raise ValueError("must be (channels 1 or 3, height >= 4, width >= 4)")
        return v


class ModelConfig(Strict):
    arch: ArchName = "baseline_cnn"
    filters: list[StrictInt] = Field(default_factory=lambda: [32, 64])
    kernel_size: StrictInt = Field(3, ge=1, le=15)
    dropout: StrictFloat = Field(0.25, ge=0.0, lt=1.0)
    hidden: StrictInt = Field(128, ge=1, le=65536, description="units of the hidden layer(s)")
    hidden_layers: StrictInt = Field(1, ge=0, le=8, description="hidden layers of the MLP")

    @field_validator("filters")
    @classmethod
    def _filters_positive(cls, v: list[int]) -> list[int]:
        if not v or len(v) > 8 or any(f < 1 or f > 4096 for f in v):
            raise ValueError("must be 1 to 8 filter counts, each between 1 and 4096")
        return v


class Hyperparameters(Strict):
    """The optimizer hyperparameters a run may set; None takes the optimizer's lecture default
    (optim/catalog.py), and one the optimizer does not read is refused."""

    lr: StrictFloat | None = Field(None, gt=0.0, le=1000.0, description="learning rate η (α)")
    momentum: StrictFloat | None = Field(None, ge=0.0, lt=1.0, description="momentum γ")
    beta1: StrictFloat | None = Field(None, ge=0.0, lt=1.0)
    beta2: StrictFloat | None = Field(None, ge=0.0, lt=1.0)
    eps: StrictFloat | None = Field(None, gt=0.0, lt=1.0)
    rho: StrictFloat | None = Field(None, ge=0.0, lt=1.0, description="decay γ of RMSprop/Adadelta")
    weight_decay: StrictFloat | None = Field(None, ge=0.0, lt=1.0)


class OptimizerConfig(Hyperparameters, Registered):
    """Hyperparameters left as None take the optimizer's lecture default (optim/catalog.py)."""

    registry: ClassVar[Mapping[str, Any]] = OPTIMIZERS

    name: OptimizerName = "adam"
    impl: Annotated[str, one_of("implementation", IMPLS)] = "torch"
    lr: StrictFloat | None = Field(None, gt=0.0, le=100.0, description="learning rate η (α)")

    def hyperparameters(self) -> dict[str, float]:
        return self.settings()


class ScheduleConfig(Registered):
    """Learning-rate schedule; parameters left as None take the schedule's default."""

    registry: ClassVar[Mapping[str, Any]] = SCHEDULES

    name: ScheduleName = "constant"
    per: Literal["epoch", "step"] | None = Field(
        None, description="lr update cadence; default per step for cyclical, one-cycle, restarts"
    )
    warmup_epochs: StrictFloat = Field(
        0.0, ge=0.0, le=MAX_EPOCHS, description="linear warm-up in front of any schedule"
    )
    gamma: StrictFloat | None = Field(None, gt=0.0, le=1.0, description="decay factor (step/exp)")
    step_size: Epochs | None = Field(None, description="epochs between step decays")
    decay: StrictFloat | None = Field(None, ge=0.0, description="decr of α0/(1+decr·epoch)")
    d: StrictFloat | None = Field(
        None, gt=0.0, le=1.0, description="decay d of d^epoch·α0 and d·α0/√epoch"
    )
    t_max: Epochs | None = Field(None, description="cosine period in epochs (default: all)")
    t_0: Epochs | None = Field(None, description="first restart period in epochs")
    t_mult: StrictFloat | None = Field(None, ge=1.0, le=100.0, description="period growth")
    eta_min: StrictFloat | None = Field(None, ge=0.0, le=100.0, description="lowest learning rate")
    max_lr: StrictFloat | None = Field(
        None, gt=0.0, le=100.0, description="peak lr of cyclical / one-cycle"
    )
    cycle_epochs: Epochs | None = Field(None, description="half-cycle length (cyclical)")
    pct_start: StrictFloat | None = Field(None, gt=0.0, lt=1.0)
    factor: StrictFloat | None = Field(None, gt=0.0, lt=1.0, description="plateau reduction factor")
    patience: StrictInt | None = Field(None, ge=0)

    def parameters(self) -> dict[str, Any]:
        return self.settings()


class TrainingConfig(Strict):
    epochs: StrictInt = Field(3, ge=1, le=MAX_EPOCHS)
    batch_size: StrictInt = Field(64, ge=1, le=1_000_000)
    seed: StrictInt = Field(0, ge=0, le=2**32 - 1)
    seeds: StrictInt = Field(
        1,
        ge=1,
        le=100,
        description="train each configuration with seeds seed, seed+1, …: initial weights, "
        "shuffling and dropout (a comparison's results then carry 95% confidence intervals)",
    )
    device: str = "auto"
    max_steps: StrictInt | None = Field(None, ge=1, description="cap on optimizer steps per run")
    l1: StrictFloat = Field(0.0, ge=0.0, description="L1 penalty weight on all weights")
    l2: StrictFloat = Field(0.0, ge=0.0, description="L2 penalty weight on all weights")
    precision: Annotated[str, one_of("precision", PRECISIONS)] = "auto"
    channels_last: bool | None = Field(None, description="default: on where it measured faster")
    cuda_graphs: bool | None = Field(
        None, description="replay the step as a CUDA graph (default: where it can be captured)"
    )
    log_every: StrictInt = Field(20, ge=1, description="optimizer steps between logged loss points")
    internals_every: StrictInt = Field(
        50, ge=0, le=10**9, description="steps between looks inside the optimizer (0: never)"
    )
    sharpness_every: StrictInt = Field(
        1000,
        ge=0,
        le=10**9,
        description="steps between estimates of the top Hessian eigenvalue (0: never)",
    )
    diverge_loss: StrictFloat = Field(
        1000.0, gt=0.0, description="a step loss above this (or NaN/inf) marks the run diverged"
    )
    target_acc: StrictFloat = Field(0.85, gt=0.0, le=1.0, description="for 'epochs to target'")
    eval_batch_size: StrictInt = Field(1024, ge=1)
    checkpoint: bool = False
    threads: StrictInt | None = Field(None, ge=1, le=1024, description="torch CPU threads")
    workers: StrictInt | None = Field(
        None,
        ge=1,
        le=1024,
        description="runs or trials trained side by side (default: one per CPU core; 1 on GPU)",
    )

    @field_validator("device")
    @classmethod
    def _device_syntax(cls, v: str) -> str:
        if not DEVICE_PATTERN.fullmatch(v):
            raise ValueError("must be auto, cpu, cuda, cuda:N or mps")
        return v

    @model_validator(mode="after")
    def _seeds_in_range(self) -> TrainingConfig:
        if self.seed + self.seeds - 1 > 2**32 - 1:
            raise ValueError(
                f"seeds {self.seed}…{self.seed + self.seeds - 1} pass 2**32 − 1; lower "
                "training.seed or training.seeds"
            )
        return self


class RunConfig(Strict):
    """Everything one training run needs."""

    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)


class RunSpec(Strict):
    """One run of a comparison: a name plus dotted-key overrides of the base config."""

    name: str = Field(min_length=1, max_length=64)
    set: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _no_seed_mark(cls, v: str) -> str:
        if "@" in v:
            raise ValueError(f"{v!r}: a run name cannot hold '@', which marks a seed (adam@3)")
        return v


class Expectation(Strict):
    """An outcome a preset promises, checked on the results (see results/checks.py)."""

    text: str
    check: Annotated[str, parsed_by(parse_check)]
    datasets: list[DatasetName] | None = Field(
        None,
        min_length=1,
        description="in force only when the runs use these datasets (default: any)",
    )


class Toy2DRun(Hyperparameters):
    """One optimizer (the lecture's rule, optim/lectures.py) on the 2-D toy problem.

    Hyperparameters left as None take the registry's defaults; one the optimizer does not read
    is an error rather than silently ignored.
    """

    name: str | None = Field(None, min_length=1, max_length=64, description="default: optimizer")
    optimizer: OptimizerName

    @model_validator(mode="after")
    def _reads_every_hyperparameter(self) -> Toy2DRun:
        reads = OPTIMIZERS[self.optimizer].defaults
        unread = [
            k
            for k in Hyperparameters.model_fields
            if getattr(self, k) is not None and k not in reads
        ]
        if unread:
            takes = ", ".join(reads)
            raise ValueError(f"{self.optimizer} does not use {', '.join(unread)}; it takes {takes}")
        return self

    @property
    def label(self) -> str:
        return self.name or self.optimizer

    def hyperparameters(self) -> dict[str, float]:
        return _filled(OPTIMIZERS[self.optimizer].defaults, self)


class Toy2DConfig(Strict):
    """The 2-D toy problem (dataflowr Module 4): one function, one start, several optimizers.

    Settings left as None (and an empty run list) take the built-in function's defaults, or the
    lecture problem's for an expression (toy_functions.FUNCTIONS).
    """

    function: Annotated[str, parsed_by(formula_of)] = Field(
        "lecture", description="a built-in name or an expression in x1, x2"
    )
    start: tuple[StrictFloat, StrictFloat] | None = None
    steps: StrictInt | None = Field(None, ge=1, le=10_000)
    tolerance: StrictFloat = Field(
        1e-3, gt=0.0, description="converged once |f − f_min| < tolerance"
    )
    f_min: StrictFloat | None = Field(None, description="the function's minimum value (default 0)")
    bounds: tuple[StrictFloat, StrictFloat, StrictFloat, StrictFloat] | None = Field(
        None, description="contour view: x1_min, x1_max, x2_min, x2_max"
    )
    runs: list[Toy2DRun] = Field(default_factory=list)

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, v: tuple[float, float, float, float] | None):
        if v is not None and not (v[0] < v[1] and v[2] < v[3]):
            raise ValueError("must be [x1_min, x1_max, x2_min, x2_max] with each min < max")
        return v

    @field_validator("runs")
    @classmethod
    def _unique_labels(cls, v: list[Toy2DRun]) -> list[Toy2DRun]:
        if dupes := repeated([r.label for r in v]):
            raise ValueError(f"give each run a distinct name; repeated: {', '.join(dupes)}")
        return v

    def with_overrides(self, overrides: dict[str, Any], where: str = "--set") -> Toy2DConfig:
        """A validated copy with ``toy2d.<field>`` overrides applied (any other key is an error)."""
        data = self.model_dump(mode="python", exclude_unset=True)
        for key, value in overrides.items():
            head, _, field = key.partition(".")
            if head != "toy2d" or field not in Toy2DConfig.model_fields:
                raise ConfigError(
                    f"{where}: {key!r} does not apply to the 2-D toy problem; its settings are "
                    f"toy2d.<field> with field one of: {', '.join(Toy2DConfig.model_fields)} "
                    "(e.g. --set toy2d.steps=50 or --set toy2d.function=rosenbrock; runs take a "
                    "TOML array: --set 'toy2d.runs=[{optimizer=\"adam\", lr=0.5}]')."
                )
            data[field] = value
        try:
            toy = ExperimentConfig.model_validate({"toy2d": data}).toy2d  # errors say toy2d.<field>
        except ValidationError as exc:
            raise ConfigError(describe_validation(exc, where)) from None
        assert toy is not None
        return toy


SearchMethod = Literal["grid", "random", "bayes"]
SEARCH_METHODS: tuple[str, ...] = get_args(SearchMethod)


class ParamSpace(Strict):
    """One searched setting: a list of choices, or an int/float range (log scale for rates).

    ``grid`` lists the points grid search takes from a range, so that grid and random search
    can share one space: random and Bayesian search sample the range, grid search these points.
    """

    type: Literal["categorical", "int", "float"]
    choices: list[Any] | None = Field(None, min_length=1)
    low: StrictFloat | None = None
    high: StrictFloat | None = None
    log: bool = False
    step: StrictFloat | None = Field(None, gt=0.0)
    grid: list[StrictFloat] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpace:
        if self.type == "categorical":
            if self.choices is None:
                raise ValueError("a categorical parameter needs choices = [...]")
            extra = [k for k in ("low", "high", "step", "grid") if getattr(self, k) is not None]
            if extra or self.log:
                raise ValueError(
                    f"a categorical parameter takes only choices, not {extra or 'log'}"
                )
            return self
        if self.choices is not None:
            raise ValueError(
                f"an {self.type} range takes low/high (and log, step, grid), not choices"
            )
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"an {self.type} range needs low < high")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("a log-scale range needs low > 0 and no step")
        if self.type == "int":
            numbers = [self.low, self.high, self.step or 1, *(self.grid or [])]
            if any(v != int(v) for v in numbers):
                raise ValueError("an int range needs whole numbers for low, high, step and grid")
        if self.grid and not all(self.low <= v <= self.high for v in self.grid):
            raise ValueError(f"grid points must lie within [{self.low:g}, {self.high:g}]")
        return self

    def candidates(self) -> list[Any]:
        """Values that must each be a valid setting: the choices, or the range ends and grid."""
        if self.type == "categorical":
            return list(self.choices or [])
        cast = int if self.type == "int" else float
        return [cast(v) for v in (self.low, self.high, *(self.grid or []))]


class SearchConfig(Strict):
    """A hyperparameter search (lecture week 6) over dotted config keys, run with Optuna.

    Several methods (``method = ["grid", "random"]``) search the same space with the same trial
    budget, one study each, and are compared.
    """

    method: SearchMethod | list[SearchMethod] = "random"
    bayes: Literal["tpe", "gp"] = Field("tpe", description="Optuna's model behind method=bayes")
    n_trials: StrictInt | None = Field(
        None, ge=1, le=100_000, description="default: the grid's size"
    )
    seed: StrictInt = Field(0, ge=0, le=2**32 - 1, description="seeds the samplers")
    startup_trials: StrictInt = Field(
        5, ge=0, description="random trials before the Bayesian model"
    )
    space: dict[str, ParamSpace] = Field(min_length=1)
    pruner: Annotated[str, one_of("pruner", PRUNERS)] = "none"
    pruner_warmup_epochs: StrictInt = Field(
        1, ge=0, description="epochs before a trial may be pruned"
    )
    objective: Annotated[str, one_of("objective", SEARCH_OBJECTIVES)] = "val_acc"

    @field_validator("method")
    @classmethod
    def _distinct(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and (not v or len(set(v)) != len(v)):
            raise ValueError('list each method once, e.g. method = ["grid", "random"]')
        return v

    @model_validator(mode="after")
    def _budget_known(self) -> SearchConfig:
        if self.n_trials is None and "grid" not in self.methods:
            raise ValueError("random and Bayesian search need n_trials (the trial budget)")
        return self

    @property
    def methods(self) -> list[str]:
        return list(self.method) if isinstance(self.method, list) else [self.method]

    @property
    def direction(self) -> str:
        return SEARCH_OBJECTIVES[self.objective]


class ExperimentConfig(Strict):
    """A preset: a named list of runs over a shared base config."""

    name: str = "custom"
    description: str = ""
    lecture: str = ""
    step: str = ""
    base: RunConfig = Field(default_factory=RunConfig)
    runs: list[RunSpec] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    search: SearchConfig | None = None
    toy2d: Toy2DConfig | None = None

    @field_validator("runs")
    @classmethod
    def _unique_names(cls, v: list[RunSpec]) -> list[RunSpec]:
        if dupes := repeated([r.name for r in v]):
            raise ValueError(f"run names must be unique; repeated: {', '.join(dupes)}")
        shared = [r.name for r in v if "training.workers" in r.set]
        if shared:
            raise ValueError(
                f"run {shared[0]!r} sets training.workers, which applies to the whole comparison; "
                "set it in [base.training] or with --set training.workers=N"
            )
        return v

    @model_validator(mode="after")
    def _search_space_valid(self) -> ExperimentConfig:
        """Every searched key must name a setting and every candidate value be valid for it."""
        if self.search is None:
            return self
        if self.runs:
            raise ValueError("a search preset has no [[runs]]: its trials come from [search.space]")
        if self.base.data.val_fraction == 0:
            raise ValueError("a search scores trials on validation data: data.val_fraction > 0")
        for key, spec in self.search.space.items():
            for value in spec.candidates():
                try:
                    apply_overrides(self.base, {key: value}, where=f"search.space.{key}")
                except ConfigError as exc:
                    raise ValueError(str(exc)) from None
        return self

    def resolved_runs(self, overrides: dict[str, Any] | None = None) -> list[tuple[str, RunConfig]]:
        """Each run's full config: every configuration once per seed (``name@seed`` when
        ``training.seeds`` > 1)."""
        return [
            run for name, cfg in self.configurations(overrides) for run in with_seeds(name, cfg)
        ]

    def configurations(
        self, overrides: dict[str, Any] | None = None
    ) -> list[tuple[str, RunConfig]]:
        """Each configuration's full config: base, then the run's own overrides, then the
        user's (what the Lab edits; its seeds are expanded at launch)."""
        if self.toy2d is not None:  # a toy preset takes only toy2d.* overrides: check them here
            self.toy2d.with_overrides(overrides or {})
            overrides = None
        out = []
        for spec in self.runs or [RunSpec(name="run")]:
            cfg = apply_overrides(self.base, spec.set, where=f"run {spec.name!r}")
            if overrides:
                cfg = apply_overrides(cfg, overrides, where="--set")
            own = {k.split(".", 1)[1] for k in spec.set if k.startswith("optimizer.")}
            _check_read(cfg, own & unread_hyperparameters(cfg), f"run {spec.name!r}")
            out.append((spec.name if self.runs else cfg.optimizer.name, cfg))
        shared = {k.split(".", 1)[1] for k in overrides or {} if k.startswith("optimizer.")}
        shared |= self.base.optimizer.model_fields_set
        unread_by_all = set.intersection(*(unread_hyperparameters(cfg) for _, cfg in out)) & shared
        from_cli = {k.split(".", 1)[1] for k in overrides or {}}
        _check_read(
            out[0][1], unread_by_all, "--set" if unread_by_all & from_cli else "[base.optimizer]"
        )
        return out


def with_seeds(name: str, cfg: RunConfig) -> list[tuple[str, RunConfig]]:
    """A configuration's runs: itself, or with ``training.seeds = N`` one run per seed, named
    ``name@seed`` (result files name the configuration in ``run`` and the seed in ``seed``)."""
    t = cfg.training
    if t.seeds == 1:
        return [(name, cfg)]
    seeds = range(t.seed, t.seed + t.seeds)
    return [
        (f"{name}@{s}", cfg.model_copy(update={"training": t.model_copy(update={"seed": s})}))
        for s in seeds
    ]


def configuration_of(run: str) -> str:
    """The configuration a run id belongs to: ``adam@3`` → ``adam``."""
    return run.split("@", 1)[0]


def unread_hyperparameters(cfg: RunConfig) -> set[str]:
    """Optimizer hyperparameters set in ``cfg`` that its optimizer does not use."""
    reads = OPTIMIZERS[cfg.optimizer.name].defaults
    return {
        k
        for k in Hyperparameters.model_fields
        if k not in reads and getattr(cfg.optimizer, k) is not None
    }


def _check_read(cfg: RunConfig, unread: set[str], where: str) -> None:
    """A hyperparameter no optimizer of the comparison reads would be silently ignored: refuse."""
    if unread:
        key = min(unread)
        name = cfg.optimizer.name
        users = [n for n, spec in OPTIMIZERS.items() if key in spec.defaults]
        raise ConfigError(
            f"{where}: optimizer.{key} is not used by {name}, which takes "
            f"{', '.join(OPTIMIZERS[name].defaults)}, so it would be silently ignored. Remove it, "
            f"or choose an optimizer that uses it: {', '.join(users)}."
        )


def parse_value(text: str) -> Any:
    """A --set value: TOML scalar/array syntax when it parses, else the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:  # tomllib recurses once per bracket
        raise ConfigError(
            f"--set value {_shown(text)} is nested too deeply to be a setting; settings hold "
            "numbers, strings or flat lists such as [32, 64]."
        ) from None


def _shown(value: Any) -> str:
    """A value quoted back in an error, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN_INPUT else text[: SHOWN_INPUT - 1] + "…"


def apply_overrides(cfg: RunConfig, overrides: dict[str, Any], where: str) -> RunConfig:
    """Return a validated copy of ``cfg`` with dotted-key overrides applied."""
    data = copy.deepcopy(cfg.model_dump(mode="python"))
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = data
        model: Any = RunConfig
        for i, part in enumerate(parts):
            fields = getattr(model, "model_fields", None)
            if fields is None or part not in fields:
                valid = ", ".join(sorted(fields)) if fields else "(none: it is a value)"
                prefix = ".".join(parts[:i]) or "top level"
                raise ConfigError(
                    f"{where}: unknown setting {key!r} — {prefix!s} has no field {part!r}. "
                    f"Valid fields there: {valid}."
                )
            if i == len(parts) - 1:
                if _is_section(fields[part].annotation):
                    example = next(iter(fields[part].annotation.model_fields))
                    raise ConfigError(
                        f"{where}: {key!r} is a section, not a setting; set its fields one by "
                        f"one, e.g. --set {key}.{example}=... (valid fields: "
                        f"{', '.join(fields[part].annotation.model_fields)})."
                    )
                node[part] = value
            else:
                node = node[part]
                model = fields[part].annotation
    return validate_run(data, where)


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def validate_run(data: dict[str, Any], where: str) -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation(exc, where)) from None


def describe_validation(exc: ValidationError, where: str) -> str:
    """One readable paragraph naming each bad field, the value given and what is allowed."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a known setting (check the spelling; see --help or the README)"
        given = err.get("input")
        shown = "" if err["type"] in ("extra_forbidden", "missing") else f" (got {_shown(given)})"
        lines.append(f"{loc}{shown}: {msg}")
    return f"{where}: invalid configuration — " + "; ".join(lines) + "."
