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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tui_lab.config import RunConfig
from tui_lab.data import DatasetTensors, augment, load_dataset, normalize, shuffled_batches
from tui_lab.errors import DeviceError
from tui_lab.events import (
    EpochEnded,
    Listener,
    RunFinished,
    RunStarted,
    RunStatusChanged,
    StepLogged,
)
from tui_lab.models import build_model, count_parameters, is_convolutional, use_generator
from tui_lab.optim.registry import OPTIMIZERS
from tui_lab.schedules import Schedule


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; asking for a device that is absent is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"training.device={name!r} but this machine has no CUDA device (torch "
                f"{torch.__version__} sees none). Use --device cpu or --device auto."
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"training.device={name!r} but only {torch.cuda.device_count()} CUDA device(s) "
                f"exist (cuda:0..cuda:{torch.cuda.device_count() - 1})."
            )
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("training.device='mps' but MPS is not available; use --device cpu.")
    return torch.device(name)


def cpu_supports_bf16() -> bool:
    return bool(getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())


@dataclass(frozen=True)
class Numerics:
    """Precision and memory layout a run trains with (chosen per device by measurement)."""

    autocast_dtype: torch.dtype | None
    channels_last: bool

    @property
    def label(self) -> str:
        dtype = "bf16" if self.autocast_dtype is torch.bfloat16 else "fp32"
        return dtype + (" channels_last" if self.channels_last else "")


def resolve_numerics(cfg: RunConfig, device: torch.device) -> Numerics:
    """``auto``: bf16 autocast where the hardware has native bf16 (AVX512-BF16 CPUs, CUDA),
    fp32 elsewhere; channels_last for CNNs under bf16. Measured by ``bench/throughput.py`` on a
    2-core AVX512-BF16 EPYC (samples/s vs fp32 NCHW, see bench/README.md): baseline CNN at
    batch 64 — bf16 1.35×, channels_last alone 1.41×, both 2.05×; the fast_fashion CNN at batch
    256 — both 2.46×; an MLP 1.50× with bf16, so one rule serves every model."""
    t = cfg.training
    if t.precision == "auto":
        native = cpu_supports_bf16() if device.type == "cpu" else device.type == "cuda"
        use_bf16 = native and (device.type != "cuda" or torch.cuda.is_bf16_supported())
    else:
        use_bf16 = t.precision == "bf16"
    conv = is_convolutional(cfg.model.arch)
    channels_last = t.channels_last if t.channels_last is not None else (conv and use_bf16)
    return Numerics(torch.bfloat16 if use_bf16 else None, bool(channels_last and conv))


def effective_batch_size(cfg: RunConfig, train_size: int) -> int:
    """Batch GD uses the whole training set and pure SGD one example, whatever batch_size says."""
    batch = OPTIMIZERS[cfg.optimizer.name].batch
    if batch == "full":
        return train_size
    if batch == "one":
        return 1
    return min(cfg.training.batch_size, train_size)


_INIT_LOCK = threading.Lock()


