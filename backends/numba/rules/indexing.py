"""Rules for indexing: basic reads as numba views, advanced reads and all writes as explicit loops.

``Subtensor`` becomes one numba basic-indexing expression (ints, slices, ``None``): a view of ``x``. The other
ops share one loop generator. The ints and slices of the index select a view ``v`` of ``x`` (of its copy, for
writes) that keeps every axis (an int ``i`` as ``i:i+1``, read at 0); one loop per output axis then visits the
result in C order. The advanced entries (integer arrays, masks as their ``nonzero`` arrays, and ints) broadcast
together into a block of output axes placed where NumPy places it, and their values are read once per block
position. Writes go through ``v`` element by element with ``y`` broadcast over the output axes, so repeated
indices accumulate (``np.add.at``) or, for a set, the last write wins. Run-time checks are grouped: one raise
per kind of error, as each raise site adds to numba's compile time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backends.numba.rules import Kernel, numba_rule
from backends.numba.scalar import np_dtype
from symgraph.graph import Apply
from symgraph.ops.indexing import (
    _ADVANCED,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    Subtensor,
    _entries,
    _walk,
)
from symgraph.types import TensorType

_UINT64_CLAMP = 2**62  # above any length: a clamped uint64 index or bound means the same as the original


@dataclass(frozen=True)
class _Arg:
    """A kernel argument: its name and the type of the node input it carries."""

    name: str
    type: TensorType

    @property
    def ndim(self) -> int:
        return self.type.ndim


@dataclass
class _Index:
    """An index walked once: kernel lines and the run-time failure conditions, grouped by message."""

    label: str
    reads: list[str] = field(default_factory=list)  # ints and slice steps read before any check
    failures: dict[str, list[str]] = field(default_factory=dict)  # message -> conditions
    normalize: list[str] = field(default_factory=list)  # negative ints made non-negative

    def fail_if(self, message: str, condition: str) -> None:
        self.failures.setdefault(message, []).append(condition)

    def raise_lines(self, *messages: str) -> list[str]:
        """One ``if ...: raise`` for each of ``messages`` that has conditions."""
        lines = []
        for message in messages:
            if message in self.failures:
                lines.append(f"if {' or '.join(self.failures.pop(message))}:")
                lines.append(f"    raise ValueError({f'{self.label}: {message}'!r})")
        return lines

    def int_entry(self, axis: int, arg: _Arg) -> str:
        """Read the int index of ``axis``: its checked, non-negative value is ``i<axis>``."""
        name, n = f"i{axis}", f"a0.shape[{axis}]"
        self.reads.append(f"{name} = {_int(arg)}")
        self.fail_if(OUT_OF_BOUNDS, f"{name} < -{n} or {name} >= {n}")
        self.normalize += [f"if {name} < 0:", f"    {name} += {n}"]
        return name

    def slice_entry(self, axis: int, bounds: tuple) -> str:
        """The numba slice ``start:stop:step`` for ``axis`` (numba clips its bounds like Python)."""
        parts = ["" if b is None else _int(b) for b in bounds]
        if bounds[2] is None:
            return ":".join(parts[:2])
        self.reads.append(f"t{axis} = {parts[2]}")
        self.fail_if(ZERO_STEP, f"t{axis} == 0")
        return ":".join([*parts[:2], f"t{axis}"])


OUT_OF_BOUNDS = "index out of bounds"
ZERO_STEP = "slice step cannot be zero"
MASK_SHAPE = "boolean index does not match the indexed lengths"
NO_BROADCAST = "index arrays do not broadcast together"
Y_SHAPE = (
    "y does not match the indexed shape (a length-1 axis of y broadcasts only when declared broadcastable: "
    "static length 1)"
)


def _int(arg: _Arg) -> str:
    """A 0-d integer input as an int64 scalar."""
    if arg.type.dtype == "uint64":
        return f"np.int64(min({arg.name}[()], np.uint64({_UINT64_CLAMP})))"
    return f"np.int64({arg.name}[()])"


def _tuple(parts: list[str]) -> str:
    return ", ".join(parts) if parts else "()"


def _function(args: list[_Arg], lines: list[str]) -> Kernel:
    return Kernel(tuple(a.name for a in args), (*lines, "return o,"))


@numba_rule.register(Subtensor)
def _subtensor(op: Subtensor, node: Apply) -> Kernel:
    x, out = node.inputs[0], node.outputs[0]
    args = [_Arg(f"a{k}", v.type) for k, v in enumerate(node.inputs)]
    index = _Index(str(op))
    parts = []
    for kind, entry_args, axes in _walk(x.ndim, _entries(op.idx_list, args[1:])):
        if kind == "i":
            parts.append(index.int_entry(axes[0], entry_args[0]))
        elif kind == "slice":
            parts.append(index.slice_entry(axes[0], entry_args))
        elif kind == "newaxis":
            parts.append("None")
        else:  # "..." and the trailing axes
            parts += [":"] * len(axes)
    lines = index.reads + index.raise_lines(ZERO_STEP, OUT_OF_BOUNDS) + index.normalize
    value = f"a0[{_tuple(parts)}]"
    if out.ndim == 0:  # numba gives a scalar: return it in a fresh 0-d array
        lines += [f"o = np.empty((), {np_dtype(out.dtype)})", f"o[()] = {value}"]
    else:
        lines.append(f"o = {value}")
    return _function(args, lines)


@dataclass(frozen=True)
class _Member:
    """An advanced entry of the block: an integer array or a mask (1-d in the block: its count)."""

    kind: str
    arg: _Arg
    axes: range  # the axes of x it indexes
    number: int

    @property
    def shape(self) -> list[tuple[str, int | None]]:
        """(run-time length, static length) of each of its axes in the block."""
        if self.kind == "mask":
            return [(f"c{self.number}", None)]
        return [(f"{self.arg.name}.shape[{q}]", s) for q, s in enumerate(self.arg.type.shape)]


@dataclass
class _Plan:
    """The loop kernel's structure, from one walk over the index."""

    index: _Index
    view: list[str]  # per axis of x: the slice of it that v keeps
    at_v: list[str]  # per axis of x: its index into v inside the loops
    plain: list[tuple[str, int]] = field(default_factory=list)  # ("axis", axis of x) or ("newaxis", 0)
    members: list[_Member] = field(default_factory=list)
    insert_at: int = 0  # where the block goes among the plain output axes


