"""Generate the Python source of one numba function for a whole FunctionGraph.

Each node becomes one line calling its kernel (from ``numba_rule``), preceded by a comment naming the op,
its inputs and where it was built; kernels live in their own generated modules (shared by every graph
that uses the same kernel). Inputs arrive as ``i0, i1, ...``; constants are passed as arguments
``c0, c1, ...`` (never baked into the source), so equal graphs with different constant values share code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backends.numba.cache import module_name
from backends.numba.rules import numba_rule
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant, Variable

JIT = 'numba.njit(cache=True, error_model="numpy", nogil=True)'
HEADER = "import math\n\nimport numba\nimport numpy as np\n"


@dataclass(frozen=True)
class GeneratedGraph:
    """The graph module's name and source, the kernel modules it imports, and the constants to pass."""

    name: str
    source: str
    kernels: dict[str, str]  # module name -> source
    constants: tuple[np.ndarray, ...]


def kernel_module_source(kernel_source: str) -> str:
    return f"{HEADER}\n\n@{JIT}\n{kernel_source}"


def generate(fgraph: FunctionGraph) -> GeneratedGraph:
    """The graph module for ``fgraph`` (nodes in ``fgraph.toposort()`` order, which honours in-place ops)."""
    names: dict[Variable, str] = {v: f"i{i}" for i, v in enumerate(fgraph.inputs)}
    constants = [v for v in fgraph.variables if isinstance(v, Constant) and v not in names]
    names.update((c, f"c{j}") for j, c in enumerate(constants))
    kernels: dict[str, str] = {}
    aliases: dict[str, str] = {}
    body = []
    for node in fgraph.toposort():
        source = kernel_module_source(numba_rule(node.op, node).source)
        module = module_name("sgk_", source)
        kernels[module] = source
        alias = aliases.setdefault(module, f"k{len(aliases)}")
        outs = []
        for out in node.outputs:
            names[out] = f"v{len(names)}"
            outs.append(names[out])
        args = ", ".join(names[v] for v in node.inputs)
        body.append(f"    # {node.op}({', '.join(_label(v) for v in node.inputs)}) built at {node.created_at}")
        body.append(f"    {', '.join(outs)}, = {alias}({args})")
    params = [f"i{i}" for i in range(len(fgraph.inputs))] + [f"c{j}" for j in range(len(constants))]
    returned = ", ".join(names[v] for v in fgraph.outputs)
    imports = "".join(f"from {module} import kernel as {alias}\n" for module, alias in aliases.items())
    signature = "\n".join(f"# i{i}: {_label(v)} :: {v.type}" for i, v in enumerate(fgraph.inputs))
    source = (
        f"{HEADER}{imports}\n{signature}\n\n@{JIT}\ndef graph({', '.join(params)}):\n"
        + "\n".join(body)
        + f"\n    return ({returned}{',' if len(fgraph.outputs) == 1 else ''})\n"
    )
    return GeneratedGraph(module_name("sg_", source), source, kernels, tuple(c.data for c in constants))


def _label(var: Variable) -> str:
    if isinstance(var, Constant):
        return f"Constant<{var.dtype}{list(var.data.shape)}>"
    return var.name or (str(var.owner.op) if var.owner is not None else "input")
