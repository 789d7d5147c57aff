"""Indexing with NumPy semantics: basic (ints, slices, newaxis, Ellipsis) and advanced (integer and
boolean arrays) reads, and the functional writes ``set_subtensor``/``inc_subtensor``.

An index is described by ``idx_list``, a tuple of entry codes (the op's props), and by the node's
inputs after ``x`` (and ``y`` for writes): one input per integer, array or mask entry and one per
slice bound that is present. Python ints become constants, so the op is the same for any value.

Entry codes: ``"i"`` an integer, ``"array"`` an integer array, ``"mask"`` a boolean array,
``"newaxis"``, ``"..."``, and slices written ``"start:stop:step"`` with absent bounds left empty
(``":"`` is a full slice, ``"start:"`` has only a start, ``"::step"`` only a step).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from symgraph.errors import SymgraphTypeError, SymgraphValueError, build_error
from symgraph.graph import Apply, Constant, Variable, as_variable, constant
from symgraph.op import Op
from symgraph.ops.alloc import arange, zeros_like
from symgraph.ops.elemwise import cast, eq, maximum, minimum, refuse_undeclared_broadcast, where
from symgraph.ops.reduce import sum as sum_
from symgraph.types import TensorType, broadcast_static

__all__ = [
    "Subtensor", "AdvancedSubtensor", "IncSubtensor", "AdvancedIncSubtensor",
    "getitem", "set_subtensor", "inc_subtensor", "take",
]  # fmt: skip

_ADVANCED = ("i", "array", "mask")  # entry kinds that broadcast together once an array is present


# -- index description ---------------------------------------------------------------------
def _slice_code(item: slice) -> str:
    code = f"{'start' if item.start is not None else ''}:{'stop' if item.stop is not None else ''}"
    return code + (":step" if item.step is not None else "")


def _slice_flags(code: str) -> tuple[bool, bool, bool]:
    parts = code.split(":")
    return parts[0] != "", parts[1] != "", len(parts) == 3


def _n_inputs(code: str) -> int:
    if ":" in code:
        return sum(_slice_flags(code))
    return 0 if code in ("newaxis", "...") else 1


def _entries(idx_list: Sequence[str], inputs: Sequence[Any]) -> list[tuple[str, tuple]]:
    """(kind, arguments) per entry; a slice's arguments are (start, stop, step) with None where absent."""
    it = iter(inputs)
    out = []
    for code in idx_list:
        if ":" in code:
            out.append(("slice", tuple(next(it) if flag else None for flag in _slice_flags(code))))
        else:
            out.append((code, tuple(next(it) for _ in range(_n_inputs(code)))))
    return out


def _consumed(kind: str, args: tuple) -> int:
    """Number of dimensions of ``x`` an entry indexes (Ellipsis excluded)."""
    return args[0].ndim if kind == "mask" else 0 if kind in ("newaxis", "...") else 1


def _walk(ndim: int, entries: list[tuple[str, tuple]]) -> Iterator[tuple[str, tuple, range]]:
    """Each entry with the axes of ``x`` it indexes; a last item ("rest") covers the axes not indexed."""
    used = sum(_consumed(kind, args) for kind, args in entries if kind != "...")
    axis = 0
    for kind, args in entries:
        count = ndim - used if kind == "..." else _consumed(kind, args)
        yield kind, args, range(axis, axis + count)
        axis += count
    yield "rest", (), range(axis, ndim)


def _is_advanced(entries: list[tuple[str, tuple]]) -> bool:
    return any(kind in ("array", "mask") for kind, _ in entries)


def _const(var: Variable | None) -> int | None:
    return int(var.data) if isinstance(var, Constant) else None