def _plan(op: AdvancedSubtensor | IncSubtensor | AdvancedIncSubtensor, x_ndim: int, args: list[_Arg]) -> _Plan:
    plan = _Plan(_Index(str(op)), [":"] * x_ndim, [""] * x_ndim)
    positions = []
    for pos, (kind, entry_args, axes) in enumerate(_walk(x_ndim, _entries(op.idx_list, args))):
        if op.advanced and kind in _ADVANCED:
            if not positions:
                plan.insert_at = len(plan.plain)
            positions.append(pos)
        if kind == "i":
            name = plan.index.int_entry(axes[0], entry_args[0])
            plan.view[axes[0]], plan.at_v[axes[0]] = f"{name}:{name} + 1", "0"
        elif kind == "slice":
            plan.view[axes[0]] = plan.index.slice_entry(axes[0], entry_args)
            plan.plain.append(("axis", axes[0]))
        elif kind == "newaxis":
            plan.plain.append(("newaxis", 0))
        elif kind in ("array", "mask"):
            e = len(plan.members)
            plan.members.append(_Member(kind, entry_args[0], axes, e))
            for t, a in enumerate(axes):
                plan.at_v[a] = f"k{e}" if kind == "array" else f"m{e}_{t}"
        else:  # "..." and the trailing axes
            plan.plain += [("axis", a) for a in axes]
    if positions and positions != list(range(positions[0], positions[-1] + 1)):
        plan.insert_at = 0  # advanced entries separated by a slice, newaxis or ellipsis: the block goes first
    return plan


