"""Symbolic shapes: the shape of a variable computed from its inputs' shapes, not from its value."""

from __future__ import annotations

from symgraph.graph import Variable
from symgraph.ops.shape import shape_i


def symbolic_shape(var: Variable, _cache: dict | None = None) -> tuple:
    """The shape of ``var`` as a tuple of ints (static lengths) and int64 scalar variables.

    Walks up through each op's ``infer_shape``; where an op has none, the length is read from the
    variable itself at run time.
    """
    cache = {} if _cache is None else _cache
    if var in cache:
        return cache[var]
    node = var.owner
    result = None
    if node is not None:
        try:
            in_shapes = [symbolic_shape(v, cache) for v in node.inputs]
            result = tuple(node.op.infer_shape(node, in_shapes)[var.index])
        except NotImplementedError:
            result = None
    if result is None:
        result = tuple(shape_i(var, axis) for axis in range(var.ndim))
    result = tuple(s if s is not None else r for s, r in zip(var.type.shape, result))
    cache[var] = result
    return result
