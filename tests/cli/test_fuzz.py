"""Fuzzing what a user can hand tui-lab: --set pairs, preset files, expectation checks, and
out directories damaged in any way before --resume. Every input ends in a result or in one
paragraph of user error; never a traceback, a hang, or an error marked as tui-lab's bug."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support import TINY_MLP, as_sets, comparison

from tui_lab.cli.args import build_parser, overrides_from_args
from tui_lab.cli.main import main
from tui_lab.config import Expectation
from tui_lab.errors import ConfigError, UserError
from tui_lab.presets import load_preset
from tui_lab.results.checks import check_all, comparison_functions, validate_checks

KEYS = st.sampled_from(
    [
        "optimizer.lr",
        "training.batch_size",
        "model.dropout",
        "data.dataset",
        "training.epochs",
        "model.filters",
        "schedule.name",
        "schedule.step_size",
        "schedule.t_mult",
        "optimizer.name",
        "training.seed",
        "nope",
        "optimizer",
        "training",
        "a.b.c",
        "",
    ]
) | st.text(max_size=20)
TOML_VALUES = st.sampled_from(
    ["inf", "-inf", "nan", "true", "1e-320", "1e308", '{name="sgd"}', "[[1]]", "[" * 3000]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=KEYS, value=st.text(max_size=30) | TOML_VALUES)
def test_fuzz_set_never_tracebacks(key, value):
    cfg = load_preset("adam_vs_sgd")
    try:
        args = build_parser().parse_args(["--set", f"{key}={value}"])
        cfg.resolved_runs(overrides_from_args(args))
    except UserError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=200)
    | st.builds(
        lambda k, v: f"[base.{k}]\nx = {v}\n",
        st.sampled_from(["training", "model", "data", "zzz"]),
        st.text(max_size=10),
    )
)
def test_fuzz_preset_files_never_traceback(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "p.toml"
    path.write_bytes(text.encode("utf-8", "replace"))
    with contextlib.suppress(UserError):
        load_preset(str(path)).resolved_runs()


# ------------------------------------------------------------------------------ checks

RUNS = st.sampled_from(["'adam'", "'sgd'", "'nope'", "''", "1", "'a' * 3"])
ATOMS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["'adam'", "'text'", "1e308", "True", "None", "x", "best_run()"]),
    st.builds("{}({})".format, st.sampled_from(["run", "completed", "max_lr", "abs"]), RUNS),
    st.builds("run({}).{}".format, RUNS, st.sampled_from(["test_acc", "status", "nope", "epochs"])),
    st.builds("epochs_to({}, {})".format, RUNS, st.sampled_from(["0.5", "'x'", "2"])),
    st.builds("lr_at_epoch({}, {})".format, RUNS, st.sampled_from(["1", "-1", "1.5"])),
)
CHECKS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds("({} {} {})".format, inner, st.sampled_from(["+", "-", "*", "/"]), inner),
        st.builds(
            "{} {} {}".format, inner, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), inner
        ),
        st.builds("({} {} {})".format, inner, st.sampled_from(["and", "or"]), inner),
        st.builds("not {}".format, inner),
        st.builds("{}({}, {})".format, st.sampled_from(["min", "max"]), inner, inner),
    ),
    max_leaves=12,
) | st.text(max_size=60)


@pytest.fixture(scope="module")
def recorded():
    """A finished two-run comparison's recorder (adam completed, sgd completed)."""
    comp, recorder = comparison(
        [{"name": "adam"}, {"name": "sgd", "set": {"optimizer.name": "sgd"}}], TINY_MLP
    )
    comp.run()
    return recorder


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(check=CHECKS)
def test_fuzz_checks_are_refused_or_decided_quickly(recorded, check):
    """A check parses or is a ConfigError; one that parses is refused before training (unknown
    function) or evaluates to met, not met or undecided, within moments and without error."""
    try:
        expect = [Expectation(text="fuzz", check=check)]
    except ValidationError:
        return
    functions = comparison_functions(recorded)
    try:
        validate_checks(expect, functions)
    except ConfigError:
        return
    began = time.perf_counter()
    (result,) = check_all(expect, functions, {"synthetic"})
    assert result.label in ("met", "not met", "undecided")
    assert time.perf_counter() - began < 1.0


# ------------------------------------------------------------------------------ --resume

EXPORT = [
    "--preset",
    "adam_vs_sgd",
    "--export",
    "csv",
    "--checkpoint",
    *as_sets({**TINY_MLP, "model.hidden": 16}),
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A finished export whose summary says every run was interrupted, so that a resume
    reads every file: tables, experiment.json and each run's checkpoint."""
    out = tmp_path_factory.mktemp("exported") / "out"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([*EXPORT, "--out", str(out)]) == 0
    summary = out / "summary.csv"
    summary.write_text(summary.read_text().replace(",completed,", ",interrupted,"))
    return out


FILES = st.sampled_from(
    [
        "experiment.json",
        "metrics.csv",
        "steps.csv",
        "summary.csv",
        "checkpoints/adam.pt",
        "checkpoints/sgd_momentum.pt",
    ]
)


def mutate(data: bytes, kind: str, where: float, byte: int) -> bytes | None:
    """One kind of damage at a relative position (None: the file is deleted)."""
    at = int(where * len(data))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ (byte or 1)]) + data[at + 1 :] if data else data
    if kind == "replace":  # one character of a number or name becomes another
        return data[:at] + bytes([byte]) + data[at + 1 :] if data else data
    return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    damage=st.lists(
        st.tuples(
            FILES,
            st.sampled_from(["truncate", "flip", "replace", "delete"]),
            st.floats(0, 0.999),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_fuzz_resume_of_a_damaged_directory(exported, damage):
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(shutil.copytree(exported, Path(scratch) / "out"))
        for name, kind, where, byte in damage:
            path = out / name
            if path.exists():
                damaged = mutate(path.read_bytes(), kind, where, byte)
                path.unlink() if damaged is None else path.write_bytes(damaged)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["--resume", str(out)])
        said = err.getvalue()
        assert code in (0, 1, 2), said
        assert "Traceback" not in said and "This is a bug" not in said, said
        if code == 2:
            assert said.splitlines()[-1].startswith("tui-lab: error:"), said
        else:  # resumed: the files are whole again
            meta = json.loads((out / "experiment.json").read_text())
            assert meta["status"] == "completed"
