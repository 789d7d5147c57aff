"""The inplace rewrite (elementwise outputs overwrite dead intermediates; the update that runs last writes into
its shared storage) and the checker of the in-place contract."""

from dataclasses import dataclass

import numpy as np
import pytest

import symgraph as sg
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, constant
from symgraph.op import Op
from symgraph.ops import scalar
from symgraph.ops.elemwise import Elemwise
from symgraph.rewrite.basic import merge
from symgraph.rewrite.destroy_check import check_destroy_contract
from tests.helpers import assert_same, check_rewrite, op_names, rand

NO_FUSION = ["fast_run", "-fusion"]  # Elemwise nodes stay visible


def inplace_add(*inputs, at=0):
    return Elemwise(scalar.add, inplace=at)(*inputs)


def destroyed(f) -> list:
    """The variables the in-place nodes of a compiled function overwrite."""
    return [node.inputs[i] for node in f.fgraph.apply_nodes for i in node.op.destroy_map.values()]


def overwritten(f) -> list[str]:
    """What computes each overwritten variable: a scalar op's name, an op class name, or "input"."""
    return sorted(_label(v) for v in destroyed(f))


def _label(var) -> str:
    if var.owner is None:
        return "input"
    scalar = getattr(var.owner.op, "scalar_op", None)
    return scalar.name if scalar is not None else type(var.owner.op).__name__


def compiled(inputs, outputs, updates=None, rewrites="fast_run", on_unused_input="raise"):
    """A function whose graph satisfies the in-place contract."""
    f = sg.function(inputs, outputs, updates=updates, rewrites=rewrites, on_unused_input=on_unused_input)
    check_destroy_contract(f.fgraph)
    return f


# -- the Elemwise side of the protocol ---------------------------------------------------------------------------
def test_elemwise_inplace_variant_writes_into_its_input():
    op = Elemwise(scalar.sub)
    assert op.destroy_map == {} and op == Elemwise(scalar.sub, None) and str(op) == "Elemwise{sub}"
    variant = op.inplace_variant(0, 1)
    assert variant.destroy_map == {0: 1} and str(variant) == "Elemwise{sub,inplace1}" and variant != op
    assert variant.inplace_variant(0, 0) is None and op.inplace_variant(1, 0) is None
    x, y = sg.vector("x"), sg.vector("y")
    node = variant.make_node(x, y)
    a, b = np.array([5.0, 7.0]), np.array([1.0, 2.0])
    (out,) = variant.perform(node, [a, b])
    assert out is b and b.tolist() == [4.0, 5.0] and a.tolist() == [5.0, 7.0]


def test_replace_op_puts_a_new_node_in_the_place_of_the_old_one():
    x, y = sg.vector("x"), sg.vector("y")
    total = x + y
    fg = FunctionGraph([x, y], [sg.exp(total), total * 2.0])
    (old,) = [n for n in fg.apply_nodes if str(n.op) == "Elemwise{add}"]
    old.outputs[0].name = "total"
    new = fg.replace_op(old, old.op.inplace_variant(0, 0))
    assert old not in fg.apply_nodes and new in fg.apply_nodes and str(new.op) == "Elemwise{add,inplace0}"
    assert new.inputs == old.inputs and new.outputs[0].name == "total" and new.outputs[0].type == old.outputs[0].type
    assert sorted(str(c.op) for c, _ in fg.clients[new.outputs[0]]) == ["Elemwise{exp}", "Elemwise{mul}"]
    assert all(c == "output" or (c in fg.apply_nodes and c.inputs[i] is v) for v, cs in fg.clients.items()
               for c, i in cs)  # fmt: skip
    assert all(new in [c for c, _ in fg.clients[v]] and old not in [c for c, _ in fg.clients[v]] for v in new.inputs)
    assert not any(o in fg.clients for o in old.outputs)


def test_replace_op_of_a_node_reading_one_variable_twice_that_is_an_output():
    x = sg.vector("x")
    fg = FunctionGraph([x], [x * x])
    (old,) = fg.apply_nodes
    new = fg.replace_op(old, old.op.inplace_variant(0, 0))
    assert fg.clients[fg.inputs[0]] == [(new, 0), (new, 1)] and fg.outputs == new.outputs
    assert fg.clients[new.outputs[0]] == [("output", 0)] and fg.toposort() == [new]


