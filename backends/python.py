"""The NumPy reference backend: run each node's ``perform`` in topological order (``symgraph.reference``).

It is the oracle the other backends are tested against, so it favours clarity over speed.
"""

from symgraph.reference import PerformError, reference_thunk

__all__ = ["PerformError", "compile"]

compile = reference_thunk  # noqa: A001  (the backend interface: compile(fgraph) -> thunk)
