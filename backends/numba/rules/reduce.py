"""Rules for reductions: Reduce (sum, prod, max, min, all, any), LogSumExp, Argmax and Argmin.

When the reduced axes are the innermost ones, each output element has a scalar accumulator (float sums in
float64, so float32 results stay within NumPy's pairwise-summation error) and the loop vectorizes: sums through
the ``reassoc`` fast-math flag, max/min through LLVM's NaN-propagating ``maximum``/``minimum`` intrinsics
(``nan_maximum``/``nan_minimum``, with NumPy's NaN semantics); with ``config.num_threads`` > 1 such kernels get
a variant splitting the outer kept axis across threads. Otherwise the accumulators form an array over the kept
axes, updated as the input streams by in memory order. ``Code`` and the helpers here serve the other rule modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from backends.numba.rules import Kernel, numba_rule
from backends.numba.scalar import np_dtype, typed, vector_helper, wrapping
from backends.source import Import
from symgraph.config import config
from symgraph.graph import Apply
from symgraph.ops import scalar
from symgraph.ops.reduce import Argmax, ArgReduce, LogSumExp, Reduce

REASSOC = ("reassoc",)  # lets LLVM vectorize float accumulations (the partial sums change, not the values summed)


def _llvm_binary(name: str) -> Callable:
    """A numba intrinsic calling LLVM's ``llvm.<name>`` on two floats of one type."""

    @intrinsic
    def call(typingctx: object, a: types.Type, b: types.Type) -> tuple | None:
        if not isinstance(a, types.Float) or a != b:
            return None

        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202 - numba's protocol
            lty = context.get_value_type(a)
            signature = ir.FunctionType(lty, [lty, lty])
            fn = cgutils.get_or_insert_function(builder.module, signature, f"llvm.{name}.f{a.bitwidth}")
            return builder.call(fn, args)

        return a(a, b), codegen

    return call


nan_maximum = _llvm_binary("maximum")  # np.maximum on floats (NaN wins), vectorizable as a reduction
nan_minimum = _llvm_binary("minimum")


class Code:
    """The statements of one kernel function of ``a0, a1, ...``, indented by their blocks, and the imports and
    module-level definitions they need.

    ``parallel``: the variant whose loops opened with ``split=True`` use ``numba.prange``.
    """

    def __init__(self, n_args: int, parallel: bool = False) -> None:
        self.params = tuple(f"a{i}" for i in range(n_args))
        self.lines: list[str] = []
        self.depth = 0
        self.parallel = parallel
        self.imports: list[Import] = []
        self.definitions: list[str] = []

    def __call__(self, *lines: str) -> None:
        self.lines += ["    " * self.depth + line for line in lines]

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self(header)
        self.depth += 1
        yield
        self.depth -= 1

    @contextmanager
    def loops(self, axes: Sequence[int], lengths: str = "n", split: bool = False) -> Iterator[None]:
        """Nested ``for j<a> in range(<lengths><a>)`` over ``axes``, outermost first; with ``split`` in the
        parallel variant, the outermost loop is a ``numba.prange``."""
        for i, a in enumerate(axes):
            loop = "numba.prange" if split and self.parallel and i == 0 else "range"
            self(f"for j{a} in {loop}({lengths}{a}):")
            self.depth += 1
        yield
        self.depth -= len(axes)

    def lengths(self, arg: str, ndim: int) -> None:
        """``n<a> = <arg>.shape[a]`` for every axis."""
        self(*(f"n{a} = {arg}.shape[{a}]" for a in range(ndim)))

    def fail(self, condition: str, message: str) -> None:
        with self.block(f"if {condition}:"):
            self(f"raise ValueError({message!r})")

    def helper(self, name: str, module: str = "backends.numba.rules.reduce") -> str:
        """``name`` (an intrinsic or overloaded helper) imported from ``module`` by the kernel's module."""
        self._need(Import(module, name))
        return name

    def exp(self, dtype: str) -> str:
        """A vectorizable exp for ``dtype`` scalars (``backends.numba.vecmath``; numba's np.exp if none)."""
        helper = vector_helper(scalar.exp, dtype)
        self._need(*helper.imports, helper.definition)
        return helper.name

    def _need(self, *entries: Import | str) -> None:
        for entry in entries:
            target = self.imports if isinstance(entry, Import) else self.definitions
            if entry not in target:
                target.append(entry)

    def maximum(self, dtype: str, largest: bool = True) -> Callable[[str, str], str]:
        """Expression builder for the larger (or smaller) of two ``dtype`` scalars; NaN wins, as in NumPy."""
        if np.dtype(dtype).kind == "f":
            fn = self.helper("nan_maximum" if largest else "nan_minimum")
            return lambda a, b: f"{fn}({a}, {b})"
        if dtype == "bool":
            return lambda a, b: f"({a} {'|' if largest else '&'} {b})"
        return lambda a, b: f"{np_dtype(dtype)}({'max' if largest else 'min'}({a}, {b}))"

    def kernel(self, *outputs: str) -> Kernel:
        """The kernel returning the tuple of ``outputs``."""
        self(f"return {', '.join(outputs)},")
        return Kernel(self.params, tuple(self.lines), imports=tuple(self.imports), definitions=tuple(self.definitions))


