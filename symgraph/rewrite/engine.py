"""The rewrite engine: small rewrites registered into named phases, applied to a FunctionGraph.

A node rewrite is registered with ``@register(phase, *tracks)``; ``tracks`` names the op classes (or, for
Elemwise, scalar-op names such as ``"log"``) it looks at, so the driver only calls it on matching nodes and
skips it when no such node exists. A graph pass is registered with ``@register_pass(phase)``, for work that
needs the whole graph (merge, fusion, inplace). What rewrites return, and how a phase runs to a bounded fixed
point, is ``symgraph.rewrite_driver``. ``rewrite_graph`` returns a ``RewriteReport`` (what fired, how often,
time and node counts per phase).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from symgraph.config import config
from symgraph.errors import SymgraphValueError
from symgraph.fgraph import FunctionGraph
from symgraph.rewrite_driver import PhaseReport, Rewrite, run_phase

PHASES = (
    "merge", "constant_folding", "canonicalize", "stabilize", "specialize", "fusion", "inplace", "final_merge",
)  # fmt: skip
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
    """Every registered rewrite, in phase order then registration order (importing this module ran
    ``symgraph/rewrite/__init__.py``, which imports every module that registers rewrites)."""
    return sorted(_REGISTRY.values(), key=lambda r: PHASES.index(r.phase))


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
            report.phases.append(run_phase(fgraph, phase, in_phase, report.counts))
    report.nodes_after = len(fgraph.apply_nodes)
    report.seconds = time.perf_counter() - start
    return report


_INNER_REWRITES: ContextVar[str | Sequence[str] | None] = ContextVar("inner_rewrites")


@contextmanager
def inner_rewrites(rewrites: str | Sequence[str] | None) -> Iterator[None]:
    """Within the block (in this thread), ``rewrite_inner_graph`` applies ``rewrites``: a function compiles the
    inner graphs of its nodes with its own selection."""
    token = _INNER_REWRITES.set(rewrites)
    try:
        yield
    finally:
        _INNER_REWRITES.reset(token)


def rewrite_inner_graph(fgraph: FunctionGraph) -> RewriteReport:
    """Rewrite an inner graph (a scan body, an ifelse branch) with the selection of the function being compiled
    (``config.rewrites`` outside ``inner_rewrites``)."""
    return rewrite_graph(fgraph, _INNER_REWRITES.get(config.rewrites))
