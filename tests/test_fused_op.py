"""FusedElemwise on its own: values vs NumPy, dtypes, broadcasting, reductions, in-place, printing, errors."""

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops import scalar
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.fused import FusedElemwise, Output, Program, Step
from symgraph.ops.reduce import Reduce
from tests.helpers import assert_op, assert_same, rand


def fused(inputs, outputs):
    """The fused node computing ``outputs`` (built from Elemwise/Reduce graphs) from ``inputs`` and constants."""
    inputs = list(inputs) + [c for c in sg.graph_inputs(outputs) if isinstance(c, sg.Constant) and c not in inputs]
    out = FusedElemwise.from_graph(inputs, outputs)(*inputs)
    return out if isinstance(out, list) else [out]


def run(outputs, givens):
    return sg.function(list(givens), outputs, rewrites=None)(*givens.values())


def expression(x, three):
    return sg.exp(-(x * x)) * sg.sin(three * x) + sg.log1p(abs(x))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 4), (0, 4), (1, 1), ()])
def test_chain_matches_numpy(dtype, shape):
    x = sg.tensor("x", dtype, shape=(None,) * len(shape))
    three = sg.constant(np.asarray(3, dtype))
    [out] = fused([x, three], [expression(x, three)])
    v = rand(shape, dtype)
    expected = np.exp(-(v * v)) * np.sin(3 * v) + np.log1p(np.abs(v))
    assert_op(out, expected.astype(dtype), {x: v}, rtol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize(
    "static, shapes",
    [
        (((None, None), (1, None), ()), ((3, 4), (1, 4), ())),
        (((None, 1), (1, None), (None,)), ((3, 1), (1, 4), (4,))),
        (((2, 3), (3,), (1, 1)), ((2, 3), (3,), (1, 1))),
        (((None, 3), (3,), ()), ((0, 3), (3,), ())),
    ],
)
def test_broadcasting_inputs(static, shapes):
    a, b, c = (sg.tensor(name, "float64", shape=s) for name, s in zip("abc", static))
    out, total = fused([a, b, c], [sg.tanh(a * b) - c, sg.sum(a + b * c, axis=-1)])
    va, vb, vc = (rand(shape, seed=i) for i, shape in enumerate(shapes))
    givens = {a: va, b: vb, c: vc}
    assert_op(out, np.tanh(va * vb) - vc, givens, rtol=1e-12)
    loop = np.broadcast_shapes(*shapes)
    assert_op(total, np.sum(np.broadcast_to(va + vb * vc, loop), axis=-1), givens, rtol=1e-12)


@pytest.mark.parametrize(
    "build, reference, dtypes",
    [
        (lambda a, b: sg.exp(a) * b, lambda a, b: np.exp(a.astype("float32")) * b, ("int8", "float32")),
        (lambda a, b: (a + b) // 3, lambda a, b: (a + b) // 3, ("int16", "int32")),
        (lambda a, b: sg.where(a > b, a, b * b), lambda a, b: np.where(a > b, a, b * b), ("int32", "float32")),
        (lambda a, b: sg.cast(a, "float32") / b, lambda a, b: a.astype("float32") / b, ("int64", "float32")),
        (lambda a, b: sg.logical_and(a, b > 0) | a, lambda a, b: np.logical_and(a, b > 0) | a, ("bool", "uint8")),
        (lambda a, b: sg.cast(a * b, "int8") - a, lambda a, b: (a * b).astype("int8") - a, ("int8", "float64")),
        (lambda a, b: sg.floor(a) + sg.abs(b), lambda a, b: a + np.abs(b), ("int32", "int32")),
    ],
)
def test_dtypes_and_casts(build, reference, dtypes):
    a, b = sg.matrix("a", dtypes[0]), sg.matrix("b", dtypes[1])
    expr = build(a, b)
    [out] = fused([a, b], [expr])
    assert out.dtype == expr.dtype
    va, vb = rand((3, 4), dtypes[0], seed=1), rand((3, 4), dtypes[1], seed=2, low=1, high=3)
    with np.errstate(all="ignore"):
        expected = np.asarray(reference(va, vb), dtype=expr.dtype)
    assert_op(out, expected, {a: va, b: vb}, rtol=1e-6)


def test_int_floor_output_is_fresh_memory():
    a = sg.vector("a", "int32")
    floor = Step(scalar.floor, (0,), "int32", "int32")  # NumPy terms: floor of ints returns its input array
    op = FusedElemwise(Program(("int32",), (floor,), (Output(1, "int32"),)))
    va = np.arange(3, dtype="int32")
    [result] = op.perform(op.make_node(a), [va])
    assert not np.may_share_memory(result, va) and result.flags.writeable
    assert_same(run(op(a), {a: va}), va)


def test_runtime_broadcast_refused_like_elemwise():
    x, y = sg.vector("x"), sg.vector("y")
    [out] = fused([x, y], [sg.exp(x) + y])
    with pytest.raises(sg.CallError, match="declared broadcastable"):
        run(out, {x: np.ones(1), y: np.ones(3)})
    with pytest.raises(sg.CallError, match="do not broadcast"):
        run(out, {x: np.ones(2), y: np.ones(3)})
    row = sg.matrix("row", shape=(1, None))
    [ok] = fused([row, y], [sg.exp(row) + y])
    assert run(ok, {row: np.zeros((1, 3)), y: np.ones(3)}).shape == (1, 3)


def test_multiple_outputs_and_reductions():
    x, y = sg.matrix("x"), sg.matrix("y", shape=(1, None))
    t = sg.tanh(x * y)
    outs = [t, t + 1, sg.sum(t * t, axis=1), sg.max(t, axis=(0, 1)), sg.prod(x + 1, axis=0, dtype="float32")]
    got = fused([x, y], outs)
    assert [o.type for o in got] == [o.type for o in outs]
    vx, vy = rand((3, 4), seed=1), rand((1, 4), seed=2)
    tv = np.tanh(vx * vy)
    expected = [tv, tv + 1, (tv * tv).sum(1), tv.max(), np.prod(vx + 1, axis=0, dtype="float32")]
    for out, want in zip(got, expected):
        assert_op(out, want, {x: vx, y: vy}, rtol=1e-6)
    assert str(got[0].owner.op).startswith("Fused{t0=tanh(i0*i1); ")


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min", "all", "any"])
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 2), (0, 1, 2), ()])
def test_reductions(kind, axes):
    x = sg.tensor3("x", "int32")
    reduced = getattr(sg, kind)(x % 3 - 1, axis=axes)
    [out] = fused([x], [reduced])
    assert out.owner.op.program.outputs[0].reduce == kind
    v = rand((2, 3, 4), "int32")
    assert_op(out, getattr(np, kind)(v % 3 - 1, axis=axes), {x: v})
    keep = getattr(sg, kind)(x % 3 - 1, axis=axes, keepdims=True)  # keepdims: a DimShuffle after the reduction
    assert_op(keep, getattr(np, kind)(v % 3 - 1, axis=axes, keepdims=True), {x: v})


