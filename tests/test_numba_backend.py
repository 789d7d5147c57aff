"""The numba backend's machinery: generated source, missing rules, constants as arguments, threads, cache."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
from backends.numba import cache
from backends.numba.codegen import generate
from backends.numba.render import render
from backends.numba.rules import MissingRuleError, numba_rule
from backends.numba.scalar import missing_templates, scalar_helpers, scalar_source
from backends.source import Function, Module
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply
from symgraph.op import Op
from symgraph.ops import scalar
from tests.helpers import assert_backend_agrees

ROOT = Path(__file__).resolve().parent.parent


def test_source_is_one_commented_line_per_node():
    x = sg.vector("x")
    y = sg.exp(x) * 2.0
    f = sg.function([x], [y, y.sum()], backend="numba", rewrites=None)
    np.testing.assert_allclose(f(np.arange(3.0))[1], (np.exp(np.arange(3.0)) * 2).sum())
    calls = [line for line in f.source.splitlines() if " = k" in line]
    comments = [line.strip() for line in f.source.splitlines() if line.strip().startswith("# Elemwise")]
    assert len(calls) == 3 and len(comments) == 2
    assert "# Elemwise{exp}(x)" in comments


def test_a_missing_rule_is_a_compile_time_error():
    @dataclass(frozen=True)
    class Twice(Op):
        def make_node(self, x):
            x = sg.as_tensor_variable(x)
            return Apply(self, [x], [x.type])

        def perform(self, node, inputs):
            return [inputs[0] * 2]

    x = sg.vector("x")
    with pytest.raises(MissingRuleError, match="no rule for Twice"):
        sg.function([x], Twice()(x), backend="numba")


def test_constants_are_arguments_not_source():
    x = sg.vector("x")
    a = generate(FunctionGraph([x], [x * np.float64(2.0)]))
    b = generate(FunctionGraph([x], [x * np.float64(3.0)]))
    assert a.name == b.name and a.source == b.source
    assert [c.item() for c in a.constants] == [2.0] and [c.item() for c in b.constants] == [3.0]
    f = sg.function([x], x * np.float64(3.0), backend="numba", rewrites=None)
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])


def test_every_scalar_op_has_a_template():
    assert missing_templates() == set()


@pytest.mark.parametrize("comp", ["float32", "float64", "int8", "int64", "uint32", "bool"])
def test_every_template_declares_the_helpers_it_calls(comp):
    """The generated module binds exactly the helpers each expression calls (``vm_*`` vector math, ``sg_*``)."""
    for op in scalar.OPS.values():
        expression = scalar_source(op, [f"x{i}" for i in range(2 if op.nin == -1 else op.nin)], comp)
        called = set(re.findall(r"\b((?:vm|sg)_\w+)\(", expression))
        assert called == {helper.name for helper in scalar_helpers(op, comp)}, (op.name, expression)


def op_classes(base: type = Op) -> set[type]:
    """Every subclass of ``base`` defined by symgraph, directly or not."""
    found = {c for c in base.__subclasses__() if c.__module__.startswith("symgraph.")}
    return found.union(*(op_classes(c) for c in found))


def test_every_op_class_has_a_rule():
    """Each op that graphs can hold (every leaf class of the hierarchy) compiles on numba."""
    missing = numba_rule.dispatch(object)
    leaves = {c for c in op_classes() if not c.__subclasses__()}
    assert len(leaves) > 30
    assert not {c.__qualname__ for c in leaves if numba_rule.dispatch(c) is missing}


def test_float32_kernels_stay_float32():
    x = sg.vector("x", dtype="float32")
    fg = FunctionGraph([x], [sg.sigmoid(x) * np.float32(2.0) + sg.softplus(x)])
    generated = generate(fg)
    assert all("float64" not in source for source in generated.kernels.values())


def test_runtime_shape_mismatch_is_a_call_error():
    x, y = sg.vector("x"), sg.vector("y")
    f = sg.function([x, y], x + y, backend="numba", rewrites=None)
    with pytest.raises(sg.CallError, match="do not match"):
        f(np.ones(3), np.ones(4))
    with pytest.raises(sg.CallError, match="declared static-1"):
        f(np.ones(3), np.ones(1))


def test_outputs_that_are_inputs_or_repeated():
    x = sg.vector("x")
    f = sg.function([x], [x, sg.exp(x), sg.exp(x)], backend="numba")
    value = np.arange(3.0)
    a, b, c = f(value)
    assert a is not value and b is not c
    np.testing.assert_array_equal(a, value)


def test_parallel_kernels_agree_with_the_reference(monkeypatch):
    monkeypatch.setattr(sg.config, "num_threads", 2)
    x = sg.matrix("x")
    y = sg.tanh(x) * 3.0 + 1.0
    fg = FunctionGraph([x], [y, y.sum(axis=1)])
    elementwise = [source for source in generate(fg).kernels.values() if "np.empty((n0, n1, )" in source]
    assert elementwise and all("numba.prange" in source for source in elementwise)
    assert_backend_agrees([y, y.sum(axis=1)], {x: np.random.default_rng(0).normal(size=(300, 300))}, "numba")


def test_rendering_is_canonical_and_statements_are_single_lines():
    kernel = Function("kernel", ("a0",), ("return a0,",), fastmath=("reassoc", "contract"))
    reordered = replace(kernel, fastmath=("contract", "reassoc", "contract"))
    assert render(Module((kernel,))) == render(Module((reordered,)))
    with pytest.raises(ValueError, match="several lines"):
        render(Module((replace(kernel, body=("if a0:\n    pass",)),)))


def test_a_name_with_a_line_break_stays_in_its_comment():
    x = sg.vector("x\ny")
    f = sg.function([x], x + 1.0, backend="numba", rewrites=None)
    np.testing.assert_array_equal(f(np.arange(2.0)), [1.0, 2.0])


SOURCES = """
    import hashlib
    import numpy as np
    import symgraph as sg
    from backends.numba.codegen import generate
    from symgraph.fgraph import FunctionGraph
    from symgraph.rewrite import rewrite_graph

    sg.config.num_threads = 2  # parallel variants
    x = sg.matrix("x", "float32")
    ys, _ = sg.scan(lambda row, acc: acc + sg.exp(row).sum(), sequences=[x],
                    outputs_info=[sg.constant(np.float32(0))])
    fgraph = FunctionGraph([x], [sg.nnet.softmax(x), sg.tanh(x * 2).sum(axis=1), x.max(axis=0), ys,
                                 sg.ifelse(x.sum() > 0, x * 2, x - 1), x[1:, ::2]])
    rewrite_graph(fgraph)
    generated = generate(fgraph)
    print(generated.name, hashlib.sha256(repr(sorted(generated.kernels.items())).encode()).hexdigest())
