"""Property test: random elementwise graphs evaluate like the same NumPy expression, on every backend."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from tests.helpers import assert_backend_agrees

pytestmark = pytest.mark.cross_backend

UNARY = [("exp", np.exp), ("tanh", np.tanh), ("neg", np.negative), ("abs", np.abs), ("sin", np.sin),
         ("square", np.square), ("sigmoid", lambda v: 1 / (1 + np.exp(-v)))]  # fmt: skip
BINARY = [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("maximum", np.maximum),
          ("minimum", np.minimum)]  # fmt: skip


@st.composite
def expressions(draw, depth=3):
    """(symbolic builder, numpy builder) pairs over leaves 'a' and 'b'."""
    if depth == 0 or draw(st.booleans()):
        leaf = draw(st.sampled_from(["a", "b", "const"]))
        if leaf == "const":
            value = draw(st.floats(-2, 2))
            return (lambda env: value), (lambda env: value)
        return (lambda env: env[leaf]), (lambda env: env[leaf])
    if draw(st.booleans()):
        name, ref = draw(st.sampled_from(UNARY))
        sym_child, np_child = draw(expressions(depth=depth - 1))
        return (lambda env: getattr(sg, name)(sym_child(env))), (lambda env: ref(np_child(env)))
    name, ref = draw(st.sampled_from(BINARY))
    sl, nl = draw(expressions(depth=depth - 1))
    sr, nr = draw(expressions(depth=depth - 1))
    return (lambda env: getattr(sg, name)(sl(env), sr(env))), (lambda env: ref(nl(env), nr(env)))


@settings(max_examples=60, deadline=None)
@given(expr=expressions(), rows=st.integers(0, 3), cols=st.integers(1, 4),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))  # fmt: skip
def test_random_elementwise_graph_matches_numpy(expr, rows, cols, dtype, seed):
    build_sym, build_np = expr
    a = sg.tensor("a", dtype, shape=(None, None))
    b = sg.tensor("b", dtype, shape=(1, None))
    rng = np.random.default_rng(seed)
    env_np = {"a": rng.uniform(-2, 2, (rows, cols)).astype(dtype), "b": rng.uniform(-2, 2, (1, cols)).astype(dtype)}
    out = sg.as_tensor_variable(build_sym({"a": a, "b": b}))
    f = sg.function([a, b], out, on_unused_input="ignore")  # an expression may not use both leaves
    value = f(env_np["a"], env_np["b"])
    with np.errstate(all="ignore"):
        expected = np.asarray(build_np(env_np))
    # a 0-d result comes from constants alone: Python floats follow floatX (NumPy would give float64)
    assert value.dtype == out.dtype == (expected.dtype if expected.ndim else np.dtype(sg.config.floatX))
    tol = 2e-5 if out.dtype == "float32" else 1e-12
    np.testing.assert_allclose(value, np.broadcast_to(expected, value.shape), rtol=tol, atol=tol)
    assert_backend_agrees(out, {a: env_np["a"], b: env_np["b"]}, "numba", rtol=tol, atol=tol)
