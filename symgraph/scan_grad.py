"""Backpropagation through time: the gradient of a Scan node is another Scan running over the steps backwards.

Step s of the backward loop handles forward step t = n - 1 - s: it takes the vector-Jacobian product of the
body (``sg.grad`` with known gradients) at that step. The forward values the product needs are not
recomputed: the forward loop is extended to also return them (one row per step; a rewrite then lets that
extended loop replace the original, see ``symgraph/rewrite/scan.py``), and the backward loop reads them as
sequences. A fed-back output reads earlier values through its taps, so each state carries a window of pending
cotangents: entry j holds what later steps sent to the value computed j steps before the current one.
Non-sequence gradients accumulate in states, except products ``dot(a.T, b)`` of per-step rows (a weight
gradient), which become one matrix product over all steps after the loop. ``truncate_gradient`` limits the
backward loop to the last steps (earlier sequence rows and the initial values get zero gradient).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from symgraph.grad import grad
from symgraph.graph import Apply, Variable, ancestors, clone_replace, toposort
from symgraph.op import Op
from symgraph.ops.alloc import arange, zeros, zeros_like
from symgraph.ops.elemwise import Elemwise, eq, minimum
from symgraph.ops.inner_graph import placeholder
from symgraph.ops.join import concatenate, stack
from symgraph.ops.linalg import Dot, dot
from symgraph.ops.shape import DimShuffle, Shape, ShapeI, dimshuffle, reshape


def _row(var: Variable) -> Variable:
    """``var`` with a new leading axis of length 1 (an initial buffer of one value)."""
    return dimshuffle(var, ["x", *range(var.ndim)])


def _add(a: Variable | None, b: Variable | None) -> Variable | None:
    return b if a is None else a if b is None else a + b


def _terms(var: Variable) -> list[Variable]:
    """The summands of ``var`` (flattening additions of same-typed terms)."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and node.op.scalar_op.name == "add":
        if all(i.type == var.type for i in node.inputs):
            return [t for i in node.inputs for t in _terms(i)]
    return [var]


def _outer_product(term: Variable) -> tuple[Variable, Variable] | None:
    """(a, b) when ``term`` is ``dot(a.T, b)`` of two matrices."""
    node = term.owner
    if node is None or not isinstance(node.op, Dot) or any(i.ndim != 2 for i in node.inputs):
        return None
    left = node.inputs[0].owner
    if left is None or not isinstance(left.op, DimShuffle) or tuple(left.op.pattern) != (1, 0):
        return None
    return left.inputs[0], node.inputs[1]