def _check_index(op: Op, x: Variable, y: Variable | None, index: Sequence[Variable]) -> list[tuple[str, tuple]]:
    """Validate the index inputs against ``op.idx_list`` and ``x``; returns the entries."""
    inputs = [x, *([] if y is None else [y]), *index]
    idx_list = op.idx_list
    expected = sum(_n_inputs(code) for code in idx_list)
    if len(index) != expected:
        raise op.value_error(inputs, f"the index {idx_list} takes {expected} index inputs, got {len(index)}")
    if idx_list.count("...") > 1:
        raise op.value_error(inputs, "an index can only have a single ellipsis ('...')")
    entries = _entries(idx_list, index)
    if _is_advanced(entries) != op.advanced:
        raise op.type_error(inputs, f"{'needs' if op.advanced else 'cannot take'} array indices, got {idx_list}")
    used = sum(_consumed(kind, args) for kind, args in entries if kind != "...")
    if used > x.ndim:
        raise op.value_error(inputs, f"too many indices: {used} indexed dimensions for a {x.ndim}-d tensor")
    group = []
    for kind, args, axes in _walk(x.ndim, entries):
        lengths = [x.type.shape[a] for a in axes]
        for arg in (a for a in args if a is not None):
            if kind in ("i", "slice") and arg.ndim != 0:
                raise op.type_error(inputs, f"integer indices and slice bounds must be 0-d, got {arg.type}")
            if kind == "mask" and arg.dtype != "bool":
                raise op.type_error(inputs, f"a mask entry needs a bool index, got {arg.dtype}")
            if kind != "mask" and not arg.type.is_integer:
                raise op.type_error(inputs, f"indices must have an integer or bool dtype, got {arg.dtype}")
        if kind == "slice" and _const(args[2]) == 0:
            raise op.value_error(inputs, "slice step cannot be zero")
        if kind in ("i", "array") and isinstance(args[0], Constant) and lengths[0] is not None and args[0].data.size:
            low, high = int(args[0].data.min()), int(args[0].data.max())
            if low < -lengths[0] or high >= lengths[0]:
                bad = low if low < -lengths[0] else high
                raise op.value_error(inputs, f"index {bad} is out of bounds for axis {axes[0]} with size {lengths[0]}")
        if kind == "mask" and any(
            a is not None and b is not None and a != b for a, b in zip(args[0].type.shape, lengths)
        ):
            raise op.value_error(
                inputs, f"boolean index of shape {args[0].type.shape} does not match the indexed lengths {lengths}"
            )
        if kind in ("array", "mask"):
            group.append(args[0].type.shape if kind == "array" else (_mask_count(args[0], False),))
    if broadcast_static(*group) is None:
        raise op.value_error(inputs, f"index arrays of shapes {group} do not broadcast together")
    return entries


