"""Products of tensors: matmul (batched), dot, outer and tensordot, with NumPy semantics and promotion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.errors import CallError
from symgraph.graph import Apply, Variable, as_variable
from symgraph.op import Caller, Op, normalize_axis
from symgraph.ops.elemwise import mul
from symgraph.ops.reduce import axes_size
from symgraph.ops.shape import expand_dims, flatten, reshape, shape_i, specify_shape, squeeze, transpose
from symgraph.types import TensorType, broadcast_static, upcast

__all__ = ["dot", "matmul", "outer", "tensordot"]


def _batch(shape: tuple) -> tuple:
    """The leading (batch) axes of a matmul operand."""
    return tuple(shape[:-2])


def _padded_batches(node: Apply, shapes: Sequence[tuple]) -> tuple[int, list[tuple]]:
    """The number of batch axes of the output, and each operand's batch shape padded with 1s to it."""
    a, b = node.inputs
    n = node.outputs[0].ndim - (a.ndim > 1) - (b.ndim > 1)
    return n, [(1,) * (n - len(_batch(s))) + _batch(s) for s in shapes]


def _product_shape(shape_a: tuple, shape_b: tuple, batch: Sequence) -> tuple:
    """Matmul's output shape: the batch shape, then a's rows (unless 1-D), then b's columns (unless 1-D)."""
    return tuple(batch) + tuple(shape_a[-2:-1]) + (tuple(shape_b[-1:]) if len(shape_b) > 1 else ())


@dataclass(frozen=True)
class MatMul(Op):
    """np.matmul: matrix products over the last two axes, the leading (batch) axes broadcasting.

    A 1-D first operand is a row vector and a 1-D second operand a column vector; that axis is
    dropped from the result. As in Elemwise, a batch axis only broadcasts at run time when its
    static length is 1. The dtype follows NumPy's promotion (int @ int stays int).
    """

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_variable(a), as_variable(b)
        if a.ndim == 0 or b.ndim == 0:
            raise self.value_error([a, b], "operands need at least 1 dimension (use mul for scalars)")
        inner_a, inner_b = a.type.shape[-1], b.type.shape[-2 if b.ndim > 1 else 0]
        if inner_a is not None and inner_b is not None and inner_a != inner_b:
            raise self.value_error([a, b], f"inner dimensions differ: {inner_a} != {inner_b}")
        batch = broadcast_static(_batch(a.type.shape), _batch(b.type.shape))
        if batch is None:
            raise self.value_error([a, b], "batch (leading) dimensions do not broadcast")
        out_type = TensorType(upcast(a.dtype, b.dtype), _product_shape(a.type.shape, b.type.shape, batch))
        return Apply(self, [a, b], [out_type])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = np.asarray(np.matmul(*inputs), dtype=node.outputs[0].dtype)
        n, got = _padded_batches(node, [x.shape for x in inputs])
        _, declared = _padded_batches(node, [v.type.shape for v in node.inputs])
        for var, lengths, static in zip(node.inputs, got, declared):
            for axis, (length, want, full) in enumerate(zip(lengths, static, out.shape[:n])):
                if length == 1 and full != 1 and want != 1:
                    raise CallError(
                        f"{self}: an operand of type {var.type} has length 1 on batch axis {axis} at run time but "
                        "was not declared broadcastable; declare its static length as 1 or use broadcast_to"
                    )
        return [out]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        n, (pad_a, pad_b) = _padded_batches(node, input_shapes)
        batch = [  # a batch axis not statically 1 is the output's length (runtime broadcasting is refused)
            static if static is not None else (da if not (isinstance(da, int) and da == 1) else db)
            for static, da, db in zip(node.outputs[0].type.shape[:n], pad_a, pad_b)
        ]
        return [_product_shape(*input_shapes, batch)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """``g @ b^T`` and ``a^T @ g`` on the last two axes, 1-D operands promoted as in the forward
        pass and their added axis squeezed away. The gradients keep the output's batch axes: the
        driver sums those an operand lacks or had of static length 1 (where it was broadcast).
        """
        a, b = node.inputs
        g = output_grads[0]
        if a.ndim == 1:
            a, g = expand_dims(a, 0), expand_dims(g, g.ndim - (b.ndim > 1))
        if b.ndim == 1:
            b, g = expand_dims(b, 1), expand_dims(g, g.ndim)

        def swap(x: Variable) -> Variable:
            return transpose(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))

        grad_a, grad_b = matmul(g, swap(b)), matmul(swap(a), g)
        grad_a = squeeze(grad_a, grad_a.ndim - 2) if node.inputs[0].ndim == 1 else grad_a
        grad_b = squeeze(grad_b, grad_b.ndim - 1) if node.inputs[1].ndim == 1 else grad_b
        return [grad_a if a.type.is_float else None, grad_b if b.type.is_float else None]


