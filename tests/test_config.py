"""The option tree: invalid values are one readable message naming the field and what is allowed."""

from __future__ import annotations

import math

import pytest

from tui_lab.config import ExperimentConfig, RunConfig, apply_overrides, parse_value
from tui_lab.errors import ConfigError
from tui_lab.presets import list_presets, load_preset


def test_public_dotted_keys_apply():
    cfg = apply_overrides(
        RunConfig(),
        {
            "data.dataset": "mnist",
            "data.data_dir": "/tmp/x",
            "model.arch": "mlp",
            "optimizer.name": "rmsprop",
            "optimizer.lr": 0.05,
            "schedule.name": "cosine",
            "training.epochs": 4,
            "training.batch_size": 32,
            "training.seed": 9,
            "training.device": "cpu",
            "training.max_steps": 100,
        },
        where="test",
    )
    assert (cfg.data.dataset, cfg.model.arch, cfg.optimizer.name) == ("mnist", "mlp", "rmsprop")
    assert (cfg.optimizer.lr, cfg.training.batch_size, cfg.training.max_steps) == (0.05, 32, 100)


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("optimizer.lr", -0.1, "optimizer.lr"),
        ("model.dropout", 1.0, "model.dropout"),
        ("training.batch_size", 0, "training.batch_size"),
        ("training.epochs", "three", "training.epochs"),
        ("data.dataset", "imagenet", "mnist"),
        ("training.device", "gpu0", "cuda:N"),
    ],
)
def test_bad_values_name_the_field(key, value, needle):
    with pytest.raises(ConfigError) as err:
        apply_overrides(RunConfig(), {key: value}, where="--set")
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(ConfigError) as err:
        apply_overrides(RunConfig(), {"optimizer.name": "adamx"}, where="--set")
    assert "adam" in str(err.value) and "sgd" in str(err.value)


def test_unknown_key_names_the_valid_fields():
    with pytest.raises(ConfigError) as err:
        apply_overrides(RunConfig(), {"training.bacth_size": 3}, where="--set")
    msg = str(err.value)
    assert "bacth_size" in msg and "batch_size" in msg


def test_set_values_parse_like_toml():
    assert parse_value("0.01") == 0.01
    assert parse_value("[16, 32]") == [16, 32]
    assert parse_value("true") is True
    assert parse_value("adam") == "adam"


def test_runs_resolve_base_then_run_then_user_overrides():
    cfg = ExperimentConfig.model_validate(
        {
            "base": {"optimizer": {"name": "sgd", "lr": 0.1}},
            "runs": [{"name": "a", "set": {"optimizer.lr": 0.2}}, {"name": "b"}],
        }
    )
    runs = dict(cfg.resolved_runs({"training.epochs": 7}))
    assert runs["a"].optimizer.lr == 0.2 and runs["b"].optimizer.lr == 0.1
    assert runs["a"].training.epochs == runs["b"].training.epochs == 7


def test_a_hyperparameter_the_optimizer_does_not_use_is_an_error_not_silently_ignored():
    mixed = ExperimentConfig.model_validate(
        {
            "runs": [
                {"name": "sgd", "set": {"optimizer.name": "sgd"}},
                {"name": "nag", "set": {"optimizer.name": "nesterov"}},
            ]
        }
    )
    assert dict(mixed.resolved_runs({"optimizer.momentum": 0.95}))["nag"].optimizer.momentum == 0.95
    with pytest.raises(
        ConfigError, match=r"--set: optimizer.weight_decay is not used by sgd.*: adamw"
    ):
        mixed.resolved_runs({"optimizer.weight_decay": 0.01})  # no run of the comparison reads it
    adam_only = ExperimentConfig.model_validate(
        {"base": {"optimizer": {"name": "adam", "momentum": 0.9}}}
    )
    with pytest.raises(
        ConfigError, match=r"\[base.optimizer\]: optimizer.momentum is not used by adam"
    ):
        adam_only.resolved_runs()
    own = ExperimentConfig.model_validate(
        {"runs": [{"name": "a", "set": {"optimizer.name": "adam", "optimizer.rho": 0.9}}]}
    )
    with pytest.raises(ConfigError, match="run 'a': optimizer.rho is not used by adam"):
        own.resolved_runs()


