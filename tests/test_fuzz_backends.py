"""Differential fuzzing: random graphs (elementwise, broadcasting, reductions, indexing, integer dtypes, scan) give
the same values on numba as on the reference backend.

A graph is a nested tuple (printed when it fails; hypothesis shrinks a failing batch to one graph). Every value
is a matrix whose static lengths are 1 or unknown (the data are 3 x 4), so any two graphs broadcast together. A
batch of graphs compiles as the outputs of one function, which amortizes numba's compile time. The default suite
checks 500 fixed graphs (derandomized, so numba's disk cache keeps them); ``-m slow`` checks 10,000 new ones.

Integers are compared exactly, floats within a tolerance of their dtype. Not generated: integer division by 0 or
of MIN by -1, and float-to-int casts of values out of range (tests/test_catalogue_values.py covers those); float
remainders of dividends beyond +-100 (the remainder of a huge dividend by a divisor one ulp off, as a vectorized
tanh may give, is any value: the slow fuzz flagged float32(INT32_MIN) % 1.2119266 on both sides of one ulp).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import symgraph as sg

pytestmark = pytest.mark.cross_backend

ROWS, COLS = 3, 4
GRAPHS_PER_BATCH = 50
FLOAT_UNARY = ("tanh", "sin", "cos", "sigmoid", "abs", "neg", "sqr_tanh", "sqrt_abs", "log1p_abs", "floor", "exp_tanh")
FLOAT_BINARY = ("add", "sub", "mul", "maximum", "minimum", "safe_div", "safe_mod", "arctan2")
INT_UNARY = ("neg", "abs", "invert_or_neg")
INT_BINARY = ("add", "sub", "mul", "maximum", "minimum", "floor_div_pos", "mod_pos", "and_", "or_", "xor")
COMPARE = ("lt", "le", "gt", "ge", "eq", "neq")
REDUCE = ("sum", "max", "min", "mean", "prod_tanh")
INT_REDUCE = ("sum", "max", "min")
SCAN = ("add", "maximum", "mul_tanh")


# -- graphs as nested tuples ------------------------------------------------------------------------------------
def _shaped(draw, kind: str, depth: int):
    """A tuple graph of ``kind`` ("float" or "int")."""
    leaves = ("x", "row", "col", "s") if kind == "float" else ("i", "irow", "k")
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return ("leaf", draw(st.sampled_from(leaves)))
    sub = lambda k=kind: _shaped(draw, k, depth - 1)  # noqa: E731
    if kind == "int":
        choice = draw(st.sampled_from(("unary", "binary", "binary", "reduce", "index", "where", "from_float")))
        if choice == "unary":
            return ("unary", draw(st.sampled_from(INT_UNARY)), sub())
        if choice == "binary":
            return ("binary", draw(st.sampled_from(INT_BINARY)), sub(), sub())
        if choice == "reduce":
            return ("reduce", draw(st.sampled_from(INT_REDUCE)), draw(st.sampled_from((0, 1, None))), sub())
        if choice == "from_float":
            return ("to_int", sub("float"))
    else:
        choice = draw(st.sampled_from(("unary", "unary", "binary", "binary", "reduce", "index", "where", "from_int",
                                       "const", "scan")))  # fmt: skip
        if choice == "unary":
            return ("unary", draw(st.sampled_from(FLOAT_UNARY)), sub())
        if choice == "binary":
            return ("binary", draw(st.sampled_from(FLOAT_BINARY)), sub(), sub())
        if choice == "reduce":
            return ("reduce", draw(st.sampled_from(REDUCE)), draw(st.sampled_from((0, 1, None))), sub())
        if choice == "from_int":
            return ("to_float", sub("int"))
        if choice == "const":
            return ("binary", "add", sub(), ("const", draw(st.floats(-3, 3, width=32))))
        if choice == "scan":
            return ("scan", draw(st.sampled_from(SCAN)), sub())
    if choice == "index":
        how = draw(st.sampled_from(("reverse0", "reverse1", "gather0", "pick_row", "strided_halves")))
        return ("index", how, sub(), sub("int") if how == "pick_row" else None)
    return ("where", draw(st.sampled_from(COMPARE)), sub(), sub(), sub(kind), sub(kind))


@st.composite
def graphs(draw, depth: int = 4):
    return _shaped(draw, draw(st.sampled_from(("float", "float", "int"))), depth)


# -- building a tuple graph -------------------------------------------------------------------------------------
def build(graph, env: dict[str, sg.Variable], float_dtype: str):
    """The symbolic matrix of a tuple graph."""
    tag = graph[0]
    if tag == "leaf":
        return env[graph[1]]
    if tag == "const":
        return sg.constant(np.array([[graph[1]]], float_dtype))
    args = [build(g, env, float_dtype) if isinstance(g, tuple) else g for g in graph[1:]]
    if tag == "unary":
        return UNARY[args[0]](args[1])
    if tag == "binary":
        return BINARY[args[0]](*args[1:])
    if tag == "reduce":
        return REDUCERS[args[0]](args[2], args[1])
    if tag == "index":
        return _index(*args)
    if tag == "where":
        compare, a, b, then, other = args
        return sg.where(getattr(sg, compare)(*_common(a, b)), *_common(then, other))
    if tag == "to_float":
        return sg.cast(args[0], float_dtype)
    if tag == "to_int":
        low = 0 if env["i"].dtype.startswith("u") else -100
        return sg.cast(sg.clip(sg.floor(args[0] * 10), low, 100), env["i"].dtype)
    if tag == "scan":
        step, e = SCAN_STEPS[args[0]], args[1]
        hs, _ = sg.scan(lambda row, acc: step(acc, row), sequences=e, outputs_info=sg.zeros_like(e[0]))
        return hs
    raise AssertionError(graph)


def _common(a, b):
    """Cast two operands to one dtype so comparisons/where of ints and floats stay simple."""
    if a.dtype == b.dtype:
        return a, b
    dtype = np.result_type(a.dtype, b.dtype).name
    return sg.cast(a, dtype), sg.cast(b, dtype)


def _index(how: str, e, k):
    if how == "reverse0":
        return e[::-1]
    if how == "reverse1":
        return e[:, ::-1]
    if how == "strided_halves":
        return sg.concatenate([e[:, ::2], e[:, 1::2]], axis=1) if e.type.shape[1] != 1 else e
    if how == "gather0":
        return e[[2, 0, 1]] if e.type.shape[0] != 1 else e[[0, 0, 0]]
    row = sg.clip(sg.cast(k, "int64").sum(), 0, ROWS - 1) if e.type.shape[0] != 1 else 0
    return e[row].dimshuffle("x", 0)


def _positive(b):
    """An integer divisor in 1..7."""
    return sg.maximum(b % 7, 0) + 1 if b.dtype.startswith("int") else b % 7 + 1


UNARY = {
    "tanh": sg.tanh, "sin": sg.sin, "cos": sg.cos, "sigmoid": sg.sigmoid, "abs": sg.abs, "neg": sg.neg,
    "sqr_tanh": lambda a: sg.sqr(sg.tanh(a)), "sqrt_abs": lambda a: sg.sqrt(sg.abs(a)),
    "log1p_abs": lambda a: sg.log1p(sg.abs(a)), "floor": sg.floor, "exp_tanh": lambda a: sg.exp(sg.tanh(a)),
    "invert_or_neg": lambda a: sg.invert(a),
}  # fmt: skip
BINARY = {
    "add": lambda a, b: sg.add(*_common(a, b)), "sub": lambda a, b: sg.sub(*_common(a, b)),
    "mul": lambda a, b: sg.mul(*_common(a, b)), "maximum": lambda a, b: sg.maximum(*_common(a, b)),
    "minimum": lambda a, b: sg.minimum(*_common(a, b)),
    "safe_div": lambda a, b: a / (1 + sg.sqr(b)), "safe_mod": lambda a, b: sg.clip(a, -100, 100) % (1 + sg.sqr(b)),
    "arctan2": sg.arctan2,
    "floor_div_pos": lambda a, b: sg.floor_div(*_common(a, _positive(b))),
    "mod_pos": lambda a, b: sg.mod(*_common(a, _positive(b))),
    "and_": lambda a, b: sg.and_(*_common(a, b)), "or_": lambda a, b: sg.or_(*_common(a, b)),
    "xor": lambda a, b: sg.xor(*_common(a, b)),
}  # fmt: skip
REDUCERS = {
    "sum": lambda e, axis: e.sum(axis=axis, keepdims=True), "max": lambda e, axis: e.max(axis=axis, keepdims=True),
    "min": lambda e, axis: e.min(axis=axis, keepdims=True), "mean": lambda e, axis: e.mean(axis=axis, keepdims=True),
    "prod_tanh": lambda e, axis: sg.prod(sg.tanh(e), axis=axis, keepdims=True),
}  # fmt: skip
SCAN_STEPS = {"add": sg.add, "maximum": sg.maximum, "mul_tanh": lambda acc, row: sg.tanh(acc * row + row)}


# -- data and comparison ----------------------------------------------------------------------------------------
def inputs(float_dtype: str, int_dtype: str) -> tuple[list[sg.Variable], dict[str, sg.Variable]]:
    """The root variables (x, row, col, s, i, irow, k) and the matrices graphs read by leaf name."""
    roots = [sg.tensor("x", float_dtype, shape=(None, None)), sg.tensor("row", float_dtype, shape=(1, None)),
             sg.tensor("col", float_dtype, shape=(None, 1)), sg.scalar("s", float_dtype),
             sg.tensor("i", int_dtype, shape=(None, None)), sg.tensor("irow", int_dtype, shape=(1, None)),
             sg.scalar("k", int_dtype)]  # fmt: skip
    env = {v.name: v if v.ndim else v.dimshuffle("x", "x") for v in roots}
    return roots, env


def values(float_dtype: str, int_dtype: str, seed: int) -> list[np.ndarray]:
    """Data for the roots of ``inputs``: small floats, and ints with MIN and MAX among them."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(int_dtype)

    def ints(shape):
        small = rng.integers(max(info.min, -9), min(info.max, 9), size=shape, endpoint=True)
        edges = np.array([info.min, info.max, 0, 1], int_dtype)[rng.integers(0, 4, size=shape)]
        return np.where(rng.random(shape) < 0.2, edges, small).astype(int_dtype)

    def floats(shape):
        return rng.uniform(-3, 3, size=shape).astype(float_dtype)

    return [floats((ROWS, COLS)), floats((1, COLS)), floats((ROWS, 1)), floats(()), ints((ROWS, COLS)),
            ints((1, COLS)), ints(())]  # fmt: skip


