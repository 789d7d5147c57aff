"""sg.ifelse: lazy selection between two branches (only the taken one runs, on every backend)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from tests.helpers import assert_infer_shape, assert_same, evaluate, rand

pytestmark = pytest.mark.cross_backend

BACKENDS = ["python", "numba"]


@pytest.mark.parametrize(
    ("dtype", "true", "false"),
    [("bool", True, False), ("int8", -3, 0), ("uint8", 7, 0), ("int64", 2, 0), ("float32", 0.5, 0.0),
     ("float64", np.nan, -0.0)],
)  # fmt: skip
def test_values_for_condition_dtypes(dtype, true, false):
    c = sg.scalar("c", dtype=dtype)
    x, y = sg.matrix("x"), sg.matrix("y")
    out = sg.ifelse(c, sg.exp(x) + y, (x * y).T)
    xv, yv = rand((3, 3), seed=1), rand((3, 3), seed=2)
    for cond, expected in ((true, np.exp(xv) + yv), (false, (xv * yv).T)):
        assert_same(evaluate(out, {c: np.asarray(cond, dtype), x: xv, y: yv}), expected)


def test_list_outputs_shapes_and_types():
    c = sg.scalar("c", dtype="bool")
    x, y = sg.vector("x", shape=(3,)), sg.vector("y")
    n = sg.scalar("n", dtype="int64")
    outs = sg.ifelse(c, (x + 1, x.sum(), sg.arange(n)), [y[:2], y.prod(), sg.arange(2 * n)])
    assert isinstance(outs, list) and len(outs) == 3
    assert [o.type for o in outs] == [
        sg.vector(shape=(None,)).type, sg.scalar().type, sg.vector(dtype="int64").type,
    ]  # fmt: skip
    xv, yv = rand((3,), seed=3), rand((5,), seed=4)
    for cond in (True, False):
        givens = {c: np.asarray(cond), x: xv, y: yv, n: np.asarray(4)}
        got = evaluate(outs, givens)
        expected = [xv + 1, xv.sum(), np.arange(4)] if cond else [yv[:2], yv.prod(), np.arange(8)]
        assert_same(got, expected)
        for out in outs:
            assert_infer_shape(out, givens)
    # static lengths equal in both branches are kept
    assert sg.ifelse(c, x, x * 2).type.shape == (3,)
    assert sg.ifelse(c, x, y).type.shape == (None,)
    assert str(sg.ifelse(c, x, y, name="pick").owner.op) == "IfElse{pick}"


def test_single_list_and_dtype_unification():
    c = sg.scalar("c", dtype="int64")
    xi, xf = sg.vector("xi", dtype="int32"), sg.vector("xf", dtype="float64")
    out = sg.ifelse(c, xi, xf)
    assert out.dtype == "float64"
    assert sg.ifelse(c, [xf], [xi])[0].dtype == "float64"
    x32 = sg.vector("x32", dtype="float32")
    assert sg.ifelse(c, x32, np.zeros(2)).dtype == "float32"  # numbers and arrays take the variable's dtype
    assert sg.ifelse(c, 2, sg.scalar(dtype="int8")).dtype == "int8"
    assert sg.ifelse(c, 1.5, 2.5).dtype == sg.config.floatX
    assert sg.ifelse(c, sg.scalar(dtype="int64"), 0.5).dtype == "float64"  # 0.5 is no int: NumPy's safe cast
    givens = {c: np.asarray(0), xi: np.arange(3, dtype="int32"), xf: rand((2,), seed=5)}
    assert_same(evaluate(out, givens), givens[xf])
    givens[c] = np.asarray(1)
    assert_same(evaluate(out, givens), np.arange(3.0))


def test_shared_variables_and_constants_in_branches():
    w = sg.shared(rand((2, 3), seed=6), name="w")
    b = sg.shared(np.zeros(3), name="b")
    c, x = sg.scalar("c", dtype="bool"), sg.matrix("x")
    out = sg.ifelse(c, x @ w + b, sg.zeros((x.shape[0], 3)) + 7.0)
    xv = rand((4, 2), seed=7)
    assert_same(evaluate(out, {c: np.asarray(True), x: xv}), xv @ w.get_value())
    assert_same(evaluate(out, {c: np.asarray(False), x: xv}), np.full((4, 3), 7.0))
    assert_infer_shape(out, {c: np.asarray(False), x: xv})


def test_nested_ifelse():
    a, b = sg.scalar("a", dtype="int64"), sg.scalar("b", dtype="int64")
    x = sg.vector("x")
    out = sg.ifelse(a, sg.ifelse(b, x * 2, x[::-1]), sg.ifelse(b > 0, x.sum(keepdims=True), x[1:] - 1))
    xv = rand((4,), seed=8)
    cases = {(1, 1): xv * 2, (1, 0): xv[::-1], (0, 3): xv.sum(keepdims=True), (0, 0): xv[1:] - 1}
    for (av, bv), expected in cases.items():
        givens = {a: np.asarray(av), b: np.asarray(bv), x: xv}
        assert_same(evaluate(out, givens), expected)
        assert_infer_shape(out, givens)


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_the_taken_branch_runs(backend):
    c, x = sg.scalar("c", dtype="bool"), sg.vector("x")
    n = sg.scalar("n", dtype="int64")
    out = sg.ifelse(c, x[n] + x.reshape((n, -1)).sum(), x.sum())
    f = sg.function([c, x, n], out, backend=backend)
    xv = rand((5,), seed=9)
    assert_same(f(False, xv, 7), np.asarray(xv.sum()))  # x[7] and reshape((7, -1)) would fail
    assert_same(f(True, xv, 1), np.asarray(xv[1] + xv.sum()))
    with pytest.raises(sg.SymgraphError):
        f(True, xv, 7)
    other = sg.function([c, x, n], sg.ifelse(c, x.sum(), x[n]), backend=backend)
    assert_same(other(True, xv, 9), np.asarray(xv.sum()))
    with pytest.raises(sg.SymgraphError):
        other(False, xv, 9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_never_alias_inputs(backend):
    c, x, y = sg.scalar("c", dtype="bool"), sg.matrix("x"), sg.matrix("y")
    outs = sg.ifelse(c, [x, x.T, x, 3.0 * sg.ones((2, 2))], [y, y[:, ::-1], x, sg.constant(np.eye(2))])
    f = sg.function([c, x, y], outs, backend=backend)
    xv, yv = rand((2, 2), seed=10), rand((2, 2), seed=11)
    for cond, expected in ((True, [xv, xv.T, xv, np.full((2, 2), 3.0)]), (False, [yv, yv[:, ::-1], xv, np.eye(2)])):
        results = f(cond, xv, yv)
        assert_same(results, expected)
        for i, r in enumerate(results):
            assert r.flags.writeable
            others = [xv, yv] + results[:i]
            assert not any(np.shares_memory(r, v) for v in others), i


def test_gradient_hand_derived():
    c, x, y = sg.scalar("c", dtype="int64"), sg.vector("x"), sg.vector("y")
    out = sg.ifelse(c, x**2 + y, sg.sin(x))
    cost = (out * sg.constant(np.array([1.0, 2.0, 3.0]))).sum()
    gx, gy = sg.grad(cost, [x, y])
    xv, yv, w = rand((3,), seed=12), rand((3,), seed=13), np.array([1.0, 2.0, 3.0])
    assert_same(evaluate([gx, gy], {c: np.asarray(1), x: xv, y: yv}), [2 * xv * w, w])
    assert_same(evaluate([gx, gy], {c: np.asarray(0), x: xv, y: yv}), [np.cos(xv) * w, np.zeros(3)])


@pytest.mark.parametrize("cond", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_verify_grad_both_branches(cond, dtype):
    def fn(c, x, y):
        return sg.ifelse(c, [x * y, sg.exp(x).sum()], [x / (y * y + 1), (x * x).sum() + y[0]])

    sg.verify_grad(fn, [np.int64(cond), rand((3,), dtype, seed=14), rand((3,), dtype, seed=15)], rng=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_second_derivative_and_shared_output(backend):
    def fn(c, x):
        out = sg.ifelse(c, [sg.tanh(x), sg.tanh(x)], [x**3, x])  # both outputs read the same inner value
        return sg.grad((out[0] * out[1]).sum(), x)

    for cond in (0, 1):
        sg.verify_grad(fn, [np.int64(cond), rand((4,), seed=16)], rng=1, backend=backend)


def test_ifelse_in_function_with_updates():
    count = sg.shared(np.int64(0), name="count")
    total = sg.shared(np.zeros(2), name="total")
    x = sg.vector("x")
    big = x.sum() > 0
    new_total = sg.ifelse(big, total + x, total)
    for backend in BACKENDS:
        count.set_value(np.int64(0))
        total.set_value(np.zeros(2))
        f = sg.function([x], new_total, updates={total: new_total, count: sg.ifelse(big, count + 1, count)},
                        backend=backend)  # fmt: skip
        f(np.array([1.0, 2.0]))
        f(np.array([-5.0, 1.0]))
        f(np.array([0.5, 0.0]))
        assert_same(total.get_value(), np.array([1.5, 2.0]))
        assert int(count.get_value()) == 2


def test_shape_of_branches_with_different_lengths():
    c, x = sg.scalar("c", dtype="bool"), sg.matrix("x")
    out = sg.ifelse(c, x, sg.concatenate([x, x], axis=0))
    rows, cols = sg.symbolic_shape(out)
    assert str(rows.owner.op) == "IfElse" and str(cols.owner.op) == "ShapeI{axis=1}"  # equal lengths: no ifelse
    for cond in (True, False):
        assert_infer_shape(out, {c: np.asarray(cond), x: rand((2, 3), seed=17)})


def test_build_errors():
    c = sg.scalar("c", dtype="bool")
    x, m = sg.vector("x"), sg.matrix("m")
    with pytest.raises(sg.SymgraphTypeError, match="scalar"):
        sg.ifelse(sg.vector("v", dtype="bool"), x, x)
    with pytest.raises(sg.SymgraphTypeError, match="output 0.*dimensions"):
        sg.ifelse(c, x, m)
    with pytest.raises(sg.SymgraphTypeError, match="output 1.*casts safely"):
        sg.ifelse(c, [x, sg.vector(dtype="int64")], [x, sg.vector(dtype="float32")])
    with pytest.raises(sg.SymgraphTypeError, match="casts safely"):
        sg.ifelse(c, sg.scalar(dtype="uint64"), -1)  # -1 is not a uint64, and int64 and uint64 do not mix
    with pytest.raises(sg.SymgraphValueError, match="same number"):
        sg.ifelse(c, [x, x], [x])
    with pytest.raises(sg.SymgraphValueError, match="same number"):
        sg.ifelse(c, [], [])


def test_equal_branches_merge_into_one_node_and_different_ones_do_not():
    c, x, y = sg.scalar("c", dtype="int8"), sg.matrix("x"), sg.matrix("y")

    def choose(scale):
        return sg.ifelse(c, sg.exp(x) + y, scale * x * y)

    first, again, other = choose(2.0), choose(2.0), choose(3.0)
    assert first.owner.op is not again.owner.op
    assert first.owner.op == again.owner.op and hash(first.owner.op) == hash(again.owner.op)
    assert first.owner.op != other.owner.op
    f = sg.function([c, x, y], [first, again, other])
    assert len([n for n in f.fgraph.apply_nodes if isinstance(n.op, sg.ops.control.IfElse)]) == 2
    xv, yv = rand((3, 3), seed=1), rand((3, 3), seed=2)
    for cond, expected, expected_other in ((1, np.exp(xv) + yv, np.exp(xv) + yv), (0, 2 * xv * yv, 3 * xv * yv)):
        a, b, d = f(np.int8(cond), xv, yv)
        assert_same(expected, a)
        np.testing.assert_array_equal(a, b)
        assert_same(expected_other, d)
