"""Stable forms: rewrites that replace expressions which overflow or lose precision by stable equivalents.

``log(softmax(x)) -> log_softmax(x)``, ``crossentropy(softmax(z), t) -> `` a fused op on the logits,
``log(sigmoid(x)) -> -softplus(-x)``, ``log(1 - sigmoid(x)) -> -softplus(x)``, ``log(1 + x) -> log1p(x)``,
``exp(x) - 1 -> expm1(x)``, ``log(sum(exp(x))) -> logsumexp(x)``, ``sqrt(x * x) -> abs(x)``. Each matches the
forms users write and the forms canonicalize leaves (variadic adds with the constant first, ``a - b`` as
``a + neg(b)``, ``x ** 2`` as ``x * x``).

``symgraph/rewrite/stabilize.py`` registers them as the stabilize phase. ``stabilize_outputs`` applies them to a
copy of a graph: ``sg.grad`` differentiates the stabilized cost, so the gradients of these expressions are
stable too. This module needs the ops and the rewrite driver only, not the rewrite registry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from symgraph.fgraph import FunctionGraph
from symgraph.graph import Apply, Variable, clone_replace, toposort
from symgraph.ops import elemwise as ew
from symgraph.ops.elemwise import add, cast, expm1, log1p, neg, softplus
from symgraph.ops.nnet_ops import CategoricalCrossentropyInt, LogSoftmax, Softmax, SoftmaxCategoricalCrossentropyInt
from symgraph.ops.reduce import LogSumExp, Reduce
from symgraph.ops.shape import DimShuffle
from symgraph.patterns import elemwise_node, uniform_value
from symgraph.rewrite_driver import Rewrite, run_phase

__all__ = ["STABLE_FORMS", "stabilize_outputs"]

STABLE_FORMS: list[Rewrite] = []  # in the order they are tried


def _stable_form(*tracks: type | str, name: str) -> Callable:
    """Decorator: add ``fn(fgraph, node)`` to STABLE_FORMS, for nodes matching ``tracks``."""

    def decorate(fn: Callable) -> Callable:
        STABLE_FORMS.append(Rewrite(name, "stabilize", fn, tracks, frozenset()))
        return fn

    return decorate


# -- matching helpers (shared with the specialize phase) ----------------------------------------
def checked(old: Variable, new: Variable) -> Variable | None:
    """``new`` when it may replace ``old`` (same dtype and ndim, a static shape at least as precise), else None.

    A constant taken out of an expression may have set its dtype or broadcast shape; then the rewrite does not fire.
    """
    return new if old.type.is_super(new.type) else None


def negated(var: Variable) -> Variable | None:
    """``u`` when ``var`` is ``-u`` (``neg(u)`` or ``mul(-1, u)``), else None."""
    node = elemwise_node(var, "neg")
    if node is not None:
        return node.inputs[0]
    node = elemwise_node(var, "mul")
    if node is not None and len(node.inputs) == 2:
        for c, u in (node.inputs, node.inputs[::-1]):
            if uniform_value(c) == -1 and u.type == var.type:
                return u
    return None


def _negate(var: Variable) -> Variable:
    """``-var``, without a double negation."""
    inner = negated(var)
    return inner if inner is not None else neg(var)


def _one_plus(var: Variable) -> list[Variable] | None:
    """The terms ``a, b, ...`` when ``var`` is ``1 + a + b + ...`` (an add with a constant 1, or ``1 - a``),
    as variables of ``var``'s float dtype (``-a`` built for ``1 - a``); else None."""
    if not var.type.is_float:
        return None
    node = elemwise_node(var, "add")
    if node is not None:
        one = next((i for i, v in enumerate(node.inputs) if uniform_value(v) == 1), None)
        if one is None:
            return None
        return [cast(v, var.dtype) for i, v in enumerate(node.inputs) if i != one]
    node = elemwise_node(var, "sub")
    if node is not None and uniform_value(node.inputs[0]) == 1:
        return [_negate(cast(node.inputs[1], var.dtype))]
    return None


def _log1p_argument(node: Apply) -> Variable | None:
    """``x`` when ``node`` computes ``log(1 + x)``: a log1p node, or a log of a sum with a constant 1."""
    if node.op.scalar_op.name == "log1p":
        return node.inputs[0]
    terms = _one_plus(node.inputs[0])
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else add(*terms)


def squared(var: Variable) -> Variable | None:
    """``x`` when ``var`` is ``x * x``, ``square(x)`` or ``x ** 2``, else None."""
    node = elemwise_node(var, "square")
    if node is not None:
        return node.inputs[0]
    node = elemwise_node(var, "mul")
    if node is not None and len(node.inputs) == 2 and node.inputs[0] is node.inputs[1]:
        return node.inputs[0]
    node = elemwise_node(var, "pow")
    if node is not None and uniform_value(node.inputs[1]) == 2:
        return node.inputs[0]
    return None