def mismatch(expected: np.ndarray, actual: np.ndarray) -> str | None:
    """Why ``actual`` differs from ``expected`` (integers exactly, floats within their dtype's tolerance)."""
    if (actual.dtype, actual.shape) != (expected.dtype, expected.shape):
        return f"got {actual.dtype}{actual.shape}, reference {expected.dtype}{expected.shape}"
    if expected.dtype.kind in "iub":
        return None if np.array_equal(actual, expected) else f"got {actual.tolist()}, reference {expected.tolist()}"
    tol = 1e-4 if expected.dtype == np.float32 else 1e-10
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    if np.allclose(actual, expected, rtol=tol, atol=tol * scale, equal_nan=True):
        return None
    return f"got {actual.tolist()}, reference {expected.tolist()}"


def run_batch(batch: list, float_dtype: str, int_dtype: str, seed: int) -> list[str]:
    """All graphs of ``batch`` as outputs of one function, on the reference backend (as built) and on numba
    (rewritten); one more output reads every root, so that no input goes unused. Returns a line per graph whose
    values differ; when the batch raises, each graph is run alone to find the ones that do."""
    roots, env = inputs(float_dtype, int_dtype)
    data = values(float_dtype, int_dtype, seed)
    try:
        with np.errstate(all="ignore"):
            outputs = [build(g, env, float_dtype) for g in batch]
            outputs.append(sg.add(*(sg.cast(v, "float64").sum() for v in roots)))
            expected = sg.function(roots, outputs, backend="python", rewrites=None)(*data)
            actual = sg.function(roots, outputs, backend="numba")(*data)
    except Exception as err:
        if len(batch) == 1:
            return [f"{batch[0]!r} ({float_dtype}, {int_dtype}, seed {seed}): {type(err).__name__}: {err}"]
        return [line for g in batch for line in run_batch([g], float_dtype, int_dtype, seed)]
    found = [(g, mismatch(e, a)) for g, e, a in zip([*batch, "every root"], expected, actual)]
    return [f"{g!r} ({float_dtype}, {int_dtype}, seed {seed}): {why}" for g, why in found if why]


