"""Vectorizable transcendental functions for the numba backend's elementwise loops.

numba lowers ``np.exp`` & co. to scalar libm calls, which keep LLVM from vectorizing a loop. This module gives,
per function and dtype, a scalar ``numba.njit`` function that LLVM inlines into the calling loop and turns into
SIMD code: either a branch-free polynomial implementation (``backends.numba.vecmath_poly``) or a call of
glibc's vector math library, libmvec (``backends.numba.vecmath_llvm.libmvec_call``).

Use from generated code, once per module (``vector_math`` is cheap; the function compiles with its first
caller)::

    from backends.numba.vecmath import vector_math
    from symgraph.ops import scalar
    vm_exp_float32 = vector_math(scalar.exp, "float32")  # None: use numba's own np.exp

    @numba.njit(error_model="numpy")
    def kernel(a, out):
        for i in range(a.shape[0]):
            out[i] = vm_exp_float32(a[i])  # the argument must have exactly that dtype

Results follow NumPy (scipy for erf/sigmoid, np.logaddexp(0, x) for softplus) over the whole range: at most
2.4 ulp from the exact result for the polynomials, 4 for libmvec, with NumPy's results on zeros, infinities
and NaN. An element gets the same bits whether a loop vectorizes or not (and wherever it falls in the loop).
The caller may use any fast-math flags: these functions keep their own (``contract`` only). Code using a
libmvec function refers to libmvec's symbols: calling ``vector_math`` (or ``enable_libmvec``) loads the
library, and must happen before numba loads such code from its on-disk cache, which is the case when the
generated module itself calls ``vector_math`` at import.
"""

from __future__ import annotations

import functools
import platform
import sys
from collections.abc import Callable

import llvmlite.binding as llvm
import numba
import numpy as np

from backends.numba.vecmath_llvm import AVX2_LANES, libmvec_call
from backends.numba.vecmath_poly import JIT_OPTIONS, MAKERS, make_sigmoid, make_softplus
from symgraph.ops import scalar as s
from symgraph.ops.scalar import ScalarOp

#: glibc's name (without the float32 suffix "f") of each function libmvec provides, by scalar op
_LIBMVEC_SYMBOLS = {
    s.exp: "exp", s.exp2: "exp2", s.expm1: "expm1", s.log: "log", s.log2: "log2", s.log10: "log10",
    s.log1p: "log1p", s.sin: "sin", s.cos: "cos", s.tan: "tan", s.arcsin: "asin", s.arccos: "acos",
    s.arctan: "atan", s.sinh: "sinh", s.cosh: "cosh", s.tanh: "tanh", s.arcsinh: "asinh", s.arccosh: "acosh",
    s.arctanh: "atanh", s.erf: "erf", s.erfc: "erfc",
}  # fmt: skip
#: every scalar op ``vector_math`` may provide (sorted by name)
FUNCTIONS = tuple(sorted(set(_LIBMVEC_SYMBOLS) | set(MAKERS), key=lambda op: op.name))
IMPLEMENTATIONS = ("poly", "libmvec")
DTYPES = ("float32", "float64")
#: where the polynomials come first: faster than libmvec, or at most ~15% slower (exp float64, log float32,
#: sigmoid) and more accurate (max 1.0-2.4 ulp against libmvec's 2.7-3.8); ``python -m backends.numba.vecmath_bench``
_POLY_FIRST = (s.exp, s.expm1, s.log, s.log1p, s.tanh, s.sigmoid, s.softplus)
#: (op, dtype) -> the implementation ``vector_math`` returns by default; the other one is the fallback
#: (libmvec missing: sin, cos and erf fall back to the polynomials; libmvec-only functions to numba's own)
BEST: dict[tuple[ScalarOp, str], str] = {
    (op, dtype): "poly" if op in _POLY_FIRST else "libmvec" for op in FUNCTIONS for dtype in DTYPES
}
_NEEDS_FMA = {s.sin, s.cos, s.erf}  # poly versions rely on exact fused multiply-adds


def _target_feature(name: str) -> bool:
    """Whether numba compiles for a CPU with feature ``name`` (honours NUMBA_CPU_NAME/NUMBA_CPU_FEATURES)."""
    config = numba.core.config
    if config.CPU_FEATURES is not None:
        return f"+{name}" in config.CPU_FEATURES.split(",")
    if config.CPU_NAME not in (None, "host"):
        return False
    return bool(llvm.get_host_cpu_features().get(name, False))


@functools.cache
def enable_libmvec() -> bool:
    """Load glibc's libmvec (x86-64 Linux, AVX2 target) so that jitted code can call it; whether it worked."""
    if sys.platform != "linux" or platform.machine() != "x86_64" or not _target_feature("avx2"):
        return False
    try:
        llvm.load_library_permanently("libmvec.so.1")
    except RuntimeError:
        return False
    return True


def vector_math(op: ScalarOp, dtype: str | np.dtype | type, impl: str | None = None) -> Callable | None:
    """The vectorizable njit function computing scalar op ``op`` on ``dtype`` scalars.

    ``impl`` forces "poly" or "libmvec"; by default the fastest accurate one (``BEST``), else the other. None
    when neither is available (e.g. libmvec-only functions without libmvec, integer or float16 dtypes): then
    numba's own function is the way.
    """
    if impl not in (None, *IMPLEMENTATIONS):
        raise ValueError(f"vector_math: unknown implementation {impl!r}; choose from {IMPLEMENTATIONS}")
    dtype = np.dtype(dtype).name
    if dtype not in DTYPES or op not in FUNCTIONS:
        return None
    best = BEST[op, dtype]
    order = [impl] if impl else [best, *(i for i in IMPLEMENTATIONS if i != best)]
    for choice in order:
        fn = _build(op, dtype, choice)
        if fn is not None:
            return fn
    return None


@functools.cache
def _build(op: ScalarOp, dtype: str, impl: str) -> Callable | None:
    if impl == "poly":
        if op not in MAKERS or (op in _NEEDS_FMA and not _target_feature("fma")):
            return None
        return MAKERS[op](dtype)
    if op in (s.sigmoid, s.softplus):
        exp, log1p = _build(s.exp, dtype, "libmvec"), _build(s.log1p, dtype, "libmvec")
        if exp is None or log1p is None:
            return None
        return make_sigmoid(dtype, exp) if op == s.sigmoid else make_softplus(dtype, exp, log1p)
    if op not in _LIBMVEC_SYMBOLS or not enable_libmvec():
        return None
    symbol = _LIBMVEC_SYMBOLS[op] + ("f" if dtype == "float32" else "")
    if llvm.address_of_symbol(f"_ZGVdN{AVX2_LANES[dtype]}v_{symbol}") is None:  # glibc < 2.35 lacks most
        return None
    call = libmvec_call(symbol, dtype)

    @numba.njit(**JIT_OPTIONS)
    def libmvec_function(x):
        return call(x)

    return libmvec_function
