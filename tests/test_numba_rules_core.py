"""numba rules of the shape, allocation, reduction, linalg and nnet ops: memory layouts (transposed, strided with
negative steps, read-only), float32 kept float32, larger sizes, run-time errors on both backends, matmul shapes."""

import numpy as np
import pytest

import symgraph as sg
from backends.numba.codegen import generate
from symgraph.ops.nnet_ops import SoftmaxCategoricalCrossentropyInt
from tests.helpers import assert_backend_agrees, rand


def layouts(shape, dtype="float64"):
    """The same values as a C-contiguous array, a transposed (F-contiguous) view, a view with negative and
    non-unit strides, and a read-only array."""
    base = rand(shape, dtype, seed=3)
    transposed = np.ascontiguousarray(base.T).T
    strided = rand([2 * d for d in shape], dtype, seed=4)[tuple(slice(None, None, -2) for _ in shape)]
    strided[...] = base
    readonly = base.copy()
    readonly.flags.writeable = False
    return {"c": base, "f": transposed, "strided": strided, "readonly": readonly}


def matrix_graphs(dtype="float64"):
    x = sg.matrix("x", dtype)
    n = sg.shape_i(x, 0)
    column_max = sg.max(x, axis=0)
    return x, {
        "reshape": sg.reshape(x, (-1,)),
        "reshape_symbolic": sg.reshape(x, (n, -1, 1)),
        "transpose_x": sg.dimshuffle(x, (1, "x", 0)),
        "expand": sg.expand_dims(x, 0),
        "concatenate": sg.concatenate([x, sg.split(x, [2, 3], axis=1)[0]], axis=1),
        "split": sg.split(x, [1, n - 1], axis=0)[1],
        "sum_rows": sg.sum(x, axis=1),
        "sum_cols": sg.sum(x, axis=0),
        "prod": sg.prod(x, axis=1),
        "max_cols": sg.max(x, axis=0),
        "logsumexp": sg.logsumexp(x, axis=1),
        "logsumexp_cols": sg.logsumexp(x, axis=0),
        "argmax": sg.argmax(x, axis=0),
        "argmin_flat": sg.argmin(x),
        "softmax": sg.nnet.softmax(x, axis=-1),
        "softmax_cols": sg.nnet.softmax(x, axis=0),
        "log_softmax": sg.nnet.log_softmax(x, axis=1),
        "gram": sg.dot(x, sg.transpose(x)),
        "matvec": sg.dot(x, column_max),
        "alloc": sg.alloc(column_max, 3, sg.shape_i(x, 1)),
        "broadcast_to": sg.broadcast_to(x, (2, n, sg.shape_i(x, 1))),
        "specify_shape": sg.specify_shape(x, (n, None)),
    }


GRAPH_NAMES = list(matrix_graphs()[1])


@pytest.mark.parametrize("layout", ["f", "strided", "readonly"])
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_memory_layouts(name, layout):
    x, graphs = matrix_graphs()
    value = layouts((4, 5))[layout]
    assert_backend_agrees(graphs[name], {x: value}, "numba")


@pytest.mark.parametrize("name", ["sum_rows", "softmax", "logsumexp", "gram", "reshape", "argmax"])
def test_float32_stays_float32(name):
    x, graphs = matrix_graphs("float32")
    out = graphs[name]
    assert out.dtype in ("float32", "int64")
    assert sg.function([x], out, backend="numba")(rand((6, 7), "float32")).dtype == out.dtype
    assert_backend_agrees(out, {x: rand((6, 7), "float32")}, "numba")


def test_large_sizes():
    x = sg.matrix("x", "float32")
    w = sg.matrix("w", "float32")
    givens = {x: rand((128, 784), "float32", seed=1), w: rand((784, 500), "float32", seed=2, low=-0.1, high=0.1)}
    outputs = [sg.dot(x, w), sg.nnet.softmax(sg.dot(x, w)), sg.sum(x), sg.sum(x, axis=0), sg.logsumexp(x, axis=1)]
    assert_backend_agrees(outputs, givens, "numba", rtol=1e-4, atol=1e-4)
    v = sg.vector("v", "float32")
    long = rand((300_001,), "float32", seed=5)
    assert_backend_agrees([sg.sum(v), sg.max(v), sg.argmax(v), sg.logsumexp(v)], {v: long}, "numba")


def test_non_finite_values():
    x = sg.matrix("x")
    value = np.array([[0.0, np.nan, 1.0], [-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0], [np.inf, -np.inf, 0.0]])
    outputs = [
        sg.max(x, axis=1), sg.min(x, axis=0), sg.sum(x, axis=1), sg.argmax(x, axis=1), sg.argmin(x, axis=0),
        sg.logsumexp(x, axis=1), sg.logsumexp(x, axis=0), sg.nnet.softmax(x), sg.nnet.log_softmax(x, axis=0),
    ]  # fmt: skip
    assert_backend_agrees(outputs, {x: value}, "numba")
    t = sg.vector("t", "int32")
    fused = SoftmaxCategoricalCrossentropyInt()(x, t)
    assert_backend_agrees(fused, {x: value, t: np.array([0, 1, 2, 1], "int32")}, "numba")


