"""backends.numba.vecmath: accuracy against high-precision references, NumPy's special values, and loops that
really vectorize (a structural check of the generated assembly)."""

from __future__ import annotations

import functools
import re

import mpmath
import numba
import numpy as np
import pytest
import scipy.special

from backends.numba.scalar import vector_ops
from backends.numba.vecmath import BEST, FUNCTIONS, enable_libmvec, vector_math
from backends.numba.vecmath_poly import MAKERS, TRIG_LIMIT
from symgraph.ops import scalar
from symgraph.ops.scalar import OPS

DTYPES = ("float32", "float64")
#: max error in ulps against a high-precision reference, by implementation
BOUND = {"poly": 3.0, "libmvec": 4.0}
needs_libmvec = pytest.mark.skipif(not enable_libmvec(), reason="glibc's libmvec is not available for this target")


def _names(impl: str, dtype: str) -> tuple[str, ...]:
    return tuple(op.name for op in FUNCTIONS if vector_math(op, dtype, impl) is not None)


@functools.cache
def _kernel(impl: str, dtype: str):
    """One loop computing every function of ``impl`` (one output row each): one compilation per case."""
    names = _names(impl, dtype)
    lines = [f"        out[{k}, i] = f{k}(v)\n" for k in range(len(names))]
    source = "def kernel(x, out):\n    for i in range(x.shape[0]):\n        v = x[i]\n" + "".join(lines)
    namespace = {f"f{k}": vector_math(OPS[name], dtype, impl) for k, name in enumerate(names)}
    exec(source, namespace)
    return names, numba.njit(error_model="numpy")(namespace["kernel"])


def _special_inputs(dtype: str) -> np.ndarray:
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 2.0, -2.0, 0.5625, 0.9, -0.9, 4.0, 6.0, 20.0,
              1e-8, -1e-8, 2.0**-25, -(2.0**-25), 1e-30, 1e-300, 1e4, -1e4, 1e5, 1e6, -1e7, 1e10, 1e20, -1e30, 1e300,
              88.72283, 88.72284, -87.33, -103.28, -103.98, 709.78, 709.79, -745.13, -745.14, 1.5707964, 3.1415927,
              -0.99999994, -0.9999999999999999, 1.0000001]  # fmt: skip
    info = np.finfo(dtype)
    values += [info.tiny, -info.tiny, info.smallest_subnormal, -info.smallest_subnormal, info.max, -info.max]
    with np.errstate(over="ignore"):
        return np.array(values, dtype=dtype)


@functools.cache
def _inputs(dtype: str) -> np.ndarray:
    """Typical ranges, random bit patterns over every binade, and the special values (last)."""
    rng = np.random.default_rng(1)
    parts = [rng.uniform(-r, r, 3000) for r in (1e-3, 1.0, 10.0, 100.0, 1000.0)]
    itype = np.uint32 if dtype == "float32" else np.uint64
    random_bits = rng.integers(0, np.iinfo(itype).max, 6000, dtype=itype, endpoint=True).view(dtype)
    parts.append(random_bits[np.isfinite(random_bits)])
    return np.concatenate([np.concatenate(parts).astype(dtype), _special_inputs(dtype)])


def _numpy(name: str, x: np.ndarray) -> np.ndarray:
    """What the reference backend computes (the NumPy/scipy function of symgraph's scalar op)."""
    with np.errstate(all="ignore"):
        return OPS[name].impl(x)


def _exact(name: str, x: np.ndarray) -> np.ndarray:
    """``name`` at ``x`` in more than the dtype's precision (float64 for float32, long double or mpmath)."""
    wide = np.float64 if x.dtype == np.float32 else np.longdouble
    xw = x.astype(wide)
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            e = np.exp(-np.abs(xw))
            return np.where(xw >= 0, 1, e) / (1 + e)
        if name not in ("erf", "erfc"):
            return OPS[name].impl(xw)
        if x.dtype == np.float32:
            return getattr(scipy.special, name)(xw)
    fn = getattr(mpmath, name)
    with mpmath.workdps(30):
        exact = [str(fn(mpmath.mpf(float(v)))) for v in np.clip(x, -30, 30).astype(np.float64)]
    return np.where(np.isnan(x), np.nan, np.array(exact, dtype=np.longdouble))


