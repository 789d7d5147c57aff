"""Views of graphs: ``debugprint`` (an indented text tree) and ``to_dot`` (Graphviz DOT text or a picture).

Both accept a Variable, a list of Variables, a FunctionGraph or a compiled Function (whose updates
are shown too).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from symgraph.compile import Function
from symgraph.errors import SymgraphError, SymgraphTypeError, SymgraphValueError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable, ancestors, toposort
from symgraph.shared import SharedVariable

__all__ = ["debugprint", "to_dot"]


@dataclass
class _View:
    """What to show: the output variables, the (shared variable, new value) updates, which roots are shared."""

    outputs: list[Variable]
    updates: list[tuple[Variable, Variable]] = field(default_factory=list)
    shared: set[Variable] = field(default_factory=set)

    @property
    def roots(self) -> list[Variable]:
        return self.outputs + [value for _, value in self.updates]

    def is_shared(self, var: Variable) -> bool:
        return isinstance(var, SharedVariable) or var in self.shared


def _view(obj: Any, caller: str) -> _View:
    if isinstance(obj, Function):
        fg = obj.fgraph
        shared = fg.inputs[len(obj.inputs) :]
        by_original = {id(orig): copy for orig, copy in zip(obj.shared, shared)}
        updates = [
            (by_original.get(id(var), var), value) for var, value in zip(obj.update_vars, fg.outputs[obj.n_outputs :])
        ]
        return _View(list(fg.outputs[: obj.n_outputs]), updates, set(shared))
    if isinstance(obj, FunctionGraph):
        return _View(list(obj.outputs))
    if isinstance(obj, Variable):
        return _View([obj])
    if isinstance(obj, list | tuple) and all(isinstance(v, Variable) for v in obj):
        return _View(list(obj))
    raise SymgraphTypeError(
        f"{caller}: expected a Variable, a list of Variables, a FunctionGraph or a compiled Function, got {obj!r}"
    )


def _short(data: np.ndarray) -> str:
    """A constant's value on one short line."""
    if data.size > 6:
        return f"<{data.dtype} array of shape {data.shape}>"
    return " ".join(np.array2string(data, precision=4).split())


def _label(var: Variable, view: _View) -> str:
    """What a variable is: its op (and output index), or its name, or a constant's value."""
    if isinstance(var, Constant):
        text = f"Constant{{{_short(var.data)}}}"
    elif var.owner is None:
        if view.is_shared(var):
            return f"{var.name} (shared)" if var.name else "<shared>"
        return var.name or "<input>"
    else:
        text = str(var.owner.op) + (f".{var.index}" if len(var.owner.outputs) > 1 else "")
    return f"{text} '{var.name}'" if var.name else text


