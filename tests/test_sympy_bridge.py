"""The sympy bridge: every scalar op converts to the expression NumPy computes (or is refused), constants,
symbols and assumptions, fused and structural ops, and the symbolic equality check with its fallback."""

from __future__ import annotations

import numpy as np
import pytest

sympy = pytest.importorskip("sympy")  # the optional extra symgraph[sympy]

import symgraph as sg  # noqa: E402
from symgraph.ops.elemwise import Elemwise  # noqa: E402
from symgraph.ops.scalar import OPS, cast_to  # noqa: E402
from symgraph.rewrite.sympy_bridge import SympyConversionError, equal_on_domain, input_symbols, to_sympy  # noqa: E402

REFUSED = {"round", "isnan", "isinf"}  # no sympy meaning (half-to-even rounding; reals are finite)
POINT = {"arccosh": [1.5], "log1mexp": [-0.3], "floor_div": [2.5, 0.7], "mod": [-2.5, 0.7], "pow": [0.7, 1.3]}
BITWISE = ("and_", "or_", "xor", "invert")


def _op(name: str) -> Elemwise:
    return Elemwise(cast_to("int8") if name == "cast" else OPS[name])


def _inputs(name: str) -> tuple[list, list]:
    """Symbolic scalars and their values: bools for switch conditions and bitwise ops, floats otherwise."""
    nin = OPS[name].nin
    count = 3 if nin == -1 else nin
    values = POINT.get(name, [0.3, 0.7, 0.45])[:count]
    if name in BITWISE:
        return [sg.scalar(f"b{i}", "bool") for i in range(count)], [np.bool_(i % 2 == 0) for i in range(count)]
    variables = [sg.scalar(f"x{i}") for i in range(count)]
    if name == "switch":
        variables[0], values = sg.scalar("c", "bool"), [np.bool_(True), *values[1:]]
    return variables, [np.asarray(v) for v in values]


def _at(expr, point: dict):
    value = expr.subs(point)
    return bool(value) if isinstance(value, sympy.logic.boolalg.BooleanAtom) else float(value)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_scalar_op_converts_to_what_numpy_computes(name):
    variables, values = _inputs(name)
    out = _op(name)(*variables)
    if name in REFUSED:
        with pytest.raises(SympyConversionError, match=name):
            to_sympy([out], variables)
        return
    (expr,) = to_sympy([out], variables)
    symbols = input_symbols(variables)
    point = {s: (sympy.true if v else sympy.false) if v.dtype == bool else sympy.Rational(str(v)) for s, v in
             zip(symbols, values)}  # fmt: skip
    expected = sg.function(variables, out, rewrites=None)(*values)
    assert np.isclose(_at(expr, point), expected, rtol=1e-12), (expr, expected)


@pytest.mark.parametrize("name", BITWISE)
def test_bitwise_ops_on_integers_are_refused(name):
    i, j = sg.scalar("i", "int32"), sg.scalar("j", "int32")
    out = _op(name)(i) if name == "invert" else _op(name)(i, j)
    with pytest.raises(SympyConversionError, match="no sympy meaning"):
        to_sympy([out], [i, j])


def test_bool_arithmetic_is_logic_and_casts_are_exact():
    a, b, x = sg.scalar("a", "bool"), sg.scalar("b", "bool"), sg.scalar("x")
    A, B, X = input_symbols([a, b, x])  # noqa: N806
    exprs = to_sympy([a + b, a * b, sg.cast(a, "float64") * x, sg.cast(x, "int16"), sg.cast(x, "bool"), sg.eq(a, b)],
                     [a, b, x])  # fmt: skip
    assert exprs[0] == sympy.Or(A, B) and exprs[1] == sympy.And(A, B)
    assert exprs[2].subs({A: sympy.true, X: 3}) == 3 and exprs[2].subs({A: sympy.false, X: 3}) == 0
    assert exprs[3].subs(X, sympy.Rational(-5, 2)) == -2 and exprs[3].subs(X, sympy.Rational(5, 2)) == 2  # truncation
    assert exprs[4] == sympy.Ne(X, 0) and exprs[5] == sympy.Equivalent(A, B)


def test_symbols_follow_names_dtypes_and_assumptions():
    x, i, b, unnamed = sg.vector("x"), sg.vector("i", "int64"), sg.vector("b", "bool"), sg.vector()
    sx, si, sb, su = input_symbols([x, i, b, unnamed], positive=True)
    assert sx == sympy.Symbol("x", real=True, positive=True) and si.is_integer and si.is_positive
    assert sb == sympy.Symbol("b") and su.name == "x3"
    twins = input_symbols([sg.vector("t"), sg.vector("t")])
    assert [s.name for s in twins] == ["x0", "x1"]
    (expr,) = to_sympy([x * 2], [x], symbols=[sympy.Symbol("u")])
    assert expr == 2 * sympy.Symbol("u")
    with pytest.raises(SympyConversionError, match="2 symbols for 1 inputs"):
        to_sympy([x], [x], symbols=sympy.symbols("u v"))