def test_elemwise_inplace_input_must_hold_the_output():
    row, mat = sg.tensor("r", shape=(1, 4)), sg.tensor("m", shape=(3, 4))
    with pytest.raises(sg.SymgraphTypeError, match="cannot hold the output"):
        inplace_add(row, mat, at=0)  # it broadcasts
    with pytest.raises(sg.SymgraphTypeError, match="cannot hold the output"):
        inplace_add(sg.vector("i", "int32"), sg.vector("f"), at=0)  # another dtype
    with pytest.raises(sg.SymgraphTypeError, match="cannot hold the output"):
        inplace_add(sg.vector("a"), sg.vector("b"), at=2)
    assert inplace_add(sg.vector("u"), sg.tensor("v", shape=(5,)), at=0).type.shape == (5,)  # None never broadcasts


# -- structure and values ---------------------------------------------------------------------------------------
def test_chain_overwrites_intermediates_never_inputs():
    x, y = sg.vector("x"), sg.vector("y")
    data = {x: rand((5,)), y: rand((5,), seed=1)}
    f = check_rewrite(sg.tanh(sg.exp(x) + y), data, rewrites=NO_FUSION)
    assert [name.split(",")[0] for name in op_names(f)] == ["Elemwise{exp}", "Elemwise{add", "Elemwise{tanh"]
    assert overwritten(f) == ["add", "exp"]
    check_destroy_contract(f.fgraph)
    f = check_rewrite(sg.tanh(sg.exp(x) + y), data)  # one fused node, reading only inputs
    assert destroyed(f) == []


def test_value_read_by_two_consumers_is_overwritten_by_the_last_only():
    x = sg.vector("x")
    e = sg.exp(x)
    f = check_rewrite([sg.sin(e), sg.cos(e)], {x: rand((4,))}, rewrites=NO_FUSION)
    check_destroy_contract(f.fgraph)
    order = f.fgraph.toposort()
    exp_out = order[0].outputs[0]
    destroyers = [n for n in order if n.op.destroy_map and n.inputs[n.op.destroy_map[0]] is exp_out]
    assert len(destroyers) == 1 and destroyers[0] is order[-1]  # the other reader runs first


def test_value_that_is_also_an_output_is_not_overwritten():
    x = sg.vector("x")
    e = sg.exp(x)
    f = check_rewrite([e, e + 1.0, e * 2.0], {x: rand((4,))}, rewrites=NO_FUSION)
    assert destroyed(f) == []


def test_view_read_after_the_writer_keeps_the_value():
    x = sg.matrix("x")
    e = sg.exp(x)
    z = e + 1.0  # overwriting e here would corrupt e.T, read below by a node that needs z
    f = check_rewrite(z * e.T, {x: rand((3, 3))}, rewrites=NO_FUSION)
    assert overwritten(f) == ["add"]  # the product overwrites z, not e
    check_destroy_contract(f.fgraph)
    f = check_rewrite(z * e.T, {x: rand((3, 3))})  # one fused node reads e and e.T: neither is overwritten
    assert destroyed(f) == []


def test_node_reading_two_views_of_a_value_does_not_overwrite_it():
    x = sg.matrix("x")
    e = sg.exp(x)
    f = check_rewrite(e + e.T, {x: rand((3, 3))}, rewrites=NO_FUSION)
    assert destroyed(f) == []


def test_same_variable_read_twice_may_be_overwritten():
    x = sg.vector("x")
    e = sg.exp(x)
    f = check_rewrite(sg.maximum(e, e) - 1.0, {x: rand((4,))}, rewrites=NO_FUSION)
    assert overwritten(f) == ["exp", "maximum"]


def test_views_broadcasts_constants_and_other_dtypes_are_not_overwritten():
    v, m = sg.vector("v"), sg.matrix("m")
    b = sg.broadcast_to(sg.exp(v), (3, 4))  # a read-only view with stride 0
    f = check_rewrite(b + m, {v: rand((4,)), m: rand((3, 4))}, rewrites=NO_FUSION)
    assert destroyed(f) == []
    f = check_rewrite(sg.exp(v) + m, {v: rand((4,)), m: rand((3, 4))}, rewrites=NO_FUSION)  # exp(v) broadcasts
    assert destroyed(f) == []
    x32, x64 = sg.vector("x32", "float32"), sg.vector("x64", "float64")
    f = check_rewrite(sg.exp(x32) + x64, {x32: rand((4,), "float32"), x64: rand((4,))}, rewrites=NO_FUSION)
    assert destroyed(f) == []
    c = constant(np.arange(4.0))
    f = check_rewrite(c * v, {v: rand((4,))}, rewrites=NO_FUSION)
    assert destroyed(f) == []


