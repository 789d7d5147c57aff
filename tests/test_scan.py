"""sg.scan and its shorthands: values vs NumPy loops, taps, outputs that are not fed back, go_backwards,
n_steps, shared variables and their updates, gradients (BPTT, truncate_gradient) vs finite differences,
scan of scan, grad inside scan, errors. Graphs evaluated with ``evaluate`` also run on numba (cross_backend)."""

import numpy as np
import pytest

import symgraph as sg
from tests.helpers import assert_infer_shape, evaluate, rand

pytestmark = pytest.mark.cross_backend


def _rnn_numpy(x, h, w):
    out = []
    for row in x:
        h = np.tanh(h @ w + row)
        out.append(h)
    return np.array(out)


def test_recurrence_with_sequence_and_non_sequence():
    x, h0, w = sg.matrix("x"), sg.vector("h0"), sg.matrix("w")
    hs, updates = sg.scan(lambda xt, h, w: sg.tanh(sg.dot(h, w) + xt), sequences=x, outputs_info=h0,
                          non_sequences=w)  # fmt: skip
    assert updates == {}
    values = {x: rand((6, 3)), h0: rand((3,), seed=1), w: rand((3, 3), seed=2) * 0.5}
    np.testing.assert_allclose(evaluate(hs, values), _rnn_numpy(*values.values()), rtol=1e-12)
    assert_infer_shape(hs, values)


def test_output_and_sequence_taps():
    seq, init = sg.vector("seq"), sg.vector("init")
    out, _ = sg.scan(lambda a, c, y2, y1: y1 + 0.5 * y2 + a * c, sequences=dict(input=seq, taps=[-1, 2]),
                     outputs_info=dict(initial=init, taps=[-2, -1]))  # fmt: skip
    s, i0 = rand((9,)), rand((2,), seed=3)
    expected, hist = [], list(i0)
    for t in range(9 - 3):  # taps -1..2 leave 9 - 3 steps; step t reads s[t + 1 + tap]
        hist.append(hist[-1] + 0.5 * hist[-2] + s[t] * s[t + 3])
        expected.append(hist[-1])
    np.testing.assert_allclose(evaluate(out, {seq: s, init: i0}), expected, rtol=1e-12)


def test_outputs_not_fed_back_and_several_outputs():
    x = sg.matrix("x")
    (doubled, total), _ = sg.scan(lambda row, acc: (row * 2, acc + row.sum()), sequences=x,
                                  outputs_info=[None, sg.constant(0.0)])  # fmt: skip
    xv = rand((5, 4))
    d, t = evaluate([doubled, total], {x: xv})
    np.testing.assert_allclose(d, 2 * xv)
    np.testing.assert_allclose(t, np.cumsum(xv.sum(axis=1)), rtol=1e-12)


def test_n_steps_without_sequences_and_int_state():
    k = sg.scalar("k", dtype="int64")
    powers, _ = sg.scan(lambda p: p * 2, outputs_info=sg.constant(np.int64(1)), n_steps=k)
    result = evaluate(powers, {k: np.int64(6)})
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, 2 ** np.arange(1, 7))
    np.testing.assert_array_equal(evaluate(powers, {k: np.int64(0)}), np.zeros(0, np.int64))


def test_go_backwards_and_shorthands():
    x = sg.matrix("x")
    xv = rand((4, 3))
    rev, _ = sg.scan(lambda row, acc: acc + row, sequences=x, outputs_info=sg.zeros((3,)), go_backwards=True)
    np.testing.assert_allclose(evaluate(rev, {x: xv}), np.cumsum(xv[::-1], axis=0), rtol=1e-12)
    mapped, _ = sg.map(lambda row: row**2, sequences=x)
    np.testing.assert_allclose(evaluate(mapped, {x: xv}), xv**2)
    total, _ = sg.reduce(lambda row, acc: acc + row, sequences=x, outputs_info=sg.zeros((3,)))
    np.testing.assert_allclose(evaluate(total, {x: xv}), xv.sum(axis=0), rtol=1e-12)
    left, _ = sg.foldl(lambda row, acc: acc * 0.5 + row, sequences=x, outputs_info=sg.zeros((3,)))
    right, _ = sg.foldr(lambda row, acc: acc * 0.5 + row, sequences=x, outputs_info=sg.zeros((3,)))
    fl = fr = np.zeros(3)
    for row, back in zip(xv, xv[::-1]):
        fl, fr = fl * 0.5 + row, fr * 0.5 + back
    np.testing.assert_allclose(evaluate([left, right], {x: xv}), [fl, fr], rtol=1e-12)


