"""Training throughput (samples/s) of the engine against B1 and B2, and of each precision choice.

Run alone: ``python bench/throughput.py``.
"""

from __future__ import annotations

from baselines import HandTunedLoop, TextbookLoop, fashion_data
from common import EngineLoop, interleaved, machine, ratio_row, run_config

STEPS = 60
REPS = 5


def engine_vs_hand_tuned() -> list[tuple[str, str, str, str]]:
    """Engine (headless) vs B2 at the default preset settings: the engine's own overhead."""
    cfg = run_config({})
    rates = interleaved(
        {"engine": EngineLoop(cfg), "B2": HandTunedLoop(cfg, fashion_data(cfg))}, STEPS, REPS
    )
    detail = (
        f"engine {rates['engine']:.0f} vs B2 {rates['B2']:.0f} samples/s (baseline_cnn, batch 64)"
    )
    return [ratio_row("engine / B2 (hand-tuned)", rates["engine"] / rates["B2"], 0.97, detail)]


def fused_adam_effect() -> list[tuple[str, str, str, str]]:
    """B2 with torch.optim.Adam(fused=True) vs the same loop with torch's default Adam."""
    cfg = run_config({})
    data = fashion_data(cfg)
    loops = {"fused": HandTunedLoop(cfg, data), "default": HandTunedLoop(cfg, data, fused=False)}
    rates = interleaved(loops, STEPS, REPS)
    detail = (
        f"{rates['fused']:.0f} vs {rates['default']:.0f} samples/s (B2, baseline_cnn, batch 64)"
    )
    return [ratio_row("Adam fused=True / default", rates["fused"] / rates["default"], None, detail)]


TEXTBOOK_MODELS = {
    "baseline_cnn": {},
    "fast_fashion net": {"model.filters": [16, 32], "model.hidden": 128, "model.dropout": 0.0},
}


def engine_vs_textbook() -> list[tuple[str, str, str, str]]:
    """Engine default vs B1 at batch 64 on Fashion-MNIST: what a student's own loop would do."""
    rows = []
    for model, model_set in TEXTBOOK_MODELS.items():
        cfg = run_config(model_set)
        loops = {"engine": EngineLoop(cfg), "B1": TextbookLoop(cfg, fashion_data(cfg))}
        rates = interleaved(loops, STEPS, REPS)
        detail = (
            f"engine {rates['engine']:.0f} vs B1 {rates['B1']:.0f} samples/s ({model}, batch 64)"
        )
        rows.append(
            ratio_row(
                f"engine default / B1 (textbook), {model}",
                rates["engine"] / rates["B1"],
                3.0,
                detail,
            )
        )
    return rows


PRECISIONS = {
    "fp32": {"training.precision": "fp32", "training.channels_last": False},
    "fp32 channels_last": {"training.precision": "fp32", "training.channels_last": True},
    "bf16": {"training.precision": "bf16", "training.channels_last": False},
    "bf16 channels_last": {"training.precision": "bf16", "training.channels_last": True},
}

MODELS = {
    "baseline_cnn b64": {},
    "fast_fashion net b256": {**TEXTBOOK_MODELS["fast_fashion net"], "training.batch_size": 256},
    "mlp b64": {"model.arch": "mlp", "model.hidden": 256},
}


def precision_table() -> list[tuple[str, str, str, str]]:
    """Each precision / layout option vs fp32 NCHW, per model: the data behind the default."""
    rows = []
    for model, model_set in MODELS.items():
        options = (
            PRECISIONS
            if model_set.get("model.arch") != "mlp"
            else {k: v for k, v in PRECISIONS.items() if "channels" not in k}
        )
        loops = {
            name: EngineLoop(run_config({**model_set, **option}))
            for name, option in options.items()
        }
        loops["auto"] = EngineLoop(run_config(model_set))  # the choice measured at setup
        steps = STEPS if "b256" not in model else STEPS // 3
        rates = interleaved(loops, steps, REPS)
        best = max((n for n in rates if n != "auto"), key=lambda n: rates[n])
        chosen = loops["auto"].chosen()
        detail = f"auto took {chosen}: {rates['auto']:.0f} vs {best} {rates[best]:.0f} samples/s"
        rows.append(
            ratio_row(f"{model}: auto / fastest", rates["auto"] / rates[best], 0.95, detail)
        )
        for name, rate in rates.items():
            if name not in ("fp32", "auto"):
                detail = f"{rate:.0f} vs {rates['fp32']:.0f} samples/s"
                rows.append(
                    ratio_row(f"{model}: {name} / fp32", rate / rates["fp32"], None, detail)
                )
    return rows


def main() -> None:
    print(machine())
    for row in (
        engine_vs_hand_tuned() + fused_adam_effect() + engine_vs_textbook() + precision_table()
    ):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
