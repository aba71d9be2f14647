"""The Lab's option panels, one table entry each: which fields a run's config shows and what the
panel explains beside them (dataset availability, the optimizer's update rule, the schedule's
curve, the devices found). Fields are dotted keys, so every edit is validated by the core."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import torch
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from tui_lab.config import PRECISIONS, RunConfig, parse_value
from tui_lab.data.catalog import DATASETS, default_data_dir
from tui_lab.data.files import availability
from tui_lab.errors import UserError
from tui_lab.models.build import Dropout, build_model, count_parameters
from tui_lab.models.catalog import ARCHITECTURES
from tui_lab.optim.catalog import IMPLS, OPTIMIZERS
from tui_lab.schedules import SCHEDULES, Schedule
from tui_lab.training.run import effective_batch_size
from tui_lab.ui.state.draft import get_value
from tui_lab.ui.widgets.charts import LrPreviewChart

Choices = Callable[[RunConfig], dict[str, Any]]  # label shown -> value set


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    choices: Choices | None = None
    listed: bool = False  # a list/tuple typed as "32, 64"


def _same(values) -> Choices:
    return lambda cfg: {str(v): v for v in values}


def device_choices(cfg: RunConfig) -> dict[str, Any]:
    names = ["auto", "cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]
    if torch.backends.mps.is_available():
        names.append("mps")
    if cfg.training.device not in names:
        names.append(cfg.training.device)
    return {n: n for n in names}


AUTO_ON_OFF = {"auto": None, "on": True, "off": False}


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def text_value(spec: FieldSpec, text: str) -> Any:
    """What the user typed, parsed as in ``--set`` (TOML scalars); empty means "default"."""
    text = text.strip()
    if not text:
        return None
    if spec.listed and not text.startswith("["):
        text = f"[{text}]"
    return parse_value(text)


def choice_label(spec: FieldSpec, cfg: RunConfig) -> str:
    value = get_value(cfg, spec.key)
    assert spec.choices is not None
    return next((label for label, v in spec.choices(cfg).items() if v == value), str(value))


def field_default(spec: FieldSpec, cfg: RunConfig) -> str:
    """Placeholder for an empty field: the registry default it falls back to."""
    section, name = spec.key.split(".", 1)
    if section == "optimizer":
        default = OPTIMIZERS[cfg.optimizer.name].defaults.get(name)
    elif section == "schedule":
        default = SCHEDULES[cfg.schedule.name].defaults.get(name)
    else:
        return "default"
    return "default" if default is None else f"default {default:g}"


# ---------------------------------------------------------------------------- panel contents


def dataset_fields(cfg: RunConfig) -> list[FieldSpec]:
    fields = [
        FieldSpec("data.dataset", "dataset", _same(DATASETS)),
        FieldSpec("data.subset", "subset (images)"),
        FieldSpec("data.val_fraction", "validation fraction"),
        FieldSpec("data.augment", "augmentation", lambda c: AUTO_ON_OFF),
    ]
    if cfg.data.dataset == "synthetic":
        fields += [
            FieldSpec("data.synthetic_size", "synthetic size"),
            FieldSpec("data.synthetic_shape", "synthetic shape", listed=True),
            FieldSpec("data.synthetic_classes", "synthetic classes"),
        ]
    else:
        fields.append(FieldSpec("data.data_dir", "data dir"))
    return fields


def planned_train_size(cfg: RunConfig) -> int:
    d = cfg.data
    n = d.synthetic_size if d.dataset == "synthetic" else DATASETS[d.dataset].train_size
    n = min(n, d.subset) if d.subset else n
    return n - round(n * d.val_fraction)


def input_shape(cfg: RunConfig) -> tuple[int, int, int]:
    d = cfg.data
    return d.synthetic_shape if d.dataset == "synthetic" else DATASETS[d.dataset].shape


def dataset_info(cfg: RunConfig) -> str:
    d = cfg.data
    info = DATASETS[d.dataset]
    c, h, w = input_shape(cfg)
    if d.dataset == "synthetic":
        sizes = f"{d.synthetic_size:,} train / {max(10, d.synthetic_size // 5):,} test"
        classes = d.synthetic_classes
    else:
        sizes = f"{info.train_size:,} train / {info.test_size:,} test"
        classes = len(info.classes)
    where = availability(d.dataset, d.data_dir)
    if where is None:
        offline = (
            f"[b red]not found offline[/] — would download to {d.data_dir or default_data_dir()}"
            if d.download
            else "[b red]not found offline[/] and data.download is off"
        )
    else:
        offline = f"[b green]available offline[/] ({where})"
    n_train = planned_train_size(cfg)
    return (
        f"[b]{info.title}[/]\n{sizes} images · {c}×{h}×{w} · {classes} classes\n"
        f"trains on {n_train:,} images (validation fraction {d.val_fraction:g})\n\n{offline}"
    )


def model_fields(cfg: RunConfig) -> list[FieldSpec]:
    fields = [FieldSpec("model.arch", "architecture", _same(ARCHITECTURES))]
    if ARCHITECTURES[cfg.model.arch].convolutional:
        fields += [
            FieldSpec("model.filters", "filters", listed=True),
            FieldSpec("model.kernel_size", "kernel size"),
        ]
    if cfg.model.arch != "logreg":
        fields += [FieldSpec("model.hidden", "hidden units"), FieldSpec("model.dropout", "dropout")]
    if cfg.model.arch == "mlp":
        fields.append(FieldSpec("model.hidden_layers", "hidden layers"))
    return fields


def model_info(cfg: RunConfig) -> str:
    description = ARCHITECTURES[cfg.model.arch].description
    classes = cfg.data.synthetic_classes if cfg.data.dataset == "synthetic" else 10
    try:
        model = build_model(cfg.model, input_shape(cfg), classes)
    except UserError as exc:
        return f"[b]{description}[/]\n\n[b red]{exc}[/]"
    layers = "\n".join(f"  {type(m).__name__}" + _layer_shape(m) for m in _leaves(model))
    return f"[b]{description}[/]\n{count_parameters(model):,} parameters\n\n{layers}"


def _leaves(module: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in module.modules() if not list(m.children())]


def _layer_shape(m: torch.nn.Module) -> str:
    if isinstance(m, torch.nn.Conv2d):
        return f" {m.in_channels}→{m.out_channels}, {m.kernel_size[0]}×{m.kernel_size[1]}"
    if isinstance(m, torch.nn.Linear):
        return f" {m.in_features}→{m.out_features}"
    if isinstance(m, Dropout):
        return f" p={m.p:g}"
    return ""


def optimizer_fields(cfg: RunConfig) -> list[FieldSpec]:
    spec = OPTIMIZERS[cfg.optimizer.name]
    fields = [
        FieldSpec("optimizer.name", "optimizer", _same(OPTIMIZERS)),
        FieldSpec("optimizer.impl", "implementation", _same(IMPLS)),
    ]
    return fields + [FieldSpec(f"optimizer.{k}", k) for k in spec.defaults]


def optimizer_info(cfg: RunConfig) -> str:
    hp = ", ".join(f"{k}={v:g}" for k, v in cfg.optimizer.hyperparameters().items())
    return f"{OPTIMIZERS[cfg.optimizer.name].describe()}\n\nThis run: {hp}"


def schedule_fields(cfg: RunConfig) -> list[FieldSpec]:
    fields = [
        FieldSpec("schedule.name", "schedule", _same(SCHEDULES)),
        FieldSpec("schedule.per", "applied per", applied_per),
        FieldSpec("schedule.warmup_epochs", "warm-up epochs"),
    ]
    return fields + [FieldSpec(f"schedule.{k}", k) for k in SCHEDULES[cfg.schedule.name].defaults]


def applied_per(cfg: RunConfig) -> dict[str, Any]:
    """Unset, the schedule's own choice, named: "default" alone said neither step nor epoch."""
    own = SCHEDULES[cfg.schedule.name].per
    return {f"{own} (its default)": None, "epoch": "epoch", "step": "step"}


