"""Graph rewrites: the engine and every module that registers rewrites into its phases."""

from symgraph.rewrite import (  # noqa: F401  (each module registers its rewrites)
    basic,  # merge and constant folding
    canonicalize,  # canonical sums, products, negations, powers
    canonicalize_shape,  # useless reshapes, dimshuffles, casts, reductions; static shapes
    fusion,  # fused elementwise loops and the reductions they feed
    inplace,  # in-place elementwise nodes and updates
    scan,  # a forward loop extended by its gradient replaces the original
    specialize,  # special ops (square)
    stabilize,  # stable forms (log_softmax, log1p, fused softmax crossentropy...)
)
from symgraph.rewrite.engine import (
    PHASES,
    RewriteReport,
    inner_rewrites,
    register,
    register_pass,
    registered,
    rewrite_graph,
    rewrite_inner_graph,
    select,
    unregister,
)
from symgraph.rewrite_driver import RewriteError

__all__ = [
    "PHASES", "RewriteError", "RewriteReport", "inner_rewrites", "register", "register_pass", "registered",
    "rewrite_graph", "rewrite_inner_graph", "select", "unregister",
]  # fmt: skip