def _ulps(y: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|y - exact| in units of the last place of y's dtype at exact (the smaller one at a power of 2); 0 where both
    are the same inf or NaN."""
    with np.errstate(all="ignore"):
        rounded = exact.astype(y.dtype)
        ulp = np.spacing(np.nextafter(np.abs(rounded), 0)).astype(exact.dtype)
        err = np.abs(y.astype(exact.dtype) - exact) / ulp
    same = (np.isnan(y) & np.isnan(exact)) | (np.isinf(y) & (y == rounded))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


@functools.cache
def _results(impl: str, dtype: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    names, kernel = _kernel(impl, dtype)
    x = _inputs(dtype)
    out = np.empty((len(names), x.size), dtype)
    kernel(x, out)
    return names, x, out


def _cases(impl: str) -> list:
    marks = [needs_libmvec] if impl == "libmvec" else []
    return [pytest.param(impl, dtype, marks=marks, id=f"{impl}-{dtype}") for dtype in DTYPES]


@pytest.mark.parametrize("impl, dtype", _cases("poly") + _cases("libmvec"))
def test_accuracy_and_special_values(impl, dtype):
    names, x, out = _results(impl, dtype)
    if x.dtype == np.float64 and impl == "poly":
        assert set(names) == {op.name for op in MAKERS}
    special = slice(x.size - _special_inputs(dtype).size, None)
    failures = []
    for name, y in zip(names, out):
        keep = np.ones(x.size, bool)
        if name in ("erf", "erfc") and dtype == "float64":  # mpmath is slow: every 8th input and the specials
            keep[: special.start] = np.arange(special.start) % 8 == 0
        err = _ulps(y[keep], _exact(name, x[keep]))
        if err.max() > BOUND[impl]:
            failures.append(f"{name}: {err.max():.2f} ulp at x={x[keep][np.argmax(err)]!r}")
        expected = _numpy(name, x[special])
        got = y[special]
        same = (got == expected) & (np.signbit(got) == np.signbit(expected)) | np.isnan(got) & np.isnan(expected)
        exact_required = ~np.isfinite(x[special]) | (x[special] == 0)  # ±0, ±inf, NaN in: NumPy's result out
        if not same[exact_required].all():
            bad = np.flatnonzero(exact_required & ~same)
            failures.append(f"{name}: {x[special][bad]} -> {got[bad]}, NumPy {expected[bad]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("impl, dtype", _cases("poly") + _cases("libmvec"))
def test_scalar_remainder_matches_vector_body(impl, dtype):
    """An element gets the same bits whether the vectorized body or the scalar remainder loop computes it."""
    names, kernel = _kernel(impl, dtype)
    _, x, out = _results(impl, dtype)
    picks = np.linspace(0, x.size - 1, 40).astype(int)
    one = np.empty((len(names), 1), dtype)
    for j in picks:
        kernel(x[j : j + 1], one)
        np.testing.assert_array_equal(one[:, 0], out[:, j], err_msg=f"x={x[j]!r}: {names}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_trig_arguments_use_libm(dtype):
    """sin/cos beyond TRIG_LIMIT take libm's full range reduction, lane by lane."""
    names, kernel = _kernel("poly", dtype)
    limit = TRIG_LIMIT[dtype]
    x = np.array([limit * 1.01, -limit * 3.7, 1e20, 3e38, 0.5, limit * 0.99, 1e30, 2.0, -7.0], dtype)
    out = np.empty((len(names), x.size), dtype)
    kernel(x, out)
    for name in ("sin", "cos"):
        err = _ulps(out[names.index(name)], _exact(name, x))
        assert err.max() <= 1.0, (name, err)


def _kernel_asm(kernel) -> str:
    """The assembly of the loop function itself (not its Python wrapper)."""
    signature = kernel.signatures[0]
    mangled = kernel.overloads[signature].fndesc.mangled_name
    asm = kernel.inspect_asm(signature)
    start = asm.index(f"\n{mangled}:")
    return asm[start : asm.index(".Lfunc_end", start)]


@functools.cache
def _single_loop(name: str, impl: str):
    fn = vector_math(OPS[name], "float32", impl)

    @numba.njit(error_model="numpy")
    def loop(x, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    x = np.linspace(1.0, 2.0, 64, dtype=np.float32)
    loop(x, np.empty_like(x))
    return loop


def _vectorize_cases() -> list:
    cases = [pytest.param(op.name, "poly", id=f"poly-{op.name}") for op in MAKERS]
    if enable_libmvec():
        cases += [pytest.param(name, "libmvec", id=f"libmvec-{name}") for name in _names("libmvec", "float32")]
    return cases


@pytest.mark.parametrize("name, impl", _vectorize_cases())
def test_float32_loop_vectorizes(name, impl):
    asm = _kernel_asm(_single_loop(name, impl))
    symbols = set(re.findall(r"\$([A-Za-z_]\w*)", asm))
    # properties of every x86-64 CPU with AVX2: the vector width LLVM picks (8 or 16 f32 lanes) is the host's
    assert all(s.startswith(("_ZGV", "sg_vm_")) for s in symbols), symbols  # no plain scalar libm call
    if impl == "libmvec":
        assert any(re.fullmatch(r"_ZGV[a-z]N\d+v_\w+", s) for s in symbols), symbols
        assert re.search(r"\bvmov[au]ps\b[^\n]*%[yz]mm", asm)
    else:
        assert re.search(r"\bvfn?m(add|sub)\d+ps\b[^\n]*%[yz]mm", asm), "no packed single-precision FMA"
        # libm only in the rarely taken branch: the scalar form or a masked vector variant of any width
        assert all(re.fullmatch(r"sg_vm_(sin|cos)f(_m\d+)?", s) for s in symbols), symbols


def test_callers_fast_math_flags_do_not_leak_in():
    """Reduction kernels use reassoc (and a caller may use more): results stay exactly the same."""
    exp, log1p, sin, tanh = (
        vector_math(op, "float32", "poly") for op in (scalar.exp, scalar.log1p, scalar.sin, scalar.tanh)
    )

    def body(x, out):
        for i in range(x.shape[0]):
            out[0, i] = exp(x[i])
            out[1, i] = log1p(x[i])
            out[2, i] = sin(x[i])
            out[3, i] = tanh(x[i])

    x = _inputs("float32")
    plain, fast = np.empty((4, x.size), np.float32), np.empty((4, x.size), np.float32)
    numba.njit(error_model="numpy")(body)(x, plain)
    numba.njit(error_model="numpy", fastmath=True)(body)(x, fast)
    np.testing.assert_array_equal(fast, plain)


def test_lookup():
    """vecmath provides exactly the ops whose numba template calls it, by op, and picks its best implementation."""
    assert set(FUNCTIONS) == vector_ops()
    assert set(MAKERS) <= set(FUNCTIONS)
    for (op, dtype), impl in BEST.items():
        if vector_math(op, dtype, impl) is not None:
            assert vector_math(op, dtype) is vector_math(op, dtype, impl)
    assert vector_math(scalar.exp, np.float32) is vector_math(scalar.exp, "float32")
    assert vector_math(scalar.exp, "int64") is None
    assert vector_math(scalar.exp, "float16") is None
    assert vector_math(scalar.add, "float32") is None
    assert vector_math(scalar.sigmoid, "float64", "poly") is not None
    with pytest.raises(ValueError, match="unknown implementation"):
        vector_math(scalar.exp, "float32", "svml")
