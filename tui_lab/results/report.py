"""``report.md``: what was compared, the results, the expectations, and the curves drawn as text
(plotext), so a student can hand in one file. Every kind of job builds its report from the
same pieces (``report_head``, ``markdown_table``, ``expectations_section``, ``chart_block``);
a comparison's (``comparison_report``) is built from the recorder's tables only."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui_lab.config import configuration_of
from tui_lab.results.aggregate import aggregate_rows, difference_lines
from tui_lab.results.checks import ExpectationResult
from tui_lab.results.columns import SUMMARY
from tui_lab.results.recorder import ResultsRecorder

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
MARKERS = ["•", "+", "x", "o", "*", "#", "@", "%", "=", "~", "^", "&"]


@dataclass(frozen=True)
class FigureFile:
    """A figure written beside report.md (results/figures.py): its title, which is also its
    alt text, and its path relative to the out dir (``figures/loss.svg``)."""

    title: str
    path: str


Series = dict[str, tuple[list[Any], list[Any]]]
Ticks = list[tuple[float, str]]


def segments(xs: list[Any], ys: list[Any]) -> list[tuple[list[float], list[float]]]:
    """A series cut where x is None (one series can hold several lines), without the points
    whose y is missing or not finite."""
    out: list[tuple[list[float], list[float]]] = [([], [])]
    for x, y in zip(xs, ys, strict=True):
        if x is None:
            out.append(([], []))
        elif y is not None and math.isfinite(y):
            out[-1][0].append(x)
            out[-1][1].append(y)
    return [seg for seg in out if seg[0]]


def text_chart(
    series: Series,
    title: str,
    xlabel: str,
    ylabel: str,
    width: int = 90,
    height: int = 20,
    xticks: Ticks | None = None,
    points: bool = False,
) -> str:
    """Overlay each named (x, y) series in one plotext chart, as plain text (no colour codes);
    ``points`` draws each point alone (a scatter), else the points joined by lines."""
    import plotext as plt  # here: a headless run that has not finished needs no charts

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    draw = plt.scatter if points else plt.plot
    for i, (name, (xs, ys)) in enumerate(series.items()):
        for j, (seg_x, seg_y) in enumerate(segments(xs, ys)):
            draw(seg_x, seg_y, label=name if j == 0 else None, marker=MARKERS[i % len(MARKERS)])
    if xticks:
        plt.xticks([p for p, _ in xticks], [text for _, text in xticks])
    plt.title(title)
    plt.xlabel(xlabel)
    plt.ylabel(ylabel)
    return "\n".join(line.rstrip() for line in _ANSI.sub("", plt.build()).splitlines())


def downsample(xs: list[float], ys: list[float], n: int = 180) -> tuple[list[float], list[float]]:
    if len(xs) <= n:
        return xs, ys
    step = len(xs) / n
    idx = [int(i * step) for i in range(n)] + [len(xs) - 1]
    return [xs[i] for i in idx], [ys[i] for i in idx]


def log10_or_none(v: float | None) -> float | None:
    """Learning rates are drawn as log10 on a linear axis (plotext 5's log axes crash)."""
    return math.log10(v) if v is not None and v > 0 else None


def _cell(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def markdown_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join(
        "| " + " | ".join(_cell(r.get(c)) for c in columns) + " |\n" for r in rows
    )


def differing_settings(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each run, the dotted settings whose value differs between runs (what was compared)."""

    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    flats = {name: flat(cfg) for name, cfg in runs.items()}
    keys = sorted({k for f in flats.values() for k in f})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flats.values()}) > 1]
    return {name: {k: f.get(k) for k in varying} for name, f in flats.items()}


def report_head(meta: dict[str, Any]) -> list[str]:
    """Title, description, the lecture it reproduces and the command that made it."""
    lines = [f"# {meta['preset']}: report", ""]
    if meta.get("description"):
        lines += [meta["description"], ""]
    where = " · ".join(x for x in (meta.get("lecture"), meta.get("step")) if x)
    if where:
        lines += [f"Reproduces: {where}", ""]
    return [*lines, f"Command: `{' '.join(meta.get('command') or [])}`", ""]


def expectations_section(expectations: list[ExpectationResult]) -> list[str]:
    if not expectations:
        return []
    lines = ["## Expectations", ""]
    for e in expectations:
        numbers = "" if e.detail == e.label else f": {e.detail}"
        why = f"`{e.check}`{numbers}" if e.applies else e.detail  # decided_on, the check as code
        lines.append(f"- **{e.label}** — {e.text} ({why})")
    return [*lines, ""]


def figures_section(figures: Sequence[FigureFile], heading: str = "## Figures") -> list[str]:
    """The figures embedded by relative path, so report.md shows them on GitHub and in editors."""
    if not figures:
        return []
    lines = [heading, ""]
    for figure in figures:
        lines += [f"![{figure.title}]({figure.path})", ""]
    return lines


def chart_block(
    series: Series,
    title: str,
    xlabel: str,
    ylabel: str,
    xticks: Ticks | None = None,
    points: bool = False,
) -> list[str]:
    """A text chart as a fenced block, or nothing when no series has a point."""
    if not any(segments(xs, ys) for xs, ys in series.values()):
        return []
    chart = text_chart(series, title, xlabel, ylabel, xticks=xticks, points=points)
    return ["```text", chart, "```", ""]


def seeds_section(summary: list[dict[str, Any]]) -> list[str]:
    """Each configuration over its seeds (aggregate.csv) and against the best one in words."""
    rows = aggregate_rows(summary)
    if all(row["seeds"] == 1 for row in rows):
        return []
    return [
        "## Over seeds",
        "",
        "Mean over each configuration's seeds, ± the half-width of its 95% confidence "
        "interval (t-based); the differences use Welch's interval.",
        "",
        markdown_table(list(rows[0]), rows),
        *[f"- {line}" for line in difference_lines(summary)],
        "",
    ]


def internals_section(tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Per run, the last look inside its optimizer and its largest sharpness against 2/η (the
    full series: internals.csv, sharpness.csv)."""
    rows = []
    for run in dict.fromkeys(r["run"] for r in tables["internals"] + tables["sharpness"]):
        whole = [r for r in tables["internals"] if r["run"] == run and r["layer"] == "all"]
        sharp = [r for r in tables["sharpness"] if r["run"] == run]
        last = whole[-1] if whole else {}
        top = max(sharp, key=lambda r: r["sharpness"], default=None)
        rows.append(
            {
                "run": run,
                "step": last.get("step"),
                "grad_norm": last.get("grad_norm"),
                "update_ratio": last.get("update_ratio"),
                "momentum_norm": last.get("momentum_norm"),
                "max sharpness (step)": top and f"{top['sharpness']:.4g} ({top['step']})",
                "2/η then": top and f"{top['two_over_lr']:.4g}",
            }
        )
    if not rows:
        return []
    return [
        "## Inside the optimizer",
        "",
        "The last watched step of each run (internals.csv has every layer), and the largest "
        "sharpness (top Hessian eigenvalue) against the stability limit 2/η (sharpness.csv).",
        "",
        markdown_table(list(rows[0]), rows),
    ]


def comparison_report(
    meta: dict[str, Any],
    recorder: ResultsRecorder,
    expectations: list[ExpectationResult],
    figures: Sequence[FigureFile] = (),
) -> str:
    lines = report_head(meta)
    # one row per configuration: its seeds differ in training.seed alone
    configurations = {configuration_of(n): cfg for n, cfg in meta["runs"].items()}
    diff = differing_settings(configurations)
    first = next(iter(meta["runs"].values()))
    t = first["training"]
    seeds = t.get("seeds", 1)
    seed = f"seeds {t['seed']}–{t['seed'] + seeds - 1}" if seeds > 1 else f"seed {t['seed']}"
    setting = (
        f"Dataset `{first['data']['dataset']}`, model `{first['model']['arch']}`, "
        f"{t['epochs']} epoch(s), batch size {t['batch_size']}, {seed}."
    )
    lines += ["## What was compared", "", setting, ""]
    if any(diff.values()):
        cols = ["run", *next(iter(diff.values()))]
        lines.append(markdown_table(cols, [{"run": n, **d} for n, d in diff.items()]))
    lines += ["## Results", "", markdown_table(SUMMARY[:-1], recorder.summary_rows())]
    lines += [
        f"- **{row['run']}** {row['status']}: {row['error']}"
        for row in recorder.summary_rows()
        if row.get("error")
    ] + [""]
    lines += seeds_section(recorder.summary_rows())
    lines += internals_section(recorder.tables())
    lines += expectations_section(expectations)
    lines += figures_section(figures)
    lines += ["## Learning curves (text)", ""]
    names = list(meta["runs"])
    tables = recorder.tables()
    per_epoch = {n: [m for m in tables["metrics"] if m["run"] == n] for n in names}
    per_step = {n: [s for s in tables["steps"] if s["run"] == n] for n in names}
    charts = [
        (
            {
                n: downsample([s["step"] for s in v], [s["loss"] for s in v])
                for n, v in per_step.items()
            },
            "training loss per logged step",
            "step",
            "loss",
        ),
        (
            {n: ([m["epoch"] for m in v], [m["val_acc"] for m in v]) for n, v in per_epoch.items()},
            "validation accuracy per epoch",
            "epoch",
            "accuracy",
        ),
        (
            {
                n: ([m["epoch"] for m in v], [m["val_loss"] for m in v])
                for n, v in per_epoch.items()
            },
            "validation loss per epoch",
            "epoch",
            "loss",
        ),
        (
            {
                n: downsample([s["epoch"] for s in v], [log10_or_none(s["lr"]) for s in v])
                for n, v in per_step.items()
            },
            "learning rate (log10) over epochs",
            "epoch",
            "log10(lr)",
        ),
    ]
    for series, title, xlabel, ylabel in charts:
        lines += chart_block(series, title, xlabel, ylabel)
    return "\n".join(lines)