def planned_steps_per_epoch(cfg: RunConfig) -> int:
    n = planned_train_size(cfg)
    return math.ceil(n / effective_batch_size(cfg, n))


def schedule_preview(cfg: RunConfig) -> list[tuple[float, float]]:
    lr = cfg.optimizer.hyperparameters()["lr"]
    epochs = cfg.training.epochs
    return Schedule(cfg.schedule, lr, epochs, planned_steps_per_epoch(cfg)).preview(epochs)


def schedule_info(cfg: RunConfig) -> str:
    spec = SCHEDULES[cfg.schedule.name]
    points = schedule_preview(cfg)
    return f"[b]{spec.title}[/]   {spec.formula}\nlr from {points[0][1]:.3g} to {points[-1][1]:.3g}"


def training_fields(cfg: RunConfig) -> list[FieldSpec]:
    return [
        FieldSpec("training.epochs", "epochs"),
        FieldSpec("training.batch_size", "batch size"),
        FieldSpec("training.seed", "seed"),
        FieldSpec("training.seeds", "seeds (runs each)"),
        FieldSpec("training.device", "device", device_choices),
        FieldSpec("training.precision", "precision", _same(PRECISIONS)),
        FieldSpec("training.max_steps", "max steps"),
        FieldSpec("training.l2", "L2 penalty"),
        FieldSpec("training.l1", "L1 penalty"),
        FieldSpec("training.target_acc", "target accuracy"),
        FieldSpec("training.log_every", "log every (steps)"),
    ]


