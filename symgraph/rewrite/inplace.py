"""Inplace: a node writes its output into the memory of an input that nothing reads afterwards.

Protocol: an op that can compute output ``o`` into the memory of input ``i`` offers
``inplace_variant(o, i) -> Op | None``: the same computation with ``{o: i}`` added to its ``destroy_map``
(None if it cannot). The input must have the output's dtype and run-time shape (``can_hold``), which the
rewrite checks; the op promises to read each element of input ``i`` only before writing that element of
``o`` (true of an elementwise loop; other outputs computed from ``i`` must not read it again afterwards).
Elemwise and FusedElemwise offer it; the rewrite makes one output in place at a time, replacing the node by
one of the in-place op on the same inputs, with the same output types (``FunctionGraph.replace_op``).

Input ``v`` of node ``n`` may be overwritten when:

- ``v`` owns its memory (it is not a view: a view may be read-only or overlap itself, as ``broadcast_to``);
- ``v`` is not a constant nor a function input, except the storage of a shared variable whose update value
  is the output of ``n`` itself (``W <- W - lr * g``), when ``n`` can run last: no node reads its results and
  no other node overwrites a function input (so no node that could fail runs after shared storage changed:
  a failed call changes nothing); the storage of any other shared variable stays intact;
- no variable sharing ``v``'s memory (``fgraph.aliases``) is a graph output, is overwritten by another node,
  or is read by ``n`` through another input;
- every other reader of that memory can run before ``n``: it comes earlier in an execution order valid for
  the graph and the in-place nodes chosen so far, or (for shared storage) does not depend on ``n``'s outputs.

``FunctionGraph.toposort`` then runs the readers first. ``check_destroy_contract`` verifies the result.
"""

from __future__ import annotations

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant
from symgraph.op import Op
from symgraph.ops.elemwise import can_hold
from symgraph.rewrite.engine import register_pass


@register_pass("inplace", name="inplace_elemwise")
def inplace_elemwise(fgraph: FunctionGraph) -> int:
    """Give every node offering ``inplace_variant`` an input to overwrite where it is safe; return how many."""
    rank = {node: r for r, node in enumerate(fgraph.toposort())}  # an order that stays valid as nodes change
    changes = 0
    for node in list(rank):
        while hasattr(node.op, "inplace_variant"):  # one output at a time
            found = _choose(fgraph, node, rank)
            if found is None:
                break
            op, reordered = found
            new = fgraph.replace_op(node, op)
            rank[new] = rank.pop(node)
            node = new
            if reordered:
                rank = {n: r for r, n in enumerate(fgraph.toposort())}
            changes += 1
    return changes


def _choose(fgraph: FunctionGraph, node: Apply, rank: dict[Apply, int]) -> tuple[Op, bool] | None:
    """(the in-place op, whether the execution order must be recomputed), or None when no input is safe."""
    storage = {fgraph.inputs[p]: fgraph.outputs[k] for k, p in fgraph.update_map.items()}  # input -> its update
    for o, out in enumerate(node.outputs):
        if o in node.op.destroy_map:
            continue
        own = [i for i, v in enumerate(node.inputs) if storage.get(v) is out]  # an update into its own storage
        for i in own + [i for i in range(len(node.inputs)) if i not in own]:
            v = node.inputs[i]
            if isinstance(v, Constant) or not can_hold(v.type, out.type) or fgraph.view_base(v) is not v:
                continue
            if v in fgraph.input_set and (i not in own or not _can_run_last(fgraph, node)):
                continue
            readers = _other_readers(fgraph, node, i)
            if readers is None:
                continue
            earlier = all(rank.get(r, len(rank)) < rank[node] for r in readers)
            if not earlier and not (i in own and not _reaches(fgraph, node, readers)):
                continue
            op = node.op.inplace_variant(o, i)
            if op is not None:
                return op, not earlier
    return None


def _can_run_last(fgraph: FunctionGraph, node: Apply) -> bool:
    """Whether ``node`` may overwrite shared storage: nothing reads its results (they are only returned) and
    no other node overwrites a function input, so it runs last (``FunctionGraph.toposort``)."""
    if any(client != "output" for out in node.outputs for client, _ in fgraph.clients[out]):
        return False
    return not any(
        other is not node and fgraph.view_base(other.inputs[i]) in fgraph.input_set
        for other in fgraph.apply_nodes
        for i in other.op.destroy_map.values()
    )


def _other_readers(fgraph: FunctionGraph, node: Apply, i: int) -> set[Apply] | None:
    """The other nodes reading the memory of ``node.inputs[i]``, or None if it must not be overwritten."""
    v = node.inputs[i]
    aliases = fgraph.aliases(v)
    if any(w is not v and w in aliases for w in node.inputs):
        return None
    readers = set()
    for var in aliases:
        for client, j in fgraph.clients.get(var, []):
            if client == "output" or j in client.op.destroy_map.values():  # an output, or overwritten already
                return None
            readers.add(client)
    return readers - {node}


def _reaches(fgraph: FunctionGraph, start: Apply, targets: set[Apply]) -> bool:
    """Whether a node of ``targets`` depends on ``start``, through data or the order of in-place nodes."""
    after: dict[Apply, set[Apply]] = {}  # reader -> the in-place nodes that must run after it
    for destroyer, readers in fgraph.destroy_dependencies().items():
        for reader in readers:
            after.setdefault(reader, set()).add(destroyer)
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node in targets:
            return True
        users = {c for out in node.outputs for c, _ in fgraph.clients[out] if c != "output"}
        for nxt in users | after.get(node, set()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
