"""Call overhead of a tiny graph: ``a + b`` on 3-element vectors, where dispatch is all the cost."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.cases.common import function_systems
from bench.harness import Case


def _torch_add(a: Any, b: Any) -> Any:
    return a + b


def cases(suite: str) -> list[Case]:
    return [
        Case(
            name="overhead-add3-f64",
            family="overhead",
            description="a + b on 3-element vectors (call overhead)",
            dtype="float64",
            make_data=lambda: {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([0.5, -1.0, 4.0])},
            systems=function_systems(lambda d, a, b: a + b, _torch_add),
            params={"n": 3},
            latency=suite == "full",
        )
    ]
