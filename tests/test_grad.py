"""The gradient driver: API behaviour, second derivatives, Lop/Rop/jacobian/hessian, whole models."""

import warnings

import numpy as np
import pytest

import symgraph as sg
from tests.helpers import numeric_jacobian


def test_fan_out_accumulates():
    x = sg.scalar("x")
    y = x * x + sg.exp(x) * x
    g = sg.grad(y, x)
    assert np.isclose(g.eval({x: 1.5}), 2 * 1.5 + np.exp(1.5) * 2.5)


def test_cost_must_be_a_float_scalar():
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphTypeError, match="must be a scalar"):
        sg.grad(x * 2, x)
    with pytest.raises(sg.SymgraphTypeError, match="only a float cost"):
        sg.grad(sg.cast(x, "int64").sum(), x)
    with pytest.raises(sg.SymgraphTypeError, match="not a symbolic variable"):
        sg.grad(x.sum(), [np.ones(2)])


def test_disconnected_inputs_modes():
    x, y = sg.vector("x"), sg.vector("y")
    with pytest.raises(sg.DisconnectedInputError, match=r"wrt\[1\]"):
        sg.grad(x.sum(), [x, y])
    with pytest.warns(UserWarning, match="does not depend"):
        gy = sg.grad(x.sum(), [x, y], disconnected_inputs="warn")[1]
    np.testing.assert_allclose(gy.eval({y: [1.0, 2.0]}), [0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.grad(x.sum(), [x, y], disconnected_inputs="ignore")
    with pytest.raises(sg.SymgraphValueError, match="must be 'raise'"):
        sg.grad(x.sum(), y, disconnected_inputs="bogus")


def test_consider_constant_and_known_grads():
    x = sg.vector("x")
    h = sg.exp(x)
    cost = (h * x).sum()
    g = sg.grad(cost, x, consider_constant=[h])
    data = np.array([0.5, 1.0])
    np.testing.assert_allclose(g.eval({x: data}), np.exp(data))
    v = sg.vector("v")
    g2 = sg.grad(None, x, known_grads={h: v})
    np.testing.assert_allclose(sg.function([x, v], g2)(data, [2.0, 3.0]), np.exp(data) * [2.0, 3.0])


def test_gradient_is_a_graph_that_can_be_differentiated_again():
    x = sg.scalar("x")
    y = sg.sin(x) * x**3
    d1 = sg.grad(y, x)
    d2 = sg.grad(d1, x)
    d3 = sg.grad(d2, x)
    v = 0.7
    expected = [
        np.cos(v) * v**3 + 3 * v**2 * np.sin(v),
        -np.sin(v) * v**3 + 6 * v**2 * np.cos(v) + 6 * v * np.sin(v),
        -np.cos(v) * v**3 - 9 * v**2 * np.sin(v) + 18 * v * np.cos(v) + 6 * np.sin(v),
    ]
    np.testing.assert_allclose(sg.function([x], [d1, d2, d3])(v), expected, rtol=1e-12)
    assert "Elemwise" in sg.debugprint(d2, file="str")


def _mlp_cost(x, w):
    return (sg.tanh(sg.dot(x, w)) ** 2).sum() + (w * w).sum()


def test_hessian_matches_finite_differences_of_the_gradient():
    w = sg.tensor("w", shape=(3, 2))
    x = sg.constant(np.random.default_rng(0).normal(size=(4, 3)))
    h = sg.hessian(_mlp_cost(x, w), w)
    assert h.type.shape == (3, 2, 3, 2)
    grad_fn = sg.function([w], sg.grad(_mlp_cost(x, w), w))
    point = np.random.default_rng(1).normal(size=(3, 2))
    np.testing.assert_allclose(h.eval({w: point}), numeric_jacobian(grad_fn, point), rtol=1e-5, atol=1e-7)


def test_jacobian_matches_finite_differences():
    x = sg.tensor("x", shape=(3,))
    y = sg.stack([x[0] * x[1], sg.sin(x[2]), x.sum() ** 2, sg.exp(x[1])])
    jac = sg.jacobian(y, x)
    point = np.array([0.3, -0.7, 1.1])
    f = sg.function([x], y)
    np.testing.assert_allclose(jac.eval({x: point}), numeric_jacobian(f, point), rtol=1e-6, atol=1e-8)
    assert jac.type.shape == (4, 3)


def test_rop_is_jacobian_times_v_and_lop_is_v_times_jacobian():
    x = sg.tensor("x", shape=(3,))
    a = sg.constant(np.random.default_rng(2).normal(size=(4, 3)))
    y = sg.tanh(sg.dot(a, x)) * x.sum()
    v, u = sg.vector("v"), sg.vector("u")
    rop, lop = sg.Rop(y, x, v), sg.Lop(y, x, u)
    point, vv, uu = np.array([0.2, -0.4, 0.9]), np.array([1.0, 2.0, -1.0]), np.array([0.5, -1.0, 2.0, 1.5])
    jac = sg.jacobian(y, x).eval({x: point})
    np.testing.assert_allclose(sg.function([x, v], rop)(point, vv), jac @ vv, rtol=1e-10)
    np.testing.assert_allclose(sg.function([x, u], lop)(point, uu), uu @ jac, rtol=1e-10)


def test_hessian_vector_product():
    w = sg.tensor("w", shape=(3, 2))
    x = sg.constant(np.random.default_rng(0).normal(size=(4, 3)))
    v = sg.matrix("v")
    hvp = sg.hessian_vector_product(_mlp_cost(x, w), w, v)
    point, direction = np.random.default_rng(3).normal(size=(3, 2)), np.random.default_rng(4).normal(size=(3, 2))
    dense = sg.hessian(_mlp_cost(x, w), w).eval({w: point}).reshape(6, 6)
    np.testing.assert_allclose(
        sg.function([w, v], hvp)(point, direction), (dense @ direction.reshape(-1)).reshape(3, 2)
    )


def test_logistic_regression_gradient_matches_hand_derived():
    rng = np.random.default_rng(0)
    data, labels = rng.normal(size=(20, 4)), (rng.random(20) > 0.5).astype("float64")
    x, y = sg.matrix("x"), sg.vector("y")
    w, b = sg.shared(rng.normal(size=4), "w"), sg.shared(0.3, "b")
    cost = sg.nnet.sigmoid_binary_crossentropy(sg.dot(x, w) + b, y).mean()
    gw, gb = sg.function([x, y], sg.grad(cost, [w, b]))(data, labels)
    p = 1 / (1 + np.exp(-(data @ w.get_value() + 0.3)))
    np.testing.assert_allclose(gw, data.T @ (p - labels) / 20, rtol=1e-10)
    np.testing.assert_allclose(gb, (p - labels).mean(), rtol=1e-10)


def test_mlp_gradient_matches_hand_derived():
    rng = np.random.default_rng(1)
    data, targets = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    w1_value, w2_value = rng.normal(size=(5, 6)) * 0.5, rng.normal(size=(6, 3)) * 0.5
    x, t = sg.matrix("x"), sg.vector("t", "int64")
    w1, w2 = sg.shared(w1_value, "w1"), sg.shared(w2_value, "w2")
    hidden = sg.tanh(sg.dot(x, w1))
    cost = sg.nnet.categorical_crossentropy(sg.nnet.softmax(sg.dot(hidden, w2)), t).mean()
    g1, g2 = sg.function([x, t], sg.grad(cost, [w1, w2]))(data, targets)
    h = np.tanh(data @ w1_value)
    logits = h @ w2_value
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d_logits = (p - np.eye(3)[targets]) / 8
    np.testing.assert_allclose(g2, h.T @ d_logits, rtol=1e-9)
    np.testing.assert_allclose(g1, data.T @ ((d_logits @ w2_value.T) * (1 - h**2)), rtol=1e-9)


def test_verify_grad_reports_a_wrong_gradient():
    from dataclasses import dataclass

    from symgraph.graph import Apply
    from symgraph.op import Op

    @dataclass(frozen=True)
    class WrongSquare(Op):
        def make_node(self, x):
            return Apply(self, [x], [x.type])

        def perform(self, node, inputs):
            return [inputs[0] ** 2]

        def vjp(self, node, output_grads):
            return [output_grads[0] * 3 * node.inputs[0]]  # should be 2 * x

    with pytest.raises(sg.GradientError, match=r"input 0 .* at index"):
        sg.verify_grad(WrongSquare(), [np.array([1.0, 2.0])], rng=0)
    sg.verify_grad(lambda x: x**2, [np.array([1.0, 2.0])], rng=0)
