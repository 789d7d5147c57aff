"""A call that fails changes no shared variable, on every backend; ``on_unused_input``; ``eval``'s cache; inner
graphs rewritten with the function's own selection."""

import warnings

import numpy as np
import pytest

import symgraph as sg
from symgraph.rewrite.destroy_check import check_destroy_contract

BACKENDS = ["python", "numba"]


def destroyed_inputs(f) -> list[str]:
    """Names of the function inputs (shared storage) that in-place nodes overwrite."""
    return [
        node.inputs[i].name
        for node in f.fgraph.apply_nodes
        for i in node.op.destroy_map.values()
        if f.fgraph.view_base(node.inputs[i]) in f.fgraph.input_set
    ]


# -- a failed call changes nothing --------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_update_breaking_a_static_shape_changes_no_shared_variable(backend):
    x = sg.vector("x")
    counter = sg.shared(np.int64(0), "counter")
    w = sg.shared(np.arange(3.0), "w", shape=(3,))
    v = sg.shared(np.ones(3), "v")
    f = sg.function([x], [], updates=[(counter, counter + 1), (v, v * 2.0), (w, x)], backend=backend)
    with pytest.raises(sg.CallError, match=r"update of shared variable 'w'.*expected length 3 on axis 0"):
        f(np.ones(4))
    assert counter.get_value() == 0
    np.testing.assert_array_equal(v.get_value(), np.ones(3))
    np.testing.assert_array_equal(w.get_value(), np.arange(3.0))
    f(np.full(3, 7.0))
    assert counter.get_value() == 1
    np.testing.assert_array_equal(w.get_value(), np.full(3, 7.0))
    np.testing.assert_array_equal(v.get_value(), np.full(3, 2.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_failing_after_the_update_changes_no_shared_variable(backend):
    """The index read depends on the updated value: out of bounds on the third call."""
    table = sg.vector("table")
    position = sg.shared(np.array([0, 0]), "position")
    moved = position + 1
    f = sg.function([table], table[moved[0]], updates={position: moved}, backend=backend)
    check_destroy_contract(f.fgraph)
    assert destroyed_inputs(f) == []  # its reader runs after it: the update is not written in place
    data = np.array([10.0, 20.0])
    assert f(data) == 20.0
    with pytest.raises((sg.CallError, IndexError, sg.SymgraphError)):
        f(data)
    np.testing.assert_array_equal(position.get_value(), [1, 1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_failure_in_a_later_update_changes_no_shared_variable(backend):
    y = sg.vector("y")
    w, v = sg.shared(np.array([1.0, 2.0]), "w"), sg.shared(np.array([5.0, 5.0]), "v")
    f = sg.function([y], [], updates=[(w, w * 2.0), (v, v + y)], backend=backend)
    assert len(destroyed_inputs(f)) <= 1
    with pytest.raises(sg.CallError):
        f(np.ones(3))
    assert w.get_value().tolist() == [1.0, 2.0] and v.get_value().tolist() == [5.0, 5.0]
    f(np.ones(2))
    assert w.get_value().tolist() == [2.0, 4.0] and v.get_value().tolist() == [6.0, 6.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_step_failing_on_bad_data_changes_no_parameter(backend):
    rng = np.random.default_rng(0)
    x, t = sg.matrix("x"), sg.vector("t", "int64")
    params = [sg.shared(rng.normal(size=(4, 3)), "w"), sg.shared(np.zeros(3), "b")]
    cost = sg.nnet.categorical_crossentropy(sg.nnet.softmax(sg.dot(x, params[0]) + params[1]), t).mean()
    step = sg.function([x, t], cost, updates=[(p, p - 0.1 * g) for p, g in zip(params, sg.grad(cost, params))],
                       backend=backend)  # fmt: skip
    before = [p.get_value() for p in params]
    with pytest.raises(sg.SymgraphError):
        step(rng.normal(size=(5, 4)), np.array([0, 1, 2, 0]))  # 4 targets for 5 rows
    for p, old in zip(params, before):
        np.testing.assert_array_equal(p.get_value(), old)
    step(rng.normal(size=(5, 4)), np.array([0, 1, 2, 0, 1]))
    assert not np.array_equal(params[0].get_value(), before[0])


# -- on_unused_input ----------------------------------------------------------------------------------------------
def test_unused_input_raises_by_default_naming_it():
    x, unused = sg.vector("x"), sg.vector("unused")
    with pytest.raises(sg.UnusedInputError, match=r"input 1 \(unused"):
        sg.function([x, unused], x * 2)


def test_unused_input_warns_or_is_ignored_on_request():
    x, unused = sg.vector("x"), sg.vector("unused")
    with pytest.warns(UserWarning, match="unused"):
        f = sg.function([x, unused], x * 2, on_unused_input="warn")
    np.testing.assert_array_equal(f([1.0], [5.0, 6.0]), [2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = sg.function([x, unused], x * 2, on_unused_input="ignore")
    np.testing.assert_array_equal(g([1.0], [5.0]), [2.0])


def test_inputs_used_only_by_updates_or_givens_are_used():
    x, y, z = sg.vector("x"), sg.vector("y"), sg.vector("z")
    w = sg.shared(np.zeros(2), "w")
    sg.function([x], [], updates={w: x})
    f = sg.function([z], y * 2, givens={y: z + 1})
    np.testing.assert_array_equal(f(np.ones(2)), [4.0, 4.0])
    with pytest.raises(sg.UnusedInputError, match=r"input 0 \(y"):  # replaced everywhere by givens
        sg.function([y, z], y * 2, givens={y: z + 1})


def test_bad_on_unused_input_value():
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphValueError, match="on_unused_input"):
        sg.function([x], x, on_unused_input="sometimes")


# -- eval's cache --------------------------------------------------------------------------------------------------
def test_eval_compiles_again_for_another_backend_or_rewrites():
    x = sg.vector("x")
    y = sg.exp(x) * 2
    y.eval({x: np.ones(2)}, backend="python")
    y.eval({x: np.ones(2)}, backend="numba")
    y.eval({x: np.ones(2)}, backend="numba", rewrites=None)
    backends = sorted((f.backend, str(f._spec.rewrites)) for f in y._eval_cache.values())
    assert backends == [("numba", "None"), ("numba", sg.config.rewrites), ("python", sg.config.rewrites)]
    old = sg.config.backend
    try:
        sg.config.backend = "numba"
        y.eval({x: np.ones(2)})
    finally:
        sg.config.backend = old
    assert len(y._eval_cache) == 4


# -- inner graphs follow the function's rewrites -------------------------------------------------------------------
def test_scan_body_is_not_rewritten_when_the_function_is_not():
    """log(1 + 1e-20) is 0 as written; the log1p rewrite would give 1e-20."""
    x = sg.vector("x")
    ys, _ = sg.scan(lambda v: sg.log(1 + v), sequences=[x])
    data = np.full(2, 1e-20)
    reference = sg.function([x], ys, backend="python", rewrites=None)(data)
    assert reference.tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(sg.function([x], ys, backend="numba", rewrites=None)(data), reference)
    np.testing.assert_array_equal(sg.function([x], ys, backend="numba")(data), data)  # log1p, as rewrites choose


def test_ifelse_branches_are_not_rewritten_when_the_function_is_not():
    x = sg.vector("x")
    out = sg.ifelse(x.sum() > 0, sg.log(1 + x), -x)
    data = np.full(2, 1e-20)
    np.testing.assert_array_equal(sg.function([x], out, backend="numba", rewrites=None)(data), [0.0, 0.0])
    np.testing.assert_array_equal(sg.function([x], out, backend="numba")(data), data)
