"""Catalogue: wrong dtypes, numbers of dimensions, static shapes and broadcasting, at build and call time."""

import numpy as np
import pytest

import symgraph as sg
from tests.catalogue import Fails, Same, call, check, graph, make, params

BUILD_ERROR = (sg.SymgraphError,)


def mat_vec():
    x, v, k = sg.matrix("x"), sg.vector("v", shape=(3,)), sg.scalar("k", dtype="int32")
    return dict(inputs=[x, v, k], outputs=(x + v) * k)


def shared_out():
    w = sg.shared(np.ones(3), name="w_static", shape=(3,))
    return dict(inputs=[sg.vector("u", shape=(3,))], outputs=w * 2)


X, V = np.ones((2, 3)), np.arange(3.0)


def compiles(make_graph):
    """A run function compiling the (inputs, output) pair ``make_graph()`` on the backend."""
    return lambda backend: sg.function(*make_graph(), backend=backend)


def set_value(value):
    w = sg.shared(np.zeros(3), name="w_set", shape=(3,))
    return lambda backend: w.set_value(value)


# fmt: off
CASES = [
    # call time: the input's dtype
    call("complex-for-float", mat_vec, lambda: (X + 1j, V, 2), Fails(sg.CallError, ("x", "complex"))),
    call("str-for-float", mat_vec, lambda: ("abc", V, 2), Fails(sg.CallError, ("x",))),
    call("str-list-for-float", mat_vec, lambda: ([["a", "b", "c"]], V, 2), Fails(sg.CallError, ("x",))),
    call("none-for-float", mat_vec, lambda: (None, V, 2), Fails(sg.CallError, ("x",))),
    call("object-for-float", mat_vec, lambda: (object(), V, 2), Fails(sg.CallError, ("x",))),
    call("float-for-int", mat_vec, lambda: (X, V, 2.5), Fails(sg.CallError, ("k", "float"))),
    call("float-array-for-int", mat_vec, lambda: (X, V, np.float64(2.0)), Fails(sg.CallError, ("k", "float64"))),
    call("int-overflows-int32", mat_vec, lambda: (X, V, 2**40), Fails(sg.CallError, ("k", "int32"))),
    call("int64-array-for-int32", mat_vec, lambda: (X, V, np.int64(2)), Fails(sg.CallError, ("k", "int64"))),
    call("int64-for-float64-ok", mat_vec, lambda: (np.ones((2, 3), "int64"), V, 2), Same(lambda: (X + V) * 2)),
    call("float32-for-float64-ok", mat_vec, lambda: (X.astype("float32"), V, 2), Same(lambda: (X + V) * 2)),
    call("bool-for-int32-ok", mat_vec, lambda: (X, V, True), Same(lambda: X + V)),
    call("nested-list-ok", mat_vec, lambda: ([[1, 2, 3]], [0, 0, 0], 1), Same(lambda: np.array([[1.0, 2, 3]]))),
    # call time: ndim, static lengths, runtime broadcasting
    call("ndim-too-low", mat_vec, lambda: (V, V, 2), Fails(sg.CallError, ("x", "dimensions"))),
    call("ndim-too-high", mat_vec, lambda: (np.ones((1, 2, 3)), V, 2), Fails(sg.CallError, ("x", "dimensions"))),
    call("scalar-for-matrix", mat_vec, lambda: (1.0, V, 2), Fails(sg.CallError, ("x", "dimensions"))),
    call("array-for-scalar", mat_vec, lambda: (X, V, np.array([2], "int32")), Fails(sg.CallError, ("k",))),
    call("static-length", mat_vec, lambda: (X, np.ones(4), 2), Fails(sg.CallError, ("v", "axis 0"))),
    call("runtime-broadcast", mat_vec, lambda: (np.ones((2, 4)), V, 2),
         Fails(sg.SymgraphError, ("(2, 4)", "(3,)"), line=True)),
    call("undeclared-length-1", mat_vec, lambda: (np.ones((2, 1)), V, 3),
         Fails(sg.SymgraphError, ("broadcastable", "(2, 1)"), line=True)),
    # call time: arguments
    call("too-many-args", mat_vec, lambda: (X, V, 2, 3), Fails(sg.CallError, ("at most 3",))),
    call("missing-arg", mat_vec, lambda: (X, V), Fails(sg.CallError, ("k",))),
    # set_value
    make("set-value-ndim", set_value(np.zeros((3, 1))), Fails(sg.CallError, ("w_set", "dimensions"))),
    make("set-value-static-length", set_value(np.zeros(4)), Fails(sg.CallError, ("w_set", "axis 0"))),
    make("set-value-complex", set_value(np.zeros(3) + 1j), Fails(sg.CallError, ("w_set", "complex"))),
    make("set-value-str", set_value("abc"), Fails(sg.CallError, ("w_set",))),
    make("set-value-str-list", set_value(["a", "b", "c"]), Fails(sg.CallError, ("w_set",))),
    # build time: static shapes, dtypes, ndim
    graph("static-shapes-broadcast", lambda: sg.vector("a", shape=(3,)) + sg.vector("b", shape=(4,)),
         Fails(BUILD_ERROR, ("add", "(3,)", "(4,)"), line=True)),
    graph("dot-inner-lengths", lambda: sg.dot(sg.matrix("a", shape=(3, 4)), sg.matrix("b", shape=(5, 2))),
         Fails(BUILD_ERROR, ("Dot", "4", "5"), line=True)),
    graph("where-static-shapes", lambda: sg.where(sg.vector("c", "bool", (3,)), sg.vector("a", shape=(4,)), 0.0),
         Fails(BUILD_ERROR, ("switch",), line=True)),
    graph("stack-lengths", lambda: sg.stack([sg.vector("a", shape=(3,)), sg.vector("b", shape=(4,))]),
         Fails(BUILD_ERROR, ("Concatenate",), line=True)),
    graph("concatenate-ndims", lambda: sg.concatenate([sg.matrix("a"), sg.vector("b")]),
         Fails(BUILD_ERROR, ("Concatenate", "dimensions"), line=True)),
    graph("reshape-static-size", lambda: sg.reshape(sg.vector("a", shape=(6,)), (4,)),
         Fails(BUILD_ERROR, ("Reshape", "6"), line=True)),
    graph("reshape-two-minus-one", lambda: sg.reshape(sg.vector("a"), (-1, -1)),
         Fails(BUILD_ERROR, ("Reshape", "-1"), line=True)),
    graph("broadcast-to-static", lambda: sg.broadcast_to(sg.vector("a", shape=(3,)), (2, 4)),
         Fails(BUILD_ERROR, ("BroadcastTo", "(2, 4)"), line=True)),
    graph("specify-shape-static", lambda: sg.specify_shape(sg.vector("a", shape=(3,)), (4,)),
         Fails(BUILD_ERROR, ("SpecifyShape",), line=True)),
    graph("sum-axis-range", lambda: sg.sum(sg.matrix("a"), axis=2), Fails(BUILD_ERROR, ("sum", "axis 2"), line=True)),
    graph("max-axis-repeated", lambda: sg.max(sg.matrix("a"), axis=(0, 0)), Fails(BUILD_ERROR, ("max",), line=True)),
    graph("dimshuffle-axis", lambda: sg.matrix("a").dimshuffle(2, 0), Fails(BUILD_ERROR, ("DimShuffle",), line=True)),
    graph("squeeze-non-1", lambda: sg.squeeze(sg.matrix("a", shape=(2, 3)), axis=0),
         Fails(BUILD_ERROR, ("DimShuffle", "axes [0]"), line=True)),
    graph("bitwise-on-float", lambda: sg.and_(sg.vector("a"), sg.vector("b")),
         Fails(BUILD_ERROR, ("and_", "float64"), line=True)),
    graph("index-float", lambda: sg.vector("a")[sg.scalar("f")],
          Fails(BUILD_ERROR, ("Subtensor", "float64"), line=True)),
    graph("one-hot-float", lambda: sg.one_hot(sg.vector("a"), 3), Fails(BUILD_ERROR, ("OneHot",), line=True)),
    graph("take-axis-range", lambda: sg.take(sg.vector("a"), sg.vector("i", dtype="int64"), axis=3),
         Fails(BUILD_ERROR, ("take", "axis 3"), line=True)),
    make("complex-dtype", lambda backend: sg.tensor("a", "complex128", shape=(None,)),
         Fails(TypeError, ("complex128",))),
    graph("cast-complex", lambda: sg.cast(sg.vector("a"), "complex64"), Fails(TypeError, ("complex64",))),
    graph("str-operand", lambda: sg.vector("a") + "abc", Fails(TypeError, ("str",))),
    graph("none-operand", lambda: sg.vector("a") + None, Fails(TypeError, ("None",))),
    make("negative-static-length", lambda backend: sg.tensor("a", shape=(-1,)), Fails(ValueError, ("(-1,)",))),
    make("grad-of-int", lambda backend: sg.grad(sg.sum(v := sg.vector("a", dtype="int64")), v),
         Fails(BUILD_ERROR, ("int64",))),
    make("shared-static-set", compiles(lambda: ([], sg.shared(np.ones(3), name="s", shape=(4,)))),
         Fails(sg.CallError, ("'s'", "axis 0"))),
]
# fmt: on


@pytest.mark.parametrize(("case", "backend"), params(CASES))
def test_catalogue_types(case, backend):
    check(case, backend)