def test_unknown_length_input_holds_a_known_length_output():
    u, w = sg.vector("u"), sg.tensor("w", shape=(5,))
    f = check_rewrite(sg.exp(u) + w, {u: rand((5,)), w: rand((5,), seed=1)}, rewrites=NO_FUSION)
    assert overwritten(f) == ["exp"]


def test_rounding_an_integer_gives_a_new_array():
    x = sg.vector("x", "int64")
    rounded = sg.floor(x)  # the identity on integers: overwriting it must not reach x
    data = np.arange(3)
    f = compiled([x], [rounded + 1, rounded * 2], rewrites=NO_FUSION)
    assert overwritten(f) == ["floor"]
    out = f(data)
    assert data.tolist() == [0, 1, 2] and [o.tolist() for o in out] == [[1, 2, 3], [0, 2, 4]]


def test_rewrite_can_be_excluded():
    x = sg.vector("x")
    f = sg.function([x], sg.tanh(sg.exp(x)), rewrites=["fast_run", "-inplace_elemwise"])
    assert destroyed(f) == []


def test_fused_nodes_are_written_in_place():
    x, y = sg.matrix("x"), sg.matrix("y")
    f = check_rewrite(sg.tanh(sg.dot(x, y) + 1.0) * 2.0, {x: rand((3, 4)), y: rand((4, 2))})
    assert overwritten(f) == ["Dot"]
    (writer,) = [n for n in f.fgraph.apply_nodes if n.op.destroy_map]
    assert type(writer.op).__name__ == "FusedElemwise" and "inplace" in str(writer.op)


def test_fused_node_writes_two_outputs_in_place():
    x, y, z = sg.matrix("x"), sg.matrix("y"), sg.matrix("z")
    p, q = sg.dot(x, y), sg.dot(x, z)
    s = sg.tanh(p + q)
    data = {x: rand((3, 3)), y: rand((3, 3), seed=1), z: rand((3, 3), seed=2)}
    f = check_rewrite([sg.dot(s * p, y), sg.dot(s * q, z)], data)
    (writer,) = [n for n in f.fgraph.apply_nodes if n.op.destroy_map]
    assert len(writer.outputs) == 2 and sorted(writer.op.destroy_map.items()) in ([(0, 0), (1, 1)], [(0, 1), (1, 0)])
    check_destroy_contract(f.fgraph)


# -- function inputs and shared variables -----------------------------------------------------------------------
def test_function_inputs_and_shared_variables_not_updated_are_never_mutated():
    x, y = sg.matrix("x"), sg.vector("y")
    s = sg.shared(rand((3, 3), seed=2), "s")
    before = s.get_value()
    outputs = [sg.exp(x) * y + s, sg.tanh(x + s) - y, (x * s).sum(axis=0) + y, x * x, sg.dot(x, s) + s]
    f = compiled([x, y], outputs)
    assert "Dot" in overwritten(f) and "input" not in overwritten(f)
    a, b = rand((3, 3)), rand((3,), seed=1)
    a0, b0 = a.copy(), b.copy()
    for _ in range(2):
        f(a, b)
    assert (a == a0).all() and (b == b0).all() and (s.get_value(borrow=True) == before).all()
    assert not set(destroyed(f)) & set(f.fgraph.inputs)


def test_updates_are_written_into_the_shared_storage():
    x = sg.vector("x")
    w = sg.shared(np.zeros(3), "w")
    f = compiled([x], (w * x).sum(), updates=[(w, w - 0.5 * x)])
    assert destroyed(f) == [f.fgraph.inputs[1]]
    storage = w.get_value(borrow=True)
    data = np.array([1.0, 2.0, 3.0])
    expected = np.zeros(3)
    for _ in range(3):
        assert f(data) == pytest.approx((expected * data).sum())
        expected = expected - 0.5 * data
        assert w.get_value(borrow=True) is storage
        np.testing.assert_array_equal(storage, expected)


