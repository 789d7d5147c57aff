"""Indexing: basic and advanced reads, set_subtensor/inc_subtensor and take, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.indexing import AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor
from tests.helpers import assert_infer_shape, assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend

S = slice
MASK_5 = np.array([True, False, True, True, False])
MASK_34 = rand((3, 4), "bool", seed=3)
MASK_4 = np.array([False, True, True, False])

BASIC_CASES = [
    ((5,), 0),
    ((5,), -1),
    ((5,), S(1, 4)),
    ((5,), S(-2, None)),
    ((5,), S(None, None, -1)),
    ((5,), S(4, 1, -2)),
    ((5,), S(-10, 10, 3)),
    ((5,), S(10, 20)),
    ((5,), S(3, 1)),
    ((5,), S(None, None, 7)),
    ((5,), S(None, -6, -1)),
    ((0,), S(None)),
    ((0,), S(1, 3)),
    ((3, 4), 1),
    ((3, 4), (1, -1)),
    ((3, 4), (Ellipsis, 2)),
    ((3, 4), (None, 1)),
    ((3, 4), (S(None), None, S(1, 3))),
    ((3, 4), (S(None, None, -1), S(None, None, -3))),
    ((2, 3, 4), ()),
    ((2, 3, 4), Ellipsis),
    ((2, 3, 4), (0, Ellipsis, None)),
    ((2, 3, 4), (S(None, None, -1), 1, S(None, None, 2))),
    ((2, 3, 4), (-2, S(-1, -4, -1))),
    ((2, 3, 4), (None, Ellipsis, None)),
    ((2, 0, 4), (1, S(None), -1)),
    ((), ()),
    ((), None),
    ((), Ellipsis),
]


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("shape, index", BASIC_CASES)
def test_basic_indexing_matches_numpy(shape, index, static):
    x = sg.tensor("x", "float64", shape if static else (None,) * len(shape))
    a = rand(shape)
    out = x[index]
    assert isinstance(out.owner.op, Subtensor)
    assert_op(out, a[index], {x: a})
    if static:  # constant bounds on known lengths give the exact static shape
        assert out.type.shape == a[index].shape


@pytest.mark.parametrize("dtype", ["int8", "uint16", "bool", "float32"])
def test_basic_indexing_keeps_dtype(dtype):
    x = sg.matrix("x", dtype)
    a = rand((3, 4), dtype)
    assert_op(x[1:, ::2], a[1:, ::2], {x: a})
    assert_op(x[2, 3], a[2, 3], {x: a})


BOUNDS = [
    (1, 4, 1), (-2, None, 1), (None, None, -1), (4, 1, -2), (-10, 10, 3), (10, -10, -3), (3, 1, 1), (0, 0, 2),
    (-10, None, -1), (-2, -10, -1), (None, 3, 2), (-10, 2, 1), (None, -10, 1),
]  # fmt: skip


@pytest.mark.parametrize("which", ["start", "stop", "step", "all"])
@pytest.mark.parametrize("start, stop, step", BOUNDS)
@pytest.mark.parametrize("length", [0, 5])
def test_symbolic_slice_bounds(which, start, stop, step, length):
    x = sg.vector("x")
    a = rand((length,))
    values = {"start": start, "stop": stop, "step": step}
    symbolic = {k: sg.scalar(k, "int64") for k in values if which in (k, "all") and values[k] is not None}
    index = S(*(symbolic.get(k, values[k]) for k in ("start", "stop", "step")))
    givens = {x: a, **{var: np.int64(values[k]) for k, var in symbolic.items()}}
    assert_op(x[index], a[start:stop:step], givens)


def test_symbolic_bounds_of_other_int_dtypes_and_index():
    x = sg.matrix("x")
    i, j = sg.scalar("i", "int32"), sg.scalar("j", "uint8")
    a = rand((4, 6))
    out = x[i, j:]
    assert out.type.shape == (None,)
    assert_op(out, a[-1, 2:], {x: a, i: np.int32(-1), j: np.uint8(2)})


def test_constant_bounds_share_one_op():
    x = sg.vector("x")
    assert x[1:3].owner.op == x[2:5].owner.op
    assert x[1].owner.op == x[-3].owner.op
    assert x[1:3].owner.op != x[1:].owner.op
    assert isinstance(x[1:3].owner.inputs[1], sg.Constant)


def test_static_shape_is_exact_only_when_known():
    x = sg.tensor("x", shape=(5, None, 3))
    assert x[1:4, 1:3, ::-1].type.shape == (3, None, 3)
    i = sg.scalar("i", "int64")
    assert x[i:, :, None].type.shape == (None, None, 1, 3)
    assert x[[0, 1, 1]].type.shape == (3, None, 3)
    assert x[np.array([True, False, True, True, False])].type.shape == (3, None, 3)


def test_shape_vector_indexing():
    x = sg.tensor3("x")
    a = rand((2, 3, 4))
    assert x.shape[0].type == sg.TensorType("int64", ())
    assert_op(x.shape[0], np.int64(2), {x: a})
    assert_op(x.shape[-1], np.int64(4), {x: a})
    assert_op(x.shape[1:], np.array([3, 4]), {x: a})
    assert_op(x.shape[0] * x.shape[2], np.int64(8), {x: a})
    with pytest.raises(sg.SymgraphValueError, match="out of bounds"):
        x.shape[3]


def test_iteration_over_static_length():
    x = sg.tensor("x", shape=(3, None))
    a = rand((3, 2))
    parts = evaluate(list(x), {x: a})
    for got, want in zip(parts, a):
        np.testing.assert_array_equal(got, want)


def test_runtime_out_of_range_symbolic_index():
    x, i = sg.vector("x"), sg.scalar("i", "int64")
    with pytest.raises(sg.SymgraphError, match="out of bounds"):
        evaluate(x[i], {x: rand((3,)), i: np.int64(3)})


# -- advanced indexing -----------------------------------------------------------------------
ADVANCED_CASES = [
    ((5,), [0, 4, -1, 0]),
    ((5,), np.array([[0, 1], [2, 3]])),
    ((5,), np.array([], dtype="int64")),
    ((5,), MASK_5),
    ((3, 4), [[]]),
    ((3, 4), ([0, 2], [1, 3])),
    ((3, 4), (S(None), [3, 0, 0])),
    ((3, 4), (S(1, None), np.array([[1], [2]], dtype="uint8"))),
    ((3, 4), (None, [1, 2])),
    ((3, 4), MASK_34),
    ((3, 4), (S(None), MASK_4)),
    ((3, 4), (MASK_34[:, 0], 2)),
    ((3, 4), (0, MASK_4)),
    ((3, 4), True),
    ((3, 4), (Ellipsis, False)),
    ((3, 4, 5), (0, S(None), [1, 2])),  # int and array not adjacent: broadcast dims go first
    ((3, 4, 5), (S(None), [0, 1], [[1], [2]])),  # adjacent: they stay in place
    ((3, 4, 5), (S(None), 0, [1, 2])),
    ((3, 4, 5), ([0, 1], S(None), [2, 3])),
    ((3, 4, 5), ([0, 1, 2], None, [2, 3, 0])),
    ((3, 4, 5), (S(None), [1], Ellipsis, [2])),  # an empty Ellipsis still separates
    ((3, 4, 5), ([1, 2], Ellipsis, [2])),
    ((3, 4, 5), (Ellipsis, [1, -2])),
    ((3, 4, 5), (MASK_34, np.arange(MASK_34.sum()) % 5)),
    ((3, 4, 5), ([[0], [2]], MASK_4, S(None, None, -2))),
    ((3, 0, 2), (S(None), [], 1)),
]


def _index_variables(index):
    """The index with every array replaced by a symbolic input; and the givens for those inputs."""
    items = index if isinstance(index, tuple) else (index,)
    givens, out = {}, []
    for item in items:
        if isinstance(item, list | np.ndarray):
            arr = np.asarray(item, dtype=None if np.size(item) else "int64")
            var = sg.tensor(dtype=arr.dtype, ndim=arr.ndim)
            givens[var] = arr
            item = var
        out.append(item)
    return tuple(out), givens


@pytest.mark.parametrize("symbolic_index", [False, True])
@pytest.mark.parametrize("shape, index", ADVANCED_CASES)
def test_advanced_indexing_matches_numpy(shape, index, symbolic_index):
    x = sg.tensor("x", "float32", (None,) * len(shape))
    a = rand(shape, "float32")
    expected = a[index]
    givens = {x: a}
    if symbolic_index:
        index, index_givens = _index_variables(index)
        givens.update(index_givens)
    out = x[index]
    assert isinstance(out.owner.op, AdvancedSubtensor)
    assert out.ndim == expected.ndim
    assert_op(out, expected, givens)


def test_index_arrays_broadcast_at_run_time():
    x = sg.matrix("x")
    i, j = sg.vector("i", "int64"), sg.vector("j", "int64")
    a = rand((5, 5))
    vi, vj = np.array([0, 3, 1]), np.array([4])
    assert_op(x[i, j], a[vi, vj], {x: a, i: vi, j: vj})
    assert_op(x[j, i], a[vj, vi], {x: a, i: vi, j: vj})


def test_static_shape_of_constant_and_symbolic_masks():
    x = sg.tensor("x", shape=(3, 4))
    m = sg.matrix("m", "bool")
    assert x[MASK_34].type.shape == (int(MASK_34.sum()),)
    assert x[m].type.shape == (None,)
    assert x[:, [[0, 1, 2]]].type.shape == (3, 1, 3)
    a, mv = rand((3, 4)), MASK_34
    assert_op(x[m], a[mv], {x: a, m: mv})
    assert_op((x * 2)[x > 0], (a * 2)[a > 0], {x: a})


def test_nonzero_values():
    x = sg.vector("x")
    a = np.array([0.0, 1.5, 0.0, -2.0])
    assert_op(x.nonzero_values(), a[a != 0], {x: a})


# -- set_subtensor / inc_subtensor ----------------------------------------------------------
WRITE_CASES = [
    ((5,), S(1, 3), (2,)),
    ((5,), S(1, 3), ()),
    ((5,), -1, ()),
    ((5,), S(None, None, -2), (1,)),
    ((5,), S(3, 1), (0,)),
    ((3, 4), 1, (4,)),
    ((3, 4), (Ellipsis, 0), (3,)),
    ((3, 4), (S(None), None, S(1, 3)), (3, 1, 1)),
    ((3, 4), S(None, None, -1), (1, 4)),
    ((), Ellipsis, ()),
    ((5,), [1, 1, 3], (3,)),
    ((5,), [1, 1, 3], ()),
    ((5,), MASK_5, (3,)),
    ((3, 4), (S(None), [0, 0]), (3, 2)),
    ((3, 4), (S(None), [0, 0]), (2,)),
    ((3, 4), ([0, 0, 2], [1, 1, -1]), ()),
    ((3, 4), MASK_34, ()),
    ((3, 4, 5), (0, S(None), [1, 1]), (2, 4)),
    ((3, 4, 5), ([[0], [0]], S(None), [2, 2, 2]), (4,)),
]


def _expected_write(a, index, y, set_instead_of_inc):
    out = a.copy()
    advanced = any(isinstance(i, list | np.ndarray) for i in (index if isinstance(index, tuple) else (index,)))
    if set_instead_of_inc:
        out[index] = y
    elif advanced:
        np.add.at(out, index, y)
    else:
        out[index] += y
    return out


@pytest.mark.parametrize("set_instead_of_inc", [True, False])
@pytest.mark.parametrize("shape, index, y_shape", WRITE_CASES)
def test_set_and_inc_subtensor(shape, index, y_shape, set_instead_of_inc):
    x = sg.tensor("x", "float64", (None,) * len(shape))
    y = sg.tensor("y", "float64", tuple(1 if d == 1 else None for d in y_shape))  # broadcasting is declared
    a, b = rand(shape), rand(y_shape, seed=1)
    original = a.copy()
    write = sg.set_subtensor if set_instead_of_inc else sg.inc_subtensor
    out = write(x[index], y)
    op = out.owner.op
    assert isinstance(op, AdvancedIncSubtensor if isinstance(x[index].owner.op, AdvancedSubtensor) else IncSubtensor)
    assert op.set_instead_of_inc == set_instead_of_inc
    assert out.type == x.type
    assert_op(out, _expected_write(a, index, b, set_instead_of_inc), {x: a, y: b})
    np.testing.assert_array_equal(a, original)  # the input is never written to


def test_duplicates_accumulate_for_inc_and_last_write_wins_for_set():
    x, y = sg.vector("x"), sg.vector("y")
    a, b = np.zeros(4), np.array([1.0, 2.0, 3.0])
    inc = evaluate(sg.inc_subtensor(x[[2, 2, 2]], y), {x: a, y: b})
    np.testing.assert_array_equal(inc, [0, 0, 6, 0])
    put = evaluate(sg.set_subtensor(x[[2, 2, 2]], y), {x: a, y: b})
    np.testing.assert_array_equal(put, [0, 0, 3, 0])


def test_write_with_symbolic_index_and_bounds():
    x = sg.matrix("x")
    i, j = sg.scalar("i", "int64"), sg.vector("j", "int64")
    a = rand((4, 5))
    out = sg.inc_subtensor(x[i:, j], 1.0)
    vi, vj = np.int64(1), np.array([0, 0, 4])
    expected = a.copy()
    np.add.at(expected, (slice(1, None), vj), 1.0)
    assert_op(out, expected, {x: a, i: vi, j: vj})


def test_write_on_constant_and_shared():
    c = sg.constant(np.arange(4.0))
    np.testing.assert_array_equal(sg.set_subtensor(c[1:3], 0.0).eval(), [0, 0, 0, 3])
    s = sg.shared(np.zeros(3))
    f = sg.function([], [], updates={s: sg.inc_subtensor(s[[0, 0]], 1.0)})
    f()
    f()
    np.testing.assert_array_equal(s.get_value(), [4, 0, 0])


@pytest.mark.parametrize(
    "x_dtype, y, expected_dtype",
    [("float32", 1.5, "float32"), ("float32", np.float64(1.5), "float32"), ("float64", 2, "float64"),
     ("int32", np.int64(3), "int32"), ("int8", True, "int8")],
)  # fmt: skip
def test_y_is_cast_to_x_dtype(x_dtype, y, expected_dtype):
    x = sg.vector("x", x_dtype)
    a = rand((3,), x_dtype)
    out = sg.set_subtensor(x[1], y)
    expected = a.copy()
    expected[1] = y
    assert_op(out, expected.astype(expected_dtype), {x: a})


@pytest.mark.parametrize("x_dtype, y_dtype", [("int32", "float32"), ("int64", "float64"), ("bool", "int8")])
def test_y_of_another_kind_is_an_error(x_dtype, y_dtype):
    x, y = sg.vector("x", x_dtype), sg.scalar("y", y_dtype)
    with pytest.raises(sg.SymgraphTypeError, match="cannot cast"):
        sg.inc_subtensor(x[0], y)


def test_write_errors():
    x = sg.tensor("x", shape=(3, 4))
    with pytest.raises(sg.SymgraphTypeError, match="result of indexing"):
        sg.set_subtensor(x, 1.0)
    with pytest.raises(sg.SymgraphTypeError, match="result of indexing"):
        sg.inc_subtensor(x + 1, 1.0)
    with pytest.raises(sg.SymgraphTypeError, match="result of indexing"):
        sg.set_subtensor(np.zeros(3), 1.0)
    with pytest.raises(sg.SymgraphValueError, match="does not broadcast"):
        sg.set_subtensor(x[1:], sg.tensor(shape=(3, 4)))
    with pytest.raises(sg.SymgraphValueError, match="does not broadcast"):
        sg.set_subtensor(x[0], sg.tensor(shape=(1, 4)))
    with pytest.raises(sg.SymgraphValueError, match="does not broadcast"):
        sg.inc_subtensor(x[[0, 1]], sg.tensor(shape=(3, None)))
    with pytest.raises(sg.SymgraphTypeError, match="dtype of x"):
        IncSubtensor(("i",))(x, sg.vector(dtype="float32"), 0)


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "index, error, match",
    [
        ((0, 1, 2), sg.SymgraphValueError, "too many indices"),
        ((Ellipsis, 0, 1, 2), sg.SymgraphValueError, "too many indices"),
        ((MASK_34, 0), sg.SymgraphValueError, "too many indices"),
        ((Ellipsis, Ellipsis), sg.SymgraphValueError, "single ellipsis"),
        (1.5, sg.SymgraphTypeError, "float64"),
        ([0.0, 1.0], sg.SymgraphTypeError, "float64"),
        ((S(None), np.array([1], dtype="float32")), sg.SymgraphTypeError, "float32"),
        (S(0.5, 2), sg.SymgraphTypeError, "float64"),
        (S(True, 2), sg.SymgraphTypeError, "bool"),
        ("a", sg.SymgraphTypeError, "str"),
        ({0: 1}, sg.SymgraphTypeError, "dict"),
        (3, sg.SymgraphValueError, "index 3 is out of bounds for axis 0 with size 3"),
        ((0, -5), sg.SymgraphValueError, "index -5 is out of bounds for axis 1 with size 4"),
        ([0, 3], sg.SymgraphValueError, "index 3 is out of bounds"),
        ((S(None), [[-5]]), sg.SymgraphValueError, "index -5 is out of bounds"),
        (S(None, None, 0), sg.SymgraphValueError, "step cannot be zero"),
        (np.ones((3, 5), bool), sg.SymgraphValueError, "boolean index of shape"),
        (([0, 1], [0, 1, 2]), sg.SymgraphValueError, "do not broadcast"),
        ((MASK_34[:, 0], [0, 1, 2]), sg.SymgraphValueError, "do not broadcast"),
    ],
)
def test_index_errors(index, error, match):
    x = sg.tensor("x", shape=(3, 4))
    with pytest.raises(error, match=match):
        x[index]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_variable_index_is_an_error(dtype):
    x = sg.matrix("x")
    for index in (sg.scalar(dtype=dtype), sg.vector(dtype=dtype), (0, S(sg.scalar(dtype=dtype), None))):
        with pytest.raises(sg.SymgraphTypeError, match=dtype):
            x[index]


def test_direct_op_construction_is_validated():
    x = sg.matrix("x")
    with pytest.raises(sg.SymgraphValueError, match="index inputs"):
        Subtensor(("i", "start:"))(x, 0)
    with pytest.raises(sg.SymgraphTypeError, match="array indices"):
        Subtensor(("array",))(x, [0, 1])
    with pytest.raises(sg.SymgraphTypeError, match="array indices"):
        AdvancedSubtensor(("i",))(x, 0)
    with pytest.raises(sg.SymgraphTypeError, match="0-d"):
        Subtensor(("i",))(x, [0, 1])
    with pytest.raises(sg.SymgraphTypeError, match="bool"):
        AdvancedSubtensor(("mask",))(x, [0, 1])


def test_ops_are_value_objects():
    assert Subtensor(("i", ":")) == Subtensor(("i", ":"))
    assert hash(Subtensor(("i", ":"))) == hash(Subtensor(("i", ":")))
    assert AdvancedSubtensor(("array",)) != Subtensor(("array",))
    assert IncSubtensor(("i",), True) != IncSubtensor(("i",), False)
    assert str(Subtensor(("start:stop", "newaxis"))) == "Subtensor{start:stop, newaxis}"
    assert str(AdvancedIncSubtensor(("array",), True)) == "AdvancedIncSubtensor{set, array}"


# -- take ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, indices, axis",
    [((5,), [0, 4, 4], None), ((3, 4), [3, 0], 1), ((3, 4), [[2], [0]], 0), ((3, 4), -1, -1),
     ((3, 4), [], 0), ((2, 3, 4), np.array([1, 1], dtype="int32"), -2), ((3, 4), [1, 11], None)],
)  # fmt: skip
def test_take(shape, indices, axis):
    x = sg.tensor("x", "float64", (None,) * len(shape))
    a = rand(shape)
    assert_op(sg.take(x, indices, axis), np.take(a, np.asarray(indices, dtype="int64"), axis), {x: a})


def test_take_with_symbolic_indices_and_errors():
    x, i = sg.matrix("x"), sg.vector("i", "int64")
    a, vi = rand((3, 4)), np.array([2, 0, 2])
    assert_op(sg.take(x, i, axis=0), np.take(a, vi, axis=0), {x: a, i: vi})
    with pytest.raises(sg.SymgraphTypeError, match="integer dtype"):
        sg.take(x, [True, False], axis=0)
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        sg.take(x, [0], axis=2)


def test_infer_shape_does_not_need_the_indexed_value():
    """Slice lengths come from the input's shape and the bounds only."""
    x = sg.vector("x")
    i, j, k = (sg.scalar(n, "int64") for n in "ijk")
    out = x[i:j:k]
    (length,) = sg.symbolic_shape(out)
    assert out not in sg.ancestors([length])
    for vi, vj, vk in [(1, 9, 2), (-1, 0, -3), (8, -20, -1), (0, 0, 1)]:
        assert_infer_shape(out, {x: rand((7,)), i: np.int64(vi), j: np.int64(vj), k: np.int64(vk)})


def test_mask_length_is_a_symbolic_count():
    x, m = sg.matrix("x"), sg.vector("m", "bool")
    out = x[m, 1:]
    length, width = sg.symbolic_shape(out)
    assert out not in sg.ancestors([length, width])
    assert_infer_shape(out, {x: rand((4, 3)), m: MASK_4})


def test_write_refuses_undeclared_runtime_broadcast():
    x, y = sg.matrix("x"), sg.matrix("y")
    f = sg.function([x, y], sg.inc_subtensor(x[0:2], y))
    with pytest.raises(sg.CallError, match="not declared broadcastable"):
        f(np.zeros((3, 4)), np.ones((1, 4)))
    row = sg.tensor("row", shape=(1, None))
    value = sg.function([x, row], sg.inc_subtensor(x[0:2], row))(np.zeros((3, 4)), np.ones((1, 4)))
    np.testing.assert_allclose(value, [[1.0] * 4, [1.0] * 4, [0.0] * 4])