def scan_vjp(node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
    """Gradients of a Scan node's inputs (n_steps, sequences, initial buffers, non-sequences)."""
    op = node.op  # a Scan (symgraph.ops.scan imports this module for Scan.vjp)
    n, seqs, inits, non_seqs = op.split_outer(node.inputs)
    step, rows, tap_inputs, inner_non_seqs = op.split_inner()
    ns, lags = op.n_states, op.lags
    g_states, g_nit = list(output_grads[:ns]), list(output_grads[ns:])
    truncated = op.truncate_gradient >= 0
    nb = minimum(n, op.truncate_gradient) if truncated else n

    float_states = [k for k in range(ns) if inits[k].type.is_float]
    depends = {id(v) for v in ancestors(op.inner_outputs)}
    float_non_seqs = [m for m, v in enumerate(inner_non_seqs) if v.type.is_float and id(v) in depends]
    float_rows = [i for i, r in enumerate(rows) if r.type.is_float]

    # cotangent placeholders: per-step output gradients, pending windows, accumulators
    b_g_states = {k: placeholder(inits[k], drop_leading=True) for k in float_states
                  if g_states[k] is not None and not op.keep_last[k]}  # fmt: skip
    b_g_nit = {j: placeholder(node.outputs[ns + j], drop_leading=True) for j, g in enumerate(g_nit) if g is not None}
    pending = {k: placeholder(inits[k], drop_leading=lags[k] == 1, name="pending") for k in float_states}
    accums = {m: placeholder(inner_non_seqs[m]) for m in float_non_seqs}

    known: dict[Variable, Variable] = {}
    for k in float_states:
        cotangent = _add(pending[k] if lags[k] == 1 else pending[k][0], b_g_states.get(k))
        out = op.inner_outputs[k]
        known[out] = _add(known.get(out), cotangent)
    for j, g in b_g_nit.items():
        out = op.inner_outputs[ns + j]
        known[out] = _add(known.get(out), g)
    wrt = [rows[i] for i in float_rows] + [v for k in float_states for v in tap_inputs[k]]
    wrt += [inner_non_seqs[m] for m in float_non_seqs]
    grads = dict(zip(map(id, wrt), grad(None, wrt, known_grads=known, disconnected_inputs="ignore"))) if known else {}

    def g_of(var: Variable) -> Variable:
        return grads[id(var)] if id(var) in grads else zeros_like(var)

    new_pending = []
    for k in float_states:
        by_tap = {tap: g_of(v) for tap, v in zip(op.taps[k], tap_inputs[k])}
        if lags[k] == 1:
            new_pending.append(by_tap[-1])
            continue
        window = [_add(pending[k][j + 1], by_tap.get(-(j + 1))) for j in range(lags[k] - 1)]
        new_pending.append(stack([*window, by_tap.get(-lags[k], zeros_like(tap_inputs[k][0]))]))
    new_accums, products = [], []  # products: per non-sequence, the (a, b) rows of its dot(a.T, b) terms
    for m in float_non_seqs:
        terms = _terms(g_of(inner_non_seqs[m]))
        pairs = [p for p in map(_outer_product, terms) if p is not None]
        rest = [t for t in terms if _outer_product(t) is None]
        products.append(pairs)
        new_accums.append(accums[m] + sum(rest[1:], rest[0]) if rest else accums[m])
    row_grads = [g_of(rows[i]) for i in float_rows]
    product_rows = [v for pairs in products for pair in pairs for v in pair]
    b_outputs = [*new_pending, *new_accums, *row_grads, *product_rows]

    # forward values the backward step reads: saved by the forward loop, one row per step
    bound = [step, *rows, *[v for values in tap_inputs for v in values]]
    saved = _saved_values(op, b_outputs, bound, inner_non_seqs)
    saved += [v for k in float_states if op.keep_last[k] for v in tap_inputs[k]]  # no trace to read taps from
    extended = replace(op, inner_outputs=op.inner_outputs + tuple(saved), n_nit=op.n_nit + len(saved), extends=op)
    forward = extended(*node.inputs)
    forward = forward if isinstance(forward, list) else [forward]
    saved_traces = forward[len(node.outputs) :]
    saved_rows = [placeholder(v, name=f"saved_{v.name or 'value'}") for v in saved]
    b_outputs = clone_replace(b_outputs, dict(zip(saved, saved_rows)))

    def rev(x: Variable) -> Variable:  # the forward rows in backward order, first nb of them
        return x[::-1][:nb] if truncated else x[::-1]

    # the backward Scan: sequences, then pending windows and accumulators as states, then non-sequences
    read_taps = [k for k in float_states if not op.keep_last[k]]
    b_seq_inputs = [step, *rows, *[v for k in read_taps for v in tap_inputs[k]], *saved_rows]
    b_seq_inputs += [b_g_states[k] for k in sorted(b_g_states)] + [b_g_nit[j] for j in sorted(b_g_nit)]
    outer_seqs = [rev(arange(n)), *[rev(s) for s in seqs]]
    for k in read_taps:
        buffer = concatenate([inits[k], forward[k]])
        outer_seqs += [rev(buffer[lags[k] + tap : lags[k] + tap + n]) for tap in op.taps[k]]
    outer_seqs += [rev(t) for t in saved_traces]
    outer_seqs += [rev(g_states[k]) for k in sorted(b_g_states)] + [rev(g_nit[j]) for j in sorted(b_g_nit)]
    n_carried = len(float_states) + len(float_non_seqs)
    backward = type(op)(
        inner_inputs=(placeholder(step), *b_seq_inputs, *[pending[k] for k in float_states],
                      *[accums[m] for m in float_non_seqs], *inner_non_seqs),
        inner_outputs=tuple(b_outputs),
        n_seqs=len(b_seq_inputs),
        taps=tuple((-1,) for _ in range(n_carried)),
        n_nit=len(row_grads) + len(product_rows),
        keep_last=(True,) * n_carried,
        name=f"grad_of_{op.name}",
    )  # fmt: skip
    initial_pending = [_row(_initial_pending(inits[k], lags[k], g_states[k] if op.keep_last[k] else None))
                       for k in float_states]  # fmt: skip
    initial_accums = [_row(zeros_like(non_seqs[m])) for m in float_non_seqs]
    results = backward(nb, *outer_seqs, *initial_pending, *initial_accums, *non_seqs)
    results = results if isinstance(results, list) else [results]

    complete = eq(nb, n) if truncated else None  # truncated: the initial values get no gradient
    in_grads: list[Variable | None] = [None] * len(node.inputs)
    for pos, k in enumerate(float_states):
        final = results[pos]
        g_init = _row(final) if lags[k] == 1 else final[::-1]
        in_grads[1 + op.n_seqs + k] = g_init * complete.astype(g_init.dtype) if complete is not None else g_init
    traces = iter(results[n_carried + len(row_grads) :])
    for pos, m in enumerate(float_non_seqs):
        total = results[len(float_states) + pos]
        for _ in products[pos]:
            a, b = next(traces), next(traces)  # (steps, rows, i) and (steps, rows, j): sum_t a_t.T b_t
            total = total + dot(_merge_leading(a).T, _merge_leading(b))
        in_grads[1 + op.n_seqs + ns + m] = total
    for pos, i in enumerate(float_rows):
        trace = results[n_carried + pos][::-1]
        if truncated:
            rest = [seqs[i].shape[a] for a in range(1, seqs[i].ndim)]
            trace = concatenate([zeros((n - nb, *rest), dtype=trace.dtype), trace])
        in_grads[1 + i] = trace
    return in_grads


def _merge_leading(trace: Variable) -> Variable:
    """A (steps, rows, cols) trace as one (steps * rows, cols) matrix."""
    return reshape(trace, (trace.shape[0] * trace.shape[1], trace.shape[2]))


def _saved_values(op: Op, b_outputs: list[Variable], bound: list[Variable], non_seqs: list[Variable]) -> list:
    """The forward body's intermediate values (varying with the step) that the backward graph reads."""
    forward_nodes = toposort(op.inner_outputs)
    produced = {id(o) for n in forward_nodes for o in n.outputs}
    varying = {id(v) for v in bound}
    for n in forward_nodes:  # the shapes of the body's inputs are the same at every step
        if any(id(v) in varying for v in n.inputs) and not isinstance(n.op, Shape | ShapeI):
            varying.update(id(o) for o in n.outputs)
    forward_ids = {id(n) for n in forward_nodes}
    needed: dict[int, Variable] = {}
    for n in toposort(b_outputs, blockers=[*bound, *non_seqs]):
        if id(n) in forward_ids:
            continue
        for v in n.inputs:
            if id(v) in produced and id(v) in varying:
                needed.setdefault(id(v), v)
    for v in b_outputs:
        if id(v) in produced and id(v) in varying:
            needed.setdefault(id(v), v)
    return list(needed.values())


def _initial_pending(init: Variable, lag: int, g_last: Variable | None) -> Variable:
    """Before the last step nothing is pending, except the cotangent of a state whose final value is an output."""
    row = zeros_like(init[0])
    first = row if g_last is None else g_last + row
    if lag == 1:
        return first
    return concatenate([_row(first), zeros_like(init[1:])])
