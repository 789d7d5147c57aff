import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.linalg import Dot, MatMul
from tests.helpers import assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend


def sym(shape, dtype="float64", name="x", static=False):
    """A symbolic input: lengths unknown except 1 (declared broadcastable), or all known with ``static``."""
    return sg.tensor(name, dtype, shape=shape if static else tuple(1 if d == 1 else None for d in shape))


def pair(sa, sb, da="float64", db="float64", static=False):
    a, b = sym(sa, da, "a", static), sym(sb, db, "b", static)
    xa, xb = rand(sa, da), rand(sb, db, seed=1)
    return a, b, xa, xb, {a: xa, b: xb}


def tol(*dtypes):
    return 1e-5 if "float32" in dtypes else 1e-12


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (6, 3, 4)),
    ((2, 1, 2, 3), (1, 3, 3, 2)), ((2, 0), (0, 3)), ((0, 3), (3, 2)), ((0,), (0,)), ((0, 2, 3), (3, 4)),
    ((3, 2, 0), (3, 0, 2)),
]  # fmt: skip


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES)
def test_matmul(sa, sb, static):
    a, b, xa, xb, givens = pair(sa, sb, static=static)
    out = sg.matmul(a, b)
    if static:
        assert out.type.shape == np.matmul(xa, xb).shape
    assert_op(out, np.matmul(xa, xb), givens, rtol=1e-12)
    assert_op(a @ b, np.matmul(xa, xb), givens, rtol=1e-12)


def test_matmul_uses_dot_without_batch_axes():
    a, b = sg.matrix("a"), sg.vector("b")
    assert type(sg.matmul(a, b).owner.op) is Dot
    assert type(sg.matmul(sg.tensor3("c"), a).owner.op) is MatMul
    assert isinstance(Dot(), MatMul) and Dot() != MatMul()


DTYPE_PAIRS = [("float32", "float64"), ("float32", "float32"), ("int32", "int32"), ("int8", "uint8"),
               ("int64", "float32"), ("bool", "bool"), ("bool", "int16"), ("int8", "int8")]  # fmt: skip


@pytest.mark.parametrize("da, db", DTYPE_PAIRS)
@pytest.mark.parametrize("sa, sb", [((2, 3), (3, 4)), ((2, 2, 3), (3,)), ((3,), (3,))])
def test_matmul_dtypes(sa, sb, da, db):
    a, b, xa, xb, givens = pair(sa, sb, da, db)
    expected = np.matmul(xa, xb)
    out = sg.matmul(a, b)
    assert out.dtype == expected.dtype.name
    assert_op(out, expected, givens, rtol=tol(da, db))


