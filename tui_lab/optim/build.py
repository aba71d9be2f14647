"""Building an optimizer from the catalog: the torch.optim class (``impl = "torch"``) or the
lecture's written-out rule (``impl = "lecture"``, optim/lectures.py), one entry each per
catalog name (tests/optim checks that both tables cover the catalog)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from tui_lab.optim.catalog import IMPLS
from tui_lab.optim.lectures import (
    LectureAdadelta,
    LectureAdagrad,
    LectureAdam,
    LectureAdaMax,
    LectureAdamW,
    LectureAMSGrad,
    LectureMomentum,
    LectureNAdam,
    LectureNesterov,
    LectureOptimizer,
    LectureRMSprop,
    LectureSGD,
)

Params = Iterable[torch.Tensor]
Factory = Callable[[Params, dict[str, float]], torch.optim.Optimizer]


def _fused(params: Params) -> tuple[list[torch.nn.Parameter], dict[str, bool]]:
    """torch's fused kernels where they exist (CPU and CUDA): one kernel for the whole update
    instead of a loop over tensors (bench/throughput.py measures the gain)."""
    params = list(params)
    ok = params and all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    return params, ({"fused": True} if ok else {})


def _sgd(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    params, fused = _fused(params)
    return torch.optim.SGD(params, lr=hp["lr"], **fused)


def _momentum(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    params, fused = _fused(params)
    return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"], **fused)


def _nesterov(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    params, fused = _fused(params)
    return torch.optim.SGD(params, lr=hp["lr"], momentum=hp["momentum"], nesterov=True, **fused)


def _adagrad(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, lr=hp["lr"], eps=hp["eps"])


def _rmsprop(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=hp["lr"], alpha=hp["rho"], eps=hp["eps"])


def _adadelta(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    return torch.optim.Adadelta(params, lr=hp["lr"], rho=hp["rho"], eps=hp["eps"])


def _adam(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    params, fused = _fused(params)
    betas = (hp["beta1"], hp["beta2"])
    return torch.optim.Adam(params, lr=hp["lr"], betas=betas, eps=hp["eps"], **fused)


def _amsgrad(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    params, fused = _fused(params)
    betas = (hp["beta1"], hp["beta2"])
    return torch.optim.Adam(params, lr=hp["lr"], betas=betas, eps=hp["eps"], amsgrad=True, **fused)


def _adamax(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    return torch.optim.Adamax(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])


def _nadam(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    return torch.optim.NAdam(params, lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])


def _adamw(params: Params, hp: dict[str, float]) -> torch.optim.Optimizer:
    params, fused = _fused(params)
    betas = (hp["beta1"], hp["beta2"])
    return torch.optim.AdamW(
        params, lr=hp["lr"], betas=betas, eps=hp["eps"], weight_decay=hp["weight_decay"], **fused
    )


TORCH_FACTORIES: dict[str, Factory] = {
    "batch_gd": _sgd,
    "sgd_1": _sgd,
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adadelta": _adadelta,
    "adam": _adam,
    "adamax": _adamax,
    "nadam": _nadam,
    "amsgrad": _amsgrad,
    "adamw": _adamw,
}
LECTURE_RULES: dict[str, type[LectureOptimizer]] = {
    "batch_gd": LectureSGD,
    "sgd_1": LectureSGD,
    "sgd": LectureSGD,
    "momentum": LectureMomentum,
    "nesterov": LectureNesterov,
    "adagrad": LectureAdagrad,
    "rmsprop": LectureRMSprop,
    "adadelta": LectureAdadelta,
    "adam": LectureAdam,
    "adamax": LectureAdaMax,
    "nadam": LectureNAdam,
    "amsgrad": LectureAMSGrad,
    "adamw": LectureAdamW,
}


def build_optimizer(
    name: str, params: Params, hp: dict[str, float], impl: str
) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``params``; ``hp`` holds exactly the keys of its defaults."""
    if impl == "torch":
        return TORCH_FACTORIES[name](params, hp)
    if impl == "lecture":
        return LECTURE_RULES[name](params, **hp)
    raise ValueError(f"unknown optimizer impl {impl!r}; choose one of: {', '.join(IMPLS)}")
