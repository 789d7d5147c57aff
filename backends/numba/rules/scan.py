"""The Scan rule: the loop runs in machine code, calling the body's own generated graph function at each step.

The body is rewritten and generated as its own module (``codegen.inner_graph``); the kernel preallocates each
state's buffer (its initial values, then one row per step) and each other output's trace (at the first step,
when its row shape is known), checks every row's shape, and returns the traces (or final values).
Rows of 0-d values travel in 0-d holder arrays, since the body's arguments are arrays.
"""

from __future__ import annotations

from backends.numba.rules import Kernel, numba_rule
from backends.numba.scalar import np_dtype
from backends.source import Import
from symgraph.graph import Apply
from symgraph.ops.inner_graph import inner_fgraph
from symgraph.ops.scan import Scan


def _dims(array: str, axes: range) -> str:
    """``array``'s lengths along ``axes``, as tuple entries (static ranks: no tuple arithmetic to compile)."""
    return "".join(f"{array}.shape[{a}], " for a in axes)


def _differ(row: str, buffer: str, ndim: int) -> str:
    """True when ``row`` does not have the shape of one row of ``buffer``."""
    return " or ".join(f"{row}.shape[{a}] != {buffer}.shape[{a + 1}]" for a in range(ndim)) or "False"


def _fail(condition: str, message: str) -> list[str]:
    return [f"if {condition}:", f"    raise ValueError({message!r})"]


def _position(op: Scan, k: int, step: str) -> str:
    """Where state ``k``'s value of ``step`` lives in its buffer (a ring of its lags when only the last is kept)."""
    lag = op.lags[k]
    return f"({lag} + {step}) % {lag}" if op.keep_last[k] else f"{lag} + {step}"


@numba_rule.register(Scan)
def _scan(op: Scan, node: Apply) -> Kernel:
    from backends.numba.codegen import inner_graph  # codegen imports the rules

    modules, body, constants = inner_graph(inner_fgraph(op.inner_inputs, op.inner_outputs))
    n_in = len(node.inputs)
    params = [f"a{i}" for i in range(n_in)] + [f"k{j}" for j in range(len(constants))]
    seq_pos = list(range(1, 1 + op.n_seqs))
    init_pos = list(range(1 + op.n_seqs, 1 + op.n_seqs + op.n_states))
    non_seq_pos = list(range(1 + op.n_seqs + op.n_states, n_in))
    lags = op.lags
    pre = ["n = np.int64(a0[()])", *_fail("n < 0", f"{op}: n_steps must be >= 0")]
    for i, p in enumerate(seq_pos):
        pre += _fail(f"a{p}.shape[0] != n", f"{op}: sequence {i} does not have n_steps rows")
    for k, p in enumerate(init_pos):
        pre += _fail(f"a{p}.shape[0] != {lags[k]}", f"{op}: state {k} needs {lags[k]} initial values")
        dtype = np_dtype(node.inputs[p].dtype)
        size = f"{lags[k]}" if op.keep_last[k] else f"{lags[k]} + n"  # final value only: a ring of the lags
        rest = _dims(f"a{p}", range(1, node.inputs[p].ndim))
        pre += [f"b{k} = np.empty(({size}, {rest}), {dtype})", f"b{k}[:{lags[k]}] = a{p}"]
    nit_outs = node.outputs[op.n_states :]
    for j, out in enumerate(nit_outs):
        empty = (0,) * out.ndim
        pre.append(f"z{j} = np.empty({empty!r}, {np_dtype(out.dtype)})")
    pre.append("step = np.empty((), np.int64)")

    loop, args = ["step[()] = t"], ["step"]

    def row(source: str, index: str, ndim: int, holder: str, dtype: str) -> str:
        """The argument for one row: a view, or a 0-d holder filled with the scalar."""
        if ndim > 1:  # rows of reversed sequences are contiguous but typed 'A': one layout for the body to compile
            return f"np.ascontiguousarray({source}[{index}])"
        pre.append(f"{holder} = np.empty((), {dtype})")
        loop.append(f"{holder}[()] = {source}[{index}]")
        return holder

    for i, p in enumerate(seq_pos):
        args.append(row(f"a{p}", "t", node.inputs[p].ndim, f"s{i}", np_dtype(node.inputs[p].dtype)))
    for k, p in enumerate(init_pos):
        for m, tap in enumerate(op.taps[k]):
            args.append(row(f"b{k}", _position(op, k, f"t + {tap}"), node.inputs[p].ndim, f"h{k}_{m}",
                            np_dtype(node.inputs[p].dtype)))  # fmt: skip
    args += [f"a{p}" for p in non_seq_pos] + [f"k{j}" for j in range(len(constants))]
    loop.append(f"r = body({', '.join(args)})")
    for k, p in enumerate(init_pos):
        scalar = node.inputs[p].ndim == 1
        loop += _fail(
            _differ(f"r[{k}]", f"b{k}", node.inputs[p].ndim - 1), f"{op}: state {k} changed shape during the loop"
        )
        loop.append(f"b{k}[{_position(op, k, 't')}] = r[{k}]{'[()]' if scalar else ''}")
    for j, out in enumerate(nit_outs):
        r = f"r[{op.n_states + j}]"
        loop += ["if t == 0:", f"    z{j} = np.empty((n, {_dims(r, range(out.ndim - 1))}), {np_dtype(out.dtype)})"]
        loop += _fail(
            _differ(r, f"z{j}", out.ndim - 1), f"{op}: output {op.n_states + j} changed shape during the loop"
        )
        loop.append(f"z{j}[t] = {r}{'[()]' if out.ndim == 1 else ''}")
    post, returned = [], []
    for k, p in enumerate(init_pos):
        if not op.keep_last[k]:
            returned.append(f"b{k}[{lags[k]}:]")
        elif node.inputs[p].ndim == 1:
            post += [
                f"o{k} = np.empty((), {np_dtype(node.inputs[p].dtype)})",
                f"o{k}[()] = b{k}[{_position(op, k, 'n - 1')}]",
            ]
            returned.append(f"o{k}")
        else:
            returned.append(f"b{k}[{_position(op, k, 'n - 1')}].copy()")
    for j, out in enumerate(nit_outs):
        static = tuple(d if d is not None else 0 for d in out.type.shape[1:])
        post += ["if n == 0:", f"    z{j} = np.empty({(0, *static)!r}, {np_dtype(out.dtype)})"]
        returned.append(f"z{j}")
    lines = [*pre, "for t in range(n):", *(f"    {line}" for line in loop), *post]
    lines.append(f"return ({''.join(r + ', ' for r in returned)})")
    return Kernel(tuple(params), tuple(lines), imports=(Import(body, "graph", "body"),), modules=modules,
                  constants=constants)  # fmt: skip
