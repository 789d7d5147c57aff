"""sg.nnet: softmax, log_softmax, cross-entropies, hinge losses and one_hot against NumPy/SciPy."""

import numpy as np
import pytest
import scipy.special

import symgraph as sg
from symgraph.ops.nnet_ops import CategoricalCrossentropyInt, LogSoftmax, OneHot, Softmax
from tests.helpers import assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend

FLOATS = ["float32", "float64"]


def tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}


def probs(shape, dtype, seed=0):
    """Rows of probabilities (positive, summing to 1)."""
    return scipy.special.softmax(rand(shape, "float64", seed), axis=-1).astype(dtype)


# -- softmax / log_softmax ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    ("shape", "axis"),
    [((5,), -1), ((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -3), ((1, 4), -1), ((0, 3), -1)],
)
@pytest.mark.parametrize(("fn", "ref"), [(sg.nnet.softmax, scipy.special.softmax),
                                         (sg.nnet.log_softmax, scipy.special.log_softmax)])  # fmt: skip
def test_softmax_matches_scipy(fn, ref, shape, axis, dtype):
    x = sg.tensor("x", dtype, ndim=len(shape))
    value = rand(shape, dtype, seed=1, low=-5, high=5)
    expected = ref(value.astype("float64"), axis=axis).astype(dtype)
    assert_op(fn(x, axis=axis), expected, {x: value}, **tol(dtype))


@pytest.mark.parametrize("fn", [sg.nnet.softmax, sg.nnet.log_softmax])
def test_softmax_empty_axis(fn):
    x = sg.matrix("x")
    assert_op(fn(x), np.empty((3, 0)), {x: np.empty((3, 0))})


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("fn", "ref"), [(sg.nnet.softmax, scipy.special.softmax),
                                         (sg.nnet.log_softmax, scipy.special.log_softmax)])  # fmt: skip
def test_softmax_extreme_logits(fn, ref, dtype):
    x = sg.matrix("x", dtype)
    value = np.array([[1000, -1000, 0], [-1000, -1000, -1000], [1000, 1000, 999], [0, 0, 0]], dtype)
    result = assert_op(fn(x), ref(value.astype("float64"), axis=-1).astype(dtype), {x: value}, **tol(dtype))
    assert np.isfinite(result).all()


@pytest.mark.parametrize(("fn", "op"), [(sg.nnet.softmax, Softmax), (sg.nnet.log_softmax, LogSoftmax)])
def test_softmax_op_canonical_axis(fn, op):
    x = sg.tensor3("x")
    assert fn(x).owner.op == op(2)
    assert fn(x, axis=-2).owner.op == op(1)
    assert fn(x).type == x.type
    assert Softmax(1) != LogSoftmax(1)


@pytest.mark.parametrize(("in_dtype", "out_dtype"), [("int8", "float32"), ("int64", "float64"), ("bool", "float32")])
def test_softmax_upgrades_ints_to_float(in_dtype, out_dtype):
    x = sg.vector("x", in_dtype)
    value = rand((4,), in_dtype, seed=2)
    expected = scipy.special.softmax(value.astype("float64")).astype(out_dtype)
    assert_op(sg.nnet.softmax(x), expected, {x: value}, **tol(out_dtype))


def test_softmax_build_errors():
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.nnet.softmax(sg.matrix(), axis=2)
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.nnet.log_softmax(sg.scalar())
    with pytest.raises(sg.SymgraphTypeError, match="axis must be an int"):
        sg.nnet.softmax(sg.matrix(), axis=None)
    with pytest.raises(sg.SymgraphTypeError, match="float"):
        Softmax(0)(sg.vector(dtype="int32"))


# -- categorical cross-entropy -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("target_dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("n", [0, 1, 5])
def test_categorical_crossentropy_int_targets(n, target_dtype, dtype):
    p, t = sg.matrix("p", dtype), sg.vector("t", target_dtype)
    pv, tv = probs((n, 4), dtype), np.arange(n).astype(target_dtype) % 4
    out = sg.nnet.categorical_crossentropy(p, t)
    assert isinstance(out.owner.op, CategoricalCrossentropyInt)
    assert_op(out, -np.log(pv[np.arange(n), tv]), {p: pv, t: tv}, **tol(dtype))


def test_categorical_crossentropy_int_static_rows():
    p, t = sg.matrix("p", shape=(None, 3)), sg.vector("t", "int64", shape=(4,))
    assert sg.nnet.categorical_crossentropy(p, t).type.shape == (4,)
    with pytest.raises(sg.SymgraphValueError, match="rows"):
        sg.nnet.categorical_crossentropy(sg.matrix(shape=(3, 3)), t)