class Run:
    """One training run. Thread-safe controls: ``stop()``, ``pause()``, ``resume()``."""

    def __init__(self, name: str, cfg: RunConfig, index: int, emit: Listener,
                 checkpoint_dir: Path | None = None):  # fmt: skip
        self.name = name
        self.cfg = cfg
        self.index = index
        self.emit = emit
        self.checkpoint_dir = checkpoint_dir
        self.status = "pending"
        self._stop = threading.Event()
        self._stop_status = "stopped"
        self._paused = threading.Event()
        self.result: RunFinished | None = None

    # ----------------------------------------------------------------- controls (any thread)

    def stop(self, status: str = "stopped") -> None:
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

    # ----------------------------------------------------------------- setup

    def setup(self) -> None:
        cfg = self.cfg
        t = cfg.training
        self.device = resolve_device(t.device)
        self.data: DatasetTensors = load_dataset(cfg.data, self.device)
        self.numerics = resolve_numerics(cfg, self.device)
        n_train = len(self.data.train)
        self.batch_size = effective_batch_size(cfg, n_train)
        self.steps_per_epoch = math.ceil(n_train / self.batch_size)
        total = self.steps_per_epoch * t.epochs
        self.total_steps = min(total, t.max_steps) if t.max_steps else total

        with _INIT_LOCK:  # weight init draws from torch's global RNG; runs may set up in parallel
            torch.manual_seed(t.seed)
            model = build_model(cfg.model, self.data.shape, self.data.num_classes)
        if self.numerics.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model.to(self.device)
        spec = OPTIMIZERS[cfg.optimizer.name]
        self.hp = cfg.optimizer.hyperparameters()
        self.optimizer = spec.build(self.model.parameters(), self.hp, cfg.optimizer.impl)
        self.schedule = Schedule(cfg.schedule, self.hp["lr"], t.epochs, self.steps_per_epoch)
        self.penalized = [p for p in self.model.parameters() if p.dim() > 1]
        self.shuffle_gen = torch.Generator().manual_seed(t.seed + 1)
        self.dropout_gen = torch.Generator(self.device).manual_seed(t.seed + 2)
        use_generator(self.model, self.dropout_gen)
        self.augment = cfg.data.augment if cfg.data.augment is not None else cfg.data.dataset == "cifar10"

        self.step = 0
        self.epoch = 0  # completed epochs
        self.seconds = 0.0
        self.best_val_acc: float | None = None
        self.epochs_to_target: int | None = None
        self.history: list[EpochEnded] = []
        self.observed_losses: list[float] = []  # what the schedule saw, replayed on resume
        self._batches = None
        self._start_epoch()
        self._log_buf = torch.zeros(t.log_every, device=self.device)
        self._log_fill = 0
        self._log_sizes: list[int] = []
        self._log_t0 = 0.0
        self._log_samples = 0

        self.emit(RunStarted(
            run=self.name, index=self.index, config=cfg.model_dump(mode="json"),
            steps_per_epoch=self.steps_per_epoch, total_steps=self.total_steps,
            parameters=count_parameters(self.model), device=str(self.device),
            precision=self.numerics.label,
        ))  # fmt: skip
        self._set_status("running")

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.emit(RunStatusChanged(self.name, status))  # type: ignore[arg-type]

    def _start_epoch(self) -> None:
        self._batches = shuffled_batches(len(self.data.train), self.batch_size, self.shuffle_gen, self.device)
        self._epoch_loss = 0.0  # summed on the host from each logged window
        self._epoch_correct = torch.zeros((), device=self.device, dtype=torch.int64)
        self._epoch_seen = 0
        self._epoch_t = 0.0

    # ----------------------------------------------------------------- training

    def _inputs(self, xb: torch.Tensor) -> torch.Tensor:
        if self.augment:
            xb = augment(xb, self.shuffle_gen)
        return normalize(xb, self.data, self.numerics.channels_last)

    def _autocast(self):
        dtype = self.numerics.autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def _penalty(self) -> torch.Tensor | None:
        t = self.cfg.training
        if not (t.l1 or t.l2):
            return None
        total = torch.zeros((), device=self.device)
        for p in self.penalized:
            if t.l1:
                total = total + t.l1 * p.abs().sum()
            if t.l2:
                total = total + t.l2 * p.pow(2).sum()
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
        self._train_steps(steps)
        return not self.done

    def _train_steps(self, steps: int) -> None:
        model, opt, train = self.model, self.optimizer, self.data.train
        model.train()
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        for _ in range(steps):
            if self._stop.is_set() or self.step >= self.total_steps:
                break
            idx = next(self._batches, None)
            if idx is None:
                self._end_epoch(t0)
                if self.done:
                    return
                t0 = time.perf_counter()
                continue
            new_lr = self.schedule.lr(self.step)
            if new_lr != lr:
                lr = new_lr
                for group in opt.param_groups:
                    group["lr"] = lr
            x, y = self._inputs(train.x[idx]), train.y[idx]
            with self._autocast():
                out = model(x)
                loss = F.cross_entropy(out, y)
            penalty = self._penalty()
            total = loss + penalty if penalty is not None else loss
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            self._epoch_correct += (out.detach().argmax(1) == y).sum()
            self._epoch_seen += y.shape[0]
            self._log_buf[self._log_fill] = loss.detach()
            self._log_sizes.append(y.shape[0])
            self._log_fill += 1
            self._log_samples += y.shape[0]
            self.step += 1
            if self._log_fill == len(self._log_buf):
                self._epoch_t += time.perf_counter() - t0
                t0 = time.perf_counter()
                if not self._flush_log(lr):
                    return
        self._epoch_t += time.perf_counter() - t0
        if self._stop.is_set():
            self._flush_log(lr)
            if not self.done:
                self._finish(self._stop_status)
        elif self.step >= self.total_steps and not self.done and self._flush_log(lr):
            self._end_epoch(None)

    def _flush_log(self, lr: float) -> bool:
        """Emit the logged window; returns False (and ends the run) if the loss went NaN/inf."""
        n = self._log_fill
        if n == 0:
            return True
        values = self._log_buf[:n].tolist()  # the one host sync per window
        self._epoch_loss += sum(v * size for v, size in zip(values, self._log_sizes, strict=True))
        self._log_fill = 0
        self._log_sizes.clear()
        limit = self.cfg.training.diverge_loss
        bad = next((i for i, v in enumerate(values) if not (math.isfinite(v) and v <= limit)), None)
        if bad is not None:
            self._finish("diverged", diverged_at=self.step - n + bad + 1)
            return False
        trained = self.seconds + self._epoch_t  # this run's own training time, not its siblings'
        rate = self._log_samples / max(trained - self._log_t0, 1e-9)
        self._log_t0, self._log_samples = trained, 0
        self.emit(StepLogged(
            run=self.name, step=self.step, epoch=self.step / self.steps_per_epoch,
            loss=sum(values) / n, lr=lr, samples_per_s=rate, seconds=self.seconds + self._epoch_t,
        ))  # fmt: skip
        return True

    @torch.no_grad()
    def evaluate(self, split) -> tuple[float | None, float | None]:
        """Mean loss and accuracy on a split, in eval mode, in large batches."""
        if len(split) == 0:
            return None, None
        self.model.eval()
        loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.int64)
        bs = self.cfg.training.eval_batch_size
        for start in range(0, len(split), bs):
            xb, yb = split.x[start : start + bs], split.y[start : start + bs]
            with self._autocast():
                out = self.model(self._inputs_eval(xb))
            loss += F.cross_entropy(out.float(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
        self.model.train()
        n = len(split)
        return loss.item() / n, correct.item() / n

    def _inputs_eval(self, xb: torch.Tensor) -> torch.Tensor:
        return normalize(xb, self.data, self.numerics.channels_last)

    def _end_epoch(self, t0: float | None) -> None:
        if t0 is not None:
            self._epoch_t += time.perf_counter() - t0
        if self._log_fill and not self._flush_log(self.optimizer.param_groups[0]["lr"]):
            return
        if self._epoch_seen == 0:
            return
        self.seconds += self._epoch_t
        train_loss = self._epoch_loss / self._epoch_seen
        train_acc = self._epoch_correct.item() / self._epoch_seen
        if not math.isfinite(train_loss):
            self._finish("diverged", diverged_at=self.step)
            return
        val_loss, val_acc = self.evaluate(self.data.val)
        self.epoch += 1
        if val_acc is not None:
            self.best_val_acc = max(self.best_val_acc or 0.0, val_acc)
            if self.epochs_to_target is None and val_acc >= self.cfg.training.target_acc:
                self.epochs_to_target = self.epoch
        event = EpochEnded(
            run=self.name, epoch=self.epoch, step=self.step, train_loss=train_loss,
            train_acc=train_acc, val_loss=val_loss, val_acc=val_acc,
            lr=self.optimizer.param_groups[0]["lr"], seconds=self.seconds,
            epoch_seconds=self._epoch_t,
        )  # fmt: skip
        self.history.append(event)
        self.emit(event)
        observed = val_loss if val_loss is not None else train_loss
        self.observed_losses.append(observed)
        self.schedule.end_epoch(observed)
        if self.checkpoint_dir is not None and self.cfg.training.checkpoint:
            from tui_lab.checkpoint import save_checkpoint

            save_checkpoint(self, self.checkpoint_dir)
        if self.step >= self.total_steps or self.epoch >= self.cfg.training.epochs:
            self._finish("completed")
        else:
            self._start_epoch()

    def _finish(self, status: str, diverged_at: int | None = None, error: str | None = None) -> None:
        test_loss = test_acc = None
        if status == "completed":
            test_loss, test_acc = self.evaluate(self.data.test)
        self.result = RunFinished(
            run=self.name, status=status, epochs=self.epoch,  # type: ignore[arg-type]
            steps=self.step, seconds=self.seconds, best_val_acc=self.best_val_acc,
            test_loss=test_loss, test_acc=test_acc, epochs_to_target=self.epochs_to_target,
            diverged_at=diverged_at, error=error,
        )  # fmt: skip
        self._set_status(status)
        self.emit(self.result)

    def fail(self, error: str) -> None:
        """Record an exception raised inside this run (the experiment goes on)."""
        if not self.done:
            self.result = None
            self._finish("failed", error=error)

    def state(self) -> dict[str, Any]:
        """Everything needed to continue this run exactly (see checkpoint.py)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "seconds": self.seconds,
            "best_val_acc": self.best_val_acc,
            "epochs_to_target": self.epochs_to_target,
            "shuffle_state": self.shuffle_gen.get_state(),
            "dropout_state": self.dropout_gen.get_state(),
            "history": [e.__dict__ for e in self.history],
            "observed_losses": list(self.observed_losses),
        }