@dataclass(frozen=True)
class Dot(MatMul):
    """The product of vectors and matrices (np.dot, np.matmul on 1-D and 2-D operands).

    A MatMul without batch axes: ``matmul`` and ``dot`` build it for 1-D/2-D operands, so
    rewrites and backends (BLAS gemm/gemv) find the plain case under one op.
    """

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_variable(a), as_variable(b)
        if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
            raise self.value_error([a, b], "operands must be 1-D or 2-D (use matmul or tensordot)")
        return super().make_node(a, b)


def matmul(a: Any, b: Any) -> Variable:
    """np.matmul (``a @ b``): batched matrix product; 1-D operands are promoted and their axis dropped."""
    a, b = as_variable(a), as_variable(b)
    return (Dot() if 1 <= a.ndim <= 2 and 1 <= b.ndim <= 2 else MatMul())(a, b)


def dot(a: Any, b: Any) -> Variable:
    """np.dot: a product for 0-d operands, the matrix product for 1-D/2-D, else a sum over the last
    axis of ``a`` and the second-to-last of ``b``."""
    a, b = as_variable(a), as_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return Dot()(a, b)
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 2 if b.ndim > 1 else 0]))


def outer(a: Any, b: Any) -> Variable:
    """np.outer: ``out[i, j] = a.flat[i] * b.flat[j]``."""
    return mul(expand_dims(flatten(as_variable(a)), 1), expand_dims(flatten(as_variable(b)), 0))


def _tensordot_axes(a: Variable, b: Variable, axes: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The summed axes of ``a`` and of ``b``, in pairing order, normalized and checked."""
    caller = Caller("tensordot")
    if isinstance(axes, int | np.integer) and not isinstance(axes, bool):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise caller.value_error([a, b], f"axes={axes} must be in [0, {min(a.ndim, b.ndim)}]")
        return tuple(range(a.ndim - axes, a.ndim)), tuple(range(axes))
    try:
        pair = [(ax,) if isinstance(ax, int | np.integer) else tuple(ax) for ax in axes]
    except TypeError as err:
        raise caller.type_error([a, b], f"axes must be an int or a pair of axis sequences, got {axes!r}") from err
    if len(pair) != 2 or len(pair[0]) != len(pair[1]):
        raise caller.value_error([a, b], f"axes must be two sequences of equal length, got {axes!r}")
    axes_a, axes_b = (tuple(normalize_axis(caller, [a, b], i, var.ndim) for i in ax) for var, ax in zip((a, b), pair))
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise caller.value_error([a, b], f"repeated axis in {axes!r}")
    for i, j in zip(axes_a, axes_b):
        if None not in (a.type.shape[i], b.type.shape[j]) and a.type.shape[i] != b.type.shape[j]:
            lengths = f"{a.type.shape[i]} != {b.type.shape[j]}"
            raise caller.value_error([a, b], f"summed axes {i} of a and {j} of b differ in length: {lengths}")
    return axes_a, axes_b


def _as_matrix(x: Variable, rows: tuple[int, ...], cols: tuple[int, ...]) -> Variable:
    """``x`` transposed so that ``rows`` then ``cols`` come first, and reshaped to a matrix."""
    order = rows + cols
    moved = x if order == tuple(range(x.ndim)) else transpose(x, order)
    if len(rows) == 1 and len(cols) == 1:
        return moved
    return reshape(moved, (axes_size(x, rows), axes_size(x, cols)))


def tensordot(a: Any, b: Any, axes: int | Sequence = 2) -> Variable:
    """np.tensordot: sum of products over ``axes`` (an int n: the last n of ``a`` with the first n of
    ``b``; or a pair of axis sequences), built as transpose, reshape, ``Dot`` and reshape.

    Paired axes of unequal static lengths are a build error, of unequal run-time lengths a run-time error.
    """
    a, b = as_variable(a), as_variable(b)
    axes_a, axes_b = _tensordot_axes(a, b, axes)
    if len(axes_a) > 1 and any(None in (a.type.shape[i], b.type.shape[j]) for i, j in zip(axes_a, axes_b)):
        paired = dict(zip(axes_b, axes_a))  # Dot checks one summed axis, not several whose products agree
        b = specify_shape(b, [shape_i(a, paired[j]) if j in paired else None for j in range(b.ndim)])
    free_a = tuple(i for i in range(a.ndim) if i not in axes_a)
    free_b = tuple(i for i in range(b.ndim) if i not in axes_b)
    product = Dot()(_as_matrix(a, free_a, axes_a), _as_matrix(b, axes_b, free_b))
    if len(free_a) == 1 and len(free_b) == 1:
        return product
    return reshape(product, tuple(shape_i(a, i) for i in free_a) + tuple(shape_i(b, i) for i in free_b))
