"""The bad-input and fault catalogue's table helper (tests/test_catalogue_*.py).

A case is one line: an id, what to do (``run(backend)``) and what must happen: ``Fails`` (the error type, the
words its message names, and for a node's build or run error the user's line that built it) or ``Same`` (the
value NumPy computes). Each case runs on every backend; the shared variables of the functions a case calls
(``compiled`` adds a counter with an update to each) must be unchanged after a failure.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import symgraph as sg

BACKENDS = ("python", "numba")


@dataclass(frozen=True)
class Fails:
    """The case must raise ``error`` whose message contains each of ``names`` (case-insensitive); with
    ``line``, the message also names the line of the case's build function that built the failing node."""

    error: type[BaseException] | tuple[type[BaseException], ...]
    names: tuple[str, ...] = ()
    line: bool = False


@dataclass(frozen=True)
class Same:
    """The case must return what ``expected()`` (NumPy) returns: same dtype, shape and values."""

    expected: Callable[[], Any]


@dataclass(frozen=True)
class Case:
    """``run(backend)`` does the work; ``build`` (when given) is the function whose lines build the graph."""

    id: str
    run: Callable[[str], Any]
    expect: Fails | Same
    build: Callable | None = None
    setup: Callable[[str], Any] = lambda backend: None  # runs before the shared state is recorded


def params(cases: list[Case]) -> list:
    """pytest params (case, backend) for every backend."""
    out = [pytest.param(case, backend, id=f"{case.id}-{backend}") for case in cases for backend in BACKENDS]
    assert len({p.id for p in out}) == len(out), "duplicate case ids"
    return out


def check(case: Case, backend: str) -> None:
    """Run ``case`` on ``backend`` and check its outcome, and that no shared variable changed on failure."""
    case.setup(backend)
    before = {var: var.get_value() for var in _STATE}
    if isinstance(case.expect, Same):
        actual = case.run(backend)
        assert_same_value(actual, case.expect.expected())
        return
    expect = case.expect
    with pytest.raises(expect.error) as info:
        case.run(backend)
    message = str(info.value)
    for name in expect.names:
        assert name.lower() in message.lower(), f"{name!r} not named in: {message}"
    if expect.line:
        assert_names_line(message, case.build or case.run)
    for var, old in before.items():
        np.testing.assert_array_equal(var.get_value(), old, err_msg=f"{var.name} changed by a failed call")


def assert_same_value(actual: Any, expected: Any) -> None:
    """Equal dtype, shape and values (NaNs in the same places); lists element by element."""
    if isinstance(expected, list | tuple):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same_value(a, e)
        return
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), type(actual)
    assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), (actual.dtype, actual.shape, expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-6 if expected.dtype == np.float32 else 1e-12)


def assert_names_line(message: str, build: Callable) -> None:
    """``message`` names ``file:line`` of a line inside ``build``."""
    code = build.__code__
    lines = {line for _, _, line in code.co_lines() if line is not None}
    found = [int(n) for n in re.findall(re.escape(code.co_filename) + r":(\d+)", message)]
    assert any(n in lines for n in found), f"no line of {code.co_name} ({sorted(lines)}) named in: {message}"


# Every shared variable a catalogue function reads or updates: each check compares them before/after.
_STATE: list[sg.SharedVariable] = []


def state(value: Any, name: str, **kwargs: Any) -> sg.SharedVariable:
    """A shared variable whose value every case checks is unchanged by a failure."""
    var = sg.shared(value, name=name, **kwargs)
    _STATE.append(var)
    return var


@functools.cache
def compiled(build: Callable[[], dict], backend: str) -> sg.Function:
    """``sg.function(**build())`` on ``backend`` (compiled once per build and backend), with a shared counter
    updated by each call, so every failed call is also checked not to advance it."""
    spec = build()
    counter = state(np.zeros(3), f"counter_{build.__name__}_{backend}")
    updates = dict(spec.pop("updates", {}))
    updates[counter] = counter + 1
    return sg.function(spec.pop("inputs"), spec.pop("outputs"), updates=updates, backend=backend, **spec)


def call(name: str, build: Callable[[], dict], args: Callable[[], tuple], expect: Fails | Same) -> Case:
    """A case calling the compiled ``build`` with ``args()``; a run error must name a line of ``build``."""
    run = lambda backend: compiled(build, backend)(*args())  # noqa: E731
    return Case(name, run, expect, build, lambda backend: compiled(build, backend))


def make(name: str, run: Callable[[str], Any], expect: Fails | Same) -> Case:
    """A case running ``run(backend)`` (building a graph, compiling it...); a build error must name its line."""
    return Case(name, run, expect)


def graph(name: str, expr: Callable[[], sg.Variable], expect: Fails | Same) -> Case:
    """A case building ``expr()`` and compiling its sum over its root inputs; a build error must name a line of
    ``expr``."""

    def run(backend: str) -> sg.Function:
        out = sg.sum(expr())
        roots = [v for v in sg.graph_inputs([out]) if not isinstance(v, sg.Constant | sg.SharedVariable)]
        return sg.function(roots, out, backend=backend)

    return Case(name, run, expect, expr)
