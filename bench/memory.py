"""Peak memory (RSS) of a Fashion-MNIST run, measured in a fresh process.

The images are held once, as uint8 (70,000 × 784 bytes ≈ 52 MiB); a float32 copy of the set
would add 209 MiB. The child process reports its RSS after importing torch and building a
first optimizer (torch.optim lazily imports torch._dynamo, ~150 MB, in any PyTorch program),
its peak after loading the data, and its peak after training ``STEPS`` steps and evaluating.

Run alone: ``python bench/memory.py``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

STEPS = 100


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    return kb / 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def child() -> None:
    import torch

    from tui_lab.config import RunConfig, apply_overrides
    from tui_lab.training.run import Run

    torch.optim.SGD(torch.nn.Linear(1, 1).parameters())  # torch.optim's one-time lazy imports
    report = {"after_import": _rss_mb()}
    overrides = {
        "data.dataset": "fashion_mnist",
        "training.device": "cpu",
        "training.max_steps": STEPS,
    }
    run = Run("memory", apply_overrides(RunConfig(), overrides, where="bench"), 0, lambda e: None)
    run.setup()
    assert run.parts is not None
    data = run.parts.data
    report["data_bytes_mb"] = (
        sum(s.x.numel() * s.x.element_size() for s in (data.train, data.val, data.test)) / 2**20
    )
    report["data_dtypes"] = sorted({str(s.x.dtype) for s in (data.train, data.val, data.test)})
    report["peak_after_load"] = _peak_mb()
    report["rss_after_load"] = _rss_mb()
    while run.advance(50):
        pass
    report["peak_after_run"] = _peak_mb()
    report["rss_after_run"] = _rss_mb()
    report["torch_threads"] = torch.get_num_threads()
    print(json.dumps(report))


def measure() -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child"], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rows() -> list[tuple[str, str, str, str]]:
    r = measure()
    growth = r["peak_after_run"] - r["after_import"]
    detail = (
        f"{r['after_import']:.0f} MB after import torch + torch.optim; +{growth:.0f} MB for a run "
        f"whose images are {r['data_bytes_mb']:.0f} MB of uint8 (a float copy would be "
        f"{4 * r['data_bytes_mb']:.0f} MB); load peak {r['peak_after_load']:.0f} MB, resident "
        f"after load {r['rss_after_load']:.0f} MB, "
        f"after {STEPS} steps + eval {r['rss_after_run']:.0f} MB"
    )
    return [
        (
            "Fashion-MNIST run: peak RSS",
            f"{r['peak_after_run']:.0f} MB",
            "uint8 once" if r["data_dtypes"] == ["torch.uint8"] else "NOT uint8",
            detail,
        )
    ]


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        print(" | ".join(rows()[0]))
