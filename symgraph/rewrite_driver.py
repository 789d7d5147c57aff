"""Applying rewrites to a FunctionGraph until nothing changes, within bounds.

A *node rewrite* is ``fn(fgraph, node) -> replacement | None`` that tracks some op classes (or, for Elemwise,
scalar-op names such as ``"log"``), so the driver only calls it on matching nodes. A replacement is a list of
new variables (one per output of ``node``, ``None`` to keep one), a single variable (one-output nodes) or a
dict ``{old: new}``. A *graph pass* is ``fn(fgraph) -> number of changes``. ``run_phase`` applies a list of
them to a fixed point, bounded by ``MAX_SWEEPS`` sweeps and by a node-count limit, and reports both limits.
The registry of named phases is ``symgraph.rewrite.engine``; this module needs no op, so that autodiff can run
its own few rewrites (``symgraph.stable_forms``) without it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from symgraph.errors import SymgraphError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Variable

MAX_SWEEPS = 30
GROWTH_LIMIT = 4  # a phase stops if the graph grows beyond GROWTH_LIMIT x its size + 1000 nodes

Replacement = Sequence[Variable | None] | Mapping[Variable, Variable] | Variable | None


class RewriteError(SymgraphError, RuntimeError):
    """A rewrite produced an invalid replacement (a bug in the rewrite, named in the message)."""


@dataclass(frozen=True)
class Rewrite:
    """A node rewrite, or a whole-graph pass when ``tracks`` is None."""

    name: str
    phase: str
    fn: Callable[..., Any]
    tracks: tuple[type | str, ...] | None
    tags: frozenset[str]

    @property
    def is_pass(self) -> bool:
        return self.tracks is None


@dataclass
class PhaseReport:
    """What one phase did."""

    phase: str
    nodes_before: int
    nodes_after: int = 0
    seconds: float = 0.0
    sweeps: int = 0
    stopped: str = ""  # why the phase stopped before a fixed point, if it did


def run_phase(fgraph: FunctionGraph, phase: str, rewrites: list[Rewrite], counts: Counter) -> PhaseReport:
    start = time.perf_counter()
    result = PhaseReport(phase, nodes_before=len(fgraph.apply_nodes))
    limit = GROWTH_LIMIT * result.nodes_before + 1000
    passes = [r for r in rewrites if r.is_pass]
    dispatch = _Dispatch([r for r in rewrites if not r.is_pass])
    while True:
        result.sweeps += 1
        changes = 0
        for rw in passes:
            n = int(rw.fn(fgraph) or 0)
            counts[rw.name] += n
            changes += n
        if dispatch:
            changes += _sweep(fgraph, dispatch, counts)
        if not changes:
            break
        if len(fgraph.apply_nodes) > limit:
            result.stopped = f"graph grew to {len(fgraph.apply_nodes)} nodes (limit {limit})"
            break
        if result.sweeps >= MAX_SWEEPS:
            result.stopped = f"no fixed point after {MAX_SWEEPS} sweeps"
            break
    result.nodes_after = len(fgraph.apply_nodes)
    result.seconds = time.perf_counter() - start
    return result


class _Dispatch:
    """Node rewrites indexed by what they track, so each node only meets the rewrites that concern it."""

    def __init__(self, rewrites: list[Rewrite]) -> None:
        self.by_name: dict[str, list[Rewrite]] = {}
        self.by_class: list[tuple[type, Rewrite]] = []
        self.everywhere: list[Rewrite] = []
        self._cache: dict[Any, list[Rewrite]] = {}
        self.order = {r.name: i for i, r in enumerate(rewrites)}
        for r in rewrites:
            if not r.tracks:
                self.everywhere.append(r)
            for t in r.tracks:
                if isinstance(t, str):
                    self.by_name.setdefault(t, []).append(r)
                else:
                    self.by_class.append((t, r))

    def __bool__(self) -> bool:
        return bool(self.by_name or self.by_class or self.everywhere)

    def __call__(self, node: Apply) -> list[Rewrite]:
        scalar = getattr(getattr(node.op, "scalar_op", None), "name", None)
        key = (type(node.op), scalar)
        if key not in self._cache:
            found = {r.name: r for cls, r in self.by_class if isinstance(node.op, cls)}
            found.update((r.name, r) for r in self.by_name.get(scalar, []) if scalar is not None)
            found.update((r.name, r) for r in self.everywhere)
            self._cache[key] = sorted(found.values(), key=lambda r: self.order[r.name])
        return self._cache[key]


def _sweep(fgraph: FunctionGraph, dispatch: _Dispatch, counts: Counter) -> int:
    changes = 0
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        for rw in dispatch(node):
            pairs = _pairs(rw, node, rw.fn(fgraph, node))
            if not pairs:
                continue
            for old, new in pairs:
                fgraph.replace(old, new, reason=rw.name)
            counts[rw.name] += 1
            changes += 1
            break
    return changes


def _pairs(rw: Rewrite, node: Apply, result: Replacement) -> list[tuple[Variable, Variable]]:
    """Normalize a rewrite's result to checked (old, new) pairs; drop identities."""
    if result is None or result is False:
        return []
    if isinstance(result, Variable):
        result = [result]
    if isinstance(result, Mapping):
        pairs = list(result.items())
    elif not isinstance(result, list | tuple):
        raise RewriteError(f"rewrite {rw.name} returned {result!r}, not variables")
    else:
        result = list(result)
        if len(result) != len(node.outputs):
            raise RewriteError(f"rewrite {rw.name} returned {len(result)} replacements for {len(node.outputs)} outputs")
        pairs = [(old, new) for old, new in zip(node.outputs, result) if new is not None]
    checked = []
    for old, new in pairs:
        if new is old:
            continue
        if not isinstance(new, Variable) or not old.type.is_super(new.type):
            got = new.type if isinstance(new, Variable) else repr(new)
            raise RewriteError(f"rewrite {rw.name} replaced {old!r} of type {old.type} by {got}")
        checked.append((old, new))
    return checked