# -- shapes ------------------------------------------------------------------------------------
def _slice_length(n: Any, bounds: tuple, symbolic: bool) -> Any:
    """Length of ``slice(*bounds)`` on a length ``n``: an int when known, else None (static) or a graph."""
    start, stop, step = bounds
    if start is None and stop is None and (step is None or _const(step) == 1):
        return n
    if isinstance(n, int) and all(b is None or isinstance(b, Constant) for b in bounds):
        return len(range(*slice(*(_const(b) for b in bounds)).indices(n)))
    if not symbolic:
        return None
    start, stop = (None if b is None else cast(b, "int64") for b in (start, stop))

    def clamp(bound: Variable, low: Any, high: Any) -> Variable:
        return where(bound < 0, maximum(bound + n, low), minimum(bound, high))

    def length(step: Any, positive: bool) -> Variable:
        if positive:
            first = 0 if start is None else clamp(start, 0, n)
            end = n if stop is None else clamp(stop, 0, n)
            return maximum((end - first + step - 1) // step, 0)
        first = n - 1 if start is None else clamp(start, -1, n - 1)
        end = -1 if stop is None else clamp(stop, -1, n - 1)
        return maximum((first - end - step - 1) // -step, 0)

    if step is None or isinstance(step, Constant):
        step = 1 if step is None else _const(step)
        return length(step, step > 0)
    step = cast(step, "int64")
    return where(step > 0, length(step, True), length(step, False))


def _broadcast_symbolic(shapes: list[tuple]) -> tuple:
    """NumPy broadcasting of symbolic shapes (a static length other than 1 decides its axis)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(ndim):
        dims = [s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0]
        known = [d for d in dims if isinstance(d, int) and d != 1]
        unknown = [d for d in dims if not isinstance(d, int)]
        if known or not unknown:
            out.append(known[0] if known else 1)
            continue
        length = unknown[0]
        for d in unknown[1:]:
            length = where(eq(length, 1), d, length)
        out.append(length)
    return tuple(out)


def _mask_count(mask: Variable, symbolic: bool) -> Any:
    if isinstance(mask, Constant):
        return int(np.count_nonzero(mask.data))
    if not symbolic:
        return None
    return sum_(mask, dtype="int64")


def _indexed_shape(x: Variable, entries: list[tuple[str, tuple]], shapes: dict, symbolic: bool) -> tuple:
    """Shape of ``x[index]`` from ``shapes`` (each input variable's static or symbolic shape)."""
    advanced = _is_advanced(entries)
    x_shape = shapes[x]
    out: list = []
    group: list[tuple] = []
    insert_at = None
    positions = []
    for pos, (kind, args, axes) in enumerate(_walk(x.ndim, entries)):
        if advanced and kind in _ADVANCED:
            positions.append(pos)
            insert_at = len(out) if insert_at is None else insert_at
            group.append(
                () if kind == "i" else shapes[args[0]] if kind == "array" else (_mask_count(args[0], symbolic),)
            )
        elif kind == "newaxis":
            out.append(1)
        elif kind == "slice":
            out.append(_slice_length(x_shape[axes[0]], args, symbolic))
        elif kind in ("...", "rest"):
            out.extend(x_shape[a] for a in axes)
    if advanced:
        adjacent = positions == list(range(positions[0], positions[-1] + 1))
        at = insert_at if adjacent else 0
        out[at:at] = _broadcast_symbolic(group) if symbolic else broadcast_static(*group)
    return tuple(out)


def _numpy_index(idx_list: Sequence[str], index: Sequence[np.ndarray]) -> tuple:
    """The NumPy index that ``idx_list`` describes, from the run-time values of the index inputs."""
    out: list[Any] = []
    for kind, args in _entries(idx_list, index):
        if kind == "slice":
            out.append(slice(*(None if a is None else int(a) for a in args)))
        elif kind == "i":
            out.append(int(args[0]))
        elif kind == "newaxis":
            out.append(None)
        elif kind == "...":
            out.append(Ellipsis)
        else:
            out.append(args[0])
    return tuple(out)


# -- ops -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _IndexOp(Op):
    """Common props and printing of the indexing ops."""

    idx_list: tuple[str, ...]
    advanced: ClassVar[bool]

    def _static_shape(self, x: Variable, index: Sequence[Variable], entries: list) -> tuple:
        return _indexed_shape(x, entries, {v: v.type.shape for v in (x, *index)}, False)

    def __str__(self) -> str:
        return f"{type(self).__name__}{{{', '.join(self.idx_list)}}}"


@dataclass(frozen=True)
class _ReadOp(_IndexOp):
    """``x[index]``: inputs are ``x`` then the index inputs."""

    def make_node(self, x: Any, *index: Any) -> Apply:
        x, index = as_variable(x), [as_variable(i) for i in index]
        entries = _check_index(self, x, None, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, self._static_shape(x, index, entries))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(inputs[0][_numpy_index(self.idx_list, inputs[1:])])]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        x, *index = node.inputs
        entries = _entries(self.idx_list, index)
        return [_indexed_shape(x, entries, dict(zip(node.inputs, input_shapes)), True)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Gradient of ``x``: ``g`` added into zeros at the same index (repeated array indices accumulate).

        The index inputs get none.
        """
        x, *index = node.inputs
        write = AdvancedIncSubtensor if self.advanced else IncSubtensor
        return [write(self.idx_list)(zeros_like(x), output_grads[0], *index), *[None] * len(index)]


@dataclass(frozen=True)
class Subtensor(_ReadOp):
    """``x[index]`` with basic indexing: ints, slices, newaxis, Ellipsis (a NumPy view)."""

    view_map = {0: 0}  # may return a view of x

    advanced: ClassVar[bool] = False


@dataclass(frozen=True)
class AdvancedSubtensor(_ReadOp):
    """``x[index]`` where the index holds integer or boolean arrays (a NumPy copy)."""

    advanced: ClassVar[bool] = True


@dataclass(frozen=True)
class _WriteOp(_IndexOp):
    """A copy of ``x`` with ``x[index]`` replaced by (``set_instead_of_inc``) or incremented by ``y``.

    Inputs are ``x``, ``y`` (of x's dtype, broadcasting to the indexed shape) then the index inputs.
    """

    set_instead_of_inc: bool = False

    def make_node(self, x: Any, y: Any, *index: Any) -> Apply:
        x, y, index = as_variable(x), as_variable(y), [as_variable(i) for i in index]
        inputs = [x, y, *index]
        target = self._static_shape(x, index, _check_index(self, x, y, index))
        if y.dtype != x.dtype:
            raise self.type_error(inputs, f"y must have the dtype of x ({x.dtype}), got {y.dtype}")
        aligned = zip(target[len(target) - y.ndim :], y.type.shape)
        if y.ndim > len(target) or any(t is not None and d is not None and d not in (1, t) for t, d in aligned):
            raise self.value_error(
                inputs, f"y of shape {y.type.shape} does not broadcast to the indexed shape {target}"
            )
        return Apply(self, inputs, [x.type])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        x, y, *index = inputs
        out = x.copy()
        where = _numpy_index(self.idx_list, index)
        refuse_undeclared_broadcast(self, node.inputs[1], y.shape, out[where].shape)
        if self.set_instead_of_inc:
            out[where] = y
        elif self.advanced:
            np.add.at(out, where, y)  # repeated indices accumulate
        else:
            out[where] += y
        return [out]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [input_shapes[0]]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Gradients of ``x`` and ``y``; the index inputs get none.

        ``x``: ``g`` for an increment; for a set, ``g`` with the written region zeroed. ``y``: ``g`` read at
        the index (the driver sums it over the axes along which ``y`` was broadcast). For a set with repeated
        array indices the last write wins (NumPy's order), so only that occurrence of ``y`` gets gradient.
        """
        index, g = node.inputs[2:], output_grads[0]
        read = (AdvancedSubtensor if self.advanced else Subtensor)(self.idx_list)
        g_y = read(g, *index)
        none = [None] * len(index)
        if not self.set_instead_of_inc:
            return [g, g_y, *none]
        g_x = type(self)(self.idx_list, True)(g, constant(np.zeros((), dtype=g.dtype)), *index)
        if "array" in self.idx_list:  # positions may repeat: keep the occurrence that was written last
            ids = arange(g_y.size).reshape(g_y.shape, ndim=g_y.ndim)
            winners = type(self)(self.idx_list, True)(zeros_like(g, dtype="int64"), ids, *index)
            g_y = where(eq(read(winners, *index), ids), g_y, 0)
        return [g_x, g_y, *none]

    def __str__(self) -> str:
        return super().__str__().replace("{", "{set, " if self.set_instead_of_inc else "{inc, ", 1)


@dataclass(frozen=True)
class IncSubtensor(_WriteOp):
    """Set or increment ``x[index]`` for a basic index."""

    advanced: ClassVar[bool] = False


@dataclass(frozen=True)
class AdvancedIncSubtensor(_WriteOp):
    """Set or increment ``x[index]`` for an array index: repeated indices accumulate, or the last write wins."""

    advanced: ClassVar[bool] = True


# -- public functions ---------------------------------------------------------------------------
def _index_input(x: Variable, item: Any) -> Variable:
    """A variable for one index value or slice bound (Python ints, lists and arrays become constants)."""
    if isinstance(item, Variable):
        return item
    arr = np.asarray(item)
    if isinstance(item, list | tuple) and arr.size == 0:
        arr = arr.astype("int64")  # NumPy reads an empty list as an empty integer index
    if arr.dtype.kind not in "biuf":
        raise build_error(SymgraphTypeError, "getitem", [x], f"cannot index with {type(item).__name__} {item!r}")
    try:
        return constant(arr)
    except TypeError as err:
        raise build_error(SymgraphTypeError, "getitem", [x], f"cannot index with {item!r}: {err}") from err


def getitem(x: Any, index: Any) -> Variable:
    """``x[index]`` with NumPy semantics (what ``Variable.__getitem__`` calls)."""
    x = as_variable(x)
    idx_list: list[str] = []
    inputs: list[Variable] = []
    for item in index if isinstance(index, tuple) else (index,):
        if item is None:
            idx_list.append("newaxis")
        elif item is Ellipsis:
            idx_list.append("...")
        elif isinstance(item, slice):
            idx_list.append(_slice_code(item))
            inputs += [_index_input(x, b) for b in (item.start, item.stop, item.step) if b is not None]
        else:
            var = _index_input(x, item)
            idx_list.append("mask" if var.dtype == "bool" else "i" if var.ndim == 0 else "array")
            inputs.append(var)
    op = AdvancedSubtensor if any(code in ("array", "mask") for code in idx_list) else Subtensor
    return op(tuple(idx_list))(x, *inputs)


def _write(x_indexed: Any, y: Any, set_instead_of_inc: bool, name: str) -> Variable:
    node = getattr(x_indexed, "owner", None)
    if node is None or not isinstance(node.op, _ReadOp):
        raise build_error(
            SymgraphTypeError, name, None,
            f"the first argument must be the result of indexing a tensor (e.g. x[1:3]), got {x_indexed!r}",
        )  # fmt: skip
    x, *index = node.inputs
    y = as_variable(y)
    if y.dtype != x.dtype:
        if not np.can_cast(y.dtype, x.dtype, "same_kind"):
            raise build_error(SymgraphTypeError, name, [x, y], f"cannot cast y to the dtype of x ({x.dtype})")
        y = cast(y, x.dtype)
    op = AdvancedIncSubtensor if node.op.advanced else IncSubtensor
    return op(node.op.idx_list, set_instead_of_inc)(x, y, *index)


def set_subtensor(x_indexed: Variable, y: Any) -> Variable:
    """A copy of the indexed tensor with ``x[index] = y`` (Theano API: pass ``x[index]``)."""
    return _write(x_indexed, y, True, "set_subtensor")


def inc_subtensor(x_indexed: Variable, y: Any) -> Variable:
    """A copy of the indexed tensor with ``x[index] += y``; repeated array indices accumulate."""
    return _write(x_indexed, y, False, "inc_subtensor")


def take(x: Any, indices: Any, axis: int | None = None) -> Variable:
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` when None)."""
    x = as_variable(x)
    indices = _index_input(x, indices)
    if not indices.type.is_integer:
        message = f"indices must have an integer dtype, got {indices.dtype}"
        raise build_error(SymgraphTypeError, "take", [x, indices], message)
    if axis is None:
        return getitem(x if x.ndim == 1 else x.flatten(), indices)
    if not -x.ndim <= axis < x.ndim:
        raise build_error(SymgraphValueError, "take", [x], f"axis {axis} is out of range for {x.ndim} dimensions")
    return getitem(x, (slice(None),) * (axis % x.ndim) + (indices,))