def test_only_the_update_that_runs_last_is_written_in_place():
    """Another node that could fail must not run after shared storage changed: one update is in place."""
    x = sg.vector("x")
    w, count = sg.shared(np.zeros(3), "w"), sg.shared(np.int64(0), "count")
    f = compiled([x], (w * x).sum(), updates=[(w, w - 0.5 * x), (count, count + 1)])
    [target] = destroyed(f)
    assert target in f.fgraph.inputs[1:] and f.fgraph.toposort()[-1].op.destroy_map
    for step in range(3):
        f(np.ones(3))
        np.testing.assert_array_equal(w.get_value(), np.full(3, -0.5 * (step + 1)))
        assert count.get_value() == step + 1


def test_update_read_by_another_node_is_not_in_place():
    w = sg.shared(np.array([1.0, 2.0]), "w")
    new = w * 2.0
    f = compiled([], new.sum(), updates={w: new})
    assert destroyed(f) == []
    assert f() == 6.0 and w.get_value().tolist() == [2.0, 4.0]


def test_shared_read_by_an_output_and_updated():
    w = sg.shared(np.arange(4.0), "w")
    f = compiled([], [w * 2.0, w.sum()], updates={w: w + 1.0})
    storage = w.get_value(borrow=True)
    doubled, total = f()
    assert doubled.tolist() == [0.0, 2.0, 4.0, 6.0] and total == 6.0
    assert w.get_value(borrow=True) is storage and storage.tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("output", [lambda w: w, lambda w: w.T, lambda w: w[1:]])
def test_shared_variable_returned_or_viewed_as_output_is_not_updated_in_place(output):
    w = sg.shared(np.arange(4.0).reshape(2, 2), "w")
    f = compiled([], output(w), updates={w: w * 10.0})
    assert destroyed(f) == []
    out = f()
    np.testing.assert_array_equal(out, output(np.arange(4.0).reshape(2, 2)))
    np.testing.assert_array_equal(w.get_value(), np.arange(4.0).reshape(2, 2) * 10)


def test_update_reading_a_view_of_its_own_storage_is_not_in_place():
    start = np.arange(4.0).reshape(2, 2)
    w = sg.shared(start, "w")
    f = compiled([], [], updates={w: w - w.T}, rewrites=NO_FUSION)
    assert destroyed(f) == []
    f()
    np.testing.assert_array_equal(w.get_value(), start - start.T)


def test_update_that_is_also_an_output_returns_a_copy():
    x = sg.vector("x")
    w = sg.shared(np.ones(3), "w")
    new = w - x
    f = compiled([x], new, updates={w: new})
    assert destroyed(f) == [f.fgraph.inputs[1]]
    out = f(np.ones(3))
    assert out is not w.get_value(borrow=True)
    out[0] = 100.0
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))
    np.testing.assert_array_equal(f(np.ones(3)), -np.ones(3))


def test_swap_and_cross_updates_stay_correct_and_unaliased():
    a, b = sg.shared(np.array([1.0, 2.0]), "a"), sg.shared(np.array([3.0, 4.0]), "b")
    swap = compiled([], [], updates=[(a, b), (b, a)])
    swap()
    assert a.get_value().tolist() == [3.0, 4.0] and b.get_value().tolist() == [1.0, 2.0]
    cross = compiled([], [], updates=[(a, b + 1.0), (b, a * 2.0)])
    assert destroyed(cross) == []  # a's storage may only receive a's update
    cross()
    assert a.get_value().tolist() == [2.0, 3.0] and b.get_value().tolist() == [6.0, 8.0]
    assert not np.may_share_memory(a.get_value(borrow=True), b.get_value(borrow=True))


def test_two_variables_updated_with_the_same_value():
    w, v = sg.shared(np.ones(2), "w"), sg.shared(np.zeros(2), "v")
    new = w * 3.0
    f = compiled([], [], updates=[(w, new), (v, new)])
    f()
    f()
    assert w.get_value().tolist() == [9.0, 9.0] and v.get_value().tolist() == [9.0, 9.0]
    assert not np.may_share_memory(w.get_value(borrow=True), v.get_value(borrow=True))


def test_update_to_another_shared_value_does_not_alias_their_storage():
    a, b = sg.shared(np.array([1.0, 2.0]), "a"), sg.shared(np.array([3.0, 4.0]), "b")
    compiled([], [], updates={a: b})()
    compiled([], [], updates={b: b + 1.0})()  # in place: a must not see it
    assert a.get_value().tolist() == [3.0, 4.0] and b.get_value().tolist() == [4.0, 5.0]


