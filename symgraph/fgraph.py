"""FunctionGraph: a private copy of a graph, with client lists, that rewrites mutate in place."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from symgraph.errors import SymgraphError, SymgraphTypeError
from symgraph.graph import Apply, Variable, clone_replace, graph_inputs, toposort
from symgraph.op import Op


class FunctionGraph:
    """Inputs, outputs and every Apply node between them; ``replace`` keeps clients consistent.

    With ``clone=True`` (the default) the graph is copied, so the user's variables never change.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable], clone: bool = True) -> None:
        inputs, outputs = list(inputs), list(outputs)
        if clone:
            new_inputs = [v.clone() for v in inputs]
            new_outputs = clone_replace(outputs, dict(zip(inputs, new_inputs)), rebuild_all=True)
            inputs, outputs = new_inputs, new_outputs
        self.inputs = inputs
        self.input_set = set(inputs)  # membership tests (the list keeps the order)
        self.outputs = outputs
        self.update_map: dict[int, int] = {}  # output index -> index of the (shared) input it becomes
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
        stack = [var]  # iterative: a dead chain may be deeper than Python's recursion limit
        while stack:
            node = stack.pop().owner
            if node is None or node not in self.apply_nodes or any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.clients.pop(o, None)
            for inp in dict.fromkeys(node.inputs):  # one pass per input: it may have thousands of clients
                self.clients[inp] = [c for c in self.clients[inp] if c[0] is not node]
                stack.append(inp)

    @property
    def variables(self) -> list[Variable]:
        return list(self.clients)

    def replace(self, old: Variable, new: Variable, reason: str = "") -> None:
        """Make every client of ``old`` use ``new`` instead (types must agree). The nodes of ``new`` that are not in
        the graph yet were built by a rewrite: they take the user's line that built ``old``."""
        if not old.type.is_super(new.type) and old.type != new.type:
            raise SymgraphTypeError(f"cannot replace {old!r} by {new!r} ({reason}): types differ")
        if old is new:
            return
        blocked = self.input_set
        stack = [] if new in blocked else [new.owner]
        while stack:  # import the nodes of new's graph that are not here yet (not all its ancestors: fast)
            node = stack.pop()
            if node is not None and node not in self.apply_nodes:
                if old.owner is not None:  # built by a rewrite: errors name the user's line of what it replaces
                    node.created_at = old.owner.created_at
                self._import_node(node)
                if old.owner is not None:
                    node.created_at = old.owner.created_at
                stack += [v.owner for v in node.inputs if v not in blocked]
        self._hand_over(old, new)
        self._prune(old)

    def _hand_over(self, old: Variable, new: Variable) -> None:
        """Point every client of ``old`` (a node's input slot or a graph output) at ``new``."""
        users = self.clients.get(old, [])
        for client, i in users:
            if client == "output":
                self.outputs[i] = new
            else:
                client.inputs[i] = new
        self.clients.setdefault(new, []).extend(users)
        self.clients[old] = []

    def replace_op(self, node: Apply, op: Op) -> Apply:
        """Put a node applying ``op`` to ``node``'s inputs, with its output types, names and user line, in
        ``node``'s place; return it. The new node takes the old one's entry in each input's clients (an input such
        as a merged constant may have thousands), and each new output takes over the clients of the old one."""
        new = Apply(op, node.inputs, [o.type for o in node.outputs])
        new.created_at = node.created_at
        for i, var in enumerate(node.inputs):
            entries = self.clients[var]
            entries[entries.index((node, i))] = (new, i)
        self.apply_nodes.discard(node)
        self.apply_nodes.add(new)
        for old, out in zip(node.outputs, new.outputs):
            out.name = old.name
            self._hand_over(old, out)
            del self.clients[old]
        return new

    def toposort(self) -> list[Apply]:
        """Nodes in execution order: after their inputs' nodes, and in-place nodes after every other reader
        of the memory they overwrite. Nodes overwriting an input (in-place updates of shared variables) run
        as late as possible, so that a call failing elsewhere leaves the shared storage unchanged."""
        order = toposort(self.outputs, blockers=self.inputs)
        extra = self.destroy_dependencies()
        if not extra:
            return order
        late = {
            n for n in extra if any(self.view_base(n.inputs[i]) in self.input_set for i in n.op.destroy_map.values())
        }
        order = [n for n in order if n not in late] + [n for n in order if n in late]
        rank = {node: i for i, node in enumerate(order)}
        waiting = {node: {v.owner for v in node.inputs if v.owner in rank} | extra.get(node, set()) for node in order}
        users: dict[Apply, list[Apply]] = {}
        for node, deps in waiting.items():
            for dep in deps:
                users.setdefault(dep, []).append(node)
        ready = [rank[n] for n, deps in waiting.items() if not deps]
        heapq.heapify(ready)
        result = []
        while ready:
            node = order[heapq.heappop(ready)]
            result.append(node)
            for user in users.get(node, []):
                waiting[user].discard(node)
                if not waiting[user]:
                    heapq.heappush(ready, rank[user])
        if len(result) != len(order):
            raise SymgraphError("in-place nodes and the readers of the memory they overwrite form a cycle")
        return result

    def view_base(self, var: Variable) -> Variable:
        """The variable whose memory ``var`` may be a view of (``var`` itself when it owns its memory)."""
        while var.owner is not None and var not in self.input_set and var.index in var.owner.op.view_map:
            var = var.owner.inputs[var.owner.op.view_map[var.index]]
        return var

    def aliases(self, var: Variable) -> set[Variable]:
        """Every variable that may share memory with ``var``: its view base and all views of that base."""
        found, stack = set(), [self.view_base(var)]
        while stack:
            v = stack.pop()
            if v in found:
                continue
            found.add(v)
            for client, i in self.clients.get(v, []):
                if client != "output":
                    stack += [client.outputs[o] for o, src in client.op.view_map.items() if src == i]
        return found

    def destroyers(self, var: Variable) -> list[Apply]:
        """The in-place nodes that overwrite the memory of ``var`` (through ``var`` or a variable aliasing it)."""
        return [
            client
            for v in self.aliases(var)
            for client, i in self.clients.get(v, [])
            if client != "output" and i in client.op.destroy_map.values()
        ]

    def destroy_dependencies(self) -> dict[Apply, set[Apply]]:
        """For each in-place node, the other nodes reading the memory it overwrites (they must run first)."""
        deps: dict[Apply, set[Apply]] = {}
        for node in self.apply_nodes:
            for i in node.op.destroy_map.values():
                readers = {c for v in self.aliases(node.inputs[i]) for c, _ in self.clients.get(v, []) if c != "output"}
                deps.setdefault(node, set()).update(readers - {node})
        return deps

    def __repr__(self) -> str:
        return f"FunctionGraph({len(self.inputs)} inputs, {len(self.outputs)} outputs, {len(self.apply_nodes)} nodes)"
