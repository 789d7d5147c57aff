import numpy as np
import pytest

import symgraph as sg


def test_positional_and_keyword_inputs():
    x, y = sg.vector("x"), sg.scalar("y")
    f = sg.function([x, y], x * y)
    np.testing.assert_allclose(f([1.0, 2.0], 3.0), [3.0, 6.0])
    np.testing.assert_allclose(f(y=2.0, x=[1.0, 2.0]), [2.0, 4.0])
    np.testing.assert_allclose(f([1.0], y=4.0), [4.0])
    with pytest.raises(sg.CallError, match="missing value for input 1"):
        f([1.0])
    with pytest.raises(sg.CallError, match="given twice"):
        f([1.0], 2.0, y=3.0)
    with pytest.raises(sg.CallError, match="unexpected keyword input 'z'"):
        f([1.0], z=1.0)
    with pytest.raises(sg.CallError, match="at most 2 inputs"):
        f([1.0], 1.0, 2.0)
    with pytest.raises(sg.CallError, match=r"input 0 \(x\): expected 1 dimensions"):
        f(np.zeros((2, 2)), 1.0)


def test_multiple_and_no_outputs():
    x = sg.vector("x")
    f = sg.function([x], [x + 1, x * 2])
    a, b = f([1.0, 2.0])
    np.testing.assert_allclose(a, [2.0, 3.0])
    np.testing.assert_allclose(b, [2.0, 4.0])
    assert sg.function([x], [], on_unused_input="ignore")([1.0]) == []
    w = sg.shared(0.0, "w")
    step = sg.function([], updates=[(w, w + 1)])
    assert step() == []
    step()
    assert w.get_value() == 2.0


def test_updates_list_and_dict_and_shared_round_trip():
    w = sg.shared(np.zeros(3), name="w")
    x = sg.vector("x")
    f = sg.function([x], w.sum(), updates={w: w + x})
    assert f([1.0, 2.0, 3.0]) == 0.0  # outputs see the value before the update
    np.testing.assert_allclose(w.get_value(), [1.0, 2.0, 3.0])
    g = sg.function([x], [], updates=[(w, w * x)])
    g([2.0, 2.0, 2.0])
    np.testing.assert_allclose(w.get_value(), [2.0, 4.0, 6.0])
    value = w.get_value()
    value[0] = 100.0  # a copy: the shared value does not change
    assert w.get_value()[0] == 2.0
    w.set_value([7.0, 8.0, 9.0])
    np.testing.assert_allclose(f([0.0, 0.0, 0.0]), 24.0)
    borrowed = w.get_value(borrow=True)
    assert borrowed is w.get_value(borrow=True)


def test_updates_see_old_values_simultaneously():
    a, b = sg.shared(1.0, "a"), sg.shared(2.0, "b")
    swap = sg.function([], updates=[(a, b), (b, a)])
    swap()
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)


def test_update_validation():
    w = sg.shared(np.zeros(3, dtype="float32"), name="w")
    x = sg.vector("x", "float64")
    f = sg.function([x], updates=[(w, w + x)])  # float64 -> float32 is the same kind: cast inserted
    f([1.0, 1.0, 1.0])
    assert w.get_value().dtype == "float32"
    with pytest.raises(sg.SymgraphTypeError, match="not a shared variable"):
        sg.function([x], updates=[(x, x + 1)])
    with pytest.raises(sg.SymgraphValueError, match="updated twice"):
        sg.function([x], updates=[(w, w + 1), (w, w - 1)])
    with pytest.raises(sg.SymgraphTypeError, match="has type"):
        sg.function([x], updates=[(w, sg.matrix())])
    with pytest.raises(sg.SymgraphTypeError, match="int8 but its update is float64"):
        sg.function([x], updates=[(sg.shared(np.zeros(3, "int8")), x)])


def test_givens():
    x, y = sg.vector("x"), sg.vector("y")
    z = (x + 1) * 2
    f = sg.function([y], z, givens={x: y * 10})
    np.testing.assert_allclose(f([1.0]), [22.0])
    data = sg.shared(np.arange(3.0), name="data")
    g = sg.function([], z, givens=[(x, data)])
    np.testing.assert_allclose(g(), (np.arange(3.0) + 1) * 2)
    with pytest.raises(sg.SymgraphTypeError, match="cannot be replaced"):
        sg.function([y], z, givens={x: sg.matrix()})


