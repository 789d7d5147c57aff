"""Shape operations against NumPy: reshape, dimshuffle and friends, joins, splits, specify_shape."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.join import Concatenate, Split
from symgraph.ops.shape import DimShuffle, Reshape
from tests.helpers import assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend


def var(shape, dtype="float64", static=False, name=None):
    """A symbolic input for data of ``shape``: free lengths unless ``static``."""
    return sg.tensor(name, dtype, shape if static else (None,) * len(shape))


def int_scalar(name=None):
    return sg.scalar(name, dtype="int64")


# -- reshape ------------------------------------------------------------------------------------
RESHAPES = [
    ((2, 3), (3, 2)),
    ((6,), (2, -1)),
    ((2, 3, 4), (4, -1)),
    ((2, 3, 4), (-1,)),
    ((), (1, 1)),
    ((1, 1), ()),
    ((0, 3), (3, 0)),
    ((0, 3), (-1, 3)),
    ((4,), 4),
]


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
@pytest.mark.parametrize(("in_shape", "new"), RESHAPES)
@pytest.mark.parametrize("static", [False, True])
def test_reshape_matches_numpy(in_shape, new, dtype, static):
    x = var(in_shape, dtype, static)
    data = rand(in_shape, dtype)
    y = sg.reshape(x, new)
    expected = np.reshape(data, new)
    if static:
        assert y.type.shape == expected.shape  # -1 resolved from the static size
    assert_op(y, expected, {x: data})


def test_reshape_static_shape_from_constants():
    x = sg.matrix()
    assert sg.reshape(x, (2, -1, 3)).type.shape == (2, None, 3)
    assert sg.reshape(sg.tensor(shape=(4, None)), (2, 2, -1)).type.shape == (2, 2, None)
    assert sg.reshape(sg.tensor(shape=(4, 6)), (2, -1, 3)).type.shape == (2, 4, 3)


def test_reshape_symbolic_lengths():
    x = sg.matrix()
    y = sg.reshape(x, (sg.shape_i(x, 0) * 2, -1))
    data = rand((4, 6))
    assert_op(y, data.reshape(8, 3), {x: data})


@pytest.mark.parametrize(("n", "cols", "in_shape"), [(4, 3, (4, 3)), (-1, 3, (4, 3)), (-1, 2, (2, 9)), (0, 3, (0, 5))])
def test_reshape_symbolic_entry_may_be_minus_one(n, cols, in_shape):
    x, m = sg.matrix(), int_scalar()
    data = rand(in_shape)
    assert_op(sg.reshape(x, (m, cols)), data.reshape(n, cols), {x: data, m: np.int64(n)})


def test_reshape_to_other_tensors_shape_vector():
    x, z = sg.vector(), sg.tensor3()
    y = sg.reshape(x, z.shape)
    assert y.ndim == 3
    dx, dz = rand((24,)), rand((2, 3, 4))
    assert_op(y, dx.reshape(2, 3, 4), {x: dx, z: dz})
    static = sg.reshape(x, sg.tensor(shape=(2, None, 4)).shape)
    assert static.type.shape == (2, None, 4)  # static lengths of x.shape carry over


def test_reshape_constant_shape_vector():
    x = sg.vector()
    y = sg.reshape(x, sg.constant(np.array([3, -1])))
    assert y.type.shape == (3, None)
    data = rand((6,))
    assert_op(y, data.reshape(3, 2), {x: data})


def test_reshape_symbolic_shape_vector_needs_a_length():
    x, shp = sg.vector(), sg.vector(dtype="int64")
    y = sg.reshape(x, shp, ndim=2)
    data = rand((6,))
    assert_op(y, data.reshape(2, 3), {x: data, shp: np.array([2, 3])})
    with pytest.raises(sg.SymgraphValueError, match="needs ndim"):
        sg.reshape(x, shp)
    with pytest.raises(sg.SymgraphValueError, match="expected 3"):
        sg.reshape(x, sg.vector(dtype="int64", shape=(2,)), ndim=3)


def test_reshape_method_spellings():
    x = sg.matrix()
    data = rand((2, 3))
    assert_op(x.reshape(3, 2), data.reshape(3, 2), {x: data})
    assert_op(x.reshape((6,)), data.reshape(6), {x: data})


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ((-1, -1), sg.SymgraphValueError),
        ((2, -3), sg.SymgraphValueError),
        ((2.0, 3), sg.SymgraphTypeError),
        ((True, 3), sg.SymgraphTypeError),
    ],
)
def test_reshape_bad_lengths(shape, error):
    with pytest.raises(error):
        sg.reshape(sg.matrix(), shape)


def test_reshape_float_scalar_entry_is_a_type_error():
    with pytest.raises(sg.SymgraphTypeError, match="integer scalar"):
        sg.reshape(sg.matrix(), (sg.scalar(), 2))


@pytest.mark.parametrize("new", [(4, 2), (5, -1), (0, -1)])
def test_reshape_static_size_mismatch_is_a_build_error(new):
    with pytest.raises(sg.SymgraphValueError, match="cannot reshape"):
        sg.reshape(sg.tensor(shape=(2, 3)), new)


def test_reshape_runtime_size_mismatch():
    x = sg.matrix()
    f = sg.function([x], sg.reshape(x, (4, -1)))
    with pytest.raises(sg.SymgraphError, match="cannot reshape array of size 6"):
        f(rand((2, 3)))


def test_reshape_op_is_a_value():
    op = sg.reshape(sg.matrix(), (6,)).owner.op
    assert op == Reshape(1) and hash(op) == hash(Reshape(1)) and op != Reshape(2)


# -- dimshuffle, transpose, expand_dims, squeeze ----------------------------------------------------
DIMSHUFFLES = [
    ((2, 3), (1, 0), lambda a: a.T),
    ((2, 3), ("x", 0, "x", 1), lambda a: a[None, :, None, :]),
    ((2, 1, 3), (2, 0), lambda a: a[:, 0, :].T),
    ((1,), (), lambda a: a[0]),
    ((), ("x", "x"), lambda a: a[None, None]),
    ((0, 3), (1, "x", 0), lambda a: a.T[:, None, :]),
    ((2, 3, 4), (2, 0, 1), lambda a: np.transpose(a, (2, 0, 1))),
]


@pytest.mark.parametrize("dtype", ["float64", "int8"])
@pytest.mark.parametrize(("in_shape", "pattern", "reference"), DIMSHUFFLES)
def test_dimshuffle_matches_numpy(in_shape, pattern, reference, dtype):
    # axes of length 1 are declared static so that they may be dropped
    x = sg.tensor(dtype=dtype, shape=tuple(1 if d == 1 else None for d in in_shape))
    data = rand(in_shape, dtype)
    y = sg.dimshuffle(x, pattern)
    expected = reference(data)
    assert y.type.broadcastable == tuple(p == "x" or in_shape[p] == 1 for p in pattern)
    assert isinstance(y.owner.op, DimShuffle) and y.owner.op.pattern == tuple(pattern)
    assert_op(y, expected, {x: data})


def test_dimshuffle_static_shape_and_methods():
    x = sg.tensor(shape=(2, None, 1))
    assert sg.dimshuffle(x, (1, "x", 0)).type.shape == (None, 1, 2)
    assert x.dimshuffle(1, 0, 2).type.shape == (None, 2, 1)
    assert x.dimshuffle((0, 1)).type.shape == (2, None)
    assert sg.dimshuffle(x, (0, 1, 2)) is x


@pytest.mark.parametrize(
    ("pattern", "match"),
    [
        ((0, 2), "out of range|axes in"),
        ((0, -1), "axes in"),
        (("y", 0, 1), "axes in"),
        ((0, 0, 1), "more than once"),
        ((1, 0, 1), "more than once"),
        ((0,), "static length 1"),
    ],
)
def test_dimshuffle_errors(pattern, match):
    with pytest.raises(sg.SymgraphValueError, match=match):
        sg.dimshuffle(sg.matrix(), pattern)


def test_dimshuffle_drops_only_static_length_one():
    x = sg.tensor(shape=(1, None))
    assert sg.dimshuffle(x, (1,)).type.shape == (None,)
    with pytest.raises(sg.SymgraphValueError, match=r"cannot drop axes \[1\]"):
        sg.dimshuffle(x, (0,))


@pytest.mark.parametrize(
    ("shape", "axes"),
    [
        ((2, 3), None),
        ((2, 3, 4), None),
        ((2, 3, 4), (1, 0, 2)),
        ((2, 3, 4), (-1, 0, 1)),
        ((), None),
        ((5,), None),
        ((0, 2), (1, 0)),
    ],
)
def test_transpose_matches_numpy(shape, axes):
    x = var(shape)
    data = rand(shape)
    assert_op(sg.transpose(x, axes), np.transpose(data, axes), {x: data})


def test_transpose_spellings():
    x = sg.tensor3()
    data = rand((2, 3, 4))
    assert_op(x.T, data.T, {x: data})
    assert_op(x.transpose(2, 0, 1), data.transpose(2, 0, 1), {x: data})
    assert_op(x.transpose((2, 0, 1)), data.transpose(2, 0, 1), {x: data})
    assert sg.transpose(sg.tensor(shape=(2, None, 3))).type.shape == (3, None, 2)


@pytest.mark.parametrize(
    ("axes", "error"),
    [
        ((0, 0), sg.SymgraphValueError),
        ((0, 2), sg.SymgraphValueError),
        ((0,), sg.SymgraphValueError),
        ((0, 1.0), sg.SymgraphTypeError),
    ],
)
def test_transpose_errors(axes, error):
    with pytest.raises(error):
        sg.transpose(sg.matrix(), axes)


@pytest.mark.parametrize(
    ("shape", "ndim"), [((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4), 3), ((), 1), ((2, 0, 3), 2), ((5,), 1)]
)
@pytest.mark.parametrize("static", [False, True])
def test_flatten_matches_numpy(shape, ndim, static):
    x = var(shape, static=static)
    data = rand(shape)
    y = sg.flatten(x, ndim)
    expected = data.reshape(shape[: ndim - 1] + (-1,))
    if static:
        assert y.type.shape == expected.shape
    assert_op(y, expected, {x: data})
    assert_op(x.flatten(ndim), expected, {x: data})


@pytest.mark.parametrize("ndim", [0, 3, 1.0])
def test_flatten_bad_ndim(ndim):
    with pytest.raises(sg.SymgraphValueError, match="ndim"):
        sg.flatten(sg.matrix(), ndim)


@pytest.mark.parametrize(
    ("shape", "axis"), [((2, 3), 0), ((2, 3), 2), ((2, 3), -1), ((2, 3), (0, 3)), ((), 0), ((0,), (-1, 0))]
)
def test_expand_dims_matches_numpy(shape, axis):
    x = var(shape)
    data = rand(shape)
    y = sg.expand_dims(x, axis)
    expected = np.expand_dims(data, axis)
    assert y.type.shape == tuple(1 if n == 1 else None for n in expected.shape)  # the inputs have no length 1
    assert_op(y, expected, {x: data})


@pytest.mark.parametrize("axis", [3, -4, (0, 0)])
def test_expand_dims_bad_axis(axis):
    with pytest.raises(sg.SymgraphValueError):
        sg.expand_dims(sg.matrix(), axis)


@pytest.mark.parametrize(
    ("static", "axis"),
    [((1, None, 1), None), ((1, None, 1), 0), ((1, None, 1), (0, -1)), ((None, 3), None), ((1,), None), ((1, 1), 1)],
)
def test_squeeze_matches_numpy(static, axis):
    shape = tuple(3 if d is None else d for d in static)
    x = sg.tensor(shape=static)
    data = rand(shape)
    expected = (
        np.squeeze(data, axis) if axis is not None else np.reshape(data, [n for n, d in zip(shape, static) if d != 1])
    )
    y = sg.squeeze(x, axis)
    assert_op(y, expected, {x: data})
    assert_op(x.squeeze(axis), expected, {x: data})


def test_squeeze_without_static_one_is_identity():
    x = sg.matrix()
    assert sg.squeeze(x) is x


@pytest.mark.parametrize("axis", [1, 2, (0, 0)])
def test_squeeze_errors(axis):
    with pytest.raises(sg.SymgraphValueError, match="static length 1|out of range|repeated"):
        sg.squeeze(sg.tensor(shape=(1, None)), axis)


# -- concatenate, stack, split -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shapes", "axis"),
    [
        ([(2, 3), (4, 3)], 0),
        ([(2, 3), (2, 1), (2, 0)], 1),
        ([(2, 3), (2, 5)], -1),
        ([(0, 3), (0, 3)], 1),
        ([(3,)], 0),
        ([(2, 3, 4), (2, 1, 4)], 1),
    ],
)
@pytest.mark.parametrize("static", [False, True])
def test_concatenate_matches_numpy(shapes, axis, static):
    xs = [var(s, static=static) for s in shapes]
    data = [rand(s, seed=i) for i, s in enumerate(shapes)]
    y = sg.concatenate(xs, axis)
    expected = np.concatenate(data, axis)
    assert isinstance(y.owner.op, Concatenate)
    if static:
        assert y.type.shape == expected.shape
    assert_op(y, expected, dict(zip(xs, data)))


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        (("int32", "float32"), "float64"),
        (("int8", "uint8"), "int16"),
        (("bool", "int16"), "int16"),
        (("float32", "float32"), "float32"),
    ],
)
def test_concatenate_upcasts(dtypes, expected):
    xs = [sg.vector(dtype=d) for d in dtypes]
    data = [rand((2,), d) for d in dtypes]
    y = sg.concatenate(xs)
    assert y.dtype == expected == np.concatenate(data).dtype
    assert_op(y, np.concatenate(data), dict(zip(xs, data)))


def test_concatenate_static_lengths():
    a, b = sg.tensor(shape=(2, None)), sg.tensor(shape=(None, 3))
    assert sg.concatenate([a, b], 0).type.shape == (None, 3)
    assert sg.concatenate([a, sg.tensor(shape=(3, 4))], 0).type.shape == (5, 4)
    assert sg.concatenate([a, b], 1).type.shape == (2, None)


def test_concatenate_errors():
    with pytest.raises(sg.SymgraphValueError, match="differ"):
        sg.concatenate([sg.tensor(shape=(2, 3)), sg.tensor(shape=(2, 4))], 0)
    with pytest.raises(sg.SymgraphTypeError, match="same number of dimensions"):
        sg.concatenate([sg.matrix(), sg.vector()])
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.concatenate([sg.matrix(), sg.matrix()], 2)
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.concatenate([sg.scalar(), sg.scalar()])
    with pytest.raises(sg.SymgraphValueError, match="at least one"):
        sg.concatenate([])
    x, y = sg.matrix(), sg.matrix()
    with pytest.raises(sg.SymgraphError):
        evaluate(sg.concatenate([x, y], 0), {x: rand((2, 3)), y: rand((2, 4))})


@pytest.mark.parametrize(("shape", "axis"), [((), 0), ((2, 3), 0), ((2, 3), 1), ((2, 3), 2), ((2, 3), -1), ((0, 2), 1)])
@pytest.mark.parametrize("n", [1, 3])
def test_stack_matches_numpy(shape, axis, n):
    xs = [var(shape, "int32") for _ in range(n)]
    data = [rand(shape, "int32", seed=i) for i in range(n)]
    y = sg.stack(xs, axis)
    assert_op(y, np.stack(data, axis), dict(zip(xs, data)))


def test_stack_of_python_and_symbolic_scalars():
    n = int_scalar()
    y = sg.stack([n, 3, sg.shape_i(sg.tensor(shape=(5,)), 0)])
    assert y.type.shape == (3,) and y.dtype == "int64"
    assert_op(y, np.array([2, 3, 5]), {n: np.int64(2)})


def test_stack_errors():
    with pytest.raises(sg.SymgraphValueError):
        sg.stack([sg.tensor(shape=(2,)), sg.tensor(shape=(3,))])
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.stack([sg.vector(), sg.vector()], axis=3)
    with pytest.raises(sg.SymgraphValueError, match="at least one"):
        sg.stack([])


@pytest.mark.parametrize(
    ("shape", "sizes", "axis"),
    [((5,), [2, 3], 0), ((2, 6), [1, 0, 5], 1), ((4, 3), [4], 0), ((3, 4), [2, 2], -1), ((0, 2), [0, 0], 0)],
)
@pytest.mark.parametrize("static", [False, True])
def test_split_matches_numpy(shape, sizes, axis, static):
    x = var(shape, "int16", static)
    data = rand(shape, "int16")
    parts = sg.split(x, sizes, len(sizes), axis)
    assert isinstance(parts, list) and len(parts) == len(sizes)
    assert isinstance(parts[0].owner.op, Split)
    expected = np.split(data, np.cumsum(sizes)[:-1], axis=axis)
    for part, want in zip(parts, expected):
        assert part.type.shape[axis] == want.shape[axis]
        assert_op(part, want, {x: data})


def test_split_symbolic_sizes():
    x, n = sg.matrix(), int_scalar()
    a, b = sg.split(x, [n, sg.shape_i(x, 0) - n])
    data = rand((5, 2))
    assert a.type.shape == (None, None)
    assert_op(a, data[:2], {x: data, n: np.int64(2)})
    assert_op(b, data[2:], {x: data, n: np.int64(2)})
    sizes = sg.vector(dtype="int64")
    parts = sg.split(x, sizes, 3, axis=0)
    assert_op(parts[1], data[1:4], {x: data, sizes: np.array([1, 3, 1])})
    assert [p.type.shape for p in sg.split(x, np.array([1, 4]))] == [(1, None), (4, None)]


def test_split_errors():
    x = sg.tensor(shape=(5, None))
    with pytest.raises(sg.SymgraphValueError, match="sum to"):
        sg.split(x, [2, 2])
    with pytest.raises(sg.SymgraphValueError, match="sum to"):
        sg.split(x, [6, int_scalar()])
    with pytest.raises(sg.SymgraphValueError, match="sum to"):
        sg.split(x, [-1, 6])
    with pytest.raises(sg.SymgraphValueError, match="expected 3"):
        sg.split(x, [2, 3], 3)
    with pytest.raises(sg.SymgraphValueError, match="needs ndim"):
        sg.split(x, sg.vector(dtype="int64"))
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.split(x, [1, 1], axis=2)
    with pytest.raises(sg.SymgraphValueError, match="at least one"):
        sg.split(x, [])
    m = sg.matrix()
    with pytest.raises(sg.SymgraphError, match="do not sum"):
        evaluate(sg.split(m, [1, 1])[0], {m: rand((3, 2))})


# -- specify_shape ---------------------------------------------------------------------------------
def test_specify_shape_refines_and_checks():
    x = sg.matrix()
    y = sg.specify_shape(x, (2, None))
    assert y.type.shape == (2, None)
    data = rand((2, 5))
    assert_op(y, data, {x: data})
    with pytest.raises(sg.SymgraphError, match="expected shape"):
        evaluate(y, {x: rand((3, 5))})
    assert sg.specify_shape(sg.tensor(shape=(None, 4)), (3, None)).type.shape == (3, 4)


def test_specify_shape_symbolic_and_vector():
    x, n, m = sg.matrix(), int_scalar(), sg.matrix()
    y = sg.specify_shape(x, (n, 3))
    assert y.type.shape == (None, 3)
    data = rand((4, 3))
    assert_op(y, data, {x: data, n: np.int64(4)})
    with pytest.raises(sg.SymgraphError, match="expected shape"):
        evaluate(y, {x: data, n: np.int64(5)})
    z = sg.specify_shape(x, m.shape)
    assert_op(z, data, {x: data, m: rand((4, 3))})
    s = sg.scalar()
    assert_op(sg.specify_shape(s, ()), np.float64(1.5), {s: 1.5})


def test_specify_shape_errors():
    with pytest.raises(sg.SymgraphValueError, match="does not match"):
        sg.specify_shape(sg.tensor(shape=(2, None)), (3, None))
    with pytest.raises(sg.SymgraphValueError, match="expected 2"):
        sg.specify_shape(sg.matrix(), (2,))
    with pytest.raises(sg.SymgraphValueError, match="does not match"):
        sg.specify_shape(sg.vector(), (-2,))