DOT_SHAPES = [
    ((), ()), ((), (3,)), ((2, 3), ()), ((4,), (4,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
    ((2, 3, 4), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (6, 4, 5)), ((3,), (2, 3, 4)), ((4, 3), (2, 3, 5)),
    ((2, 1, 3, 4), (5, 4, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((2, 3, 0), (4, 0, 2)),
]  # fmt: skip


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("sa, sb", DOT_SHAPES)
def test_dot(sa, sb, static):
    a, b, xa, xb, givens = pair(sa, sb, static=static)
    out = sg.dot(a, b)
    if static:
        assert out.type.shape == np.dot(xa, xb).shape
    assert_op(out, np.dot(xa, xb), givens, rtol=1e-12)
    assert_op(a.dot(b), np.dot(xa, xb), givens, rtol=1e-12)


@pytest.mark.parametrize("da, db", DTYPE_PAIRS)
@pytest.mark.parametrize("sa, sb", [((), (3,)), ((2, 3), (3,)), ((2, 2, 3), (4, 3, 2))])
def test_dot_dtypes(sa, sb, da, db):
    a, b, xa, xb, givens = pair(sa, sb, da, db)
    expected = np.dot(xa, xb)
    assert_op(sg.dot(a, b), expected, givens, rtol=tol(da, db))


def test_dot_with_python_values():
    a = sg.vector("a", "float32")
    data = rand((3,), "float32")
    assert_op(sg.dot(a, [1.0, 2.0, 3.0]), np.dot(data, np.array([1.0, 2.0, 3.0])), {a: data}, rtol=1e-6)
    assert_op(sg.dot(2.0, a), np.dot(2.0, data), {a: data}, rtol=1e-6)


@pytest.mark.parametrize("sa, sb", [((3,), (4,)), ((2, 3), (4,)), ((), (3,)), ((0,), (3,)), ((2, 2), (3, 1, 2))])
@pytest.mark.parametrize("da, db", [("float64", "float64"), ("int8", "float32"), ("bool", "bool")])
def test_outer(sa, sb, da, db):
    a, b, xa, xb, givens = pair(sa, sb, da, db)
    assert_op(sg.outer(a, b), np.outer(xa, xb), givens, rtol=tol(da, db))
    assert sg.outer(sym(sa, static=True), sym(sb, static=True)).type.shape == np.outer(xa, xb).shape


TENSORDOT_CASES = [
    ((3, 4), (4, 5), 1), ((2, 3, 4), (3, 4, 5), 2), ((2, 3), (4, 5), 0), ((3, 4), (3, 4), 2), ((), (), 0),
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])), ((2, 3, 4), (5, 2), ([0], [1])), ((3, 4), (4, 3), (1, 0)),
    ((2, 3, 4), (4, 2, 3), ([-1, 0, 1], [0, 1, -1])), ((2, 0, 3), (0, 3, 2), ([1, 2], [0, 1])),
    ((4,), (4, 2), ([0], [0])), ((2, 3, 4, 5), (5, 4, 6), ([3, 2], [0, 1])), ((2, 3), (3, 2), ((), ())),
]  # fmt: skip


@pytest.mark.parametrize("static", [False, True])
@pytest.mark.parametrize("sa, sb, axes", TENSORDOT_CASES)
def test_tensordot(sa, sb, axes, static):
    a, b, xa, xb, givens = pair(sa, sb, static=static)
    out = sg.tensordot(a, b, axes)
    expected = np.tensordot(xa, xb, axes)
    if static:
        assert out.type.shape == expected.shape
    assert_op(out, expected, givens, rtol=1e-12)


def test_tensordot_mixed_dtypes_and_default_axes():
    a, b, xa, xb, givens = pair((2, 3, 4), (3, 4, 2), "int32", "float32")
    out = sg.tensordot(a, b)
    assert out.dtype == "float64"
    assert_op(out, np.tensordot(xa, xb), givens, rtol=1e-6)


def test_static_lengths_propagate():
    a = sg.tensor("a", shape=(None, 2, 3))
    b = sg.tensor("b", shape=(3, 4))
    assert sg.matmul(a, b).type.shape == (None, 2, 4)
    assert sg.matmul(sg.tensor("c", shape=(1, 5, 2, 3)), sg.tensor("d", shape=(7, None, 3, 4))).type.shape == (
        7, 5, 2, 4,
    )  # fmt: skip
    assert sg.matmul(sg.tensor("e", shape=(None, 2, 3)), sg.tensor("f", shape=(6, 3, 4))).type.shape == (6, 2, 4)
    assert sg.tensordot(a, sg.tensor("g", shape=(3, None, 5)), ([2], [0])).type.shape == (None, 2, None, 5)


@pytest.mark.parametrize("func, sa, sb", [
    (sg.matmul, (2, 3), (4, 5)), (sg.matmul, (3,), (4,)), (sg.matmul, (2, 2, 3), (3, 3, 4)),
    (sg.matmul, (), (3,)), (sg.matmul, (3, 3), ()), (sg.dot, (2, 3), (4,)), (sg.dot, (2, 3, 4), (2, 5, 3)),
    (sg.matmul, (2, 3, 4), (5,)), (sg.tensordot, (2, 3), (4, 3)),
])  # fmt: skip
def test_build_errors(func, sa, sb):
    a, b = sym(sa, static=True), sym(sb, static=True)
    with pytest.raises(sg.SymgraphValueError, match="inner dimensions|broadcast|at least 1 dimension|differ in length"):
        func(a, b)


def test_dot_op_refuses_batches():
    with pytest.raises(sg.SymgraphValueError, match="1-D or 2-D"):
        Dot()(sg.tensor3("a"), sg.matrix("b"))


@pytest.mark.parametrize("axes, message", [
    (3, "must be in"), (-1, "must be in"), (([0], [0, 1]), "equal length"), (([0, 0], [0, 1]), "repeated axis"),
    (([2], [0]), "out of range"), (([0], [0]), "differ in length"), ([[0], [1], [2]], "equal length"),
    ("ab", "must be an int"), (1.5, "must be an int"),
])  # fmt: skip
def test_tensordot_bad_axes(axes, message):
    a, b = sg.tensor("a", shape=(2, 3)), sg.tensor("b", shape=(3, 2))
    with pytest.raises(sg.SymgraphError, match=message):
        sg.tensordot(a, b, axes)


@pytest.mark.parametrize("func, sa, sb", [
    (sg.matmul, (2, 3), (4, 5)), (sg.matmul, (2, 2, 3), (3, 3, 4)), (sg.dot, (3,), (4,)),
    (sg.dot, (2, 3, 4), (3, 5)), (sg.tensordot, (2, 3, 4), (4, 3, 5)),
])  # fmt: skip
def test_run_time_mismatch(func, sa, sb):
    a, b, _, _, givens = pair(sa, sb)
    with pytest.raises(sg.SymgraphError):
        evaluate(func(a, b), givens)


def test_tensordot_checks_each_summed_axis_at_run_time():
    """Lengths (2, 3) against (3, 2): equal products, but NumPy refuses them, and so does tensordot."""
    a, b, _, _, givens = pair((4, 2, 3), (3, 2, 5))
    with pytest.raises(sg.SymgraphError, match="expected shape"):
        evaluate(sg.tensordot(a, b, 2), givens)


def test_batch_broadcast_must_be_declared():
    """As in Elemwise, a batch axis of run-time length 1 only broadcasts when its static length is 1."""
    a, b = sg.tensor3("a"), sg.tensor3("b")
    xa, xb = rand((1, 2, 3)), rand((4, 3, 2))
    with pytest.raises(sg.CallError, match="not declared broadcastable"):
        evaluate(sg.matmul(a, b), {a: xa, b: xb})
    a1 = sg.tensor("a1", shape=(1, None, None))
    assert_op(sg.matmul(a1, b), np.matmul(xa, xb), {a1: xa, b: xb}, rtol=1e-12)
