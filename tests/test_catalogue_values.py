"""Catalogue: odd but valid arrays (layouts, 0-size, 0-d, NaN/inf), bad run-time values (indices, lengths,
unallocatable sizes) and integer edges."""

import numpy as np
import pytest

import symgraph as sg
from tests.catalogue import Fails, Same, call, check, params

RUN = sg.SymgraphError


def layouts():
    x = sg.matrix("x")
    return dict(inputs=[x], outputs=[x * 2 + 1, x.sum(axis=1), sg.dot(x, x.T), x[::-1, 1:], sg.exp(x).sum(axis=0)])


def numpy_layouts(x):
    return [x * 2 + 1, x.sum(axis=1), x @ x.T, x[::-1, 1:], np.exp(x).sum(axis=0)]


def special():
    v = sg.vector("v")
    outputs = [sg.max(v), sg.argmax(v), sg.sum(v), sg.exp(v), sg.maximum(v, 0.0), sg.log(v), sg.min(v), sg.sqrt(v)]
    return dict(inputs=[v], outputs=[*outputs, sg.where(v > 0, v, 0.0)])


def numpy_special(v):
    with np.errstate(all="ignore"):
        return [v.max(), np.argmax(v), v.sum(), np.exp(v), np.maximum(v, 0.0), np.log(v), v.min(), np.sqrt(v),
                np.where(v > 0, v, 0.0)]  # fmt: skip


def zero_d():
    s = sg.scalar("s")
    return dict(inputs=[s], outputs=[s * 2, sg.exp(s), s.dimshuffle("x")])


def empty():
    x = sg.matrix("x")
    return dict(inputs=[x], outputs=[x.sum(axis=0), x.sum(), x.mean(axis=1), (x * 2).T, x.shape[0]])


def reductions_without_identity():
    v = sg.vector("v")
    return dict(inputs=[v], outputs=[sg.argmax(v)])


def allocations():
    n = sg.scalar("n", dtype="int64")
    return dict(inputs=[n], outputs=[sg.alloc(0.0, n).sum(), sg.zeros((n, n)).sum()])


def reads():
    v, i, j, k = sg.vector("v"), sg.scalar("i", "int64"), sg.scalar("j", "int64"), sg.vector("k", dtype="int64")
    return dict(inputs=[v, i, j, k], outputs=[v[i], v[i:j:i], v[k]])


def ranges():
    i, k = sg.scalar("i", "int64"), sg.vector("k", dtype="int64")
    return dict(inputs=[i, k], outputs=[sg.arange(0, 5, i), sg.eye(i), sg.one_hot(k, 3)])


def writes():
    v, i, k = sg.vector("v"), sg.scalar("i", "int64"), sg.vector("k", dtype="int64")
    return dict(inputs=[v, i, k], outputs=[sg.set_subtensor(v[i], 1.0), sg.inc_subtensor(v[k], 1.0)])


def masks():
    v, m = sg.vector("v"), sg.vector("m", dtype="bool")
    return dict(inputs=[v, m], outputs=v[m])


def lengths():
    v, i, k = sg.vector("v"), sg.scalar("i", "int64"), sg.vector("k", dtype="int64")
    a, b = sg.matrix("a"), sg.matrix("b")
    return dict(inputs=[v, i, k, a, b], outputs=[sg.reshape(v, (i, -1)), sg.split(v, k, 2)[0], sg.dot(a, b)])


