"""The Scan op: a loop whose body is an inner graph, run for ``n_steps`` steps.

Outer inputs: ``n_steps`` (int64 scalar), the sequences (each exactly ``n_steps`` rows; step t reads row t),
the initial buffers of the recurrent states (state k has ``taps[k]``, negative offsets; its buffer holds
the ``L_k = -min(taps[k])`` values before step 0), and the non-sequences (read by every step).
Inner inputs: the step index (int64 scalar), one row of each sequence, the tap values of each state (in the
order of its taps), the non-sequences. Inner outputs: each state's new value, then the ``n_nit`` outputs
that are not fed back. Outer outputs: each state's trace (``n_steps`` rows, initial values excluded), or
only its final value when ``keep_last[k]``; then each other output's trace.

The user-facing ``sg.scan`` (``symgraph/scan.py``) builds this op; its gradient is in ``symgraph/scan_grad.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.errors import CallError
from symgraph.graph import Apply, Constant, Variable, as_variable, clone_replace
from symgraph.infer_shape import symbolic_shape
from symgraph.ops.elemwise import cast
from symgraph.ops.inner_graph import InnerGraphOp, reference_evaluator, structure
from symgraph.scan_grad import scan_vjp
from symgraph.types import TensorType


@dataclass(frozen=True, eq=False, kw_only=True)
class Scan(InnerGraphOp):
    """A loop over an inner graph (see the module docstring for the input and output layout); built with keywords.
    Equal loops (same body structure and fields) are equal ops."""

    inner_inputs: tuple[Variable, ...]
    inner_outputs: tuple[Variable, ...]
    n_seqs: int
    taps: tuple[tuple[int, ...], ...]
    n_nit: int
    keep_last: tuple[bool, ...]
    name: str = "scan"
    truncate_gradient: int = -1
    extends: Scan | None = None  # the scan whose outputs this one's first outputs repeat (see scan_grad)

    # -- layout ----------------------------------------------------------------------------
    @property
    def n_states(self) -> int:
        return len(self.taps)

    @property
    def lags(self) -> tuple[int, ...]:
        """Per state, how many values before step 0 its buffer holds."""
        return tuple(-min(t) for t in self.taps)

    @property
    def n_non_seqs(self) -> int:
        return len(self.inner_inputs) - 1 - self.n_seqs - sum(len(t) for t in self.taps)

    def split_outer(self, inputs: Sequence[Any]) -> tuple[Any, list, list, list]:
        """(n_steps, sequences, initial buffers, non-sequences) of a node's inputs."""
        s, k = 1 + self.n_seqs, 1 + self.n_seqs + self.n_states
        return inputs[0], list(inputs[1:s]), list(inputs[s:k]), list(inputs[k:])

    def split_inner(self) -> tuple[Variable, list, list[list], list]:
        """(step index, sequence rows, per-state tap values, non-sequences) of the inner inputs."""
        inner = list(self.inner_inputs)
        pos = 1 + self.n_seqs
        taps = []
        for t in self.taps:
            taps.append(inner[pos : pos + len(t)])
            pos += len(t)
        return inner[0], inner[1 : 1 + self.n_seqs], taps, inner[pos:]

    def key(self) -> tuple:
        graph = structure(self.inner_inputs, self.inner_outputs)
        return (graph, self.n_seqs, self.taps, self.n_nit, self.keep_last, self.name, self.truncate_gradient,
                self.extends)  # fmt: skip

    def __str__(self) -> str:
        return f"Scan{{{self.name}, states={self.n_states}, nit={self.n_nit}}}"

    # -- building --------------------------------------------------------------------------
    def make_node(self, n_steps: Any, *outer: Any) -> Apply:
        n_steps = as_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype[0] not in "iu":
            raise self.type_error([n_steps], f"n_steps must be an integer scalar, got {n_steps.type}")
        if n_steps.dtype != "int64":
            n_steps = cast(n_steps, "int64")
        expected = self.n_seqs + self.n_states + self.n_non_seqs
        if len(outer) != expected:
            raise self.type_error(outer, f"expected {expected} inputs after n_steps, got {len(outer)}")
        outer = [as_variable(v) for v in outer]
        _, seqs, inits, non_seqs = self.split_outer([n_steps, *outer])
        _, rows, taps, inner_non_seqs = self.split_inner()
        for what, outs, ins in (("sequence", seqs, rows), ("initial state", inits, [t[0] for t in taps])):
            for i, (o, v) in enumerate(zip(outs, ins)):
                if o.dtype != v.dtype or o.ndim != v.ndim + 1:
                    raise self.type_error(
                        outer, f"{what} {i} has type {o.type}; the loop body expects rows of {v.type}"
                    )
        for i, (o, v) in enumerate(zip(non_seqs, inner_non_seqs)):
            if o.dtype != v.dtype or o.ndim != v.ndim:
                raise self.type_error(outer, f"non-sequence {i} has type {o.type}; the loop body expects {v.type}")
        n_static = int(n_steps.data) if isinstance(n_steps, Constant) else None
        types = []
        for k, init in enumerate(inits):
            state = _merged_shape(init.type.shape[1:], self.inner_outputs[k].type.shape)
            types.append(TensorType(init.dtype, state if self.keep_last[k] else (n_static, *state)))
        for out in self.inner_outputs[self.n_states :]:
            types.append(TensorType(out.dtype, (n_static, *out.type.shape)))
        return Apply(self, [n_steps, *outer], types)

    # -- reference -------------------------------------------------------------------------
    @functools.cached_property
    def _evaluate(self) -> Any:
        return reference_evaluator(self.inner_inputs, self.inner_outputs)

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        n_arr, seqs, inits, non_seqs = self.split_outer(inputs)
        n = int(n_arr)
        self.check_lengths(n, seqs, inits)
        lags = self.lags
        sizes = [lag if last else lag + n for lag, last in zip(lags, self.keep_last)]  # final value only: a ring
        buffers = [np.empty((size, *init.shape[1:]), init.dtype) for size, init in zip(sizes, inits)]
        for buf, init, lag in zip(buffers, inits, lags):
            buf[:lag] = init
        traces: list[np.ndarray | None] = [None] * self.n_nit
        for t in range(n):
            args = [np.asarray(t, np.int64)] + [s[t] for s in seqs]
            for buf, lag, taps in zip(buffers, lags, self.taps):
                args.extend(buf[(lag + t + tap) % len(buf)] for tap in taps)
            args.extend(non_seqs)
            results = self._evaluate(args)
            for k, (buf, value) in enumerate(zip(buffers, results)):
                self.check_row(k, value.shape, buf.shape[1:], t)
                buf[(lags[k] + t) % len(buf)] = value
            for j, value in enumerate(results[self.n_states :]):
                if traces[j] is None:
                    traces[j] = np.empty((n, *value.shape), value.dtype)
                self.check_row(self.n_states + j, value.shape, traces[j].shape[1:], t)
                traces[j][t] = value  # copied into the trace
        outputs = [
            np.array(buf[(lag + n - 1) % len(buf)]) if last else buf[lag:]
            for buf, lag, last in zip(buffers, lags, self.keep_last)
        ]
        for j, trace in enumerate(traces):
            out = node.outputs[self.n_states + j]
            outputs.append(trace if trace is not None else np.empty(_empty_shape(out.type), out.dtype))
        return outputs

    def check_lengths(self, n: int, seqs: Sequence[np.ndarray], inits: Sequence[np.ndarray]) -> None:
        """Run-time checks of the loop's extent (the numba rule makes the same checks)."""
        if n < 0:
            raise CallError(f"{self}: n_steps is {n}; it must be >= 0")
        for i, seq in enumerate(seqs):
            if seq.shape[0] != n:
                raise CallError(f"{self}: sequence {i} has {seq.shape[0]} rows for {n} steps")
        for k, (init, lag) in enumerate(zip(inits, self.lags)):
            if init.shape[0] != lag:
                raise CallError(
                    f"{self}: state {k} needs {lag} initial values (taps {self.taps[k]}), got {init.shape[0]}"
                )

    def check_row(self, k: int, got: tuple, expected: tuple, t: int) -> None:
        if got != expected:
            raise CallError(f"{self}: output {k} has shape {got} at step {t}, expected {expected} (from earlier steps)")

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        n_steps = node.inputs[0]
        _, seqs, inits, non_seqs = self.split_outer(node.inputs)
        shapes = [
            tuple(s[1:]) if last else (n_steps, *s[1:])
            for s, last in zip(input_shapes[1 + self.n_seqs : 1 + self.n_seqs + self.n_states], self.keep_last)
        ]
        if self.n_nit:
            step, rows, taps, inner_non_seqs = self.split_inner()
            replace = {step: as_variable(np.int64(0))}
            replace.update((row, seq[0]) for row, seq in zip(rows, seqs))
            for values, init in zip(taps, inits):
                replace.update((v, init[0]) for v in values)
            replace.update(zip(inner_non_seqs, non_seqs))
            for out in self.inner_outputs[self.n_states :]:
                inner = symbolic_shape(out)
                symbolic = [d for d in inner if isinstance(d, Variable)]
                mapped = iter(clone_replace(symbolic, replace)) if symbolic else iter(())
                shapes.append((n_steps, *(next(mapped) if isinstance(d, Variable) else d for d in inner)))
        return shapes

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        return scan_vjp(node, output_grads)


def _merged_shape(a: tuple, b: tuple) -> tuple:
    """Static lengths known in either ``a`` or ``b`` (they are checked equal at run time)."""
    return tuple(x if x is not None else y for x, y in zip(a, b))


def _empty_shape(kind: TensorType) -> tuple[int, ...]:
    """The shape of a trace of zero steps whose row shape is only known statically (unknown lengths -> 0)."""
    return (0, *(d if d is not None else 0 for d in kind.shape[1:]))
