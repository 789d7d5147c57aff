"""Neural-network functions (``sg.nnet``): softmax, cross-entropies, hinge losses and one-hot encoding.

Losses are per example (not averaged). Integer or bool inputs of the float functions are upgraded to
float (as ``sg.exp`` does: small ints to float32, others to float64); integer or bool targets take the
dtype of the predictions they are compared with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.config import config
from symgraph.errors import SymgraphTypeError, SymgraphValueError
from symgraph.graph import Variable, as_variable
from symgraph.op import normalize_axis
from symgraph.ops.elemwise import cast, log, log1p, neq, relu, sigmoid, softplus, square, where
from symgraph.ops.nnet_ops import CategoricalCrossentropyInt, LogSoftmax, OneHot, Softmax
from symgraph.ops.shape import shape_i
from symgraph.types import as_dtype, float_of

__all__ = [
    "softmax", "log_softmax", "categorical_crossentropy", "binary_crossentropy", "sigmoid_binary_crossentropy",
    "binary_hinge_loss", "squared_binary_hinge_loss", "multiclass_hinge_loss", "squared_multiclass_hinge_loss",
    "hinge", "squared_hinge", "one_hot", "sigmoid", "softplus", "relu",
    "Softmax", "LogSoftmax", "CategoricalCrossentropyInt", "OneHot",
]  # fmt: skip


def _as_float(x: Any) -> Variable:
    x = as_variable(x)
    return x if x.type.is_float else cast(x, float_of(x.dtype))


def _targets_like(targets: Any, predictions: Variable) -> Variable:
    """Targets as a float tensor: non-float targets take the dtype of ``predictions``."""
    t = as_variable(targets)
    return t if t.type.is_float else cast(t, predictions.dtype)


def softmax(x: Any, axis: int = -1) -> Variable:
    """``exp(x) / sum(exp(x), axis, keepdims=True)``, computed stably (a Softmax op)."""
    x = _as_float(x)
    return Softmax(normalize_axis(Softmax(axis), [x], axis, x.ndim))(x)


def log_softmax(x: Any, axis: int = -1) -> Variable:
    """``x - logsumexp(x, axis, keepdims=True)``, computed stably (a LogSoftmax op)."""
    x = _as_float(x)
    return LogSoftmax(normalize_axis(LogSoftmax(axis), [x], axis, x.ndim))(x)


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> Variable:
    """Cross-entropy of each row of ``coding_dist`` (probabilities, one row per example).

    ``true_dist`` is either an int vector of class indices (``-log(p[i, t[i]])``; an index out of
    range is a run-time error) or a tensor of ``coding_dist``'s shape holding one-hot or soft targets
    (``-sum(t * log(p), axis=-1)``). Returns one loss per row.
    """
    p, t = _as_float(coding_dist), as_variable(true_dist)
    if t.ndim == p.ndim:
        return -(_targets_like(t, p) * log(p)).sum(axis=p.ndim - 1)
    if t.ndim == p.ndim - 1:
        if not t.type.is_integer:
            raise SymgraphTypeError(f"categorical_crossentropy: class-index targets must be integers, got {t.type}")
        return CategoricalCrossentropyInt()(p, t)
    raise SymgraphValueError(
        f"categorical_crossentropy: true_dist {t.type} must have the ndim of coding_dist {p.type} "
        "(one-hot or soft targets) or one less (class indices)"
    )


def binary_crossentropy(output: Any, target: Any) -> Variable:
    """``-(t * log(p) + (1 - t) * log(1 - p))`` elementwise, for probabilities ``p = output``."""
    p = _as_float(output)
    t = _targets_like(target, p)
    return -(t * log(p) + (1 - t) * log1p(-p))


def sigmoid_binary_crossentropy(logits: Any, targets: Any) -> Variable:
    """``binary_crossentropy(sigmoid(logits), targets)`` elementwise, computed stably from the logits.

    ``softplus(x) - t * x``, written as ``x * (1 - t) + softplus(-x)`` for positive logits, so that
    it neither overflows nor loses the small losses of confident, correct predictions; the gradient
    is ``sigmoid(x) - t`` everywhere, 0 included.
    """
    x = _as_float(logits)
    t = _targets_like(targets, x)
    return where(x > 0, x * (1 - t) + softplus(-x), softplus(x) - t * x)


def binary_hinge_loss(predictions: Any, targets: Any, delta: Any = 1.0, binary: bool = True) -> Variable:
    """``max(0, delta - t * predictions)`` elementwise.

    With ``binary=True`` the targets are in {0, 1} and mapped to {-1, 1}; otherwise they are already
    in {-1, 1}.
    """
    p = _as_float(predictions)
    t = _targets_like(targets, p)
    if binary:
        t = 2 * t - 1
    return relu(delta - p * t)


def squared_binary_hinge_loss(predictions: Any, targets: Any, delta: Any = 1.0, binary: bool = True) -> Variable:
    """The square of :func:`binary_hinge_loss`."""
    return square(binary_hinge_loss(predictions, targets, delta, binary))


def multiclass_hinge_loss(predictions: Any, targets: Any, delta: Any = 1.0) -> Variable:
    """``max(0, max_{j != y} p[i, j] - p[i, y] + delta)`` for each row ``i`` of the predictions matrix.

    ``targets`` is an int vector of class indices ``y`` or a one-hot matrix of the predictions' shape.
    """
    p, t = _as_float(predictions), as_variable(targets)
    if p.ndim != 2:
        raise SymgraphValueError(f"multiclass_hinge_loss: predictions must be a matrix, got {p.type}")
    if t.ndim == 1:
        if not t.type.is_integer:
            raise SymgraphTypeError(f"multiclass_hinge_loss: class-index targets must be integers, got {t.type}")
        is_target = one_hot(t, shape_i(p, 1), dtype="bool")
    elif t.ndim == 2:
        is_target = neq(t, 0)
    else:
        raise SymgraphValueError(
            f"multiclass_hinge_loss: targets {t.type} must be an int vector or a one-hot matrix like {p.type}"
        )
    correct = where(is_target, p, 0).sum(axis=1)
    best_other = where(is_target, -np.inf, p).max(axis=1)
    return relu(best_other - correct + delta)


def squared_multiclass_hinge_loss(predictions: Any, targets: Any, delta: Any = 1.0) -> Variable:
    """The square of :func:`multiclass_hinge_loss`."""
    return square(multiclass_hinge_loss(predictions, targets, delta))


hinge = binary_hinge_loss
squared_hinge = squared_binary_hinge_loss


def one_hot(indices: Any, depth: int | Variable, dtype: object = None) -> Variable:
    """A tensor of shape ``indices.shape + (depth,)``: 1 where the last index equals ``indices``, else 0.

    ``indices`` must be integers in ``[0, depth)`` (checked at run time); ``depth`` is an int or an
    int scalar variable; ``dtype`` defaults to ``config.floatX``.
    """
    return OneHot(as_dtype(dtype) if dtype is not None else config.floatX)(indices, depth)
