"""Random streams: the Philox generator, bitwise agreement of the backends, state handling, distributions,
shapes, gradients and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.random import RandomDraw, RandomFork, StableArgsort, philox4x32, random_fork

SEED = 1234
PHILOX_KATS = [  # Random123's known answers: counter, key, result
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


def run_both(rng: sg.RandomStream, outputs, inputs=(), calls=((),)) -> list:
    """The outputs of successive calls (one per tuple of input values in ``calls``) on each backend from the same
    seed: equal bit for bit, with the same dtypes and shapes. Returns the reference's results."""
    results = {}
    for backend in ("python", "numba"):
        rng.seed(SEED)
        f = sg.function(list(inputs), outputs, backend=backend)
        results[backend] = [f(*values) for values in calls]
        assert rng.state.get_value().tolist() == [SEED, len(calls)]
    for expected, actual in zip(results["python"], results["numba"]):
        for e, a in zip(expected, actual):
            assert (e.dtype, e.shape) == (a.dtype, a.shape)
            assert e.tobytes() == a.tobytes(), (e, a)
    return results["python"]


# -- the generator --------------------------------------------------------------------------
@pytest.mark.parametrize(("counter", "key", "expected"), PHILOX_KATS)
def test_philox_known_answers(counter, key, expected):
    assert philox4x32(counter, key).tolist() == list(expected)


def test_philox_known_answers_numba():
    from backends.numba.rules.random import philox

    for counter, key, expected in PHILOX_KATS:
        assert [int(w) for w in philox(*(np.uint64(v) for v in counter + key))] == list(expected)


def test_philox_vectorized_blocks_match_single_blocks():
    counters = np.arange(5, dtype=np.uint64)
    blocks = philox4x32((counters, 7, 1, 2), (3, 4))
    for i in range(5):
        assert blocks[:, i].tolist() == philox4x32((i, 7, 1, 2), (3, 4)).tolist()


# -- the backends agree bit for bit ---------------------------------------------------------
SIZES = {0: [()], 1: [(0,), (1,), (7,), (1001,)], 2: [(3, 5), (0, 4)]}


@pytest.mark.parametrize("ndim", SIZES)
def test_backends_agree_bitwise(ndim):
    """Every method and dtype, at several sizes (symbolic, so one compiled function serves them all); each size
    is drawn twice, and the second call differs from the first."""
    rng = sg.RandomStream()
    dims = tuple(sg.scalar(f"n{a}", "int64") for a in range(ndim))
    outputs = [
        rng.uniform(dims, dtype="float32"),
        rng.uniform(dims, low=-2.0, high=3.0, dtype="float64"),
        rng.normal(dims, dtype="float32"),
        rng.normal(dims, avg=1.0, std=2.0, dtype="float64"),
        rng.binomial(dims, n=5, p=0.3),
        rng.binomial(dims, n=3, p=0.5, dtype="float32"),
        rng.bernoulli(0.25, dims),
        rng.integers(-5, 9, dims),
        rng.integers(100, size=dims, dtype="int8"),
        rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, dims),
        rng.permutation(dims[0] if ndim else 6),
    ]
    calls = [size for size in SIZES[ndim] for _ in range(2)]
    values = run_both(rng, outputs, dims, calls)
    for size, first, second in zip(SIZES[ndim], values[::2], values[1::2]):
        assert [v.shape for v in first[:-1]] == [size] * (len(outputs) - 1)
        assert not any(np.array_equal(a, b) for a, b in zip(first, second) if a.size > 1)


def test_normals_agree_bitwise_on_many_values():
    """Box-Muller uses the C library's log and cos in both backends (NumPy's own may differ in the last bit)."""
    rng = sg.RandomStream()
    run_both(rng, [rng.normal((20000,)), rng.normal((4099,), dtype="float32")])


def test_symbolic_sizes_and_parameters_agree_bitwise():
    rng = sg.RandomStream()
    n, avg, low = sg.scalar("n", "int64"), sg.vector("avg"), sg.vector("low", "int64")
    outputs = [rng.normal((n, 3)), rng.normal(avg=avg, std=0.5), rng.integers(low, 20), rng.permutation(n)]
    values = run_both(rng, outputs, [n, avg, low], [(5, np.arange(4.0), np.arange(-3, 3))])
    assert [v.shape for v in values[0]] == [(5, 3), (4,), (6,), (5,)]