def make_kernel(build: Callable[[bool], Kernel], fastmath: tuple[str, ...] = (), parallel: bool = False) -> Kernel:
    """The kernel from ``build(parallel_variant)``; the parallel variant only when asked and threads are on."""
    kernel = replace(build(False), fastmath=fastmath)
    return replace(kernel, parallel_body=build(True).body) if parallel and config.num_threads > 1 else kernel


def index(axes: Sequence[int]) -> str:
    """Index expression ``j0, j2`` of the loop variables of ``axes`` (``()`` for none)."""
    return ", ".join(f"j{a}" for a in axes) or "()"


def shape_of(axes: Sequence[int]) -> str:
    """Tuple expression ``(n0, n2, )`` of the lengths of ``axes``."""
    return f"({''.join(f'n{a}, ' for a in axes)})"


def size_of(axes: Sequence[int]) -> str:
    return " * ".join(f"n{a}" for a in axes) or "1"


def convert(expr: str, have: str, want: str) -> str:
    """``expr`` (a scalar of dtype ``have``) as dtype ``want``, with NumPy's casting (nonzero is True)."""
    if have == want:
        return expr
    return f"({expr} != 0)" if want == "bool" else f"{np_dtype(want)}({expr})"


def is_suffix(axes: Sequence[int], ndim: int) -> bool:
    """Whether ``axes`` (sorted) are the innermost axes, so one scalar accumulator serves each output element."""
    return tuple(axes) == tuple(range(ndim - len(axes), ndim))


def extreme(dtype: str, largest: bool) -> str:
    """The largest (or smallest) value of ``dtype``, typed: +-inf for floats."""
    if np.dtype(dtype).kind == "f":
        return f"{np_dtype(dtype)}({'' if largest else '-'}np.inf)"
    if dtype == "bool":
        return typed(largest, dtype)
    info = np.iinfo(dtype)
    return typed(int(info.max if largest else info.min), dtype)


# -- Reduce ----------------------------------------------------------------------------------------
def _accumulator(kind: str, out: str) -> str:
    """Accumulator dtype: float64 for float sums, 64-bit for integer sums and products (wrap-around is the
    same modulo the output's width), else the output dtype."""
    kind_of = np.dtype(out).kind
    if kind == "sum" and kind_of == "f":
        return "float64"
    if kind in ("sum", "prod") and kind_of in "iu":
        return "uint64" if kind_of == "u" else "int64"
    return out


def _combiner(code: Code, kind: str, acc_dtype: str) -> Callable[[str, str], str]:
    if kind in ("max", "min"):
        return code.maximum(acc_dtype, largest=kind == "max")
    if acc_dtype == "bool" or kind in ("all", "any"):
        symbol = "|" if kind in ("sum", "any") else "&"
        return lambda acc, v: f"{acc} {symbol} {v}"
    return lambda acc, v: f"{np_dtype(acc_dtype)}({wrapping('+' if kind == 'sum' else '*', [acc, v], acc_dtype)})"


def _initial(kind: str, dtype: str) -> str:
    if kind in ("max", "min"):
        return extreme(dtype, largest=kind == "min")
    return typed({"sum": 0, "prod": 1, "all": True, "any": False}[kind], dtype)


