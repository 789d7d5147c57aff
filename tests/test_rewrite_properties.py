"""Property test: random elementwise/reduction graphs, built to hit the canonicalize rewrites (repeated terms,
constants 0 and 1, negations, small powers, divisions, casts, nested reductions, reshapes), give the same
values rewritten (canonicalize alone, and every phase) as unrewritten, for float and wrapping integer dtypes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from tests.helpers import assert_same, compiled, rand

CONSTANTS = [0, 1, -1, 2, 3, 0.5]
KINDS = ["add", "sub", "mul", "neg", "pow", "div", "tanh", "abs", "reduce", "cast", "shape", "const"]


def _apply(kind: str, a, b, k: int):
    """One random step on values ``a`` and ``b``; ``k`` picks constants and variants."""
    is_int = a.dtype.startswith(("int", "uint"))
    const = CONSTANTS[k % len(CONSTANTS)]
    const = abs(int(const)) if a.dtype.startswith("uint") else int(const) if is_int else const
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "neg":
        return -a
    if kind == "const":
        return [a + const, a * const, const - a, a - const][k % 4]
    if kind == "pow":
        return a ** (k % 6)
    if kind == "div":
        return a // 1 if is_int else a / [2.0, 4.0, 0.5, 3.0][k % 4]
    if kind in ("tanh", "abs"):
        return sg.abs(a) if is_int or kind == "abs" else sg.tanh(a)
    if kind == "cast":  # through a wider dtype (lossless: one cast is left), or a narrower one (lossy: both stay)
        wide, narrow = ("int64", "int8" if a.dtype != "int8" else "uint8") if is_int else ("float64", "float32")
        return sg.cast(sg.cast(a, wide if k % 2 else narrow), a.dtype)
    if kind == "shape":
        if a.ndim != 2:
            return sg.neg(sg.neg(a))
        return [a.T.T, a.reshape(a.shape), sg.specify_shape(a, a.shape), sg.expand_dims(a, 0)[0]][k % 4]
    axis = 1 if a.ndim == 2 else None  # never max over an axis that may be empty
    reduce = ["sum", "max", "prod"][k % 3]
    inner = getattr(sg, reduce)(a, axis, keepdims=True)
    return getattr(sg, reduce)(inner, axis, keepdims=True) if k % 2 else inner


@st.composite
def graphs(draw):
    """(build(leaves) -> outputs) for random DAGs over leaves a (rows, cols), b (1, cols) and c (a scalar)."""
    steps = draw(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 50), st.integers(0, 50),
                                    st.integers(0, 50)), min_size=1, max_size=10))  # fmt: skip
    extra = draw(st.lists(st.integers(0, 50), max_size=2))

    def build(leaves):
        values = list(leaves)
        for kind, i, j, k in steps:
            values.append(_apply(kind, values[i % len(values)], values[j % len(values)], k))
        return [values[-1]] + [values[i % len(values)] for i in extra]

    return build


def _scale(outputs, givens) -> float:
    """The largest magnitude among all the values the unrewritten graph computes (rounding errors scale by it)."""
    variables = [v for v in sg.ancestors(outputs) if v.owner is not None]
    values = compiled(givens, variables, rewrites=None)(*givens.values()) if variables else []
    finite = [np.abs(v[np.isfinite(v)]).max(initial=0) for v in values if v.dtype.kind == "f"]
    return float(max(finite, default=0.0)) + 1.0


@settings(max_examples=120, deadline=None)
@given(build=graphs(), rows=st.integers(0, 3), cols=st.integers(1, 3), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float64", "float32", "int8", "int32", "uint8"]))  # fmt: skip
def test_random_graphs_rewrite_to_the_same_values(build, rows, cols, seed, dtype):
    a, b, c = sg.matrix("a", dtype), sg.matrix("b", dtype, shape=(1, None)), sg.scalar("c", dtype)
    outputs = [sg.as_tensor_variable(o) for o in build([a, b, c])]
    low, high = (-1.5, 1.5) if dtype.startswith("float") else (-120, 120)
    givens = {a: rand((rows, cols), dtype, seed, low, high), b: rand((1, cols), dtype, seed + 1, low, high),
              c: rand((), dtype, seed + 2, low, high)}  # fmt: skip
    if dtype.startswith(("int", "uint")):  # wrapping integer arithmetic: the extremes, and exact equality
        info = np.iinfo(dtype)
        givens[a].flat[:2] = [info.min, info.max][: givens[a].size]
    expected = compiled(givens, outputs, rewrites=None)(*givens.values())  # a graph may not use every leaf
    scale = _scale(outputs, givens)
    for rewrites in (["canonicalize"], "fast_run"):
        actual = compiled(givens, outputs, rewrites=rewrites)(*givens.values())
        for e, r in zip(expected, actual):
            if e.dtype.kind == "f":  # a reordered sum or product rounds differently, relative to its largest term
                assert_same(e, r, rtol=1e-5, atol=64 * np.finfo(e.dtype).eps * scale)
            else:
                assert_same(e, r, rtol=0, atol=0)