def test_failed_call_leaves_shared_state_unchanged():
    w = sg.shared(np.ones(3), name="w")
    c = sg.shared(0, name="count")
    x = sg.vector("x")
    f = sg.function([x], w * x, updates=[(c, c + 1), (w, w + x)])
    f([1.0, 1.0, 1.0])
    with pytest.raises(sg.CallError):
        f([1.0, 1.0])  # shape mismatch at run time
    np.testing.assert_allclose(w.get_value(), [2.0, 2.0, 2.0])
    assert c.get_value() == 1


def test_missing_input_names_the_variable():
    x, y = sg.vector("x"), sg.vector("y")
    with pytest.raises(sg.MissingInputError, match="y::Tensor"):
        sg.function([x], x + y)


def test_bad_function_arguments():
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphTypeError, match="shared variable"):
        sg.function([sg.shared(1.0)], x)
    with pytest.raises(sg.SymgraphTypeError, match="inputs are roots"):
        sg.function([x + 1], x)
    with pytest.raises(sg.SymgraphValueError, match="given twice"):
        sg.function([x, x], x)
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        sg.function([x], x, backend="nope")
    with pytest.raises(sg.SymgraphValueError, match="pairs"):
        sg.function([x], x, updates=[1, 2])


def test_input_casting_rules():
    x = sg.vector("x", "float32")
    f = sg.function([x], x * 2)
    assert f([1.0, 2.0]).dtype == "float32"
    with pytest.raises(sg.CallError, match="cannot safely cast float64 to float32"):
        f(np.array([1.0]))
    assert sg.function([x], x, allow_input_downcast=True)(np.array([1.0])).dtype == "float32"
    i = sg.vector("i", "int64")
    assert sg.function([i], i)(np.array([1, 2], dtype="int8")).dtype == "int64"


def test_outputs_do_not_alias_inputs_or_shared_storage():
    x = sg.vector("x")
    w = sg.shared(np.ones(2), "w")
    f = sg.function([x], [x, w])
    data = np.zeros(2)
    out_x, out_w = f(data)
    out_x[0] = 5.0
    out_w[0] = 5.0
    assert data[0] == 0.0 and w.get_value()[0] == 1.0


def test_eval_and_fgraph_exposed():
    x = sg.vector("x")
    y = sg.exp(x)
    np.testing.assert_allclose(y.eval({x: [0.0, 1.0]}), [1.0, np.e])
    np.testing.assert_allclose((sg.constant(2.0) * 3).eval(), 6.0)
    f = sg.function([x], y)
    assert isinstance(f.fgraph, sg.FunctionGraph) and len(f.fgraph.apply_nodes) == 1
    assert f.fgraph.inputs[0] is not x  # the function owns a copy of the graph


def test_shared_variable_types():
    s = sg.shared(1.5)
    assert s.dtype == sg.config.floatX and s.ndim == 0
    m = sg.shared(np.zeros((2, 3), dtype="float32"), shape=(None, 3))
    assert m.type.shape == (None, 3)
    with pytest.raises(sg.CallError, match="expected length 3"):
        m.set_value(np.zeros((2, 4), dtype="float32"))
    with pytest.raises(sg.CallError, match="cannot safely cast"):
        m.set_value(np.zeros((2, 3)))
    with pytest.raises(sg.SymgraphValueError):
        sg.shared(sg.vector())
    m.set_value(np.ones((5, 3), dtype="float32"))
    assert m.get_value().shape == (5, 3)


def test_logistic_regression_with_hand_written_gradient():
    rng = np.random.default_rng(0)
    n, d = 200, 5
    true_w = rng.normal(size=d)
    data = rng.normal(size=(n, d))
    labels = (data @ true_w + 0.1 * rng.normal(size=n) > 0).astype("float64")
    x, y = sg.matrix("x"), sg.vector("y")
    w, b = sg.shared(np.zeros(d), "w"), sg.shared(0.0, "b")
    p = sg.sigmoid(sg.dot(x, w) + b)
    cost = sg.nnet.binary_crossentropy(p, y).mean()
    gw = sg.dot(x.T, p - y) / x.shape[0]
    gb = (p - y).mean()
    train = sg.function([x, y], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)])
    losses = [float(train(data, labels)) for _ in range(100)]
    assert losses[-1] < 0.5 * losses[0]
    predict = sg.function([x], p > 0.5)
    assert (predict(data) == labels.astype(bool)).mean() > 0.93


def test_views_of_inputs_are_copied_out():
    x = sg.vector("x")
    w = sg.shared(np.zeros(3), "w")
    f = sg.function([x], x[1:], updates=[(w, x[:3])])
    data = np.arange(4.0)
    out = f(data)
    out[0] = 100.0
    data[0] = -1.0
    assert data[1] == 1.0 and w.get_value()[0] == 0.0
