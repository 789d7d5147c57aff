"""Faults of the numba backend's on-disk cache: an unusable directory, processes compiling one graph at once, a
process killed while compiling."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from backends.numba import cache

ROOT = Path(__file__).resolve().parent.parent
MISS = "cache miss that should have hit"

# Waits for a start file (so that processes compile at the same moment), then compiles a graph (each test uses a
# fresh cache directory: the graph is new there) and prints its value.
SCRIPT = """
    import os, sys, time
    import numpy as np
    import symgraph as sg
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.01)
    x = sg.vector("x")
    f = sg.function([x], sg.tanh(x) * 3.0 - 1.0, backend="numba")
    print(f(np.arange(4.0)).tolist())
"""
EXPECTED = np.tanh(np.arange(4.0)) * 3.0 - 1.0


def _start(cache_dir: Path, start_file: Path) -> subprocess.Popen:
    env = {**os.environ, "SYMGRAPH_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(start_file)],
        env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _finish(proc: subprocess.Popen) -> str:
    """The process's stderr, after checking that it printed the expected values."""
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    np.testing.assert_allclose(eval(out.splitlines()[0]), EXPECTED, rtol=1e-14)  # noqa: S307 - a list of floats
    return err


def _started(cache_dir: Path, tmp_path: Path) -> subprocess.Popen:
    (tmp_path / "go").touch()
    return _start(cache_dir, tmp_path / "go")


def test_processes_compiling_one_new_graph_at_once_report_no_miss_but_a_lost_cache_is_one(tmp_path):
    start = tmp_path / "start"
    procs = [_start(tmp_path / "cache", start) for _ in range(4)]
    start.touch()
    errors = [_finish(proc) for proc in procs]
    assert not [err for err in errors if MISS in err], errors
    later = _finish(_started(tmp_path / "cache", tmp_path))
    assert "symgraph cache" not in later and MISS not in later
    for pycache in (tmp_path / "cache").glob("numba-*/__pycache__"):  # numba's saved code is lost: a true miss
        shutil.rmtree(pycache)
    assert MISS in _finish(_started(tmp_path / "cache", tmp_path))


def test_a_process_killed_while_compiling_leaves_a_usable_cache(tmp_path):
    proc = _started(tmp_path / "cache", tmp_path)
    deadline = time.monotonic() + 300
    while not list((tmp_path / "cache").glob("numba-*/sg_*.py")):  # the graph module is written: compiling now
        assert proc.poll() is None and time.monotonic() < deadline, "the child ended or never wrote its module"
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    err = _finish(_started(tmp_path / "cache", tmp_path))
    assert MISS not in err and err.count("symgraph cache") <= 1, err
    again = _finish(_started(tmp_path / "cache", tmp_path))
    assert "symgraph cache" not in again and MISS not in again, again


def test_a_cache_root_that_is_a_file_falls_back_to_a_temporary_directory_with_one_warning(tmp_path):
    root = tmp_path / "not-a-directory"
    root.write_text("")
    err = _finish(_started(root, tmp_path))
    assert err.count("SYMGRAPH_CACHE_DIR") == 1 and str(root) in err, err
    assert root.read_text() == ""


def test_an_unusable_cache_directory_warns_once_and_modules_still_load(tmp_path, monkeypatch):
    root = tmp_path / "file"
    root.write_text("")
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(root))
    names = [cache.module_name("sgtest_", f"VALUE = {i}\n{tmp_path}") for i in range(2)]
    with pytest.warns(UserWarning, match="SYMGRAPH_CACHE_DIR") as record:
        modules = [cache.load_module(name, f"VALUE = {i}\n") for i, name in enumerate(names)]
    assert len(record) == 1 and [m.VALUE for m in modules] == [0, 1]
    assert Path(modules[0].__file__).parent == Path(modules[1].__file__).parent != root
    for name in names:
        del sys.modules[name]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any directory")
def test_a_read_only_cache_directory_warns_and_falls_back(tmp_path, monkeypatch):
    root = tmp_path / "read-only"
    root.mkdir(mode=0o500)
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(root))
    name = cache.module_name("sgtest_", f"VALUE = 7\n{tmp_path}")
    with pytest.warns(UserWarning, match="SYMGRAPH_CACHE_DIR"):
        assert cache.load_module(name, "VALUE = 7\n").VALUE == 7
    del sys.modules[name]