@numba_rule.register(Reduce)
def _reduce(op: Reduce, node: Apply) -> Kernel:
    x, out = node.inputs[0], node.outputs[0]
    kept = [a for a in range(x.ndim) if a not in op.axes]
    acc_dtype = _accumulator(op.kind, out.dtype)
    elem_dtype = "bool" if op.kind in ("all", "any") else out.dtype  # NumPy casts the input first
    value = convert(convert(f"a0[{index(range(x.ndim))}]", x.dtype, elem_dtype), elem_dtype, acc_dtype)
    inner = is_suffix(op.axes, x.ndim)

    def build(parallel: bool) -> Kernel:
        code = Code(1, parallel)
        combine = _combiner(code, op.kind, acc_dtype)
        code.lengths("a0", x.ndim)
        if op.kind in ("max", "min"):
            code.fail(f"{size_of(op.axes)} == 0", f"{op}: {op.kind} of an empty axis has no identity")
        if not inner:  # an array of accumulators over the kept axes, the input read in memory order
            code(f"acc = np.full({shape_of(kept)}, {_initial(op.kind, acc_dtype)}, {np_dtype(acc_dtype)})")
            with code.loops(range(x.ndim)):
                code(f"acc[{index(kept)}] = {combine(f'acc[{index(kept)}]', value)}")
            return code.kernel("acc" if acc_dtype == out.dtype else f"acc.astype({np_dtype(out.dtype)})")
        code(f"o0 = np.empty({shape_of(kept)}, {np_dtype(out.dtype)})")
        with code.loops(kept, split=True):
            code(f"acc = {_initial(op.kind, acc_dtype)}")
            with code.loops(op.axes):
                code(f"acc = {combine('acc', value)}")
            code(f"o0[{index(kept)}] = {convert('acc', acc_dtype, out.dtype)}")
        return code.kernel("o0")

    float_acc = op.kind in ("sum", "prod") and np.dtype(acc_dtype).kind == "f"
    return make_kernel(build, REASSOC if float_acc and inner else (), parallel=inner and bool(kept))


# -- LogSumExp (and the softmax family, in rules/nnet.py) ----------------------------------------
def peak_and_sum(
    code: Code, value: str, axes: Sequence[int], dtype: str, store: str = "", finite: bool = False
) -> None:
    """Scalars ``peak``, the max of ``value`` over ``axes`` (-inf when empty, NaN if any; made 0 unless finite
    when ``finite``), and ``acc``, the float64 sum of ``e = exp(s)`` for ``s = value - peak``; ``store`` is a
    statement run for each element once ``s`` and ``e`` are known (e.g. ``o0[j0, j1] = e``)."""
    larger, exp = code.maximum(dtype), code.exp(dtype)
    code(f"peak = {extreme(dtype, largest=False)}")
    with code.loops(axes):
        code(f"peak = {larger('peak', value)}")
    if finite:
        code(f"peak = peak if np.isfinite(peak) else np.{dtype}(0)")
    code("acc = np.float64(0)")
    with code.loops(axes):
        code(f"s = {value} - peak", f"e = {exp}(s)", *([store] if store else []), "acc += e")


def peak_and_sum_arrays(
    code: Code, value: str, ndim: int, kept: Sequence[int], dtype: str, store: str = "", finite: bool = False
) -> None:
    """``peak_and_sum`` with arrays over the ``kept`` axes (``peak[...]``, ``acc[...]``), the input read in
    memory order."""
    at, shape = index(kept), shape_of(kept)
    larger, exp = code.maximum(dtype), code.exp(dtype)
    code(f"peak = np.full({shape}, {extreme(dtype, largest=False)}, np.{dtype})")
    with code.loops(range(ndim)):
        code(f"peak[{at}] = {larger(f'peak[{at}]', value)}")
    if finite:
        with code.loops(kept):
            code(f"peak[{at}] = peak[{at}] if np.isfinite(peak[{at}]) else np.{dtype}(0)")
    code(f"acc = np.zeros({shape}, np.float64)")
    with code.loops(range(ndim)):
        code(f"s = {value} - peak[{at}]", f"e = {exp}(s)", *([store] if store else []), f"acc[{at}] += e")


