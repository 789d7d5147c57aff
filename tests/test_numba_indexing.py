"""The numba rules for indexing agree with the reference backend: every index kind, strided and read-only
inputs, repeated indices, run-time errors, empty and 0-d results."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from tests.helpers import assert_backend_agrees, rand

S = slice


def _strided(a: np.ndarray) -> np.ndarray:
    """The same values as ``a``, in a non-contiguous view with negative strides and read-only."""
    big = np.empty(tuple(2 * n for n in a.shape), a.dtype)
    view = big[tuple(S(None, None, -2) for _ in a.shape)] if a.ndim else big
    view[...] = a
    view.flags.writeable = False
    return view


def _inputs(values: dict):
    """Symbolic inputs of unknown lengths for named values, and the givens mapping them to the values."""
    variables = {k: sg.tensor(k, v.dtype, (None,) * v.ndim) for k, v in values.items()}
    return variables, {variables[k]: v for k, v in values.items()}


def _agree(build, values: dict, strided: bool = False) -> None:
    variables, givens = _inputs(values)
    if strided:
        givens = {var: _strided(v) for var, v in givens.items()}
    assert_backend_agrees(build(**variables), givens, "numba")


def _both_raise(build, values: dict, match: str) -> None:
    variables, givens = _inputs(values)
    for backend in ("python", "numba"):
        f = sg.function(list(givens), build(**variables), backend=backend)
        with pytest.raises(sg.SymgraphError, match=match):
            f(*givens.values())


X = rand((4, 5, 6), "float32")
I = np.array([[3, -1, 0], [1, 1, -4]])  # noqa: E741
J = np.array([5, 0, 4], dtype="uint8")
M = rand((4, 5), "bool", seed=2)

READS = {
    "int_slice_newaxis": (lambda x, i, k: x[i, k::-2, None, 1:], {"i": np.int64(-1), "k": np.int64(3)}),
    "symbolic_bounds": (lambda x, i, k, s: x[..., i:k:s], {"i": np.int64(-1), "k": np.int64(-9), "s": np.int16(-2)}),
    "all_ints": (lambda x, i, k: x[i, k, -1], {"i": np.int64(2), "k": np.int32(-5)}),
    "array": (lambda x, i: x[i], {"i": I}),
    "arrays_adjacent": (lambda x, i, j: x[:, i, j], {"i": I % 5, "j": J}),
    "uint64_wraps_around": (lambda x, i: x[:, :, i], {"i": np.array([2**64 - 1, 0], "uint64")}),
    "arrays_separated": (lambda x, i, j: x[i, 1:, j], {"i": I, "j": J}),
    "int_and_array_separated": (lambda x, j: x[1, ::-1, j], {"j": J}),
    "array_newaxis_array": (
        lambda x, i, j: x[i[:, :, None], None, j[None, :, None]],
        {"i": I, "j": np.array([4, 0, 2], "uint8")},
    ),
    "mask": (lambda x, m: x[m], {"m": M}),
    "mask_and_array": (lambda x, m, j: x[m, j[:1]], {"m": M, "j": J}),
    "mask_later_axes": (lambda x, m: x[:, m[0]], {"m": M}),
    "mask_3d_empty": (lambda x: x[x > 5], {}),
    "mask_0d": (lambda x, b: x[None, b, 1], {"b": np.array(True)}),
}


@pytest.mark.parametrize("name", list(READS))
def test_reads(name):
    build, index = READS[name]
    _agree(build, {"x": X, **index})


def test_reads_of_strided_read_only_inputs():
    names = ["int_slice_newaxis", "arrays_separated", "mask", "mask_and_array", "uint64_wraps_around"]
    values = {f"{k}_{name}": v for name in names for k, v in READS[name][1].items()}

    def build(x, **index):
        return [READS[name][0](x, **{k: index[f"{k}_{name}"] for k in READS[name][1]}) for name in names]

    _agree(build, {"x": X, **values}, strided=True)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint64", "float64"])
def test_read_dtypes(dtype):
    a = rand((4, 5), dtype)
    _agree(lambda x, i: [x[i, ::2], x[1, i], x[-1, 2]], {"x": a, "i": np.array([3, 0, -4], dtype="int16")})


def test_embedding_and_label_lookups_at_model_sizes():
    emb, idx = rand((1000, 64), "float32"), np.random.default_rng(0).integers(0, 1000, (32, 20))
    _agree(lambda x, i: x[i], {"x": emb, "i": idx})
    probs, labels = rand((128, 1000), "float32"), np.random.default_rng(1).integers(0, 1000, 128)
    _agree(lambda y, t: y[sg.arange(y.shape[0]), t], {"y": probs, "t": labels})


WRITES = {
    "slice": (lambda x: x[1:3, ::-2], (2, 3, 6)),
    "int_newaxis": (lambda x: x[-1, None, :, 2], (1, 5)),
    "all_ints": (lambda x: x[0, 1, 2], ()),
    "array_duplicates": (lambda x: x[[1, 1, -3, 1]], (4, 5, 6)),
    "arrays_broadcast": (lambda x: x[[[0], [0]], :, [2, 2, -4]], (5,)),
    "arrays_adjacent": (lambda x: x[:, [1, 1, 4], [0, 0, 5]], (4, 3)),
    "mask": (lambda x: x[M], (6,)),
    "labels": (lambda x: x[0, sg.arange(5), [5, 5, 0, 1, 5]], ()),
}


@pytest.mark.parametrize("set_", [True, False])
@pytest.mark.parametrize("name", list(WRITES))
def test_writes(name, set_):
    index, y_shape = WRITES[name]
    write = sg.set_subtensor if set_ else sg.inc_subtensor
    _agree(lambda x, y: write(index(x), y), {"x": X, "y": rand(y_shape, "float32", seed=1)})


def test_writes_of_strided_read_only_inputs():
    names = ["slice", "int_newaxis", "arrays_broadcast", "mask"]
    values = {"x": X, **{f"y{n}": rand(WRITES[name][1], "float32", seed=1) for n, name in enumerate(names)}}
    _agree(
        lambda x, **ys: [
            write(WRITES[name][0](x), ys[f"y{n}"])
            for n, name in enumerate(names)
            for write in (sg.set_subtensor, sg.inc_subtensor)
        ],
        values,
        strided=True,
    )


def test_repeated_indices_accumulate_or_last_write_wins():
    x, i, y = sg.vector("x", "int8"), sg.vector("i", "int64"), sg.vector("y", "int8")
    givens = {x: np.array([0, 100, 0], "int8"), i: np.array([1, 2, 1, 1, -2]), y: np.array([10, 1, 20, 30, 5], "int8")}
    inc = sg.function(list(givens), sg.inc_subtensor(x[i], y), backend="numba")(*givens.values())
    np.testing.assert_array_equal(inc, [0, -91, 1])  # 100 + 65 wraps around like NumPy
    put = sg.function(list(givens), sg.set_subtensor(x[i], y), backend="numba")(*givens.values())
    np.testing.assert_array_equal(put, [0, 5, 1])
    assert_backend_agrees([sg.inc_subtensor(x[i], y), sg.set_subtensor(x[i], y)], givens, "numba")


@pytest.mark.parametrize("dtype", ["bool", "uint16"])
def test_write_dtypes(dtype):
    x, y = sg.matrix("x", dtype), sg.tensor("y", dtype, (1, None))
    givens = {x: rand((3, 4), dtype), y: rand((1, 4), dtype, seed=1)}
    assert_backend_agrees(
        [sg.inc_subtensor(x[[0, 0, 2]], y), sg.inc_subtensor(x[1:], y), sg.set_subtensor(x[:, 1][1:], y[0, 0])],
        givens,
        "numba",
    )


def test_empty_and_zero_d():
    values = {"x": rand((3, 0, 2)), "s": np.array(2.5), "i": np.zeros((0, 2), "int64")}
    _agree(
        lambda x, s, i: [
            x[i],
            x[:, i, 1],
            x[[7], i[:, 0]],  # an out-of-range index in an empty broadcast is never read
            x[2:1],
            sg.inc_subtensor(x[i], 1.0),
            s[None],
            s[...],
            s[True],
            s[np.array(False)],
            sg.set_subtensor(s[...], 1.0),
            sg.inc_subtensor(s[None], s),
        ],
        values,
    )


ERRORS = [
    (lambda x, i: x[i, 0], {"i": np.int64(4)}, "out of bounds"),
    (lambda x, i: x[0, i], {"i": np.int64(-6)}, "out of bounds"),
    (lambda x, i: x[i], {"i": np.array([0, 4])}, "out of bounds"),
    (lambda x, i: x[:, i], {"i": np.array([[-6]])}, "out of bounds"),
    (lambda x, i: x[:, i], {"i": np.array([2**63], "uint64")}, "out of bounds"),
    (lambda x, i: sg.inc_subtensor(x[i], 1.0), {"i": np.array([1, 9])}, "out of bounds"),
    (lambda x, i: sg.set_subtensor(x[i, 1:], 0.0), {"i": np.int64(-5)}, "out of bounds"),
    (lambda x, i: x[::i], {"i": np.int64(0)}, "step"),
    (lambda x, i: sg.inc_subtensor(x[:, ::i], 1.0), {"i": np.int64(0)}, "step"),
    (lambda x, m: x[m], {"m": np.ones(5, bool)}, "boolean index"),
    (lambda x, i, j: x[i, j], {"i": np.array([0, 1]), "j": np.array([0, 1, 2])}, "broadcast"),
    (lambda x, y: sg.set_subtensor(x[1:3], y), {"y": np.ones((3, 5))}, None),
    (lambda x, y: sg.inc_subtensor(x[[0, 1]], y), {"y": np.ones((2, 1))}, None),
    (lambda x, y: sg.inc_subtensor(x[[0, 1]], y), {"y": np.ones((1, 5))}, "broadcastable"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_run_time_errors(case):
    build, values, match = ERRORS[case]
    _both_raise(build, {"x": rand((4, 5)), **values}, match)
