"""Rules for shape operations: shape, reshape, dimshuffle, concatenate, split, specify_shape, and the
gradient-only identity ops.

Reshape and in-order dimshuffles return a C-contiguous view when the input is C-contiguous at run time (else a
C-contiguous copy), which keeps later loops on contiguous memory; a transposing dimshuffle is always a view.
"""

from __future__ import annotations

from backends.numba.rules import Kernel, numba_rule
from backends.numba.rules.reduce import Code, convert, index
from backends.numba.scalar import np_dtype
from symgraph.graph import Apply
from symgraph.ops.gradient_ops import GradientTransform
from symgraph.ops.join import Concatenate, Split
from symgraph.ops.shape import DimShuffle, Reshape, Shape, ShapeI, SpecifyShape


@numba_rule.register(Shape)
def _shape(op: Shape, node: Apply) -> Kernel:
    ndim = node.inputs[0].ndim
    code = Code(1)
    code(f"o0 = np.empty({ndim}, np.int64)", *(f"o0[{a}] = a0.shape[{a}]" for a in range(ndim)))
    return code.kernel("o0")


@numba_rule.register(ShapeI)
def _shape_i(op: ShapeI, node: Apply) -> Kernel:
    code = Code(1)
    code("o0 = np.empty((), np.int64)", f"o0[()] = a0.shape[{op.axis}]")
    return code.kernel("o0")


@numba_rule.register(Reshape)
def _reshape(op: Reshape, node: Apply) -> Kernel:
    """NumPy's rule: one negative length (any negative, as NumPy reads it) stands for the rest of the size."""
    code = Code(1 + op.ndim)
    dims = [f"s{i}" for i in range(op.ndim)]
    code(*(f"{d} = a{i + 1}[()]" for i, d in enumerate(dims)))
    code("unknown = -1", "rest = 1")
    for i, d in enumerate(dims):
        with code.block(f"if {d} < 0:"):
            code.fail("unknown >= 0", f"{op}: can only specify one unknown dimension")
            code(f"unknown = {i}")
        with code.block("else:"):
            code(f"rest *= {d}")
    bad = f"{op}: cannot reshape the array into the requested shape"
    with code.block("if unknown >= 0:"):
        code.fail("rest == 0 or a0.size % rest != 0", bad)
        for i, d in enumerate(dims):
            code(f"{d} = a0.size // rest if unknown == {i} else {d}")
    code.fail("rest != a0.size and unknown < 0", bad)
    return code.kernel(f"np.ascontiguousarray(a0).reshape(({''.join(f'{d}, ' for d in dims)}))")


@numba_rule.register(DimShuffle)
def _dimshuffle(op: DimShuffle, node: Apply) -> Kernel:
    kept = [p for p in op.pattern if p != "x"]
    code = Code(1)
    if kept == sorted(kept):  # only length-1 axes added or dropped: a reshape
        dims = "".join("1, " if p == "x" else f"a0.shape[{p}], " for p in op.pattern)
        return code.kernel(f"np.ascontiguousarray(a0).reshape(({dims}))")
    if len(kept) == op.input_ndim and kept == list(reversed(range(op.input_ndim))):
        view = "a0.T"  # keeps C/F contiguity known to numba (BLAS then needs no copy)
    else:
        dropped = [a for a in range(op.input_ndim) if a not in kept]
        view = f"a0[{', '.join('0' if a in dropped else ':' for a in range(op.input_ndim))}]" if dropped else "a0"
        order = sorted(kept)
        view = f"np.transpose({view}, ({''.join(f'{order.index(p)}, ' for p in kept)}))"
    if len(kept) < len(op.pattern):
        view = f"{view}[{', '.join('None' if p == 'x' else ':' for p in op.pattern)}]"
    return code.kernel(view)


@numba_rule.register(Concatenate)
def _concatenate(op: Concatenate, node: Apply) -> Kernel:
    out = node.outputs[0]
    n, ndim = len(node.inputs), out.ndim
    code = Code(n)
    for a in range(ndim):
        if a == op.axis:
            code(f"n{a} = {' + '.join(f'a{i}.shape[{a}]' for i in range(n))}")
            continue
        code(f"n{a} = a0.shape[{a}]")
        for i in range(1, n):
            code.fail(f"a{i}.shape[{a}] != n{a}", f"{op}: input lengths differ on axis {a}")
    code(f"o0 = np.empty(({''.join(f'n{a}, ' for a in range(ndim))}), {np_dtype(out.dtype)})", "start = 0")
    for i, var in enumerate(node.inputs):
        lengths = [f"a{i}.shape[{a}]" for a in range(ndim)]
        code(*(f"m{a} = {length}" for a, length in enumerate(lengths)))
        with code.loops(range(ndim), lengths="m"):
            at = [f"j{a}" for a in range(ndim)]
            target = ", ".join(f"start + {j}" if a == op.axis else j for a, j in enumerate(at))
            code(f"o0[{target}] = {convert(f'a{i}[{index(range(ndim))}]', var.dtype, out.dtype)}")
        code(f"start += m{op.axis}")
    return code.kernel("o0")


@numba_rule.register(Split)
def _split(op: Split, node: Apply) -> Kernel:
    n = op.n_splits
    code = Code(1 + n)
    code(*(f"s{i} = a{i + 1}[()]" for i in range(n)))
    sizes = [f"s{i}" for i in range(n)]
    code.fail(
        f"min({', '.join(sizes)}{', 0' if n == 1 else ''}) < 0 or {' + '.join(sizes)} != a0.shape[{op.axis}]",
        f"{op}: split lengths must be >= 0 and sum to the length of axis {op.axis}",
    )
    code("start = 0")
    head = ":, " * op.axis
    for i in range(n):
        code(f"o{i} = a0[{head}start:start + s{i}]", f"start += s{i}")
    return code.kernel(*(f"o{i}" for i in range(n)))


@numba_rule.register(SpecifyShape)
def _specify_shape(op: SpecifyShape, node: Apply) -> Kernel:
    code = Code(1 + sum(op.given))
    given = [a for a, g in enumerate(op.given) if g]
    for i, a in enumerate(given):
        code.fail(f"a0.shape[{a}] != a{i + 1}[()]", f"{op}: the input's length on axis {a} is not the specified one")
    return code.kernel("a0")


@numba_rule.register(GradientTransform)
def _gradient_transform(op: GradientTransform, node: Apply) -> Kernel:
    return Code(len(node.inputs)).kernel("a0")