def test_empty_and_zero_d():
    x = sg.tensor("x", "float64", shape=(None, None, None))
    s = sg.scalar("s", "float32")
    value = np.zeros((2, 0, 3))
    outputs = [
        sg.sum(x, axis=1), sg.prod(x, axis=(0, 2)), sg.max(x, axis=2), sg.logsumexp(x, axis=1),
        sg.nnet.softmax(x, axis=1), sg.reshape(x, (2, -1)), sg.concatenate([x, x], axis=1), sg.dimshuffle(x, (2, 0, 1)),
    ]  # fmt: skip
    assert_backend_agrees(outputs, {x: value}, "numba")
    outputs = [sg.dimshuffle(s, ("x", "x")), sg.reshape(s, (1, 1)), sg.sum(s), sg.argmax(s), sg.logsumexp(s)]
    assert_backend_agrees(outputs, {s: np.float32(2.5)}, "numba")
    u = sg.tensor("u", "int16", shape=(1, 1))
    assert_backend_agrees([sg.dimshuffle(u, ()), sg.dimshuffle(u, (1, "x"))], {u: np.array([[7]], "int16")}, "numba")


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "float32"])
def test_reduce_dtypes(dtype):
    x = sg.tensor("x", dtype, shape=(None, None, None))
    outputs = [
        sg.sum(x, axis=(1, 2)), sg.sum(x, axis=(0, 2)), sg.prod(x, axis=2), sg.max(x, axis=0), sg.min(x, axis=(1, 2)),
        sg.all(x, axis=1), sg.any(x), sg.sum(x, dtype="int8"), sg.argmax(x, axis=2), sg.argmin(x, axis=1),
        sg.logsumexp(x, axis=2),
    ]  # fmt: skip
    assert_backend_agrees(outputs, {x: rand((3, 4, 10), dtype)}, "numba")


@pytest.mark.parametrize(
    "start, stop, step, dtype",
    [(0, 10, 3, "int64"), (5, -7, -2, "int8"), (0.5, 5, 1.5, "int64"), (0.1, 10, 0.3, "float32"), (3, 9, 1, "float64")],
)
def test_arange(start, stop, step, dtype):
    args = [
        sg.scalar(name, "float64" if isinstance(v, float) else "int64") for name, v in zip("abc", (start, stop, step))
    ]
    givens = dict(zip(args, (start, stop, step)))
    assert_backend_agrees(sg.arange(*args, dtype=dtype), givens, "numba")


@pytest.mark.parametrize("n, m, k", [(3, 3, 0), (3, 5, 2), (4, 2, -1), (2, 3, 7), (0, 3, 0)])
def test_eye(n, m, k):
    a, b, c = sg.scalar("n", "int64"), sg.scalar("m", "int64"), sg.scalar("k", "int64")
    assert_backend_agrees(sg.eye(a, b, c, dtype="float32"), {a: n, b: m, c: k}, "numba")


def test_alloc_broadcasts_length_one_at_run_time():
    v, n = sg.vector("v", "int16"), sg.scalar("n", "int64")
    assert_backend_agrees([sg.alloc(v, n, 4), sg.zeros((n, 2), "bool")], {v: np.array([7], "int16"), n: 3}, "numba")


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((5, 1, 2, 3), (4, 3, 2)), ((2, 1, 2, 3), (1, 3, 3, 2)), ((0, 2, 3), (3, 4)),
    ((2, 0), (0, 3)),
]  # fmt: skip


@pytest.mark.parametrize(
    "dtypes", [("float32", "float32"), ("float32", "float64"), ("int16", "int8"), ("bool", "bool")]
)
@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES)
def test_matmul_shapes(sa, sb, dtypes):
    a = sg.tensor("a", dtypes[0], shape=tuple(1 if d == 1 else None for d in sa))
    b = sg.tensor("b", dtypes[1], shape=tuple(1 if d == 1 else None for d in sb))
    assert_backend_agrees(sg.matmul(a, b), {a: rand(sa, dtypes[0], 1), b: rand(sb, dtypes[1], 2)}, "numba")


def test_matmul_non_contiguous_batches():
    a, b = sg.tensor3("a"), sg.tensor3("b")
    xa = rand((3, 8, 5), seed=1)[:, ::-2, :]
    xb = np.transpose(rand((3, 6, 5), seed=2), (0, 2, 1))
    swapped = sg.matmul(sg.transpose(b, (0, 2, 1)), sg.transpose(a, (0, 2, 1)))
    assert_backend_agrees([sg.matmul(a, b), swapped], {a: xa, b: xb}, "numba")


