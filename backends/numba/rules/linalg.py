"""Rules for MatMul and Dot (np.matmul semantics; a batch axis broadcasts only when declared static-1).

Float products go through numba's ``np.dot`` (BLAS gemm/gemv/dot), the operands first cast to the output dtype;
a batched product calls gemm once per batch, writing straight into the output. Integer and bool products are
explicit loops accumulating in the output dtype (integers wrap around as in NumPy; bool is "any of and").
"""

from __future__ import annotations

import numpy as np
from numba.extending import overload

from backends.numba.rules import Kernel, numba_rule
from backends.numba.rules.reduce import Code, convert
from backends.numba.scalar import np_dtype, typed
from symgraph.graph import Apply
from symgraph.ops.linalg import MatMul
from symgraph.types import FLOAT_DTYPES


def blas_operand(a: np.ndarray) -> np.ndarray:
    """``a`` ready for numba's BLAS-backed ``np.dot``: itself when numba knows it is C- or F-contiguous, else
    a C-contiguous array (no copy when it already is one at run time; numba's np.dot would always copy)."""
    return np.ascontiguousarray(a)


@overload(blas_operand)
def _blas_operand(a):  # noqa: ANN001, ANN202 - numba matches the implementations by parameter, unannotated
    if a.layout in "CF":
        return lambda a: a
    return lambda a: np.ascontiguousarray(a)


@numba_rule.register(MatMul)
def _matmul(op: MatMul, node: Apply) -> Kernel:
    a, b = node.inputs
    dtype = node.outputs[0].dtype
    blas = dtype in FLOAT_DTYPES
    code = Code(2)
    names = []
    for i, var in enumerate((a, b)):
        names.append(f"a{i}")
        if blas and var.dtype != dtype:  # BLAS wants both operands in the output dtype
            code(f"c{i} = a{i}.astype({np_dtype(dtype)})")
            names[-1] = f"c{i}"
    x, y = names
    code.fail(f"{x}.shape[-1] != {y}.shape[{-2 if b.ndim > 1 else 0}]", f"{op}: inner dimensions differ")
    n_batch = node.outputs[0].ndim - (a.ndim > 1) - (b.ndim > 1)
    ready = code.helper("blas_operand", __name__) if blas else ""
    if blas and n_batch == 0:
        product = f"np.dot({ready}({x}), {ready}({y}))"
        if a.ndim == b.ndim == 1:
            code(f"o0 = np.empty((), {np_dtype(dtype)})", f"o0[()] = {product}")
            return code.kernel("o0")
        return code.kernel(product)
    if a.ndim == 1:  # vectors as a row and a column matrix
        code(f"x = np.ascontiguousarray({x}).reshape((1, {x}.shape[0]))")
        x = "x"
    if b.ndim == 1:
        code(f"y = np.ascontiguousarray({y}).reshape(({y}.shape[0], 1))")
        y = "y"
    code(f"n = {x}.shape[-2]", f"k = {x}.shape[-1]", f"m = {y}.shape[-1]")
    at_x = _batch_index(code, op, [(x, a.type.shape[:-2]), (y, b.type.shape[:-2])], n_batch)
    batch = "".join(f"nb{i}, " for i in range(n_batch))
    code(f"o0 = np.empty(({batch}n, m), {np_dtype(dtype)})")
    with code.loops(range(n_batch), lengths="nb"):
        target = f"o0[{', '.join(f'j{i}' for i in range(n_batch))}]" if n_batch else "o0"
        left, right = (f"{name}[{at}]" if at else name for name, at in zip((x, y), at_x))
        if blas:
            code(f"np.dot({ready}({left}), {ready}({right}), {target})")
        else:
            code(f"xs = {left}", f"ys = {right}", f"t = {target}")
            _integer_product(code, a.dtype, b.dtype, dtype)
    shape = batch + ("n, " if a.ndim > 1 else "") + ("m, " if b.ndim > 1 else "")
    return code.kernel(f"o0.reshape(({shape}))" if a.ndim == 1 or b.ndim == 1 else "o0")


def _batch_index(code: Code, op: MatMul, operands: list[tuple[str, tuple]], n_batch: int) -> list[str]:
    """Set ``nb<i>``, the length of output batch axis i, from the operands that do not broadcast along it
    (checked equal, like NumPy's matmul with runtime broadcasting refused); each operand's batch index."""
    sources: list[list[str]] = [[] for _ in range(n_batch)]
    indices = []
    for name, static in operands:
        pad = n_batch - len(static)
        for i, d in enumerate(static):
            if d != 1:
                sources[pad + i].append(f"{name}.shape[{i}]")
        indices.append(", ".join("0" if d == 1 else f"j{pad + i}" for i, d in enumerate(static)))
    for axis, lengths in enumerate(sources):
        code(f"nb{axis} = {lengths[0] if lengths else 1}")
        for other in lengths[1:]:
            message = f"{op}: batch lengths differ on axis {axis} (length 1 broadcasts only when declared static-1)"
            code.fail(f"{other} != nb{axis}", message)
    return indices


def _integer_product(code: Code, dtype_a: str, dtype_b: str, dtype: str) -> None:
    """``t = xs @ ys`` for 2-d views, accumulating in ``dtype`` (row by row, so memory is read in order)."""
    u, v = convert("xs[i, p]", dtype_a, dtype), convert("ys[p, q]", dtype_b, dtype)
    update = f"t[i, q] | (u & {v})" if dtype == "bool" else f"{np_dtype(dtype)}(t[i, q] + u * {v})"
    with code.block("for i in range(n):"):
        with code.block("for q in range(m):"):
            code(f"t[i, q] = {typed(0, dtype)}")
        with code.block("for p in range(k):"):
            code(f"u = {u}")
            with code.block("for q in range(m):"):
                code(f"t[i, q] = {update}")