"""


def test_equal_graphs_give_identical_sources_in_fresh_processes(tmp_path):
    """The cache keys are hashes of the sources: they must not depend on the process (e.g. its hash seed)."""
    runs = [_run(SOURCES, tmp_path, PYTHONHASHSEED=seed) for seed in ("1", "2")]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr + runs[1].stderr
    assert runs[0].stdout == runs[1].stdout


def test_versions_are_part_of_the_cache_directory(monkeypatch):
    before = cache.versions_key()
    monkeypatch.setattr(sg, "__version__", "0.0.0-test")
    cache.versions_key.cache_clear()
    try:
        assert cache.versions_key() != before
    finally:
        monkeypatch.undo()
        cache.versions_key.cache_clear()
    assert cache.versions_key() == before


def test_a_truncated_module_file_is_rewritten_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path))
    source = "VALUE = 42\n"
    name = cache.module_name("sgtest_", source + str(tmp_path))
    path = tmp_path / f"numba-{cache.versions_key()}" / f"{name}.py"
    path.parent.mkdir(parents=True)
    path.write_text(source[:4])
    with pytest.warns(UserWarning, match="corrupted"):
        module = cache.load_module(name, source)
    assert module.VALUE == 42 and path.read_text() == source
    del sys.modules[name]


def _run(script: str, cache_dir: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SYMGRAPH_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT), **variables}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip


SCRIPT = """
    import sys, warnings
    import numpy as np
    import symgraph as sg
    x = sg.vector("x")
    f = sg.function([x], sg.exp(x) * 2.0 + x.sum(), backend="numba")
    print(f(np.arange(3.0)).tolist())
    stats = sys.modules[[m for m in sys.modules if m.startswith("sg_")][0]].graph.stats
    print("hits", sum(stats.cache_hits.values()), "misses", sum(stats.cache_misses.values()))