def test_shared_variables_read_and_updated_by_the_step():
    w = sg.shared(np.array([1.0, 2.0]), name="w")
    count = sg.shared(np.float64(0.0), name="count")
    x = sg.matrix("x")
    out, updates = sg.scan(lambda row: (row * w, {count: count + row.sum()}), sequences=x)
    assert list(updates) == [count]
    f = sg.function([x], out, updates=updates)
    xv = rand((3, 2))
    np.testing.assert_allclose(f(xv), xv * [1.0, 2.0])
    np.testing.assert_allclose(count.get_value(), xv.sum())
    f(xv)
    np.testing.assert_allclose(count.get_value(), 2 * xv.sum())


def test_outer_expressions_are_read_once_not_per_step():
    x, w = sg.matrix("x"), sg.matrix("w")
    wt = sg.exp(w).T  # computed outside the loop: it does not depend on the step's inputs
    out, _ = sg.scan(lambda row: sg.dot(wt, row), sequences=x)
    node = next(n for n in sg.toposort([out]) if isinstance(n.op, sg.Op) and "Scan" in type(n.op).__name__)
    assert any(v is wt for v in node.inputs)
    xv, wv = rand((3, 2)), rand((2, 2), seed=1)
    np.testing.assert_allclose(evaluate(out, {x: xv, w: wv}), xv @ np.exp(wv), rtol=1e-12)


def test_scan_of_scan():
    x = sg.tensor3("x")
    out, _ = sg.scan(lambda mat: sg.scan(lambda row, acc: acc + row, sequences=mat,
                                         outputs_info=sg.zeros_like(mat[0]))[0], sequences=x)  # fmt: skip
    xv = rand((3, 4, 2))
    np.testing.assert_allclose(evaluate(out, {x: xv}), np.cumsum(xv, axis=1), rtol=1e-12)


def _numeric_grad(f, values, i, eps=1e-6):
    g = np.zeros_like(values[i])
    for idx in np.ndindex(g.shape):
        plus, minus = [v.copy() for v in values], [v.copy() for v in values]
        plus[i][idx] += eps
        minus[i][idx] -= eps
        g[idx] = (f(*plus) - f(*minus)) / (2 * eps)
    return g


def _check_grads(cost, inputs, values, rtol=1e-6, atol=1e-8):
    grads = sg.grad(cost, inputs)
    got = evaluate(grads, dict(zip(inputs, values)))
    f = sg.function(inputs, cost)
    for i, g in enumerate(got):
        np.testing.assert_allclose(g, _numeric_grad(f, values, i), rtol=rtol, atol=atol)


def test_gradient_through_recurrence_and_taps():
    x, h0, w = sg.matrix("x"), sg.vector("h0"), sg.matrix("w")
    hs, _ = sg.scan(lambda xt, h, w: sg.tanh(sg.dot(h, w) + xt), sequences=x, outputs_info=h0, non_sequences=w)
    _check_grads(
        (hs**2).sum() + hs[-1].sum(), [x, h0, w], [rand((4, 3)), rand((3,), seed=1), rand((3, 3), seed=2) * 0.5]
    )
    seq, init = sg.vector("seq"), sg.vector("init")
    out, _ = sg.scan(lambda a, c, y2, y1: y1 * sg.tanh(y2) + a * c, sequences=dict(input=seq, taps=[-1, 1]),
                     outputs_info=dict(initial=init, taps=[-2, -1]))  # fmt: skip
    _check_grads((out * sg.arange(4)).sum(), [seq, init], [rand((6,)) * 0.5, rand((2,), seed=4) * 0.5])


