"""Fusion: groups of Elemwise nodes, and the reductions they feed, become FusedElemwise nodes (one loop each).

``elemwise_fusion`` partitions the Elemwise nodes into convex groups, in time linear in the graph size:

1. Every other node is a *barrier*. Each Elemwise node gets a level: as soon as possible (the highest level
   of its Elemwise producers; one more than the highest level of an Elemwise node that reaches it through a
   barrier), then, walking back, as late as its consumers allow (so a node feeding only a later group joins
   it). Levels never decrease along an edge and increase through any barrier.
2. A producer and its consumer join the same group when they have the same level and the same broadcast
   pattern (same ndim, static length 1 on the same axes). A path that leaves a group and comes back would
   cross a barrier (raising the level) or an Elemwise node of the same level and pattern (which is then in the
   group): groups are convex. Equal patterns also make every member's runtime shape the loop shape, so the
   fused node raises exactly when the unfused graph would. An intermediate with a smaller pattern (say a
   bias row) stays outside as an input: inside it would be recomputed for every row.
3. Groups larger than MAX_STEPS nodes or MAX_INPUTS inputs are cut into runs of consecutive nodes in
   topological order (each convex), then into connected parts. A lone Elemwise node stays as it is.

A group member's output that is used outside the group becomes an output of the fused node (several outputs
are fine). ``reduction_fusion`` then moves a reduction (REDUCTIONS) into the FusedElemwise or Elemwise node
that computes its input, when nothing else uses that input: the reduction happens in the same pass.
"""

from __future__ import annotations

import math
from dataclasses import replace

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Variable
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.fused import REDUCTIONS, FusedElemwise, Output
from symgraph.ops.reduce import Reduce
from symgraph.rewrite.engine import register_pass

MAX_INPUTS = 32  # distinct inputs of a fused node
MAX_STEPS = 100  # scalar operations in a fused node


def _fusable(node: Apply) -> bool:
    return type(node.op) is Elemwise and not node.op.destroy_map


def _levels(fgraph: FunctionGraph, order: list[Apply], fusable: set[Apply]) -> dict[Apply, float]:
    """Level of each node (Elemwise: its group level; barrier: the bound it passes on)."""
    early: dict[Apply, float] = {}
    for node in order:  # Elemwise: max over producers; barrier: highest Elemwise level reaching it
        fused = node in fusable
        level = 0 if fused else -1
        for v in node.inputs:
            if v.owner in early:
                level = max(level, early[v.owner] + (fused and v.owner not in fusable))
        early[node] = level
    late: dict[Apply, float] = {}
    for node in reversed(order):  # Elemwise: min over consumers (one less through a barrier); barrier: min
        fused = node in fusable
        bound = math.inf
        for out in node.outputs:
            for client, _ in fgraph.clients[out]:
                if client != "output":
                    bound = min(bound, late[client] - (fused and client not in fusable))
        late[node] = early[node] if fused and bound == math.inf else bound
    return late


def _components(fgraph: FunctionGraph, nodes: list[Apply], key: dict[Apply, tuple]) -> list[list[Apply]]:
    """``nodes`` (in topological order) split into parts connected by producer -> consumer edges between nodes
    of equal ``key``; each part in topological order, parts ordered by their first node."""
    inside = set(nodes)
    part_of: dict[Apply, int] = {}
    for start in nodes:
        if start in part_of:
            continue
        part_of[start] = part = len(part_of)
        stack = [start]
        while stack:
            node = stack.pop()
            for other in [v.owner for v in node.inputs] + [c for c, _ in fgraph.clients[node.outputs[0]]]:
                if other in inside and other not in part_of and key[other] == key[start]:
                    part_of[other] = part
                    stack.append(other)
    parts: dict[int, list[Apply]] = {}
    for node in nodes:
        parts.setdefault(part_of[node], []).append(node)
    return list(parts.values())


