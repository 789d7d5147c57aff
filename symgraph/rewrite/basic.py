"""Merge (common subexpressions, equal constants) and constant folding."""

from __future__ import annotations

import numpy as np

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable, constant
from symgraph.rewrite.engine import register, register_pass

FOLD_MAX_GROWTH = 1024  # a folded constant may exceed its inputs' total size by at most this many elements


def merge(fgraph: FunctionGraph) -> int:
    """Make equal constants one variable and equal ops on the same inputs one node; return the merges made."""
    changes = 0
    constants: dict[tuple, Constant] = {}
    for var in list(fgraph.clients):
        if isinstance(var, Constant) and fgraph.clients.get(var):
            kept = constants.setdefault(var.signature(), var)
            if kept is not var:
                fgraph.replace(var, kept, reason="merge")
                changes += 1
    nodes: dict[tuple, Apply] = {}
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes or node.op.destroy_map:
            continue
        key = (node.op, tuple(id(v) for v in node.inputs))
        kept = nodes.get(key)
        if kept is None or kept not in fgraph.apply_nodes:
            nodes[key] = node
            continue
        if any(fgraph.destroyers(v) for v in node.outputs + kept.outputs):
            continue  # merged, the value would be read after (or overwritten twice by) the in-place nodes
        for old, new in zip(node.outputs, kept.outputs):
            fgraph.replace(old, new, reason="merge")
        changes += 1
    return changes


register_pass("merge", name="merge", tags=("fast_compile",))(merge)
register_pass("final_merge", name="final_merge", tags=("fast_compile",))(merge)


def constant_fold(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A node whose inputs are all constants becomes its value (unless that would bloat the graph)."""
    if not node.inputs or not all(isinstance(v, Constant) for v in node.inputs) or node.op.destroy_map:
        return None
    try:
        values = node.op.perform(node, [v.data for v in node.inputs])
    except Exception:  # noqa: BLE001 - the run-time call reports the failure with its context
        return None
    budget = sum(v.data.size for v in node.inputs) + FOLD_MAX_GROWTH
    if any(np.size(value) > budget for value in values):
        return None
    return [constant(np.asarray(value, dtype=out.dtype)) for value, out in zip(values, node.outputs)]


register("constant_folding", name="constant_folding", tags=("fast_compile",))(constant_fold)
register("canonicalize", name="canonical_constant_folding")(constant_fold)