# -- rewrites -----------------------------------------------------------------------------------
@_stable_form("log", name="log_softmax")
def log_softmax(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``log(softmax(x, axis)) -> log_softmax(x, axis)`` (so dense-target crossentropy stays finite)."""
    source = node.inputs[0].owner
    if source is None or type(source.op) is not Softmax:
        return None
    return checked(node.outputs[0], LogSoftmax(source.op.axis)(source.inputs[0]))


@_stable_form(CategoricalCrossentropyInt, name="crossentropy_softmax")
def crossentropy_softmax(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``categorical_crossentropy(softmax(z), t)`` (int targets) -> one op on the logits ``z``, whose value
    (``logsumexp(z) - z[t]``) and gradient (``softmax(z) - onehot(t)``) are finite for any finite logits."""
    source = node.inputs[0].owner
    if source is None or source.op != Softmax(1):
        return None
    return checked(node.outputs[0], SoftmaxCategoricalCrossentropyInt()(source.inputs[0], node.inputs[1]))


@_stable_form("log", name="log_sigmoid")
def log_sigmoid(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``log(sigmoid(x)) -> -softplus(-x)``."""
    source = elemwise_node(node.inputs[0], "sigmoid")
    if source is None:
        return None
    x = cast(source.inputs[0], source.outputs[0].dtype)
    return checked(node.outputs[0], neg(softplus(_negate(x))))


@_stable_form("log", "log1p", name="log1m_sigmoid")
def log1m_sigmoid(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``log(1 - sigmoid(x))`` (also as ``log1p(-sigmoid(x))`` or ``log(1 + neg(sigmoid(x)))``) ``-> -softplus(x)``."""
    if node.op.scalar_op.name == "log1p":
        term = node.inputs[0]
    else:
        terms = _one_plus(node.inputs[0])
        if not terms or len(terms) != 1:
            return None
        term = terms[0]
    inner = negated(term)
    source = elemwise_node(inner, "sigmoid") if inner is not None else None
    if source is None:
        return None
    return checked(node.outputs[0], neg(softplus(cast(source.inputs[0], source.outputs[0].dtype))))


@_stable_form("log", name="log1p")
def log1p_from_log(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``log(1 + x) -> log1p(x)``; also ``log(x + 1)``, ``log(1 + a + b) -> log1p(a + b)``,
    ``log(1 - x) -> log1p(-x)``."""
    x = _log1p_argument(node)
    return checked(node.outputs[0], log1p(x)) if x is not None else None


@_stable_form("sub", "add", name="expm1")
def expm1_from_exp(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``exp(x) - 1 -> expm1(x)``; also ``-1 + exp(x)`` and ``-1 + exp(x) + a + ... -> expm1(x) + a + ...``."""
    out = node.outputs[0]
    if node.op.scalar_op.name == "sub":
        if uniform_value(node.inputs[1]) != 1 or elemwise_node(node.inputs[0], "exp") is None:
            return None
        rest, e = [], node.inputs[0]
    else:
        minus_one = next((i for i, v in enumerate(node.inputs) if uniform_value(v) == -1), None)
        e = next((v for v in node.inputs if elemwise_node(v, "exp") is not None), None)
        if minus_one is None or e is None:
            return None
        rest = [v for i, v in enumerate(node.inputs) if i != minus_one and v is not e]
        rest += [e] * (sum(v is e for v in node.inputs) - 1)  # exp(x) added more than once: keep the others
    if e.dtype != out.dtype:
        return None
    new = expm1(e.owner.inputs[0])
    return checked(out, add(new, *rest) if rest else new)


@_stable_form("log", name="logsumexp")
def logsumexp_from_log(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``log(sum(exp(x), axes)) -> logsumexp(x, axes)``, also with ``keepdims`` (a dimshuffle between)."""
    total, expand = node.inputs[0], None
    if total.owner is not None and isinstance(total.owner.op, DimShuffle):
        expand, total = total.owner.op, total.owner.inputs[0]
    reduce = total.owner
    if reduce is None or not isinstance(reduce.op, Reduce) or (reduce.op.kind, reduce.op.dtype) != ("sum", None):
        return None
    source = elemwise_node(reduce.inputs[0], "exp")
    if source is None:
        return None
    new = LogSumExp(reduce.op.axes)(source.inputs[0])
    return checked(node.outputs[0], expand(new) if expand is not None else new)


@_stable_form("sqrt", name="sqrt_square")
def sqrt_square(fgraph: FunctionGraph, node: Apply) -> Variable | None:
    """``sqrt(x * x) -> abs(x)`` (also ``sqrt(square(x))``, ``sqrt(x ** 2)``) for float ``x``: no overflow."""
    x = squared(node.inputs[0])
    if x is None or not x.type.is_float:
        return None
    return checked(node.outputs[0], ew.abs(x))


# -- stabilized copies of graphs, for gradients -------------------------------------------------
def stabilize_outputs(outputs: Sequence[Variable], keep: Sequence[Variable] = ()) -> list[Variable]:
    """``outputs`` with the stabilize phase applied, as new variables; the given graph is not changed.

    The graph is cut at ``keep`` (e.g. the variables a gradient is taken with respect to): the result still
    depends on them, as they are. Nodes no rewrite touched are the given ones (so the result shares them; the
    others are fresh), and when no rewrite applies, ``outputs`` are returned as they are.
    """
    outputs = list(outputs)
    keep = list({id(v): v for v in keep}.values())
    stand_ins = [Variable(v.type, name=v.name) for v in keep]  # plain roots, never constants a rewrite may drop
    fgraph = FunctionGraph(stand_ins, clone_replace(outputs, dict(zip(keep, stand_ins)), rebuild_all=True), clone=False)
    counts: Counter = Counter()
    run_phase(fgraph, "stabilize", STABLE_FORMS, counts)
    if not any(counts.values()):
        return outputs
    given = {(node.op, tuple(map(id, node.inputs))): node for node in toposort(outputs, blockers=keep)}
    memo = {id(new): old for new, old in zip(stand_ins, keep)}
    for node in toposort(fgraph.outputs, blockers=stand_ins):
        node.inputs = [memo.get(id(v), v) for v in node.inputs]  # a private copy: re-pointed, not rebuilt
        same = given.get((node.op, tuple(map(id, node.inputs))))
        if same is not None:
            memo.update((id(new), old) for new, old in zip(node.outputs, same.outputs))
    return [memo.get(id(v), v) for v in fgraph.outputs]
