"""Gradients of sg.nnet (softmax, cross-entropies, hinge losses) and of the gradient-transform ops.

Finite differences (sg.verify_grad) for every differentiable function, torch.autograd for values and
gradients where torch has the function (or a reference written with torch ops), stability at huge logits,
and the semantics of disconnected_grad / zero_grad / grad_clip / grad_scale.
"""

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.gradient_ops import GradientTransform
from symgraph.ops.nnet_ops import OneHot

nnet = sg.nnet
FLOATS = ["float32", "float64"]


def _data(shape, low=-2.0, high=2.0, dtype="float64", seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def _probs(shape, dtype="float64", seed=0):
    """Rows of probabilities, none close to 0 or 1 (so finite differences stay inside (0, 1))."""
    e = np.exp(_data(shape, -1, 1, seed=seed))
    return (e / e.sum(axis=-1, keepdims=True)).astype(dtype)


def _grad_value(cost, x, givens):
    return sg.function(list(givens), sg.grad(cost, x), on_unused_input="ignore")(*givens.values())  # may not read x


# -- finite differences: softmax / log_softmax --------------------------------------------------------
SOFTMAX_CASES = [((5,), -1), ((5,), 0), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -3), ((1, 4), -1)]


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
@pytest.mark.parametrize(("shape", "axis"), SOFTMAX_CASES)
def test_softmax_verify_grad(fn, shape, axis):
    sg.verify_grad(lambda x: fn(x, axis=axis), [_data(shape)], rng=0)


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_verify_grad_float32(fn, axis):
    sg.verify_grad(lambda x: fn(x, axis=axis), [_data((3, 4), dtype="float32")], rng=0)


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
def test_softmax_verify_grad_broadcast_bias(fn):
    sg.verify_grad(lambda x, b: fn(x + b), [_data((3, 4)), _data((4,), seed=1)], rng=0)


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_softmax_grad_empty(fn, shape):
    x = sg.matrix("x")
    g = _grad_value((fn(x) * 2.0).sum(), x, {x: np.zeros(shape)})
    assert g.shape == shape


def test_softmax_grad_static_length_one_axis():
    """A static broadcastable row: the driver sums the gradient back to shape (1, n)."""
    x = sg.tensor("x", shape=(1, None))
    value = _data((1, 4))
    sg.verify_grad(nnet.softmax, [value], rng=0)
    w = _data((3, 4), seed=2)
    g = _grad_value((nnet.softmax(x) * w).sum(), x, {x: value})
    s = np.exp(value) / np.exp(value).sum()
    np.testing.assert_allclose(g, (s * (w - (w * s).sum(axis=1, keepdims=True))).sum(axis=0, keepdims=True))


def test_softmax_grad_of_constant_shift_is_zero():
    """Softmax is invariant to adding a constant along its axis: the gradient of any cost sums to 0 there."""
    x = sg.matrix("x")
    g = _grad_value((nnet.softmax(x, axis=0) * _data((3, 4), seed=3)).sum(), x, {x: _data((3, 4))})
    np.testing.assert_allclose(g.sum(axis=0), 0, atol=1e-12)


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
def test_softmax_second_derivative(fn):
    w = _data((3, 4), seed=5)
    sg.verify_grad(lambda x: sg.grad((fn(x) * w).sum(), x), [_data((3, 4))], rng=0)


def test_log_softmax_hessian_vector_product():
    x, v = sg.vector("x"), sg.vector("v")
    xv, vv = _data((4,)), _data((4,), seed=1)
    t = np.array([0.1, 0.2, 0.3, 0.4])
    hv = sg.function([x, v], sg.hessian_vector_product(-(nnet.log_softmax(x) * t).sum(), x, v))(xv, vv)
    s = np.exp(xv) / np.exp(xv).sum()
    np.testing.assert_allclose(hv, (np.diag(s) - np.outer(s, s)) @ vv, rtol=1e-10)  # t sums to 1


# -- stability at huge logits ------------------------------------------------------------------------
HUGE = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0]])


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_log_softmax_grads_finite_at_huge_logits(dtype):
    x = sg.matrix("x", dtype)
    w = _data((3, 3), seed=4)
    s = np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]])
    gs = _grad_value((nnet.softmax(x) * w).sum(), x, {x: HUGE.astype(dtype)})
    gl = _grad_value((nnet.log_softmax(x) * w).sum(), x, {x: HUGE.astype(dtype)})
    assert np.isfinite(gs).all() and np.isfinite(gl).all()
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(gs, s * (w - (w * s).sum(axis=1, keepdims=True)), atol=tol)
    np.testing.assert_allclose(gl, w - s * w.sum(axis=1, keepdims=True), atol=tol)