def test_update_whose_reader_comes_later_in_the_first_order():
    w, v = sg.shared(np.array([1.0, 2.0]), "w"), sg.shared(np.array([0.0, 0.0]), "v")
    f = compiled([], [], updates=[(w, w - 1.0), (v, sg.zeros_like(v) + w.sum())])
    assert [v.name for v in destroyed(f) if v in f.fgraph.inputs] == ["w"]  # v's update overwrites a fresh array
    f()
    assert w.get_value().tolist() == [0.0, 1.0] and v.get_value().tolist() == [3.0, 3.0]


def test_update_read_again_by_a_node_needing_the_old_value_is_not_in_place():
    w = sg.shared(np.array([1.0, 2.0]), "w")
    new = w * 2.0
    f = compiled([], new + w, updates={w: new}, rewrites=NO_FUSION)  # the add reads old w after new
    assert destroyed(f) == []
    assert f().tolist() == [3.0, 6.0] and w.get_value().tolist() == [2.0, 4.0]
    f = compiled([], new + w, updates={w: new})  # one fused node computes both from w: it may overwrite w
    assert overwritten(f) == ["input"]
    assert f().tolist() == [6.0, 12.0] and w.get_value().tolist() == [4.0, 8.0]


def test_argument_sharing_updated_storage_is_read_unchanged():
    x = sg.vector("x")
    w, v = sg.shared(np.array([1.0, 2.0]), "w"), sg.shared(np.zeros(2), "v")
    f = compiled([x], x * 2.0 + v, updates={w: w + 1.0})
    storage = w.get_value(borrow=True)
    np.testing.assert_array_equal(f(storage), [2.0, 4.0])  # the old value of w, passed as x
    assert storage.tolist() == [1.0, 2.0] and w.get_value().tolist() == [2.0, 3.0]
    v.set_value(w.get_value(borrow=True), borrow=True)  # v and w share memory
    np.testing.assert_array_equal(f(np.zeros(2)), [2.0, 3.0])
    assert v.get_value().tolist() == [2.0, 3.0] and w.get_value().tolist() == [3.0, 4.0]
    storage = w.get_value(borrow=True)
    np.testing.assert_array_equal(f(storage[::-1]), [10.0, 9.0])  # a view of it (old w: [3, 4])
    assert w.get_value().tolist() == [4.0, 5.0]
    buffer = bytearray(16)
    w.set_value(np.frombuffer(buffer), borrow=True)
    v.set_value(np.frombuffer(buffer), borrow=True)  # two arrays on one buffer
    np.testing.assert_array_equal(f(np.zeros(2)), [0.0, 0.0])
    assert v.get_value().tolist() == [0.0, 0.0] and w.get_value().tolist() == [1.0, 1.0]
    readonly = np.array([0.0, 0.0])
    readonly.flags.writeable = False
    w.set_value(readonly, borrow=True)
    f(np.zeros(2))
    assert w.get_value().tolist() == [1.0, 1.0] and readonly.tolist() == [0.0, 0.0]


def test_failed_call_leaves_shared_storage_unchanged_before_the_updates():
    x, y = sg.vector("x"), sg.vector("y")
    w = sg.shared(np.array([1.0, 2.0]), "w")
    f = compiled([x, y], (x + y).sum(), updates={w: w * 2.0})
    order = f.fgraph.toposort()
    assert order[-1].op.destroy_map  # in-place updates run last
    with pytest.raises(sg.CallError):
        f(np.ones(2), np.ones(3))
    assert w.get_value().tolist() == [1.0, 2.0]


def test_failed_update_changes_no_shared_variable():
    y = sg.vector("y")
    w, v = sg.shared(np.array([1.0, 2.0]), "w"), sg.shared(np.array([5.0, 5.0]), "v")
    f = compiled([y], [], updates=[(w, w * 2.0), (v, v + y)])
    with pytest.raises(sg.CallError):
        f(np.ones(3))
    assert v.get_value().tolist() == [5.0, 5.0]
    assert w.get_value().tolist() == [1.0, 2.0]
    f(np.ones(2))
    assert v.get_value().tolist() == [6.0, 6.0]


