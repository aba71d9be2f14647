"""The GPU paths, on a machine without a GPU: which runs would replay a CUDA graph and why not,
the graph wrapper's bookkeeping (warm-up and partial batches eager, a refused capture falls
back), and runs spread over several GPUs. bench/gpu_check.sh runs them for real on a GPU."""

from __future__ import annotations

import contextlib

import pytest
import torch
from support import TINY_CNN

from tui_lab.config import RunConfig, apply_overrides
from tui_lab.training import graphed
from tui_lab.training.comparison import side_by_side, spread_over_gpus
from tui_lab.training.graphed import WARMUP_STEPS, GraphedStep, graph_refusal
from tui_lab.training.numerics import gpu_devices

CUDA = torch.device("cuda")


def cfg(**extra) -> RunConfig:
    return apply_overrides(RunConfig(), {**TINY_CNN, **extra}, "test")


def test_which_steps_are_captured_and_why_not():
    assert graph_refusal(cfg(), CUDA, augment=False, scaled=False) is None
    assert "CUDA device" in graph_refusal(cfg(), torch.device("cpu"), False, False)
    assert "cuda_graphs = false" in graph_refusal(
        cfg(**{"training.cuda_graphs": False}), CUDA, False, False
    )
    assert "rmsprop" in graph_refusal(cfg(**{"optimizer.name": "rmsprop"}), CUDA, False, False)
    assert "lecture" in graph_refusal(cfg(**{"optimizer.impl": "lecture"}), CUDA, False, False)
    assert "augmentation" in graph_refusal(cfg(), CUDA, True, False)
    assert "scaler" in graph_refusal(cfg(), CUDA, False, True)


class FakeGraph:
    """Stands in for torch.cuda.CUDAGraph: replay re-runs what was captured."""

    def __init__(self):
        self.replays = 0
        self.generators = []

    def register_generator_state(self, generator):
        self.generators.append(generator)

    def replay(self):
        self.replays += 1
        FakeGraph.captured()


@pytest.fixture
def fake_cuda(monkeypatch):
    graphs: list[FakeGraph] = []

    def new_graph():
        graphs.append(FakeGraph())
        return graphs[-1]

    @contextlib.contextmanager
    def capture(graph):
        yield

    monkeypatch.setattr(graphed.torch.cuda, "CUDAGraph", new_graph)
    monkeypatch.setattr(graphed.torch.cuda, "graph", capture)
    return graphs


def test_warm_up_and_partial_batches_run_eagerly_then_the_capture_replays(fake_cuda):
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    seen: list[list[int]] = []

    def step(indices):
        seen.append(indices.tolist())
        return torch.tensor(1.0), torch.tensor(2)

    wrapper = GraphedStep(step, optimizer, batch_size=3, device=torch.device("cpu"), generators=[])
    FakeGraph.captured = lambda: step(wrapper.indices)
    for batch in range(WARMUP_STEPS):
        wrapper(torch.tensor([batch, batch, batch]))
    assert fake_cuda == [] and len(seen) == WARMUP_STEPS
    wrapper(torch.tensor([7, 8]))  # a partial batch: eager, not counted as warm-up
    wrapper(torch.tensor([4, 5, 6]))  # captured (the capture calls step once), then replayed
    wrapper(torch.tensor([1, 2, 3]))
    (graph,) = fake_cuda
    assert graph.replays == 2 and seen[-1] == [1, 2, 3] and seen[-2] == [4, 5, 6]
    assert isinstance(optimizer.param_groups[0]["lr"], torch.Tensor)  # read by the graph
    graphed.set_lr(optimizer, 0.05)
    assert optimizer.param_groups[0]["lr"].item() == pytest.approx(0.05)


def test_a_refused_capture_trains_on_eagerly(monkeypatch):
    def refuse(graph):
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(graphed.torch.cuda, "CUDAGraph", FakeGraph)
    monkeypatch.setattr(graphed.torch.cuda, "graph", refuse)
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    calls = []
    wrapper = GraphedStep(
        lambda i: calls.append(i) or (torch.tensor(0.0), torch.tensor(0)),
        optimizer,
        1,
        torch.device("cpu"),
        [],
    )
    with pytest.warns(UserWarning, match="training goes on eagerly"):
        for _ in range(WARMUP_STEPS + 3):
            wrapper(torch.tensor([0]))
    assert len(calls) == WARMUP_STEPS + 3 and "not permitted" in (wrapper.refused or "")


def test_runs_take_every_gpu_in_turn(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert gpu_devices("auto", 3) == ["cuda:0", "cuda:1", "cuda:0"]
    assert gpu_devices("cuda:1", 2) == ["cuda:1", "cuda:1"]  # the user chose
    runs = [(n, cfg(**{"training.device": "auto"})) for n in ("a", "b", "c")]
    assert [c.training.device for _, c in spread_over_gpus(runs)] == ["cuda:0", "cuda:1", "cuda:0"]
    assert side_by_side(None, on_cpu=False, jobs=16)[0] == 8  # a few runs in flight per GPU
