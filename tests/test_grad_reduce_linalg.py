"""Gradients of reductions (sum, prod, max/min, logsumexp, mean/var/std) and of matmul, dot, outer, tensordot."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.reduce import Argmax, Argmin, Reduce
from tests.helpers import evaluate, rand

AXES = [None, 0, -1, (0, 2), (-1, -3)]


def _distinct(shape, dtype="float64", seed=0):
    """Values with well-separated elements (no ties, no near-ties) in random order."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.5 - n / 4 + rng.uniform(0, 0.1, n)).reshape(shape).astype(dtype)


def _grad(fn, *values):
    """Numeric gradients of sum(fn(*vars)) with respect to every input."""
    variables = [sg.tensor(dtype=v.dtype, shape=(None,) * v.ndim) for v in values]
    cost = fn(*variables).sum()
    return evaluate(sg.grad(cost, variables), dict(zip(variables, values)))


# -- reductions: finite differences --------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "max", "min", "logsumexp"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_verify_grad(name, axis, keepdims):
    x = _distinct((2, 3, 2)) * 0.3 + 0.05  # distinct (max/min), nonzero (prod), non-constant (std)
    sg.verify_grad(lambda v: getattr(sg, name)(v, axis=axis, keepdims=keepdims), [x], rng=0)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "max", "logsumexp"])
def test_reduction_verify_grad_float32(name):
    x = _distinct((3, 4), "float32") * 0.2 + 0.05
    sg.verify_grad(lambda v: getattr(sg, name)(v, axis=1), [x], rng=1)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "logsumexp"])
def test_reduction_verify_grad_edge_shapes(name):
    sg.verify_grad(lambda v: getattr(sg, name)(v, axis=0), [np.zeros((0, 3))], rng=0)  # empty axis
    sg.verify_grad(lambda v: getattr(sg, name)(v, axis=()), [rand((2, 3))], rng=0)  # no axis reduced
    sg.verify_grad(lambda v: getattr(sg, name)(v), [np.array(0.7)], rng=0)  # 0-d


def test_sum_dtype_and_broadcast_input():
    x = sg.tensor(dtype="float32", shape=(1, None))
    cost = (sg.sum(x + sg.ones((3, 1), "float32"), axis=0, dtype="float64") ** 2).sum()
    (g,) = evaluate([sg.grad(cost, x)], {x: np.array([[1.0, 2.0]], "float32")})
    assert g.dtype == np.float32 and g.shape == (1, 2)
    np.testing.assert_allclose(g, 2 * 3 * 3 * np.array([[2.0, 3.0]]))


