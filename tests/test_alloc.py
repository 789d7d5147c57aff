"""Allocation and broadcasting against NumPy: broadcast_to, alloc, zeros/ones/full/fill, arange, eye."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.alloc import Alloc, ARange, BroadcastTo, Eye
from tests.helpers import assert_infer_shape, assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend


def var(shape, dtype="float64"):
    """A symbolic input for data of ``shape`` with free lengths."""
    return sg.tensor(dtype=dtype, shape=(None,) * len(shape))


def int_scalar():
    return sg.scalar(dtype="int64")


# -- broadcast_to, alloc, zeros/ones/full/fill -------------------------------------------------------
BROADCASTS = [((3,), (2, 3)), ((1, 3), (4, 2, 3)), ((), (2, 2)), ((1,), (0,)), ((2, 1), (2, 5)), ((0, 1), (0, 4))]


@pytest.mark.parametrize(("in_shape", "target"), BROADCASTS)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_broadcast_to_matches_numpy(in_shape, target, dtype):
    x = sg.tensor(dtype=dtype, shape=tuple(1 if d == 1 else None for d in in_shape))
    data = rand(in_shape, dtype)
    y = sg.broadcast_to(x, target)
    assert isinstance(y.owner.op, BroadcastTo)
    assert y.type.shape == target
    assert_op(y, np.broadcast_to(data, target), {x: data})


def test_broadcast_to_symbolic_shape():
    x, n = sg.tensor(shape=(3,)), int_scalar()
    y = sg.broadcast_to(x, (n, 3))
    assert y.type.shape == (None, 3)
    assert sg.broadcast_to(x, (n, n)).type.shape == (None, 3)  # a length other than 1 must match
    data = rand((3,))
    assert_op(y, np.broadcast_to(data, (4, 3)), {x: data, n: np.int64(4)})
    m = sg.matrix()
    assert_op(sg.broadcast_to(x, m.shape), np.broadcast_to(data, (2, 3)), {x: data, m: rand((2, 3))})


@pytest.mark.parametrize(("static", "target"), [((3,), (2, 4)), ((2, 3), (3,)), ((3,), (-1, 3))])
def test_broadcast_to_build_errors(static, target):
    with pytest.raises(sg.SymgraphValueError, match="cannot broadcast"):
        sg.broadcast_to(sg.tensor(shape=static), target)


def test_broadcast_to_runtime_error():
    x = sg.vector()
    f = sg.function([x], sg.broadcast_to(x, (2, 3)))
    with pytest.raises(sg.SymgraphError):
        f(rand((4,)))


@pytest.mark.parametrize(
    ("value", "shape"), [(1.5, (2, 3)), (np.arange(3, dtype="int32"), (2, 3)), (7, ()), (np.array([True]), (0, 4))]
)
def test_alloc_matches_numpy(value, shape):
    y = sg.alloc(value, *shape)
    assert isinstance(y.owner.op, Alloc)
    expected = np.full(shape, value, dtype=sg.constant(value).dtype)
    assert y.type.shape == shape
    result = assert_op(y, expected, {})
    assert result.flags.writeable


def test_alloc_symbolic():
    v, n, m = sg.vector(), int_scalar(), int_scalar()
    y = sg.alloc(v, n, m)
    assert y.type.shape == (None, None)
    data = rand((3,))
    assert_op(y, np.broadcast_to(data, (2, 3)), {v: data, n: np.int64(2), m: np.int64(3)})
    with pytest.raises(sg.SymgraphError):
        evaluate(y, {v: data, n: np.int64(2), m: np.int64(4)})


def test_alloc_errors():
    with pytest.raises(sg.SymgraphValueError, match="cannot broadcast"):
        sg.alloc(sg.matrix(), 3)
    with pytest.raises(sg.SymgraphTypeError, match="integer scalar"):
        sg.alloc(0.0, 2.5)
    with pytest.raises(sg.SymgraphTypeError, match="integer scalar"):
        sg.alloc(0.0, sg.vector(dtype="int64"))


@pytest.mark.parametrize("shape", [(2, 3), (0,), ()])
@pytest.mark.parametrize("dtype", ["float32", "int16", "bool"])
@pytest.mark.parametrize(("func", "reference"), [(sg.zeros_like, np.zeros_like), (sg.ones_like, np.ones_like)])
def test_zeros_ones_like(func, reference, shape, dtype):
    x = var(shape, dtype)
    data = rand(shape, dtype)
    assert_op(func(x), reference(data), {x: data})
    assert_op(func(x, dtype="float64"), reference(data, dtype="float64"), {x: data})
    assert func(sg.tensor(dtype=dtype, shape=(2, None))).type.shape == (2, None)


@pytest.mark.parametrize("shape", [3, (2, 3), (), (0, 2), np.array([2, 1])])
@pytest.mark.parametrize(("func", "reference"), [(sg.zeros, np.zeros), (sg.ones, np.ones)])
def test_zeros_ones(func, reference, shape):
    y = func(shape)
    expected = reference(shape, dtype=sg.config.floatX)
    assert y.type.shape == expected.shape
    assert_op(y, expected, {})
    assert_op(func(shape, dtype="int8"), expected.astype("int8"), {})


def test_zeros_ones_symbolic_shapes():
    x, n = sg.matrix(), int_scalar()
    data = rand((2, 3))
    assert_op(sg.zeros(x.shape), np.zeros((2, 3)), {x: data})
    assert_op(sg.ones((n, sg.shape_i(x, 1))), np.ones((4, 3)), {x: data, n: np.int64(4)})
    with pytest.raises(sg.SymgraphTypeError, match="integer scalar"):
        sg.zeros((2.0, 3))


def test_floatx_default(monkeypatch):
    monkeypatch.setattr(sg.config, "floatX", "float32")
    assert sg.zeros((2,)).dtype == "float32"
    assert sg.ones(3).dtype == "float32"
    assert sg.full((2,), 7).dtype == "float32"
    assert sg.eye(2).dtype == "float32"
    assert sg.arange(0.0, 1.0, 0.25).dtype == "float32"
    assert sg.arange(3).dtype == "int64"


@pytest.mark.parametrize(
    ("fill_value", "dtype", "expected_dtype"),
    [
        (7, None, "float64"),
        (2.5, "int32", "int32"),
        (np.float32(1.5), None, "float32"),
        (True, "bool", "bool"),
        (np.array([1, 2, 3], dtype="int16"), None, "int16"),
    ],
)
def test_full(fill_value, dtype, expected_dtype):
    y = sg.full((2, 3), fill_value, dtype)
    assert y.dtype == expected_dtype and y.type.shape == (2, 3)
    assert_op(y, np.full((2, 3), fill_value, dtype=expected_dtype), {})


def test_full_symbolic_value():
    v, n = sg.vector(dtype="int32"), int_scalar()
    y = sg.full((n, 3), v)
    data = rand((3,), "int32")
    assert_op(y, np.full((2, 3), data), {v: data, n: np.int64(2)})


@pytest.mark.parametrize(
    ("model_dtype", "value", "expected_dtype"),
    [
        ("float32", 1, "float32"),
        ("int8", 3, "int8"),
        ("int32", 2.5, "float64"),
        ("bool", True, "bool"),
        ("float64", np.float32(2), "float32"),
    ],
)
def test_fill(model_dtype, value, expected_dtype):
    x = var((2, 3), model_dtype)
    data = rand((2, 3), model_dtype)
    y = sg.fill(x, value)
    assert_op(y, np.full((2, 3), value, dtype=expected_dtype), {x: data})


def test_fill_with_tensor_value_and_errors():
    x, v = sg.matrix(), sg.vector(dtype="int32")
    dx, dv = rand((2, 3)), rand((3,), "int32")
    assert_op(sg.fill(x, v), np.broadcast_to(dv, (2, 3)), {x: dx, v: dv})
    with pytest.raises(sg.SymgraphValueError, match="does not fit"):
        sg.fill(sg.vector(dtype="int8"), 1000)


# -- arange, eye ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [(5,), (2, 7), (7, 2), (10, 0, -3), (0, 10, 3), (0.0, 1.0, 0.25), (1.5, -1.0, -0.5), (0, 0), (-3, 3, 2)],
)
def test_arange_matches_numpy(args):
    y = sg.arange(*args)
    expected = np.arange(*args)
    assert isinstance(y.owner.op, ARange)
    assert y.type.shape == expected.shape
    assert_op(y, expected, {})


@pytest.mark.parametrize(
    ("args", "dtype"),
    [((5, 0, -2), "int64"), ((0, 3, 1), "float32"), ((0.5, 4.0, 1.25), "float64"), ((0, 7), "int8")],
)
def test_arange_symbolic(args, dtype):
    dtypes = ["int64" if isinstance(a, int) else "float64" for a in args]
    svars = [sg.scalar(dtype=d) for d in dtypes]
    y = sg.arange(*svars, dtype=dtype)
    assert y.type.shape == (None,) and y.dtype == dtype
    values = [np.asarray(a, dtype=d) for a, d in zip(args, dtypes)]
    assert_op(y, np.arange(*args, dtype=dtype), dict(zip(svars, values)))


def test_arange_dtype_defaults_and_mixed_arguments():
    n = sg.scalar(dtype="int32")
    f = sg.scalar(dtype="float32")
    assert sg.arange(n).dtype == "int64"
    assert sg.arange(f, 3).dtype == "float32"
    assert sg.arange(0, n, 0.5).dtype == sg.config.floatX
    y = sg.arange(1, n, 2)
    assert_op(y, np.arange(1, 8, 2), {n: np.int32(8)})
    assert_infer_shape(sg.arange(f, 3), {f: np.float32(0.1)})


def test_arange_errors():
    with pytest.raises(sg.SymgraphValueError, match="step"):
        sg.arange(0, 5, 0)
    with pytest.raises(sg.SymgraphTypeError, match="scalars"):
        sg.arange(sg.vector())
    with pytest.raises(sg.SymgraphTypeError, match="scalars"):
        sg.arange(True)
    with pytest.raises(sg.SymgraphTypeError, match="dtype"):
        sg.arange(3, dtype="bool")


@pytest.mark.parametrize(("n", "m", "k"), [(3, None, 0), (2, 4, 1), (4, 2, -1), (3, 3, 5), (0, None, 0)])
@pytest.mark.parametrize("dtype", [None, "int32", "bool"])
def test_eye_matches_numpy(n, m, k, dtype):
    y = sg.eye(n, m, k, dtype)
    expected = np.eye(n, m, k, dtype=dtype or sg.config.floatX)
    assert isinstance(y.owner.op, Eye)
    assert y.type.shape == expected.shape
    assert_op(y, expected, {})


def test_eye_symbolic_and_errors():
    n, k = int_scalar(), int_scalar()
    y = sg.eye(n, k=k)
    assert y.type.shape == (None, None)
    assert_op(y, np.eye(3, k=1), {n: np.int64(3), k: np.int64(1)})
    assert sg.eye(n, 4).type.shape == (None, 4)
    with pytest.raises(sg.SymgraphValueError, match=">= 0"):
        sg.eye(-1)
    with pytest.raises(sg.SymgraphTypeError, match="integer scalar"):
        sg.eye(2.0)
