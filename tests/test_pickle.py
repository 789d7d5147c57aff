"""Compiled functions survive pickle, copy.deepcopy and Function.copy on every backend."""

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg

BACKENDS = ["python", "numba"]


def sgd_step(backend, **options):
    x = sg.vector("x")
    w = sg.shared(np.array([1.0, 2.0, 3.0]), "w")
    loss = ((w * x).sum() - 1.0) ** 2
    return sg.function([x], loss, updates={w: w - 0.1 * sg.grad(loss, w)}, backend=backend, **options), w


def many_ops(backend):
    """A graph through ops of several families (elementwise of every kind, reductions, indexing, nnet, scan,
    ifelse, random draws)."""
    x, k = sg.matrix("x"), sg.scalar("k", "int64")
    elementwise = [sg.softplus(x), sg.relu(x), sg.switch(x > 0, x, -x), sg.log1p(abs(x)), sg.cast(x, "float32"),
                   sg.sigmoid(x), sg.maximum(x, 0.5), x // 2, x % 3, sg.tanh(x) ** 2]  # fmt: skip
    rows, _ = sg.scan(lambda row, acc: acc + row, sequences=[x], outputs_info=[sg.zeros_like(x[0])])
    rng = sg.random.RandomStream(3)
    outputs = [sum(e.sum() for e in elementwise), sg.nnet.softmax(x)[k], rows[-1],
               sg.ifelse(k > 0, x.sum(), x.mean()), rng.normal((2,)).sum()]  # fmt: skip
    return sg.function([x, k], outputs, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pickled_function_gives_the_same_results_and_shared_values(backend):
    f, w = sgd_step(backend)
    f(np.ones(3))
    loaded = pickle.loads(pickle.dumps(f))
    loaded_w = loaded.shared[0]
    assert loaded_w is not w and loaded_w.name == "w"
    np.testing.assert_array_equal(loaded_w.get_value(), w.get_value())
    for _ in range(3):
        np.testing.assert_array_equal(loaded(np.ones(3)), f(np.ones(3)))
        np.testing.assert_array_equal(loaded_w.get_value(), w.get_value())
    assert loaded.backend == backend and repr(loaded) == repr(f)


@pytest.mark.parametrize("backend", BACKENDS)
def test_graph_of_many_ops_pickles(backend):
    f = many_ops(backend)
    data = np.random.default_rng(0).normal(size=(3, 4))
    expected = f(data, 1)
    loaded = pickle.loads(pickle.dumps(f))
    for a, b in zip(loaded(data, 1)[:-1], expected[:-1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_functions_pickled_together_still_share_their_variable(backend):
    counter = sg.shared(np.int64(5), "counter")
    increment = sg.function([], [], updates={counter: counter + 1}, backend=backend)
    read = sg.function([], counter * 10, backend=backend)
    loaded_increment, loaded_read = pickle.loads(pickle.dumps((increment, read)))
    loaded_increment()
    assert loaded_read() == 60 and counter.get_value() == 5


def test_options_travel():
    x = sg.vector("x", "float32")
    f = sg.function([x], x * 2, rewrites=None, allow_input_downcast=True, name="double")
    f.trust_input = True
    loaded = pickle.loads(pickle.dumps(f))
    assert loaded.name == "double" and loaded.trust_input and loaded.allow_input_downcast
    assert loaded.rewrite_report.phases == []  # compiled without rewrites again


def test_deep_graph_pickles():
    x = sg.vector("x")
    y = x
    for _ in range(3000):
        y = y + 1.0
    f = sg.function([x], y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f))(np.zeros(2)), [3000.0, 3000.0])


def test_eval_cache_is_not_pickled():
    x = sg.vector("x")
    y = x * 2
    y.eval({x: np.ones(2)})
    assert "_eval_cache" not in pickle.loads(pickle.dumps(y)).__dict__


@pytest.mark.parametrize("backend", BACKENDS)
def test_deepcopy_has_its_own_shared_storage(backend):
    f, w = sgd_step(backend)
    g = copy.deepcopy(f)
    g_w = g.shared[0]
    assert g_w is not w and not np.shares_memory(g_w.get_value(borrow=True), w.get_value(borrow=True))
    np.testing.assert_array_equal(g(np.ones(3)), f(np.ones(3)))
    np.testing.assert_array_equal(g_w.get_value(), w.get_value())
    g(np.ones(3))
    assert not np.array_equal(g_w.get_value(), w.get_value())


def test_deepcopy_of_two_functions_keeps_them_sharing():
    counter = sg.shared(np.int64(0), "counter")
    increment = sg.function([], [], updates={counter: counter + 1})
    read = sg.function([], counter + 0)
    copied_increment, copied_read = copy.deepcopy((increment, read))
    copied_increment()
    assert copied_read() == 1 and counter.get_value() == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("share_memory", [True, False])
def test_copy_shares_memory_or_not(backend, share_memory):
    f, w = sgd_step(backend)
    g = f.copy(share_memory=share_memory, name="copy")
    assert g.name == "copy" and (g.shared[0] is w) == share_memory
    g(np.ones(3))
    changed = not np.array_equal(w.get_value(), [1.0, 2.0, 3.0])
    assert changed == share_memory


def test_copy_swaps_shared_variables():
    f, w = sgd_step("python")
    other = sg.shared(np.zeros(3), "other")
    g = f.copy(share_memory=True, swap={w: other})
    g(np.ones(3))
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(other.get_value(), [0.2, 0.2, 0.2])
    with pytest.raises(sg.SymgraphTypeError, match="swapped"):
        f.copy(swap={w: sg.shared(np.zeros((3, 1)), "bad")})
    with pytest.raises(sg.SymgraphValueError, match="not a shared variable of this function"):
        f.copy(swap={other: w})


def test_copy_without_updates():
    f, w = sgd_step("python")
    g = f.copy(share_memory=True, delete_updates=True)
    for _ in range(2):
        assert g(np.ones(3)) == 25.0  # ((1 + 2 + 3) - 1) ** 2, w unchanged
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0, 3.0])


def test_loads_in_a_fresh_process(tmp_path):
    f, w = sgd_step("numba")
    f(np.ones(3))
    path = tmp_path / "step.pkl"
    path.write_bytes(pickle.dumps(f))
    script = (
        "import pickle, sys, numpy as np\n"
        f"f = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "print(float(f(np.ones(3))), f.shared[0].get_value().tolist())\n"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=root,
                            timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    loss, values = result.stdout.split(" ", 1)
    assert float(loss) == float(f(np.ones(3)))
    assert eval(values) == w.get_value().tolist()  # noqa: S307 - a list of floats printed above