@pytest.mark.parametrize("bad", [[0, 3], [-1, 0]])
def test_categorical_crossentropy_target_out_of_range(bad):
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    with pytest.raises(sg.SymgraphError, match="out of range for 3 classes"):
        evaluate(sg.nnet.categorical_crossentropy(p, t), {p: probs((2, 3), "float64"), t: np.array(bad)})


def test_categorical_crossentropy_rows_mismatch_at_run_time():
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    with pytest.raises(sg.SymgraphError, match="2 rows of coding_dist but 3 targets"):
        evaluate(sg.nnet.categorical_crossentropy(p, t), {p: probs((2, 3), "float64"), t: np.zeros(3, "int64")})


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("target_dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape", [(5, 4), (0, 3), (2, 3, 4)])
def test_categorical_crossentropy_dense_targets(shape, target_dtype, dtype):
    p, t = sg.tensor("p", dtype, ndim=len(shape)), sg.tensor("t", target_dtype, ndim=len(shape))
    pv = probs(shape, dtype)
    labels = np.arange(int(np.prod(shape[:-1]))).reshape(shape[:-1]) % shape[-1]
    onehot = np.eye(shape[-1])[labels]
    soft = onehot if target_dtype == "int64" else 0.7 * onehot + 0.3 * probs(shape, "float64", seed=5)
    tv = soft.astype(target_dtype)
    out_dtype = np.result_type(dtype, target_dtype if target_dtype != "int64" else dtype).name
    expected = -(tv.astype("float64") * np.log(pv.astype("float64"))).sum(axis=-1)
    assert_op(sg.nnet.categorical_crossentropy(p, t), expected.astype(out_dtype), {p: pv, t: tv}, **tol(dtype))


def test_categorical_crossentropy_forms_agree():
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    pv, tv = probs((6, 5), "float64"), np.array([0, 4, 2, 2, 1, 3])
    dense = sg.nnet.categorical_crossentropy(p, sg.nnet.one_hot(t, 5))
    sparse = sg.nnet.categorical_crossentropy(p, t)
    a, b = evaluate([dense, sparse], {p: pv, t: tv})
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_categorical_crossentropy_build_errors():
    with pytest.raises(sg.SymgraphTypeError, match="integers"):
        sg.nnet.categorical_crossentropy(sg.matrix(), sg.vector())
    with pytest.raises(sg.SymgraphValueError, match="ndim"):
        sg.nnet.categorical_crossentropy(sg.matrix(), sg.scalar(dtype="int64"))
    with pytest.raises(sg.SymgraphValueError, match="ndim"):
        sg.nnet.categorical_crossentropy(sg.vector(), sg.tensor3())
    with pytest.raises(sg.SymgraphTypeError, match="float matrix"):
        sg.nnet.categorical_crossentropy(sg.tensor3(), sg.matrix(dtype="int64"))
    with pytest.raises(sg.SymgraphValueError, match="broadcast"):
        sg.nnet.categorical_crossentropy(sg.matrix(shape=(2, 3)), sg.matrix(shape=(2, 4)))


# -- binary cross-entropies -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("target_dtype", ["float32", "float64", "int8", "bool"])
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 4)])
def test_binary_crossentropy(shape, target_dtype, dtype):
    p, t = sg.tensor("p", dtype, shape=(None,) * len(shape)), sg.tensor("t", target_dtype, ndim=len(shape))
    rng = np.random.default_rng(3)
    pv = rng.uniform(0.01, 0.99, shape).astype(dtype)
    tv = (rng.random(shape) < 0.5) if target_dtype == "bool" else rng.integers(0, 2, shape).astype(target_dtype)
    out_dtype = dtype if target_dtype in ("int8", "bool") else np.result_type(dtype, target_dtype).name
    p64, t64 = pv.astype("float64"), tv.astype("float64")
    expected = -(t64 * np.log(p64) + (1 - t64) * np.log(1 - p64))
    assert_op(sg.nnet.binary_crossentropy(p, t), np.asarray(expected, out_dtype), {p: pv, t: tv}, **tol(dtype))


def _sigmoid_bce_reference(x, t):
    x, t = x.astype("float64"), t.astype("float64")
    return t * np.logaddexp(0, -x) + (1 - t) * np.logaddexp(0, x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(), (0, 2), (6,), (2, 3)])
