"""One training run: a stepper that trains in slices, emits events and obeys stop/pause.

The hot loop never synchronizes with the device per step: losses go into a device buffer that
is read once every ``log_every`` steps, which is also where divergence (NaN, inf, or a loss
above ``training.diverge_loss``) is detected and pinned to the exact step. Each run draws its
batches, augmentation and dropout masks from its own generators, so runs advanced in lockstep
or in parallel threads give the same numbers as runs trained alone.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tui_lab.config import RunConfig
from tui_lab.data.tensors import (
    DatasetTensors,
    Split,
    augment,
    load_dataset,
    normalize,
    shuffled_batches,
)
from tui_lab.events import (
    EpochEnded,
    InternalsLogged,
    Listener,
    RunFinished,
    RunStarted,
    RunStatusChanged,
    Status,
    StepLogged,
)
from tui_lab.models.build import build_seeded, count_parameters, use_generator
from tui_lab.optim.build import build_optimizer
from tui_lab.optim.catalog import OPTIMIZERS
from tui_lab.schedules import Schedule
from tui_lab.training.autotune import choose_numerics
from tui_lab.training.checkpoint import save_checkpoint
from tui_lab.training.graphed import (
    WARMUP_STEPS,
    GraphedStep,
    Step,
    current_lr,
    graph_refusal,
    set_lr,
)
from tui_lab.training.host_memory import keep_freed_memory
from tui_lab.training.internals import SHARPNESS_BATCH, Probe, Sharpness, divergence_reason
from tui_lab.training.lean import keep_dynamo_unloaded, plain_step
from tui_lab.training.numerics import Numerics, resolve_device


def effective_batch_size(cfg: RunConfig, train_size: int) -> int:
    """Batch GD uses the whole training set and pure SGD one example, whatever batch_size says."""
    batch = OPTIMIZERS[cfg.optimizer.name].batch
    if batch == "full":
        return train_size
    if batch == "one":
        return 1
    return min(cfg.training.batch_size, train_size)


@dataclass
class RunParts:
    """What ``Run.setup`` builds: the data on its device, the model and its optimizer."""

    device: torch.device
    data: DatasetTensors
    numerics: Numerics
    batch_size: int
    steps_per_epoch: int
    total_steps: int
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    penalized: list[torch.nn.Parameter]
    shuffle_gen: torch.Generator
    dropout_gen: torch.Generator
    augment: bool
    log_buffer: torch.Tensor  # the logged window's step losses, on the device
    optimizer_step: Callable[[], None]  # optimizer.step without torch.optim's dynamo wrapper
    scaler: torch.amp.GradScaler | None  # fp16: the loss scaled against underflow
    stream: torch.cuda.Stream | None  # CUDA: the run's own stream, so runs overlap on one GPU
    train_step: Step  # batch indices → (loss, correct count), eager or a replayed CUDA graph
    probe: Probe  # what the optimizer did to each layer, on the steps that are watched
    sharpness: Sharpness  # the top Hessian eigenvalue against 2/η


class Run:
    """One training run. Thread-safe controls: ``stop()``, ``pause()``, ``resume()``.

    ``test_at_end=False`` never looks at the test set (a search's trials)."""

    def __init__(
        self,
        name: str,
        cfg: RunConfig,
        index: int,
        emit: Listener,
        checkpoint_dir: Path | None = None,
        test_at_end: bool = True,
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.index = index
        self.emit = emit
        self.checkpoint_dir = checkpoint_dir if cfg.training.checkpoint else None
        self.test_at_end = test_at_end
        self.status: Status = "pending"
        self.result: RunFinished | None = None
        self.parts: RunParts | None = None
        self._stop = threading.Event()
        self._stop_status: Status = "stopped"
        self._paused = threading.Event()
        # progress, kept in a checkpoint
        self.step = 0
        self.epoch = 0  # completed epochs
        self.seconds = 0.0
        self.best_val_acc: float | None = None
        self.epochs_to_target: int | None = None
        self.history: list[EpochEnded] = []
        self.observed_losses: list[float] = []  # what the schedule saw, replayed on resume
        # the epoch in progress
        self._batches: Any = iter(())
        self._epoch_loss = 0.0  # summed on the host from each logged window
        self._epoch_correct: torch.Tensor | None = None
        self._epoch_seen = 0
        self._epoch_t = 0.0
        # the logged window in progress
        self._log_fill = 0
        self._log_sizes: list[int] = []
        self._log_t0 = 0.0
        self._log_samples = 0
        self._internals: list[InternalsLogged] = []  # the last few looks inside the optimizer

    # ----------------------------------------------------------------- controls (any thread)

    def stop(self, status: Status = "stopped") -> None:
        self._stop_status = status
        self._stop.set()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def ready(self) -> bool:
        """Set up (data loaded, model built) and not yet finished."""
        return self.parts is not None and not self.done

    def _p(self) -> RunParts:
        assert self.parts is not None, "Run.setup() first"
        return self.parts

    # ----------------------------------------------------------------- setup

    def setup(self) -> None:
        cfg, t = self.cfg, self.cfg.training
        device = resolve_device(t.device)
        data = load_dataset(cfg.data, device)
        n_train = len(data.train)
        batch_size = effective_batch_size(cfg, n_train)
        steps_per_epoch = math.ceil(n_train / batch_size)
        total = steps_per_epoch * t.epochs
        keep_dynamo_unloaded()
        keep_freed_memory()
        numerics = choose_numerics(cfg, device, data, batch_size)
        model = build_seeded(cfg.model, data.shape, data.num_classes, t.seed)
        if numerics.channels_last:
            model = model.to(memory_format=torch.channels_last)
        model = model.to(device)
        hp = cfg.optimizer.hyperparameters()
        dropout_gen = torch.Generator(device).manual_seed(t.seed + 2)
        use_generator(model, dropout_gen)
        optimizer = build_optimizer(cfg.optimizer.name, model.parameters(), hp, cfg.optimizer.impl)
        self.parts = RunParts(
            device=device,
            data=data,
            numerics=numerics,
            batch_size=batch_size,
            steps_per_epoch=steps_per_epoch,
            total_steps=min(total, t.max_steps) if t.max_steps else total,
            model=model,
            optimizer=optimizer,
            schedule=Schedule(cfg.schedule, hp["lr"], t.epochs, steps_per_epoch),
            penalized=[p for p in model.parameters() if p.dim() > 1],
            shuffle_gen=torch.Generator().manual_seed(t.seed + 1),
            dropout_gen=dropout_gen,
            augment=cfg.data.augment
            if cfg.data.augment is not None
            else cfg.data.dataset == "cifar10",
            log_buffer=torch.zeros(t.log_every, device=device),
            optimizer_step=plain_step(optimizer),
            scaler=torch.amp.GradScaler(device.type) if numerics.scaled else None,
            stream=torch.cuda.Stream(device) if device.type == "cuda" else None,
            train_step=self._eager_step,
            probe=Probe(model, optimizer, f"{cfg.optimizer.name}/{cfg.optimizer.impl}"),
            sharpness=Sharpness(model, self._sharpness_batch),
        )
        p = self.parts
        refusal = graph_refusal(cfg, device, p.augment, numerics.scaled)
        if refusal is None:
            p.train_step = GraphedStep(
                self._eager_step, optimizer, batch_size, device, [dropout_gen]
            )
        if p.stream is not None:
            p.stream.wait_stream(torch.cuda.current_stream(device))  # the data is uploaded
        self._start_epoch()
        self.emit(
            RunStarted(
                run=self.name,
                index=self.index,
                config=cfg.model_dump(mode="json"),
                steps_per_epoch=p.steps_per_epoch,
                total_steps=p.total_steps,
                parameters=count_parameters(p.model),
                device=str(p.device),
                precision=p.numerics.label,
                numerics=p.numerics.reason
                + (
                    ""
                    if refusal
                    else f"; the step replays a CUDA graph from step {WARMUP_STEPS + 1}"
                ),
            )
        )
        self._set_status("running")

    def _set_status(self, status: Status) -> None:
        if status != self.status:
            self.status = status
            self.emit(RunStatusChanged(self.name, status))

    def _start_epoch(self) -> None:
        p = self._p()
        self._batches = shuffled_batches(len(p.data.train), p.batch_size, p.shuffle_gen, p.device)
        self._epoch_loss = 0.0
        self._epoch_correct = torch.zeros((), device=p.device, dtype=torch.int64)
        self._epoch_seen = 0
        self._epoch_t = 0.0

    # ----------------------------------------------------------------- checkpoints

    def state(self) -> dict[str, Any]:
        """Everything needed to continue this run exactly (training/checkpoint.py)."""
        p = self._p()
        return {
            "model": p.model.state_dict(),
            "optimizer": p.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "seconds": self.seconds,
            "best_val_acc": self.best_val_acc,
            "epochs_to_target": self.epochs_to_target,
            "shuffle_state": p.shuffle_gen.get_state(),
            "dropout_state": p.dropout_gen.get_state(),
            "history": [asdict(e) for e in self.history],
            "observed_losses": list(self.observed_losses),
            "scaler": p.scaler.state_dict() if p.scaler is not None else None,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` of an earlier process: a set-up run, ready for its next
        epoch."""
        p = self._p()
        p.model.load_state_dict(state["model"])
        p.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch, self.seconds = (
            int(state["step"]),
            int(state["epoch"]),
            float(state["seconds"]),
        )
        self.best_val_acc, self.epochs_to_target = state["best_val_acc"], state["epochs_to_target"]
        p.shuffle_gen.set_state(state["shuffle_state"])
        p.dropout_gen.set_state(state["dropout_state"])
        if p.scaler is not None and state.get("scaler"):
            p.scaler.load_state_dict(state["scaler"])
        self.history = [EpochEnded(**h) for h in state["history"]]
        self.observed_losses = []
        for loss in state["observed_losses"]:
            self.observed_losses.append(float(loss))
            p.schedule.end_epoch(float(loss))
        self._start_epoch()

    # ----------------------------------------------------------------- training

    def _inputs(self, xb: torch.Tensor) -> torch.Tensor:
        p = self._p()
        if p.augment:
            xb = augment(xb, p.shuffle_gen)
        return normalize(xb, p.data, p.numerics.channels_last)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed precision; its cast cache is off on CUDA, where a graph may capture the step."""
        p = self._p()
        dtype = p.numerics.autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(p.device.type, dtype=dtype, cache_enabled=p.device.type != "cuda")

    def _penalty(self) -> torch.Tensor | None:
        t, p = self.cfg.training, self._p()
        if not (t.l1 or t.l2):
            return None
        total = torch.zeros((), device=p.device)
        for w in p.penalized:
            if t.l1:
                total = total + t.l1 * w.abs().sum()
            if t.l2:
                total = total + t.l2 * w.pow(2).sum()
        return total

    def advance(self, steps: int) -> bool:
        """Train up to ``steps`` optimizer steps; returns False once the run has finished."""
        if self.done:
            return False
        if self._stop.is_set():
            self._finish(self._stop_status)
            return False
        if self._paused.is_set():
            self._set_status("paused")
            return True
        self._set_status("running")
        stream = self.parts.stream if self.parts is not None else None
        with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
            self._train_steps(steps)
        return not self.done

    def _watched_step(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """An eager step with the optimizer's internals measured around it."""
        p = self._p()
        p.probe.snapshot()
        out = self._eager_step(idx)
        event = p.probe.measure(self.name, self.step + 1)
        self._internals = [*self._internals[-4:], event]
        self.emit(event)
        return out

    def _sharpness_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first training images, the fixed batch every sharpness estimate uses."""
        p = self._p()
        x, y = p.data.train.x[:SHARPNESS_BATCH], p.data.train.y[:SHARPNESS_BATCH]
        return normalize(x, p.data, p.numerics.channels_last), y

    def _eager_step(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step on the batch ``idx``: (its loss, how many it got right)."""
        p = self._p()
        x, y = self._inputs(p.data.train.x[idx]), p.data.train.y[idx]
        with self._autocast():
            out = p.model(x)
            loss = F.cross_entropy(out, y)
        penalty = self._penalty()
        total = loss + penalty if penalty is not None else loss
        p.optimizer.zero_grad(set_to_none=True)
        if p.scaler is None:
            total.backward()
            p.optimizer_step()
        else:
            p.scaler.scale(total).backward()
            p.scaler.step(p.optimizer)
            p.scaler.update()
        return loss.detach(), (out.detach().argmax(1) == y).sum()

    def _train_steps(self, steps: int) -> None:
        p = self._p()
        p.model.train()
        t0 = time.perf_counter()
        lr = current_lr(p.optimizer)
        for _ in range(steps):
            if self._stop.is_set() or self.step >= p.total_steps:
                break
            idx = next(self._batches, None)
            if idx is None:
                self._end_epoch(t0)
                if self.done:
                    return
                t0 = time.perf_counter()
                continue
            new_lr = p.schedule.lr(self.step)
            if new_lr != lr:
                lr = new_lr
                set_lr(p.optimizer, lr)
            t = self.cfg.training
            if t.sharpness_every and self.step % t.sharpness_every == 0:  # step 0 included
                self.emit(p.sharpness.measure(self.name, self.step, lr))
            watched = t.internals_every and (
                self.step == 0 or (self.step + 1) % t.internals_every == 0
            )
            loss, correct = (self._watched_step if watched else p.train_step)(idx)
            n = idx.shape[0]
            assert self._epoch_correct is not None
            self._epoch_correct += correct
            self._epoch_seen += n
            p.log_buffer[self._log_fill] = loss
            self._log_sizes.append(n)
            self._log_fill += 1
            self._log_samples += n
            self.step += 1
            if self._log_fill == len(p.log_buffer):
                self._epoch_t += time.perf_counter() - t0
                t0 = time.perf_counter()
                if not self._flush_log(lr):
                    return
        self._epoch_t += time.perf_counter() - t0
        if self._stop.is_set():
            self._flush_log(lr)
            if not self.done:
                self._finish(self._stop_status)
        elif self.step >= p.total_steps and not self.done and self._flush_log(lr):
            self._end_epoch(None)

    def _flush_log(self, lr: float) -> bool:
        """Emit the logged window; returns False (and ends the run) if the loss went NaN/inf."""
        n = self._log_fill
        if n == 0:
            return True
        p = self._p()
        values = p.log_buffer[:n].tolist()  # the one host sync per window
        self._epoch_loss += sum(v * size for v, size in zip(values, self._log_sizes, strict=True))
        self._log_fill = 0
        self._log_sizes.clear()
        limit = self.cfg.training.diverge_loss
        bad = next((i for i, v in enumerate(values) if not (math.isfinite(v) and v <= limit)), None)
        if bad is not None:
            self._diverged(self.step - n + bad + 1)
            return False
        trained = self.seconds + self._epoch_t  # this run's own training time, not its siblings'
        rate = self._log_samples / max(trained - self._log_t0, 1e-9)
        self._log_t0, self._log_samples = trained, 0
        self.emit(
            StepLogged(
                run=self.name,
                step=self.step,
                epoch=self.step / p.steps_per_epoch,
                loss=sum(values) / n,
                lr=lr,
                samples_per_s=rate,
                seconds=trained,
            )
        )
        return True

    @torch.no_grad()
    def evaluate(self, split: Split) -> tuple[float | None, float | None]:
        """Mean loss and accuracy on a split, in eval mode, in large batches."""
        if len(split) == 0:
            return None, None
        p = self._p()
        p.model.eval()
        loss = torch.zeros((), device=p.device)
        correct = torch.zeros((), device=p.device, dtype=torch.int64)
        bs = self.cfg.training.eval_batch_size
        for start in range(0, len(split), bs):
            xb, yb = split.x[start : start + bs], split.y[start : start + bs]
            with self._autocast():
                out = p.model(normalize(xb, p.data, p.numerics.channels_last))
            loss += F.cross_entropy(out.float(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
        p.model.train()
        n = len(split)
        return loss.item() / n, correct.item() / n

    def _end_epoch(self, t0: float | None) -> None:
        p = self._p()
        if t0 is not None:
            self._epoch_t += time.perf_counter() - t0
        if self._log_fill and not self._flush_log(current_lr(p.optimizer)):
            return
        if self._epoch_seen == 0 or self._epoch_correct is None:
            if self.step >= p.total_steps:  # loaded after its last epoch: only the end is left
                self._finish("completed")
            return
        self.seconds += self._epoch_t
        train_loss = self._epoch_loss / self._epoch_seen
        train_acc = self._epoch_correct.item() / self._epoch_seen
        if not math.isfinite(train_loss):
            self._diverged(self.step)
            return
        val_loss, val_acc = self.evaluate(p.data.val)
        self.epoch += 1
        if val_acc is not None:
            self.best_val_acc = max(self.best_val_acc or 0.0, val_acc)
            if self.epochs_to_target is None and val_acc >= self.cfg.training.target_acc:
                self.epochs_to_target = self.epoch
        event = EpochEnded(
            run=self.name,
            epoch=self.epoch,
            step=self.step,
            train_loss=train_loss,
            train_acc=train_acc,
            val_loss=val_loss,
            val_acc=val_acc,
            lr=current_lr(p.optimizer),
            seconds=self.seconds,
            epoch_seconds=self._epoch_t,
        )
        self.history.append(event)
        self.emit(event)
        observed = val_loss if val_loss is not None else train_loss
        self.observed_losses.append(observed)
        p.schedule.end_epoch(observed)
        if self.checkpoint_dir is not None:
            save_checkpoint(self.checkpoint_dir, self.name, self.state())
        if self.step >= p.total_steps or self.epoch >= self.cfg.training.epochs:
            self._finish("completed")
        else:
            self._start_epoch()

    def _finish(
        self, status: Status, diverged_at: int | None = None, error: str | None = None
    ) -> None:
        test_loss = test_acc = None
        if status == "completed" and self.test_at_end:
            test_loss, test_acc = self.evaluate(self._p().data.test)
        self.result = RunFinished(
            run=self.name,
            status=status,
            epochs=self.epoch,
            steps=self.step,
            seconds=self.seconds,
            best_val_acc=self.best_val_acc,
            test_loss=test_loss,
            test_acc=test_acc,
            epochs_to_target=self.epochs_to_target,
            diverged_at=diverged_at,
            error=error,
        )
        self._set_status(status)
        self.emit(self.result)

    def _diverged(self, step: int) -> None:
        """End the run as diverged, saying what the numbers showed (training/internals.py)."""
        reason = divergence_reason(step, self._p().sharpness.last, self._internals)
        self._finish("diverged", diverged_at=step, error=reason)

    def fail(self, error: str) -> None:
        """Record an exception raised inside this run (its siblings go on)."""
        if not self.done:
            self._finish("failed", error=error)
