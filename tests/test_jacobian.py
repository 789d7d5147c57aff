"""jacobian and hessian of expressions of any size: symbolic sizes (a scan over the elements) and static ones
(unrolled up to ``JACOBIAN_UNROLL`` elements), against analytic derivatives and finite differences, on both
backends; several wrt variables, scalar expressions, ``consider_constant`` and ``disconnected_inputs``."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.jacobian import JACOBIAN_UNROLL
from symgraph.ops.scan import Scan
from tests.helpers import numeric_jacobian

BACKENDS = ["python", "numba"]


def has_scan(outputs) -> bool:
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return any(isinstance(v.owner.op, Scan) for v in sg.ancestors(outputs) if v.owner is not None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_jacobian_of_a_vector_of_symbolic_length(backend):
    """y = tanh(x) * sum(x) + x[::-1]**2: one compiled function serves every length, 0 and 1 included."""
    x = sg.vector("x")
    jac = sg.jacobian(sg.tanh(x) * x.sum() + x[::-1] ** 2, x)
    assert jac.type.shape == (None, None) and has_scan(jac)
    f = sg.function([x], jac, backend=backend)
    for n in [0, 1, 5, 40]:
        v = np.random.default_rng(n).normal(size=n)
        t = np.tanh(v)
        expected = np.diag((1 - t**2) * v.sum()) + t[:, None] + np.fliplr(np.diag(2 * v[::-1]))
        np.testing.assert_allclose(f(v), expected.reshape(n, n), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_jacobian_of_a_matrix_wrt_a_matrix_matches_finite_differences(backend):
    a, w = sg.matrix("a"), sg.matrix("w")
    y = sg.sin(sg.dot(a, w)) * w.sum(axis=0)
    jac = sg.jacobian(y, w)
    assert jac.ndim == 4
    f = sg.function([a, w], jac, backend=backend)
    rng = np.random.default_rng(0)
    av, wv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    forward = sg.function([a, w], y)
    np.testing.assert_allclose(f(av, wv), numeric_jacobian(lambda p: forward(av, p), wv), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_of_symbolic_size(backend):
    """cost = sum(x**3) * sum(x): H[j, k] = 6 x_j sum(x) [j == k] + 3 x_j**2 + 3 x_k**2."""
    x = sg.vector("x")
    hess = sg.hessian((x**3).sum() * x.sum(), x)
    f = sg.function([x], hess, backend=backend)
    for n in [0, 3, 30]:
        v = np.random.default_rng(n).normal(size=n)
        expected = np.diag(6 * v * v.sum()) + 3 * v[:, None] ** 2 + 3 * v[None, :] ** 2
        np.testing.assert_allclose(f(v), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_of_a_matrix_matches_finite_differences_of_the_gradient(backend):
    w, x = sg.matrix("w"), sg.matrix("x")
    cost = (sg.tanh(sg.dot(x, w)) ** 2).sum() + (w**4).sum()
    f = sg.function([x, w], sg.hessian(cost, w), backend=backend)
    gradient = sg.function([x, w], sg.grad(cost, w))
    rng = np.random.default_rng(1)
    xv, wv = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    hess = f(xv, wv)
    assert hess.shape == (3, 2, 3, 2)
    np.testing.assert_allclose(hess, numeric_jacobian(lambda p: gradient(xv, p), wv), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("length", [None, 3, JACOBIAN_UNROLL + 1])
def test_jacobian_wrt_several_inputs(backend, length):
    """y = a * x + b * x**2 + s: d/dx diagonal, d/da = diag(x), d/db = x**2, d/ds = ones; the unrolled form
    (static length up to JACOBIAN_UNROLL) and the scan agree with it."""
    n = length or 6
    x, a, b, s = sg.vector("x", shape=(length,)), sg.vector("a", shape=(length,)), sg.scalar("b"), sg.scalar("s")
    jacs = sg.jacobian(a * x + b * x**2 + s, [x, a, b, s])
    assert isinstance(jacs, list) and len(jacs) == 4
    assert has_scan(jacs) == (length is None or length > JACOBIAN_UNROLL)
    rng = np.random.default_rng(2)
    xv, av, bv = rng.normal(size=n), rng.normal(size=n), 0.7
    f = sg.function([x, a, b, s], jacs, backend=backend, on_unused_input="ignore")  # d/ds is ones: s itself unused
    dx, da, db, ds = f(xv, av, bv, 1.5)
    np.testing.assert_allclose(dx, np.diag(av + 2 * bv * xv), rtol=1e-12)
    np.testing.assert_allclose(da, np.diag(xv), rtol=1e-12)
    np.testing.assert_allclose(db, xv**2, rtol=1e-12)
    np.testing.assert_allclose(ds, np.ones(n))


def test_jacobian_of_a_scalar_is_its_gradient():
    x, w = sg.vector("x"), sg.matrix("w")
    cost = (sg.dot(w, x) ** 2).sum()
    jx, jw = sg.jacobian(cost, [x, w])
    gx, gw = sg.grad(cost, [x, w])
    rng = np.random.default_rng(3)
    xv, wv = rng.normal(size=3), rng.normal(size=(2, 3))
    results = sg.function([x, w], [jx, jw, gx, gw])(xv, wv)
    np.testing.assert_allclose(results[0], results[2])
    np.testing.assert_allclose(results[1], results[3])
    assert sg.jacobian(cost, x).ndim == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_consider_constant(backend):
    """y = x * c with c = sum(x) held constant: the jacobian is diag(c), as Theano's consider_constant gives."""
    x = sg.vector("x")
    c = x.sum()
    y = x * c
    f = sg.function([x], [sg.jacobian(y, x, consider_constant=[c]), sg.jacobian(y, x)], backend=backend)
    v = np.array([0.5, -1.0, 2.0])
    held, full = f(v)
    np.testing.assert_allclose(held, np.diag(np.full(3, v.sum())))
    np.testing.assert_allclose(full, np.diag(np.full(3, v.sum())) + v[:, None])
    hess = sg.hessian((x**2).sum() * c, x, consider_constant=[c])
    np.testing.assert_allclose(sg.function([x], hess, backend=backend)(v), 2 * v.sum() * np.eye(3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_disconnected_inputs(backend):
    x, z = sg.vector("x"), sg.vector("z")
    y = sg.exp(x)
    with pytest.raises(sg.DisconnectedInputError):
        sg.jacobian(y, [x, z])
    with pytest.raises(sg.DisconnectedInputError):
        sg.hessian(x.sum(), x)  # the gradient, ones, does not depend on x
    jx, jz = sg.jacobian(y, [x, z], disconnected_inputs="ignore")
    f = sg.function([x, z], [jx, jz, sg.hessian(x.sum(), x, disconnected_inputs="ignore")], backend=backend)
    v = np.array([0.1, 0.2])
    dx, dz, hess = f(v, np.zeros(5))
    np.testing.assert_allclose(dx, np.diag(np.exp(v)))
    np.testing.assert_array_equal(dz, np.zeros((2, 5)))
    np.testing.assert_array_equal(hess, np.zeros((2, 2)))