def _key(var: Variable) -> Apply | Variable:
    """Apply nodes are printed once whichever output is used; roots stand for themselves."""
    return var.owner if var.owner is not None else var


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA..."""
    text = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        text = chr(ord("A") + r) + text
    return text


def debugprint(obj: Any, file: TextIO | str | None = None, print_type: bool = True, ids: str = "auto") -> str:
    """Print a graph as an indented tree, one line per variable, and return the text.

    Each line shows the op that computes the variable (or an input's name, a constant's value), the
    variable's name in quotes and, with ``print_type``, its type after ``::``. With ``ids="auto"``,
    nodes used more than once get an id like ``[id A]``: their inputs are printed the first time,
    later references end with ``...``; ``ids="all"`` gives every node and input an id. For a compiled
    Function the updates follow the outputs as ``W <- <tree>``. ``file``: where to print (default
    stdout); ``"str"`` only returns the text.
    """
    if ids not in ("auto", "all"):
        raise SymgraphValueError(f"debugprint: ids must be 'auto' or 'all', got {ids!r}")
    view = _view(obj, "debugprint")
    uses: Counter = Counter(_key(v) for v in view.roots)
    for node in toposort(view.roots):
        uses.update(_key(v) for v in node.inputs)
    names: dict[Any, str] = {}
    printed: set[Apply] = set()
    lines: list[str] = []

    def tree(root: Variable, head: str) -> None:
        stack = [(root, head, "")]  # (variable, text before its label, indent of its inputs)
        while stack:
            var, before, indent = stack.pop()
            key = _key(var)
            line = before + _label(var, view)
            if not isinstance(var, Constant) and (ids == "all" or uses[key] > 1):
                line += f" [id {names.setdefault(key, _letters(len(names)))}]"
            if print_type:
                line += f" :: {var.type}"
            if var.owner is not None and key in printed:
                lines.append(line + " ...")
                continue
            lines.append(line)
            if var.owner is not None:
                printed.add(key)
                inputs = var.owner.inputs
                for i in reversed(range(len(inputs))):
                    last = i == len(inputs) - 1
                    stack.append((inputs[i], indent + " |", indent + ("  " if last else " |")))

    for var in view.outputs:
        tree(var, "")
    for target, value in view.updates:
        tree(value, f"{target.name or '<shared>'} <- ")
    text = "".join(line + "\n" for line in lines)
    if file != "str":
        (sys.stdout if file is None else file).write(text)
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_RENDERED = ("svg", "png", "pdf")


def to_dot(obj: Any, path: str | Path | None = None) -> str:
    """Graphviz DOT text of a graph, returned and, with ``path``, written or rendered.

    Variables are ellipses (inputs green, shared variables orange, outputs blue, constants dashed),
    apply nodes are boxes labelled with the op; an edge into an apply node is labelled with the input
    position, an edge out of a multi-output node with the output index; updates are dashed edges from
    the new value to the shared variable. A ``path`` ending in ``.dot``/``.gv`` receives the text;
    ``.svg``/``.png``/``.pdf`` is rendered by Graphviz's ``dot`` program, which must be installed.
    """
    view = _view(obj, "to_dot")
    variables = ancestors(view.roots) + [target for target, _ in view.updates]
    var_ids: dict[Variable, str] = {}
    outputs = set(view.outputs)
    lines = ["digraph symgraph {", "  rankdir=TB;"]
    for var in variables:
        if var in var_ids:
            continue
        var_ids[var] = f"v{len(var_ids)}"
        label = _label(var, view) if var.owner is None else var.name or ""
        style = ""
        if isinstance(var, Constant):
            style = ", style=dashed"
        elif var.owner is None:
            style = f", style=filled, fillcolor={'orange' if view.is_shared(var) else 'palegreen'}"
        elif var in outputs:
            style = ", style=filled, fillcolor=lightblue"
        text = _quote(f"{label}\n{var.type}" if label else str(var.type))
        lines.append(f"  {var_ids[var]} [label={text}, shape=ellipse{style}];")
    for n, node in enumerate(toposort(view.roots)):
        lines.append(f"  n{n} [label={_quote(str(node.op))}, shape=box, style=filled, fillcolor=lightgrey];")
        for i, var in enumerate(node.inputs):
            lines.append(f'  {var_ids[var]} -> n{n} [label="{i}"];')
        for out in node.outputs:
            label = f' [label="{out.index}"]' if len(node.outputs) > 1 else ""
            lines.append(f"  n{n} -> {var_ids[out]}{label};")
    for target, value in view.updates:
        lines.append(f'  {var_ids[value]} -> {var_ids[target]} [label="update", style=dashed];')
    text = "\n".join(lines + ["}"]) + "\n"
    if path is not None:
        _write(text, Path(path))
    return text


def _write(text: str, path: Path) -> None:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("dot", "gv"):
        path.write_text(text)
        return
    if suffix not in _RENDERED:
        raise SymgraphValueError(f"to_dot: cannot write {path.name!r}; use a .dot/.gv, .svg, .png or .pdf path")
    program = shutil.which("dot")
    if program is None:
        raise SymgraphError(
            f"to_dot: rendering {path.name!r} needs Graphviz's 'dot' program, which is not on PATH; "
            "install Graphviz or write a .dot file"
        )
    result = subprocess.run([program, f"-T{suffix}", "-o", str(path)], input=text.encode(), capture_output=True)
    if result.returncode != 0:
        raise SymgraphError(f"to_dot: dot failed on {path.name!r}: {result.stderr.decode(errors='replace').strip()}")
