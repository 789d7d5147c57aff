"""Rewrites of Scan nodes.

``scan_extension``: the gradient of a Scan extends its forward loop to also return the values the backward
loop reads (``symgraph/scan_grad.py``). When the original loop is in the graph too, it gives way to the
extension (same inputs, same first outputs), so the forward loop runs once.
``scan_hoist_invariants``: loop-invariant body values move before the loop. ``scan_keep_last``: a state read
only at its last row stops keeping its history. The body itself is rewritten when a backend compiles it.
"""

from __future__ import annotations

from dataclasses import replace

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable, clone_replace, toposort
from symgraph.ops.indexing import Subtensor
from symgraph.ops.inner_graph import placeholder
from symgraph.ops.scan import Scan
from symgraph.rewrite.engine import register


@register("merge", Scan)
def scan_extension(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """The outputs of ``node`` taken from a Scan in the graph that extends it and reads the same inputs."""
    for client, _ in fgraph.clients.get(node.inputs[0], []):
        if (
            client is not node
            and not isinstance(client, str)
            and isinstance(client.op, Scan)
            and client.op.extends == node.op
            and len(client.inputs) == len(node.inputs)
            and all(a is b for a, b in zip(client.inputs, node.inputs))
        ):
            return client.outputs[: len(node.outputs)]
    return None


def _varying(op: Scan) -> set[int]:
    """Ids of the body's variables that change from step to step (they depend on the step index, a sequence
    row or a state's taps)."""
    step, rows, taps, _ = op.split_inner()
    varying = {id(v) for v in [step, *rows, *[v for values in taps for v in values]]}
    for inner in toposort(op.inner_outputs):
        if any(id(v) in varying for v in inner.inputs):
            varying.update(id(o) for o in inner.outputs)
    return varying


@register("canonicalize", Scan)
def scan_hoist_invariants(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """Body values that depend only on non-sequences and constants are computed once, before the loop,
    and enter the loop as new non-sequences."""
    op: Scan = node.op
    varying = _varying(op)
    _, _, _, inner_non_seqs = op.split_inner()
    inputs = {id(v) for v in op.inner_inputs}
    hoisted: dict[int, Variable] = {}
    for inner in toposort(op.inner_outputs):
        if id(inner.outputs[0]) in varying:
            for v in inner.inputs:
                if id(v) not in varying and id(v) not in inputs and not isinstance(v, Constant):
                    hoisted.setdefault(id(v), v)
    if not hoisted:
        return None
    invariant = list(hoisted.values())
    outer_non_seqs = op.split_outer(node.inputs)[3]
    outer = clone_replace(invariant, dict(zip(inner_non_seqs, outer_non_seqs)))
    stand_ins = [placeholder(v) for v in invariant]
    body = clone_replace(list(op.inner_outputs), dict(zip(invariant, stand_ins)))
    new_op = replace(op, inner_inputs=op.inner_inputs + tuple(stand_ins), inner_outputs=tuple(body), extends=None)
    return new_op.make_node(*node.inputs, *outer).outputs


@register("canonicalize", Scan)
def scan_keep_last(fgraph: FunctionGraph, node: Apply) -> list[Variable] | None:
    """A state whose trace is only read at its last row keeps only the values its taps need, not every step."""
    op: Scan = node.op
    last = list(op.keep_last)
    readers: dict[int, list[Variable]] = {}
    for k in range(op.n_states):
        clients = fgraph.clients.get(node.outputs[k], [])
        if op.keep_last[k] or not clients:
            continue
        if all(not isinstance(c, str) and isinstance(c.op, Subtensor) and c.op.idx_list == ("i",)
               and isinstance(c.inputs[1], Constant) and int(c.inputs[1].data) == -1 for c, _ in clients):  # fmt: skip
            last[k] = True
            readers[k] = [c.outputs[0] for c, _ in clients]
    if not readers:
        return None
    new = replace(op, keep_last=tuple(last), extends=None).make_node(*node.inputs)
    replacements: dict[Variable, Variable] = {}
    for k, old in enumerate(node.outputs):
        if k in readers:
            replacements.update((reader, new.outputs[k]) for reader in readers[k])
        else:
            replacements[old] = new.outputs[k]
    return replacements
