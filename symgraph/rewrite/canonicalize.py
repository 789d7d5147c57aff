"""Canonicalize phase, algebra: one form for each sum and product, so later phases match fewer patterns.

The canonical form (stabilize and specialize rely on it):

* A sum is a tree of add, sub and neg nodes of one dtype, each inner node used only by its parent. It is
  rebuilt as ``add(c, p1, p2...)`` with no subtracted terms, as ``sub(add(c, p1...), add(n1...))`` with
  some, and as ``neg(add(n1...))`` with only subtracted ones (a group of one term is that term, without an
  add). ``c`` is every constant folded into one, placed first and dropped when 0; the other terms are in
  creation order (``Variable.id``), so sums built in another order merge; ``t - t`` cancels. A ``neg(u)``
  term counts as ``u`` subtracted. So ``a - b`` stays ``sub(a, b)``, ``x - 1`` is ``add(-1, x)``, ``1 - x``
  is ``sub(1, x)``, ``-(a - b)`` is ``sub(b, a)`` and ``neg(neg(x))`` is ``x``.
* A product is one variadic ``mul`` node: nested products of its dtype used only by it are flattened, the
  constants folded into one placed first and dropped when 1, the other factors in creation order. For a
  signed or float dtype, ``neg`` factors move into the constant (``(-a) * b`` is ``mul(-1, a, b)``; a product
  under such a ``neg`` is flattened too) and ``mul(-1, t)`` is ``neg(t)``.
* ``invert(invert(x))`` is ``x``; ``logical_not(logical_not(x))`` is ``cast(x, bool)``.
* ``x / c`` for a constant ``c`` of powers of two with a normal, finite reciprocal is ``x * (1 / c)``: both
  round the same exact value. ``x // 1`` is ``x`` for integers (for floats it is ``floor(x)``).
* ``x ** n`` for a constant integer ``n``: 0 gives ones (NumPy: ``nan ** 0 == 1``), 1 gives ``x``, 2 to 4
  give ``x * x ...`` (specialize squares them), -1 gives ``reciprocal(x)`` (floats only: NumPy refuses
  negative integer powers of integers).
* ``x / x`` is never rewritten: NumPy gives NaN at 0, inf and NaN (and ``0 // 0 == 0``), for every dtype.

Accepted deviations from NumPy, as in Theano: ``t - t`` is 0 also where ``t`` is inf or NaN (the symbolic
proofs therefore hold on finite reals); ``x + 0`` is ``x`` also for ``x = -0.0`` (NumPy gives +0.0); a
reordered float sum or product rounds differently. Wrapping integer arithmetic is exact under reordering,
flattening and cancellation; bool add and mul (or, and) are associative and commutative too. Terms of
another dtype than the sum's are cast to it before they are negated or summed in a group, so that nothing
wraps in a narrower type.

A tree is rebuilt from its root only (a node its parent absorbs is left alone), so a chain of n nodes is
canonicalized in one O(n) step. A nested node of more than MAX_ABSORBED inputs is not absorbed, so that a
chain whose links are rebuilt one by one (when nodes between them vanish) costs O(n), not O(n**2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Constant, Variable, constant
from symgraph.ops.alloc import alloc
from symgraph.ops.elemwise import add, cast, mul, neg, reciprocal, sub
from symgraph.ops.lengths import lengths_of
from symgraph.ops.shape import dimshuffle
from symgraph.patterns import elemwise_node, uniform_value
from symgraph.rewrite.basic import FOLD_MAX_GROWTH
from symgraph.rewrite.engine import register
from symgraph.types import FLOAT_DTYPES, upcast

MAX_POWER = 4  # x ** n for 2 <= n <= MAX_POWER becomes a product of n factors
MAX_ABSORBED = 64  # a nested sum or product with more inputs stays a term of its parent (bounds rebuilding)
SIGNED = frozenset(("int8", "int16", "int32", "int64", *FLOAT_DTYPES))  # dtypes whose products pull out signs


# -- helpers (shared with canonicalize_shape) ---------------------------------------------------
def node_lengths(node: Apply, out: Variable) -> tuple:
    """The lengths of ``out`` (an output of ``node``) from the node's inputs' lengths: ints and ShapeI scalars."""
    return tuple(node.op.infer_shape(node, [lengths_of(v) for v in node.inputs])[out.index])


def fit(node: Apply, out: Variable, value: Variable) -> Variable:
    """``value`` as a replacement of ``out``: cast to its dtype, and broadcast to its shape unless ``value``
    already has that shape at run time (an axis of static length other than 1 never broadcasts at run time,
    see ``refuse_undeclared_broadcast``, so such an axis has the output's length)."""
    value = cast(value, out.dtype)
    padded = (1,) * (out.ndim - value.ndim) + value.type.shape
    if value.ndim <= out.ndim and all((v != 1 or o == 1) and o in (None, v) for v, o in zip(padded, out.type.shape)):
        lead = out.ndim - value.ndim
        return dimshuffle(value, ("x",) * lead + tuple(range(value.ndim))) if lead else value
    return alloc(value, *node_lengths(node, out))


def _same_inputs(node: Apply, inputs: list[Variable]) -> bool:
    return len(node.inputs) == len(inputs) and all(a is b for a, b in zip(node.inputs, inputs))


def _only_client(fgraph: FunctionGraph, var: Variable, is_parent: Callable[[Variable], Apply | None]) -> bool:
    """Whether a parent absorbs ``var``: a node of at most MAX_ABSORBED inputs whose only client is a node of its
    dtype accepted by ``is_parent``."""
    clients = fgraph.clients.get(var, [])
    if len(clients) != 1 or clients[0][0] == "output" or len(var.owner.inputs) > MAX_ABSORBED:
        return False
    parent = clients[0][0].outputs[0]
    return is_parent(parent) is not None and parent.dtype == var.dtype


def _fold(constants: list[Constant], ufunc: np.ufunc, dtype: str) -> list[Constant]:
    """The constants combined into one of ``dtype`` (the computation dtype), unless that would bloat the graph."""
    if len(constants) < 2:
        return [c if c.dtype == dtype else constant(c.data.astype(dtype)) for c in constants]
    shape = np.broadcast_shapes(*(c.data.shape for c in constants))
    if int(np.prod(shape)) > sum(c.data.size for c in constants) + FOLD_MAX_GROWTH:
        return constants
    with np.errstate(all="ignore"):
        value = ufunc.reduce(np.broadcast_arrays(*(c.data.astype(dtype) for c in constants)), dtype=dtype)
    return [constant(np.asarray(value, dtype=dtype))]


def _by_id(terms: list[Variable]) -> list[Variable]:
    return sorted(terms, key=lambda v: v.id)


def _split(terms: list[Variable]) -> tuple[list[Constant], list[Variable]]:
    return [v for v in terms if isinstance(v, Constant)], [v for v in terms if not isinstance(v, Constant)]


# -- sums ----------------------------------------------------------------------------------------
_SIGNS = {"add": lambda n: [True] * n, "sub": lambda n: [True, False], "neg": lambda n: [False]}


def _sum_node(var: Variable) -> Apply | None:
    return elemwise_node(var, "add", "sub", "neg")


def _signed_terms(fgraph: FunctionGraph, root: Apply) -> tuple[list[Variable], list[Variable]]:
    """The terms added and subtracted by ``root`` and the nested sum nodes it absorbs; a ``neg(u)`` term of the
    sum's dtype counts as ``u`` subtracted (``u`` is not expanded when that ``neg`` has other clients)."""
    dtype = root.outputs[0].dtype
    plus: list[Variable] = []
    minus: list[Variable] = []
    stack = [(root, True)]
    while stack:
        node, positive = stack.pop()
        for var, sign in zip(node.inputs, _SIGNS[node.op.scalar_op.name](len(node.inputs))):
            sign = sign == positive
            inner = _sum_node(var)
            if inner is not None and var.dtype == dtype and _only_client(fgraph, var, _sum_node):
                stack.append((inner, sign))
            elif inner is not None and inner.op.scalar_op.name == "neg" and var.dtype == dtype:
                (minus if sign else plus).append(inner.inputs[0])
            else:
                (plus if sign else minus).append(var)
    return plus, minus


def _cancel(plus: list[Variable], minus: list[Variable]) -> tuple[list[Variable], list[Variable]]:
    """Both lists without the terms they share (as many times as both hold them)."""
    if not {id(v) for v in plus}.intersection(id(v) for v in minus):
        return plus, minus
    common = Counter(id(v) for v in plus) & Counter(id(v) for v in minus)

    def keep(terms: list[Variable]) -> list[Variable]:
        left, out = Counter(common), []
        for v in terms:
            if left[id(v)]:
                left[id(v)] -= 1
            else:
                out.append(v)
        return out

    return keep(plus), keep(minus)


def _computes_in(terms: list[Variable], dtype: str) -> bool:
    """Whether an add or sub of ``terms`` computes in ``dtype``."""
    return all(v.dtype == dtype for v in terms) or upcast(*(v.dtype for v in terms)) == dtype


def _in_dtype(group: list[Variable], dtype: str) -> list[Variable]:
    """A group of two or more terms whose add computes in ``dtype`` (the first term cast, and then last by id)."""
    return group if len(group) < 2 or _computes_in(group, dtype) else group[1:] + [cast(group[0], dtype)]


def _total(group: list[Variable]) -> Variable:
    return group[0] if len(group) == 1 else add(*group)


def _is_total(var: Variable, group: list[Variable]) -> bool:
    node = elemwise_node(var, "add")
    return var is group[0] if len(group) == 1 else node is not None and _same_inputs(node, group)


@register("canonicalize", "add", "sub", "neg", name="canonical_sum")
def canonical_sum(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """A tree of add/sub/neg nodes as ``add(c, p...)``, ``sub(add(c, p...), add(n...))`` or ``neg(add(n...))``
    (see the module docstring)."""
    out = node.outputs[0]
    dtype = out.dtype
    if _only_client(fgraph, out, _sum_node):
        return None  # the parent sum absorbs this node
    plus, minus = _signed_terms(fgraph, node)
    (plus_consts, plus), (minus_consts, minus) = _split(plus), _split(minus)
    with np.errstate(all="ignore"):
        minus_consts = [constant(np.negative(c.data.astype(dtype))) for c in minus_consts]
    consts = _fold(plus_consts + minus_consts, np.add, dtype)
    plus, minus = _cancel(plus, minus)
    if len(consts) == 1 and (plus or minus) and bool(np.all(consts[0].data == 0)):
        consts = []
    plus, minus = _in_dtype(consts + _by_id(plus), dtype), _in_dtype(_by_id(minus), dtype)
    if minus and not plus:
        minus = minus if len(minus) > 1 else [cast(minus[0], dtype)]  # negated in the sum's dtype
    elif minus and not _computes_in(plus + minus, dtype):
        plus = [cast(plus[0], dtype)]  # both groups are single terms here
    name = node.op.scalar_op.name
    if not minus:
        if name == "add" and _same_inputs(node, plus):
            return None
        return fit(node, out, _total(plus) if plus else constant(np.zeros((), dtype=dtype)))
    if not plus:
        return None if name == "neg" and _is_total(node.inputs[0], minus) else fit(node, out, neg(_total(minus)))
    if name == "sub" and _is_total(node.inputs[0], plus) and _is_total(node.inputs[1], minus):
        return None
    return fit(node, out, sub(_total(plus), _total(minus)))


# -- products ------------------------------------------------------------------------------------
def _in_product(fgraph: FunctionGraph, var: Variable, signed: bool) -> bool:
    """Whether a product absorbs ``var``: its only client is a mul of its dtype, or (``signed``) a neg whose
    only client is, in turn, such a mul or neg; a mul of more than MAX_ABSORBED inputs is not absorbed."""
    if len(var.owner.inputs) > MAX_ABSORBED:
        return False
    while True:
        clients = fgraph.clients.get(var, [])
        if len(clients) != 1 or clients[0][0] == "output":
            return False
        parent = clients[0][0].outputs[0]
        if parent.dtype != var.dtype or elemwise_node(parent, "mul", *("neg",) * signed) is None:
            return False
        if elemwise_node(parent, "mul") is not None:
            return True
        var = parent


def _factors(fgraph: FunctionGraph, root: Apply, signed: bool) -> tuple[list[Variable], bool]:
    """The factors of ``root`` and the nested products it absorbs; whether they hold an odd number of ``neg``
    (with ``signed``, a ``neg(u)`` factor of the product's dtype is the factor ``u`` and a sign)."""
    dtype = root.outputs[0].dtype
    factors, negative, stack = [], False, list(reversed(root.inputs))
    while stack:
        var = stack.pop()
        inner = elemwise_node(var, "mul")
        negated = elemwise_node(var, "neg") if signed and var.dtype == dtype else None
        if inner is not None and _in_product(fgraph, var, signed):
            stack += reversed(inner.inputs)
        elif negated is not None:
            negative = not negative
            stack.append(negated.inputs[0])
        else:
            factors.append(var)
    return factors, negative


@register("canonicalize", "mul", name="canonical_product")
def canonical_product(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """A tree of products as one ``mul(c, f...)`` (see the module docstring); ``mul(-1, t)`` is ``neg(t)``."""
    out = node.outputs[0]
    dtype = out.dtype
    signed = dtype in SIGNED
    if _in_product(fgraph, out, signed):
        return None  # the parent product absorbs this node
    factors, negative = _factors(fgraph, node, signed)
    consts, factors = _split(factors)
    if negative:
        consts.append(constant(np.asarray(-1, dtype=dtype)))
    consts = _fold(consts, np.multiply, dtype)
    if len(consts) == 1 and factors and bool(np.all(consts[0].data == 1)):
        consts = []
    factors = _by_id(factors)
    if len(consts) == 1 and len(factors) == 1 and bool(np.all(consts[0].data == -1)):
        return fit(node, out, neg(cast(factors[0], dtype)))
    inputs = consts + factors
    if _same_inputs(node, inputs):
        return None
    return fit(node, out, inputs[0] if len(inputs) == 1 else mul(*inputs))


# -- negation, division, powers -----------------------------------------------------------------
@register("canonicalize", "invert", "logical_not", name="double_negation")
def double_negation(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``invert(invert(x)) -> x``, ``logical_not(logical_not(x)) -> cast(x, bool)`` (neg: ``canonical_sum``)."""
    inner = elemwise_node(node.inputs[0], node.op.scalar_op.name)
    return None if inner is None else cast(inner.inputs[0], node.outputs[0].dtype)


@register("canonicalize", "true_div", name="div_by_power_of_two")
def div_by_power_of_two(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``x / c -> x * (1 / c)`` for a constant ``c`` of powers of two whose reciprocal is normal (exact)."""
    x, c = node.inputs
    out = node.outputs[0]
    if not isinstance(c, Constant) or c.data.size == 0:
        return None
    value = c.data.astype(out.dtype)
    with np.errstate(all="ignore"):
        inverse = np.reciprocal(value)
    tiny = np.finfo(out.dtype).tiny
    exact = np.all(np.abs(np.frexp(value)[0]) == 0.5) and np.all(np.isfinite(inverse))
    if not (exact and np.all(np.abs(value) >= tiny) and np.all(np.abs(inverse) >= tiny)):
        return None
    return fit(node, out, mul(constant(inverse), x))


@register("canonicalize", "floor_div", name="floor_div_by_one")
def floor_div_by_one(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``x // 1 -> x`` for integers (for floats ``x // 1`` is ``floor(x)``)."""
    x, c = node.inputs
    out = node.outputs[0]
    if np.dtype(out.dtype).kind not in "iu" or uniform_value(c) != 1:
        return None
    return fit(node, out, x)


@register("canonicalize", "pow", name="pow_small_int")
def pow_small_int(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``x ** n`` for a constant integer ``n`` in [-1, MAX_POWER]: ones, ``x``, ``x * x ...``, ``reciprocal(x)``
    (-1 for floats only)."""
    x, e = node.inputs
    out = node.outputs[0]
    n = uniform_value(e)
    if n is None or not float(n).is_integer() or out.dtype == "bool" or not -1 <= n <= MAX_POWER:
        return None
    base = cast(x, out.dtype)
    if n == -1:
        return fit(node, out, reciprocal(base)) if out.type.is_float else None
    if n == 0:
        return fit(node, out, constant(np.ones((), dtype=out.dtype)))
    return fit(node, out, base if n == 1 else mul(*[base] * int(n)))
