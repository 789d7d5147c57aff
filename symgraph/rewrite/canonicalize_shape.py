"""Canonicalize phase, shapes: useless reshapes, dimshuffles, casts, reductions and shape checks removed,
chains of them composed, and lengths known statically (or from a node's inputs) made explicit.

Every rewrite here keeps the dtype, the static shape and the values exactly (reordered float reductions
aside); a replacement that would lose static shape information is not made.
"""

from __future__ import annotations

import numpy as np

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable, constant
from symgraph.ops import reduce as reductions
from symgraph.ops.elemwise import cast
from symgraph.ops.indexing import Subtensor
from symgraph.ops.reduce import Reduce
from symgraph.ops.shape import (
    DimShuffle,
    Reshape,
    Shape,
    ShapeI,
    SpecifyShape,
    dimshuffle,
    shape_i,
    specify_shape,
)
from symgraph.patterns import elemwise_node, uniform_value
from symgraph.rewrite.canonicalize import node_lengths
from symgraph.rewrite.engine import register


def _checked(old: Variable, new: Variable) -> Variable | None:
    """``new`` when it may replace ``old`` (same dtype and ndim, a static shape at least as precise)."""
    return new if old.type.is_super(new.type) else None


def _is_length_of(length: Variable, x: Variable, axis: int) -> bool:
    """Whether the int scalar ``length`` is the length of ``x`` on ``axis``: ``shape_i(x, axis)``, or a constant
    equal to its static length."""
    if isinstance(length, Constant):
        return x.type.shape[axis] is not None and int(length.data) == x.type.shape[axis]
    owner = length.owner
    return owner is not None and isinstance(owner.op, ShapeI) and owner.op.axis == axis and owner.inputs[0] is x


def _only_client(fgraph: FunctionGraph, var: Variable) -> bool:
    clients = fgraph.clients.get(var, [])
    return len(clients) == 1 and clients[0][0] != "output"


# -- reshape, dimshuffle, specify_shape --------------------------------------------------------
@register("canonicalize", Reshape, name="useless_reshape")
def useless_reshape(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``reshape(x, s) -> x`` when ``s`` is ``x``'s shape: each length ``shape_i(x, i)`` or a constant equal to
    the static length, except at most one constant -1."""
    x, lengths = node.inputs[0], node.inputs[1:]
    if len(lengths) != x.ndim:
        return None
    unmatched = [n for axis, n in enumerate(lengths) if not _is_length_of(n, x, axis)]
    if len(unmatched) > 1 or unmatched and not (isinstance(unmatched[0], Constant) and unmatched[0].data == -1):
        return None
    return _checked(node.outputs[0], x)


@register("canonicalize", Reshape, name="reshape_of_reshape")
def reshape_of_reshape(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``reshape(reshape(x, s1), s2) -> reshape(x, s2)``."""
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Reshape):
        return None
    return _checked(node.outputs[0], node.op(inner.inputs[0], *node.inputs[1:]))