def integers(dtype):
    def build():
        a, b = sg.vector("a", dtype=dtype), sg.vector("b", dtype=dtype)
        return dict(inputs=[a, b], outputs=[a + b, a - b, a * b, -a, abs(a), a // b, a % b])

    build.__name__ = f"integers_{dtype}"
    return build


def powers():
    a, b = sg.vector("a", dtype="int64"), sg.vector("b", dtype="int64")
    return dict(inputs=[a, b], outputs=a**b)


F = np.arange(12.0).reshape(3, 4) / 7
READ_ONLY = F.copy()
READ_ONLY.flags.writeable = False
V = np.arange(5.0)
SCALAR_OUT = Same(lambda: [np.float64(3), np.exp(1.5), np.array([1.5])])


def int_edges(dtype):
    """Sums, products, negation at MIN/MAX (wrapping) and division by 0 (NumPy gives 0) of ``dtype``."""
    info = np.iinfo(dtype)
    a = np.array([info.min, info.max, info.max, 0, 7, info.min + 1], dtype)
    b = np.array([info.max, 1, info.max, 0, 0, 3 % (info.max + 1)], dtype)
    with np.errstate(all="ignore"):
        expected = [a + b, a - b, a * b, -a, np.abs(a), a // b, a % b]
    return call(f"int-edges-{dtype}", integers(dtype), lambda: (a, b), Same(lambda: expected))


# fmt: off
CASES = [
    # odd but valid layouts: the same values as NumPy, and the input is not written
    call("fortran-order", layouts, lambda: (np.asfortranarray(F),), Same(lambda: numpy_layouts(F))),
    call("negative-strides", layouts, lambda: (F[::-1, ::-1],), Same(lambda: numpy_layouts(F[::-1, ::-1]))),
    call("non-contiguous", layouts, lambda: (F[:, ::2],), Same(lambda: numpy_layouts(F[:, ::2]))),
    call("transposed-view", layouts, lambda: (F.T,), Same(lambda: numpy_layouts(F.T))),
    call("read-only", layouts, lambda: (READ_ONLY,), Same(lambda: numpy_layouts(F))),
    call("broadcast-view", layouts, lambda: (np.broadcast_to(V[:4], (3, 4)),),
         Same(lambda: numpy_layouts(np.broadcast_to(V[:4], (3, 4)).copy()))),
    call("zero-rows", layouts, lambda: (np.zeros((0, 4)),), Same(lambda: numpy_layouts(np.zeros((0, 4))))),
    call("zero-cols", layouts, lambda: (np.zeros((3, 0)),), Same(lambda: numpy_layouts(np.zeros((3, 0))))),
    call("non-native-byte-order", layouts, lambda: (F.astype(">f8"),), Same(lambda: numpy_layouts(F))),
    # 0-size and 0-d
    call("empty-reductions", empty, lambda: (np.zeros((0, 3)),),
         Same(lambda: [np.zeros(3), np.float64(0), np.zeros(0), np.zeros((3, 0)), np.int64(0)])),
    call("empty-mean-nan", empty, lambda: (np.zeros((2, 0)),),
         Same(lambda: [np.zeros(0), np.float64(0), np.full(2, np.nan), np.zeros((0, 2)), np.int64(2)])),
    call("argmax-of-empty", reductions_without_identity, lambda: (np.zeros(0),),
         Fails(RUN, ("Argmax", "empty", "(0,)"), line=True)),
    call("zero-d-array", zero_d, lambda: (np.array(1.5),), SCALAR_OUT),
    call("python-float", zero_d, lambda: (1.5,), SCALAR_OUT),
    call("numpy-scalar", zero_d, lambda: (np.float32(1.5),), SCALAR_OUT),
    # NaN and inf propagate as in NumPy
    call("nan-inf", special, lambda: (np.array([1.0, np.nan, np.inf, -np.inf, -1.0]),),
         Same(lambda: numpy_special(np.array([1.0, np.nan, np.inf, -np.inf, -1.0])))),
    call("inf-only", special, lambda: (np.array([np.inf, -np.inf, 0.0]),),
         Same(lambda: numpy_special(np.array([np.inf, -np.inf, 0.0])))),
    call("nan-first", special, lambda: (np.array([np.nan, 2.0]),),
         Same(lambda: numpy_special(np.array([np.nan, 2.0])))),
    # unallocatable sizes
    call("alloc-8-tib", allocations, lambda: (2**40,),
         Fails((MemoryError, RUN), ("Alloc",), line=True)),
    call("alloc-too-big", allocations, lambda: (2**62,),
         Fails(RUN, ("Alloc", "too big"), line=True)),
    call("zeros-square-overflows", allocations, lambda: (2**32,),
         Fails(RUN, ("Alloc", "too big"), line=True)),
    call("alloc-negative", allocations, lambda: (-3,), Fails(RUN, ("Alloc", "negative"), line=True)),
    # bad indices and lengths at run time
    call("index-past-end", reads, lambda: (V, 5, 1, [0]), Fails(RUN, ("Subtensor", "(5,)"), line=True)),
    call("index-before-start", reads, lambda: (V, -6, 1, [0]), Fails(RUN, ("Subtensor", "(5,)"), line=True)),
    call("index-array-past-end", reads, lambda: (V, 1, 1, [0, 9]),
         Fails(RUN, ("AdvancedSubtensor", "(2,)"), line=True)),
    call("slice-step-zero", reads, lambda: (V, 0, 1, [0]), Fails(RUN, ("step",), line=True)),
    call("one-hot-class-range", ranges, lambda: (1, [0, 3]), Fails(RUN, ("OneHot", "(2,)"), line=True)),
    call("arange-step-zero", ranges, lambda: (0, [0]), Fails(RUN, ("ARange", "step"), line=True)),
    call("eye-negative", ranges, lambda: (-2, [0]), Fails(RUN, ("Eye", "negative"), line=True)),
    call("ranges-ok", ranges, lambda: (2, [2, 0]), Same(lambda: [np.arange(0, 5, 2), np.eye(2), np.eye(3)[[2, 0]]])),
    call("slices-clip-ok", reads, lambda: (V, 1, 99, [-5, 4]), Same(lambda: [V[1], V[1:99:1], V[[-5, 4]]])),
    call("set-past-end", writes, lambda: (np.zeros(3), 3, [0]), Fails(RUN, ("IncSubtensor", "(3,)"), line=True)),
    call("inc-array-before-start", writes, lambda: (np.zeros(3), 0, [0, -4]),
         Fails(RUN, ("AdvancedIncSubtensor", "(3,)"), line=True)),
    call("inc-repeated-ok", writes, lambda: (np.zeros(3), -1, [1, 1, -1]),
         Same(lambda: [np.array([0.0, 0, 1]), np.array([0.0, 2, 1])])),
    call("mask-length", masks, lambda: (V, np.ones(4, bool)), Fails(RUN, ("mask", "(4,)"), line=True)),
    call("mask-empty-ok", masks, lambda: (np.zeros(0), np.zeros(0, bool)), Same(lambda: np.zeros(0))),
    call("reshape-size", lengths, lambda: (np.zeros(6), 4, [3, 3], np.ones((1, 1)), np.ones((1, 1))),
         Fails(RUN, ("Reshape", "(6,)"), line=True)),
    call("split-lengths", lengths, lambda: (np.zeros(6), 2, [3, 2], np.ones((1, 1)), np.ones((1, 1))),
         Fails(RUN, ("Split", "(6,)"), line=True)),
    call("dot-inner-lengths", lengths, lambda: (np.zeros(6), 2, [3, 3], np.ones((2, 3)), np.ones((4, 2))),
         Fails(RUN, ("Dot", "(2, 3)", "(4, 2)"), line=True)),
    # integer edges: wrapping arithmetic, division by zero, MIN // -1 and MIN % -1 (tests/test_catalogue_faults.py)
    *[int_edges(dtype) for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")],
    call("int-power-negative", powers, lambda: ([2, 3], [1, -1]), Fails(RUN, ("pow", "negative"), line=True)),
    call("int-power-overflow-wraps", powers, lambda: ([3, 2], [40, 63]),
         Same(lambda: np.array([3, 2], "int64") ** np.array([40, 63]))),
]
# fmt: on


@pytest.mark.parametrize(("case", "backend"), params(CASES))
def test_catalogue_values(case, backend):
    check(case, backend)
