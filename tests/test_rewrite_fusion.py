"""The fusion rewrites: graph structure after them, and values equal to the unrewritten graph."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.fgraph import FunctionGraph
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.fused import FusedElemwise
from symgraph.ops.reduce import Reduce
from symgraph.ops.shape import DimShuffle
from symgraph.rewrite import fusion, rewrite_graph
from tests.helpers import assert_same, check_rewrite, rand

FUSION = ["fusion"]  # both fusion passes, nothing else


def nodes(f):
    return f.fgraph.toposort()


def steps(node):
    return [s.op.name for s in node.op.program.steps]


def test_chain_becomes_one_node():
    x = sg.vector("x")
    f = check_rewrite(sg.exp(-(x**2)) * sg.sin(3 * x) + sg.log1p(abs(x)), {x: rand((7,))}, rewrites=FUSION)
    [node] = nodes(f)
    assert steps(node) == ["pow", "neg", "exp", "mul", "sin", "mul", "abs", "log1p", "add"]
    assert str(node.op) == "Fused{exp(-i0**i1)*sin(i2*i0)+log1p(abs(i0))}"
    default = check_rewrite(sg.exp(-(x**2)) * sg.sin(3 * x) + sg.log1p(abs(x)), {x: rand((7,))})
    assert [type(n.op) for n in nodes(default)] == [FusedElemwise]


def test_diamond_and_multiple_outputs():
    x, y = sg.matrix("x"), sg.matrix("y")
    e = sg.exp(x * y)
    outs = [sg.sin(e) + sg.cos(e), e, e * 2]
    f = check_rewrite(outs, {x: rand((2, 3), seed=1), y: rand((2, 3), seed=2)}, rewrites=FUSION)
    [node] = nodes(f)
    assert sorted(steps(node)) == sorted(["mul", "exp", "sin", "cos", "add", "mul"])
    assert len(node.outputs) == 3 and set(f.fgraph.outputs) == set(node.outputs)


def test_broadcasting_inputs_stay_inputs():
    x, b, s = sg.matrix("x"), sg.matrix("b", shape=(1, None)), sg.scalar("s")
    out = sg.tanh(x * sg.exp(b) + s) * x
    f = check_rewrite(out, {x: rand((3, 4), seed=1), b: rand((1, 4), seed=2), s: rand((), seed=3)}, rewrites=FUSION)
    exp_b, fused_node = nodes(f)
    assert str(exp_b.op) == "Elemwise{exp}"  # a row: computed once, not once per row of x
    assert steps(fused_node) == ["mul", "add", "tanh", "mul"]
    assert set(fused_node.inputs) == {f.fgraph.inputs[0], exp_b.outputs[0], f.fgraph.inputs[2]}


def test_members_with_different_runtime_lengths_stay_apart():
    s, x, y = sg.vector("s", shape=(1,)), sg.vector("x"), sg.vector("y")
    e = sg.exp(s)  # feeds two sums that have unrelated lengths at run time
    f = check_rewrite([sg.sin(e + x), sg.cos(e + y)], {s: rand((1,)), x: rand((3,)), y: rand((5,))}, rewrites=FUSION)
    assert [type(n.op) for n in nodes(f)] == [Elemwise, FusedElemwise, FusedElemwise]


def test_reduction_fed_by_a_chain_is_one_node():
    x, y = sg.matrix("x"), sg.matrix("y", shape=(1, None))
    out = sg.sum(sg.square(x * y + 1), axis=1)
    f = check_rewrite(out, {x: rand((3, 4), seed=1), y: rand((1, 4), seed=2)}, rewrites=FUSION)
    [node] = nodes(f)
    [output] = node.op.program.outputs
    assert (output.reduce, output.axes, steps(node)) == ("sum", (1,), ["mul", "add", "square"])
    assert f.rewrite_report.counts["reduction_fusion"] == 1


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min", "all", "any"])
def test_every_reduction_kind_fuses(kind):
    x = sg.tensor3("x", "int16")
    out = getattr(sg, kind)(x % 3 - 1, axis=(0, 2))
    f = check_rewrite(out, {x: rand((2, 3, 4), "int16")}, rewrites=FUSION)
    [node] = nodes(f)
    assert node.op.program.outputs[0].reduce == kind and out.dtype == node.outputs[0].dtype


def test_lone_elemwise_feeding_reductions():
    x = sg.matrix("x")
    e = sg.exp(x)
    f = check_rewrite([sg.sum(e, axis=0), sg.max(e, axis=1, keepdims=True)], {x: rand((3, 4))}, rewrites=FUSION)
    fused_node, dimshuffle = nodes(f)
    assert {(o.reduce, o.axes) for o in fused_node.op.program.outputs} == {("sum", (0,)), ("max", (1,))}
    assert type(dimshuffle.op) is DimShuffle


def test_reduction_of_a_value_used_elsewhere_stays_separate():
    x = sg.matrix("x")
    e = sg.exp(x) * x
    f = check_rewrite([e, sg.sum(e, axis=0)], {x: rand((3, 4))}, rewrites=FUSION)
    assert [type(n.op) for n in nodes(f)] == [FusedElemwise, Reduce]


def test_lone_elemwise_stays_elemwise():
    x, y = sg.matrix("x"), sg.matrix("y")
    f = check_rewrite(sg.dot(sg.exp(x), y) + 1, {x: rand((3, 3)), y: rand((3, 3))}, rewrites=FUSION)
    assert [str(n.op) for n in nodes(f)] == ["Elemwise{exp}", "Dot", "Elemwise{add}"]


def test_non_convex_group_is_split():
    x, w = sg.matrix("x"), sg.matrix("w")
    a = sg.exp(x)
    out = sg.sin(a) * sg.dot(a, w)  # {exp, sin, mul} would need dot's result before computing it
    f = check_rewrite(out, {x: rand((3, 3), seed=1), w: rand((3, 3), seed=2)}, rewrites=FUSION)
    assert [str(n.op) for n in nodes(f)] == ["Elemwise{exp}", "Dot", "Fused{sin(i0)*i1}"]
    v = sg.tanh(x) + 1
    independent = sg.dot(w, w)  # depends on no member: the whole chain is one group
    f = check_rewrite(sg.exp(v) * independent, {x: rand((3, 3), seed=1), w: rand((3, 3), seed=2)}, rewrites=FUSION)
    assert [str(n.op) for n in nodes(f)] == ["Dot", "Fused{exp(tanh(i0)+i1)*i2}"]


def test_levels_keep_every_path_through_a_barrier_outside():
    x, w = sg.matrix("x"), sg.matrix("w")
    h = sg.tanh(x + 1)
    g = sg.dot(h, w)
    out = (1 - h * h) * g + h
    f = check_rewrite([out, g], {x: rand((3, 3), seed=1), w: rand((3, 3), seed=2)}, rewrites=FUSION)
    assert [str(n.op) for n in nodes(f)] == ["Fused{tanh(i0+i1)}", "Dot", "Fused{(i1-i0*i0)*i2+i0}"]


@pytest.mark.parametrize("n", [1, 99, 100, 101, 250])
def test_group_size_is_bounded(n):
    x = sg.vector("x")
    out = x
    for _ in range(n):
        out = sg.tanh(out)
    f = check_rewrite(out, {x: rand((5,))}, rewrites=FUSION)
    sizes = [len(node.op.program.steps) if type(node.op) is FusedElemwise else 1 for node in nodes(f)]
    assert sizes == [100] * (n // 100) + ([n % 100] if n % 100 else [])


def test_group_inputs_are_bounded():
    xs = [sg.vector(f"x{i}") for i in range(40)]
    out = xs[0]
    for x in xs[1:]:
        out = sg.exp(out) * x
    f = check_rewrite(out, {x: rand((3,), seed=i) for i, x in enumerate(xs)}, rewrites=FUSION)
    assert [len(n.inputs) for n in nodes(f)] == [32, 9]


def test_runtime_broadcast_errors_are_kept():
    x, y = sg.vector("x"), sg.vector("y")
    out = sg.exp(x) * sg.sin(y)
    for rewrites in (None, FUSION):
        f = sg.function([x, y], out, rewrites=rewrites)
        with pytest.raises(sg.CallError, match="declared broadcastable"):
            f(np.ones(1), np.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "uint8"])
def test_dtypes_are_kept(dtype):
    x, y = sg.matrix("x", dtype), sg.matrix("y", "float32")
    if dtype == "bool":
        out = sg.where(sg.logical_and(x, y > 0), y, -y) + 1
    else:
        out = sg.cast(x * x + 1, "float32") * y - sg.exp(y)
    f = check_rewrite([out, sg.sum(out, axis=0)], {x: rand((3, 4), dtype), y: rand((3, 4), "float32")}, rewrites=FUSION)
    [node] = [n for n in nodes(f) if type(n.op) is FusedElemwise]
    assert node.outputs[0].dtype == "float32"


def test_empty_and_0d():
    x, s = sg.matrix("x"), sg.scalar("s")
    out = [sg.exp(x) * s + 1, sg.sum(sg.sin(x), axis=1), sg.exp(s) * 2 + s]
    for shape in ((0, 3), (3, 0)):
        f = check_rewrite(out, {x: rand(shape), s: rand(())}, rewrites=FUSION)
        assert [type(n.op) for n in nodes(f)].count(FusedElemwise) == 3


def test_inplace_fused_update():
    w = sg.shared(rand((3, 3), seed=1), name="w")
    x = sg.matrix("x")
    g = sg.tanh(sg.dot(x, w))
    f = sg.function([x], [], updates={w: w - 0.1 * g * g})
    [update] = [n for n in nodes(f) if type(n.op) is FusedElemwise]
    assert update.op.destroy_map and "inplace" in sg.debugprint(f, file="str")
    vx, before = rand((3, 3), seed=2), w.get_value().copy()
    f(vx)
    assert_same(w.get_value(), before - 0.1 * np.tanh(vx @ before) ** 2)


def mlp_step(seed):
    """An MLP training step: tanh layers, softmax cross-entropy, SGD updates; its shared variables."""
    rng = np.random.default_rng(seed)
    x, t = sg.matrix("x"), sg.matrix("t")
    shapes = [(5, 8), (8,), (8, 8), (8,), (8, 3), (3,)]
    params = [sg.shared(rng.normal(size=s) * 0.5, name=f"p{i}") for i, s in enumerate(shapes)]
    h = x
    for w, b in zip(params[:-2:2], params[1:-2:2]):
        h = sg.tanh(sg.dot(h, w) + b)
    p = sg.nnet.softmax(sg.dot(h, params[-2]) + params[-1])
    loss = sg.nnet.categorical_crossentropy(p, t).mean()
    updates = [(q, q - 0.1 * g) for q, g in zip(params, sg.grad(loss, params))]
    return [x, t], loss, updates, params


def test_mlp_training_step_is_fused_and_unchanged():
    rng = np.random.default_rng(3)
    vx, vt = rng.normal(size=(6, 5)), np.eye(3)[rng.integers(0, 3, 6)]
    results = {}
    for rewrites in (None, "fast_run"):
        inputs, loss, updates, params = mlp_step(seed=0)
        f = sg.function(inputs, loss, updates=updates, rewrites=rewrites)
        losses = [f(vx, vt) for _ in range(3)]
        results[rewrites] = losses + [q.get_value() for q in params]
    for plain, rewritten in zip(results[None], results["fast_run"]):
        assert_same(plain, rewritten)
    text = sg.debugprint(f, file="str")
    assert text.count("Fused{") >= 8 and "Fused{tanh(i0+i1)" in text


def random_dag(x, w, n, seed=0):
    """The last of ``n`` values, each an Elemwise of recent ones or (every 97th) a product with ``w``."""
    rng = np.random.default_rng(seed)
    values = [x]
    while len(values) < n:
        a, b = (values[-1 - int(i)] for i in rng.integers(0, min(8, len(values)), 2))
        values.append(sg.dot(a, w) if len(values) % 97 == 0 else sg.tanh(a) * b if len(values) % 2 else sg.tanh(a + b))
    return values[-1]


def test_large_random_dag_fuses_correctly():
    x, w = sg.matrix("x"), sg.matrix("w")
    f = check_rewrite(random_dag(x, w, 1000), {x: rand((3, 3), seed=1), w: rand((3, 3), seed=2)}, rewrites=FUSION)
    counts = {cls: [type(n.op) for n in nodes(f)].count(cls) for cls in (FusedElemwise, Elemwise)}
    assert counts[FusedElemwise] >= 10 and counts[Elemwise] < 10


def test_ten_thousand_nodes_fuse_in_one_sweep():
    """Bounded work, asserted structurally (time is measured in bench/, never asserted here)."""
    x, w = sg.matrix("x"), sg.matrix("w")
    fgraph = FunctionGraph([x, w], [random_dag(x, w, 10_000)], clone=False)
    assert len(fgraph.apply_nodes) > 10_000
    report = rewrite_graph(fgraph, FUSION)
    assert [p.sweeps for p in report.phases] == [2] and not report.phases[0].stopped
    assert len(fgraph.apply_nodes) < 500


# -- property test: random elementwise/reduction graphs --------------------------------------------------
UNARY = ["exp", "tanh", "sin", "neg", "abs", "square", "sigmoid", "log1p"]
BINARY = ["add", "sub", "mul", "maximum", "minimum"]


@st.composite
def graphs(draw):
    """(build(leaves) -> outputs) for random DAGs of elementwise ops and reductions over leaves a, b, c."""
    recipe = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "where", "reduce", "cast"]))
        args = draw(st.lists(st.integers(0, 100), min_size=3, max_size=3))
        recipe.append((kind, draw(st.sampled_from(UNARY + BINARY + ["sum", "prod", "max"])), args))
    outputs = draw(st.lists(st.integers(0, 100), max_size=3))
    reductions = draw(st.lists(st.sampled_from([(None, "sum"), (0, "sum"), (1, "max"), (1, "prod")]), max_size=2))

    def build(leaves):
        values = list(leaves)
        for kind, name, args in recipe:
            a, b, c = (values[i % len(values)] for i in args)
            if kind == "unary":
                values.append(getattr(sg, name if name in UNARY else "tanh")(a))
            elif kind == "binary":
                values.append(getattr(sg, name if name in BINARY else "mul")(a, b))
            elif kind == "where":
                values.append(sg.where(a > b, c, a))
            elif kind == "cast":
                values.append(sg.cast(sg.cast(a, "float32") * 2, a.dtype))
            else:
                reduce = name if name in ("sum", "prod") else "max"  # max: never over the axis that may be empty
                axis = (args[0] % 2 if reduce != "max" else 1) if a.ndim == 2 else None
                values.append(getattr(sg, reduce)(a, axis, keepdims=True))
        last = values[-1]
        outs = [last] + [values[i % len(values)] for i in outputs]
        return outs + [getattr(sg, kind)(last, axis if last.ndim == 2 else None) for axis, kind in reductions]

    return build


@settings(max_examples=80, deadline=None)
@given(build=graphs(), rows=st.integers(0, 3), cols=st.integers(1, 4), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float32", "float64", "int32"]), small=st.booleans())  # fmt: skip
def test_random_graphs_fuse_to_the_same_values(build, rows, cols, dtype, seed, small):
    a = sg.matrix("a", dtype)
    b = sg.matrix("b", dtype, shape=(1, None))
    c = sg.scalar("c", dtype)
    outputs = build([a, b, c])
    givens = {a: rand((rows, cols), dtype, seed), b: rand((1, cols), dtype, seed + 1), c: rand((), dtype, seed + 2)}
    bounds = (3, 3) if small else (fusion.MAX_STEPS, fusion.MAX_INPUTS)
    with mock.patch.object(fusion, "MAX_STEPS", bounds[0]), mock.patch.object(fusion, "MAX_INPUTS", bounds[1]):
        f = check_rewrite(outputs, givens, rewrites=FUSION)
        check_rewrite(outputs, givens)
    fused_nodes = [n for n in nodes(f) if type(n.op) is FusedElemwise]
    assert all(len(n.op.program.steps) <= bounds[0] and len(n.inputs) <= bounds[1] for n in fused_nodes)
