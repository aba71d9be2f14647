"""K runs of one architecture (a comparison or a search): which way of advancing them is fastest?

Each option trains the same K runs (baseline CNN, batch 64, Adam with K different learning
rates, one seed) for ``STEPS`` optimizer steps each, and is timed from "runs configured" to
"all done" (dataset load excluded, except for processes, which must each load it):

- sequential: one run after the other (the reference: 1.00×)
- lockstep:   round-robin in one thread, ``log_every`` steps at a time (``training.workers=1``)
- threads:    one worker thread per core, 1 torch thread each, taking the next waiting run from
              a shared queue (a comparison's default on CPU)
- processes:  one spawned worker process per core, 1 torch thread each
- batched:    the K models stacked (``torch.func.stack_module_state``) and trained as one with
              ``vmap``; per-run learning rates are a tensor in a stacked Adam update

Run alone: ``python bench/many_runs.py`` (K = 4 and 16).
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from common import machine, ratio_row, run_config
from torch.func import functional_call, stack_module_state, vmap

from tui_lab.config import RunConfig
from tui_lab.data.tensors import load_dataset
from tui_lab.models.build import build_model
from tui_lab.training.autotune import choose_numerics
from tui_lab.training.comparison import advance_in_workers
from tui_lab.training.run import Run

STEPS = 24
SLICE = 8  # steps per lockstep turn (a run's log_every)


def configs(k: int, extra: dict | None = None) -> list[RunConfig]:
    """K runs that differ only in learning rate, as a comparison or a search would make them."""
    return [
        run_config(
            {"optimizer.lr": 1e-3 * (1 + i / k), "training.log_every": SLICE, **(extra or {})}
        )
        for i in range(k)
    ]


def _new_runs(cfgs: list[RunConfig]) -> list[Run]:
    runs = [Run(f"r{i}", cfg, i, lambda event: None) for i, cfg in enumerate(cfgs)]
    for run in runs:
        run.setup()
    return runs


def _train(runs: list[Run], steps: int, workers: int = 1, threads: int | None = None) -> None:
    """The engine's own scheduler (``training.comparison.advance_in_workers``), ``SLICE``
    steps a turn."""

    def advance(run: Run) -> bool:
        run.advance(min(SLICE, steps - run.step))
        return run.step < steps

    advance_in_workers(runs, workers, threads or torch.get_num_threads(), advance)


def sequential(cfgs: list[RunConfig], steps: int) -> list[Run]:
    runs = _new_runs(cfgs)
    for run in runs:
        _train([run], steps)
    return runs


def lockstep(cfgs: list[RunConfig], steps: int) -> list[Run]:
    runs = _new_runs(cfgs)
    _train(runs, steps)
    return runs


def threads(cfgs: list[RunConfig], steps: int) -> list[Run]:
    """What a comparison does by default on CPU: one worker thread per core."""
    workers = min(len(cfgs), torch.get_num_threads())
    runs = _new_runs(cfgs)
    _train(runs, steps, workers, max(1, torch.get_num_threads() // workers))
    return runs


def _process_share(cfgs_json: list[dict], steps: int, torch_threads: int) -> int:
    torch.set_num_threads(torch_threads)
    runs = _new_runs([RunConfig.model_validate(c) for c in cfgs_json])
    _train(runs, steps)
    return sum(run.step for run in runs)


def processes(cfgs: list[RunConfig], steps: int) -> None:
    workers = min(len(cfgs), os.cpu_count() or 1)
    per_worker = max(1, torch.get_num_threads() // workers)
    shares = [[c.model_dump(mode="json") for c in cfgs[w::workers]] for w in range(workers)]
    ctx = multiprocessing.get_context("spawn")  # fork from a threaded process misbehaves
    with ctx.Pool(workers) as pool:
        pool.starmap(_process_share, [(share, steps, per_worker) for share in shares])


class BatchedAdamRuns:
    """K copies of one architecture trained as one vmapped model with a stacked Adam update.

    Every run sees the same batches (one seed, as in a comparison of hyperparameters), so the
    first convolution runs once over K·C filters and the rest as grouped convolutions. The
    update is Adam written out (lecture: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
    θ ← θ − η·m̂/(√v̂ + ε)) with η, β1, β2 as (K, 1, ...) tensors, so each run keeps its own
    hyperparameters.
    """

    def __init__(self, cfgs: list[RunConfig]):
        cfg = cfgs[0]
        self.device = torch.device("cpu")
        self.data = load_dataset(cfg.data, self.device)
        self.numerics = choose_numerics(cfg, self.device, self.data, cfg.training.batch_size)
        self.batch_size = cfg.training.batch_size
        models = []
        for c in cfgs:
            torch.manual_seed(c.training.seed)
            models.append(build_model(c.model, self.data.shape, self.data.num_classes))
        self.base = copy.deepcopy(models[0]).to("meta")
        params, _ = stack_module_state(models)
        self.params = {name: p.detach().requires_grad_() for name, p in params.items()}
        hps = [c.optimizer.hyperparameters() for c in cfgs]

        def column(key: str) -> torch.Tensor:
            return torch.tensor([hp[key] for hp in hps])

        self.lr, self.beta1, self.beta2 = column("lr"), column("beta1"), column("beta2")
        self.eps = hps[0]["eps"]
        self.m = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.v = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.t = 0
        self.gen = torch.Generator().manual_seed(cfg.training.seed + 1)
        self.scale = 1.0 / (255.0 * self.data.std)
        self.shift = -self.data.mean / self.data.std
        self.losses: list[torch.Tensor] = []

        def loss_of_one(
            params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
        ) -> torch.Tensor:
            return F.cross_entropy(functional_call(self.base, params, (x,)), y)

        self._losses = vmap(loss_of_one, in_dims=(0, None, None), randomness="different")

    def _broadcast(self, column: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return column.reshape((-1,) + (1,) * (like.dim() - 1))

    def train(self, steps: int) -> None:
        perm = torch.randperm(len(self.data.train), generator=self.gen)
        dtype = self.numerics.autocast_dtype
        for i in range(steps):
            idx = perm[i * self.batch_size : (i + 1) * self.batch_size]
            x = torch.addcmul(self.shift, self.data.train.x[idx], self.scale)
            if self.numerics.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
                losses = self._losses(self.params, x, self.data.train.y[idx])
            grads = torch.autograd.grad(losses.sum(), list(self.params.values()))
            self.losses.append(losses.detach().float())
            self._adam_step(grads)

    @torch.no_grad()
    def _adam_step(self, grads: tuple[torch.Tensor, ...]) -> None:
        self.t += 1
        for (name, p), g in zip(self.params.items(), grads, strict=True):
            b1, b2 = self._broadcast(self.beta1, p), self._broadcast(self.beta2, p)
            m, v = self.m[name], self.v[name]
            m.mul_(b1).add_((1 - b1) * g)
            v.mul_(b2).add_((1 - b2) * g * g)
            step = self._broadcast(self.lr, p) / (1 - b1**self.t)
            denom = (v.sqrt() / (1 - b2**self.t).sqrt()).add_(self.eps)
            p.sub_(step * m / denom)


def batched(cfgs: list[RunConfig], steps: int) -> BatchedAdamRuns:
    runs = BatchedAdamRuns(cfgs)
    runs.train(steps)
    return runs


OPTIONS: dict[str, Callable[[list[RunConfig], int], object]] = {
    "sequential": sequential,
    "lockstep": lockstep,
    "threads": threads,
    "processes": processes,
    "batched": batched,
}


def throughput(k: int, reps: int = 3) -> dict[str, float]:
    """Median samples/s of each option for K runs, repetitions interleaved across options."""
    cfgs = configs(k)
    load_dataset(cfgs[0].data, torch.device("cpu"))
    samples = k * STEPS * cfgs[0].training.batch_size
    times: dict[str, list[float]] = {name: [] for name in OPTIONS}
    for _ in range(reps):
        for name, option in OPTIONS.items():
            t0 = time.perf_counter()
            option(cfgs, STEPS)
            times[name].append(time.perf_counter() - t0)
    return {name: samples / sorted(t)[len(t) // 2] for name, t in times.items()}


def rows(ks: tuple[int, ...] = (4, 16)) -> list[tuple[str, str, str, str]]:
    out = []
    for k in ks:
        rates = throughput(k)
        for name, rate in rates.items():
            if name != "sequential":
                detail = f"{rate:.0f} vs {rates['sequential']:.0f} samples/s, {STEPS} steps per run"
                out.append(
                    ratio_row(
                        f"K={k}: {name} / sequential", rate / rates["sequential"], None, detail
                    )
                )
    return out


if __name__ == "__main__":
    print(machine())
    for row in rows():
        print(" | ".join(row))