def test_gradient_of_outputs_not_fed_back_and_backwards():
    x, w = sg.matrix("x"), sg.matrix("w")
    (y, z), _ = sg.scan(lambda row, w: (sg.tanh(sg.dot(row, w)), row * 2), sequences=x, non_sequences=w)
    _check_grads((y * z.sum()).sum(), [x, w], [rand((3, 2)), rand((2, 2), seed=1)])
    h0 = sg.vector("h0")
    hs, _ = sg.scan(lambda xt, h: sg.sin(h) * xt, sequences=x, outputs_info=h0, go_backwards=True)
    _check_grads((hs * sg.arange(3)[:, None]).sum(), [x, h0], [rand((3, 2)), rand((2,), seed=2)])


def test_truncate_gradient_stops_after_the_last_steps():
    x, h0 = sg.matrix("x"), sg.vector("h0")
    hs, _ = sg.scan(lambda xt, h: sg.tanh(h + xt), sequences=x, outputs_info=h0, truncate_gradient=2)
    gx, gh = sg.grad(hs[-1].sum(), [x, h0])
    xv, hv = rand((5, 3)), rand((3,), seed=1)
    gxv, ghv = evaluate([gx, gh], {x: xv, h0: hv})
    np.testing.assert_array_equal(gxv[:3], 0)
    np.testing.assert_array_equal(ghv, 0)
    full = sg.grad(sg.scan(lambda xt, h: sg.tanh(h + xt), sequences=x, outputs_info=h0)[0][-1].sum(), x)
    np.testing.assert_allclose(gxv[3:], evaluate(full, {x: xv, h0: hv})[3:], rtol=1e-12)


def test_gradient_of_scan_of_scan_and_grad_inside_scan():
    x = sg.tensor3("x")
    out, _ = sg.scan(lambda mat: sg.scan(lambda row, acc: sg.tanh(acc + row), sequences=mat,
                                         outputs_info=sg.zeros_like(mat[0]))[0][-1], sequences=x)  # fmt: skip
    _check_grads((out**2).sum(), [x], [rand((2, 3, 2)) * 0.5])
    # a step that differentiates its own expression (gradient descent unrolled inside the loop)
    w0, target = sg.vector("w0"), sg.vector("target")

    def descend(w, target):
        loss = ((w - target) ** 2).sum()
        return w - 0.25 * sg.grad(loss, w)

    ws, _ = sg.scan(descend, outputs_info=w0, non_sequences=target, n_steps=3)
    wv, tv = rand((2,)), rand((2,), seed=1)
    expected = [tv + (wv - tv) * 0.5 ** (k + 1) for k in range(3)]
    np.testing.assert_allclose(evaluate(ws, {w0: wv, target: tv}), expected, rtol=1e-12)
    _check_grads(ws[-1].sum() ** 2, [w0, target], [wv, tv])


def test_float32_state_and_output_cast():
    x = sg.matrix("x", dtype="float32")
    out, _ = sg.scan(lambda row, acc: acc + row * 2, sequences=x, outputs_info=sg.zeros((2,), dtype="float32"))
    assert out.dtype == "float32"
    xv = rand((3, 2), dtype="float32")
    np.testing.assert_allclose(evaluate(out, {x: xv}), np.cumsum(2 * xv, axis=0), rtol=1e-6)


