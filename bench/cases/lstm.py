"""LSTM forward + backward: the loss is the sum of every step's hidden state times fixed random weights; the
result is the loss and the gradients of the input, the initial states and all four weight arrays.

The Theano-like systems write the layer with ``scan`` (the input projection as one product before the loop,
as nn.LSTM does); torch runs nn.LSTM (its fused native kernel) with the same weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench.cases.common import Dialect, systems
from bench.context import Context
from bench.harness import Built, Case

SIZES = {"tiny": (4, 3, 2, 5), "default": (64, 256, 32, 50), "full": (64, 256, 32, 50)}  # input, hidden, batch, T
DTYPE = "float32"
PARAMS = ("w_ih", "w_hh", "b_ih", "b_hh")


def make_data(n_in: int, hidden: int, batch: int, steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs, initial states, output weights, and nn.LSTM's uniform(-1/sqrt(H), 1/sqrt(H)) initial weights."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(hidden)
    shapes = {
        "x": (steps, batch, n_in), "h0": (batch, hidden), "c0": (batch, hidden), "proj": (steps, batch, hidden),
        "w_ih": (4 * hidden, n_in), "w_hh": (4 * hidden, hidden), "b_ih": (4 * hidden,), "b_hh": (4 * hidden,),
    }  # fmt: skip
    data = {k: rng.standard_normal(s) for k, s in shapes.items() if k in ("x", "h0", "c0", "proj")}
    data.update((k, rng.uniform(-bound, bound, shapes[k])) for k in PARAMS)
    return {k: v.astype(DTYPE) for k, v in data.items()}


def flops(n_in: int, hidden: int, batch: int, steps: int) -> int:
    """Matrix-product FLOPs: forward, and the input and weight gradients (2 products each) of both products."""
    return 3 * 2 * steps * batch * 4 * hidden * (n_in + hidden)


def _theano(d: Dialect, data: dict[str, np.ndarray]) -> Built:
    ops = d.T
    x, h0, c0, proj = (d.tensor(k, DTYPE, data[k].ndim) for k in ("x", "h0", "c0", "proj"))
    params = [d.tensor(k, DTYPE, data[k].ndim) for k in PARAMS]
    w_ih, w_hh, b_ih, b_hh = params
    projected = ops.dot(x, w_ih.T) + (b_ih + b_hh)

    def step(p: Any, h: Any, c: Any, w: Any) -> list[Any]:
        gates = p + ops.dot(h, w)
        n = h.shape[1]
        i, f = ops.sigmoid(gates[:, :n]), ops.sigmoid(gates[:, n : 2 * n])
        g, o = ops.tanh(gates[:, 2 * n : 3 * n]), ops.sigmoid(gates[:, 3 * n :])
        c_new = f * c + i * g
        return [o * ops.tanh(c_new), c_new]

    (hs, _), _ = d.scan(step, sequences=projected, outputs_info=[h0, c0], non_sequences=w_hh.T)
    loss = (hs * proj).sum()
    inputs = [x, h0, c0, *params]
    f = d.function([*inputs, proj], [loss, *d.grad(loss, inputs)])
    args = [d.array(data[k]) for k in ("x", "h0", "c0", *PARAMS, "proj")]
    return Built(lambda: f(*args))


def _torch(data: dict[str, np.ndarray], ctx: Context, wrap: Callable[[Callable], Callable]) -> Built:
    import torch

    n_in, hidden = data["x"].shape[2], data["h0"].shape[1]
    module = torch.nn.LSTM(n_in, hidden)
    with torch.no_grad():
        for name in PARAMS:
            getattr(module, f"{name.replace('w_', 'weight_').replace('b_', 'bias_')}_l0").copy_(
                ctx.torch_tensor(data[name])
            )
    weights = [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0]
    x, h0, c0, proj = (ctx.torch_tensor(data[k]) for k in ("x", "h0", "c0", "proj"))

    def forward_backward(x: Any, h0: Any, c0: Any, proj: Any) -> list[Any]:
        inputs = [x.requires_grad_(), h0.requires_grad_(), c0.requires_grad_()]
        out, _ = module(x, (h0[None], c0[None]))
        loss = (out * proj).sum()
        grads = torch.autograd.grad(loss, [*inputs, *weights])
        return [loss.detach(), *grads]

    step = wrap(forward_backward)
    return Built(lambda: step(x.detach(), h0.detach(), c0.detach(), proj))


def cases(suite: str) -> list[Case]:
    n_in, hidden, batch, steps = SIZES[suite]
    return [
        Case(
            name=f"lstm-h{hidden}-in{n_in}-T{steps}-b{batch}-f32",
            family="lstm",
            description="LSTM forward+backward (scan vs nn.LSTM): loss and gradients of inputs, states, weights",
            dtype=DTYPE,
            make_data=lambda: make_data(n_in, hidden, batch, steps),
            systems=systems(_theano, _torch),
            params={"input": n_in, "hidden": hidden, "batch": batch, "steps": steps},
            work=flops(n_in, hidden, batch, steps),
            unit="GFLOP/s",
            latency=suite != "tiny",
            # weight gradients sum 1,600 float32 products per element: both systems are ~5e-7 of the largest
            # value away from a float64 run, which is more than 1e-5 absolute on gradients of size ~30
            tolerance_override=(1e-4, 1e-4),
        )
    ]