def test_sigmoid_binary_crossentropy_finite_at_huge_logits():
    x, t = sg.vector("x"), sg.vector("t")
    xv = np.array([-1000.0, 1000.0, -1000.0, 1000.0, 0.5])
    tv = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    loss = nnet.sigmoid_binary_crossentropy(x, t)
    values = sg.function([x, t], [loss, *sg.grad(loss.sum(), [x, t])])(xv, tv)
    for v in values:
        assert np.isfinite(v).all()
    np.testing.assert_allclose(values[0], [0, 0, 1000, 1000, np.log1p(np.exp(0.5)) - 0.25])
    np.testing.assert_allclose(values[1], [0, 0, -1, 1, 1 / (1 + np.exp(-0.5)) - 0.5])  # sigmoid(x) - t
    np.testing.assert_allclose(values[2], -xv)


def test_sigmoid_binary_crossentropy_grad_at_zero_logit():
    x = sg.vector("x")
    g = _grad_value(nnet.sigmoid_binary_crossentropy(x, np.array([0.0, 0.25, 1.0])).sum(), x, {x: np.zeros(3)})
    np.testing.assert_allclose(g, [0.5, 0.25, -0.5])  # sigmoid(0) - t


# -- finite differences: cross-entropies -------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 3), (4, 3), (3, 5)])
def test_categorical_crossentropy_int_targets_verify_grad(shape, dtype):
    targets = np.random.default_rng(1).integers(0, shape[1], size=shape[0])
    sg.verify_grad(nnet.categorical_crossentropy, [_probs(shape, dtype), targets], rng=0)


def test_categorical_crossentropy_int_targets_grad_is_sparse():
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    pv, tv = _probs((3, 4)), np.array([2, 0, 2])
    g = _grad_value((nnet.categorical_crossentropy(p, t) * np.array([1.0, 2.0, 3.0])).sum(), p, {p: pv, t: tv})
    expected = np.zeros((3, 4))
    expected[[0, 1, 2], tv] = -np.array([1.0, 2.0, 3.0]) / pv[[0, 1, 2], tv]
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_categorical_crossentropy_zero_probability_off_target_gives_zero():
    """A zero probability off the target does not turn the gradient of the row into nan."""
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    g = _grad_value(nnet.categorical_crossentropy(p, t).sum(), p, {p: np.array([[0.0, 1.0], [0.5, 0.5]]), t: [1, 0]})
    np.testing.assert_array_equal(g, [[0.0, -1.0], [-2.0, 0.0]])


def test_categorical_crossentropy_int_targets_no_gradient_for_targets():
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    with pytest.raises(sg.SymgraphTypeError):
        sg.grad(nnet.categorical_crossentropy(p, t).sum(), t)
    assert OneHot("float64").vjp(None, [None]) == [None, None]


@pytest.mark.parametrize("dtype", FLOATS)
def test_categorical_crossentropy_of_softmax_verify_grad(dtype):
    targets = np.array([0, 2, 1, 2])
    sg.verify_grad(
        lambda x, t: nnet.categorical_crossentropy(nnet.softmax(x), t), [_data((4, 3), dtype=dtype), targets], rng=0
    )


