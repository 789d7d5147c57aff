"""IfElse: each branch is compiled as its own graph module; the kernel calls only the selected one."""

from __future__ import annotations

from backends.numba.rules import Kernel, numba_rule
from backends.source import Import
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply
from symgraph.ops.control import IfElse
from symgraph.ops.inner_graph import inner_fgraph


def _branch(op: IfElse, outputs: tuple, first_constant: int, target: str, result: str) -> tuple:
    """(modules, the import of the branch's graph function as ``target``, constants, statements assigning
    ``o0, o1...`` from its results, held in ``result``) of one branch."""
    from backends.numba.codegen import inner_graph  # codegen imports the rules

    fgraph = inner_fgraph(op.inner_inputs, outputs)
    modules, name, constants = inner_graph(fgraph)
    args = [f"a{i + 1}" for i in range(len(op.inner_inputs))]
    args += [f"k{first_constant + j}" for j in range(len(constants))]
    lines = [f"{result} = {target}({', '.join(args)})"]
    for j, owned in enumerate(_owns_memory(fgraph)):
        value = f"{result}[{j}]" if owned else f"{result}[{j}].copy()"  # never an input, a constant or another output
        if fgraph.outputs[j].ndim:  # one layout in both branches (a view may be strided)
            value = f"np.ascontiguousarray({value})"
        lines.append(f"o{j} = {value}")
    return modules, Import(name, "graph", target), constants, lines


def _owns_memory(fgraph: FunctionGraph) -> list[bool]:
    """Per output of a rewritten inner graph: whether its value is memory that no input, constant or earlier
    output shares (in-place nodes never overwrite those, so only views can alias them)."""
    seen, owned = set(), []
    for var in fgraph.outputs:
        base = fgraph.view_base(var)
        owned.append(base.owner is not None and base not in fgraph.input_set and base not in seen)
        seen.add(base)
    return owned


@numba_rule.register(IfElse)
def _ifelse(op: IfElse, node: Apply) -> Kernel:
    """Each branch's results get their own name (``t``, ``e``): the two result tuples have different types."""
    then_modules, then_import, then_constants, then_lines = _branch(op, op.then_outputs, 0, "then_graph", "t")
    else_modules, else_import, else_constants, else_lines = _branch(
        op, op.else_outputs, len(then_constants), "else_graph", "e"
    )
    params = [f"a{i}" for i in range(len(node.inputs))]
    params += [f"k{j}" for j in range(len(then_constants) + len(else_constants))]
    body = (
        "if a0[()]:",
        *(f"    {line}" for line in then_lines),
        "else:",
        *(f"    {line}" for line in else_lines),
        f"return {''.join(f'o{j}, ' for j in range(len(node.outputs)))}",
    )
    return Kernel(
        tuple(params),
        body,
        imports=(then_import, else_import),
        modules=then_modules + else_modules,
        constants=then_constants + else_constants,
    )
