"""Generate the Python source of one numba function for a whole FunctionGraph.

Each node becomes one line calling its kernel (from ``numba_rule``), preceded by a comment naming the op
and its inputs; kernels live in their own generated modules (shared by every graph that uses the same
kernel). Both kinds of module are described as ``backends.source.Module`` and written by
``backends.numba.render``. Inputs arrive as ``i0, i1, ...``; constants are passed as arguments
``c0, c1, ...`` (never baked into the source), so equal graphs with different constant values share code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backends.numba.cache import module_name
from backends.numba.render import render
from backends.numba.rules import Kernel, numba_rule
from backends.source import Function, Import, Module
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant, Variable


@dataclass(frozen=True)
class GeneratedGraph:
    """The graph module's name and source, the kernel modules it imports, and the constants to pass."""

    name: str
    source: str
    kernels: dict[str, str]  # module name -> source
    constants: tuple[np.ndarray, ...]


PARALLEL_MIN_SIZE = 1 << 16  # elements of the largest input below which a kernel stays serial


def kernel_module(kernel: Kernel) -> Module:
    """A module defining ``kernel``; with a parallel variant, ``kernel`` picks it for large inputs."""
    imports, definitions = kernel.imports, kernel.definitions
    if kernel.parallel_body is None:
        return Module((Function("kernel", kernel.params, kernel.body, kernel.fastmath),), imports, definitions)
    args = ", ".join(kernel.params)
    sizes = [f"{p}.size" for p in kernel.params]
    size = f"max({', '.join(sizes)}, 0)" if len(sizes) > 1 else sizes[0]
    choose = (
        f"if {size} >= {PARALLEL_MIN_SIZE}:",
        f"    return kernel_parallel({args})",
        f"return kernel_serial({args})",
    )
    functions = (
        Function("kernel_parallel", kernel.params, kernel.parallel_body, kernel.fastmath, parallel=True),
        Function("kernel_serial", kernel.params, kernel.body, kernel.fastmath),
        Function("kernel", kernel.params, choose),
    )
    return Module(functions, imports, definitions)


def generate(fgraph: FunctionGraph, entry: bool = True) -> GeneratedGraph:
    """The graph module for ``fgraph`` (nodes in ``fgraph.toposort()`` order, which honours in-place ops); its
    ``graph`` is called from Python where ``entry``, else only from compiled code (an inner graph)."""
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
        source = render(kernel_module(kernel))
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
        inputs = ", ".join(_label(v) for v in node.inputs)
        body.append(f"# {_one_line(f'{node.op}({inputs})')}")
        body.append(f"{', '.join(outs)}, = {alias}({args})")
    body.append(f"return ({''.join(f'{names[v]}, ' for v in fgraph.outputs)})")
    params = [f"i{i}" for i in range(len(fgraph.inputs))] + [f"c{j}" for j in range(len(constants) + len(extra))]
    source = render(
        Module(
            (Function("graph", tuple(params), tuple(body), entry=entry),),
            imports=tuple(Import(module, "kernel", alias) for module, alias in aliases.items()),
            comments=tuple(_one_line(f"i{i}: {_label(v)} :: {v.type}") for i, v in enumerate(fgraph.inputs)),
        )
    )
    return GeneratedGraph(module_name("sg_", source), source, kernels, tuple(c.data for c in constants) + tuple(extra))


def _one_line(text: str) -> str:
    """``text`` for a comment line (names chosen by the user may hold line breaks)."""
    return " ".join(text.splitlines())


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
    generated = generate(fgraph, entry=False)
    modules = (*generated.kernels.items(), (generated.name, generated.source))
    return modules, generated.name, generated.constants
