"""Fused elementwise chain ``exp(-x^2) * sin(3x) + log1p(|x|)``: one read and one write per element."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.cases.common import function_systems, short_dtype, size_label
from bench.harness import Case

SIZES = {"tiny": (7,), "default": (10**4, 10**6), "full": (10**4, 10**6, 10**7)}
DTYPES = ("float32", "float64")


def chain(ns: Any, x: Any) -> Any:
    """The chain in any namespace ``ns`` with exp/sin/log1p/abs (symgraph, PyTensor, torch)."""
    return ns.exp(-x * x) * ns.sin(3 * x) + ns.log1p(ns.abs(x))


def _torch_chain(x: Any) -> Any:
    import torch

    return chain(torch, x)


def cases(suite: str) -> list[Case]:
    systems = function_systems(lambda d, x: chain(d.T, x), _torch_chain)
    return [
        Case(
            name=f"elemwise-{size_label(n)}-{short_dtype(dtype)}",
            family="elemwise",
            description="exp(-x^2)*sin(3x)+log1p(|x|) on a vector",
            dtype=dtype,
            make_data=lambda n=n, dtype=dtype: {"x": (2 * np.random.default_rng(0).standard_normal(n)).astype(dtype)},
            systems=systems,
            params={"n": n},
            work=2 * n * np.dtype(dtype).itemsize,
            unit="GB/s",
            latency=suite == "full",
        )
        for n in SIZES[suite]
        for dtype in DTYPES
    ]