def _block(plan: _Plan) -> tuple[list[str], int, dict[tuple[int, int], str]]:
    """Lines computing the block lengths ``B<b>`` and checking the index values; the block's ndim; and for
    each (member, member axis) its position inside the loops (block axis b is loop ``j<insert_at + b>``)."""
    index, lines = plan.index, []
    for m in plan.members:
        if m.kind != "mask":
            continue
        for q, a in enumerate(m.axes):
            index.fail_if(MASK_SHAPE, f"{m.arg.name}.shape[{q}] != a0.shape[{a}]")
        if not m.axes:  # a 0-d mask: one position where it is True, none where False
            lines.append(f"c{m.number} = 1 if {m.arg.name}[()] else 0")
        elif _scanned(plan):
            lines += [f"c{m.number} = 0", f"for w in {m.arg.name}.flat:", "    if w:", f"        c{m.number} += 1"]
        else:
            lines += [f"z{m.number} = np.nonzero({m.arg.name})", f"c{m.number} = z{m.number}[0].shape[0]"]
    lines = index.raise_lines(MASK_SHAPE) + lines
    nb = max((len(m.shape) for m in plan.members), default=0)
    positions: dict[tuple[int, int], str] = {}
    for b in range(nb):
        covering = [(m, b - nb + len(m.shape)) for m in plan.members if b >= nb - len(m.shape)]
        dynamic = [(m, q) for m, q in covering if m.shape[q][1] != 1]  # lengths known only at run time
        j = f"j{plan.insert_at + b}"
        for m, q in covering:
            static_one = m.shape[q][1] == 1
            positions[m.number, q] = "0" if static_one else j if len(dynamic) == 1 else f"{j} * r{m.number}_{q}"
        if len(dynamic) <= 1:
            lines.append(f"B{b} = {dynamic[0][0].shape[dynamic[0][1]][0] if dynamic else 1}")
            continue
        lines.append(f"B{b} = 1")
        for m, q in dynamic:
            length = m.shape[q][0]
            lines += [f"r{m.number}_{q} = 0 if {length} == 1 else 1", f"if {length} != 1:", f"    B{b} = {length}"]
            index.fail_if(NO_BROADCAST, f"({length} != 1 and {length} != B{b})")
    lines += index.raise_lines(NO_BROADCAST)
    arrays = [m for m in plan.members if m.kind == "array"]
    if arrays:  # like NumPy: values read as int64 (a uint64 wraps around), checked only if the block is not empty
        lines.append("bad = " + (" or ".join(index.failures.pop(OUT_OF_BOUNDS, [])) or "False"))
        lines.append(f"if {' * '.join(f'B{b}' for b in range(nb)) or '1'} > 0:")
        for m in arrays:
            n = f"a0.shape[{m.axes[0]}]"
            lines += [f"    for w in {m.arg.name}.flat:", f"        bad |= np.int64(w) < -{n} or np.int64(w) >= {n}"]
        index.fail_if(OUT_OF_BOUNDS, "bad")
    return lines + index.raise_lines(OUT_OF_BOUNDS), nb, positions


def _scanned(plan: _Plan) -> _Member | None:
    """A mask alone in the block: the loops scan it (in C order) instead of reading its ``nonzero`` arrays."""
    return plan.members[0] if len(plan.members) == 1 and plan.members[0].kind == "mask" else None


def _reads(plan: _Plan, positions: dict[tuple[int, int], str]) -> list[str]:
    """Lines reading the index values at the current block position (the names in ``plan.at_v``)."""
    if _scanned(plan):
        return []  # the scanning loops' variables are the indices
    lines = []
    for m in plan.members:
        e = m.number
        if m.kind == "array":
            where = _tuple([positions[e, q] for q in range(m.arg.ndim)])
            lines += [f"k{e} = np.int64({m.arg.name}[{where}])", f"if k{e} < 0:", f"    k{e} += a0.shape[{m.axes[0]}]"]
        else:
            lines += [f"m{e}_{t} = z{e}[{t}][{positions[e, 0]}]" for t in range(len(m.axes))]
    return lines


