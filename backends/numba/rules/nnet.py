"""Rules for the nnet ops: softmax and log-softmax along an axis, cross-entropy on int targets (also fused with
softmax), one-hot encoding.

Softmax along the innermost axis keeps each row's max and sum in scalars: one pass for the max, one storing
exp(x - max) (log-softmax: x - max) while summing, one normalizing; the passes vectorize (a vectorizable exp,
``reassoc`` for the float64 sum). Along another axis the max and sum are arrays over the kept axes and the input
is read in memory order. Class indices are checked before anything is computed, as the reference does.
"""

from __future__ import annotations

from backends.numba.rules import Kernel, numba_rule
from backends.numba.rules.reduce import (
    REASSOC,
    Code,
    index,
    make_kernel,
    peak_and_sum,
    peak_and_sum_arrays,
    shape_of,
)
from backends.numba.scalar import np_dtype
from symgraph.graph import Apply
from symgraph.ops.nnet_ops import (
    CategoricalCrossentropyInt,
    LogSoftmax,
    OneHot,
    SoftmaxBase,
    SoftmaxCategoricalCrossentropyInt,
)


@numba_rule.register(SoftmaxBase)
def _softmax(op: SoftmaxBase, node: Apply) -> Kernel:
    """Softmax: exp(x - max) / sum; log-softmax: (x - max) - log(sum(exp(x - max))), as the reference."""
    x = node.inputs[0]
    fd, ndim, axis = x.dtype, x.ndim, op.axis % x.ndim
    log = isinstance(op, LogSoftmax)
    kept = [a for a in range(ndim) if a != axis]
    everywhere, at = index(range(ndim)), index(kept)
    value, target = f"a0[{everywhere}]", f"o0[{everywhere}]"
    store = f"{target} = {'s' if log else 'e'}"  # the output first holds x - max (log) or exp(x - max)
    finish = f"{target} = {target} {'-' if log else '/'} total"
    inner = axis == ndim - 1

    def build(parallel: bool) -> Kernel:
        code = Code(1, parallel)
        code.lengths("a0", ndim)
        code(f"o0 = np.empty({shape_of(range(ndim))}, np.{fd})")
        if inner:
            with code.loops(kept, split=True):
                peak_and_sum(code, value, [axis], fd, store)
                code(f"total = {_total(log, fd, 'acc')}")
                with code.loops([axis]):
                    code(finish)
            return code.kernel("o0")
        peak_and_sum_arrays(code, value, ndim, kept, fd, store)
        code(f"totals = np.empty({shape_of(kept)}, np.{fd})")
        with code.loops(kept):
            code(f"totals[{at}] = {_total(log, fd, f'acc[{at}]')}")
        with code.loops(range(ndim)):
            code(f"total = totals[{at}]", finish)
        return code.kernel("o0")

    return make_kernel(build, REASSOC, parallel=inner and bool(kept))


def _total(log: bool, fd: str, acc: str) -> str:
    """The sum of exponentials as the dtype, or its log for log-softmax."""
    return f"np.{fd}(np.log(np.{fd}({acc})))" if log else f"np.{fd}({acc})"


def _check_targets(code: Code, op: object, what: str) -> None:
    """One int target per row of ``a0``, each a class in ``[0, a0.shape[1])``."""
    code("n0 = a0.shape[0]", "n1 = a0.shape[1]")
    code.fail("a1.shape[0] != n0", f"{op}: the number of targets differs from the number of rows of {what}")
    with code.loops([0]):
        code.fail("np.int64(a1[j0]) < 0 or np.int64(a1[j0]) >= n1", f"{op}: a class index is out of range")


@numba_rule.register(CategoricalCrossentropyInt)
def _crossentropy(op: CategoricalCrossentropyInt, node: Apply) -> Kernel:
    fd = node.outputs[0].dtype
    code = Code(2)
    _check_targets(code, op, "coding_dist")
    code(f"o0 = np.empty(n0, np.{fd})")
    with code.loops([0]):
        code("o0[j0] = -np.log(a0[j0, np.int64(a1[j0])])")
    return code.kernel("o0")


@numba_rule.register(SoftmaxCategoricalCrossentropyInt)
def _softmax_crossentropy(op: SoftmaxCategoricalCrossentropyInt, node: Apply) -> Kernel:
    """log(sum(exp(z - max))) - (z[t] - max) per row (combined in float64, which ``reassoc`` cannot spoil)."""
    fd = node.outputs[0].dtype

    def build(parallel: bool) -> Kernel:
        code = Code(2, parallel)
        _check_targets(code, op, "logits")
        code(f"o0 = np.empty(n0, np.{fd})")
        with code.loops([0], split=True):
            peak_and_sum(code, "a0[j0, j1]", [1], fd)
            shifted = "np.float64(a0[j0, np.int64(a1[j0])]) - np.float64(peak)"
            code(f"o0[j0] = np.{fd}(np.float64(np.log(np.{fd}(acc))) - ({shifted}))")
        return code.kernel("o0")

    return make_kernel(build, REASSOC, parallel=True)


@numba_rule.register(OneHot)
def _one_hot(op: OneHot, node: Apply) -> Kernel:
    ndim = node.inputs[0].ndim
    everywhere = index(range(ndim))
    code = Code(2)
    code.lengths("a0", ndim)
    code("depth = a1[()]")
    code.fail("depth < 0", f"{op}: depth must be >= 0")
    with code.loops(range(ndim)):
        code(f"c = np.int64(a0[{everywhere}])")
        code.fail("c < 0 or c >= depth", f"{op}: a class index is out of range")
    code(f"o0 = np.zeros(({''.join(f'n{a}, ' for a in range(ndim))}depth), {np_dtype(op.dtype)})")
    with code.loops(range(ndim)):
        target = ", ".join([*(f"j{a}" for a in range(ndim)), f"np.int64(a0[{everywhere}])"])
        code(f"o0[{target}] = {np_dtype(op.dtype)}(1)")
    return code.kernel("o0")