"""
EXPECTED = np.exp(np.arange(3.0)) * 2.0 + 3.0


def _result(stdout: str) -> np.ndarray:
    return np.array(eval(stdout.splitlines()[0]))  # noqa: S307 - a list of floats printed by SCRIPT


def test_cache_two_processes_at_once_then_a_hit_then_corrupted_numba_files(tmp_path):
    """A damaged cache file of numba's is deleted and its code recompiled, with one warning (the graph's object
    file and its kernels' indexes are damaged at once: the first read fails, and all of them are recompiled)."""
    env = {**os.environ, "SYMGRAPH_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(SCRIPT)],
            env=env,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        np.testing.assert_allclose(_result(out), EXPECTED, rtol=1e-14)
    (directory,) = tmp_path.glob("numba-*")
    assert len(list(directory.glob("sg_*.py"))) == 1 and not list(directory.glob(".tmp-*"))

    warm = _run(SCRIPT, tmp_path)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.splitlines()[1] == "hits 1 misses 0"

    # the graph's object file and the kernels' indexes truncated: both are read, since the graph recompiles
    for path in [*(directory / "__pycache__").glob("sg_*.nbc"), *(directory / "__pycache__").glob("sgk_*.nbi")]:
        path.write_bytes(path.read_bytes()[:10])
    broken = _run(SCRIPT, tmp_path)
    assert broken.returncode == 0, broken.stderr
    np.testing.assert_allclose(_result(broken.stdout), EXPECTED, rtol=1e-14)
    assert broken.stderr.count("is unreadable (") == 1, broken.stderr
    again = _run(SCRIPT, tmp_path)
    assert again.stdout.splitlines()[1] == "hits 1 misses 0" and "unreadable" not in again.stderr

    # the graph's code gone and its kernels' indexes damaged: compiling the graph reads them
    for path in (directory / "__pycache__").glob("sg_*"):
        path.unlink()
    for path in (directory / "__pycache__").glob("sgk_*.nbi"):
        path.write_bytes(path.read_bytes()[:10])
    kernels = _run(SCRIPT, tmp_path)
    assert kernels.returncode == 0 and kernels.stderr.count("is unreadable (") == 1, kernels.stderr
    np.testing.assert_allclose(_result(kernels.stdout), EXPECTED, rtol=1e-14)


def test_numba_import_does_not_warn(tmp_path):
    """In a fresh process: here the module is imported already, and importing it again runs nothing."""
    result = _run("import warnings; warnings.simplefilter('error'); import symgraph, backends.numba", tmp_path)
    assert result.returncode == 0 and "Warning" not in result.stderr, result.stderr


def test_trust_input_skips_checks_and_wrong_arguments_are_a_clear_error():
    lr = sg.scalar("lr")
    w = sg.shared(np.zeros(3), name="w")
    f = sg.function([lr], w.sum(), updates=[(w, w - lr)], backend="numba", trust_input=True)
    f(np.asarray(0.5))
    np.testing.assert_array_equal(w.get_value(), [-0.5] * 3)
    with pytest.raises(sg.CallError, match="trust_input=True"):
        f(np.float64(0.1))  # a NumPy scalar, not a 0-d array
    np.testing.assert_array_equal(w.get_value(), [-0.5] * 3)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
def test_fresh_intermediates_do_not_page_fault_at_every_call():
    import resource

    x, y = sg.matrix("x"), sg.vector("y")
    w1, w2 = sg.shared(np.full((2, 500), 0.1), name="w1"), sg.shared(np.full(500, 0.1), name="w2")
    loss = sg.softplus(-y * sg.dot(sg.relu(sg.dot(x, w1)), w2)).mean()
    step = sg.function([x, y], loss, updates=[(w, w - 0.01 * g) for w, g in zip([w1, w2], sg.grad(loss, [w1, w2]))],
                       backend="numba")  # fmt: skip
    rng = np.random.default_rng(0)
    xv, yv = rng.normal(size=(300, 2)), np.sign(rng.normal(size=300))
    step(xv, yv)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        step(xv, yv)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50
    assert faults < 50  # without keeping freed memory: ~500 per step (1.2 MB intermediates from the OS each time)