BATCHES = dict(batch=st.lists(graphs(), min_size=GRAPHS_PER_BATCH, max_size=GRAPHS_PER_BATCH),
               float_dtype=st.sampled_from(["float32", "float64"]),
               int_dtype=st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]),
               seed=st.integers(0, 2**16))  # fmt: skip


def fuzz(n_graphs: int, derandomize: bool) -> list[str]:
    """Check ``n_graphs`` random graphs in batches; every mismatch found (no shrinking: a line names the graph)."""
    failures: list[str] = []

    @settings(max_examples=n_graphs // GRAPHS_PER_BATCH, derandomize=derandomize, phases=[Phase.generate],
              deadline=None, suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
    @given(**BATCHES)
    def check(batch, float_dtype, int_dtype, seed):
        failures.extend(run_batch(batch, float_dtype, int_dtype, seed))

    check()
    return failures


def test_fuzz_500_graphs():
    failures = fuzz(500, derandomize=True)
    assert not failures, f"{len(failures)} graphs differ:\n" + "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(20))
def test_fuzz_10000_graphs(chunk):
    """10,000 new graphs in 20 chunks of 500, so that ``-m slow -n N`` spreads them over N cores."""
    failures = fuzz(500, derandomize=False)
    assert not failures, f"{len(failures)} graphs differ:\n" + "\n".join(failures)