def test_fork():
    state, step = sg.vector("state", "uint64", shape=(2,)), sg.scalar("step", "int64")
    fork = random_fork(state, step)
    assert fork.type == sg.TensorType("uint64", (2,))
    value = np.array([SEED, 77], dtype=np.uint64)
    results = {}
    for backend in ("python", "numba"):
        f = sg.function([state, step], [fork, random_fork(fork, 3)], backend=backend)
        results[backend] = [f(value, s) for s in (-1, 0, 1, 2, 2**40)]
    for expected, actual in zip(results["python"], results["numba"]):
        assert [e.tobytes() for e in expected] == [a.tobytes() for a in actual]
    forks = [f for f, _ in results["python"]]
    assert all(f[1] == 77 for f in forks)  # the counter is kept
    keys = {int(f[0]) for f, _ in results["python"]} | {int(g[0]) for _, g in results["python"]} | {SEED}
    assert len(keys) == 11  # every step, and every nested step, has its own key


def test_forked_state_draws_differ():
    rng = sg.RandomStream(SEED)
    draw = rng.uniform((4,))
    forked = [sg.clone_replace([draw], {rng.state: random_fork(rng.state, s)})[0] for s in (0, 1)]
    a, b, c = sg.function([], [draw, *forked], backend="python")()
    assert not np.array_equal(a, b) and not np.array_equal(b, c)


# -- state and reproducibility --------------------------------------------------------------
def test_same_seed_reproduces():
    values = []
    for seed in (SEED, SEED, SEED + 1):
        rng = sg.RandomStream(seed)
        values.append(sg.function([], rng.normal((6,)))())
    assert np.array_equal(values[0], values[1])
    assert not np.array_equal(values[0], values[2])


def test_calls_differ_and_seed_resets():
    rng = sg.RandomStream(SEED)
    f = sg.function([], rng.uniform((5,)))
    first, second = f(), f()
    assert not np.array_equal(first, second)
    rng.seed(SEED)
    assert np.array_equal(f(), first)
    assert np.array_equal(f(), second)


def test_default_update_advances_state_once_per_call():
    rng = sg.RandomStream(SEED)
    x, y = rng.normal((3,)), rng.uniform((3,))
    f = sg.function([], [x, y])
    assert rng.state.get_value().tolist() == [SEED, 0]
    f()
    f()
    assert rng.state.get_value().tolist() == [SEED, 2]
    sg.function([], sg.constant(1.0))()  # a function not reading the state leaves it alone
    assert rng.state.get_value().tolist() == [SEED, 2]


def test_user_update_overrides_default_update():
    rng = sg.RandomStream(SEED)
    f = sg.function([], rng.uniform((3,)), updates={rng.state: rng.state})
    first = f()
    assert np.array_equal(f(), first)
    assert rng.state.get_value().tolist() == [SEED, 0]


def test_givens_replacing_the_state_skip_its_default_update():
    rng = sg.RandomStream(SEED)
    fixed = sg.constant(np.array([5, 9], dtype=np.uint64))
    f = sg.function([], rng.uniform((3,)), givens={rng.state: fixed})
    assert np.array_equal(f(), f())
    assert rng.state.get_value().tolist() == [SEED, 0]


def test_default_updates_of_default_updates():
    """A default update reading another shared variable with a default update brings that one in too."""
    a, b = sg.shared(np.float64(1.0)), sg.shared(np.float64(10.0))
    a.default_update = a + b
    b.default_update = b * 2
    f = sg.function([], a * 1)
    f()
    assert (a.get_value(), b.get_value()) == (11.0, 20.0)
    f()
    assert (a.get_value(), b.get_value()) == (31.0, 40.0)


def test_two_draws_in_one_graph_differ():
    rng = sg.RandomStream(SEED)
    a, b = sg.function([], [rng.uniform((8,)), rng.uniform((8,))])()
    assert not np.array_equal(a, b)


def test_is_random_state():
    rng = sg.RandomStream(SEED)
    assert sg.random.is_random_state(rng.state)
    assert not sg.random.is_random_state(sg.shared(np.zeros(2, np.uint64)))
    assert sg.random.RandomStream is sg.RandomStream


