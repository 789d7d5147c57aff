"""Graph rewrites: the engine and every module that registers rewrites into its phases."""

from symgraph.rewrite import basic  # noqa: F401  (registers merge and constant folding)
from symgraph.rewrite.engine import (
    PHASES,
    RewriteError,
    RewriteReport,
    register,
    register_pass,
    registered,
    rewrite_graph,
    select,
    unregister,
)

__all__ = [
    "PHASES", "RewriteError", "RewriteReport", "register", "register_pass", "registered", "rewrite_graph", "select",
    "unregister",
]  # fmt: skip