def test_constants_are_exact():
    x = sg.vector("x")
    (sx,) = input_symbols([x])
    exprs = to_sympy([x + 0.1, x * np.full((2, 3), 3), x + np.inf, x * np.nan, x + np.float32(0.5), x > True],
                     [x])  # fmt: skip
    assert exprs[0] == sx + sympy.Rational(3602879701896397, 36028797018963968)  # the binary value of 0.1
    assert exprs[1] == 3 * sx and exprs[2] == sx + sympy.oo and exprs[3] is sympy.nan and exprs[4] == sx + sympy.S.Half
    with pytest.raises(SympyConversionError, match="not one value repeated"):
        to_sympy([x + np.array([1.0, 2.0])], [x])


def test_structural_ops_pass_elements_through():
    x, m = sg.vector("x"), sg.matrix("m")
    sx, sm = input_symbols([x, m])
    outs = [
        sg.expand_dims(x, 0) * m,
        sg.specify_shape(x, (3,)),
        sg.alloc(x, 2, sg.shape_i(x, 0)),
        sg.broadcast_to(x, (2, 3)),
    ]
    assert to_sympy(outs, [x, m]) == [sx * sm, sx, sx, sx]
    with pytest.raises(SympyConversionError, match="DimShuffle"):
        to_sympy([m.T + m], [m])  # a transpose pairs different elements
    with pytest.raises(SympyConversionError, match="Reduce"):
        to_sympy([x.sum()], [x])
    with pytest.raises(SympyConversionError, match="not among the inputs"):
        to_sympy([x + m], [x])


def test_fused_elementwise_graphs_convert():
    x, y = sg.vector("x"), sg.vector("y")
    out = sg.exp(x) * y + sg.tanh(x) - 1
    f = sg.function([x, y], out)
    assert any(str(node.op).startswith("Fused") for node in f.fgraph.apply_nodes)
    (lhs,) = to_sympy([out], [x, y])
    (rhs,) = to_sympy(f.fgraph.outputs, f.fgraph.inputs)
    assert equal_on_domain(lhs, rhs).proved
    reduced = sg.function([x], (sg.exp(x) * 2).sum())
    if any(str(node.op).startswith("Fused") for node in reduced.fgraph.apply_nodes):
        with pytest.raises(SympyConversionError):
            to_sympy(reduced.fgraph.outputs, reduced.fgraph.inputs)


# -- equal_on_domain -------------------------------------------------------------------------------------
X = sympy.Symbol("x", real=True)
P = sympy.Symbol("p", positive=True)
N = sympy.Symbol("n", negative=True)
I = sympy.Symbol("i", integer=True)  # noqa: E741


@pytest.mark.parametrize(
    ("lhs", "rhs"),
    [(X - X, 0), (sympy.log(sympy.exp(X)), X), (sympy.sqrt(P**2), P), (sympy.floor(I / 1), I),
     (sympy.erf(X) + sympy.erfc(X), 1), (sympy.Max(X, 0) - sympy.Max(-X, 0), X), (sympy.Abs(X) * sympy.sign(X), X),
     (sympy.And(X < 1, X < 2), X < 1)],
)  # fmt: skip
def test_proofs(lhs, rhs):
    verdict = equal_on_domain(lhs, rhs)
    assert verdict.proved and verdict.equal and verdict.method == "simplify"


@pytest.mark.parametrize(("lhs", "rhs"), [(sympy.sqrt(X**2), X), (sympy.Abs(X), X), (X < 1, X <= 1), (I / 2, I // 2)])
def test_counterexamples(lhs, rhs):
    verdict = equal_on_domain(lhs, rhs)
    assert not verdict.proved and not verdict.equal and verdict.method == "counterexample"
    assert "at {" in verdict.detail


def test_points_are_a_check_not_a_proof():
    verdict = equal_on_domain(sympy.Mod(X, 1) + sympy.floor(X), X)  # true, but sympy cannot show it
    assert verdict.equal and not verdict.proved and verdict.method == "points"
    assert "no proof" in verdict.detail


def test_no_point_of_the_domain_is_inconclusive():
    verdict = equal_on_domain(sympy.sqrt(N) + 1, sympy.sqrt(N))
    assert not verdict.equal and not verdict.proved and verdict.method == "inconclusive"


def test_samples_respect_assumptions():
    assert equal_on_domain(sympy.Abs(N), -N).proved
    verdict = equal_on_domain(sympy.Min(P, 0), 0)  # Min(p, 0) is 0 for positive p, whatever sympy makes of it
    assert verdict.equal
