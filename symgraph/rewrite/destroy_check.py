"""The in-place contract, checked on a graph and an execution order.

An in-place node (``op.destroy_map``) overwrites the memory of one of its inputs. The contract: no node reads
a value (or a variable sharing its memory through ``view_map``) after a node overwrote it; the memory of a
constant or of a function input is never overwritten, except the storage of an updated shared variable, and
then only by the node computing that variable's update value; a node overwriting memory reads no other view
of it; no graph output shares memory with an overwritten value.
"""

from __future__ import annotations

from collections.abc import Sequence

from symgraph.errors import SymgraphError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable


def _where(node: Apply) -> str:
    return f"{node.op} (built at {node.created_at})" if node.created_at else str(node.op)


def check_destroy_contract(fgraph: FunctionGraph, order: Sequence[Apply] | None = None) -> None:
    """Raise a SymgraphError naming the first violation of the in-place contract when ``fgraph`` runs in
    ``order`` (default: ``fgraph.toposort()``, the order backends execute)."""
    order = fgraph.toposort() if order is None else list(order)
    inputs = {var: p for p, var in enumerate(fgraph.inputs)}
    update_of = {fgraph.inputs[p]: fgraph.outputs[k] for k, p in fgraph.update_map.items()}
    memory: dict[Variable, Variable] = {}  # variable -> the root of the memory it lives in (absent: its own)
    holders: dict[Variable, list[Variable]] = {}  # memory root -> the variables living in it
    overwritten: dict[Variable, Apply] = {}  # variable -> the node that overwrote its memory
    computed = {var for var in fgraph.variables if var.owner is None}
    for node in order:
        for var in node.inputs:
            if var in overwritten:
                raise SymgraphError(f"{_where(node)} reads {var!r} after {_where(overwritten[var])} overwrote it")
            if var not in computed:
                raise SymgraphError(f"{_where(node)} reads {var!r} before it is computed")
        written: set[Variable] = set()
        for o, i in node.op.destroy_map.items():
            var = node.inputs[i]
            root = memory.get(var, var)
            if root in written:
                raise SymgraphError(f"{_where(node)} writes two outputs into the memory of {var!r}")
            written.add(root)
            if isinstance(root, Constant):
                raise SymgraphError(f"{_where(node)} overwrites the constant {root!r}")
            if root in inputs and update_of.get(root) is not node.outputs[o]:
                raise SymgraphError(
                    f"{_where(node)} overwrites function input {inputs[root]} ({root!r}); only an updated shared "
                    "variable's storage may be overwritten, and only by its update value"
                )
            for j, other in enumerate(node.inputs):
                if j != i and other is not var and memory.get(other, other) is root:
                    raise SymgraphError(f"{_where(node)} overwrites {var!r} while reading {other!r}, which shares it")
            for held in holders.get(root, [root]):
                overwritten[held] = node
        for k, out in enumerate(node.outputs):
            source = node.op.destroy_map.get(k, node.op.view_map.get(k))
            if source is not None:
                root = memory.get(node.inputs[source], node.inputs[source])
                memory[out] = root
                holders.setdefault(root, [root]).append(out)
            computed.add(out)
    for k, out in enumerate(fgraph.outputs):
        if out in overwritten:
            raise SymgraphError(f"output {k} ({out!r}) shares memory that {_where(overwritten[out])} overwrote")
        if out not in computed:
            raise SymgraphError(f"output {k} ({out!r}) is not computed by the order given")