def test_reduction_over_a_broadcast_axis_counts_every_element():
    x, b = sg.matrix("x"), sg.matrix("b", shape=(1, None))
    program = Program(("float64", "float64"), (Step(scalar.exp, (1,), "float64", "float64"),),
                      (Output(2, "float64", "sum", (0,)), Output(2, "float64")))  # fmt: skip
    op = FusedElemwise(program)
    total, spread = op(x, b)
    vx, vb = rand((5, 3)), rand((1, 3))
    assert_op(total, 5 * np.exp(vb[0]), {x: vx, b: vb}, rtol=1e-12)
    assert_op(spread, np.broadcast_to(np.exp(vb), (5, 3)), {x: vx, b: vb}, rtol=1e-12)
    assert_same(run(op.to_graph([x, b]), {x: vx, b: vb}), run([total, spread], {x: vx, b: vb}))


def test_max_of_empty_axis_fails_like_numpy():
    x = sg.matrix("x")
    [out] = fused([x], [sg.max(sg.exp(x), axis=0)])
    with pytest.raises(sg.SymgraphError, match="zero-size"):
        run(out, {x: np.zeros((0, 2))})


def test_to_graph_matches_perform_and_gradient():
    x, y = sg.matrix("x"), sg.vector("y")
    three = sg.constant(3.0)
    outs = [expression(x, three) * y, sg.sum(sg.square(x - y), axis=0)]
    op = FusedElemwise.from_graph([x, y, three], outs)
    node_outs = op(x, y, three)
    expanded = op.to_graph([x, y, three])
    assert all(type(o.owner.op) in (Elemwise, Reduce) for o in expanded)
    givens = {x: rand((3, 4), seed=1), y: rand((4,), seed=2)}
    assert_same(run(node_outs, givens), run(expanded, givens))
    cost = node_outs[0].sum() + (node_outs[1] * node_outs[1]).sum()
    reference = outs[0].sum() + (outs[1] * outs[1]).sum()
    assert_same(run(sg.grad(cost, [x, y]), givens), run(sg.grad(reference, [x, y]), givens))
    sg.verify_grad(lambda a, b: sum(o.sum() for o in op(a, b, three)), list(givens.values()))


def test_gradient_skips_integer_inputs_and_outputs():
    x, k = sg.vector("x"), sg.vector("k", "int32")
    out, mask = fused([x, k], [x * k, x > k])
    gx, gk = FusedElemwise.vjp(out.owner.op, out.owner, [sg.ones_like(out), sg.ones_like(mask)])
    assert gk is None
    assert_same(run(gx, {x: rand((3,)), k: np.arange(3, dtype="int32")}), np.arange(3.0))


