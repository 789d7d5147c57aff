"""Loop kernels for elementwise work: one pass over memory computing a scalar program per element.

A ``LoopSpec`` describes the work independently of where it came from (a lone Elemwise, a Reduce, a fused
group of elementwise ops feeding reductions): a ``Program`` of scalar steps (``symgraph.ops.fused``) and the
static shapes of its inputs. Each output is elementwise or reduced over some loop axes. ``loop_kernel``
describes one numba function of the inputs returning the outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from backends.numba.rules import Kernel
from backends.numba.scalar import np_dtype, scalar_helpers, scalar_source, typed, wrapping
from symgraph.config import config
from symgraph.graph import Apply
from symgraph.ops.fused import Output, Program

REDUCE_IDENTITY = {"sum": 0, "prod": 1, "all": True, "any": False}


@dataclass(frozen=True)
class LoopSpec:
    """A program (see ``symgraph.ops.fused``) over inputs of these static shapes; ``destroys`` maps an
    elementwise output to the input it is written into; ``label`` names the op in run-time errors."""

    shapes: tuple[tuple[int | None, ...], ...]
    program: Program
    label: str
    destroys: tuple[tuple[int, int], ...] = ()

    @property
    def ndim(self) -> int:
        return max((len(shape) for shape in self.shapes), default=0)

    @property
    def inputs(self) -> list[tuple[str, tuple[int | None, ...]]]:
        return list(zip(self.program.input_dtypes, self.shapes))

    @property
    def outputs(self) -> tuple[Output, ...]:
        return self.program.outputs


def program_kernel(op: object, node: Apply, program: Program, destroys: tuple[tuple[int, int], ...] = ()) -> Kernel:
    """The loop kernel running ``program`` over the inputs of ``node`` (an op of elementwise nature)."""
    spec = LoopSpec(tuple(v.type.shape for v in node.inputs), program, str(op), destroys)
    return loop_kernel(spec, config.num_threads)


def loop_kernel(spec: LoopSpec, threads: int) -> Kernel:
    """The kernel for ``spec``; with ``threads`` > 1 and an outer axis that no output reduces, also a
    variant whose outer loop runs in parallel (used for large inputs).

    Vector math only vectorizes over unit strides: when the loop calls it, strided inputs (slices, transposes)
    arrive as ``x<i>`` and are copied to contiguous ``a<i>`` first.
    """
    parallel = threads > 1 and spec.ndim > 0 and all(0 not in out.axes for out in spec.outputs)
    body = _loop_body(spec)
    helpers = list(dict.fromkeys(h for step in spec.program.steps for h in scalar_helpers(step.op, step.comp_dtype)))
    kept = set(_invariant(spec)) | set(dict(spec.destroys).values())  # read once, or written in place
    vector = any(h.vector for h in helpers)
    copied = [i for i, (_, shape) in enumerate(spec.inputs) if shape and i not in kept] if vector else []
    copies = tuple(f"a{i} = np.ascontiguousarray(x{i})" for i in copied)
    return Kernel(
        tuple(f"x{i}" if i in copied else f"a{i}" for i in range(len(spec.inputs))),
        copies + body,
        fastmath=("reassoc",) if uses_accumulators(spec) else (),
        parallel_body=copies + _loop_body(spec, parallel=True) if parallel else None,
        imports=tuple(dict.fromkeys(i for h in helpers for i in h.imports)),
        definitions=tuple(h.definition for h in helpers if h.definition),
    )


def _loop_body(spec: LoopSpec, parallel: bool = False) -> tuple[str, ...]:
    """Statements of a function of ``a0, a1, ...`` implementing ``spec`` with explicit nested loops.

    A reduction over the innermost loop axes accumulates in a local scalar (which LLVM keeps in registers
    and, with ``reassoc``, vectorizes); other reductions accumulate in their output array. The ``parallel``
    variant runs its outer loop with ``numba.prange``.
    """
    ndim = spec.ndim
    lines = _lengths(spec, ndim)
    for k, out in enumerate(spec.outputs):
        lines += _allocate(spec, k, out, ndim)
    invariant = _invariant(spec)
    lines += [f"s{i} = a{i}[{_index(spec.inputs[i][1], ndim)}]" for i in invariant]  # read once
    lines += _nest(spec, 0, _body(spec, ndim, set(invariant)), parallel=parallel)
    results = [f"o{k}" for k in range(len(spec.outputs))]
    lines.append(f"return {', '.join(results)}{',' if len(results) == 1 else ''}")
    return tuple(lines)


def _invariant(spec: LoopSpec) -> list[int]:
    """The inputs with a single element (static shape all ones): read once, before the loops."""
    return [i for i, (_, shape) in enumerate(spec.inputs) if all(n == 1 for n in shape)]


def uses_accumulators(spec: LoopSpec) -> bool:
    """True when the kernel sums in local scalars (and so benefits from reassociating float additions)."""
    return any(_depth(out, spec.ndim) is not None for out in spec.outputs)


def _depth(out: Output, ndim: int) -> int | None:
    """The loop level where a local accumulator starts: reductions over the innermost axes only."""
    if out.reduce is None or not out.axes:
        return None
    depth = ndim - len(out.axes)
    return depth if out.axes == tuple(range(depth, ndim)) else None


def _nest(spec: LoopSpec, level: int, body: list[str], parallel: bool = False) -> list[str]:
    indent = "    " * level
    accumulators = [(k, out) for k, out in enumerate(spec.outputs) if _depth(out, spec.ndim) == level]
    lines = [f"{indent}acc{k} = o{k}[{_target(out, spec.ndim)}]" for k, out in accumulators]
    if level == spec.ndim:
        lines += [indent + line for line in body]
    else:
        loop = "numba.prange" if parallel and level == 0 else "range"
        lines.append(f"{indent}for j{level} in {loop}(n{level}):")
        lines += _nest(spec, level + 1, body)
    lines += [f"{indent}o{k}[{_target(out, spec.ndim)}] = acc{k}" for k, out in accumulators]
    return lines


def _body(spec: LoopSpec, ndim: int, invariant: set[int]) -> list[str]:
    dtypes = [dtype for dtype, _ in spec.inputs]
    lines = [f"s{i} = a{i}[{_index(shape, ndim)}]" for i, (_, shape) in enumerate(spec.inputs) if i not in invariant]
    for n, step in enumerate(spec.program.steps):
        args_src = [
            f"s{a}" if i == 0 and step.op.name == "switch" else _converted(f"s{a}", dtypes[a], step.comp_dtype)
            for i, a in enumerate(step.args)
        ]
        expr = scalar_source(step.op, args_src, step.comp_dtype)
        lines.append(f"s{len(spec.inputs) + n} = {np_dtype(step.out_dtype)}({expr})")  # numba widens small ints
        dtypes.append(step.out_dtype)
    for k, out in enumerate(spec.outputs):
        value = _converted(f"s{out.slot}", dtypes[out.slot], out.dtype)
        if out.reduce is None:
            lines.append(f"o{k}[{_target(out, ndim)}] = {value}")
        else:
            acc = f"acc{k}" if _depth(out, ndim) is not None else f"o{k}[{_target(out, ndim)}]"
            combined = _COMBINE[out.reduce](acc, value, out.dtype)
            lines.append(f"{acc} = {np_dtype(out.dtype)}({combined})")
    return lines


def _target(out: Output, ndim: int) -> str:
    return ", ".join(f"j{a}" for a in _kept(out, ndim)) or "()"


def _converted(expr: str, have: str, want: str) -> str:
    return expr if have == want else f"{np_dtype(want)}({expr})"


def _index(shape: tuple, ndim: int) -> str:
    """Index of an input inside the loop nest: broadcast (static length 1) axes read element 0."""
    offset = ndim - len(shape)
    parts = ["0" if s == 1 else f"j{offset + a}" for a, s in enumerate(shape)]
    return ", ".join(parts) if parts else "()"


def _lengths(spec: LoopSpec, ndim: int) -> list[str]:
    """n<axis> for each loop axis, taken from the inputs that do not broadcast along it, checked equal."""
    lines = []
    for axis in range(ndim):
        sources = [
            (i, axis - (ndim - len(shape)))
            for i, (_, shape) in enumerate(spec.inputs)
            if len(shape) > axis - (ndim - len(shape)) >= 0 and shape[axis - (ndim - len(shape))] != 1
        ]
        if not sources:
            lines.append(f"n{axis} = 1")
            continue
        (first, first_axis), rest = sources[0], sources[1:]
        lines.append(f"n{axis} = a{first}.shape[{first_axis}]")
        message = f"{spec.label}: input shapes do not match on axis {axis} (a length-1 axis broadcasts only when declared static-1)"  # noqa: E501
        for i, a in rest:
            lines += [f"if a{i}.shape[{a}] != n{axis}:", f"    raise ValueError({message!r})"]
    return lines


def _kept(out: Output, ndim: int) -> list[int]:
    return [a for a in range(ndim) if a not in out.axes]


def _allocate(spec: LoopSpec, k: int, out: Output, ndim: int) -> list[str]:
    shape = "".join(f"n{a}, " for a in _kept(out, ndim))
    destroyed = dict(spec.destroys).get(k)
    if destroyed is not None:
        return [f"o{k} = a{destroyed}"]
    if out.reduce is None:
        return [f"o{k} = np.empty(({shape}), {np_dtype(out.dtype)})"]
    if out.reduce in REDUCE_IDENTITY:
        init = typed(REDUCE_IDENTITY[out.reduce], out.dtype)
        return [f"o{k} = np.full(({shape}), {init}, {np_dtype(out.dtype)})"]
    size = " * ".join(f"n{a}" for a in out.axes) or "1"
    lines = [
        f"if {size} == 0:",
        f"    raise ValueError({spec.label + f': {out.reduce} of an empty axis has no identity'!r})",
    ]
    if np.dtype(out.dtype).kind == "f":
        init = f"{np_dtype(out.dtype)}({'-' if out.reduce == 'max' else ''}np.inf)"
    else:
        info = np.iinfo(out.dtype) if out.dtype != "bool" else None
        init = typed((info.min if out.reduce == "max" else info.max) if info else out.reduce == "min", out.dtype)
    return lines + [f"o{k} = np.full(({shape}), {init}, {np_dtype(out.dtype)})"]


_COMBINE: dict[str, Callable[[str, str, str], str]] = {
    "sum": lambda acc, v, dtype: wrapping("+", [acc, v], dtype),
    "prod": lambda acc, v, dtype: wrapping("*", [acc, v], dtype),
    "max": lambda acc, v, dtype: f"np.maximum({acc}, {v})",
    "min": lambda acc, v, dtype: f"np.minimum({acc}, {v})",
    "all": lambda acc, v, dtype: f"{acc} & {v}",
    "any": lambda acc, v, dtype: f"{acc} | {v}",
}
