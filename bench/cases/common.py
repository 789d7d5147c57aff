"""What the benchmark families share: one graph definition for the Theano-like systems, one for torch.

symgraph and PyTensor are both Theano descendants, so a case writes its graph once against a
:class:`Dialect` (the handful of names where their APIs differ) and gets both systems from it; torch
eager and torch.compile share one Python function, compiled or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.context import Context
from bench.harness import Builder, Built


@dataclass(frozen=True)
class Dialect:
    """A Theano-like system: ``T`` is its tensor namespace (``exp``, ``dot``, ``tanh``...)."""

    T: Any
    tensor: Callable[[str, str, int], Any]  # (name, dtype, ndim) -> symbolic input
    shared: Callable[[np.ndarray, str], Any]
    grad: Callable[[Any, list], list]
    softmax: Callable[[Any], Any]  # over the last axis
    logsumexp: Callable[[Any, int], Any]
    mean_crossentropy: Callable[[Any, Any], Any]  # mean over rows of -log softmax(logits)[i, y[i]]
    function: Callable[..., Callable]  # (inputs, outputs, updates=None) -> compiled callable
    array: Callable[[np.ndarray], Any]  # host array -> what the compiled function takes
    scan: Callable[..., Any]  # Theano's scan(fn, sequences, outputs_info, non_sequences) -> (outputs, updates)


def symgraph_dialect(ctx: Context) -> Dialect:
    import symgraph as sg

    return Dialect(
        T=sg,
        tensor=lambda name, dtype, ndim: sg.tensor(name, dtype, ndim=ndim),
        shared=lambda value, name: sg.shared(value, name=name),
        grad=sg.grad,
        softmax=lambda x: sg.nnet.softmax(x, axis=-1),
        logsumexp=lambda x, axis: sg.logsumexp(x, axis=axis),
        mean_crossentropy=lambda logits, y: sg.nnet.categorical_crossentropy(sg.nnet.softmax(logits), y).mean(),
        function=lambda inputs, outputs, updates=None: sg.function(
            inputs, outputs, updates=updates, backend=ctx.backend
        ),
        array=ctx.backend_array,
        scan=sg.scan,
    )


def pytensor_dialect(ctx: Context) -> Dialect:
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.special import log_softmax, softmax

    def mean_crossentropy(logits: Any, y: Any) -> Any:
        return -log_softmax(logits, axis=-1)[pt.arange(y.shape[0]), y].mean()

    return Dialect(
        T=pt,
        tensor=lambda name, dtype, ndim: pt.tensor(name=name, dtype=dtype, shape=(None,) * ndim),
        shared=lambda value, name: pytensor.shared(value, name=name),
        grad=pytensor.grad,
        softmax=lambda x: softmax(x, axis=-1),
        logsumexp=lambda x, axis: pt.logsumexp(x, axis=axis),
        mean_crossentropy=mean_crossentropy,
        function=lambda inputs, outputs, updates=None: pytensor.function(
            inputs, outputs, updates=updates, mode="NUMBA"
        ),
        array=lambda array: array,
        scan=pytensor.scan,
    )


def eager(fn: Callable) -> Callable:
    return fn


def compiled(fn: Callable) -> Callable:
    """``torch.compile(fn)``, with dynamo's caches reset so that each case starts from clean guards
    (no recompile limit reached because earlier cases used the same function at other sizes)."""
    import torch

    torch._dynamo.reset()
    return torch.compile(fn)


TheanoGraph = Callable[[Dialect, dict[str, np.ndarray]], Built]
TorchGraph = Callable[[dict[str, np.ndarray], Context, Callable[[Callable], Callable]], Built]


def systems(theano: TheanoGraph, torch: TorchGraph) -> dict[str, Builder]:
    """Builders for all four systems from one Theano-like and one torch definition."""
    return {
        "symgraph": lambda data, ctx: theano(symgraph_dialect(ctx), data),
        "torch": lambda data, ctx: torch(data, ctx, eager),
        "torch.compile": lambda data, ctx: torch(data, ctx, compiled),
        "pytensor": lambda data, ctx: theano(pytensor_dialect(ctx), data),
    }


def function_systems(theano_expr: Callable[..., Any], torch_expr: Callable[..., Any]) -> dict[str, Builder]:
    """Builders for a pure function of the case's data arrays (in the data dict's order)."""

    def theano(d: Dialect, data: dict[str, np.ndarray]) -> Built:
        variables = [d.tensor(name, value.dtype.name, value.ndim) for name, value in data.items()]
        f = d.function(variables, theano_expr(d, *variables))
        args = [d.array(value) for value in data.values()]
        return Built(lambda: f(*args))

    def torch(data: dict[str, np.ndarray], ctx: Context, wrap: Callable[[Callable], Callable]) -> Built:
        fn = wrap(torch_expr)
        args = [ctx.torch_tensor(value) for value in data.values()]
        return Built(lambda: fn(*args))

    return systems(theano, torch)


def size_label(n: int) -> str:
    """``10000`` -> ``1e4``; other numbers as they are."""
    exponent = len(str(n)) - 1
    return f"1e{exponent}" if n == 10**exponent and n >= 1000 else str(n)


def short_dtype(dtype: str) -> str:
    return {"float32": "f32", "float64": "f64"}[dtype]