def test_build_errors():
    x = sg.matrix("x")
    with pytest.raises(sg.SymgraphValueError, match="sequences or n_steps"):
        sg.scan(lambda acc: acc, outputs_info=sg.zeros(2))
    with pytest.raises(sg.SymgraphTypeError, match="scalar"):
        sg.scan(lambda a: a, sequences=sg.scalar("s"))
    with pytest.raises(sg.SymgraphValueError, match="negative"):
        sg.scan(lambda row, acc: acc, sequences=x, outputs_info=dict(initial=sg.zeros((1, 2)), taps=[1]))
    with pytest.raises(sg.SymgraphTypeError, match="output 0"):
        sg.scan(lambda row, acc: row.sum(), sequences=x, outputs_info=sg.zeros(2))
    with pytest.raises(sg.SymgraphTypeError, match="int64"):
        sg.scan(lambda row, acc: acc + row, sequences=x, outputs_info=sg.zeros(2, dtype="int64"))
    with pytest.raises(sg.SymgraphValueError, match="outputs_info"):
        sg.scan(lambda row, a, b: a, sequences=x, outputs_info=[sg.zeros(2), sg.zeros(2)])
    w = sg.shared(np.ones(2), name="w")
    with pytest.raises(sg.SymgraphValueError, match="strict"):
        sg.scan(lambda row: row * w, sequences=x, strict=True)
    with pytest.raises(sg.SymgraphTypeError, match="updates"):
        sg.scan(lambda row: (row, {x: row}), sequences=x)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_run_time_errors(backend):
    x, k = sg.matrix("x"), sg.scalar("k", dtype="int64")
    out, _ = sg.scan(lambda row: row, sequences=x, n_steps=k)
    f = sg.function([x, k], out, backend=backend)
    with pytest.raises(sg.SymgraphError, match="rows"):
        f(rand((2, 2)), np.int64(3))
    v = sg.vector("v")
    grow, _ = sg.scan(lambda acc: sg.concatenate([acc, acc]), outputs_info=v, n_steps=2)
    with pytest.raises(sg.SymgraphError, match="shape"):
        sg.function([v], grow, backend=backend)(np.ones(1))


def test_random_draws_inside_a_step_are_fresh_per_step_and_equal_across_backends():
    rng = sg.RandomStream(7)
    x = sg.matrix("x")
    # zoneout-like: each step keeps the previous state where a fresh Bernoulli mask is 1
    out, updates = sg.scan(lambda row, h: sg.where(rng.bernoulli(0.5, size=h.shape) > 0, h, row + rng.normal(h.shape)),
                           sequences=x, outputs_info=sg.zeros(x.shape[1]))  # fmt: skip
    assert updates == {}
    masks, _ = sg.scan(lambda row: rng.uniform(size=row.shape), sequences=x)
    xv = rand((6, 64))
    results = {}
    for backend in ("python", "numba"):
        rng.seed(7)
        f = sg.function([x], [out, masks], backend=backend)
        first, second = f(xv), f(xv)
        results[backend] = first
        assert not np.array_equal(first[1], second[1])  # the state advanced between calls
    for a, b in zip(results["python"], results["numba"]):
        np.testing.assert_array_equal(a, b)
    m = results["python"][1]
    assert all(not np.array_equal(m[0], m[t]) for t in range(1, 6))  # each step draws fresh numbers
    assert 0.4 < m.mean() < 0.6


def test_rewrites_hoist_invariants_and_keep_only_the_last_state():
    x, w = sg.matrix("x"), sg.matrix("w")
    total, _ = sg.reduce(lambda row, acc, w: acc + sg.dot(sg.exp(w), row), sequences=x,
                         outputs_info=sg.zeros((3,)), non_sequences=w)  # fmt: skip
    f = sg.function([x, w], total)
    counts = f.rewrite_report.counts
    assert counts["scan_hoist_invariants"] == 1 and counts["scan_keep_last"] == 1
    (node,) = [n for n in f.fgraph.toposort() if type(n.op).__name__ == "Scan"]
    assert node.op.keep_last == (True,)
    assert "exp" not in " ".join(str(n.op) for n in sg.toposort(node.op.inner_outputs))  # computed before the loop
    xv, wv = rand((4, 3)), rand((3, 3), seed=1)
    np.testing.assert_allclose(evaluate(total, {x: xv, w: wv}), (xv @ np.exp(wv).T).sum(0), rtol=1e-12)
    # taps two steps back with only the last value kept: the ring buffer holds two values
    a0 = sg.vector("a0")
    fib, _ = sg.scan(lambda a, b: a + b, outputs_info=dict(initial=a0, taps=[-2, -1]), n_steps=8)
    np.testing.assert_allclose(evaluate(fib[-1], {a0: np.array([1.0, 1.0])}), 55.0)


