"""Generated code described as data: a module of functions, which each backend's renderer turns into source.

Code generators build these descriptions (names, parameters, statements, compile options, imports) and one
renderer per backend (``backends/numba/render.py``) writes the text, so no generator edits source text after
the fact. Statements are in the backend's language; everything else here is backend-neutral.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Import:
    """``name`` from ``module``, bound as ``alias`` (its own name when empty)."""

    module: str
    name: str
    alias: str = ""


@dataclass(frozen=True)
class Function:
    """A compiled function. ``body`` holds one statement per entry, indented relative to the body (four spaces
    per nested block), never a line break inside one."""

    name: str
    params: tuple[str, ...]
    body: tuple[str, ...]
    fastmath: tuple[str, ...] = ()  # fast-math flags, e.g. ("reassoc",) to vectorize float accumulations
    parallel: bool = False  # its parallel loops (numba.prange) run on several threads
    entry: bool = False  # called from Python (other functions are called from compiled code only)


@dataclass(frozen=True)
class Module:
    """Functions with what they need: imports, module-level definitions (run at import, before any call) and
    comment lines shown above the functions."""

    functions: tuple[Function, ...]
    imports: tuple[Import, ...] = ()
    definitions: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()
