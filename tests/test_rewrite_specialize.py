"""Specialize rewrites: x ** 2 and x * x become square(x); the graph after, and equality with the unrewritten graph."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.rewrite.engine import select
from tests.helpers import check_rewrite, op_names, rand, requires_sympy

try:
    from symgraph.rewrite.sympy_bridge import equal_on_domain, to_sympy
except ImportError:  # sympy is an optional extra: the proofs are marked requires_sympy
    pass

FORMS = {
    "x ** 2": (lambda x, y: x**2, ["Elemwise{square}"]),
    "x ** [2]": (lambda x, y: x ** np.full(1, 2, x.dtype), ["Elemwise{square}"]),
    "x * x": (lambda x, y: x * x, ["Elemwise{square}"]),
    "mul(x, y, x)": (lambda x, y: sg.mul(x, y, x), ["Elemwise{square}", "Elemwise{mul}"]),
    "mul(x, x, x)": (lambda x, y: sg.mul(x, x, x), ["Elemwise{square}", "Elemwise{mul}"]),
    "mul(x, x, x, x)": (lambda x, y: sg.mul(x, x, x, x), ["Elemwise{square}", "Elemwise{square}"]),
    "mul(x, x, y, y)": (lambda x, y: sg.mul(x, x, y, y), ["Elemwise{square}", "Elemwise{square}", "Elemwise{mul}"]),
}


def test_square_is_a_fast_run_specialize_rewrite():
    assert {r.name for r in select(["specialize"])} == {"square"}
    assert "square" in {r.name for r in select("fast_run")}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int64"])
@pytest.mark.parametrize("form", FORMS)
def test_square(form, dtype):
    build, expected = FORMS[form]
    x, y = sg.vector("x", dtype), sg.vector("y", dtype)
    out = build(x, y)
    f = check_rewrite(out, {x: rand((6,), dtype), y: rand((6,), dtype, seed=1)}, rewrites=["square"])
    assert sorted(op_names(f)) == sorted(expected)
    assert f.fgraph.outputs[0].type == out.type


def test_square_keeps_static_shape_and_broadcasting():
    x, y = sg.tensor("x", shape=(3, 1)), sg.matrix("y")
    f = check_rewrite([x**2, sg.mul(x, y, x)], {x: rand((3, 1)), y: rand((3, 4), seed=1)}, rewrites=["square"])
    assert f.fgraph.outputs[0].type.shape == (3, 1) and f.fgraph.outputs[1].type.shape == (3, None)
    assert op_names(f).count("Elemwise{square}") == 2  # one per output (merge is not selected)


@pytest.mark.parametrize(
    "build",
    [
        lambda x, y: x**3,
        lambda x, y: x * y,
        lambda x, y: sg.pow(x, y),
        lambda x, y: sg.pow(sg.cast(x, "int64"), 2.0),  # a float result: not the square of the int
        lambda x, y: x ** np.full(4, 2.0),  # the constant sets the static length, square(x) would lose it
    ],
)
def test_square_not_for_other_powers_and_products(build):
    x, y = sg.vector("x"), sg.vector("y")
    f = check_rewrite(build(x, y), {x: rand((4,), low=0.5), y: rand((4,), seed=1)}, rewrites=["square"])
    assert "Elemwise{square}" not in op_names(f)


def test_square_not_for_bool_products():
    b = sg.vector("b", "bool")
    f = check_rewrite(b * b, {b: rand((5,), "bool")}, rewrites=["square"])
    assert op_names(f) == ["Elemwise{mul}"]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda x, y: x**2, ["square"]),
        (lambda x, y: x**3, ["square", "mul"]),
        (lambda x, y: x**4, ["square", "square"]),
        (lambda x, y: x * y * x, ["square", "mul"]),
    ],
)
def test_canonicalized_powers_become_squares(build, expected):
    """canonicalize writes x ** n (n <= 4) as a flat product x * x ...; specialize pairs the factors."""
    x, y = sg.vector("x"), sg.vector("y")
    f = check_rewrite(build(x, y), {x: rand((5,)), y: rand((5,), seed=1)}, rewrites=["-fusion", "-inplace"])
    assert sorted(op_names(f)) == sorted(f"Elemwise{{{n}}}" for n in expected)


@requires_sympy
@pytest.mark.parametrize("build", [lambda x, y: x**2, lambda x, y: x * x, lambda x, y: sg.mul(x, y, x)])
def test_sympy_proof(build):
    x, y = sg.scalar("x"), sg.scalar("y")
    left = build(x, y)
    f = sg.function([x, y], left, rewrites=["square"])
    assert f.rewrite_report.counts["square"] == 1
    (lhs,) = to_sympy([left], [x, y])
    (rhs,) = to_sympy(f.fgraph.outputs, f.fgraph.inputs)
    assert equal_on_domain(lhs, rhs).proved
