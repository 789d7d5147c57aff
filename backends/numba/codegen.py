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
from backends.numba.rules import Kernel, numba_rule
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


PARALLEL_MIN_SIZE = 1 << 16  # elements of the largest input below which a kernel stays serial


def kernel_module_source(kernel: Kernel) -> str:
    """A module defining ``kernel``; with a parallel variant, ``kernel`` picks it for large inputs."""
    fast = f", fastmath={set(kernel.fastmath)!r}" if kernel.fastmath else ""
    jit = JIT[:-1] + fast + ")"
    if kernel.parallel_source is None:
        return f"{HEADER}{kernel.prelude}\n\n@{jit}\n{kernel.source}"
    params = kernel.source[kernel.source.index("(") + 1 : kernel.source.index(")")]
    size = f"max({', '.join(f'{p.strip()}.size' for p in params.split(','))}, 0)" if "," in params else f"{params}.size"
    return (
        f"{HEADER}\n\n@{jit[:-1]}, parallel=True)\n{kernel.parallel_source}\n\n"
        f"@{jit}\n{kernel.source.replace('def kernel(', 'def kernel_serial(', 1)}\n\n"
        f"@{JIT}\ndef kernel({params}):\n"
        f"    if {size} >= {PARALLEL_MIN_SIZE}:\n        return kernel_parallel({params})\n"
        f"    return kernel_serial({params})\n"
    )


def generate(fgraph: FunctionGraph) -> GeneratedGraph:
    """The graph module for ``fgraph`` (nodes in ``fgraph.toposort()`` order, which honours in-place ops)."""
    names: dict[Variable, str] = {v: f"i{i}" for i, v in enumerate(fgraph.inputs)}
    constants = [v for v in fgraph.variables if isinstance(v, Constant) and v not in names]
    names.update((c, f"c{j}") for j, c in enumerate(constants))
    kernels: dict[str, str] = {}
    aliases: dict[str, str] = {}
    body = []
    extra: list[np.ndarray] = []  # constants of inner graphs, passed after the graph's own
    for node in fgraph.toposort():
        kernel = numba_rule(node.op, node)
        kernels.update(kernel.modules)
        source = kernel_module_source(kernel)
        module = module_name("sgk_", source)
        kernels[module] = source
        alias = aliases.setdefault(module, f"k{len(aliases)}")
        outs = []
        for out in node.outputs:
            names[out] = f"v{len(names)}"
            outs.append(names[out])
        args = ", ".join(
            [names[v] for v in node.inputs]
            + [f"c{len(constants) + len(extra) + j}" for j in range(len(kernel.constants))]
        )
        extra.extend(kernel.constants)
        body.append(f"    # {node.op}({', '.join(_label(v) for v in node.inputs)})")
        body.append(f"    {', '.join(outs)}, = {alias}({args})")
    params = [f"i{i}" for i in range(len(fgraph.inputs))] + [f"c{j}" for j in range(len(constants) + len(extra))]
    returned = "".join(f"{names[v]}, " for v in fgraph.outputs)
    imports = "".join(f"from {module} import kernel as {alias}\n" for module, alias in aliases.items())
    signature = "\n".join(f"# i{i}: {_label(v)} :: {v.type}" for i, v in enumerate(fgraph.inputs))
    source = (
        f"{HEADER}{imports}\n{signature}\n\n@{JIT}\ndef graph({', '.join(params)}):\n"
        + "\n".join(body)
        + f"\n    return ({returned})\n"
    )
    return GeneratedGraph(module_name("sg_", source), source, kernels, tuple(c.data for c in constants) + tuple(extra))


def _label(var: Variable) -> str:
    if isinstance(var, Constant):
        return f"Constant<{var.dtype}{list(var.data.shape)}>"
    return var.name or (str(var.owner.op) if var.owner is not None else "input")


def inner_graph(fgraph: FunctionGraph) -> tuple[tuple[tuple[str, str], ...], str, tuple[np.ndarray, ...]]:
    """An inner graph (a scan body, an ifelse branch) rewritten and generated as its own module: returns the
    modules to load in order (its kernels, then itself), the module's name (it defines ``graph``) and the
    constants to pass after the inputs."""
    from symgraph.rewrite import rewrite_inner_graph

    rewrite_inner_graph(fgraph)  # with the selection of the function being compiled
    generated = generate(fgraph)
    modules = (*generated.kernels.items(), (generated.name, generated.source))
    return modules, generated.name, generated.constants
