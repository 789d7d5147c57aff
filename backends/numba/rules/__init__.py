"""One numba implementation rule per op type: ``numba_rule(op, node) -> Kernel``.

A rule returns a ``Kernel``: the description of a function of the node's input arrays returning a tuple of its
output arrays (``backends.numba.codegen`` names it and renders it into a module). Rules are registered with
``@numba_rule.register(OpClass)`` in the modules imported at the bottom of this file; an op without a rule is a
compile-time ``MissingRuleError``, never a silent fallback.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from backends.source import Import
from symgraph.errors import SymgraphError
from symgraph.graph import Apply


class MissingRuleError(SymgraphError, NotImplementedError):
    """The numba backend has no rule for an op in the graph."""


@dataclass(frozen=True)
class Kernel:
    """A function of the node's input arrays (``params``, one per input, then one per extra constant) returning a
    tuple of its output arrays; ``body`` is its statements (see ``backends.source.Function``)."""

    params: tuple[str, ...]
    body: tuple[str, ...]
    fastmath: tuple[str, ...] = ()  # LLVM fast-math flags for this kernel, e.g. ("reassoc",) for sums
    parallel_body: tuple[str, ...] | None = None  # same params and results, its outer loop a numba.prange
    imports: tuple[Import, ...] = ()  # names the body uses (helpers, inner graphs' functions)
    definitions: tuple[str, ...] = ()  # module-level statements the body relies on (vector math bindings)
    # generated modules the kernel imports (inner graphs of scan/ifelse), as (name, source), loaded first
    modules: tuple[tuple[str, str], ...] = ()
    # arrays passed after the node's inputs (an inner graph's constants): the graph passes them as its own
    constants: tuple[np.ndarray, ...] = ()


@functools.singledispatch
def numba_rule(op: object, node: Apply) -> Kernel:
    raise MissingRuleError(
        f"the numba backend has no rule for {op} (op type {type(op).__name__}), built at {node.created_at}; "
        "use backend='python' for this graph, or add a rule in backends/numba/rules/"
    )


from backends.numba.rules import alloc, control, elemwise, indexing, linalg, nnet, random, reduce, scan, shape  # noqa: E402,F401  (they register their rules)
