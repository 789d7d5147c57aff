"""Elementwise graphs as sympy expressions, and the equality check behind the symbolic proofs of rewrites.

``to_sympy(outputs, inputs)`` turns the elementwise graph between ``inputs`` and ``outputs`` into one sympy
expression per output. Each input stands for one of its elements (a Symbol named after the variable),
a constant for its value (its entries must all be equal). The model is exact mathematics: floats are real
numbers (no rounding, overflow, inf or NaN: a sympy ``real`` symbol is finite), integers are integers (no
wraparound), bools are sympy booleans. An identity proven on this model holds in floating point up to
rounding, on the domain that the symbols' assumptions state (``positive=True``...).

``equal_on_domain(lhs, rhs)`` proves ``lhs == rhs`` symbolically (sympy simplifies their difference to 0)
or, where sympy is inconclusive, looks for a counterexample at rational points of the domain. Its
``Verdict`` says which happened: agreement at points is a check, never a proof.

Both signatures are stable (the stabilize and canonicalize tests rely on them). Each scalar op's sympy form is
part of its definition (``symgraph.ops.scalar``). sympy is an optional dependency (``pip install
symgraph[sympy]``): only this module, used by the tests' proofs, needs it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import sympy
    from sympy.logic import boolalg
except ImportError as err:
    raise ImportError("symgraph.rewrite.sympy_bridge needs sympy: pip install 'symgraph[sympy]'") from err

from symgraph.errors import SymgraphValueError
from symgraph.graph import Constant, Variable
from symgraph.ops.alloc import Alloc, BroadcastTo
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.fused import FusedElemwise
from symgraph.ops.scalar import ScalarOp
from symgraph.ops.shape import DimShuffle, SpecifyShape

__all__ = ["SympyConversionError", "Verdict", "equal_on_domain", "input_symbols", "to_sympy"]


class SympyConversionError(SymgraphValueError):
    """A graph holds an op (or a constant) that has no elementwise meaning in sympy."""


def _number(e: Any, dtype: str) -> Any:
    """A value as a number (a bool is 1 or 0)."""
    return sympy.Piecewise((1, e), (0, True)) if dtype == "bool" else e


def _truth(e: Any, dtype: str) -> Any:
    """A value as a boolean (nonzero is true)."""
    return e if dtype == "bool" else sympy.Ne(e, 0)


_ARGUMENT = {"number": _number, "truth": _truth, "any": lambda e, dtype: e}


def scalar_to_sympy(op: ScalarOp, args: Sequence[Any], dtypes: Sequence[str], out_dtype: str) -> Any:
    """``op`` applied to sympy values ``args`` of the given dtypes, giving a value of ``out_dtype``."""
    if op.sympy_bool is not None and all(d == "bool" for d in dtypes):
        value = op.sympy_bool(sympy, *args)
    elif op.sympy is not None:
        kinds = [op.sympy_args] * len(args) if isinstance(op.sympy_args, str) else op.sympy_args
        converted = [_ARGUMENT[kind](a, d) for kind, a, d in zip(kinds, args, dtypes)]
        value = op.sympy(sympy, *converted, **({"dtype": op.dtype} if op.dtype else {}))
    else:
        value = None
    fits = isinstance(value, boolalg.Boolean) if out_dtype == "bool" else not _is_boolean(value)
    if value is None or not fits:
        raise SympyConversionError(f"to_sympy: {op} on {list(dtypes)} has no sympy meaning here")
    return value


def _constant(var: Constant) -> Any:
    data = var.data
    if data.size == 0 or not bool(np.all((data == data.flat[0]) | (data != data))):
        raise SympyConversionError(f"to_sympy: constant {var!r} is not one value repeated")
    value = data.flat[0].item()
    if var.dtype == "bool":
        return sympy.true if value else sympy.false
    if isinstance(value, int):
        return sympy.Integer(value)
    if np.isnan(value):
        return sympy.nan
    if np.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    return sympy.Rational(*value.as_integer_ratio())  # the exact binary value


def _keeps_order(op: DimShuffle) -> bool:
    kept = [p for p in op.pattern if p != "x"]
    return kept == sorted(kept)


def input_symbols(inputs: Sequence[Variable], **assumptions: bool) -> list[sympy.Symbol]:
    """One Symbol per input, named after it (``x<i>`` when unnamed or named twice): ``real=True`` for floats,
    ``integer=True`` for integers, a plain boolean symbol for bools; ``assumptions`` are added to numbers."""
    names = [v.name or f"x{i}" for i, v in enumerate(inputs)]
    names = [n if names.count(n) == 1 else f"x{i}" for i, n in enumerate(names)]
    symbols = []
    for name, var in zip(names, inputs):
        if var.dtype == "bool":
            symbols.append(sympy.Symbol(name))
        else:
            kind = {"integer": True} if var.type.is_integer else {"real": True}
            symbols.append(sympy.Symbol(name, **{**kind, **assumptions}))
    return symbols


def to_sympy(outputs: Sequence[Variable], inputs: Sequence[Variable], symbols: Sequence[sympy.Symbol] | None = None,
             **assumptions: bool) -> list[Any]:  # fmt: skip
    """One sympy expression per output of the elementwise graph from ``inputs`` to ``outputs``.

    ``symbols``: the sympy symbol of each input (default ``input_symbols(inputs, **assumptions)``, so two graphs
    whose inputs have the same names and dtypes get the same symbols: the inputs of ``f.fgraph``, copies of
    the originals, do). The graph may hold Elemwise nodes of every scalar op with a sympy meaning (not round,
    isnan, isinf, nor bitwise ops on integers), FusedElemwise nodes without reductions, dimshuffles that keep
    the order of the axes, specify_shape, alloc and broadcast_to. Raises SympyConversionError otherwise.
    """
    symbols = input_symbols(inputs, **assumptions) if symbols is None else list(symbols)
    if len(symbols) != len(inputs):
        raise SympyConversionError(f"to_sympy: {len(symbols)} symbols for {len(inputs)} inputs")
    values: dict[Variable, Any] = dict(zip(inputs, symbols))
    stack = list(outputs)
    while stack:  # depth first, converting a node once the inputs it reads are converted
        var = stack[-1]
        if var in values:
            stack.pop()
            continue
        if isinstance(var, Constant):
            values[stack.pop()] = _constant(var)
            continue
        if var.owner is None:
            raise SympyConversionError(f"to_sympy: {var!r} is not among the inputs")
        node = var.owner
        read = node.inputs[:1] if _passes_through(node.op) else node.inputs
        missing = [v for v in read if v not in values]
        if missing:
            stack += missing
            continue
        stack.pop()
        values.update(zip(node.outputs, _convert(node.op, [values[v] for v in read], [v.dtype for v in read], node)))
    return [values[v] for v in outputs]


def _passes_through(op: Any) -> bool:
    """Ops whose output elements are elements of their first input, in order."""
    return isinstance(op, SpecifyShape | Alloc | BroadcastTo) or isinstance(op, DimShuffle) and _keeps_order(op)


def _convert(op: Any, args: list[Any], dtypes: list[str], node: Any) -> list[Any]:
    if _passes_through(op):
        return args[:1]
    if isinstance(op, Elemwise):
        return [scalar_to_sympy(op.scalar_op, args, dtypes, node.outputs[0].dtype)]
    if isinstance(op, FusedElemwise) and all(o.reduce is None for o in op.program.outputs):
        slots, slot_dtypes = list(args), list(dtypes)
        for step in op.program.steps:
            step_args = [slots[a] for a in step.args]
            slots.append(scalar_to_sympy(step.op, step_args, [slot_dtypes[a] for a in step.args], step.out_dtype))
            slot_dtypes.append(step.out_dtype)
        return [slots[o.slot] for o in op.program.outputs]
    raise SympyConversionError(f"to_sympy: {op} has no elementwise sympy meaning")


# -- equality ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Whether two expressions are equal on their symbols' domain, and how that was established.

    ``proved``: sympy showed it symbolically (method "simplify"). Otherwise ``equal`` reports the check at
    rational points (method "points": no counterexample found, which is evidence, not proof), a
    counterexample (method "counterexample", ``equal`` False), or no point of the domain where both sides
    are finite reals (method "inconclusive").
    """

    proved: bool
    equal: bool
    method: str
    detail: str = ""


