"""One SGD training step of a tanh MLP with a softmax cross-entropy loss on integer labels.

Every system starts from the same weights (drawn with NumPy, seed 0) and takes the step with
learning rate 0.1; agreement is checked on the loss and the updated weights after one step. The
timed calls keep stepping from there (the state drifts; the work per step does not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench.cases.common import Dialect, systems
from bench.context import Context
from bench.harness import Built, Case

LAYERS = {"tiny": (12, 8, 8, 3), "default": (784, 500, 500, 10), "full": (784, 500, 500, 10)}
BATCH = {"tiny": 4, "default": 128, "full": 128}
LR = 0.1
DTYPE = "float32"


def make_data(layers: tuple[int, ...], batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs, labels and Glorot-uniform initial weights (zero biases)."""
    rng = np.random.default_rng(seed)
    data = {
        "x": rng.standard_normal((batch, layers[0])).astype(DTYPE),
        "y": rng.integers(0, layers[-1], batch).astype(np.int64),
    }
    for i, (n_in, n_out) in enumerate(zip(layers[:-1], layers[1:])):
        scale = np.sqrt(6 / (n_in + n_out))
        data[f"w{i}"] = rng.uniform(-scale, scale, (n_in, n_out)).astype(DTYPE)
        data[f"b{i}"] = np.zeros(n_out, DTYPE)
    return data


def matmul_flops(layers: tuple[int, ...], batch: int) -> int:
    """FLOPs of the step's matrix products: forward, weight gradients, and input gradients of all but
    the first layer (elementwise work not counted)."""
    products = [n_in * n_out for n_in, n_out in zip(layers[:-1], layers[1:])]
    return 2 * batch * (2 * sum(products) + sum(products[1:]))


def _theano(d: Dialect, data: dict[str, np.ndarray]) -> Built:
    names = [k for k in data if k not in ("x", "y")]
    params = [d.shared(data[k], k) for k in names]
    x, y = d.tensor("x", DTYPE, 2), d.tensor("y", "int64", 1)
    h = x
    for i in range(len(names) // 2):
        h = d.T.dot(h, params[2 * i]) + params[2 * i + 1]
        if 2 * i + 2 < len(names):
            h = d.T.tanh(h)
    loss = d.mean_crossentropy(h, y)
    lr = np.asarray(LR, dtype=DTYPE)
    step = d.function([x, y], loss, updates=[(p, p - lr * g) for p, g in zip(params, d.grad(loss, params))])
    xv, yv = d.array(data["x"]), d.array(data["y"])
    return Built(lambda: step(xv, yv), lambda: [step(xv, yv)] + [p.get_value() for p in params])


def _torch(data: dict[str, np.ndarray], ctx: Context, wrap: Callable[[Callable], Callable]) -> Built:
    import torch

    names = [k for k in data if k not in ("x", "y")]
    params = [ctx.torch_tensor(data[k], requires_grad=True) for k in names]

    def train_step(x: Any, y: Any) -> Any:
        h = x
        for i in range(len(params) // 2):
            h = h @ params[2 * i] + params[2 * i + 1]
            if 2 * i + 2 < len(params):
                h = torch.tanh(h)
        loss = torch.nn.functional.cross_entropy(h, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
                p.grad = None
        return loss.detach()

    step = wrap(train_step)
    x, y = ctx.torch_tensor(data["x"]), ctx.torch_tensor(data["y"])
    return Built(lambda: step(x, y), lambda: [step(x, y)] + params)


def cases(suite: str) -> list[Case]:
    layers, batch = LAYERS[suite], BATCH[suite]
    return [
        Case(
            name=f"mlp-{'x'.join(map(str, layers))}-b{batch}-f32",
            family="mlp",
            description="MLP tanh train step: softmax cross-entropy, autodiff gradient, SGD lr 0.1",
            dtype=DTYPE,
            make_data=lambda: make_data(layers, batch),
            systems=systems(_theano, _torch),
            params={"layers": list(layers), "batch": batch, "lr": LR},
            work=matmul_flops(layers, batch),
            unit="GFLOP/s",
            latency=suite != "tiny",
        )
    ]