def _runs(members: list[Apply]) -> list[list[Apply]]:
    """``members`` cut into runs of consecutive nodes within MAX_STEPS steps and MAX_INPUTS inputs."""
    runs: list[list[Apply]] = [[]]
    produced: set[Variable] = set()
    inputs: set[Variable] = set()
    for node in members:
        new = {v for v in node.inputs if v not in produced} - inputs
        if runs[-1] and (len(runs[-1]) == MAX_STEPS or len(inputs) + len(new) > MAX_INPUTS):
            runs.append([])
            produced, inputs = set(), set()
            new = set(node.inputs)
        runs[-1].append(node)
        inputs |= new
        produced.add(node.outputs[0])
    return runs


def _fuse(fgraph: FunctionGraph, members: list[Apply]) -> None:
    """Replace the connected, convex group ``members`` (in topological order) by one FusedElemwise node."""
    inside = set(members)
    inputs = list(dict.fromkeys(v for node in members for v in node.inputs if v.owner not in inside))
    outputs = [
        node.outputs[0]
        for node in members
        if any(c == "output" or c not in inside for c, _ in fgraph.clients[node.outputs[0]])
    ]
    new = FusedElemwise.from_graph(inputs, outputs, members).make_node(*inputs).outputs
    for old, var in zip(outputs, new):
        var.name = old.name
        fgraph.replace(old, var, reason="elemwise_fusion")


@register_pass("fusion", name="elemwise_fusion")
def elemwise_fusion(fgraph: FunctionGraph) -> int:
    """Fuse convex groups of two or more Elemwise nodes; return the number of fused nodes made."""
    order = fgraph.toposort()
    fusable = {node for node in order if _fusable(node)}
    if len(fusable) < 2:
        return 0
    level = _levels(fgraph, order, fusable)
    key = {node: (level[node], node.outputs[0].type.broadcastable) for node in fusable}  # equal: may join
    changes = 0
    for group in _components(fgraph, [node for node in order if node in fusable], key):
        if len(group) < 2:
            continue
        runs = _runs(group)
        parts = runs if len(runs) == 1 else [part for run in runs for part in _components(fgraph, run, key)]
        for part in parts:
            if len(part) > 1:
                _fuse(fgraph, part)
                changes += 1
    return changes


def _reductions_of(fgraph: FunctionGraph, var: Variable) -> list[Apply]:
    """The reductions using ``var``, if they are all that uses it."""
    clients = [c for c, _ in fgraph.clients.get(var, [])]
    if all(c != "output" and type(c.op) is Reduce and c.op.kind in REDUCTIONS for c in clients):
        return clients
    return []


@register_pass("fusion", name="reduction_fusion")
def reduction_fusion(fgraph: FunctionGraph) -> int:
    """Move each reduction into the Elemwise or FusedElemwise node computing its input, when that input has
    no other use; return the number of nodes rewritten."""
    changes = 0
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes or not any(_reductions_of(fgraph, v) for v in node.outputs):
            continue
        if _fusable(node) and len(set(node.inputs)) <= MAX_INPUTS:
            inputs = list(dict.fromkeys(node.inputs))
            op = FusedElemwise.from_graph(inputs, node.outputs)
        elif isinstance(node.op, FusedElemwise) and not node.op.inplace:
            inputs, op = node.inputs, node.op
        else:
            continue
        outputs: dict[Output, int] = {}  # each distinct output once (equal reductions are not merged yet)
        moves = []  # (variable replaced, index of the new output)
        for var, out in zip(node.outputs, op.program.outputs):
            reductions = _reductions_of(fgraph, var) if out.reduce is None else []
            specs = [(r.outputs[0], Output(out.slot, r.outputs[0].dtype, r.op.kind, r.op.axes)) for r in reductions]
            moves += [(old, outputs.setdefault(spec, len(outputs))) for old, spec in specs or [(var, out)]]
        new = FusedElemwise(replace(op.program, outputs=tuple(outputs))).make_node(*inputs).outputs
        for old, k in moves:
            new[k].name = old.name
            fgraph.replace(old, new[k], reason="reduction_fusion")
        changes += 1
    return changes
