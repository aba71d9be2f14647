"""The model architectures a run can train, as data (no torch: the option tree validates
against it and the TUI describes them); models/build.py builds them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArchSpec:
    name: str
    description: str
    convolutional: bool  # takes images as they are (and benefits from channels_last)


ARCHITECTURES: dict[str, ArchSpec] = {
    spec.name: spec
    for spec in (
        ArchSpec("baseline_cnn", "2 conv layers + fully connected (week 5 baseline)", True),
        ArchSpec(
            "deep_cnn", "conv-BN pairs per stage + global pooling (worth it on CIFAR-10)", True
        ),
        ArchSpec("mlp", "multi-layer perceptron (the MNIST lab's simple network)", False),
        ArchSpec("logreg", "logistic regression (one linear layer)", False),
    )
}