@register("canonicalize", DimShuffle, name="useless_dimshuffle")
def useless_dimshuffle(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """A dimshuffle that keeps every axis in place (or drops a length-1 axis and inserts one at the same place)
    is its input."""
    x = node.inputs[0]
    if len(node.op.pattern) != x.ndim:
        return None
    same = all(p == i or p == "x" and x.type.shape[i] == 1 for i, p in enumerate(node.op.pattern))
    return x if same else None


@register("canonicalize", DimShuffle, name="compose_dimshuffle")
def compose_dimshuffle(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``dimshuffle(dimshuffle(x, p1), p2) -> dimshuffle(x, p1[p2])`` (``x`` itself when that is the identity)."""
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    first = inner.op.pattern
    return dimshuffle(inner.inputs[0], tuple("x" if p == "x" else first[p] for p in node.op.pattern))


@register("canonicalize", SpecifyShape, name="useless_specify_shape")
def useless_specify_shape(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``specify_shape`` loses the lengths that ``x`` is known to have (static, or ``shape_i(x, i)``); with none
    left it is ``x``."""
    x, given = node.inputs[0], iter(node.inputs[1:])
    wanted = [next(given) if g else None for g in node.op.given]
    kept = [None if n is None or _is_length_of(n, x, axis) else n for axis, n in enumerate(wanted)]
    if kept == wanted:
        return None
    return _checked(node.outputs[0], x if all(n is None for n in kept) else specify_shape(x, kept))


# -- casts ---------------------------------------------------------------------------------------
def lossless(src: str, dst: str) -> bool:
    """Whether converting any value of dtype ``src`` to ``dst`` keeps it exactly (NumPy calls int64 -> float64
    "safe", but it rounds above 2**53)."""
    s, d = np.dtype(src), np.dtype(dst)
    if s == d or s.kind == "b":
        return True
    if s.kind in "iu" and d.kind == "f":
        return np.iinfo(s).bits - (s.kind == "i") <= np.finfo(d).nmant + 1
    return d.kind != "b" and bool(np.can_cast(s, d, "safe"))


@register("canonicalize", "cast", name="useless_cast")
def useless_cast(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """A cast to the dtype its input already has is the input."""
    x = node.inputs[0]
    return x if x.dtype == node.outputs[0].dtype else None


@register("canonicalize", "cast", name="cast_of_cast")
def cast_of_cast(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``cast(cast(x, d1), d2) -> cast(x, d2)`` when the cast to ``d1`` is lossless (``x`` when d2 is its dtype)."""
    inner = elemwise_node(node.inputs[0], "cast")
    if inner is None or not lossless(inner.inputs[0].dtype, node.inputs[0].dtype):
        return None
    return cast(inner.inputs[0], node.outputs[0].dtype)


# -- reductions ----------------------------------------------------------------------------------
@register("canonicalize", Reduce, name="useless_reduce")
def useless_reduce(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """A reduction over no axes, or over axes of static length 1 only, is ``x`` without those axes, cast to the
    result dtype (so all/any give ``x != 0``)."""
    x = node.inputs[0]
    if any(x.type.shape[a] != 1 for a in node.op.axes):
        return None
    kept = tuple(a for a in range(x.ndim) if a not in node.op.axes)
    return cast(dimshuffle(x, kept), node.outputs[0].dtype)


@register("canonicalize", Reduce, name="reduce_of_reduce")
def reduce_of_reduce(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``sum(sum(x, a), b) -> sum(x, a and b)``, also through a dimshuffle between them (keepdims inserts one)
    and for prod, max, min, all and any; when the inner result has the outer's dtype and no other client."""
    out, var = node.outputs[0], node.inputs[0]
    pattern: tuple = tuple(range(var.ndim))
    if var.owner is not None and isinstance(var.owner.op, DimShuffle) and _only_client(fgraph, var):
        pattern, var = var.owner.op.pattern, var.owner.inputs[0]
    inner = var.owner
    if inner is None or type(inner.op) is not Reduce or inner.op.kind != node.op.kind:
        return None
    if var.dtype != out.dtype or not _only_client(fgraph, var):
        return None
    x = inner.inputs[0]
    remaining = [a for a in range(x.ndim) if a not in inner.op.axes]  # x's axis of each axis of ``var``
    reduced = set(inner.op.axes)
    reduced |= {remaining[pattern[k]] for k in node.op.axes if pattern[k] != "x"}
    reduced |= {a for j, a in enumerate(remaining) if j not in pattern}  # dropped by the dimshuffle: length 1
    axes = tuple(sorted(reduced))
    reduce = getattr(reductions, node.op.kind)
    combined = reduce(x, axes, dtype=out.dtype) if node.op.kind in ("sum", "prod") else reduce(x, axes)
    position = {a: i for i, a in enumerate(a for a in range(x.ndim) if a not in reduced)}
    kept = [k for k in range(len(pattern)) if k not in node.op.axes]
    return dimshuffle(combined, tuple("x" if pattern[k] == "x" else position[remaining[pattern[k]]] for k in kept))


# -- shapes ----------------------------------------------------------------------------------------
@register("canonicalize", Shape, ShapeI, name="shape_of_static")
def shape_of_static(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``shape(x)`` of a fully static shape, and ``shape_i(x, i)`` of a static length, are constants."""
    x = node.inputs[0]
    static = x.type.shape[node.op.axis : node.op.axis + 1] if isinstance(node.op, ShapeI) else x.type.shape
    if None in static:
        return None
    value = np.asarray(static, dtype="int64")
    return constant(value.reshape(()) if isinstance(node.op, ShapeI) else value)


@register("canonicalize", Subtensor, name="shape_getitem")
def shape_getitem(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``shape(x)[i] -> shape_i(x, i)`` for a constant ``i`` (a constant when that length is static)."""
    vector, *index = node.inputs
    source = vector.owner
    if node.op.idx_list != ("i",) or source is None or type(source.op) is not Shape:
        return None
    ndim, i = vector.type.shape[0], uniform_value(index[0])
    if i is None or not -ndim <= i < ndim:
        return None
    length = shape_i(source.inputs[0], i % ndim)
    return constant(np.asarray(length, dtype="int64")) if isinstance(length, int) else length


def _only_lengths_read(fgraph: FunctionGraph, var: Variable, dying: set[Apply]) -> bool:
    """Whether every client of ``var`` is a ``shape_i`` node or one of ``dying``: its value is not needed."""
    return all(c != "output" and (isinstance(c.op, ShapeI) or c in dying) for c, _ in fgraph.clients.get(var, []))


@register("canonicalize", ShapeI, name="shape_i_lift")
def shape_i_lift(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``shape_i(f(a, ...), k)``, when only lengths of ``f``'s result are used, becomes the length that ``f``'s
    ``infer_shape`` gives from its inputs' lengths: a constant, a variable of the graph, or (lifted further the
    same way) a ``shape_i`` of an input; never new arithmetic. Then ``f`` need not be computed."""
    var, axis, dying, length = node.inputs[0], node.op.axis, set(), None
    while var.owner is not None and _only_lengths_read(fgraph, var, dying):
        try:
            found = node_lengths(var.owner, var)[axis]
        except NotImplementedError:
            break
        if isinstance(found, int):
            return constant(np.asarray(found, dtype="int64"))
        owner = found.owner
        if found in fgraph.clients:
            return found
        if owner is None or not isinstance(owner.op, ShapeI) or owner.inputs[0] not in fgraph.clients:
            break
        dying.add(var.owner)
        length, var, axis = found, owner.inputs[0], owner.op.axis
    return length