# -- a training step --------------------------------------------------------------------------------------------
def mlp_step(rewrites):
    rng = np.random.default_rng(0)
    x, t = sg.matrix("x"), sg.vector("t", "int64")
    params = [
        sg.shared(rng.normal(size=(5, 6)), "w1"), sg.shared(np.zeros(6), "b1"),
        sg.shared(rng.normal(size=(6, 3)), "w2"), sg.shared(np.zeros(3), "b2"),
    ]  # fmt: skip
    w1, b1, w2, b2 = params
    hidden = sg.tanh(sg.dot(x, w1) + b1)
    cost = sg.nnet.categorical_crossentropy(sg.nnet.softmax(sg.dot(hidden, w2) + b2), t).mean()
    grads = sg.grad(cost, params)
    step = compiled([x, t], cost, [(p, p - 0.1 * g) for p, g in zip(params, grads)], rewrites)
    return step, params


def test_mlp_training_step_updates_in_place():
    step, params = mlp_step("fast_run")
    text = sg.debugprint(step, file="str")
    updates = [line for line in text.splitlines() if " <- " in line]
    assert len(updates) == 4 and all("inplace" in line for line in updates), text  # into shared storage or a gradient
    assert len([v for v in destroyed(step) if v in step.fgraph.inputs]) == 1  # the update that runs last
    reference, ref_params = mlp_step(None)
    storage = [p.get_value(borrow=True) for p in params]
    step(np.zeros((1, 5)), np.zeros(1, np.int64))
    in_place = [s is p.get_value(borrow=True) for p, s in zip(params, storage)]
    assert sum(in_place) == 1
    reference(np.zeros((1, 5)), np.zeros(1, np.int64))
    storage = [p.get_value(borrow=True) for p in params]
    rng = np.random.default_rng(1)
    data, targets = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    kept = data.copy()
    for _ in range(3):
        assert_same(reference(data, targets), step(data, targets))
        for p, q, s, kept_storage in zip(params, ref_params, storage, in_place):
            assert (p.get_value(borrow=True) is s) == kept_storage
            assert_same(q.get_value(), p.get_value())
    assert (data == kept).all()


# -- random graphs ----------------------------------------------------------------------------------------------
UNARY = ["exp", "tanh", "neg", "sin", "sigmoid", "abs"]
BINARY = ["add", "sub", "mul", "maximum"]


def random_graph(seed):
    """A random elementwise graph with reused values, transposed views, outputs among the intermediates and
    updates of shared variables (some read by the other updates)."""
    rng = np.random.default_rng(seed)
    x = sg.matrix("x")
    row = sg.tensor("row", shape=(1, None))
    w, v, s = (sg.shared(rng.uniform(-1, 1, (3, 3)), n) for n in "wvs")
    values = [x, row, w, v, s]
    for _ in range(rng.integers(3, 12)):
        kind = rng.random()
        pick = values[rng.integers(len(values))]
        if kind < 0.35:
            values.append(getattr(sg, UNARY[rng.integers(len(UNARY))])(pick))
        elif kind < 0.45:
            values.append(pick.T)
        else:
            other = values[rng.integers(len(values))]
            values.append(getattr(sg, BINARY[rng.integers(len(BINARY))])(pick, other))
    values = [sg.broadcast_to(val, (3, 3)) if val.type.shape[0] == 1 else val for val in values]
    chosen = rng.choice(len(values), size=3)
    outputs = [values[i] for i in chosen[:2]] + [values[-1]]
    updates = [(w, values[rng.integers(len(values))])]
    if rng.random() < 0.5:
        updates.append((v, values[rng.integers(len(values))]))
    return [x, row], outputs, updates, (w, v, s)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_keep_the_contract_and_the_values(seed):
    args = [rand((3, 3), seed=seed), rand((1, 3), seed=seed + 1)]
    kept = [a.copy() for a in args]
    results = {}
    for rewrites in (None, NO_FUSION, "fast_run"):
        inputs, outputs, updates, shared = random_graph(seed)
        s_storage = shared[2].get_value(borrow=True).copy()
        f = compiled(inputs, outputs, updates, rewrites, on_unused_input="ignore")
        history = []
        for _ in range(2):
            history.append(f(*args))
            history.append([var.get_value() for var in shared])
        results[str(rewrites)] = history
        assert all((a == k).all() for a, k in zip(args, kept))
        np.testing.assert_array_equal(shared[2].get_value(borrow=True), s_storage)
    assert_same(results["None"], results[str(NO_FUSION)])
    assert_same(results["None"], results["fast_run"])