def training_info(cfg: RunConfig) -> str:
    lines = [f"CPU: {os.cpu_count()} cores, torch uses {torch.get_num_threads()} threads"]
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        lines.append(f"cuda:{i}: {props.name}, {props.total_memory / 2**30:.0f} GiB")
    if torch.cuda.device_count() == 0:
        lines.append("CUDA: no device found")
    steps = planned_steps_per_epoch(cfg)
    total = steps * cfg.training.epochs
    capped = min(total, cfg.training.max_steps) if cfg.training.max_steps else total
    lines.append(f"\n≈{steps:,} steps per epoch, {capped:,} steps in all")
    return "\n".join(lines)


@dataclass(frozen=True)
class PanelSpec:
    """``reads``: the config sections ``info`` depends on; the notes are recomputed only when
    one of them changed (the model's notes build the model: too slow for every keystroke)."""

    name: str
    title: str
    fields: Callable[[RunConfig], list[FieldSpec]]
    info: Callable[[RunConfig], str]
    reads: tuple[str, ...]


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("dataset", "Dataset", dataset_fields, dataset_info, ("data",)),
    PanelSpec("model", "Model", model_fields, model_info, ("data", "model")),
    PanelSpec("optimizer", "Optimizer", optimizer_fields, optimizer_info, ("optimizer",)),
    PanelSpec(
        "schedule",
        "Schedule",
        schedule_fields,
        schedule_info,
        ("data", "optimizer", "schedule", "training"),
    ),
    PanelSpec("training", "Training", training_fields, training_info, ("data", "training")),
)


# ---------------------------------------------------------------------------- widgets


class FieldRow(Horizontal):
    DEFAULT_CSS = """
    FieldRow { height: 1; margin-bottom: 1; }
    FieldRow > Label { width: 21; padding-right: 1; }
    FieldRow > Input, FieldRow > Select { width: 1fr; }
    """


class Form(VerticalScroll):
    """A panel's fields: scrolled by focusing them, never a focus stop of its own."""

    can_focus = False