def _is_boolean(e: Any) -> bool:
    return isinstance(e, boolalg.Boolean) and not isinstance(e, sympy.Expr)


_FIRST_VALUES = (0, 1, -1, 2, -2, sympy.S.Half, -sympy.S.Half)  # where piecewise functions often change


def _sample(symbol: sympy.Symbol, rng: random.Random, k: int) -> Any:
    """The k-th value for ``symbol`` satisfying its assumptions: the usual edges first, then random rationals
    (integers for integer symbols); true/false for a boolean symbol."""
    if symbol.is_real is None and symbol.is_integer is None:
        return sympy.true if k % 2 else sympy.false
    candidates = [sympy.S(v) for v in _FIRST_VALUES[k : k + 1]]
    candidates += [
        sympy.Rational(rng.randint(-40, 40), 1 if symbol.is_integer else rng.randint(1, 8)) for _ in range(1000)
    ]
    for v in candidates:
        if all(getattr(v, f"is_{fact}") == holds for fact, holds in symbol.assumptions0.items()):
            return v
    raise SympyConversionError(f"equal_on_domain: found no value satisfying the assumptions of {symbol}")


def _point_value(e: Any, point: dict) -> Any:
    """``e`` at ``point``: a bool, a float-like sympy number, or None outside the domain (complex, inf, NaN)."""
    v = e.subs(point) if hasattr(e, "subs") else e
    if isinstance(v, boolalg.BooleanAtom):
        return bool(v)
    v = sympy.N(v, 40)
    return v if v.is_real and v.is_finite else None