# -- prod with zeros -------------------------------------------------------------------------------
def _prod_others(x, axis):
    """Reference: the product of all other elements of each reduction group, by brute force."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty_like(moved)
    for i in range(moved.shape[-1]):
        out[..., i] = np.prod(np.delete(moved, i, axis=-1), axis=-1)
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize(
    "x",
    [
        np.array([[2.0, 0.0, 3.0, -1.5], [1.0, 2.0, 0.5, 4.0], [0.0, 0.0, 2.0, 3.0]]),  # one, none, two zeros
        np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 5.0, 0.5, -2.0], [1.0, 1.0, 1.0, 0.0]]),
    ],
)
def test_prod_with_zeros_exact(x):
    (g,) = _grad(lambda v: sg.prod(v, axis=1), x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, _prod_others(x, 1), rtol=1e-12)
    sg.verify_grad(lambda v: sg.prod(v, axis=1), [x], rng=0)
    sg.verify_grad(lambda v: sg.prod(v), [x[:2, :3]], rng=0)


def test_prod_second_derivative_through_zero():
    # d/dx_j of d(prod)/dx_i is the product of the elements other than i and j, also where one is zero
    x = np.array([2.0, 0.0, 3.0, -1.5])
    sg.verify_grad(lambda v: sg.grad(sg.prod(v), v), [x], rng=0)


# -- max / min ties --------------------------------------------------------------------------------
def test_max_min_ties_every_extremal_element():
    x = np.array([[1.0, 3.0, 3.0], [-2.0, -2.0, 0.5]])
    (g_max,) = _grad(lambda v: sg.max(v, axis=1), x)
    (g_min,) = _grad(lambda v: sg.min(v, axis=1), x)
    np.testing.assert_array_equal(g_max, [[0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(g_min, [[1, 0, 0], [1, 1, 0]])


def test_logsumexp_stable_at_large_magnitudes():
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -1000.0]])
    (g,) = _grad(lambda v: sg.logsumexp(v, axis=1), x)
    expected = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(g, expected / expected.sum(1, keepdims=True), rtol=1e-12)
    sg.verify_grad(lambda v: sg.logsumexp(v, axis=1), [x], rng=0)


def test_no_gradient_ops():
    x = sg.matrix(dtype="float64")
    for out in [sg.argmax(x, 1), sg.argmin(x), sg.all(x, 0), sg.any(x)]:
        assert out.owner.op.vjp(out.owner, [None]) == [None]
    assert isinstance(sg.argmax(x, 1).owner.op, Argmax) and isinstance(sg.argmin(x).owner.op, Argmin)
    i = sg.matrix(dtype="int32")
    node = sg.sum(i).owner
    assert isinstance(node.op, Reduce) and node.op.vjp(node, [sg.scalar(dtype="int64")]) == [None]
    # an index is piecewise constant in x: only the sum contributes to the gradient
    cost = sg.cast(sg.argmax(x), "float64") + sg.sum(x)
    (g,) = evaluate([sg.grad(cost, x)], {x: rand((2, 2))})
    np.testing.assert_array_equal(g, np.ones((2, 2)))


# -- matmul / dot / outer / tensordot: finite differences ------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),  # vector . vector
    ((2, 3), (3,)),  # matrix . vector
    ((3,), (3, 2)),  # vector . matrix
    ((2, 3), (3, 4)),  # matrix . matrix
    ((2, 2, 3), (3, 2)),  # batched . matrix (b broadcast over the batch)
    ((3,), (2, 3, 2)),  # vector . batched
    ((2, 2, 3), (3,)),  # batched . vector
    ((2, 1, 2, 3), (3, 3, 2)),  # batch axes broadcasting both ways
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
def test_matmul_verify_grad(shape_a, shape_b):
    a, b = rand(shape_a, seed=1), rand(shape_b, seed=2)

    def fn(x, y):  # batch axes of length 1 must be declared broadcastable
        x = sg.specify_shape(x, [1 if d == 1 and i < len(shape_a) - 2 else None for i, d in enumerate(shape_a)])
        y = sg.specify_shape(y, [1 if d == 1 and i < len(shape_b) - 2 else None for i, d in enumerate(shape_b)])
        return sg.matmul(x, y)

    sg.verify_grad(fn, [a, b], rng=0)


def test_matmul_static_broadcast_batch_gradient_shapes():
    a = sg.tensor(dtype="float64", shape=(1, 2, 3))
    b = sg.tensor(dtype="float64", shape=(4, 3, 2))
    ga, gb = sg.grad(sg.matmul(a, b).sum(), [a, b])
    va, vb = rand((1, 2, 3)), rand((4, 3, 2))
    got_a, got_b = evaluate([ga, gb], {a: va, b: vb})
    assert got_a.shape == (1, 2, 3) and got_b.shape == (4, 3, 2)
    np.testing.assert_allclose(got_a, (np.ones((4, 2, 2)) @ vb.swapaxes(-1, -2)).sum(0, keepdims=True))
    np.testing.assert_allclose(got_b, np.broadcast_to(va.swapaxes(-1, -2) @ np.ones((2, 2)), (4, 3, 2)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_verify_grad(dtype):
    a, b, v = rand((2, 3), dtype, 1), rand((3, 2), dtype, 2), rand((3,), dtype, 3)
    sg.verify_grad(sg.dot, [a, b], rng=0)
    sg.verify_grad(sg.dot, [v, v], rng=0)
    sg.verify_grad(sg.dot, [a, v], rng=0)
    sg.verify_grad(sg.dot, [rand((2, 2, 3), dtype, 4), b], rng=0)  # np.dot of a 3-D operand: tensordot
    sg.verify_grad(sg.dot, [np.asarray(1.5, dtype), a], rng=0)


def test_dot_mixed_int_operand():
    a, w = sg.matrix(dtype="int64"), sg.vector(dtype="float64")
    (g,) = evaluate([sg.grad(sg.dot(a, w).sum(), w)], {a: np.array([[1, 2], [3, 4]]), w: np.ones(2)})
    np.testing.assert_allclose(g, [4.0, 6.0])


def test_dot_empty_inner():
    sg.verify_grad(sg.dot, [np.zeros((2, 0)), np.zeros((0, 3))], rng=0)


def test_outer_verify_grad():
    sg.verify_grad(sg.outer, [rand((3,), seed=1), rand((2, 2), seed=2)], rng=0)


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "axes"),
    [((2, 3, 2), (3, 2, 2), 2), ((2, 3), (3, 2), 1), ((2, 3), (2, 2), 0), ((3, 2, 2), (2, 3), ([0, 2], [1, 0]))],
)
def test_tensordot_verify_grad(shape_a, shape_b, axes):
    a, b = rand(shape_a, seed=1), rand(shape_b, seed=2)
    sg.verify_grad(lambda x, y: sg.tensordot(x, y, axes), [a, b], rng=0)


# -- second derivatives ----------------------------------------------------------------------------
def test_grad_of_grad_dot():
    matrix, v = rand((2, 3), seed=1), rand((3,), seed=2)
    sg.verify_grad(lambda a: sg.grad(sg.dot(a, sg.constant(v)).sum() ** 2, a), [matrix], rng=0)


def test_hessian_vector_product_reductions():
    x, p = rand((2, 3), seed=1), rand((2, 3), seed=2)

    def fn(v):
        cost = sg.logsumexp(v, axis=1).sum() + sg.prod(v, axis=0).sum() + sg.var(v) * sg.max(v)
        return sg.hessian_vector_product(cost, v, sg.constant(p))

    sg.verify_grad(fn, [x], rng=0)


def test_grad_of_grad_batched_matmul():
    a, b = rand((2, 2, 3), seed=1), rand((3, 2), seed=2)
    sg.verify_grad(lambda x, y: sg.grad((sg.matmul(x, y) ** 2).sum(), y), [a, b], rng=0)


# -- torch comparisons -----------------------------------------------------------------------------
def _torch_check(sg_fn, torch_fn, *values, rtol=1e-10):
    """Values and gradients of sum(fn(*inputs) * weights) agree with torch.autograd."""
    torch = pytest.importorskip("torch")
    variables = [sg.tensor(dtype=v.dtype, shape=(None,) * v.ndim) for v in values]
    out = sg_fn(*variables)
    weights = rand(evaluate(out.shape, dict(zip(variables, values))), seed=9)
    got = evaluate([out, *sg.grad((out * weights).sum(), variables)], dict(zip(variables, values)))
    tensors = [torch.tensor(v, requires_grad=True) for v in values]
    ref = torch_fn(*tensors)
    (ref * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(got[0], ref.detach().numpy(), rtol=rtol, atol=1e-12)
    for g, t in zip(got[1:], tensors):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("axis", [None, 1, (0, 2), -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "amax", "logsumexp"])
def test_reductions_vs_torch(name, axis, keepdims):
    torch = pytest.importorskip("torch")
    x = _distinct((2, 3, 4)) * 0.2 + 0.05
    dim = tuple(range(3)) if axis is None else axis
    sg_name = {"amax": "max"}.get(name, name)

    def torch_fn(t):
        if name == "prod":  # torch.prod takes one dim
            for d in sorted((dim,) if isinstance(dim, int) else [d % 3 for d in dim], reverse=True):
                t = torch.prod(t, d, keepdim=keepdims)
            return t
        if name in ("var", "std"):
            return getattr(torch, name)(t, dim, correction=0, keepdim=keepdims)
        return getattr(torch, name)(t, dim, keepdim=keepdims)

    _torch_check(lambda v: getattr(sg, sg_name)(v, axis=axis, keepdims=keepdims), torch_fn, x)


def test_prod_with_zeros_vs_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 0.0, 3.0, -1.5], [1.0, 2.0, 0.5, 4.0], [0.0, 0.0, 2.0, 3.0]])
    _torch_check(lambda v: sg.prod(v, axis=1), lambda t: torch.prod(t, 1), x)


def test_logsumexp_large_vs_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -1000.5]])
    _torch_check(lambda v: sg.logsumexp(v, axis=1), lambda t: torch.logsumexp(t, 1), x)


@pytest.mark.parametrize(("shape_a", "shape_b"), [s for s in MATMUL_SHAPES if 1 not in s[0] + s[1]])
def test_matmul_vs_torch(shape_a, shape_b):
    torch = pytest.importorskip("torch")
    _torch_check(sg.matmul, torch.matmul, rand(shape_a, seed=1), rand(shape_b, seed=2))


def test_matmul_static_broadcast_vs_torch():
    torch = pytest.importorskip("torch")
    _torch_check(
        lambda x, y: sg.matmul(sg.specify_shape(x, (1, None, None)), y),
        torch.matmul,
        rand((1, 2, 3), seed=1),
        rand((4, 3, 2), seed=2),
    )


def test_outer_vs_torch():
    torch = pytest.importorskip("torch")
    _torch_check(sg.outer, torch.outer, rand((3,), seed=1), rand((4,), seed=2))


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "axes"),
    [((3, 2, 2), (2, 2, 3), 2), ((2, 3), (3, 4), 1), ((3, 2, 2), (2, 3), ([0, 2], [1, 0]))],
)
def test_tensordot_vs_torch(shape_a, shape_b, axes):
    torch = pytest.importorskip("torch")
    torch_axes = axes if isinstance(axes, int) else tuple(axes)
    _torch_check(
        lambda x, y: sg.tensordot(x, y, axes),
        lambda x, y: torch.tensordot(x, y, torch_axes),
        rand(shape_a, seed=1),
        rand(shape_b, seed=2),
    )