# -- distributions ----------------------------------------------------------------------------
def test_normal_and_uniform_moments():
    n = 100_000
    rng = sg.RandomStream(SEED)
    normal, uniform = sg.function([], [rng.normal((n,), avg=2.0, std=3.0), rng.uniform((n,), low=-1.0, high=5.0)])()
    tolerance = 5 / math.sqrt(n)  # five standard errors (of a unit-variance sample mean)
    assert abs(normal.mean() - 2.0) < 3 * tolerance
    assert abs(normal.std() - 3.0) < 3 * tolerance
    assert abs(np.mean(np.abs(normal - 2.0) < 3.0) - 0.6827) < tolerance  # the normal's one-sigma mass
    assert uniform.min() >= -1.0 and uniform.max() < 5.0
    assert abs(uniform.mean() - 2.0) < 6 * tolerance
    assert abs(uniform.var() - 3.0) < 20 * tolerance
    counts = np.histogram(uniform, bins=10, range=(-1, 5))[0]
    assert np.all(np.abs(counts - n / 10) < 5 * math.sqrt(n / 10))


def test_float32_uniform_covers_the_unit_interval():
    values = sg.function([], sg.RandomStream(SEED).uniform((100_000,), dtype="float32"))()
    assert values.dtype == np.float32 and values.min() >= 0 and values.max() < 1
    assert values.min() < 1e-3 and values.max() > 1 - 1e-3


def test_binomial_and_bernoulli_means():
    n = 20_000
    rng = sg.RandomStream(SEED)
    p = sg.vector("p")
    counts, hits = sg.function([p], [rng.binomial((n, 3), n=10, p=p), rng.bernoulli(p, (n, 3))])([0.1, 0.5, 0.9])
    assert counts.min() >= 0 and counts.max() <= 10 and set(np.unique(hits)) == {0, 1}
    for k, q in enumerate((0.1, 0.5, 0.9)):
        assert abs(counts[:, k].mean() - 10 * q) < 5 * math.sqrt(10 * q * (1 - q) / n)
        assert abs(hits[:, k].mean() - q) < 5 * math.sqrt(q * (1 - q) / n)


def test_integers_range_and_counts():
    n = 60_000
    rng = sg.RandomStream(SEED)
    values, small = sg.function([], [rng.integers(-3, 3, (n,)), rng.integers(4, size=(n,), dtype="uint8")])()
    assert values.dtype == np.int64 and small.dtype == np.uint8
    counts = np.bincount(values + 3, minlength=6)
    assert counts.size == 6 and np.all(np.abs(counts - n / 6) < 5 * math.sqrt(n / 6))
    assert set(np.unique(small)) == {0, 1, 2, 3}


def test_permutation_is_a_permutation():
    rng = sg.RandomStream(SEED)
    n = sg.scalar("n", "int64")
    f = sg.function([n], rng.permutation(n))
    first, second = f(1000), f(1000)
    assert np.array_equal(np.sort(first), np.arange(1000)) and not np.array_equal(first, second)
    assert f(0).shape == (0,)


# -- shapes --------------------------------------------------------------------------------
def test_static_and_symbolic_shapes():
    rng = sg.RandomStream(SEED)
    n, x = sg.scalar("n", "int64"), sg.matrix("x")
    assert rng.normal((2, 3)).type.shape == (2, 3)
    assert rng.normal(5).type.shape == (5,)
    assert rng.uniform((n, 4)).type.shape == (None, 4)
    assert rng.permutation(7).type.shape == (7,)
    assert rng.normal(x.shape).type.shape == (None, None)
    assert rng.normal(avg=sg.vector(shape=(3,))).type.shape == (3,)
    assert rng.normal().type.shape == ()
    assert rng.binomial(size=(2,), n=4).type == sg.TensorType("int64", (2,))
    draws = [rng.uniform((n, 4)), rng.normal(x.shape), rng.normal(avg=x), rng.binomial(p=x, n=3)]
    shapes = [sg.as_tensor_variable(d) for v in draws for d in sg.symbolic_shape(v)]
    f = sg.function([n, x], shapes + draws)
    values = f(3, np.zeros((2, 5)))
    assert [int(d) for d in values[: len(shapes)]] == [3, 4, 2, 5, 2, 5, 2, 5]
    assert [v.shape for v in values[len(shapes) :]] == [(3, 4), (2, 5), (2, 5), (2, 5)]


def test_parameters_broadcast_to_size():
    rng = sg.RandomStream(SEED)
    avg = sg.vector("avg", shape=(3,))
    values = sg.function([avg], rng.normal((4, 3), avg=avg, std=1e-9))(np.array([0.0, 10.0, 20.0]))
    assert values.shape == (4, 3)
    np.testing.assert_allclose(values, np.tile([0.0, 10.0, 20.0], (4, 1)), atol=1e-6)


