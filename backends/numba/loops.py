"""Loop kernels for elementwise work: one pass over memory computing a scalar program per element.

A ``LoopSpec`` describes the work independently of where it came from (a lone Elemwise, a fused
elementwise group, an elementwise group feeding reductions): the inputs' dtypes and static shapes, the
scalar steps, and the outputs (each either elementwise or reduced over some loop axes). ``loop_source``
turns it into the source of one numba function ``kernel(a0, a1, ...)`` returning the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backends.numba.scalar import np_dtype, scalar_source, typed
from symgraph.ops.scalar import ScalarOp

REDUCE_IDENTITY = {"sum": 0, "prod": 1, "all": True, "any": False}


@dataclass(frozen=True)
class Step:
    """slot = op(*args), computed in dtype ``comp`` and stored as ``out``."""

    op: ScalarOp
    args: tuple[int, ...]
    comp: str
    out: str


@dataclass(frozen=True)
class LoopOutput:
    """The value of ``slot``, elementwise (``reduce`` None) or reduced with ``reduce`` over loop ``axes``."""

    slot: int
    dtype: str
    reduce: str | None = None
    axes: tuple[int, ...] = ()
    destroys: int | None = None  # input written in place (elementwise outputs only)


@dataclass(frozen=True)
class LoopSpec:
    """Inputs (dtype, static shape), steps over slots (inputs first, then one slot per step), outputs."""

    inputs: tuple[tuple[str, tuple[int | None, ...]], ...]
    steps: tuple[Step, ...]
    outputs: tuple[LoopOutput, ...]
    label: str  # names the op in run-time error messages

    @property
    def ndim(self) -> int:
        return max((len(shape) for _, shape in self.inputs), default=0)


def loop_source(spec: LoopSpec) -> str:
    """Source of ``def kernel(a0, ...)`` implementing ``spec`` with explicit nested loops."""
    ndim = spec.ndim
    args = [f"a{i}" for i in range(len(spec.inputs))]
    lines = [f"def kernel({', '.join(args)}):"]
    lines += _lengths(spec, ndim)
    body_indent = "    " * (ndim + 1)
    for k, out in enumerate(spec.outputs):
        lines += _allocate(spec, k, out, ndim)
    lines += [f"    {'    ' * axis}for j{axis} in range(n{axis}):" for axis in range(ndim)]
    dtypes = [dtype for dtype, _ in spec.inputs]
    for i, (_, shape) in enumerate(spec.inputs):
        lines.append(f"{body_indent}s{i} = a{i}[{_index(shape, ndim)}]")
    for n, step in enumerate(spec.steps):
        slot = len(spec.inputs) + n
        args_src = [_converted(f"s{a}", dtypes[a], step.comp) for a in step.args]
        expr = scalar_source(step.op, args_src, step.comp)
        lines.append(f"{body_indent}s{slot} = {np_dtype(step.out)}({expr})")  # numba widens small ints
        dtypes.append(step.out)
    for k, out in enumerate(spec.outputs):
        lines.append(body_indent + _store(k, out, ndim, _converted(f"s{out.slot}", dtypes[out.slot], out.dtype)))
    results = [f"o{k}" for k in range(len(spec.outputs))]
    lines.append(f"    return {', '.join(results)}{',' if len(results) == 1 else ''}")
    return "\n".join(lines) + "\n"


def _converted(expr: str, have: str, want: str) -> str:
    return expr if have == want else f"{np_dtype(want)}({expr})"


def _padded(shape: tuple, ndim: int) -> tuple:
    return (1,) * (ndim - len(shape)) + tuple(shape)


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
            lines.append(f"    n{axis} = 1")
            continue
        (first, first_axis), rest = sources[0], sources[1:]
        lines.append(f"    n{axis} = a{first}.shape[{first_axis}]")
        for i, a in rest:
            lines.append(
                f"    if a{i}.shape[{a}] != n{axis}:\n        raise ValueError("
                f"{spec.label + f': input shapes do not match on axis {axis} (a length-1 axis broadcasts only when declared static-1)'!r})"  # noqa: E501
            )
    return lines


def _kept(out: LoopOutput, ndim: int) -> list[int]:
    return [a for a in range(ndim) if a not in out.axes]


def _allocate(spec: LoopSpec, k: int, out: LoopOutput, ndim: int) -> list[str]:
    shape = "".join(f"n{a}, " for a in _kept(out, ndim))
    if out.destroys is not None:
        return [f"    o{k} = a{out.destroys}"]
    if out.reduce is None:
        return [f"    o{k} = np.empty(({shape}), {np_dtype(out.dtype)})"]
    if out.reduce in REDUCE_IDENTITY:
        init = typed(REDUCE_IDENTITY[out.reduce], out.dtype)
        return [f"    o{k} = np.full(({shape}), {init}, {np_dtype(out.dtype)})"]
    size = " * ".join(f"n{a}" for a in out.axes) or "1"
    lines = [
        f"    if {size} == 0:",
        f"        raise ValueError({spec.label + f': {out.reduce} of an empty axis has no identity'!r})",
    ]
    if np.dtype(out.dtype).kind == "f":
        init = f"{np_dtype(out.dtype)}({'-' if out.reduce == 'max' else ''}np.inf)"
    else:
        info = np.iinfo(out.dtype) if out.dtype != "bool" else None
        init = typed((info.min if out.reduce == "max" else info.max) if info else out.reduce == "min", out.dtype)
    return lines + [f"    o{k} = np.full(({shape}), {init}, {np_dtype(out.dtype)})"]


_COMBINE = {
    "sum": "{acc} + {v}",
    "prod": "{acc} * {v}",
    "max": "np.maximum({acc}, {v})",
    "min": "np.minimum({acc}, {v})",
    "all": "{acc} & {v}",
    "any": "{acc} | {v}",
}


def _store(k: int, out: LoopOutput, ndim: int, value: str) -> str:
    target = f"o{k}[{', '.join(f'j{a}' for a in _kept(out, ndim)) or '()'}]"
    if out.reduce is None:
        return f"{target} = {value}"
    combined = _COMBINE[out.reduce].format(acc=target, v=value)
    return f"{target} = {np_dtype(out.dtype)}({combined})"
