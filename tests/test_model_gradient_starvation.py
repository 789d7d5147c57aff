"""Gradient starvation / spectral decoupling (models.gradient_starvation) at test scale."""

from __future__ import annotations

import json

import numpy as np
import pytest

import symgraph as sg
from models.gradient_starvation import MLP, main, separated_moons
from tests.helpers import needs_mnist


def test_moons_are_separated_by_the_margin():
    x, y = separated_moons(300, 0.1, np.random.default_rng(0))
    assert x.shape == (300, 2) and sorted(np.unique(y)) == [-1.0, 1.0] and (y > 0).sum() == 150
    distance = y * x[:, 1]  # signed distance to the line y = 0, positive on the class's own side
    assert 0.1 <= distance.min() < 0.11
    overlapping = separated_moons(300, -0.2, np.random.default_rng(1))
    crossed = overlapping[1] * overlapping[0][:, 1] < 0
    assert 0.02 < crossed.mean() < 0.5  # the line y = 0 misclassifies some points, not most


def test_step_is_sgd_with_momentum_and_weight_decay():
    """Two compiled steps against the update written out in numpy (PyTorch's SGD rule)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 2)), np.sign(rng.normal(size=7))
    lr, mom, wd, c = 0.1, 0.9, 0.01, 0.5
    model = MLP(5, lr=lr, momentum=mom, weight_decay=wd)
    model.reset(rng)
    w1, b1, w2, b2 = (p.get_value() for p in model.params)
    velocities = [np.zeros_like(p) for p in (w1, b1, w2, b2)]
    for _ in range(2):
        pre = x @ w1 + b1
        hidden = np.maximum(pre, 0.0)
        f = hidden @ w2 + b2
        expected_loss = np.mean(np.logaddexp(0.0, -y * f)) + c * np.mean(f**2)
        df = (-y / (1.0 + np.exp(y * f)) + 2 * c * f) / len(y)
        dpre = np.outer(df, w2) * (pre > 0)
        grads = [x.T @ dpre, dpre.sum(0), hidden.T @ df, df.sum()]
        params = [w1, b1, w2, b2]
        velocities = [mom * v + g + wd * p for v, g, p in zip(velocities, grads, params)]
        w1, b1, w2, b2 = (p - lr * v for p, v in zip(params, velocities))
        assert model.step(x, y, c) == pytest.approx(expected_loss, rel=1e-12)
    for p, expected in zip(model.params, (w1, b1, w2, b2)):
        np.testing.assert_allclose(p.get_value(), expected, rtol=1e-10, atol=1e-12)


def test_both_fit_and_sd_keeps_logits_small():
    x, y = separated_moons(100, 0.1, np.random.default_rng(0))
    model = MLP(32)
    norms = {}
    for c in (0.0, 0.003):
        model.reset(np.random.default_rng(1))
        model.fit(x, y, c, 600, lambda it, **_: iter(it))
        assert model.accuracy(x, y) == 1.0
        norms[c] = np.linalg.norm(model.logits(x))
    assert norms[0.003] < 0.8 * norms[0.0]


def test_main_writes_figure_and_metrics(tmp_path):
    argv = ["--steps", "50", "--hidden", "8", "--seeds", "1", "--n-train", "60", "--test-draws", "1"]
    metrics = main([*argv, "--out", str(tmp_path), "--no-progress"])
    assert (tmp_path / "gradient_starvation.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "metrics.json").read_text())["criteria"] == metrics["criteria"]
    assert set(metrics["criteria"]) == {
        "erm_train_accuracy",
        "sd_train_accuracy",
        "sd_minus_erm_test_accuracy_points_margin_-0.2",
    }
    assert all(isinstance(c["passed"], bool) for c in metrics["criteria"].values())


@pytest.mark.slow
def test_default_scale_meets_the_criteria(tmp_path, monkeypatch):
    monkeypatch.setattr(sg.config, "backend", "numba")  # 60k steps: the NumPy reference backend is too slow
    metrics = main(["--out", str(tmp_path), "--no-progress"])
    assert metrics["all_passed"], metrics["criteria"]


# Colored MNIST (models.gradient_starvation_cmnist), the optional second experiment.


@pytest.fixture(scope="module")
def cmnist():
    from models.gradient_starvation_cmnist import environments

    return environments(0)


@needs_mnist
def test_colored_mnist_environments(cmnist):
    (x, y), (xt, yt) = cmnist["train"], cmnist["test"]
    assert x.shape == (4000, 392) and xt.shape == (1000, 392)
    assert np.all((x[:, :196].sum(1) > 0) != (x[:, 196:].sum(1) > 0))  # the digit is in exactly one channel
    colour_agrees = lambda x, y: np.mean((x[:, 196:].sum(1) > 0) == (y > 0))  # noqa: E731
    assert colour_agrees(x, y) == pytest.approx(0.85, abs=0.02)
    assert colour_agrees(xt, yt) == pytest.approx(0.1, abs=0.03)


@needs_mnist
def test_adam_first_step_moves_each_parameter_by_lr(cmnist):
    from models.gradient_starvation_cmnist import DeepMLP

    x, y = cmnist["train"][0][:200], cmnist["train"][1][:200]
    model = DeepMLP(8, lr=1e-3)
    model.reset(np.random.default_rng(0))
    before = [p.get_value() for p in model.params]
    first = model.step(x, y, 1.0, 0.0)
    moved = np.concatenate([np.abs(p.get_value() - b).ravel() for p, b in zip(model.params, before)])
    moved = moved[moved > 0]  # parameters of units that are dead on these inputs get no gradient
    assert moved.size > 0.5 * sum(b.size for b in before)
    # Adam's bias-corrected first step is lr * g / (|g| + eps): lr, a little less for the tiniest gradients
    assert moved.max() <= 1e-3 * (1 + 1e-9) and np.mean(moved > 0.999e-3) > 0.9
    for _ in range(30):
        last = model.step(x, y, 1.0, 0.0)
    assert last < first


@needs_mnist
def test_erm_on_colored_mnist_learns_the_colour(cmnist):
    from models.gradient_starvation_cmnist import DeepMLP, train

    model = DeepMLP(16, lr=1e-3)
    model.reset(np.random.default_rng(0))
    curves = train(model, cmnist, [(1.0, 0.0)] * 60, 60, lambda it, **_: iter(it), "")
    assert curves["train"][-1] > 0.8 and curves["test"][-1] < 0.3  # the colour, not the shape


@needs_mnist
def test_cmnist_main_writes_figure_and_metrics(tmp_path):
    from models.gradient_starvation_cmnist import main as cmnist_main

    argv = ["--hidden", "8", "--steps-erm", "10", "--steps-sd", "20", "--anneal", "10", "--seeds", "1"]
    metrics = cmnist_main([*argv, "--eval-every", "10", "--out", str(tmp_path), "--no-progress"])
    assert (tmp_path / "gradient_starvation_cmnist.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "metrics.json").read_text())["criteria"] == metrics["criteria"]
    assert set(metrics["criteria"]) == {"sd_minus_erm_test_accuracy_points", "sd_test_accuracy"}
    assert len(metrics["curves"][0]["sd"]["test"]) == 2


@needs_mnist
@pytest.mark.slow
def test_cmnist_default_scale_meets_the_criteria(tmp_path, monkeypatch):
    monkeypatch.setattr(sg.config, "backend", "numba")
    from models.gradient_starvation_cmnist import main as cmnist_main

    metrics = cmnist_main(["--out", str(tmp_path), "--no-progress"])
    assert metrics["all_passed"], metrics["criteria"]