@numba_rule.register(LogSumExp)
def _logsumexp(op: LogSumExp, node: Apply) -> Kernel:
    """The peak (max, replaced by 0 unless finite), then log(sum(exp(x - peak))) + peak, as NumPy computes it."""
    x, fd = node.inputs[0], node.outputs[0].dtype
    kept = [a for a in range(x.ndim) if a not in op.axes]
    value = convert(f"a0[{index(range(x.ndim))}]", x.dtype, fd)
    at = index(kept)
    inner = is_suffix(op.axes, x.ndim)

    def build(parallel: bool) -> Kernel:
        code = Code(1, parallel)
        code.lengths("a0", x.ndim)
        if not inner:
            peak_and_sum_arrays(code, value, x.ndim, kept, fd, finite=True)
        code(f"o0 = np.empty({shape_of(kept)}, np.{fd})")
        with code.loops(kept, split=True):
            if inner:
                peak_and_sum(code, value, op.axes, fd, finite=True)
            peak, acc = ("peak", "acc") if inner else (f"peak[{at}]", f"acc[{at}]")
            code(f"o0[{at}] = np.{fd}(np.log(np.{fd}({acc})) + {peak})")
        return code.kernel("o0")

    return make_kernel(build, REASSOC, parallel=inner and bool(kept))


# -- Argmax, Argmin --------------------------------------------------------------------------------
@numba_rule.register(ArgReduce)
def _argreduce(op: ArgReduce, node: Apply) -> Kernel:
    """The first index of the extreme value; NaN counts as the extreme, so the first NaN wins."""
    x = node.inputs[0]
    largest = isinstance(op, Argmax)
    name = "argmax" if largest else "argmin"
    init = extreme(x.dtype, largest=not largest)
    nan_check = " or (v != v and best != best)" if x.type.is_float else ""
    if op.axis is None or op.axis == x.ndim - 1:  # per row: the extreme (vectorized), then its first index

        def build(parallel: bool) -> Kernel:
            code = Code(1, parallel)
            source, ndim = ("a0", x.ndim) if op.axis is not None or x.ndim == 1 else ("flat", 1)
            if op.axis is None and x.ndim != 1:
                code("flat = np.ascontiguousarray(a0).reshape(a0.size)")
            code.lengths(source, ndim)
            code.fail(f"n{ndim - 1} == 0", f"{op}: attempt to get {name} of an empty sequence")
            kept, at, value = list(range(ndim - 1)), index(range(ndim)), f"{source}[{index(range(ndim))}]"
            better = code.maximum(x.dtype, largest)
            code(f"o0 = np.empty({shape_of(kept)}, np.int64)")
            with code.loops(kept, split=True):
                code(f"best = {init}")
                with code.loops([ndim - 1]):
                    code(f"best = {better('best', value)}")
                code("k = 0")
                with code.loops([ndim - 1]):
                    code(f"v = {source}[{at}]")
                    with code.block(f"if v == best{nan_check}:"):
                        code(f"k = j{ndim - 1}", "break")
                code(f"o0[{index(kept)}] = k")
            return code.kernel("o0")

        return make_kernel(build, parallel=op.axis is not None and x.ndim > 1)
    kept = [a for a in range(x.ndim) if a != op.axis]
    at = index(kept)
    code = Code(1)
    code.lengths("a0", x.ndim)
    code.fail(f"n{op.axis} == 0", f"{op}: attempt to get {name} of an empty sequence")
    code(f"best = np.full({shape_of(kept)}, {init}, {np_dtype(x.dtype)})")
    code(f"o0 = np.zeros({shape_of(kept)}, np.int64)")
    test = f"v {'>' if largest else '<'} best[{at}]"
    if x.type.is_float:  # the first NaN replaces any number, and stays
        test += f" or (v != v and best[{at}] == best[{at}])"
    with code.loops(range(x.ndim)):
        code(f"v = a0[{index(range(x.ndim))}]")
        with code.block(f"if {test}:"):
            code(f"best[{at}] = v", f"o0[{at}] = j{op.axis}")
    return code.kernel("o0")
