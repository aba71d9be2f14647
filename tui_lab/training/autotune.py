"""Choosing a run's numerics by measurement: a few optimizer steps of the run's own model, batch
size and optimizer in each candidate precision and layout (training/numerics.py), on the
device and with the torch thread count the run will train with. The fastest is kept per
machine, device, model and batch in the user cache, so it is measured once."""

from __future__ import annotations

import contextlib
import time

import torch
import torch.nn.functional as F

from tui_lab.config import RunConfig
from tui_lab.data.tensors import DatasetTensors, normalize
from tui_lab.models.build import build_seeded, use_generator
from tui_lab.optim.build import build_optimizer
from tui_lab.results.manifest import now
from tui_lab.training.lean import plain_step
from tui_lab.training.numerics import (
    Numerics,
    cached_choice,
    candidates,
    machine_key,
    remember_choice,
    workload_key,
)

TIMED_STEPS = 5
SECONDS_PER_CANDIDATE = 0.6  # a slow candidate stops being timed after this
GIVE_UP_FACTOR = 1.5  # ... or once its first step is this much slower than the best so far


def choose_numerics(
    cfg: RunConfig, device: torch.device, data: DatasetTensors, batch_size: int
) -> Numerics:
    options = candidates(cfg, device)
    if len(options) == 1:
        return options[0].because("as set (training.precision, training.channels_last)")
    by_label = {o.label: o for o in options}
    machine = machine_key(device)
    workload = workload_key(cfg, device, data.shape, batch_size)
    cached = cached_choice(machine, workload)
    if cached is not None and cached.get("choice") in by_label:
        why = f"fastest here, measured {cached.get('measured', 'earlier')}: {_timings(cached)}"
        return by_label[cached["choice"]].because(why)
    timings: dict[str, float] = {}
    for option in options:
        best = min(timings.values(), default=None)
        timings[option.label] = ms_per_step(cfg, device, data, batch_size, option, best)
    choice = min(timings, key=lambda label: timings[label])
    entry = {"choice": choice, "ms_per_step": timings, "measured": now()}
    remember_choice(machine, workload, entry)
    return by_label[choice].because(f"fastest measured here: {_timings(entry)}")


def _timings(entry: dict) -> str:
    ms = entry.get("ms_per_step", {})
    return ", ".join(
        f"{label} {value:.1f} ms/step" for label, value in sorted(ms.items(), key=lambda kv: kv[1])
    )


def ms_per_step(
    cfg: RunConfig,
    device: torch.device,
    data: DatasetTensors,
    batch_size: int,
    numerics: Numerics,
    best: float | None,
) -> float:
    """Milliseconds per optimizer step, the median of a few after a warm-up step."""
    model = build_seeded(cfg.model, data.shape, data.num_classes, cfg.training.seed)
    if numerics.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model = model.to(device).train()
    use_generator(model, torch.Generator(device).manual_seed(0))  # never the global RNG
    hp = cfg.optimizer.hyperparameters()
    optimizer = build_optimizer(cfg.optimizer.name, model.parameters(), hp, cfg.optimizer.impl)
    optimizer_step = plain_step(optimizer)
    scaler = torch.amp.GradScaler(device.type) if numerics.scaled else None
    index = torch.arange(batch_size) % len(data.train)
    x = normalize(data.train.x[index.to(device)], data, numerics.channels_last)
    y = data.train.y[index.to(device)]
    dtype = numerics.autocast_dtype
    autocast = (
        (lambda: torch.autocast(device.type, dtype=dtype))
        if dtype is not None
        else contextlib.nullcontext
    )

    def step() -> None:
        with autocast():
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer_step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    step()  # warm-up: kernel selection, allocator, lazy state
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < TIMED_STEPS:
        t0 = time.perf_counter()
        step()
        times.append(1000 * (time.perf_counter() - t0))
        slow = best is not None and times[0] > GIVE_UP_FACTOR * best
        if slow or time.perf_counter() - started > SECONDS_PER_CANDIDATE:
            break
    return sorted(times)[len(times) // 2]
