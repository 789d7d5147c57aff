"""Render a ``backends.source.Module`` as a Python module of ``numba.njit`` functions.

Equal descriptions render to identical text (the text's hash names the module in the on-disk cache): imports
and definitions keep their first occurrence in order, fast-math flags are sorted.
"""

from __future__ import annotations

from backends.source import Function, Import, Module

PREAMBLE = ("import math", "", "import numba", "import numpy as np")
#: options of every generated function: cached on disk, NumPy's floating-point errors (no exceptions), no GIL
JIT_OPTIONS = {"cache": True, "error_model": "numpy", "nogil": True}
#: options of a function that only compiled code calls
INNER_OPTIONS = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True}
INDENT = "    "


def render(module: Module) -> str:
    """The module's source: imports, definitions, comments, then the functions."""
    head = [*PREAMBLE, *(_import(i) for i in dict.fromkeys(module.imports))]
    top = [head, list(dict.fromkeys(module.definitions)), [f"# {line}" for line in module.comments]]
    sections = ["\n\n".join("\n".join(lines) for lines in top if lines), *(_function(f) for f in module.functions)]
    return "\n\n\n".join(sections) + "\n"


def _decorator(function: Function) -> str:
    options = {**JIT_OPTIONS, "parallel": True} if function.parallel else JIT_OPTIONS
    if not function.entry:  # numba builds no Python-callable wrappers for it (about a fifth of a kernel's compile)
        options = {**options, **INNER_OPTIONS}
    rendered = [f"{key}={value!r}" for key, value in options.items()]
    if function.fastmath:
        rendered.append(f"fastmath={{{', '.join(repr(flag) for flag in sorted(set(function.fastmath)))}}}")
    return f"@numba.njit({', '.join(rendered)})"


def _function(function: Function) -> str:
    header = f"def {function.name}({', '.join(function.params)}):"
    return "\n".join([_decorator(function), header, *(_statement(line) for line in function.body)])


def _statement(line: str) -> str:
    if "\n" in line:
        raise ValueError(f"a generated statement spans several lines (give each line its own entry): {line!r}")
    return INDENT + line if line else ""


def _import(entry: Import) -> str:
    alias = f" as {entry.alias}" if entry.alias and entry.alias != entry.name else ""
    return f"from {entry.module} import {entry.name}{alias}"