def test_dtypes():
    rng = sg.RandomStream(SEED)
    assert rng.uniform().dtype == sg.config.floatX
    assert rng.normal(dtype="float32").dtype == "float32"
    assert rng.normal(avg=sg.vector("v", "float64"), dtype="float32").dtype == "float32"
    assert rng.integers(5, dtype="int16").dtype == "int16"
    assert rng.binomial(n=2, dtype="float64").dtype == "float64"
    assert rng.bernoulli(0.5, dtype="bool").dtype == "bool"


# -- gradients -------------------------------------------------------------------------------
def test_gradient_through_the_reparametrization():
    rng = sg.RandomStream(SEED)
    avg, std = sg.vector("avg"), sg.scalar("std")
    draw = rng.normal((4, 3), avg=avg, std=std)
    g_avg, g_std = sg.grad((draw**2).sum(), [avg, std])
    avg_value, std_value = np.array([1.0, -2.0, 0.5]), np.float64(1.5)
    x, ga, gs = sg.function([avg, std], [draw, g_avg, g_std])(avg_value, std_value)
    z = (x - avg_value) / std_value  # the standard draws behind this call
    np.testing.assert_allclose(ga, (2 * x).sum(axis=0))
    np.testing.assert_allclose(gs, (2 * x * z).sum())

    low = sg.scalar("low")
    u = rng.uniform((5,), low=low, high=low + 2.0)
    gradient = sg.function([low], sg.grad(u.sum(), low), on_unused_input="ignore")  # a constant: low is not read
    np.testing.assert_allclose(gradient(0.3), 5.0)


# -- errors ------------------------------------------------------------------------------------
BAD = {
    "negative size": lambda r: r.normal((2, -1)),
    "negative permutation": lambda r: r.permutation(-3),
    "binomial n < 0": lambda r: r.binomial(n=-1),
    "binomial n not an int": lambda r: r.binomial(n=2.5),
    "binomial n symbolic": lambda r: r.binomial(n=sg.scalar(dtype="int64")),
    "binomial dtype": lambda r: r.binomial(n=2, dtype="bool"),
    "p out of range": lambda r: r.bernoulli(1.5),
    "integers float dtype": lambda r: r.integers(5, dtype="float64"),
    "integers float bounds": lambda r: r.integers(0.5, 4),
    "integers empty range": lambda r: r.integers(5, 5),
    "integers out of dtype": lambda r: r.integers(0, 300, dtype="uint8"),
    "integers negative unsigned": lambda r: r.integers(-1, 3, dtype="uint16"),
    "normal int dtype": lambda r: r.normal(dtype="int32"),
    "uniform float size": lambda r: r.uniform((2.0, 3)),
    "parameter larger than size": lambda r: r.normal((3,), avg=sg.matrix()),
    "static shapes disagree": lambda r: r.normal((3,), avg=sg.vector(shape=(4,))),
    "draw of a bad dtype": lambda r: RandomDraw("bits", "float64")(r.state, 0, 3),
    "draw of a bad kind": lambda r: RandomDraw("gamma", "float64")(r.state, 0, 3),
    "draw id out of range": lambda r: RandomDraw("normal", "float64")(r.state, 2**32, 3),
    "state of a bad type": lambda r: RandomFork()(sg.vector(dtype="int64"), 0),
    "state of a bad length": lambda r: RandomDraw("normal", "float64")(sg.vector(dtype="uint64", shape=(3,)), 0),
    "float step": lambda r: random_fork(r.state, 0.5),
    "argsort of floats": lambda r: StableArgsort()(sg.vector()),
}


@pytest.mark.parametrize("build", BAD.values(), ids=BAD.keys())
def test_bad_arguments(build):
    with pytest.raises(sg.SymgraphError):
        build(sg.RandomStream(SEED))


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True])
def test_bad_seeds(seed):
    with pytest.raises(sg.SymgraphValueError):
        sg.RandomStream(seed)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_negative_symbolic_size_fails_at_run_time(backend):
    rng = sg.RandomStream(SEED)
    n = sg.scalar("n", "int64")
    f = sg.function([n], rng.uniform((n,)), backend=backend)
    assert f(2).shape == (2,)
    with pytest.raises(sg.SymgraphError, match="negative"):
        f(-2)