def test_categorical_crossentropy_second_derivative():
    targets = np.array([1, 0, 2])
    sg.verify_grad(lambda p: sg.grad(nnet.categorical_crossentropy(p, targets).sum(), p), [_probs((3, 3))], rng=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_categorical_crossentropy_one_hot_and_soft_targets_verify_grad(dtype):
    one_hot = np.eye(3, dtype=dtype)[[0, 2, 1, 2]]
    sg.verify_grad(lambda p: nnet.categorical_crossentropy(p, one_hot), [_probs((4, 3), dtype)], rng=0)
    soft = _probs((4, 3), dtype, seed=7)
    sg.verify_grad(nnet.categorical_crossentropy, [_probs((4, 3), dtype), soft], rng=0)


def test_categorical_crossentropy_int_and_one_hot_gradients_agree():
    p, t = sg.matrix("p"), sg.vector("t", "int64")
    pv, tv = _probs((4, 3)), np.array([0, 2, 1, 2])
    g_int = _grad_value(nnet.categorical_crossentropy(p, t).sum(), p, {p: pv, t: tv})
    g_hot = _grad_value(nnet.categorical_crossentropy(p, nnet.one_hot(t, 3)).sum(), p, {p: pv, t: tv})
    np.testing.assert_allclose(g_int, g_hot, rtol=1e-12)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_binary_crossentropy_verify_grad(shape, dtype):
    p, t = _data(shape, 0.1, 0.9, dtype), _data(shape, 0, 1, dtype, seed=1)
    sg.verify_grad(nnet.binary_crossentropy, [p, t], rng=0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_sigmoid_binary_crossentropy_verify_grad(shape, dtype):
    x, t = _data(shape, -4, 4, dtype), _data(shape, 0, 1, dtype, seed=1)
    sg.verify_grad(nnet.sigmoid_binary_crossentropy, [x, t], rng=0)


def test_sigmoid_binary_crossentropy_broadcast_targets_and_second_derivative():
    sg.verify_grad(nnet.sigmoid_binary_crossentropy, [_data((2, 3), -4, 4), _data((3,), 0, 1, seed=1)], rng=0)
    t = _data((4,), 0, 1, seed=2)
    sg.verify_grad(lambda x: sg.grad(nnet.sigmoid_binary_crossentropy(x, t).sum(), x), [_data((4,), -3, 3)], rng=0)


# -- finite differences: hinge losses (data away from the kinks of relu and max) ---------------------
BIN_PRED = np.array([0.3, -0.5, 2.0, -1.7, 0.8, 1.6])
BIN_TARGET = np.array([1, 0, 1, 0, 0, 1])  # margins 1 - p * (2t - 1): 0.7, 0.5, -1, -0.7, 1.8, -0.6
MC_PRED = np.array([[2.0, 0.5, -1.0, 0.1], [0.3, 1.5, 0.9, -0.7], [-0.2, 0.4, 1.1, 0.6]])
MC_TARGET = np.array([0, 2, 3])  # margins -0.5 (inactive), 1.6, 1.5; no ties among the other classes


@pytest.mark.parametrize("fn", [nnet.binary_hinge_loss, nnet.squared_binary_hinge_loss])
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_hinge_verify_grad(fn, dtype):
    pred = BIN_PRED.astype(dtype)
    sg.verify_grad(lambda p: fn(p, BIN_TARGET), [pred], rng=0)
    sg.verify_grad(lambda p: fn(p, 2 * BIN_TARGET - 1, binary=False), [pred], rng=0)
    sg.verify_grad(lambda p, d: fn(p, BIN_TARGET, delta=d), [pred, np.asarray(1.0, dtype)], rng=0)


@pytest.mark.parametrize("fn", [nnet.multiclass_hinge_loss, nnet.squared_multiclass_hinge_loss])
@pytest.mark.parametrize("dtype", FLOATS)
def test_multiclass_hinge_verify_grad(fn, dtype):
    pred = MC_PRED.astype(dtype)
    sg.verify_grad(fn, [pred, MC_TARGET], rng=0)
    sg.verify_grad(lambda p: fn(p, np.eye(4, dtype=dtype)[MC_TARGET]), [pred], rng=0)
    sg.verify_grad(lambda p, d: fn(p, MC_TARGET, delta=d), [pred, np.asarray(1.0, dtype)], rng=0)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "relu"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_nnet_elementwise_verify_grad(name, dtype):
    x = np.array([[-2.5, -0.7, 0.4], [1.3, -1.9, 2.2]], dtype=dtype)  # no zero for relu
    sg.verify_grad(getattr(nnet, name), [x], rng=0)


# -- torch.autograd: values and gradients ------------------------------------------------------------
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _compare_torch(torch, sg_fn, torch_fn, arrays, wrt, rtol=1e-10, atol=1e-12):
    """Values of ``sg_fn`` and the gradients of ``sum(out * w)`` w.r.t. ``arrays[i] for i in wrt``, vs torch."""
    arrays = [np.asarray(a) for a in arrays]
    variables = [sg.tensor(f"a{i}", a.dtype, ndim=a.ndim) for i, a in enumerate(arrays)]
    out = sg_fn(*variables)
    w = _data(sg.function(variables, out.shape)(*arrays), seed=9)
    grads = sg.grad((out * w).sum(), [variables[i] for i in wrt])
    value, *sg_grads = sg.function(variables, [out, *grads])(*arrays)
    tensors = [torch.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    expected = torch_fn(*tensors)
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=rtol, atol=atol)
    for i, g in zip(wrt, sg_grads):
        np.testing.assert_allclose(g, tensors[i].grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize(("shape", "axis"), SOFTMAX_CASES)
@pytest.mark.parametrize(("name", "torch_name"), [("softmax", "softmax"), ("log_softmax", "log_softmax")])
def test_softmax_vs_torch(torch, name, torch_name, shape, axis):
    _compare_torch(
        torch,
        lambda x: getattr(nnet, name)(x, axis=axis),
        lambda x: getattr(torch, torch_name)(x, dim=axis),
        [_data(shape)],
        [0],
    )


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_vs_torch_at_huge_logits(torch, name):
    _compare_torch(torch, getattr(nnet, name), lambda x: getattr(torch, name)(x, dim=-1), [HUGE], [0])


def test_cross_entropy_vs_torch(torch):
    x, t = _data((5, 4)), np.array([0, 3, 1, 3, 2])
    reference = lambda x, t: torch.nn.functional.cross_entropy(x, t, reduction="none")  # noqa: E731
    _compare_torch(torch, lambda x, t: nnet.categorical_crossentropy(nnet.softmax(x), t), reference, [x, t], [0])
    nll = lambda x, t: -(nnet.log_softmax(x) * nnet.one_hot(t, 4)).sum(axis=-1)  # noqa: E731
    _compare_torch(torch, nll, reference, [x, t], [0])


def test_nll_of_probabilities_vs_torch(torch):
    p, t = _probs((4, 3)), np.array([2, 0, 0, 1])
    reference = lambda p, t: torch.nn.functional.nll_loss(torch.log(p), t, reduction="none")  # noqa: E731
    _compare_torch(torch, nnet.categorical_crossentropy, reference, [p, t], [0])


def test_binary_cross_entropy_vs_torch(torch):
    p, t = _data((3, 4), 0.05, 0.95), _data((3, 4), 0, 1, seed=1)
    reference = lambda p, t: torch.nn.functional.binary_cross_entropy(p, t, reduction="none")  # noqa: E731
    _compare_torch(torch, nnet.binary_crossentropy, reference, [p, t], [0])


@pytest.mark.parametrize("huge", [False, True])
def test_binary_cross_entropy_with_logits_vs_torch(torch, huge):
    x = np.array([-1000.0, 1000.0, -1000.0, 1000.0, 0.5, 3.0]) if huge else _data((6,), -5, 5)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.25]) if huge else _data((6,), 0, 1, seed=1)
    reference = lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")  # noqa: E731
    _compare_torch(torch, nnet.sigmoid_binary_crossentropy, reference, [x, t], [0, 1])


def test_binary_hinge_vs_torch(torch):
    signs = 2.0 * BIN_TARGET - 1
    _compare_torch(
        torch,
        lambda p: nnet.binary_hinge_loss(p, BIN_TARGET),
        lambda p: torch.relu(1 - p * torch.tensor(signs)),
        [BIN_PRED],
        [0],
    )
    _compare_torch(
        torch,
        lambda p: nnet.squared_binary_hinge_loss(p, signs, delta=0.5, binary=False),
        lambda p: torch.relu(0.5 - p * torch.tensor(signs)) ** 2,
        [BIN_PRED],
        [0],
    )


def _torch_multiclass_hinge(torch, p, t, delta=1.0):
    """``relu(max_{j != t} p[j] - p[t] + delta)`` per row, written with torch ops."""
    is_target = torch.nn.functional.one_hot(t, p.shape[1]).bool()
    best_other = p.masked_fill(is_target, -torch.inf).max(dim=1).values
    return torch.relu(best_other - p.gather(1, t[:, None])[:, 0] + delta)


@pytest.mark.parametrize("squared", [False, True])
def test_multiclass_hinge_vs_torch(torch, squared):
    fn = nnet.squared_multiclass_hinge_loss if squared else nnet.multiclass_hinge_loss
    power = 2 if squared else 1
    reference = lambda p, t: _torch_multiclass_hinge(torch, p, t, 0.8) ** power  # noqa: E731
    _compare_torch(torch, lambda p, t: fn(p, t, delta=0.8), reference, [MC_PRED, MC_TARGET], [0])


def test_multiclass_hinge_vs_torch_multi_margin_loss_with_two_classes(torch):
    """With two classes the max over the other classes is a single term: torch's multi_margin_loss (p=1) * 2."""
    p, t = _data((5, 2), seed=3), np.array([0, 1, 1, 0, 1])
    reference = lambda p, t: 2 * torch.nn.functional.multi_margin_loss(p, t, reduction="none")  # noqa: E731
    _compare_torch(torch, nnet.multiclass_hinge_loss, reference, [p, t], [0])


# -- gradient transforms -----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [sg.disconnected_grad, sg.stop_gradient, sg.zero_grad])
def test_gradient_transforms_are_identity_forward(fn):
    x = sg.matrix("x")
    value = _data((2, 3))
    np.testing.assert_array_equal(sg.function([x], fn(x))(value), value)
    np.testing.assert_array_equal(sg.function([x], sg.grad_clip(x, -1.0, 1.0))(value), value)
    np.testing.assert_array_equal(sg.function([x], sg.grad_scale(x, 3.0))(value), value)


@pytest.mark.parametrize("fn", [sg.disconnected_grad, sg.stop_gradient])
def test_disconnected_grad_blocks_the_gradient(fn):
    x = sg.vector("x")
    value = _data((4,))
    g = _grad_value((x * fn(x)).sum(), x, {x: value})  # only the first factor is differentiated
    np.testing.assert_allclose(g, value)
    g = _grad_value((fn(x) ** 2).sum() + (3 * x).sum(), x, {x: value})
    np.testing.assert_allclose(g, 3.0)


def test_disconnected_grad_as_the_only_path_raises():
    x = sg.vector("x")
    cost = (sg.disconnected_grad(x) ** 2).sum()
    with pytest.raises(sg.DisconnectedInputError, match="does not depend"):
        sg.grad(cost, x)
    g = sg.grad(cost, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(sg.function([x], g)(_data((4,))), np.zeros(4))


def test_disconnected_grad_blocks_second_derivatives():
    x = sg.vector("x")
    value = _data((3,))
    g = sg.grad((x**2 * sg.disconnected_grad(x)).sum(), x)  # 2 x * x, with the second factor constant
    np.testing.assert_allclose(sg.function([x], g)(value), 2 * value**2)
    np.testing.assert_allclose(_grad_value(g.sum(), x, {x: value}), 2 * value)  # not 4 x: still blocked


def test_zero_grad_gives_zeros_but_stays_connected():
    x = sg.matrix("x")
    value = _data((2, 3))
    g = sg.grad((sg.zero_grad(x) ** 2).sum(), x)  # no DisconnectedInputError
    np.testing.assert_array_equal(sg.function([x], g)(value), np.zeros((2, 3)))
    np.testing.assert_allclose(_grad_value((x * sg.zero_grad(x)).sum(), x, {x: value}), value)


@pytest.mark.parametrize("dtype", FLOATS)
def test_grad_clip_clips(dtype):
    x = sg.vector("x", dtype)
    w = np.array([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=dtype)
    value = _data((5,), dtype=dtype)
    g = _grad_value((sg.grad_clip(x, -1.0, 1.0) * w).sum(), x, {x: value})
    np.testing.assert_array_equal(g, np.clip(w, -1, 1))
    assert g.dtype == dtype
    # the clip applies to the gradient arriving at the op, then the chain rule continues
    g = _grad_value((sg.grad_clip(x, -1.0, 1.0) ** 2).sum(), x, {x: value})
    np.testing.assert_allclose(g, np.clip(2 * value, -1, 1), rtol=1e-6)


def test_grad_clip_symbolic_bounds_have_no_gradient():
    x, lo, hi = sg.vector("x"), sg.scalar("lo"), sg.scalar("hi")
    cost = (sg.grad_clip(x, lo, hi) * np.array([-3.0, 0.2, 4.0])).sum()
    g = sg.function([x, lo, hi], sg.grad(cost, x), on_unused_input="ignore")(_data((3,)), -2.0, 0.1)  # x unread
    np.testing.assert_array_equal(g, [-2.0, 0.1, 0.1])
    with pytest.raises(sg.DisconnectedInputError):
        sg.grad(cost, lo)


@pytest.mark.parametrize("multiplier", [3.0, -0.5, 0.0])
def test_grad_scale_scales(multiplier):
    x = sg.matrix("x")
    value, w = _data((2, 3)), _data((2, 3), seed=1)
    g = _grad_value((sg.grad_scale(x, multiplier) * w).sum(), x, {x: value})
    np.testing.assert_allclose(g, multiplier * w)
    g = _grad_value((sg.sin(sg.grad_scale(x, multiplier)) + x).sum(), x, {x: value})  # only one path is scaled
    np.testing.assert_allclose(g, multiplier * np.cos(value) + 1)


def test_grad_scale_symbolic_multiplier():
    x, m = sg.vector("x"), sg.scalar("m")
    g = sg.function([x, m], sg.grad((sg.grad_scale(x, m) ** 2).sum(), x))(np.array([1.0, -2.0]), 4.0)
    np.testing.assert_allclose(g, [8.0, -16.0])


def test_gradient_transform_bad_builds():
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphError):
        sg.grad_clip(x, np.zeros(2), 1.0)
    with pytest.raises(sg.SymgraphError):
        sg.grad_scale(x, sg.vector("m"))
    with pytest.raises(sg.SymgraphError):
        GradientTransform("zero")(x, 1.0)
    with pytest.raises(sg.SymgraphError):
        GradientTransform("bogus")(x)
