import warnings

import numpy as np
import pytest
import scipy.special

import symgraph as sg
from symgraph.ops.reduce import LogSumExp, Reduce
from tests.helpers import assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend

# (shape, axis): 0-d, empty arrays, negative and tuple axes, the empty tuple
CASES = [
    ((), None), ((), ()), ((5,), None), ((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), -1), ((3, 4), (0, 1)),
    ((3, 4), ()), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), 1), ((0,), 0), ((2, 0, 3), 1),
    ((2, 0, 3), None), ((2, 0, 3), (0, 2)),
]  # fmt: skip
NONEMPTY = [(shape, axis) for shape, axis in CASES if 0 not in shape]
DTYPES = ["float32", "float64", "int8", "int32", "int64", "uint8", "uint32", "bool"]


def free(shape, dtype="float64", name="x"):
    """A symbolic input with every length unknown."""
    return sg.tensor(name, dtype, shape=(None,) * len(shape))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sum", "prod"])
def test_sum_prod(name, dtype, shape, axis, keepdims):
    x = free(shape, dtype)
    data = rand(shape, dtype, low=-2, high=2)
    expected = getattr(np, name)(data, axis=axis, keepdims=keepdims)
    assert_op(getattr(sg, name)(x, axis, keepdims), expected, {x: data})


OVERRIDES = [("int8", "float32"), ("int8", "int8"), ("float32", "float64"), ("float64", "float32"), ("bool", "int16"),
             ("int64", "uint8")]  # fmt: skip


@pytest.mark.parametrize("dtype, override", OVERRIDES)
@pytest.mark.parametrize("name", ["sum", "prod"])
def test_dtype_override(name, dtype, override):
    x = sg.matrix("x", dtype)
    data = rand((3, 5), dtype, low=-3, high=3)
    with np.errstate(over="ignore"):
        expected = getattr(np, name)(data, axis=1, dtype=override)
    out = getattr(sg, name)(x, 1, dtype=override)
    assert out.dtype == override
    assert_op(out, expected, {x: data}, rtol=1e-6)


def test_int8_sum_wraps_like_numpy():
    x = sg.vector("x", "int8")
    data = np.full(10, 100, dtype="int8")
    assert_op(sg.sum(x, dtype="int8"), np.sum(data, dtype="int8"), {x: data})
    assert_op(sg.sum(x), np.int64(1000), {x: data})


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", NONEMPTY + [((2, 0, 3), 0), ((0, 3), 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "uint8", "bool"])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min(name, dtype, shape, axis, keepdims):
    x = free(shape, dtype)
    data = rand(shape, dtype)
    assert_op(getattr(sg, name)(x, axis, keepdims), getattr(np, name)(data, axis=axis, keepdims=keepdims), {x: data})


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_propagate_nan(name):
    x = sg.matrix("x")
    data = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    assert_op(getattr(sg, name)(x, 1), getattr(np, name)(data, axis=1), {x: data})


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("shape, axis", [((0,), None), ((3, 0), 1), ((0, 3), 0)])
def test_empty_axis_fails_at_run_time(name, shape, axis):
    x = free(shape)
    out = getattr(sg, name)(x, axis)
    with pytest.raises(sg.SymgraphError, match="empty|zero-size"):
        evaluate(out, {x: np.zeros(shape)})


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", CASES)
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any(name, dtype, shape, axis, keepdims):
    x = free(shape, dtype)
    data = rand(shape, dtype, low=0, high=1)  # ints in [0, 4], floats in [0, 1): zeros are present
    if dtype == "float64":
        data = np.where(data < 0.3, 0.0, data)
    out = getattr(sg, name)(x, axis, keepdims)
    assert out.dtype == "bool"
    assert_op(out, getattr(np, name)(data, axis=axis, keepdims=keepdims), {x: data})


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", NONEMPTY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int64", "uint16", "bool"])
def test_mean(dtype, shape, axis, keepdims):
    x = free(shape, dtype)
    data = rand(shape, dtype)
    out = sg.mean(x, axis, keepdims)
    assert_op(out, np.mean(data, axis=axis, keepdims=keepdims), {x: data}, rtol=1e-6)


@pytest.mark.parametrize("ddof", [0, 1, 1.5])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", [((5,), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((), None)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(name, dtype, shape, axis, keepdims, ddof):
    x = free(shape, dtype)
    data = rand(shape, dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # ddof >= n: NumPy warns and divides by 0
        expected = getattr(np, name)(data, axis=axis, keepdims=keepdims, ddof=ddof)
    assert_op(getattr(sg, name)(x, axis, keepdims, ddof), expected, {x: data}, rtol=1e-5)


@pytest.mark.parametrize("name", ["mean", "var", "std"])
def test_mean_var_static_shape_and_large_values(name):
    """The count is a constant when the lengths are static; var is computed around the mean."""
    x = sg.tensor("x", "float64", shape=(2, 3, 4))
    data = rand((2, 3, 4), high=1) + 1e8
    out = getattr(sg, name)(x, (0, 2))
    assert out.type.shape == (3,)
    assert_op(out, getattr(np, name)(data, axis=(0, 2)), {x: data}, rtol=1e-6)


@pytest.mark.parametrize("name", ["mean", "var"])
def test_mean_var_of_an_empty_axis_is_nan(name):
    x = sg.matrix("x")
    with np.errstate(all="ignore"):
        assert_op(getattr(sg, name)(x, 0), np.full(3, np.nan), {x: np.zeros((0, 3))})


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), -1),
                                         ((2, 3, 4), 1), ((), None), ((2, 3, 4), None)])  # fmt: skip
