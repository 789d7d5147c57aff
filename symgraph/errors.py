"""Exception classes, and the helper that names the user's line that built a node."""

from __future__ import annotations

import functools
import os
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class SymgraphError(Exception):
    """Base class of every error symgraph raises on purpose."""


class SymgraphTypeError(SymgraphError, TypeError):
    """A dtype or type mismatch found while building a graph."""


class SymgraphValueError(SymgraphError, ValueError):
    """A bad shape, axis or argument value found while building a graph."""


class MissingInputError(SymgraphError, ValueError):
    """function() needs a variable that is neither an input, a constant nor shared."""


class CallError(SymgraphError, ValueError):
    """A compiled function was called with a bad value; the message names the input, or the op that rejected a
    value with its input shapes and the user's line that built it."""


class PerformError(SymgraphError, RuntimeError):
    """An op failed at run time for another reason; the message names the op, input shapes and where it was built."""


class AllocationError(SymgraphError, MemoryError):
    """An op could not allocate its result; the message names the op, its input shapes and where it was built."""


class ConfigError(SymgraphError, ValueError):
    """A setting (``sg.config`` or its ``SYMGRAPH_*`` environment variable) has a value it cannot take."""


class UnusedInputError(SymgraphError, ValueError):
    """function() was given an input that its outputs, updates and givens do not use."""


@functools.cache
def _inside_package(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)


def user_line() -> str:
    """``file:line`` of the innermost stack frame outside the symgraph package."""
    frame = sys._getframe(1)
    while frame is not None:
        if not _inside_package(frame.f_code.co_filename):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def build_error(cls: type[SymgraphError], op: object, inputs: object, message: str) -> SymgraphError:
    """An error for a failed graph build naming the op, its input types and the user's line."""
    types = ", ".join(str(getattr(v, "type", v)) for v in inputs) if inputs is not None else ""
    return cls(f"{op}: {message}\n  inputs: ({types})\n  built at: {user_line()}")


def describe_values(values: object) -> str:
    """``dtype shape`` of each value, with the value of 0-d ones (often a shape or an index)."""
    parts = []
    for value in values:
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
        text = f"{arr.dtype} {arr.shape}"
        parts.append(f"{text}={arr.item()!r}" if arr.ndim == 0 and arr.dtype.kind in "biuf" else text)
    return ", ".join(parts)


def error_class(err: BaseException) -> type[SymgraphError]:
    """The class reporting ``err`` from running an op: AllocationError for a failed allocation, CallError for a
    rejected value (ValueError, IndexError), PerformError for anything else; symgraph's own errors keep theirs."""
    if isinstance(err, MemoryError) or (isinstance(err, ValueError) and "array is too big" in str(err)):
        return AllocationError
    if isinstance(err, SymgraphError):
        return type(err)
    return CallError if isinstance(err, ValueError | IndexError) else PerformError


def run_error(node: object, args: object, err: BaseException, message: str | None = None) -> SymgraphError:
    """The error (``error_class``) for ``err``, raised by running ``node`` on ``args``: ``message`` (default: err's
    own) naming the op, with the input shapes and the user's line that built the node."""
    op = str(node.op)
    text = str(err) if message is None else message
    if not text.startswith(op):
        text = f"{op}: {text}" if isinstance(err, SymgraphError) else f"{op}: {type(err).__name__}: {text}"
    return error_class(err)(f"{text}\n  inputs: ({describe_values(args)})\n  built at: {node.created_at}")
