"""Global settings, read once from the environment (``SYMGRAPH_FLOATX``...) and checked on every assignment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backends import available_backends  # the registry only: no backend is imported
from symgraph.errors import ConfigError

_FLOAT_DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class _Option:
    variable: str  # the environment variable giving the initial value
    default: str
    parse: Callable[[str], Any]  # text -> value; ValueError or KeyError for text it cannot take
    valid: Callable[[Any], bool]
    expected: Callable[[], str]  # the valid values, in words


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


_OPTIONS = {
    "floatX": _Option(
        "SYMGRAPH_FLOATX", "float64", str, lambda v: v in _FLOAT_DTYPES, lambda: " or ".join(_FLOAT_DTYPES)
    ),
    "backend": _Option(
        "SYMGRAPH_BACKEND",
        "numba",
        str,
        lambda v: v in available_backends(),
        lambda: "one of " + ", ".join(available_backends()),
    ),
    # rewrite names are checked when a function is compiled (rewrite.engine.select)
    "rewrites": _Option("SYMGRAPH_REWRITES", "fast_run", lambda t: t or None, lambda v: True, lambda: ""),
    "num_threads": _Option("SYMGRAPH_NUM_THREADS", "1", int, _positive_int, lambda: "a positive integer"),
    "trace_rewrites": _Option(
        "SYMGRAPH_TRACE_REWRITES",
        "0",
        {"": False, "0": False, "1": True}.__getitem__,
        lambda v: isinstance(v, bool),
        lambda: "0 or 1 (True or False)",
    ),
}


_INVALID = object()


def _from_environment(name: str) -> Any:
    option = _OPTIONS[name]
    text = os.environ.get(option.variable, option.default)
    try:
        value = option.parse(text)
    except (ValueError, KeyError):
        value = _INVALID
    if value is _INVALID or not option.valid(value):
        raise ConfigError(f"{option.variable}={text!r} is not valid: expected {option.expected()}")
    return value


@dataclass
class Config:
    """Mutable process-wide settings; ``sg.config.floatX = "float32"`` takes effect for new variables."""

    floatX: str = field(default_factory=lambda: _from_environment("floatX"))  # noqa: N815 (Theano's spelling)
    backend: str = field(default_factory=lambda: _from_environment("backend"))
    rewrites: str | None = field(default_factory=lambda: _from_environment("rewrites"))
    num_threads: int = field(default_factory=lambda: _from_environment("num_threads"))
    trace_rewrites: bool = field(default_factory=lambda: _from_environment("trace_rewrites"))

    def __setattr__(self, name: str, value: object) -> None:
        if name not in _OPTIONS:
            raise AttributeError(f"unknown config option {name!r}")
        option = _OPTIONS[name]
        if not option.valid(value):
            raise ConfigError(f"config.{name} = {value!r} is not valid: expected {option.expected()}")
        object.__setattr__(self, name, value)


config = Config()