@pytest.mark.parametrize("dtype", ["float32", "int16", "uint8", "bool"])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name, dtype, shape, axis, keepdims):
    x = free(shape, dtype)
    data = rand(shape, dtype, low=-2, high=2)  # small ints: ties, where the first index wins
    out = getattr(sg, name)(x, axis, keepdims)
    assert out.dtype == "int64"
    assert_op(out, getattr(np, name)(data, axis=axis, keepdims=keepdims), {x: data})


def test_argmax_nan_and_ties():
    x = sg.matrix("x")
    data = np.array([[1.0, 3.0, 3.0], [np.nan, 5.0, 5.0]])
    assert_op(sg.argmax(x, 1), np.array([1, 0]), {x: data})
    assert_op(sg.argmin(x, 1), np.array([0, 0]), {x: data})


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", [((5,), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)),
                                         ((2, 3, 4), ()), ((), None)])  # fmt: skip
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp(dtype, shape, axis, keepdims):
    x = free(shape, dtype)
    data = rand(shape, dtype, low=-5, high=5)
    expected = scipy.special.logsumexp(data, axis=axis, keepdims=keepdims).astype(dtype)
    expected = expected.reshape(np.sum(data, axis=axis, keepdims=keepdims).shape)  # scipy gives 0-d input 1 axis
    assert_op(sg.logsumexp(x, axis, keepdims), expected, {x: data}, rtol=1e-6 if dtype == "float32" else 1e-12)


def test_logsumexp_is_stable_and_handles_infinities():
    x = sg.matrix("x")
    data = np.array([[1000.0, 1000.0, -np.inf], [-1000.0, -1001.0, -1002.0], [-np.inf, -np.inf, -np.inf],
                     [np.inf, 1.0, -np.inf], [np.nan, 1.0, 2.0]])  # fmt: skip
    with np.errstate(all="ignore"):
        expected = scipy.special.logsumexp(data, axis=1)
    assert np.isfinite(expected[:2]).all()
    assert isinstance(sg.logsumexp(x, axis=1).owner.op, LogSumExp)  # a dedicated op, not exp/sum/log
    assert_op(sg.logsumexp(x, axis=1), expected, {x: data}, rtol=1e-12)


def test_logsumexp_of_empty_axis_and_integers():
    x = sg.matrix("x")
    assert_op(sg.logsumexp(x, 1), np.full(3, -np.inf), {x: np.zeros((3, 0))})
    i = sg.vector("i", "int8")
    data = np.array([1, 2, 3], dtype="int8")
    out = sg.logsumexp(i)
    assert out.dtype == "float32"  # like log(sum(exp(i))): small ints go to float32
    assert_op(out, np.float32(scipy.special.logsumexp(data.astype("float32"))), {i: data}, rtol=1e-6)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "logsumexp"])
def test_static_shapes(name):
    x = sg.tensor("x", "float64", shape=(2, None, 4))
    assert getattr(sg, name)(x, 1).type.shape == (2, 4)
    assert getattr(sg, name)(x, (0, -1)).type.shape == (None,)
    assert getattr(sg, name)(x, 1, keepdims=True).type.shape == (2, 1, 4)
    assert getattr(sg, name)(x, keepdims=True).type.shape == (1, 1, 1)
    assert getattr(sg, name)(x).type.shape == ()


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_static_shapes(name):
    x = sg.tensor("x", "float64", shape=(2, None, 4))
    assert getattr(sg, name)(x, -1).type.shape == (2, None)
    assert getattr(sg, name)(x).type.shape == ()
    assert getattr(sg, name)(x, keepdims=True).type.shape == (1, 1, 1)


def test_one_op_per_reduction():
    """keepdims and a dtype equal to the default do not make different reduction ops."""
    x = sg.matrix("x", "int32")
    plain, kept = sg.sum(x, 1), sg.sum(x, -1, keepdims=True, dtype="int64")
    assert plain.owner.op == kept.owner.inputs[0].owner.op
    assert plain.owner.op != sg.prod(x, 1).owner.op


def test_methods_and_size():
    x = sg.tensor3("x")
    data = rand((2, 3, 4))
    assert_op(x.sum(axis=(0, 1)), data.sum(axis=(0, 1)), {x: data})
    assert_op(x.max(-1, keepdims=True), data.max(-1, keepdims=True), {x: data})
    assert_op(x.std(1, ddof=1), data.std(1, ddof=1), {x: data})
    assert_op(x.size, np.int64(24), {x: data})


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "logsumexp",
                                  "argmax", "argmin"])  # fmt: skip
@pytest.mark.parametrize("axis", [2, -3, True])
def test_bad_axis(name, axis):
    with pytest.raises(sg.SymgraphError, match="axis"):
        getattr(sg, name)(sg.matrix("x"), axis)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "all", "any", "mean", "var", "std", "logsumexp"])
@pytest.mark.parametrize("axis", [(0, 0), (1, -1), (0, 5)])
def test_bad_axis_tuples(name, axis):
    with pytest.raises(sg.SymgraphValueError, match="repeated axis|out of range"):
        getattr(sg, name)(sg.matrix("x"), axis)


def test_bad_builds():
    x = sg.matrix("x")
    with pytest.raises(sg.SymgraphTypeError, match="axis must be an int"):
        sg.argmax(x, (0, 1))
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.sum(sg.scalar("s"), 0)
    with pytest.raises(sg.SymgraphTypeError, match="unsupported dtype"):
        sg.sum(x, dtype="complex128")
    with pytest.raises(sg.SymgraphValueError, match="only sum and prod"):
        Reduce("max", (0,), "float64")(x)
    with pytest.raises(sg.SymgraphValueError, match="sorted, distinct"):
        Reduce("sum", (1, 0))(x)
    with pytest.raises(ValueError, match="unknown reduction"):
        Reduce("median", (0,))