def test_nnet_targets():
    p, t = sg.matrix("p", "float32"), sg.vector("t", "uint8")
    givens = {p: np.abs(rand((5, 4), "float32")) + 0.1, t: np.array([0, 3, 1, 1, 2], "uint8")}
    z = sg.tensor3("z", "int16")
    outputs = [
        sg.nnet.categorical_crossentropy(sg.nnet.softmax(p), t),
        sg.nnet.one_hot(t, 4, dtype="bool"),
        sg.nnet.one_hot(sg.cast(t, "int64"), 6),
    ]
    assert_backend_agrees(outputs, givens, "numba")
    assert_backend_agrees(sg.nnet.one_hot(z, 9), {z: rand((2, 3, 4), "int16") % 9}, "numba")


def _errors():
    x, v, n = sg.matrix("x"), sg.vector("v"), sg.scalar("n", "int64")
    t = sg.vector("t", "int64")
    x3, y3 = sg.tensor3("x3"), sg.tensor3("y3")
    return [
        (sg.reshape(x, (n, 5)), {x: np.zeros((2, 3)), n: 2}),
        (sg.reshape(x, (n, -1)), {x: np.zeros((2, 3)), n: -1}),
        (sg.reshape(x, (n, -1)), {x: np.zeros((2, 3)), n: 4}),
        (sg.specify_shape(x, (n, None)), {x: np.zeros((2, 3)), n: 3}),
        (sg.concatenate([x, sg.expand_dims(v, 0)], axis=0), {x: np.zeros((2, 3)), v: np.zeros(4)}),
        (sg.split(v, [n, 2], n_splits=2)[0], {v: np.zeros(4), n: 1}),
        (sg.split(v, [n, 5], n_splits=2)[0], {v: np.zeros(4), n: -1}),
        (sg.alloc(v, n, 3), {v: np.zeros(2), n: 2}),
        (sg.alloc(v, n, 2), {v: np.zeros(2), n: -1}),
        (sg.broadcast_to(v, (n, 3)), {v: np.zeros(2), n: 2}),
        (sg.arange(0, 10, n), {n: 0}),
        (sg.arange(250, 300, n, dtype="uint8"), {n: 10}),
        (sg.eye(n, 3), {n: -2}),
        (sg.max(x, axis=1), {x: np.zeros((3, 0))}),
        (sg.argmax(x, axis=0), {x: np.zeros((0, 3))}),
        (sg.argmin(x), {x: np.zeros((0, 3))}),
        (sg.dot(x, v), {x: np.zeros((2, 3)), v: np.zeros(4)}),
        (sg.matmul(x3, x), {x3: np.zeros((2, 2, 3)), x: np.zeros((4, 2))}),
        (sg.matmul(x3, y3), {x3: np.zeros((1, 2, 2)), y3: np.zeros((3, 2, 2))}),  # a run-time 1 does not broadcast
        (sg.nnet.categorical_crossentropy(x, t), {x: np.ones((2, 3)), t: np.array([0, 3])}),
        (sg.nnet.categorical_crossentropy(x, t), {x: np.ones((2, 3)), t: np.array([0, 1, 1])}),
        (SoftmaxCategoricalCrossentropyInt()(x, t), {x: np.ones((2, 3)), t: np.array([0, -1])}),
        (sg.nnet.one_hot(t, n), {t: np.array([0, 2]), n: 2}),
        (sg.nnet.one_hot(t, n), {t: np.array([-1]), n: 2}),
    ]


ERRORS = _errors()


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_run_time_errors(case):
    output, givens = _errors()[case]
    for backend in ("python", "numba"):
        f = sg.function(list(givens), output, backend=backend)
        with pytest.raises(sg.SymgraphError):
            f(*givens.values())


def test_parallel_variants(monkeypatch):
    """With several threads, row-wise kernels get a variant splitting the rows (used for large inputs)."""
    monkeypatch.setattr(sg.config, "num_threads", 2)
    x, t = sg.matrix("x", "float32"), sg.vector("t", "int64")
    outputs = [
        sg.sum(x, axis=1), sg.max(x, axis=1), sg.argmin(x, axis=1), sg.logsumexp(x, axis=1),
        sg.nnet.softmax(x), sg.nnet.log_softmax(x), sg.nnet.categorical_crossentropy(sg.nnet.softmax(x), t),
    ]  # fmt: skip
    f = sg.function([x, t], outputs, backend="numba")
    kernels = generate(f.fgraph).kernels.values()
    assert sum("numba.prange" in source for source in kernels) >= len(outputs) - 1  # softmax is shared
    givens = {x: rand((300, 257), "float32"), t: np.arange(300) % 257}
    assert_backend_agrees(outputs, givens, "numba")
