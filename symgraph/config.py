"""Global settings, read once from the environment (``SYMGRAPH_FLOATX``...)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

_FLOAT_DTYPES = ("float32", "float64")


def _env_floatx() -> str:
    value = os.environ.get("SYMGRAPH_FLOATX", "float64")
    if value not in _FLOAT_DTYPES:
        raise ValueError(f"SYMGRAPH_FLOATX must be one of {_FLOAT_DTYPES}, got {value!r}")
    return value


@dataclass
class Config:
    """Mutable process-wide settings; ``sg.config.floatX = "float32"`` takes effect for new variables."""

    floatX: str = field(default_factory=_env_floatx)  # noqa: N815 (Theano's spelling)
    backend: str = field(default_factory=lambda: os.environ.get("SYMGRAPH_BACKEND", "numba"))
    rewrites: str | None = field(default_factory=lambda: os.environ.get("SYMGRAPH_REWRITES", "fast_run") or None)
    num_threads: int = field(default_factory=lambda: int(os.environ.get("SYMGRAPH_NUM_THREADS", "1")))
    trace_rewrites: bool = field(default_factory=lambda: os.environ.get("SYMGRAPH_TRACE_REWRITES", "") == "1")

    def __setattr__(self, name: str, value: object) -> None:
        if name == "floatX" and value not in _FLOAT_DTYPES:
            raise ValueError(f"floatX must be one of {_FLOAT_DTYPES}, got {value!r}")
        if name == "num_threads" and (not isinstance(value, int) or value < 1):
            raise ValueError(f"num_threads must be a positive int, got {value!r}")
        if name not in self.__dataclass_fields__:
            raise AttributeError(f"unknown config option {name!r}")
        object.__setattr__(self, name, value)


config = Config()