def test_gradient_runs_the_forward_loop_once():
    x, h0, w = sg.matrix("x"), sg.vector("h0"), sg.matrix("w")
    hs, _ = sg.scan(lambda xt, h, w: sg.tanh(sg.dot(h, w) + xt), sequences=x, outputs_info=h0, non_sequences=w)
    cost = (hs**2).sum()
    f = sg.function([x, h0, w], [cost, *sg.grad(cost, [x, h0, w])])
    names = [n.op.name for n in f.fgraph.toposort() if type(n.op).__name__ == "Scan"]
    assert names == ["scan", "grad_of_scan"]


def test_equal_loops_merge_into_one_node_and_different_ones_do_not():
    x, h0, w = sg.matrix("x"), sg.vector("h0"), sg.matrix("w")

    def rnn(scale):
        return sg.scan(lambda xt, h, w: sg.tanh(sg.dot(h, w) + scale * xt), sequences=x, outputs_info=h0,
                       non_sequences=w)[0]  # fmt: skip

    first, again, other = rnn(1.0), rnn(1.0), rnn(2.0)  # the same step twice; one that differs in a constant
    assert first.owner.op is not again.owner.op
    assert first.owner.op == again.owner.op and hash(first.owner.op) == hash(again.owner.op)
    assert first.owner.op != other.owner.op
    f = sg.function([x, h0, w], [first, again, other])
    assert len([n for n in f.fgraph.apply_nodes if isinstance(n.op, sg.ops.scan.Scan)]) == 2
    xv, hv, wv = rand((5, 3)), rand((3,), seed=1), rand((3, 3), seed=2) * 0.5
    a, b, c = f(xv, hv, wv)
    np.testing.assert_allclose(a, _rnn_numpy(xv, hv, wv), rtol=1e-12)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(c, _rnn_numpy(2.0 * xv, hv, wv), rtol=1e-12)


def test_rop_and_hessian_vector_product_through_scan():
    x, h0, w, v = sg.matrix("x"), sg.vector("h0"), sg.matrix("w"), sg.matrix("v")
    hs, _ = sg.scan(lambda xt, h, w: sg.tanh(sg.dot(h, w) + xt), sequences=x, outputs_info=h0, non_sequences=w)
    xv, hv, wv, vv = rand((4, 3)), rand((3,), seed=1), rand((3, 3), seed=2) * 0.5, rand((3, 3), seed=3)
    forward = sg.function([x, h0, w], hs)
    eps = 1e-6
    numeric = (forward(xv, hv, wv + eps * vv) - forward(xv, hv, wv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(evaluate(sg.Rop(hs, w, v), {x: xv, h0: hv, w: wv, v: vv}), numeric, atol=1e-8)
    cost = (hs**2).sum()
    gradient = sg.function([x, h0, w], sg.grad(cost, w))
    numeric = (gradient(xv, hv, wv + eps * vv) - gradient(xv, hv, wv - eps * vv)) / (2 * eps)
    hvp = sg.hessian_vector_product(cost, w, v)
    np.testing.assert_allclose(sg.function([x, h0, w, v], hvp)(xv, hv, wv, vv), numeric, atol=1e-7)


def test_taps_minus_one_in_a_dict_take_the_initial_value_itself():
    x, h0 = sg.matrix("x"), sg.vector("h0")
    plain, _ = sg.scan(lambda row, h: h + row, sequences=x, outputs_info=h0)
    spelled, _ = sg.scan(lambda row, h: h + row, sequences=x, outputs_info=dict(initial=h0, taps=[-1]))
    xv, hv = rand((3, 2)), rand((2,), seed=1)
    np.testing.assert_allclose(evaluate(spelled, {x: xv, h0: hv}), hv + np.cumsum(xv, axis=0), rtol=1e-12)
    np.testing.assert_array_equal(evaluate(spelled, {x: xv, h0: hv}), evaluate(plain, {x: xv, h0: hv}))