def test_workers_is_set_for_the_whole_comparison_not_per_run():
    with pytest.raises(ValueError, match="applies to the whole comparison"):
        ExperimentConfig.model_validate({"runs": [{"name": "a", "set": {"training.workers": 2}}]})


def test_duplicate_run_names_are_rejected():
    with pytest.raises(ValueError, match="repeated: a"):
        ExperimentConfig.model_validate({"runs": [{"name": "a"}, {"name": "a"}]})


def test_every_shipped_preset_validates_and_resolves():
    presets = list_presets()
    assert {"adam_vs_sgd", "baseline_cnn"} <= {p.name for p in presets}
    for p in presets:
        assert p.description, p.name
        cfg = load_preset(p.name)
        assert cfg.resolved_runs()


def test_unknown_preset_suggests_close_names():
    with pytest.raises(ConfigError, match="adam_vs_sgd"):
        load_preset("adam_vs_sdg")


def test_malformed_toml_reports_line_and_column(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\n[base.training\nepochs = 2\n')
    with pytest.raises(ConfigError, match=r"line 2"):
        load_preset(str(bad))


def test_unknown_preset_field_is_an_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[base.training]\nepochs = 2\nlearning_rate = 0.1\n")
    with pytest.raises(ConfigError, match="base.training.learning_rate"):
        load_preset(str(bad))


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("schedule.warmup_epochs", math.inf, "finite"),
        ("schedule.decay", math.inf, "finite"),
        ("schedule.eta_min", math.nan, "finite"),
        ("schedule.max_lr", math.inf, "finite"),
        ("schedule.t_mult", math.inf, "finite"),
        ("training.l1", math.inf, "finite"),
        ("training.l2", math.inf, "finite"),
        ("training.diverge_loss", math.inf, "finite"),
        ("optimizer.lr", math.nan, "finite"),
        ("schedule.step_size", 1e-320, "greater than or equal to"),
        ("schedule.cycle_epochs", 1e-320, "greater than or equal to"),
        ("schedule.t_0", 1e-320, "greater than or equal to"),
        ("schedule.t_mult", 1e300, "less than or equal to"),
        ("schedule.d", 1e300, "less than or equal to"),
        ("training.batch_size", True, "valid integer"),
        ("training.epochs", 2.0, "valid integer"),
        ("optimizer.lr", True, "valid number"),
        ("model.filters", [True, 8], "valid integer"),
    ],
)
def test_values_that_would_fail_the_run_are_refused_at_validation(key, value, needle):
    with pytest.raises(ConfigError, match=needle) as err:
        apply_overrides(RunConfig(), {key: value}, where="--set")
    assert key in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("key", ["optimizer", "training", "schedule"])
@pytest.mark.parametrize("value", [{"name": "sgd"}, 5, "x"])
def test_a_whole_section_in_set_is_refused_naming_its_fields(key, value):
    cfg = load_preset("adam_vs_sgd")
    with pytest.raises(ConfigError, match=f"'{key}' is a section.*--set {key}\\."):
        cfg.resolved_runs({key: value})


def test_deeply_nested_set_values_are_one_short_paragraph():
    with pytest.raises(ConfigError, match="nested too deeply") as err:
        parse_value("[" * 5000 + "]" * 5000)
    assert len(str(err.value)) < 300
    with pytest.raises(ConfigError) as err:
        apply_overrides(RunConfig(), {"model.filters": "[" * 3000}, where="--set")
    assert len(str(err.value)) < 300  # the refused value is quoted back cut short
