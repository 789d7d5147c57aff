"""Errors at call time name what failed and where: the input (or shared variable) and what it expected, or the op
with its input shapes and the user's line that built it; on every backend, leaving shared variables unchanged."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import backends.numba
import symgraph as sg
from symgraph.graph import Apply
from symgraph.op import Op

BACKENDS = ["python", "numba"]
ROOT = Path(__file__).resolve().parent.parent


def _here() -> str:
    """``file:line`` of the caller: the line that builds the node under test."""
    return f"{__file__}:{sys._getframe(1).f_lineno}"


def _assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, (part, message)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_shape_mismatch_in_a_fused_loop_names_op_shapes_and_line(backend):
    x, y = sg.vector("x"), sg.vector("y")
    w = sg.shared(np.ones(4), name="w")
    total, line = (x + sg.exp(y)).sum(), _here()
    f = sg.function([x, y], total, updates=[(w, w * 2.0)], backend=backend)
    with pytest.raises(sg.CallError) as info:
        f(np.ones(4), np.ones(3))
    _assert_names(str(info.value), "Fused{", "float64 (4,)", "float64 (3,)", f"built at: {line}")
    np.testing.assert_array_equal(w.get_value(), np.ones(4))
    assert f(np.ones(4), np.zeros(4)) == 8.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_index_out_of_bounds_names_op_the_index_and_line(backend):
    v, i = sg.vector("v"), sg.scalar("i", dtype="int64")
    picked, line = v[i], _here()
    f = sg.function([v, i], picked * 2.0, backend=backend)
    with pytest.raises(sg.CallError) as info:
        f(np.ones(3), 5)
    _assert_names(str(info.value), "Subtensor", "float64 (3,)", "int64 ()=5", f"built at: {line}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_dot_of_mismatched_operands_names_op_shapes_and_line(backend):
    m, v = sg.matrix("m"), sg.vector("v")
    product, line = sg.dot(m, v), _here()
    f = sg.function([m, v], product, backend=backend)
    with pytest.raises(sg.CallError) as info:
        f(np.ones((3, 4)), np.ones(3))
    _assert_names(str(info.value), "Dot", "float64 (3, 4)", "float64 (3,)", f"built at: {line}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unallocatable_result_is_an_allocation_error_naming_op_and_requested_shape(backend):
    n = sg.scalar("n", dtype="int64")
    zeros, line = sg.zeros((n, n, n)), _here()
    f = sg.function([n], zeros, backend=backend)
    with pytest.raises(sg.AllocationError) as info:
        f(2**31 - 1)
    assert isinstance(info.value, MemoryError)
    _assert_names(str(info.value), "Alloc", "int64 ()=2147483647", f"built at: {line}")
    assert f(2).shape == (2, 2, 2)


def test_a_memory_error_in_an_op_is_an_allocation_error_with_op_and_shapes():
    @dataclass(frozen=True)
    class Greedy(Op):
        def make_node(self, x):
            x = sg.as_tensor_variable(x)
            return Apply(self, [x], [x.type])

        def perform(self, node, inputs):
            raise MemoryError("Unable to allocate 1.00 PiB")

    x = sg.matrix("x")
    with pytest.raises(sg.AllocationError, match=r"Greedy.*Unable to allocate 1.00 PiB") as info:
        sg.function([x], Greedy()(x), backend="python")(np.ones((2, 5)))
    _assert_names(str(info.value), "float64 (2, 5)", f"built at: {__file__}:")  # (its make_node is in this file)


def test_a_numba_failure_the_reference_does_not_reproduce_names_the_function_inputs(monkeypatch):
    x, y = sg.vector("x"), sg.vector("y")
    f = sg.function([x, y], x * y, backend="numba")
    monkeypatch.setattr(backends.numba, "first_failure", lambda fgraph, values: None)
    with pytest.raises(sg.CallError) as info:
        f(np.ones(2), np.ones(5))
    _assert_names(str(info.value), "do not match", "function inputs: (float64 (2,), float64 (5,))", "reference")


NON_NUMERIC = [
    ([1 + 2j, 3.0], "complex"),
    (np.array([1j, 2.0]), "complex"),
    (["abc", "d"], "string"),
    ("abc", "string"),
    (np.array(["1.5"]), "string"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("value", "kind"), NON_NUMERIC)
def test_non_numeric_call_values_are_call_errors_naming_the_input(backend, value, kind):
    x = sg.vector("x")
    w = sg.shared(np.zeros(2), name="w")
    f = sg.function([x], x * 2.0, updates=[(w, w + 1.0)], backend=backend, allow_input_downcast=True)
    with pytest.raises(sg.CallError, match=rf"input 0 \(x\): expected float64 data .*got {kind}"):
        f(value)
    np.testing.assert_array_equal(w.get_value(), np.zeros(2))


@pytest.mark.parametrize(("value", "kind"), NON_NUMERIC)
def test_non_numeric_set_value_is_a_call_error_naming_the_shared_variable(value, kind):
    w = sg.shared(np.zeros(2), name="w")
    with pytest.raises(sg.CallError, match=rf"shared variable 'w': expected float64 data .*got {kind}"):
        w.set_value(value)
    np.testing.assert_array_equal(w.get_value(), np.zeros(2))


def test_function_wants_a_list_of_inputs():
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphTypeError, match=re.escape("write function([x], ...)")):
        sg.function(x, x * 2.0)
    np.testing.assert_array_equal(sg.function((x,), x * 2.0)([1.0]), [2.0])


@pytest.mark.parametrize(("outputs", "index", "what"), [([sg.vector("x"), None], 1, "NoneType None"),
                                                        ("abc", 0, "str 'abc'"), ([b"x"], 0, "bytes")])  # fmt: skip
def test_outputs_that_are_not_variables_or_numbers_are_build_errors(outputs, index, what):
    x = sg.vector("x")
    with pytest.raises(sg.SymgraphTypeError, match=rf"function\(\) output {index} is {what}"):
        sg.function([x], outputs)


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        ("SYMGRAPH_NUM_THREADS", "abc", "a positive integer"),
        ("SYMGRAPH_NUM_THREADS", "0", "a positive integer"),
        ("SYMGRAPH_BACKEND", "bogus", "one of numba, python"),
        ("SYMGRAPH_FLOATX", "float16", "float32 or float64"),
        ("SYMGRAPH_TRACE_REWRITES", "yes", "0 or 1"),
    ],
)
def test_bad_environment_settings_are_config_errors_naming_the_variable(monkeypatch, variable, text, expected):
    monkeypatch.setenv(variable, text)
    with pytest.raises(sg.ConfigError, match=f"{variable}='{text}' is not valid: expected {expected}"):
        type(sg.config)()


def test_good_environment_settings_are_read(monkeypatch):
    settings = {"SYMGRAPH_NUM_THREADS": "3", "SYMGRAPH_BACKEND": "python", "SYMGRAPH_FLOATX": "float32",
                "SYMGRAPH_TRACE_REWRITES": "1", "SYMGRAPH_REWRITES": ""}  # fmt: skip
    for variable, text in settings.items():
        monkeypatch.setenv(variable, text)
    config = type(sg.config)()
    assert (config.num_threads, config.backend, config.floatX, config.trace_rewrites, config.rewrites) == (
        3, "python", "float32", True, None,
    )  # fmt: skip


def test_a_bad_environment_setting_fails_the_import_with_the_variable_named():
    env = {"SYMGRAPH_NUM_THREADS": "abc", "PATH": ""}
    done = subprocess.run([sys.executable, "-c", "import symgraph"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "symgraph.errors.ConfigError: SYMGRAPH_NUM_THREADS='abc' is not valid: expected a positive integer"
    )


@pytest.mark.parametrize(("option", "value"), [("num_threads", "abc"), ("num_threads", 0), ("backend", "bogus"),
                                               ("floatX", "float16"), ("trace_rewrites", "yes")])  # fmt: skip
def test_bad_config_assignments_are_config_errors(option, value):
    before = getattr(sg.config, option)
    with pytest.raises(sg.ConfigError, match=f"config.{option} = {value!r} is not valid"):
        setattr(sg.config, option, value)
    assert getattr(sg.config, option) == before
