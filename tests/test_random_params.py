"""Random-stream parameters outside their domain: a build error where they are constants, a CallError at run time
otherwise (on every backend), naming the op, the parameter and the bad value; a failed call changes no state."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.random import PARAMETER_RULES, CheckParameters

SEED = 99
BACKENDS = ["python", "numba"]

# name: (draw from constant parameters, message)
BUILD = {
    "p above 1": (lambda r: r.bernoulli(1.5), r"bernoulli: p must lie in \[0, 1\], got p=1.5"),
    "p NaN": (lambda r: r.binomial(n=3, p=np.nan), r"binomial: p must lie in \[0, 1\], got p=nan"),
    "p vector": (lambda r: r.bernoulli([0.5, -0.25]), r"bernoulli: p must lie in \[0, 1\], got p=-0.25"),
    "p vector, sized": (
        lambda r: r.bernoulli([0.5, 2.0], size=(3, 2)),
        r"bernoulli: p must lie in \[0, 1\], got p=2.0",
    ),
    "n negative": (lambda r: r.binomial(n=-2), r"binomial: n must not be negative, got n=-2"),
    "std negative": (lambda r: r.normal((2,), std=-0.5), r"normal: std must not be negative, got std=-0.5"),
    "uniform reversed": (
        lambda r: r.uniform(low=2.0, high=1.0),
        r"uniform: high - low must be finite and not negative, got low=2.0, high=1.0",
    ),
    "uniform infinite": (
        lambda r: r.uniform((3,), low=0.0, high=np.inf),
        r"uniform: high - low must be finite and not negative, got low=0.0, high=inf",
    ),
    "integers empty": (lambda r: r.integers(5, 3), r"integers: low must be less than high, got low=5, high=3"),
    "integers one bound": (lambda r: r.integers(0), r"integers: low must be less than high, got low=0, high=0"),
    "permutation": (lambda r: r.permutation(-2), r"permutation: n must not be negative, got n=-2"),
}


@pytest.mark.parametrize(("build", "message"), BUILD.values(), ids=BUILD.keys())
def test_constant_parameters_are_checked_when_built(build, message):
    with pytest.raises(sg.SymgraphValueError, match=message) as info:
        build(sg.RandomStream(SEED))
    assert __file__ in str(info.value)  # the user's line


# name: (input variables, draw from them, good values, bad values, message)
RUN = {
    "bernoulli p": (
        lambda: [sg.scalar("p")], lambda r, p: r.bernoulli(p, (4,)), [0.5], [1.5],
        r"bernoulli: p must lie in \[0, 1\], got p=1.5",
    ),
    "binomial p NaN": (
        lambda: [sg.vector("p")], lambda r, p: r.binomial(n=3, p=p), [[0.0, 1.0]], [[0.2, np.nan]],
        r"binomial: p must lie in \[0, 1\], got p=nan",
    ),
    "binomial p matrix, first bad": (
        lambda: [sg.matrix("p")], lambda r, p: r.binomial((2, 3), n=2, p=p), [[[0.1, 0.2, 0.3]]],
        [[[0.1, -1.0, 0.3], [2.0, 0.5, 0.5]]], r"binomial: p must lie in \[0, 1\], got p=-1.0",
    ),
    "normal std": (
        lambda: [sg.scalar("s", "float32")], lambda r, s: r.normal((3,), std=s, dtype="float32"), [0.0], [-2.0],
        r"normal: std must not be negative, got std=-2.0",
    ),
    "uniform low above high": (
        lambda: [sg.vector("lo"), sg.vector("hi")], lambda r, lo, hi: r.uniform(low=lo, high=hi),
        [[1.0, 2.0], [1.0, 2.5]], [[1.0, 3.0], [2.0, 2.5]],
        r"uniform: high - low must be finite and not negative, got low=3.0, high=2.5",
    ),
    "uniform vector and column": (
        lambda: [sg.vector("lo"), sg.matrix("hi")], lambda r, lo, hi: r.uniform(low=lo, high=hi),
        [[0.0, 1.0], [[2.0], [3.0]]], [[0.0, 2.5], [[2.0], [3.0]]],
        r"uniform: high - low must be finite and not negative, got low=2.5, high=2.0",
    ),
    "uniform infinite span": (
        lambda: [sg.scalar("lo", "float32"), sg.matrix("hi", "float32")],
        lambda r, lo, hi: r.uniform(low=lo, high=hi, dtype="float32"), [-1.0, [[1.0], [2.0]]], [-3e38, [[3e38]]],
        r"uniform: high - low must be finite and not negative, got low=-3\.0\d*e\+38, high=3\.0\d*e\+38",
    ),
    "uniform NaN bound": (
        lambda: [sg.scalar("hi")], lambda r, hi: r.uniform((2,), low=0.0, high=hi), [0.0], [np.nan],
        r"uniform: high - low must be finite and not negative, got low=0.0, high=nan",
    ),
    "integers empty range": (
        lambda: [sg.vector("lo", "int64"), sg.scalar("hi", "int64")], lambda r, lo, hi: r.integers(lo, hi),
        [[1, 4], 5], [[1, 5], 5], r"integers: low must be less than high, got low=5, high=5",
    ),
    "integers reversed, sized": (
        lambda: [sg.scalar("lo", "int32"), sg.scalar("hi", "int32")],
        lambda r, lo, hi: r.integers(lo, hi, (2, 2), dtype="int8"), [-3, -2], [5, 3],
        r"integers: low must be less than high, got low=5, high=3",
    ),
    "permutation n": (
        lambda: [sg.scalar("n", "int64")], lambda r, n: r.permutation(n), [0], [-1],
        r"permutation: n must not be negative, got n=-1",
    ),
}  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("inputs", "draw", "good", "bad", "message"), RUN.values(), ids=RUN.keys())
def test_parameters_are_checked_at_run_time(backend, inputs, draw, good, bad, message):
    """The bad call raises and changes neither the stream's state nor the function's other updates; the good
    calls around it run."""
    rng = sg.RandomStream(SEED)
    counter = sg.shared(np.int64(0), name="counter")
    variables = inputs()
    f = sg.function(variables, draw(rng, *variables), updates={counter: counter + 1}, backend=backend)
    f(*good)
    state = rng.state.get_value().copy()
    with pytest.raises(sg.CallError, match=message):
        f(*bad)
    assert rng.state.get_value().tolist() == state.tolist()
    assert counter.get_value() == 1
    f(*good)
    assert rng.state.get_value()[1] == state[1] + 1 and counter.get_value() == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_edge_parameters_are_valid(backend):
    """The bounds of each domain are allowed, as in NumPy: p in {0, 1}, std 0 or NaN, low == high for uniform,
    a one-value integer range, n = 0."""
    rng = sg.RandomStream(SEED)
    p, std, bound = sg.vector("p"), sg.scalar("std"), sg.scalar("bound")
    lo = sg.scalar("lo", "int64")
    outputs = [
        rng.bernoulli(p),
        rng.normal((2,), avg=3.0, std=std),
        rng.uniform((2,), low=bound, high=bound),
        rng.integers(lo, lo + 1, (3,)),
        rng.binomial((2,), n=0, p=p[0]),
        rng.permutation(lo - lo),
    ]
    f = sg.function([p, std, bound, lo], outputs, backend=backend)
    ones, normals, uniforms, integers, counts, perm = f([1.0, 0.0], 0.0, 4.5, -7)
    assert ones.tolist() == [1, 0] and normals.tolist() == [3.0, 3.0] and uniforms.tolist() == [4.5, 4.5]
    assert integers.tolist() == [-7] * 3 and counts.tolist() == [0, 0] and perm.shape == (0,)
    assert np.isnan(f([0.5, 0.5], np.nan, 0.0, 0)[1]).all()


def test_every_rule_runs_on_numba():
    """Each rule's predicate compiles in a numba kernel and agrees with the reference on good and bad values."""
    examples = {  # rule: (good values, bad values), one per parameter
        "probability": ([1.0], [1.0000001]),
        "scale": ([np.inf], [-1e-300]),
        "count": ([0], [-4]),
        "interval": ([-1.0, -1.0], [np.nan, 0.0]),
        "range": ([-2, 9], [9, 9]),
    }
    assert examples.keys() == PARAMETER_RULES.keys()
    for rule, (good, bad) in examples.items():
        dtype = "int64" if isinstance(good[0], int) else "float64"
        args = [sg.scalar(f"a{i}", dtype) for i in range(len(good))]
        checked = CheckParameters("op", rule).make_node(*args).outputs
        for backend in BACKENDS:
            f = sg.function(args, checked, backend=backend)
            assert [v.item() for v in f(*good)] == good
            with pytest.raises(sg.CallError, match=re.escape(f"op: {PARAMETER_RULES[rule].requirement}")):
                f(*bad)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_flow_through_checked_parameters(backend):
    rng = sg.RandomStream(SEED)
    std, low, high = sg.scalar("std"), sg.scalar("low"), sg.scalar("high")
    z = rng.normal((5,), std=std)
    u = rng.uniform((5,), low=low, high=high)
    grads = sg.grad(z.sum() + u.sum(), [std, low, high])
    f = sg.function([std, low, high], [z, u, *grads], backend=backend)
    z_value, u_value, g_std, g_low, g_high = f(2.0, -1.0, 3.0)
    unit = (u_value + 1.0) / 4.0
    np.testing.assert_allclose(g_std, (z_value / 2.0).sum())
    np.testing.assert_allclose([g_low, g_high], [(1 - unit).sum(), unit.sum()])