def test_inplace_variant_writes_into_the_input():
    x, y = sg.matrix("x"), sg.matrix("y", shape=(1, None))
    out, total = fused([x, y], [sg.exp(x) * y, sg.sum(sg.sin(x), axis=0)])
    op = out.owner.op
    assert op.inplace_variant(1, 0) is None  # a reduction
    variant = op.inplace_variant(0, 0)
    assert variant.destroy_map == {0: 0} and variant.inplace_variant(0, 1) is None
    assert "inplace o0->i0" in str(variant)
    node = variant.make_node(x, y)
    vx, vy = rand((2, 3), seed=1), rand((1, 3), seed=2)
    target = vx.copy()
    result, reduced = variant.perform(node, [target, vy])
    assert result is target
    np.testing.assert_allclose(result, np.exp(vx) * vy)
    np.testing.assert_allclose(reduced, np.sin(vx).sum(0))  # read before the input was overwritten
    with pytest.raises(sg.SymgraphTypeError, match="cannot be written into input 1"):
        op.inplace_variant(0, 1).make_node(x, y)  # y (1, ?) cannot hold a (?, ?) output
    i = sg.vector("i", "int32")
    assert FusedElemwise.from_graph([i], [sg.exp(i)]).inplace_variant(0, 0) is None  # float64 output, int32 input


def test_str_and_equality():
    x = sg.vector("x")
    three = sg.constant(3.0)
    op = FusedElemwise.from_graph([x, three], [expression(x, three)])
    assert str(op) == "Fused{exp(-(i0*i0))*sin(i1*i0)+log1p(abs(i0))}"
    assert op == FusedElemwise.from_graph([x, three], [expression(x, three)])
    assert hash(op) == hash(FusedElemwise.from_graph([x, three], [expression(x, three)]))
    y, one = sg.exp(x), sg.constant(1.0)
    shared = FusedElemwise.from_graph([x, one], [y * y - x, sg.sum(sg.cast(sg.lt(y, one), "int8"), dtype="float32")])
    assert str(shared) == "Fused{t0=exp(i0); t0*t0-i0, sum{0:float32}(cast{int8}(t0<i1))}"


def test_infer_shape_with_static_lengths():
    x, y = sg.tensor("x", shape=(None, 3)), sg.tensor("y", shape=(2, 1))
    out, total = fused([x, y], [x + y, sg.sum(x * y, axis=1)])
    assert out.type.shape == (2, 3) and total.type.shape == (2,)
    assert sg.symbolic_shape(out) == (2, 3)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(steps=(Step(scalar.exp, (1,), "float64", "float64"),)), "only slots < 1"),
        (dict(steps=(Step(scalar.exp, (0,), "float32", "float32"),)), "computes in float64"),
        (dict(steps=(Step(scalar.add, (0,), "float64", "float64"),)), "1 arguments"),
        (dict(steps=(Step("exp", (0,), "float64", "float64"),)), "not a ScalarOp"),
        (dict(steps=(Step(scalar.invert, (0,), "float64", "float64"),)), "invert"),
        (dict(outputs=(Output(0, "float64"),)), "not a step's"),
        (dict(outputs=()), "one or more outputs"),
        (dict(outputs=(Output(1, "float64"), Output(1, "float64"))), "all different"),
        (dict(outputs=(Output(1, "float32"),)), "has dtype float32"),
        (dict(outputs=(Output(1, "float64", "mean", (0,)),)), "reduces"),
        (dict(outputs=(Output(1, "float64", None, (0,)),)), "reduces"),
        (dict(outputs=(Output(1, "float64", "sum", (1, 0)),)), "sorted"),
        (dict(outputs=(Output(1, "float64", "all", (0,)),)), "has dtype"),
        (dict(input_dtypes=("float16",)), "input dtypes"),
    ],
)
def test_invalid_programs(change, message):
    """Each case changes one field of a valid program (exp of a float64 input)."""
    base = dict(input_dtypes=("float64",), steps=(Step(scalar.exp, (0,), "float64", "float64"),),
                outputs=(Output(1, "float64"),))  # fmt: skip
    with pytest.raises(sg.SymgraphValueError, match=message):
        Program(**{**base, **change})


def test_bad_builds():
    x, i = sg.vector("x"), sg.vector("i", "int32")
    op = FusedElemwise.from_graph([x], [sg.sum(sg.exp(x), axis=0)])
    with pytest.raises(sg.SymgraphTypeError, match="dtypes"):
        op(i)
    with pytest.raises(sg.SymgraphTypeError, match="dtypes"):
        op(x, x)
    with pytest.raises(sg.SymgraphValueError, match="out of range"):
        op(sg.scalar("s"))
    y = sg.vector("y")
    pair = FusedElemwise.from_graph([x, y], [x + y])
    with pytest.raises(sg.SymgraphValueError, match="do not broadcast"):
        pair(sg.tensor("a", shape=(2,)), sg.tensor("b", shape=(3,)))
    with pytest.raises(sg.SymgraphValueError, match="invalid inplace"):
        FusedElemwise(pair.program, ((0, 0), (0, 1)))(x, y)
    with pytest.raises(sg.SymgraphValueError, match="not among the inputs"):
        FusedElemwise.from_graph([x], [x + y])
    with pytest.raises(sg.SymgraphValueError, match="cannot fuse"):
        FusedElemwise.from_graph([x], [sg.exp(x[1:])])
    with pytest.raises(sg.SymgraphValueError, match="computed from the inputs"):
        FusedElemwise.from_graph([x], [y])
    with pytest.raises(sg.SymgraphValueError, match="not a step's"):
        FusedElemwise.from_graph([x], [x])
