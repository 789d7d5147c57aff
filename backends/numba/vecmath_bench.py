"""Speed of ``backends.numba.vecmath`` against numba's own functions and NumPy.

Run ``python -m backends.numba.vecmath_bench`` (``--functions exp,sin`` and ``--dtypes float32`` narrow it).
For each function and dtype: one numba loop ``out[i] = f(x[i])`` per implementation (vecmath's "poly" and
"libmvec", and "numba": what numba does with np.<fn>, math.erf, or the backend's sigmoid and softplus
expressions), and NumPy's (or scipy's) ufunc writing into a preallocated array; then the example fused loop.
Times are milliseconds per 1e6 elements (thread CPU time, best of several runs): once over an array of 1e6
elements (memory traffic included), once over 65536 elements that stay in cache (arithmetic only).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numba
import numpy as np

from backends.numba.vecmath import BEST, FUNCTIONS, IMPLEMENTATIONS, enable_libmvec, vector_math
from symgraph.ops import scalar as s
from symgraph.ops.scalar import OPS, ScalarOp

#: inputs drawn uniformly from these ranges (where the functions are usually evaluated)
RANGES = {s.exp: (-20, 20), s.expm1: (-5, 5), s.exp2: (-20, 20), s.log: (1e-3, 1e3), s.log2: (1e-3, 1e3),
          s.log10: (1e-3, 1e3), s.log1p: (-0.9, 1e3), s.sin: (-20, 20), s.cos: (-20, 20), s.tan: (-1.5, 1.5),
          s.arcsin: (-1, 1), s.arccos: (-1, 1), s.arctan: (-20, 20), s.sinh: (-10, 10), s.cosh: (-10, 10),
          s.tanh: (-10, 10), s.arcsinh: (-100, 100), s.arccosh: (1, 100), s.arctanh: (-0.99, 0.99),
          s.erf: (-4, 4), s.erfc: (-4, 8), s.sigmoid: (-20, 20), s.softplus: (-20, 20)}  # fmt: skip
SIZE, CACHED = 1_000_000, 65536  # the second: input and output stay in L2 cache


def numpy_function(op: ScalarOp) -> Callable:
    """The reference backend's function for ``op``, called as f(x, out=o)."""
    if isinstance(op.impl, np.ufunc):
        return op.impl
    return lambda x, out: np.copyto(out, op.impl(x))


def _numba_scalar(op: ScalarOp, dtype: str) -> Callable:
    """What a numba loop computes without vecmath: numba's function, or for sigmoid and softplus a stable form."""
    zero, one = np.dtype(dtype).type(0), np.dtype(dtype).type(1)
    if op in (s.erf, s.erfc):
        fn = getattr(math, op.name)
        return numba.njit(lambda x: fn(x))
    if op == s.sigmoid:
        return numba.njit(lambda x: one / (one + np.exp(-x)) if x >= zero else np.exp(x) / (one + np.exp(x)))
    if op == s.softplus:
        return numba.njit(lambda x: np.logaddexp(zero, x))
    fn = getattr(np, op.name)
    return numba.njit(lambda x: fn(x))


def loop(fn: Callable) -> Callable:
    """``out[i] = fn(x[i])`` over 1-d arrays, compiled as the backend would."""

    @numba.njit(error_model="numpy", nogil=True)
    def run(x, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    return run


def best_ms(run: Callable, x: np.ndarray, out: np.ndarray, trials: int = 15) -> float:
    """Milliseconds per 1e6 elements: the best of ``trials`` runs of ~5 ms each, in thread CPU time (so that time
    lost to other processes on a busy machine does not count)."""
    run(x, out)
    start = time.thread_time()
    run(x, out)
    reps = max(1, int(0.005 / max(time.thread_time() - start, 1e-6)))
    best = math.inf
    for _ in range(trials):
        start = time.thread_time()
        for _ in range(reps):
            run(x, out)
        best = min(best, (time.thread_time() - start) / reps)
    return best * 1e9 / x.size


def measure(op: ScalarOp, dtype: str) -> dict[str, tuple[float, float]]:
    """{implementation: (ms per 1e6 over 1e6 elements, ms per 1e6 in cache)} for ``op`` on ``dtype``."""
    lo, hi = RANGES[op]
    x = np.random.default_rng(0).uniform(lo, hi, SIZE).astype(dtype)
    out = np.empty_like(x)
    runs = {impl: vector_math(op, dtype, impl) for impl in IMPLEMENTATIONS}
    runs = {impl: loop(fn) for impl, fn in runs.items() if fn is not None}
    runs["numba"] = loop(_numba_scalar(op, dtype))
    ufunc = numpy_function(op)
    runs["numpy"] = lambda a, o: ufunc(a, out=o)
    return {impl: (best_ms(run, x, out), best_ms(run, x[:CACHED], out[:CACHED])) for impl, run in runs.items()}


def measure_fused(dtype: str) -> dict[str, tuple[float, float]]:
    """The example fused loop ``exp(-v*v) * sin(3*v) + log1p(|v|)`` with numba's functions and with vecmath's."""
    three = np.dtype(dtype).type(3)
    x = np.random.default_rng(0).uniform(-5, 5, SIZE).astype(dtype)
    out = np.empty_like(x)
    runs = {}
    for label, (exp, sin, log1p) in {
        "numba": (np.exp, np.sin, np.log1p),
        "vecmath": tuple(vector_math(op, dtype) for op in (s.exp, s.sin, s.log1p)),
    }.items():

        @numba.njit(error_model="numpy", nogil=True)
        def run(x, out, exp=exp, sin=sin, log1p=log1p):
            for i in range(x.shape[0]):
                v = x[i]
                out[i] = exp(-v * v) * sin(v * three) + log1p(np.abs(v))

        runs[label] = run
    runs["numpy"] = lambda a, o: np.add(np.exp(-a * a) * np.sin(a * three), np.log1p(np.abs(a)), out=o)
    return {label: (best_ms(run, x, out), best_ms(run, x[:CACHED], out[:CACHED])) for label, run in runs.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", default=",".join(op.name for op in FUNCTIONS))
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args(argv)
    libmvec = "loaded" if enable_libmvec() else "unavailable"
    print(f"libmvec: {libmvec}; ms per 1e6 elements: over a 1e6-element array / in cache")
    columns = (*IMPLEMENTATIONS, "numba", "numpy")
    print(f"{'function':10s} {'dtype':8s} " + " ".join(f"{c:>15s}" for c in columns) + "  chosen")
    for name in args.functions.split(","):
        for dtype in args.dtypes.split(","):
            times = measure(OPS[name], dtype)
            cells = [f"{times[c][0]:6.2f} /{times[c][1]:6.2f}" if c in times else f"{'-':>15s}" for c in columns]
            chosen = BEST.get((OPS[name], dtype), "numba")
            print(f"{name:10s} {dtype:8s} " + " ".join(cells) + f"  {chosen}", flush=True)
    for dtype in args.dtypes.split(","):
        times = measure_fused(dtype)
        cells = ", ".join(f"{label} {t[0]:.2f} / {t[1]:.2f}" for label, t in times.items())
        print(f"exp(-v*v)*sin(3v)+log1p(|v|) {dtype}: {cells}", flush=True)


if __name__ == "__main__":
    main()
