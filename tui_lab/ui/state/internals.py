"""What the Internals tab draws of one run: the looks inside its optimizer (``InternalsLogged``,
every ``training.internals_every`` steps) and its sharpness against 2/η (``SharpnessLogged``,
every ``training.sharpness_every`` steps), as curves over steps, the latest values per layer,
and what to do when there are none. No Textual here: display transforms only.

A curve whose values span two decades or more is drawn as log10 on a linear axis (plotext 5's
log axes crash on the second render), and the chart's title says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tui_lab.events import InternalsLogged
from tui_lab.ui.state.comparison import RunHistory, downsample

Role = Literal["main", "spread", "limit"]  # the run's colour, dimmed, the stability line
ALL_LAYERS = "all"
LOG_SPAN = 100.0  # max/min from which a chart draws log10


@dataclass(frozen=True)
class Curve:
    label: str
    xs: list[float]
    ys: list[float]
    role: Role = "main"


@dataclass(frozen=True)
class Panel:
    """One chart: its title and its curves (log10 already applied where the title says so)."""

    key: str
    title: str
    curves: tuple[Curve, ...]


def _curve(
    label: str, pairs: list[tuple[float, float | None]], max_points: int, role: Role = "main"
) -> Curve:
    kept = [(x, y) for x, y in pairs if y is not None and math.isfinite(y)]
    xs, ys = downsample([x for x, _ in kept], [y for _, y in kept], max_points)
    return Curve(label, xs, ys, role)


def log_scaled(key: str, title: str, curves: list[Curve]) -> Panel:
    """The panel, in log10 when its positive values span ``LOG_SPAN`` or more."""
    values = [y for c in curves for y in c.ys]
    if values and min(values) > 0 and max(values) / min(values) >= LOG_SPAN:
        curves = [Curve(c.label, c.xs, [math.log10(y) for y in c.ys], c.role) for c in curves]
        title += " (log10)"
    return Panel(key, title, tuple(curves))


def layer_names(run: RunHistory) -> list[str]:
    """The layers the run's latest look measured, the whole model first."""
    last = run.internals[-1] if run.internals else None
    return [ALL_LAYERS, *(layer.layer for layer in last.layers)] if last else []


def panels(run: RunHistory, layer: str | None, max_points: int) -> list[Panel]:
    """The Internals tab's charts of one run; ``layer`` is the one whose effective step is
    drawn (default: the first). Momentum and bias corrections only where the rule has them."""
    looks = run.internals
    steps = [float(e.step) for e in looks]
    shown = [name for name in layer_names(run) if name != ALL_LAYERS]
    layer = layer if layer in shown else (shown[0] if shown else None)
    per_layer = [next((x for x in e.layers if x.layer == layer), None) for e in looks]

    def of(value: Callable[[InternalsLogged], float | None]) -> list[tuple[float, float | None]]:
        return list(zip(steps, (value(e) for e in looks), strict=True))

    def eff(name: str) -> list[tuple[float, float | None]]:
        return [(s, getattr(x, name) if x else None) for s, x in zip(steps, per_layer, strict=True)]

    sharp = [float(e.step) for e in run.sharpness]
    out = [
        log_scaled(
            "grad", "Gradient norm ‖g‖", [_curve("‖g‖", of(lambda e: e.grad_norm), max_points)]
        ),
        log_scaled(
            "ratio",
            "Update / weight ‖Δθ‖/‖θ‖, all layers",
            [_curve("‖Δθ‖/‖θ‖", of(lambda e: e.update_ratio), max_points)],
        ),
        log_scaled(
            "eff",
            f"|Δθ|/|g| · {layer or '—'} · median, p10–p90",
            [
                _curve("p10", eff("eff_lr_p10"), max_points, "spread"),
                _curve("p90", eff("eff_lr_p90"), max_points, "spread"),
                _curve("median", eff("eff_lr_median"), max_points),
            ],
        ),
        log_scaled(
            "sharpness",
            "Sharpness λmax vs 2/η (grey)",
            [
                _curve(
                    "2/η",
                    list(zip(sharp, (e.two_over_lr for e in run.sharpness), strict=True)),
                    max_points,
                    "limit",
                ),
                _curve(
                    "λmax",
                    list(zip(sharp, (e.sharpness for e in run.sharpness), strict=True)),
                    max_points,
                ),
            ],
        ),
    ]
    if any(e.momentum_norm is not None for e in looks):
        momentum = _curve("‖m‖", of(lambda e: e.momentum_norm), max_points)
        out.append(log_scaled("momentum", "Momentum buffer ‖m‖", [momentum]))
    if any(e.bias_correction1 is not None for e in looks):
        out.append(
            log_scaled(
                "bias",
                "Adam 1/(1−β1ᵗ), 1/(1−β2ᵗ) dim",
                [
                    _curve("1/(1−β2ᵗ)", of(lambda e: e.bias_correction2), max_points, "spread"),
                    _curve("1/(1−β1ᵗ)", of(lambda e: e.bias_correction1), max_points),
                ],
            )
        )
    return out


def layer_rows(run: RunHistory) -> list[tuple[str, ...]]:
    """The latest look, a row per layer (the whole model first): ‖g‖, ‖Δθ‖/‖θ‖ and the
    effective step's median and p10–p90."""
    if not run.internals:
        return []
    last = run.internals[-1]
    rows = [(ALL_LAYERS, f"{last.grad_norm:.3g}", f"{last.update_ratio:.3g}", "—", "—")]
    for x in last.layers:
        median, spread = f"{x.eff_lr_median:.3g}", f"{x.eff_lr_p10:.3g} – {x.eff_lr_p90:.3g}"
        rows.append((x.layer, f"{x.grad_norm:.3g}", f"{x.update_ratio:.3g}", median, spread))
    return rows


def _every(run: RunHistory, option: str) -> int | None:
    return run.started.config.get("training", {}).get(option) if run.started else None


def summary(run: RunHistory) -> str:
    """One line of the run's latest numbers, or what to do when it has logged none."""
    if run.started is None:
        return f"{run.name} has not started yet."
    internals_every, sharpness_every = (
        _every(run, "internals_every"),
        _every(run, "sharpness_every"),
    )
    parts = [run.name]
    if run.internals:
        last = run.internals[-1]
        parts.append(f"step {last.step}: ‖g‖ {last.grad_norm:.3g}")
        parts.append(f"‖Δθ‖/‖θ‖ {last.update_ratio:.3g}")
        if last.momentum_norm is not None:
            parts.append(f"‖m‖ {last.momentum_norm:.3g}")
        if last.bias_correction1 is not None and last.bias_correction2 is not None:
            parts.append(
                f"1/(1−β1ᵗ) {last.bias_correction1:.3f}, 1/(1−β2ᵗ) {last.bias_correction2:.3f}"
            )
    elif internals_every == 0:
        parts.append("internals switched off by training.internals_every = 0")
    else:
        parts.append(
            f"internals are measured every training.internals_every = {internals_every} steps; "
            "this run has not logged any yet"
        )
    if run.sharpness:
        last_sharp = run.sharpness[-1]
        side = "above" if last_sharp.sharpness > last_sharp.two_over_lr else "below"
        parts.append(
            f"sharpness {last_sharp.sharpness:.4g} at step {last_sharp.step}, {side} "
            f"2/η = {last_sharp.two_over_lr:.4g}"
        )
    elif sharpness_every == 0:
        parts.append("sharpness switched off by training.sharpness_every = 0")
    else:
        parts.append(
            f"sharpness is estimated every training.sharpness_every = {sharpness_every} steps; "
            "none yet"
        )
    return " · ".join(parts)
