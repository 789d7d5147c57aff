"""sg.log1mexp, log(1 - exp(x)) for x <= 0: accurate over the whole range (against mpmath) on both backends,
NumPy's special values, its gradient and its sympy form."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import symgraph as sg
from tests.helpers import requires_sympy

try:
    import sympy

    from symgraph.rewrite.sympy_bridge import input_symbols, to_sympy
except ImportError:  # sympy is an optional extra: the proof is marked requires_sympy
    pass

FINITE = -np.concatenate([np.logspace(-30, np.log10(700), 300), [np.log(2), np.nextafter(np.log(2), 1)]])
SPECIAL = np.array([0.0, -0.0, -np.inf, 0.5, np.inf, np.nan])  # -inf, -inf, 0, nan, nan, nan


def _exact(x: np.ndarray) -> np.ndarray:
    with mpmath.workdps(400):  # 1 - exp(-700) holds 304 significant digits
        return np.array([float(mpmath.log(-mpmath.expm1(mpmath.mpf(float(v))))) for v in x])


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    return np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(got.dtype)).astype(np.float64)


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_accurate_everywhere_with_numpys_special_values(backend, dtype):
    x = sg.vector("x", dtype)
    f = sg.function([x], sg.log1mexp(x), backend=backend)
    finite = FINITE.astype(dtype)
    got = f(finite)
    assert got.dtype == dtype
    exact = _exact(finite)
    keep = np.isfinite(exact.astype(dtype)) & (exact.astype(dtype) != 0)  # float32 underflows below about -88
    assert _ulps(got[keep], exact[keep]).max() <= 3.0
    np.testing.assert_array_equal(f(SPECIAL.astype(dtype)), np.array([-np.inf, -np.inf, 0, np.nan, np.nan, np.nan]))


def test_numba_agrees_with_the_reference():
    x = sg.vector("x")
    data = np.concatenate([FINITE, SPECIAL])
    expected = sg.function([x], sg.log1mexp(x), backend="python")(data)
    got = sg.function([x], sg.log1mexp(x) * 2, backend="numba")(data)  # fused with its consumer
    np.testing.assert_allclose(got, 2 * expected, rtol=1e-15, atol=0)


def test_gradient():
    sg.verify_grad(sg.log1mexp, [np.array([-20.0, -3.0, -0.7, -0.5, -1e-3])], rng=0)
    x = sg.vector("x")
    data = np.array([-1e-8, -0.5, -40.0])
    (g,) = sg.function([x], [sg.grad(sg.log1mexp(x).sum(), x)])(data)
    np.testing.assert_allclose(g, -1 / np.expm1(-data), rtol=1e-14)


@requires_sympy
def test_sympy_form():
    x = sg.scalar("x")
    (expr,) = to_sympy([sg.log1mexp(x)], [x])
    (sx,) = input_symbols([x])
    assert expr == sympy.log(1 - sympy.exp(sx))


def test_is_a_public_elementwise_function():
    x = sg.matrix("x", "float32")
    out = sg.log1mexp(x)
    assert str(out.owner.op) == "Elemwise{log1mexp}" and out.dtype == "float32" and sg.log1mexp.__name__ == "log1mexp"
    assert sg.log1mexp(sg.vector("i", "int32")).dtype == "float64"
