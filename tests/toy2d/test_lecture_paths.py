"""The toy paths are the lectures' own iterates θ_t: each optimizer's path on
f(x1, x2) = 0.1·x1² + 2·x2² from (−5, −2) against the lecture's formulas written out here
again, independently, in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from tui_lab.config import Toy2DConfig
from tui_lab.toy2d.problem import Toy2DProblem, walk

START, STEPS, EPS = np.array([-5.0, -2.0]), 20, 1e-8


def grad(theta: np.ndarray) -> np.ndarray:
    return np.array([0.2 * theta[0], 4.0 * theta[1]])


def gd(eta):
    theta = START.copy()
    for _ in range(STEPS):
        theta = theta - eta * grad(theta)
        yield theta


def momentum(eta, gamma):
    theta, v = START.copy(), np.zeros(2)
    for _ in range(STEPS):
        v = gamma * v + eta * grad(theta)
        theta = theta - v
        yield theta


def nesterov(eta, gamma):
    theta, v = START.copy(), np.zeros(2)
    for _ in range(STEPS):
        v = gamma * v + eta * grad(theta - gamma * v)
        theta = theta - v
        yield theta


def adagrad(eta):
    theta, s = START.copy(), np.zeros(2)
    for _ in range(STEPS):
        g = grad(theta)
        s = s + g**2
        theta = theta - eta / np.sqrt(s + EPS) * g
        yield theta


def rmsprop(eta, gamma):
    theta, s = START.copy(), np.zeros(2)
    for _ in range(STEPS):
        g = grad(theta)
        s = gamma * s + (1 - gamma) * g**2
        theta = theta - eta / np.sqrt(s + EPS) * g
        yield theta


def adam(eta, b1, b2):
    theta, m, v = START.copy(), np.zeros(2), np.zeros(2)
    for t in range(1, STEPS + 1):
        g = grad(theta)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        theta = theta - eta * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + EPS)
        yield theta


def amsgrad(eta, b1, b2):
    theta, m, v, v_hat = START.copy(), np.zeros(2), np.zeros(2), np.zeros(2)
    for _ in range(STEPS):
        g = grad(theta)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        v_hat = np.maximum(v_hat, v)
        theta = theta - eta / (np.sqrt(v_hat) + EPS) * m
        yield theta


CASES = [
    ({"optimizer": "batch_gd", "lr": 0.4}, gd(0.4)),
    ({"optimizer": "momentum", "lr": 0.3, "momentum": 0.6}, momentum(0.3, 0.6)),
    ({"optimizer": "nesterov", "lr": 0.05, "momentum": 0.9}, nesterov(0.05, 0.9)),
    ({"optimizer": "adagrad", "lr": 1.5, "eps": EPS}, adagrad(1.5)),
    ({"optimizer": "rmsprop", "lr": 0.35, "rho": 0.9, "eps": EPS}, rmsprop(0.35, 0.9)),
    (
        {"optimizer": "adam", "lr": 0.5, "beta1": 0.5, "beta2": 0.999, "eps": EPS},
        adam(0.5, 0.5, 0.999),
    ),
    (
        {"optimizer": "amsgrad", "lr": 0.05, "beta1": 0.5, "beta2": 0.999, "eps": EPS},
        amsgrad(0.05, 0.5, 0.999),
    ),
]


@pytest.mark.parametrize(("run", "reference"), CASES, ids=[c[0]["optimizer"] for c in CASES])
def test_each_path_is_the_lectures_iterate(run, reference):
    problem = Toy2DProblem.from_config(Toy2DConfig(function="lecture", steps=STEPS, runs=[run]))
    points = list(walk(problem, problem.runs[0]))
    expected = [START, *reference]
    assert len(points) == len(expected) == STEPS + 1
    for point, theta in zip(points, expected, strict=True):
        np.testing.assert_allclose([point.x1, point.x2], theta, rtol=1e-9, atol=1e-12)
        assert point.f == pytest.approx(
            0.1 * theta[0] ** 2 + 2 * theta[1] ** 2, rel=1e-9, abs=1e-15
        )


def test_nesterov_ends_where_the_issue_computed():
    run = {"optimizer": "nesterov", "lr": 0.05, "momentum": 0.9}
    problem = Toy2DProblem.from_config(Toy2DConfig(function="lecture", steps=STEPS, runs=[run]))
    last = list(walk(problem, problem.runs[0]))[-1]
    assert (round(last.x1, 3), round(last.x2, 3)) == (-0.751, 0.072)