def test_sigmoid_binary_crossentropy(shape, dtype):
    x, t = sg.tensor("x", dtype, ndim=len(shape)), sg.tensor("t", dtype, ndim=len(shape))
    xv = rand(shape, dtype, seed=4, low=-6, high=6)
    tv = rand(shape, dtype, seed=5, low=0, high=1)
    expected = _sigmoid_bce_reference(xv, tv).astype(dtype)
    assert_op(sg.nnet.sigmoid_binary_crossentropy(x, t), expected, {x: xv, t: tv}, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_binary_crossentropy_extreme_logits(dtype):
    x, t = sg.vector("x", dtype), sg.vector("t", "int64")
    xv = np.array([1000, 1000, -1000, -1000, 40, -40, 0], dtype)
    tv = np.array([1, 0, 1, 0, 1, 0, 1])
    result = evaluate(sg.nnet.sigmoid_binary_crossentropy(x, t), {x: xv, t: tv})
    assert result.dtype == dtype and np.isfinite(result).all()
    # the tiny losses of confident, correct predictions (exp(-40)) keep their relative accuracy
    np.testing.assert_allclose(result, _sigmoid_bce_reference(xv, tv).astype(dtype), rtol=1e-6)


def test_sigmoid_binary_crossentropy_matches_binary_crossentropy():
    x, t = sg.vector("x"), sg.vector("t")
    xv, tv = rand((8,), seed=6), rand((8,), seed=7, low=0, high=1)
    a, b = evaluate([sg.nnet.sigmoid_binary_crossentropy(x, t), sg.nnet.binary_crossentropy(sg.sigmoid(x), t)],
                    {x: xv, t: tv})  # fmt: skip
    np.testing.assert_allclose(a, b, rtol=1e-10)


# -- hinge losses --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("binary", "delta"), [(True, 1.0), (False, 1.0), (True, 0.5)])
@pytest.mark.parametrize("shape", [(), (0,), (9,), (3, 2)])
def test_binary_hinge_losses(shape, binary, delta, dtype):
    p, t = sg.tensor("p", dtype, ndim=len(shape)), sg.tensor("t", "int64", ndim=len(shape))
    pv = rand(shape, dtype, seed=8)
    labels = np.random.default_rng(9).integers(0, 2, shape)
    tv = labels if binary else 2 * labels - 1
    expected = np.maximum(0, delta - pv.astype("float64") * (2 * labels - 1)).astype(dtype)
    givens = {p: pv, t: tv}
    assert_op(sg.nnet.binary_hinge_loss(p, t, delta=delta, binary=binary), expected, givens, **tol(dtype))
    assert_op(sg.nnet.squared_binary_hinge_loss(p, t, delta, binary), expected**2, givens, **tol(dtype))


def test_hinge_aliases():
    assert sg.nnet.hinge is sg.nnet.binary_hinge_loss
    assert sg.nnet.squared_hinge is sg.nnet.squared_binary_hinge_loss


def _multiclass_reference(pv, labels, delta):
    pv = pv.astype("float64")
    rows = np.arange(len(labels))
    correct = pv[rows, labels]
    others = pv.copy()
    others[rows, labels] = -np.inf
    return np.maximum(0, others.max(axis=1) - correct + delta)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("one_hot_targets", [False, True])
@pytest.mark.parametrize(("n", "k", "delta"), [(6, 4, 1.0), (5, 3, 0.25), (3, 1, 1.0)])
def test_multiclass_hinge_losses(n, k, delta, one_hot_targets, dtype):
    p = sg.matrix("p", dtype)
    pv = rand((n, k), dtype, seed=10)
    labels = np.random.default_rng(11).integers(0, k, n)
    if one_hot_targets:
        t, tv = sg.matrix("t", "int8"), np.eye(k, dtype="int8")[labels]
    else:
        t, tv = sg.vector("t", "int32"), labels.astype("int32")
    expected = _multiclass_reference(pv, labels, delta).astype(dtype)
    givens = {p: pv, t: tv}
    assert_op(sg.nnet.multiclass_hinge_loss(p, t, delta), expected, givens, **tol(dtype))
    assert_op(sg.nnet.squared_multiclass_hinge_loss(p, t, delta=delta), expected**2, givens, **tol(dtype))


def test_multiclass_hinge_target_out_of_range():
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    with pytest.raises(sg.SymgraphError, match="out of range"):
        evaluate(sg.nnet.multiclass_hinge_loss(p, t), {p: rand((2, 3)), t: np.array([0, 3])})


def test_hinge_build_errors():
    with pytest.raises(sg.SymgraphValueError, match="matrix"):
        sg.nnet.multiclass_hinge_loss(sg.vector(), sg.vector(dtype="int64"))
    with pytest.raises(sg.SymgraphTypeError, match="integers"):
        sg.nnet.multiclass_hinge_loss(sg.matrix(), sg.vector())
    with pytest.raises(sg.SymgraphValueError, match="int vector or a one-hot matrix"):
        sg.nnet.multiclass_hinge_loss(sg.matrix(), sg.tensor3(dtype="int64"))
    with pytest.raises(sg.SymgraphValueError, match="broadcast"):
        sg.nnet.binary_hinge_loss(sg.vector(shape=(3,)), sg.vector(shape=(4,)))


# -- one_hot -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("index_dtype", ["int64", "int8", "uint16"])
@pytest.mark.parametrize(("shape", "depth"), [((), 3), ((5,), 4), ((2, 3), 6), ((0,), 2), ((3,), 0)])
def test_one_hot(shape, depth, index_dtype):
    i = sg.tensor("i", index_dtype, ndim=len(shape))
    iv = (np.arange(int(np.prod(shape))).reshape(shape) % max(depth, 1)).astype(index_dtype)
    if depth == 0:
        iv = np.zeros(0, index_dtype)
    out = sg.one_hot(i, depth)
    assert out.type.shape == (None,) * len(shape) + (depth,)
    assert_op(out, np.eye(depth, dtype=sg.config.floatX)[iv], {i: iv})


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_one_hot_dtype_and_symbolic_depth(dtype):
    i, d = sg.vector("i", "int64"), sg.scalar("d", "int32")
    out = sg.nnet.one_hot(i, d, dtype=dtype)
    assert out.type == sg.TensorType(dtype, (None, None))
    iv = np.array([2, 0, 4])
    assert_op(out, np.eye(6, dtype=dtype)[iv], {i: iv, d: np.int32(6)})


def test_one_hot_depth_from_shape():
    i, x = sg.vector("i", "int64", shape=(3,)), sg.matrix("x")
    out = sg.one_hot(i, sg.shape_i(x, 1))
    assert out.type.shape == (3, None)
    assert_op(out, np.eye(5)[[1, 4, 0]], {i: np.array([1, 4, 0]), x: np.zeros((2, 5))})


def test_one_hot_default_dtype_follows_floatx(monkeypatch):
    monkeypatch.setattr(sg.config, "floatX", "float32")
    assert sg.one_hot(sg.vector(dtype="int64"), 3).dtype == "float32"
    assert OneHot(np.float64).dtype == "float64"


@pytest.mark.parametrize("bad", [[0, 3], [-1, 1]])
def test_one_hot_index_out_of_range(bad):
    i = sg.vector("i", "int64")
    with pytest.raises(sg.SymgraphError, match="out of range for 3 classes"):
        evaluate(sg.one_hot(i, 3), {i: np.array(bad)})


def test_one_hot_negative_symbolic_depth():
    i, d = sg.vector("i", "int64"), sg.scalar("d", "int64")
    with pytest.raises(sg.SymgraphError, match="depth must be >= 0"):
        evaluate(sg.one_hot(i, d), {i: np.zeros(0, "int64"), d: -1})


def test_one_hot_build_errors():
    with pytest.raises(sg.SymgraphTypeError, match="indices must be integers"):
        sg.one_hot(sg.vector(), 3)
    with pytest.raises(sg.SymgraphTypeError, match="indices must be integers"):
        sg.one_hot(sg.vector(dtype="bool"), 3)
    with pytest.raises(sg.SymgraphTypeError, match="depth must be an int scalar"):
        sg.one_hot(sg.vector(dtype="int64"), sg.vector(dtype="int64"))
    with pytest.raises(sg.SymgraphTypeError, match="depth must be an int scalar"):
        sg.one_hot(sg.vector(dtype="int64"), 2.5)
    with pytest.raises(sg.SymgraphValueError, match="depth must be >= 0"):
        sg.one_hot(sg.vector(dtype="int64"), -2)


def test_reexports():
    assert sg.nnet.sigmoid is sg.sigmoid and sg.nnet.softplus is sg.softplus and sg.nnet.relu is sg.relu
    assert sg.one_hot is sg.nnet.one_hot
    x = sg.vector("x")
    assert_op(sg.nnet.sigmoid(x), scipy.special.expit(np.array([-1.0, 0.0, 2.0])), {x: np.array([-1.0, 0.0, 2.0])})
