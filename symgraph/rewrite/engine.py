"""The rewrite engine: small rewrites registered into named phases, applied to a FunctionGraph.

A *node rewrite* is ``fn(fgraph, node) -> replacement | None`` registered with ``@register(phase, *tracks)``;
``tracks`` names the op classes (or, for Elemwise, scalar-op names such as ``"log"``) it looks at, so the
driver only calls it on matching nodes and skips it when no such node exists. A replacement is a list of
new variables (one per output of ``node``, ``None`` to keep one), a single variable (one-output nodes) or a
dict ``{old: new}``. A *graph pass* is ``fn(fgraph) -> number of changes`` registered with
``@register_pass(phase)``, for work that needs the whole graph (merge, fusion, inplace).

Each phase runs to a fixed point, bounded by ``MAX_SWEEPS`` sweeps and by a node-count limit, and both
limits are reported, never silent. ``rewrite_graph`` returns a ``RewriteReport`` (what fired, how often,
time and node counts per phase).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from symgraph.errors import SymgraphError, SymgraphValueError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Variable

PHASES = (
    "merge", "constant_folding", "canonicalize", "stabilize", "specialize", "fusion", "inplace", "final_merge",
)  # fmt: skip
MAX_SWEEPS = 30
GROWTH_LIMIT = 4  # a phase stops if the graph grows beyond GROWTH_LIMIT x its size + 1000 nodes

Replacement = Sequence[Variable | None] | Mapping[Variable, Variable] | Variable | None


class RewriteError(SymgraphError, RuntimeError):
    """A rewrite produced an invalid replacement (a bug in the rewrite, named in the message)."""


@dataclass(frozen=True)
class Rewrite:
    """One registered rewrite: a node rewrite, or a whole-graph pass when ``tracks`` is None."""

    name: str
    phase: str
    fn: Callable[..., Any]
    tracks: tuple[type | str, ...] | None
    tags: frozenset[str]

    @property
    def is_pass(self) -> bool:
        return self.tracks is None


_REGISTRY: dict[str, Rewrite] = {}


def _add(rewrite: Rewrite) -> None:
    if rewrite.phase not in PHASES:
        raise SymgraphValueError(f"unknown rewrite phase {rewrite.phase!r}; phases: {', '.join(PHASES)}")
    if rewrite.name in _REGISTRY:
        raise SymgraphValueError(f"a rewrite named {rewrite.name!r} is already registered")
    _REGISTRY[rewrite.name] = rewrite


def register(phase: str, *tracks: type | str, name: str | None = None, tags: Iterable[str] = ()) -> Callable:
    """Decorator: register ``fn(fgraph, node)`` as a node rewrite of ``phase`` for nodes matching ``tracks``.

    A track is an Op subclass (matches its instances and subclasses' instances) or a scalar-op name
    (matches Elemwise nodes of that scalar op). No tracks: every node.
    """

    def decorate(fn: Callable) -> Callable:
        all_tags = frozenset(tags) | {phase, "fast_run"}
        _add(Rewrite(name or fn.__name__, phase, fn, tuple(tracks), all_tags))
        return fn

    return decorate


def register_pass(phase: str, name: str | None = None, tags: Iterable[str] = ()) -> Callable:
    """Decorator: register ``fn(fgraph) -> number of changes`` as a whole-graph pass of ``phase``."""

    def decorate(fn: Callable) -> Callable:
        _add(Rewrite(name or fn.__name__, phase, fn, None, frozenset(tags) | {phase, "fast_run"}))
        return fn

    return decorate


def unregister(name: str) -> None:
    """Remove a registered rewrite (e.g. one a user or a test added)."""
    if name not in _REGISTRY:
        raise SymgraphValueError(f"no rewrite named {name!r} is registered")
    del _REGISTRY[name]


def registered() -> list[Rewrite]:
    """Every registered rewrite, in phase order then registration order."""
    _load_rewrite_modules()
    return sorted(_REGISTRY.values(), key=lambda r: PHASES.index(r.phase))


def _load_rewrite_modules() -> None:
    import symgraph.rewrite  # noqa: F401  (its __init__ imports every module that registers rewrites)


def select(rewrites: str | Sequence[str] | None) -> list[Rewrite]:
    """The rewrites a ``function(..., rewrites=...)`` argument asks for.

    ``"fast_run"`` (all), ``"fast_compile"`` (the cheap, stability-preserving subset), ``None`` (none), or a
    list of tags and rewrite names to include, where ``"-tag"`` excludes (only exclusions: from fast_run).
    """
    every = registered()
    if rewrites is None:
        return []
    items = [rewrites] if isinstance(rewrites, str) else list(rewrites)
    known = set().union(*(r.tags | {r.name} for r in every)) | {"fast_compile"}
    for item in items:
        if not isinstance(item, str) or item.lstrip("-") not in known:
            raise SymgraphValueError(
                f"rewrites: unknown tag or rewrite {item!r}; known: None, {', '.join(sorted(known))}"
            )
    include = {i for i in items if not i.startswith("-")} or {"fast_run"}
    exclude = {i[1:] for i in items if i.startswith("-")}
    return [r for r in every if (r.tags | {r.name}) & include and not (r.tags | {r.name}) & exclude]


@dataclass
class PhaseReport:
    """What one phase did."""

    phase: str
    nodes_before: int
    nodes_after: int = 0
    seconds: float = 0.0
    sweeps: int = 0
    stopped: str = ""  # why the phase stopped before a fixed point, if it did


@dataclass
class RewriteReport:
    """Which rewrites fired and how often, with time and node counts per phase."""

    nodes_before: int
    nodes_after: int = 0
    seconds: float = 0.0
    counts: Counter = field(default_factory=Counter)
    phases: list[PhaseReport] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"rewrites: {self.nodes_before} -> {self.nodes_after} nodes in {self.seconds * 1e3:.1f} ms",
        ]
        for p in self.phases:
            note = f"  STOPPED: {p.stopped}" if p.stopped else ""
            lines.append(
                f"  {p.phase:<16} {p.nodes_before:>6} -> {p.nodes_after:<6} nodes "
                f"{p.seconds * 1e3:8.1f} ms  {p.sweeps} sweep(s){note}"
            )
            fired = [(n, c) for n, c in self.counts.most_common() if c and _REGISTRY[n].phase == p.phase]
            lines += [f"      {count:>5} x {name}" for name, count in fired]
        return "\n".join(lines)


def rewrite_graph(fgraph: FunctionGraph, rewrites: str | Sequence[str] | None = "fast_run") -> RewriteReport:
    """Apply the selected rewrites to ``fgraph`` in place, phase by phase; return what happened."""
    chosen = select(rewrites)
    report = RewriteReport(nodes_before=len(fgraph.apply_nodes))
    start = time.perf_counter()
    for phase in PHASES:
        in_phase = [r for r in chosen if r.phase == phase]
        if in_phase:
            report.phases.append(_run_phase(fgraph, phase, in_phase, report.counts))
    report.nodes_after = len(fgraph.apply_nodes)
    report.seconds = time.perf_counter() - start
    return report


def _run_phase(fgraph: FunctionGraph, phase: str, rewrites: list[Rewrite], counts: Counter) -> PhaseReport:
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
