"""Row-wise softmax and logsumexp of a matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.cases.common import function_systems, short_dtype
from bench.harness import Case

SHAPES = {"tiny": (3, 5), "default": (1000, 1000), "full": (1000, 1000)}
DTYPES = {"tiny": ("float32",), "default": ("float32",), "full": ("float32", "float64")}


def _torch_softmax(x: Any) -> Any:
    import torch

    return torch.softmax(x, dim=-1)


def _torch_logsumexp(x: Any) -> Any:
    import torch

    return torch.logsumexp(x, dim=1)


def cases(suite: str) -> list[Case]:
    rows, cols = SHAPES[suite]
    kinds = {
        "softmax": (function_systems(lambda d, x: d.softmax(x), _torch_softmax), 2 * rows * cols),
        "logsumexp": (function_systems(lambda d, x: d.logsumexp(x, 1), _torch_logsumexp), rows * cols + rows),
    }
    return [
        Case(
            name=f"{kind}-{rows}x{cols}-{short_dtype(dtype)}",
            family="softmax",
            description=f"{kind} over the rows of a matrix",
            dtype=dtype,
            make_data=lambda dtype=dtype: {
                "x": (3 * np.random.default_rng(0).standard_normal((rows, cols))).astype(dtype)
            },
            systems=systems,
            params={"rows": rows, "cols": cols},
            work=elements * np.dtype(dtype).itemsize,
            unit="GB/s",
            latency=suite == "full",
        )
        for kind, (systems, elements) in kinds.items()
        for dtype in DTYPES[suite]
    ]
