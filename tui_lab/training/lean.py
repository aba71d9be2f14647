"""Training without TorchDynamo's start-up cost.

tui-lab never compiles a model, yet torch.optim imports ``torch._dynamo`` the first time an
optimizer steps: its ``step`` is wrapped in a function that imports it to insert a graph
break, and its state-dict methods and functional kernels in wrappers that import it to
disable compilation. That import takes longer than importing torch itself, at the start of
every run. Two measures avoid it, and neither changes a number:

- ``keep_dynamo_unloaded`` points each compile-disabling wrapper of torch.optim at its plain
  function before its first call (what the wrapper caches after importing dynamo, minus the
  compile guard nothing here needs);
- ``plain_step`` calls an optimizer's own step function under ``no_grad``, as the graph-break
  wrapper does, without the wrapper (and without the profiler label and step hooks, which
  tui-lab does not use).

If a torch release wraps these differently, both quietly fall back to torch's own path:
start-up is slower, results are the same (tests/training/test_startup.py notices).
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable

import torch
import torch._compile
import torch.optim


def _visit(f: object, inner_code: types.CodeType, seen: set[int], depth: int = 0) -> None:
    if not isinstance(f, types.FunctionType) or id(f) in seen or depth > 3:
        return
    seen.add(id(f))
    wrapped = getattr(f, "__wrapped__", None)
    unset = wrapped is not None and getattr(wrapped, "__dynamo_disable", None) is None
    if f.__code__ is inner_code and unset:
        wrapped.__dynamo_disable = wrapped
    for cell in f.__closure__ or ():
        try:
            _visit(cell.cell_contents, inner_code, seen, depth + 1)
        except ValueError:  # an empty cell
            continue
    _visit(wrapped, inner_code, seen, depth + 1)


def keep_dynamo_unloaded() -> None:
    """Point torch.optim's compile-disabling wrappers at their plain functions."""
    inner_code = torch._compile._disable_dynamo(lambda: None).__code__
    seen: set[int] = set()
    modules = [m for name, m in list(sys.modules.items()) if name.startswith("torch.optim")]
    for module in modules:
        for obj in vars(module).values():
            members = vars(obj).values() if isinstance(obj, type) else (obj,)
            for member in members:
                _visit(getattr(member, "__func__", member), inner_code, seen)


def plain_step(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """``optimizer.step()`` without torch.optim's graph-break wrapper."""
    step = inspect.unwrap(type(optimizer).step)
    if step is type(optimizer).step:
        return optimizer.step

    def run() -> None:
        with torch.no_grad():
            step(optimizer)

    return run
