"""Catalogue: faults that can take a process down or race (integer traps, a compile killed by SIGKILL, eight
processes on one fresh cache, bad cache directories and environment variables, threads). The dangerous ones
run in subprocesses; each runs on both backends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
from tests.catalogue import BACKENDS

ROOT = Path(__file__).resolve().parent.parent

# A graph new to any cache (the marker constant makes its source unique to each run of a test).
PROGRAM = """
import sys, numpy as np, symgraph as sg
x = sg.vector("x")
f = sg.function([x], (sg.tanh(x) * {marker} + sg.exp(-x)).sum(), backend=sys.argv[1])
print(repr(float(f(np.arange(4.0)))))
"""


def expected_program(marker: float) -> float:
    x = np.arange(4.0)
    return float((np.tanh(x) * marker + np.exp(-x)).sum())


def python(code: str, backend: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """A Python subprocess running ``code`` (argv[1] = backend) with symgraph importable from this checkout."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-c", code, backend], cwd=ROOT, env=full_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)  # fmt: skip


def finished(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


INT_TRAPS = """
import sys, numpy as np, symgraph as sg
results = []
for dtype in ("int8", "int16", "int32", "int64"):
    a, b = sg.vector("a", dtype=dtype), sg.vector("b", dtype=dtype)
    f = sg.function([a, b], [a // b, a % b], backend=sys.argv[1])
    low = np.iinfo(dtype).min
    results += [v.tolist() for v in f(np.array([low, low, 7], dtype), np.array([-1, 1, -1], dtype))]
print(results)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_int_min_divided_by_minus_one_matches_numpy(backend):
    rc, out, err = finished(python(INT_TRAPS, backend))
    assert rc == 0, f"process ended with {rc} ({signal.Signals(-rc).name if rc < 0 else 'error'}): {err[-2000:]}"
    expected = []
    with np.errstate(all="ignore"):
        for dtype in ("int8", "int16", "int32", "int64"):
            low = np.iinfo(dtype).min
            a, b = np.array([low, low, 7], dtype), np.array([-1, 1, -1], dtype)
            expected += [(a // b).tolist(), (a % b).tolist()]
    assert out.strip() == str(expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_compile_killed_midway_leaves_a_usable_cache(backend, tmp_path):
    """SIGKILL while the first process compiles a new graph; the next process on the same cache gets it right."""
    env = {"SYMGRAPH_CACHE_DIR": str(tmp_path)}
    code = PROGRAM.format(marker=1.25)
    victim = python(code, backend, env)
    deadline = time.monotonic() + 60
    while victim.poll() is None and not any(tmp_path.rglob("*.py")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # into numba's compile of the written module
    victim.kill()
    victim.communicate()
    rc, out, err = finished(python(code, backend, env))
    assert rc == 0, err[-2000:]
    assert float(out) == pytest.approx(expected_program(1.25), rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_eight_processes_on_one_fresh_cache(backend, tmp_path):
    env = {"SYMGRAPH_CACHE_DIR": str(tmp_path)}
    code = PROGRAM.format(marker=2.5)
    procs = [python(code, backend, env) for _ in range(8)]
    results = [finished(p, timeout=300) for p in procs]
    for rc, out, err in results:
        assert rc == 0, err[-2000:]
        assert float(out) == pytest.approx(expected_program(2.5), rel=1e-12)
        assert "should have hit" not in err, err[-2000:]


def unusable_cache_dirs(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    return {"a-file": a_file, "under-a-file": a_file / "cache"}


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_cache_directory_that_is_a_file(backend, where, tmp_path):
    """Either a result with a warning (a temporary cache) or an error naming SYMGRAPH_CACHE_DIR: never a raw
    NotADirectoryError / FileExistsError."""
    env = {"SYMGRAPH_CACHE_DIR": str(unusable_cache_dirs(tmp_path)[where])}
    rc, out, err = finished(python(PROGRAM.format(marker=0.5), backend, env))
    if rc == 0:
        assert float(out) == pytest.approx(expected_program(0.5), rel=1e-12)
    else:
        assert "SYMGRAPH_CACHE_DIR" in err, err[-2000:]


ENV_CASES = {
    "threads-not-a-number": {"SYMGRAPH_NUM_THREADS": "abc"},
    "threads-zero": {"SYMGRAPH_NUM_THREADS": "0"},
    "unknown-backend": {"SYMGRAPH_BACKEND": "bogus"},
    "unknown-floatx": {"SYMGRAPH_FLOATX": "float16"},
}


@pytest.mark.parametrize("name", ENV_CASES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_environment_variable_is_named(backend, name):
    """A bad setting fails naming the variable (or is ignored with a warning naming it); never a bare
    ValueError from int() nor silent acceptance."""
    env = ENV_CASES[name]
    code = "import sys, symgraph as sg; x = sg.vector('x'); print(sg.function([x], x * 2)([1.0]))"
    rc, out, err = finished(python(code, backend, {**env, "SYMGRAPH_BACKEND": env.get("SYMGRAPH_BACKEND", backend)}))
    variable = next(iter(env))
    messages = [line for line in err.splitlines() if not line.startswith(" ")]  # not a traceback's source lines
    assert any(variable in line for line in messages), f"rc={rc}, stdout={out!r}, stderr={err[-2000:]}"


def counter_function(backend: str) -> tuple[sg.Function, sg.SharedVariable]:
    count = sg.shared(np.zeros((), "int64"), name="count")
    return sg.function([], count, updates={count: count + 1}, backend=backend), count


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_lose_no_update(backend):
    f, count = counter_function(backend)
    f()
    count.set_value(np.zeros((), "int64"))
    threads = [threading.Thread(target=lambda: [f() for _ in range(1000)]) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(count.get_value()) == 2000


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_without_updates_agree(backend):
    x = sg.matrix("x")
    f = sg.function([x], [sg.tanh(x).sum(axis=0), sg.dot(x, x.T)], backend=backend)
    data = [np.random.default_rng(seed).normal(size=(40, 30)) for seed in range(4)]
    results: dict[int, list] = {}
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, [f(data[k]) for _ in range(50)]))
               for k in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, calls in results.items():
        for tanh_sum, gram in calls:
            np.testing.assert_allclose(tanh_sum, np.tanh(data[k]).sum(axis=0), rtol=1e-12)
            np.testing.assert_allclose(gram, data[k] @ data[k].T, rtol=1e-12)
