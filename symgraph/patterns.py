"""Matchers that rewrites read graphs with."""

from __future__ import annotations

import numpy as np

from symgraph.graph import Apply, Constant, Variable
from symgraph.ops.elemwise import Elemwise


def elemwise_node(var: Variable, *names: str) -> Apply | None:
    """The node computing ``var`` when it is an Elemwise of one of the scalar ops ``names``."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and node.op.scalar_op.name in names:
        return node
    return None


def uniform_value(var: Variable) -> float | None:
    """The value of every entry of a non-empty constant whose entries are all equal, else None."""
    if not isinstance(var, Constant) or var.data.size == 0:
        return None
    first = var.data.flat[0]
    return first.item() if bool(np.all(var.data == first)) else None