# -- the checker on hand-built graphs ---------------------------------------------------------------------------
def test_checker_accepts_a_valid_graph_and_the_order_puts_readers_first():
    x = sg.vector("x")
    e = sg.exp(x)
    twice = e * 2.0
    fg = FunctionGraph([x], [inplace_add(e, 1.0), twice], clone=False)
    order = fg.toposort()
    assert order.index(twice.owner) < order.index(fg.outputs[0].owner)
    check_destroy_contract(fg)
    bad = [e.owner, fg.outputs[0].owner, twice.owner]
    with pytest.raises(sg.SymgraphError, match=r"reads .* after .* overwrote it"):
        check_destroy_contract(fg, bad)
    with pytest.raises(sg.SymgraphError, match="before it is computed"):
        check_destroy_contract(fg, [twice.owner, e.owner, fg.outputs[0].owner])


def test_checker_rejects_overwriting_inputs_and_constants():
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphError, match="overwrites function input 0"):
        check_destroy_contract(FunctionGraph([x], [inplace_add(x, 1.0)]))
    with pytest.raises(sg.SymgraphError, match="overwrites the constant"):
        check_destroy_contract(FunctionGraph([x], [inplace_add(constant(np.zeros(2)), x)]))


def test_checker_rejects_overwriting_shared_storage_except_by_its_update():
    x, w = sg.vector("x"), sg.vector("w")  # w stands for a shared variable's storage
    into_w = inplace_add(w, x)
    fg = FunctionGraph([x, w], [into_w], clone=False)
    with pytest.raises(sg.SymgraphError, match="only an updated shared variable"):
        check_destroy_contract(fg)  # not updated
    fg = FunctionGraph([x, w], [into_w, x * 2.0], clone=False)
    fg.update_map = {1: 1}  # w's update is the other output
    with pytest.raises(sg.SymgraphError, match="only an updated shared variable"):
        check_destroy_contract(fg)
    fg = FunctionGraph([x, w], [x * 2.0, into_w], clone=False)
    fg.update_map = {1: 1}
    check_destroy_contract(fg)


def test_checker_rejects_outputs_sharing_overwritten_memory():
    x = sg.matrix("x")
    e = sg.exp(x)
    for alias in (e, e.T, e[0]):
        with pytest.raises(sg.SymgraphError, match="shares memory that .* overwrote"):
            check_destroy_contract(FunctionGraph([x], [inplace_add(e, 1.0), alias]))


def test_checker_rejects_a_view_read_after_the_write_and_two_writers():
    x = sg.matrix("x")
    e = sg.exp(x)
    t = e.T
    written = inplace_add(e, 1.0)
    product = written * t  # needs the write, and reads e through t: no valid order
    fg = FunctionGraph([x], [product], clone=False)
    with pytest.raises(sg.SymgraphError, match="cycle"):
        check_destroy_contract(fg)
    with pytest.raises(sg.SymgraphError, match=r"reads .* after .* overwrote it"):
        check_destroy_contract(fg, [e.owner, t.owner, written.owner, product.owner])
    other = Elemwise(scalar.mul, inplace=0)(e, 2.0)
    fg = FunctionGraph([x], [written, other], clone=False)
    with pytest.raises(sg.SymgraphError):
        check_destroy_contract(fg)
    with pytest.raises(sg.SymgraphError, match=r"reads .* after .* overwrote it"):
        check_destroy_contract(fg, [e.owner, written.owner, other.owner])


def test_checker_rejects_a_writer_reading_another_view():
    x = sg.matrix("x")
    e = sg.exp(x)
    with pytest.raises(sg.SymgraphError, match="while reading"):
        check_destroy_contract(FunctionGraph([x], [inplace_add(e, e.T)]))


def test_checker_rejects_two_outputs_written_into_one_memory():
    @dataclass(frozen=True)
    class TwoWrites(Op):
        destroy_map = {0: 0, 1: 1}

        def make_node(self, a, b):
            return Apply(self, [a, b], [a.type, b.type])

    x = sg.vector("x")
    e = sg.exp(x)
    with pytest.raises(sg.SymgraphError, match="writes two outputs into the memory"):
        check_destroy_contract(FunctionGraph([x], TwoWrites()(e, e)))


def test_merge_does_not_merge_overwritten_values():
    x = sg.vector("x")
    e1, e2 = sg.exp(x), sg.exp(x)
    fg = FunctionGraph([x], [inplace_add(e1, 1.0), Elemwise(scalar.mul, inplace=0)(e2, 2.0)], clone=False)
    assert merge(fg) == 0
    check_destroy_contract(fg)
    plain = FunctionGraph([x], [e1 + 1.0, e2 * 2.0])
    assert merge(plain) == 1
