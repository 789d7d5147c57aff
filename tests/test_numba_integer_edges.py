"""Integer ops on numba match the reference backend at their edges (MIN, -1, 0, MAX, wrap-around, division by
zero, negative powers) on every integer dtype. numba runs in a subprocess: an edge that traps (SIGFPE) fails
the tests instead of killing pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
from symgraph.types import INT_DTYPES

#: binary and unary integer ops, as functions of two symbolic vectors
OPS = {
    "floor_div": lambda a, b: a // b,
    "mod": lambda a, b: a % b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "maximum": sg.maximum,
    "minimum": sg.minimum,
    "true_div": lambda a, b: a / b,
    "and_": lambda a, b: a & b,
    "or_": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "neg": lambda a, b: -a,
    "abs": lambda a, b: abs(a),
    "sign": lambda a, b: sg.sign(a),
    "square": lambda a, b: sg.square(a),
    "invert": lambda a, b: ~a,
}
NEGATIVE_POWER = "Integers to negative integer powers are not allowed."
ROOT = Path(__file__).resolve().parents[1]


def edges(dtype: str) -> np.ndarray:
    info = np.iinfo(dtype)
    values = {info.min, info.min + 1, -1, 0, 1, 2, 3, 7, info.max - 1, info.max}
    return np.array(sorted(v for v in values if info.min <= v <= info.max), dtype)


def pairs(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of edge values."""
    e = edges(dtype)
    return np.repeat(e, e.size), np.tile(e, e.size)


def graph(dtype: str) -> tuple[list, list]:
    """One graph computing every op, and integer powers with exponents >= 0, on vectors of pairs."""
    a, b, e = sg.vector("a", dtype), sg.vector("b", dtype), sg.vector("e", dtype)
    return [a, b, e], [op(a, b) for op in OPS.values()] + [a**e]


def run(backend: str, dtype: str) -> tuple[list[np.ndarray], str]:
    """Every op's results on the edge pairs, and the error of an integer raised to a negative power ("" if none)."""
    a, b = pairs(dtype)
    keep = b >= 0
    inputs, outputs = graph(dtype)
    results = sg.function(inputs, outputs, backend=backend)(a, b, np.where(keep, b, 0).astype(dtype))
    results = [np.asarray(r) for r in results]
    if np.dtype(dtype).kind == "u":  # no negative exponent exists
        return results, ""
    power = sg.function(inputs[::2], inputs[0] ** inputs[2], backend=backend)
    try:
        power(np.array([2, 3], dtype), np.array([1, -1], dtype))
        error = ""
    except Exception as err:  # the backend's error type
        error = str(err)
    return results, error


def _numba_main(path: str) -> None:
    """In the subprocess: numba's results for every dtype, saved to ``path``."""
    saved = {}
    for dtype in INT_DTYPES:
        results, error = run("numba", dtype)
        saved.update({f"{dtype}/{k}": r for k, r in enumerate(results)})
        saved[f"{dtype}/error"] = np.array(error)
    np.savez(path, **saved)


@pytest.fixture(scope="module")
def numba_results(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("integer_edges") / "numba.npz"
    code = f"from tests.test_numba_integer_edges import _numba_main; _numba_main({str(path)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"numba subprocess died (return code {done.returncode}):\n{done.stderr[-3000:]}"
    with np.load(path) as data:
        return dict(data)


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_edges_match_the_reference(numba_results, dtype):
    expected, expected_error = run("python", dtype)
    a, b = pairs(dtype)
    for k, name in enumerate([*OPS, "pow"]):
        got, want = numba_results[f"{dtype}/{k}"], expected[k]
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        same = got == want
        if got.dtype.kind == "f":
            same |= np.isnan(got) & np.isnan(want)
        assert same.all(), f"{name}: at a={a[~same]}, b={b[~same]}: numba {got[~same]}, reference {want[~same]}"
    error = str(numba_results[f"{dtype}/error"])
    if dtype.startswith("int"):
        assert NEGATIVE_POWER in expected_error and NEGATIVE_POWER in error, (expected_error, error)


def test_edges_include_the_trapping_cases():
    """INT64_MIN // -1 and INT64_MIN % -1 (a hardware trap in x86's idiv) are among the pairs."""
    a, b = pairs("int64")
    assert ((a == np.iinfo(np.int64).min) & (b == -1)).any() and ((a == 7) & (b == 0)).any()


WRAPPING = {
    "sub": lambda k, i: abs(k - i),
    "add": lambda k, i: abs(k + i + i),
    "neg": lambda k, i: abs(-(k - i)),
    "mul": lambda k, i: abs(k * i),
    "square": lambda k, i: abs(sg.sqr(i + k)),
    "pow": lambda k, i: abs((i + k) ** 3),
    "sum": lambda k, i: abs(sg.sum(i - k)),
    "prod": lambda k, i: abs(sg.prod(i + k)),
    "fused_sum": lambda k, i: abs(sg.sum(abs(i - k) + 1)) + k,
}


@pytest.mark.parametrize("name", list(WRAPPING))
def test_abs_of_wrapped_arithmetic_matches_the_reference(name):
    """numba marks signed arithmetic no-signed-wrap, so LLVM once folded abs(k - i) as if k - i could not wrap
    (found by the 10,000-graph fuzz); every wrapping op and reduction, read through abs, matches NumPy."""
    k, i = sg.scalar("k", "int64"), sg.vector("i", "int64")
    values = (np.int64(-8), np.array([np.iinfo(np.int64).max, 5, np.iinfo(np.int64).min + 3]))
    expected = sg.function([k, i], WRAPPING[name](k, i), backend="python")(*values)
    np.testing.assert_array_equal(sg.function([k, i], WRAPPING[name](k, i), backend="numba")(*values), expected)


def test_abs_of_a_wrapped_difference_matches_the_reference():
    """The fuzz's case, with NumPy's value written out."""
    k, i = sg.scalar("k", "int64"), sg.vector("i", "int64")
    values = (np.int64(-8), np.array([np.iinfo(np.int64).max, 5]))
    expected = sg.function([k, i], abs(k - i), backend="python")(*values)
    np.testing.assert_array_equal(expected, [np.iinfo(np.int64).max - 6, 13])
    np.testing.assert_array_equal(sg.function([k, i], abs(k - i), backend="numba")(*values), expected)
