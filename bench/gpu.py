"""The GPU figures (where CUDA exists): ms per step of the engine against plain loops at batch
64/256/1024, K runs on one GPU against one after the other, fast_fashion's seconds to 90%, and
the numerics the auto choice took against the fastest candidate.

- engine: a ``Run`` (its step replayed as a CUDA graph after the warm-up, on its own stream);
- B1: the textbook loop (torchvision dataset, ToTensor + Normalize, DataLoader, ``.to(cuda)``);
- B1w: the same with ``DataLoader(num_workers=4, pin_memory=True)``;
- B3: the whole step (gather + normalize, forward, backward, fused Adam with a tensor lr)
  captured once in a CUDA graph and replayed, the images resident as uint8 — the most the
  card does with this work.

Run: ``python bench/gpu.py`` (bench/gpu_check.sh runs it with the test suite).
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F
from baselines import TextbookLoop, engine_model
from common import machine, ratio_row, run_config

from tui_lab.config import ExperimentConfig, RunConfig
from tui_lab.data.tensors import DatasetTensors, load_dataset, normalize
from tui_lab.presets import load_preset
from tui_lab.training.autotune import ms_per_step
from tui_lab.training.comparison import Comparison
from tui_lab.training.numerics import candidates
from tui_lab.training.run import Run

CUDA = torch.device("cuda")
STEPS = 100
REPS = 5
BATCHES = (64, 256, 1024)


def synced(fn) -> float:
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t0


class Engine:
    def __init__(self, cfg: RunConfig):
        self.run = Run("bench", cfg, 0, lambda event: None)
        self.run.setup()
        self.run.advance(10)  # warm-up and capture

    def ms(self) -> float:
        return 1000 * synced(lambda: self.run.advance(STEPS)) / STEPS


class Textbook:
    def __init__(self, cfg: RunConfig, data: DatasetTensors, workers: int):
        self.loop = TextbookLoop(cfg, data)
        self.loop.model.to(CUDA)
        self.loop.optimizer = torch.optim.Adam(self.loop.model.parameters(), lr=1e-3)
        self.loop.loader = torch.utils.data.DataLoader(
            self.loop.loader.dataset,
            batch_size=cfg.training.batch_size,
            shuffle=True,
            num_workers=workers,
            pin_memory=workers > 0,
            persistent_workers=workers > 0,
        )
        self.batches = iter(self.loop.loader)

    def _steps(self, n: int) -> None:
        for _ in range(n):
            batch = next(self.batches, None)
            if batch is None:
                self.batches = iter(self.loop.loader)
                batch = next(self.batches)
            x, y = (t.to(CUDA, non_blocking=True) for t in batch)
            self.loop.optimizer.zero_grad()
            F.cross_entropy(self.loop.model(x), y).backward()
            self.loop.optimizer.step()

    def ms(self) -> float:
        return 1000 * synced(lambda: self._steps(STEPS)) / STEPS


class GraphedBaseline:
    """B3: the whole step captured once and replayed (torch's CUDA graph recipe)."""

    def __init__(self, cfg: RunConfig, data: DatasetTensors):
        self.data = data
        self.model = engine_model(cfg, data).to(CUDA, memory_format=torch.channels_last)
        lr = torch.tensor(1e-3, device=CUDA)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr, fused=True, capturable=True)
        self.idx = torch.randint(0, len(data.train), (cfg.training.batch_size,), device=CUDA)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self._step()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            self._step()

    def _step(self) -> None:
        x = normalize(self.data.train.x[self.idx], self.data, channels_last=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            loss = F.cross_entropy(self.model(x), self.data.train.y[self.idx])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def ms(self) -> float:
        def steps() -> None:
            for _ in range(STEPS):
                self.idx.random_(0, len(self.data.train))
                self.graph.replay()

        return 1000 * synced(steps) / STEPS


def step_times() -> list[tuple[str, str, str, str]]:
    rows = []
    for batch in BATCHES:
        cfg = run_config({"training.device": "cuda", "training.batch_size": batch})
        data = load_dataset(cfg.data, CUDA)
        cpu_data = load_dataset(cfg.data, torch.device("cpu"))
        loops = {
            "engine": Engine(cfg),
            "B1": Textbook(cfg, cpu_data, 0),
            "B1w": Textbook(cfg, cpu_data, 4),
            "B3": GraphedBaseline(cfg, data),
        }
        times: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(REPS):
            for name, loop in loops.items():
                times[name].append(loop.ms())
        ms = {name: statistics.median(t) for name, t in times.items()}
        detail = ", ".join(f"{name} {value:.2f} ms/step" for name, value in ms.items())
        floor = 0.8 if batch == 64 else None
        rows.append(
            ratio_row(f"GPU b{batch}: engine / B3 (speed)", ms["B3"] / ms["engine"], floor, detail)
        )
        rows.append(ratio_row(f"GPU b{batch}: engine / B1", ms["B1"] / ms["engine"], None, detail))
        rows.append(
            ratio_row(f"GPU b{batch}: engine / B1w", ms["B1w"] / ms["engine"], None, detail)
        )
    return rows


def many_runs(k: int = 4) -> list[tuple[str, str, str, str]]:
    """K runs as one comparison on one GPU against the same K runs one after the other."""
    runs = [{"name": f"r{i}", "set": {"optimizer.lr": 1e-3 * (1 + i / k)}} for i in range(k)]
    overrides = {"training.device": "cuda:0", "training.max_steps": 400, "data.val_fraction": 0.0}
    cfg = ExperimentConfig.model_validate({"name": "k", "runs": runs})
    Comparison(cfg, {**overrides, "training.max_steps": 20}).run()  # warm-up
    together = synced(lambda: Comparison(cfg, overrides).run())
    one = [ExperimentConfig.model_validate({"name": "k", "runs": [r]}) for r in runs]
    apart = synced(lambda: [Comparison(c, {**overrides, "training.workers": 1}).run() for c in one])
    detail = f"{k} runs of 400 steps: together {together:.1f} s, one after the other {apart:.1f} s"
    return [
        ratio_row(f"GPU: {k} runs together / one after the other", apart / together, 3.0, detail)
    ]


def fast_fashion() -> list[tuple[str, str, str, str]]:
    (result,) = Comparison(load_preset("fast_fashion"), {"training.device": "cuda"}).run()
    ok = result.test_acc is not None and result.test_acc >= 0.90 and result.seconds <= 1.0
    detail = f"test acc {result.test_acc} after {result.epochs} epoch(s)"
    verdict = "≤1 s to 90% ok" if ok else "≤1 s to 90% MISSED"
    return [("GPU fast_fashion: training seconds", f"{result.seconds:.2f} s", verdict, detail)]


def auto_numerics() -> list[tuple[str, str, str, str]]:
    cfg = run_config({"training.device": "cuda"})
    data = load_dataset(cfg.data, CUDA)
    ms = {c.label: ms_per_step(cfg, CUDA, data, 64, c, None) for c in candidates(cfg, CUDA)}
    run = Run("auto", cfg, 0, lambda event: None)
    run.setup()
    assert run.parts is not None
    chosen = run.parts.numerics.label
    best = min(ms, key=lambda label: ms[label])
    detail = f"auto took {chosen}; " + ", ".join(f"{k} {v:.2f} ms" for k, v in ms.items())
    return [ratio_row("GPU: auto numerics / fastest", ms[best] / ms[chosen], 0.95, detail)]


def main() -> None:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure here")
        return
    print(machine(), "|", torch.cuda.get_device_name(0), f"x{torch.cuda.device_count()}")
    for section in (step_times, many_runs, fast_fashion, auto_numerics):
        try:
            rows = section()
        except Exception as exc:  # noqa: BLE001 - report the failure, measure the rest
            rows = [(section.__name__, "FAILED", "", f"{type(exc).__name__}: {exc}")]
        for row in rows:
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
