"""Compiled functions called from several threads: no lost update, no torn state; functions without updates
take no lock."""

import threading

import numpy as np
import pytest

import symgraph as sg

BACKENDS = ["python", "numba"]


def run_in_threads(target, n_threads: int = 2) -> None:
    errors = []

    def guarded():
        try:
            target()
        except BaseException as err:  # noqa: BLE001 - reported by the test
            errors.append(err)

    threads = [threading.Thread(target=guarded) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_update_is_lost(backend):
    counter = sg.shared(np.int64(0), "counter")
    step = sg.function([], counter, updates={counter: counter + 1}, backend=backend)
    step()

    def work():
        for _ in range(1000):
            step()

    run_in_threads(work)
    assert counter.get_value() == 2001


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_functions_updating_one_variable_lose_nothing(backend):
    total = sg.shared(np.zeros(3), "total")
    x = sg.vector("x")
    add = sg.function([x], [], updates={total: total + x}, backend=backend)
    double_minus = sg.function([], [], updates={total: total * 2 - total + 1}, backend=backend)  # += 1

    def adding():
        for _ in range(500):
            add(np.ones(3))

    def incrementing():
        for _ in range(500):
            double_minus()

    threads = [threading.Thread(target=adding), threading.Thread(target=incrementing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_array_equal(total.get_value(), np.full(3, 1000.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_call_sees_a_half_updated_state(backend):
    a, b = sg.shared(np.zeros(4), "a"), sg.shared(np.zeros(4), "b")
    step = sg.function([], (a - b).sum(), updates=[(a, a + 1), (b, b + 1)], backend=backend)
    differences = []

    def work():
        differences.extend(float(step()) for _ in range(500))

    run_in_threads(work)
    assert differences == [0.0] * 1000
    np.testing.assert_array_equal(a.get_value(), np.full(4, 1000.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_function_without_updates_takes_no_lock(backend):
    """A call holding the variable's lock (as an updating call does) does not stop a reading function."""
    w = sg.shared(np.arange(3.0), "w")
    read = sg.function([], w * 2, backend=backend)
    results = []
    with w.lock:
        reader = threading.Thread(target=lambda: results.append(read()))
        reader.start()
        reader.join(timeout=120)  # a guard against a deadlock, not a measurement
        assert not reader.is_alive()
    np.testing.assert_array_equal(results[0], [0.0, 2.0, 4.0])


def test_function_with_updates_holds_the_lock_of_every_variable_it_reads():
    w, step_count = sg.shared(np.arange(3.0), "w"), sg.shared(np.int64(0), "n")
    step = sg.function([], w.sum(), updates={step_count: step_count + 1})
    started = threading.Event()
    with w.lock:
        caller = threading.Thread(target=lambda: (started.set(), step()))
        caller.start()
        started.wait()
        caller.join(timeout=0.2)
        assert caller.is_alive() and step_count.get_value() == 0  # waits for w's lock
    caller.join()
    assert step_count.get_value() == 1