_LENGTH = {"axis": "v.shape[{}]", "newaxis": "1", "block": "B{}"}  # an output axis' length, by kind


def _loop_kernel(op: AdvancedSubtensor | IncSubtensor | AdvancedIncSubtensor, node: Apply) -> Kernel:
    x = node.inputs[0]
    write = not isinstance(op, AdvancedSubtensor)
    args = [_Arg(f"a{k}", v.type) for k, v in enumerate(node.inputs)]
    plan = _plan(op, x.ndim, args[2 if write else 1 :])
    index = plan.index
    lines = index.reads + index.raise_lines(ZERO_STEP)
    block_lines, nb, positions = _block(plan)
    lines += block_lines + index.normalize
    if write:
        lines.append("o = a0" if op.destroy_map.get(0) == 0 else "o = a0.copy()")
    source = "o" if write else "a0"
    selects = x.ndim and any(part != ":" for part in plan.view)
    lines.append(f"v = {source}[{', '.join(plan.view)}]" if selects else f"v = {source}")
    at = plan.insert_at
    axes_out = plan.plain[:at] + [("block", b) for b in range(nb)] + plan.plain[at:]
    for p, (kind, a) in enumerate(axes_out):  # output axis p: length n<p>, loop variable j<p>
        lines.append(f"n{p} = {_LENGTH[kind].format(a)}")
        if kind == "axis":
            plan.at_v[a] = f"j{p}"
    ndim = len(axes_out)
    target = f"v[{_tuple(plan.at_v)}]"
    if write:
        y, offset = args[1], ndim - args[1].ndim
        for q, s in enumerate(y.type.shape):
            if s != 1:
                index.fail_if(Y_SHAPE, f"a1.shape[{q}] != n{offset + q}")
        lines += index.raise_lines(Y_SHAPE)
        y_value = f"a1[{_tuple(['0' if s == 1 else f'j{offset + q}' for q, s in enumerate(y.type.shape)])}]"
        if op.set_instead_of_inc:
            store = f"{target} = {y_value}"
        elif x.dtype == "bool":
            store = f"{target} = {target} | {y_value}"
        else:  # numba widens small ints: convert back (wrapping around like NumPy)
            store = f"{target} = {np_dtype(x.dtype)}({target} + {y_value})"
    else:
        lines.append(f"o = np.empty(({''.join(f'n{p}, ' for p in range(ndim))}), {np_dtype(x.dtype)})")
        store = f"o[{_tuple([f'j{p}' for p in range(ndim)])}] = {target}"
    lines += _loops(plan, ndim, positions, store)
    return _function(args, lines)


def _loops(plan: _Plan, ndim: int, positions: dict[tuple[int, int], str], store: str) -> list[str]:
    """One loop per output axis around ``store``; index values read once all block axes are bound. A scanned
    mask's block axis j<at> is a counter of the True elements met by loops over the mask's axes."""
    at, nb, scan = plan.insert_at, ndim - len(plan.plain), _scanned(plan)
    lines, depth = [], 0
    for p in range(ndim + 1):
        if p == (at + nb if nb else 0):
            lines += ["    " * depth + line for line in _reads(plan, positions)]
        if p == ndim:
            lines.append("    " * depth + store)
        elif scan and p == at:
            names = [f"m{scan.number}_{t}" for t in range(len(scan.axes))]
            lines.append("    " * depth + f"j{p} = 0")
            for t, name in enumerate(names):
                lines.append("    " * (depth + t) + f"for {name} in range({scan.arg.name}.shape[{t}]):")
            lines.append("    " * (depth + len(names)) + f"if {scan.arg.name}[{_tuple(names)}]:")
            depth += len(names) + 1
            counter = "    " * depth + f"j{p} += 1"
        else:
            lines.append("    " * depth + f"for j{p} in range(n{p}):")
            depth += 1
    return lines + ([counter] if scan else [])


numba_rule.register(AdvancedSubtensor)(_loop_kernel)
numba_rule.register(IncSubtensor)(_loop_kernel)
numba_rule.register(AdvancedIncSubtensor)(_loop_kernel)
