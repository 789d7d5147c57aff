"""Backpropagation through time: the gradient of a Scan node is another Scan running over the steps backwards.

Step s of the backward loop handles forward step t = n - 1 - s. It recomputes that step's body from the forward
inputs of step t (sequence rows, the states' tap values, read from the forward traces) and takes its
vector-Jacobian product (``sg.grad`` with known gradients) with the cotangent of each output. A fed-back output
reads earlier values through its taps, so each state carries a window of pending cotangents: entry j holds
what later steps sent to the value computed j steps before the current one. Non-sequence gradients
accumulate in states; sequence gradients are the backward loop's traces. ``truncate_gradient`` limits the
backward loop to the last steps (earlier sequence rows and the initial values get zero gradient).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from symgraph.graph import Apply, Variable, ancestors, clone_replace
from symgraph.ops.alloc import arange, zeros, zeros_like
from symgraph.ops.elemwise import cast, eq, minimum
from symgraph.ops.inner_graph import placeholder
from symgraph.ops.scan import Scan
from symgraph.ops.shape import concatenate, dimshuffle, stack


def _row(var: Variable) -> Variable:
    """``var`` with a new leading axis of length 1 (an initial buffer of one value)."""
    return dimshuffle(var, ["x", *range(var.ndim)])


def _add(a: Variable | None, b: Variable | None) -> Variable | None:
    return b if a is None else a if b is None else a + b


def scan_vjp(node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
    """Gradients of a Scan node's inputs (n_steps, sequences, initial buffers, non-sequences)."""
    op: Scan = node.op
    n, seqs, inits, non_seqs = op.split_outer(node.inputs)
    step, rows, tap_inputs, inner_non_seqs = op.split_inner()
    ns, lags = op.n_states, op.lags
    g_states, g_nit = list(output_grads[:ns]), list(output_grads[ns:])
    if any(op.keep_last):  # the backward loop needs every step's state: recompute the traces
        full = replace(op, keep_last=(False,) * ns, extends=None)
        traces = full(*node.inputs)
        traces = traces if isinstance(traces, list) else [traces]
    else:
        traces = node.outputs
    truncated = op.truncate_gradient >= 0
    nb = minimum(n, op.truncate_gradient) if truncated else n

    def rev(x: Variable) -> Variable:  # the forward rows in backward order, first nb of them
        return x[::-1][:nb] if truncated else x[::-1]

    float_states = [k for k in range(ns) if inits[k].type.is_float]
    depends = {id(v) for v in ancestors(op.inner_outputs)}
    float_non_seqs = [m for m, v in enumerate(inner_non_seqs) if v.type.is_float and id(v) in depends]

    # backward loop inputs: placeholders for the forward inputs of step t and for the output cotangents
    b_step = placeholder(step)
    b_rows = [placeholder(r) for r in rows]
    b_taps = [[placeholder(v) for v in values] for values in tap_inputs]
    b_non_seqs = [placeholder(v) for v in inner_non_seqs]
    b_g_states = {k: placeholder(inits[k], drop_leading=True) for k in float_states
                  if g_states[k] is not None and not op.keep_last[k]}  # fmt: skip
    b_g_nit = {j: placeholder(node.outputs[ns + j], drop_leading=True) for j, g in enumerate(g_nit) if g is not None}
    pending = {k: _pending_placeholder(inits[k], lags[k]) for k in float_states}
    accums = {m: placeholder(inner_non_seqs[m]) for m in float_non_seqs}

    replace_map = {step: b_step, **dict(zip(rows, b_rows)), **dict(zip(inner_non_seqs, b_non_seqs))}
    for values, b_values in zip(tap_inputs, b_taps):
        replace_map.update(zip(values, b_values))
    forward = clone_replace(list(op.inner_outputs), replace_map)
    known: dict[Variable, Variable] = {}
    for k in float_states:
        cotangent = _add(pending[k] if lags[k] == 1 else pending[k][0], b_g_states.get(k))
        known[forward[k]] = _add(known.get(forward[k]), cotangent)
    for j, g in b_g_nit.items():
        known[forward[ns + j]] = _add(known.get(forward[ns + j]), g)
    float_rows = [i for i, r in enumerate(b_rows) if r.type.is_float]
    wrt = [b_rows[i] for i in float_rows] + [v for k in float_states for v in b_taps[k]]
    wrt += [b_non_seqs[m] for m in float_non_seqs]
    from symgraph.grad import grad

    grads = dict(zip(map(id, wrt), grad(None, wrt, known_grads=known, disconnected_inputs="ignore"))) if known else {}

    def g_of(var: Variable) -> Variable:
        return grads[id(var)] if id(var) in grads else zeros_like(var)

    new_pending = []
    for k in float_states:
        by_tap = {tap: g_of(v) for tap, v in zip(op.taps[k], b_taps[k])}
        if lags[k] == 1:
            new_pending.append(by_tap[-1])
            continue
        zero = zeros_like(b_taps[k][0])
        window = [_add(pending[k][j + 1], by_tap.get(-(j + 1))) for j in range(lags[k] - 1)]
        new_pending.append(stack([*window, by_tap.get(-lags[k], zero)]))
    new_accums = [accums[m] + g_of(b_non_seqs[m]) for m in float_non_seqs]
    row_grads = [g_of(b_rows[i]) for i in float_rows]

    # the backward Scan: sequences, then pending windows and accumulators as states, then non-sequences
    b_seq_inputs = [b_step, *b_rows, *[v for k in float_states for v in b_taps[k]]]
    b_seq_inputs += [b_g_states[k] for k in sorted(b_g_states)] + [b_g_nit[j] for j in sorted(b_g_nit)]
    outer_seqs = [rev(arange(n)), *[rev(s) for s in seqs]]
    for k in float_states:
        buffer = concatenate([inits[k], traces[k]])
        outer_seqs += [rev(buffer[lags[k] + tap : lags[k] + tap + n]) for tap in op.taps[k]]
    outer_seqs += [rev(g_states[k]) for k in sorted(b_g_states)] + [rev(g_nit[j]) for j in sorted(b_g_nit)]
    # step index is the first inner input of every Scan: the backward one's own step index is unused
    b_index = placeholder(step)
    backward = Scan(
        (b_index, *b_seq_inputs, *[pending[k] for k in float_states], *[accums[m] for m in float_non_seqs],
         *b_non_seqs),
        (*new_pending, *new_accums, *row_grads), len(b_seq_inputs),
        tuple((-1,) for _ in range(len(float_states) + len(float_non_seqs))), len(row_grads),
        (True,) * (len(float_states) + len(float_non_seqs)), f"grad_of_{op.name}", -1,
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
        in_grads[1 + op.n_seqs + k] = g_init * cast(complete, g_init.dtype) if complete is not None else g_init
    for pos, m in enumerate(float_non_seqs):
        in_grads[1 + op.n_seqs + ns + m] = results[len(float_states) + pos]
    for pos, i in enumerate(float_rows):
        trace = results[len(float_states) + len(float_non_seqs) + pos][::-1]
        if truncated:
            trace = concatenate([zeros((n - nb, *[seqs[i].shape[a] for a in range(1, seqs[i].ndim)]),
                                       dtype=trace.dtype), trace])  # fmt: skip
        in_grads[1 + i] = trace
    return in_grads


def _pending_placeholder(init: Variable, lag: int) -> Variable:
    """The window of pending cotangents of a state: one row per lag (just the value when the lag is 1)."""
    return placeholder(init, drop_leading=lag == 1, name="pending")


def _initial_pending(init: Variable, lag: int, g_last: Variable | None) -> Variable:
    """Before the last step nothing is pending, except the cotangent of a state whose final value is an output."""
    row = zeros_like(init[0])
    first = row if g_last is None else g_last + row
    if lag == 1:
        return first
    return concatenate([_row(first), zeros_like(init[1:])])