_PROOF_STEPS: tuple[Callable[[Any], Any], ...] = (  # equivalences, cheapest first
    lambda d: d,
    sympy.expand,
    sympy.simplify,
    lambda d: sympy.simplify(sympy.expand_func(d)),  # erf(x) + erfc(x) - 1
    lambda d: sympy.simplify(sympy.piecewise_fold(d.rewrite(sympy.Piecewise))),  # Max, Min, Abs, sign
)


_BOOLEAN_STEPS: tuple[Callable[[Any], Any], ...] = (  # equivalences of "lhs xor rhs"
    lambda d: d,
    sympy.simplify_logic,
    sympy.simplify,
    lambda d: sympy.false if len(d.free_symbols) == 1 and sympy.simplify_logic(d).as_set() == sympy.S.EmptySet else d,
)


def equal_on_domain(lhs: Any, rhs: Any, points: int = 200, seed: int = 0) -> Verdict:
    """Whether ``lhs == rhs`` for every value of their free symbols allowed by the symbols' assumptions.

    Symbolic first (the difference, or for booleans their exclusive or, simplified to 0/false, also after
    expanding special functions and writing Max/Min/Abs as Piecewise); if sympy is inconclusive, evaluation at
    ``points`` random rational points (a check, not a proof; see ``Verdict``).
    """
    boolean = _is_boolean(lhs) or _is_boolean(rhs)
    difference = sympy.Xor(lhs, rhs) if boolean else sympy.sympify(lhs - rhs)
    zero = sympy.false if boolean else 0
    for step in _BOOLEAN_STEPS if boolean else _PROOF_STEPS:
        try:
            if step(difference) == zero:
                return Verdict(True, True, "simplify")
        except (TypeError, ValueError, AttributeError, NotImplementedError):  # sympy gave up on this step
            continue
    rng = random.Random(seed)
    symbols = sorted(difference.free_symbols, key=lambda s: s.name)
    checked = 0
    for k in range(points):
        point = {s: _sample(s, rng, k) for s in symbols}
        left, right = _point_value(lhs, point), _point_value(rhs, point)
        if left is None or right is None:
            continue
        checked += 1
        same = left == right if boolean else abs(left - right) <= sympy.Float(1e-25, 40) * max(1, abs(left))
        if not same:
            return Verdict(False, False, "counterexample", f"at {point}: {left} != {right}")
    if not checked:
        return Verdict(False, False, "inconclusive", "no point of the domain where both sides are finite reals")
    return Verdict(False, True, "points", f"equal at {checked} rational points; sympy found no proof")