class ConfigPanel(Widget):
    """A form of ``spec.fields`` for one run's config, with ``spec.info`` beside it. The form
    is a view of the config: ``show`` puts every widget's value back from it."""

    DEFAULT_CSS = """
    ConfigPanel { layout: horizontal; height: 1fr; }
    ConfigPanel > .form { width: 1fr; min-width: 30; }
    ConfigPanel > .info { width: 1fr; padding: 0 1; }
    ConfigPanel .info-text { height: auto; }
    """

    def __init__(self, spec: PanelSpec, cfg: RunConfig) -> None:
        super().__init__(id=f"panel-{spec.name}")
        self.spec = spec
        self.cfg = cfg
        self.fields: dict[str, FieldSpec] = {}
        self._info_of: tuple | None = None  # the sections the notes were computed from
        self._labels: dict[str, list[str]] = {}  # each Select's options, as composed or set

    def compose(self) -> ComposeResult:
        self.fields = {f.key: f for f in self.spec.fields(self.cfg)}
        with Form(classes="form"):
            for f in self.fields.values():
                with FieldRow():
                    yield Label(f.label)
                    if f.choices:
                        self._labels[f.key] = list(f.choices(self.cfg))
                        yield Select(
                            [(label, label) for label in self._labels[f.key]],
                            value=choice_label(f, self.cfg),
                            allow_blank=False,
                            compact=True,
                            name=f.key,
                            id=field_id(f.key),
                        )
                    else:
                        yield Input(
                            value_text(get_value(self.cfg, f.key)),
                            name=f.key,
                            placeholder=field_default(f, self.cfg),
                            compact=True,
                            id=field_id(f.key),
                        )
        self._info_of = self._sections(self.cfg)
        with Vertical(classes="info"):
            yield Static(self.spec.info(self.cfg), classes="info-text")
            if self.spec.name == "schedule":
                yield LrPreviewChart(schedule_preview(self.cfg))

    def show(self, cfg: RunConfig, keep: Collection[Widget] = ()) -> bool:
        """Point the panel at ``cfg``: every widget but those in ``keep`` (the one being typed
        in, fields still red) takes its value from it, and the notes follow. Returns True
        when the set of fields changed instead: the caller recomposes the panel."""
        self.cfg = cfg
        if [f.key for f in self.spec.fields(cfg)] != list(self.fields):
            return True
        for spec in self.fields.values():
            widget = self.query_one(f"#{field_id(spec.key)}")
            if widget not in keep:
                self._fill(widget, spec)
        self.show_info()
        return False

    def show_info(self) -> None:
        """The notes beside the form, when their sections changed and the panel is on view
        (a hidden tab's notes wait for its tab: each update re-lays out the screen)."""
        sections = self._sections(self.cfg)
        hidden = any(
            not node.display for node in self.ancestors_with_self if isinstance(node, Widget)
        )
        if sections != self._info_of and not hidden:
            self._info_of = sections
            self.query_one(".info-text", Static).update(self.spec.info(self.cfg))
            for chart in self.query(LrPreviewChart):
                chart.show_curve(schedule_preview(self.cfg))

    def _sections(self, cfg: RunConfig) -> tuple:
        return tuple(getattr(cfg, section) for section in self.spec.reads)

    def _fill(self, widget: Widget, spec: FieldSpec) -> None:
        """Set one widget from the config without it reporting an edit."""
        widget.remove_class("-invalid")
        with widget.prevent(Input.Changed, Select.Changed):
            if isinstance(widget, Select):
                labels = list(spec.choices(self.cfg)) if spec.choices else []
                if self._labels.get(spec.key) != labels:
                    self._labels[spec.key] = labels
                    widget.set_options([(label, label) for label in labels])
                widget.value = choice_label(spec, self.cfg)
            elif isinstance(widget, Input):
                text = value_text(get_value(self.cfg, spec.key))
                if widget.value != text:
                    widget.value = text
                widget.placeholder = field_default(spec, self.cfg)

    def parse(self, key: str, raw: str) -> Any:
        """The config value for what a field's widget holds."""
        spec = self.fields[key]
        return spec.choices(self.cfg)[raw] if spec.choices else text_value(spec, raw)

    def unchanged(self, key: str, raw: str) -> bool:
        spec = self.fields[key]
        current = (
            choice_label(spec, self.cfg) if spec.choices else value_text(get_value(self.cfg, key))
        )
        return raw == current


def field_id(key: str) -> str:
    """The id of the widget that edits ``key`` (e.g. ``field-optimizer-lr``)."""
    return "field-" + key.replace(".", "-").replace("_", "-")
