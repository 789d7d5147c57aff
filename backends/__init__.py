"""Backend registry: a name maps to a module-level object with ``compile(fgraph) -> thunk``.

A thunk takes the list of input arrays (in ``fgraph.inputs`` order) and returns the list of
output arrays. Backends are imported on first use, so optional ones cost nothing until asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

_BACKENDS = {"python": "backends.python", "numba": "backends.numba"}


def register_backend(name: str, module: str) -> None:
    """Make ``module`` (which defines ``compile``) available as ``backend=name``."""
    _BACKENDS[name] = module


def available_backends() -> list[str]:
    return sorted(_BACKENDS)


def get_backend(name: str) -> Any:
    """The backend module registered as ``name``."""
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; available: {', '.join(available_backends())}")
    return importlib.import_module(_BACKENDS[name])
