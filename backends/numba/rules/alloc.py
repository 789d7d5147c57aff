"""Rules for allocation: alloc, broadcast_to, arange and eye."""

from __future__ import annotations

import numpy as np

from backends.numba.rules import Kernel, numba_rule
from backends.numba.rules.reduce import Code, index
from backends.numba.scalar import np_dtype
from symgraph.graph import Apply
from symgraph.ops.alloc import Alloc, ARange, BroadcastTo, Eye, _Broadcast
from symgraph.types import INT_DTYPES


def _target_shape(code: Code, op: _Broadcast, ndim: int) -> str:
    """Read the lengths ``n<a>`` (inputs 1...), checked >= 0; the shape tuple expression."""
    code(*(f"n{a} = a{a + 1}[()]" for a in range(ndim)))
    if ndim:
        code.fail(" or ".join(f"n{a} < 0" for a in range(ndim)), f"{op}: negative dimensions are not allowed")
    return f"({''.join(f'n{a}, ' for a in range(ndim))})"


@numba_rule.register(Alloc)
def _alloc(op: Alloc, node: Apply) -> Kernel:
    """A scalar fills the new array directly; a tensor is broadcast by NumPy's rules (a length 1 at run time
    broadcasts, as in ``np.full``) and copied."""
    value, out = node.inputs[0], node.outputs[0]
    code = Code(len(node.inputs))
    shape = _target_shape(code, op, out.ndim)
    if value.ndim == 0:
        return code.kernel(f"np.full({shape}, a0[()], {np_dtype(out.dtype)})")
    code(f"v = np.broadcast_to(a0, {shape})", f"o0 = np.empty({shape}, {np_dtype(out.dtype)})")
    with code.loops(range(out.ndim)):
        code(f"o0[{index(range(out.ndim))}] = v[{index(range(out.ndim))}]")
    return code.kernel("o0")


@numba_rule.register(BroadcastTo)
def _broadcast_to(op: BroadcastTo, node: Apply) -> Kernel:
    """A read-only broadcast view (its view_map allows it)."""
    code = Code(len(node.inputs))
    shape = _target_shape(code, op, node.outputs[0].ndim)
    return code.kernel(f"np.broadcast_to(a0, {shape})")


@numba_rule.register(ARange)
def _arange(op: ARange, node: Apply) -> Kernel:
    """NumPy's algorithm: length ceil((stop - start) / step) in double precision; the first two elements are
    ``start`` and ``start + step`` converted to the dtype (Python ints out of an integer dtype's range fail),
    then element i is ``first + i * (second - first)`` in the dtype's arithmetic."""
    dtype = op.dtype
    exact = all(v.dtype in INT_DTYPES for v in node.inputs)  # NumPy adds Python ints exactly, else floats
    wide = "np.int64" if exact else "np.float64"
    code = Code(3)
    code(*(f"{name} = {wide}(a{i}[()])" for i, name in enumerate(("start", "stop", "step"))))
    code.fail("step == 0", f"{op}: step must not be 0")
    code("span = (stop - start) / step")
    code.fail("not np.isfinite(span)", f"{op}: cannot compute the length")
    code("n = max(int(np.ceil(span)), 0)", f"o0 = np.empty(n, np.{dtype})")
    with code.block("if n > 0:"):
        if exact and dtype in INT_DTYPES:
            info = np.iinfo(dtype)
            for value, check in (("start", ""), ("start + step", "n > 1 and ")):  # NumPy stores these two
                outside = f"{value} < {int(info.min)} or {value} > {int(info.max)}"
                code.fail(f"{check}({outside})", f"{op}: {value} is out of bounds for {dtype}")
        code(f"first = np.{dtype}(start)", f"delta = np.{dtype}(np.{dtype}(start + step) - first)")
        with code.block("for i in range(n):"):
            if dtype in INT_DTYPES:  # i * delta in 64 bits, wrapped to the dtype as NumPy's C loop stores it
                code(f"o0[i] = np.{dtype}(np.int64(first) + i * np.int64(delta))")
            else:
                code(f"o0[i] = first + np.{dtype}(i) * delta")
    return code.kernel("o0")


@numba_rule.register(Eye)
def _eye(op: Eye, node: Apply) -> Kernel:
    code = Code(3)
    code("n = a0[()]", "m = a1[()]", "k = a2[()]")
    code.fail("n < 0 or m < 0", f"{op}: negative dimensions are not allowed")
    code(f"o0 = np.zeros((n, m), {np_dtype(op.dtype)})")
    with code.block("for i in range(max(0, -k), min(n, m - k)):"):
        code(f"o0[i, i + k] = {np_dtype(op.dtype)}(1)")
    return code.kernel("o0")
