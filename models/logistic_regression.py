"""Logistic regression on generated data, trained by a compiled symgraph function.

The gradient comes from ``sg.grad``; the update rule lives in the compiled graph as shared-variable
updates, so each call is one full-batch gradient step.
Run: ``python -m models.logistic_regression [--steps N] [--lr LR] [--seed S]``.
"""

from __future__ import annotations

import argparse

import numpy as np

import symgraph as sg


def make_data(n: int = 1000, d: int = 20, noise: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs labelled by a random linear teacher with label noise."""
    rng = np.random.default_rng(seed)
    teacher = rng.normal(size=d)
    x = rng.normal(size=(n, d)).astype(sg.config.floatX)
    y = (x @ teacher + noise * rng.normal(size=n) > 0).astype(sg.config.floatX)
    return x, y


def build_trainer(d: int, lr: float) -> tuple[sg.Function, sg.Function, sg.SharedVariable]:
    """(train step returning the loss, accuracy function, weight vector)."""
    x, y = sg.matrix("x"), sg.vector("y")
    w = sg.shared(np.zeros(d, dtype=sg.config.floatX), name="w")
    b = sg.shared(np.zeros((), dtype=sg.config.floatX), name="b")
    logits = sg.dot(x, w) + b
    loss = sg.nnet.sigmoid_binary_crossentropy(logits, y).mean()
    grad_w, grad_b = sg.grad(loss, [w, b])
    train = sg.function([x, y], loss, updates=[(w, w - lr * grad_w), (b, b - lr * grad_b)])
    accuracy = sg.function([x, y], sg.eq(logits > 0, y > 0.5).mean())
    return train, accuracy, w


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x, y = make_data(seed=args.seed)
    train, accuracy, _ = build_trainer(x.shape[1], args.lr)
    losses = []
    for step in range(args.steps):
        losses.append(float(train(x, y)))
        if step % max(1, args.steps // 10) == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {losses[-1]:.4f}")
    print(f"train accuracy {float(accuracy(x, y)):.3f}")
    return losses


if __name__ == "__main__":
    main()
