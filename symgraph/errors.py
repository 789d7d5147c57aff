"""Exception classes, and the helper that names the user's line that built a node."""

from __future__ import annotations

import functools
import os
import sys

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
    """A compiled function was called with a bad value; the message names the input."""


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
