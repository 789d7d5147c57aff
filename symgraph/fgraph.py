"""FunctionGraph: a private copy of a graph, with client lists, that rewrites mutate in place."""

from __future__ import annotations

from collections.abc import Sequence

from symgraph.errors import SymgraphTypeError
from symgraph.graph import Apply, Variable, clone_replace, graph_inputs, toposort


class FunctionGraph:
    """Inputs, outputs and every Apply node between them; ``replace`` keeps clients consistent.

    With ``clone=True`` (the default) the graph is copied, so the user's variables never change;
    ``self.memo`` maps each original variable to its copy.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable], clone: bool = True) -> None:
        inputs, outputs = list(inputs), list(outputs)
        if clone:
            new_inputs = [v.clone() for v in inputs]
            new_outputs = clone_replace(outputs, dict(zip(inputs, new_inputs)), rebuild_all=True)
            self.memo = dict(zip(inputs, new_inputs))
            inputs, outputs = new_inputs, new_outputs
        self.inputs = inputs
        self.outputs = outputs
        self.clients: dict[Variable, list[tuple[Apply | str, int]]] = {}
        self.apply_nodes: set[Apply] = set()
        for var in graph_inputs(outputs) + inputs:
            self.clients.setdefault(var, [])
        for node in toposort(outputs):
            self._import_node(node)
        for i, var in enumerate(outputs):
            self.clients.setdefault(var, []).append(("output", i))

    def _import_node(self, node: Apply) -> None:
        if node in self.apply_nodes:
            return
        self.apply_nodes.add(node)
        for i, var in enumerate(node.inputs):
            self.clients.setdefault(var, []).append((node, i))
        for var in node.outputs:
            self.clients.setdefault(var, [])

    def _prune(self, var: Variable) -> None:
        """Drop the node of ``var`` (and its now unused ancestors) if nothing uses its outputs."""
        node = var.owner
        if node is None or node not in self.apply_nodes or any(self.clients.get(o) for o in node.outputs):
            return
        self.apply_nodes.discard(node)
        for o in node.outputs:
            self.clients.pop(o, None)
        for i, inp in enumerate(node.inputs):
            self.clients[inp].remove((node, i))
            self._prune(inp)

    @property
    def variables(self) -> list[Variable]:
        return list(self.clients)

    def replace(self, old: Variable, new: Variable, reason: str = "") -> None:
        """Make every client of ``old`` use ``new`` instead (types must agree)."""
        if not old.type.is_super(new.type) and old.type != new.type:
            raise SymgraphTypeError(f"cannot replace {old!r} by {new!r} ({reason}): types differ")
        if old is new:
            return
        for node in toposort([new], blockers=self.inputs):
            self._import_node(node)
        self.clients.setdefault(new, [])
        for client, i in list(self.clients.get(old, [])):
            if client == "output":
                self.outputs[i] = new
            else:
                client.inputs[i] = new
            self.clients[new].append((client, i))
        self.clients[old] = []
        self._prune(old)

    def toposort(self) -> list[Apply]:
        return toposort(self.outputs, blockers=self.inputs)

    def __repr__(self) -> str:
        return f"FunctionGraph({len(self.inputs)} inputs, {len(self.outputs)} outputs, {len(self.apply_nodes)} nodes)"
