"""Rules for the random ops: Philox4x32-10 draws, the loop fork of a state, the stable argsort, parameter checks.

The kernels call the jitted helpers below, one loop over Philox blocks per draw, with the layout and the exact
conversions of ``symgraph.ops.random`` (so the values equal the reference's bit for bit; normals call the C
library's log and cos, as the reference does through ``math``). All arithmetic is on uint64 values: mixing them
with int64 would make numba compute in float64.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from backends.numba.rules import Kernel, numba_rule
from backends.numba.rules.reduce import Code, index
from backends.numba.scalar import np_dtype
from symgraph.graph import Apply
from symgraph.ops import random as random_ops
from symgraph.ops.random import MAX_BLOCKS, PARAMETER_RULES, CheckParameters, RandomDraw, RandomFork, StableArgsort

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
MASK32 = np.uint64(0xFFFFFFFF)
U8, U11, U32, ONE = np.uint64(8), np.uint64(11), np.uint64(32), np.uint64(1)
F24, F53 = np.float32(2.0**-24), 2.0**-53
TWO_PI = 2.0 * math.pi
jit = numba.njit(nogil=True)


@jit
def philox(c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64, k1: np.uint64) -> tuple:
    """Philox4x32-10 of four 32-bit counter words under two key words (all held in uint64)."""
    x0, x1, x2, x3, y0, y1 = np.uint64(c0), np.uint64(c1), np.uint64(c2), np.uint64(c3), np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0 = x0 * M0
        p1 = x2 * M1
        x0, x1, x2, x3 = (p1 >> U32) ^ x1 ^ y0, p1 & MASK32, (p0 >> U32) ^ x3 ^ y1, p0 & MASK32
        y0 = (y0 + W0) & MASK32
        y1 = (y1 + W1) & MASK32
    return x0, x1, x2, x3


@jit
def _block(b: int, draw_id: np.uint64, state: np.ndarray) -> tuple:
    """The four words of block ``b`` of a draw."""
    key, counter = state[0], state[1]
    return philox(np.uint64(b), draw_id, counter & MASK32, counter >> U32, key & MASK32, key >> U32)


@jit
def _blocks(n: int, per_block: int) -> int:
    """The number of blocks for ``n`` values, ``per_block`` values a block; too many is an error."""
    count = (n + per_block - 1) // per_block
    if count > MAX_BLOCKS:
        raise ValueError("too many values in one random draw (at most 2**32 Philox blocks)")
    return count


@jit
def _unit53(high: np.uint64, low: np.uint64, offset: np.uint64) -> float:
    return np.float64((((high << U32) | low) >> U11) + offset) * F53


@jit
def fill_uniform32(out: np.ndarray, draw_id: np.uint64, state: np.ndarray) -> None:
    n = out.size
    for b in range(_blocks(n, 4)):
        w = _block(b, draw_id, state)
        for j in range(min(4, n - 4 * b)):
            out[4 * b + j] = np.float32(w[j] >> U8) * F24


@jit
def fill_uniform64(out: np.ndarray, draw_id: np.uint64, state: np.ndarray) -> None:
    n = out.size
    for b in range(_blocks(n, 2)):
        w = _block(b, draw_id, state)
        out[2 * b] = _unit53(w[0], w[1], np.uint64(0))
        if 2 * b + 1 < n:
            out[2 * b + 1] = _unit53(w[2], w[3], np.uint64(0))


@jit
def fill_bits(out: np.ndarray, draw_id: np.uint64, state: np.ndarray) -> None:
    n = out.size
    for b in range(_blocks(n, 2)):
        w = _block(b, draw_id, state)
        out[2 * b] = (w[0] << U32) | w[1]
        if 2 * b + 1 < n:
            out[2 * b + 1] = (w[2] << U32) | w[3]


@jit
def fill_normal(out: np.ndarray, draw_id: np.uint64, state: np.ndarray) -> None:
    for i in range(_blocks(out.size, 1)):
        w = _block(i, draw_id, state)
        radius = math.sqrt(-2.0 * math.log(_unit53(w[0], w[1], ONE)))
        out[i] = radius * math.cos(TWO_PI * _unit53(w[2], w[3], np.uint64(0)))


@jit
def fmix64(z: np.uint64) -> np.uint64:
    """splitmix64's finalizer, as ``symgraph.ops.random.fmix64``."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@jit
def fork(state: np.ndarray, step: int) -> np.ndarray:
    if state.shape[0] != 2:
        raise ValueError("a random state must have shape (2,)")
    out = np.empty(2, np.uint64)
    out[0] = fmix64(state[0] ^ fmix64(np.uint64(step) + ONE))
    out[1] = state[1]
    return out


# the parameter rules' predicates, compiled (kernels import them by the predicate's name)
in_unit_interval = jit(random_ops.in_unit_interval)
not_negative = jit(random_ops.not_negative)
finite_span = jit(random_ops.finite_span)
increasing = jit(random_ops.increasing)

_FILL = {
    ("uniform", "float32"): "fill_uniform32", ("uniform", "float64"): "fill_uniform64", ("bits", "uint64"): "fill_bits",
    ("normal", "float32"): "fill_normal", ("normal", "float64"): "fill_normal",
}  # fmt: skip


@numba_rule.register(RandomDraw)
def _draw(op: RandomDraw, node: Apply) -> Kernel:
    """The size checks, then one fill helper on the flat output; the draw id is an input, so every draw of a kind,
    dtype and number of axes shares this kernel."""
    ndim = node.outputs[0].ndim
    name = f"RandomDraw{{{op.kind}, {op.dtype}}}"
    code = Code(2 + ndim)
    code.fail("a0.shape[0] != 2", f"{name}: a random state must have shape (2,)")
    code.fail(f"a1[()] < 0 or a1[()] >= {MAX_BLOCKS}", f"{name}: the draw id must lie in [0, 2**32)")
    code(*(f"n{a} = a{a + 2}[()]" for a in range(ndim)))
    if ndim:
        code.fail(" or ".join(f"n{a} < 0" for a in range(ndim)), f"{name}: negative size")
    fill = code.helper(_FILL[op.kind, op.dtype], __name__)
    shape = f"({''.join(f'n{a}, ' for a in range(ndim))})"
    code(f"o0 = np.empty({shape}, {np_dtype(op.dtype)})", f"{fill}(o0.reshape(o0.size), np.uint64(a1[()]), a0)")
    return code.kernel("o0")


@numba_rule.register(RandomFork)
def _fork(op: RandomFork, node: Apply) -> Kernel:
    code = Code(2)
    return code.kernel(f"{code.helper('fork', __name__)}(a0, a1[()])")


@numba_rule.register(StableArgsort)
def _argsort(op: StableArgsort, node: Apply) -> Kernel:
    return Code(1).kernel('np.argsort(a0, kind="mergesort").astype(np.int64)')


@numba_rule.register(CheckParameters)
def _check_parameters(op: CheckParameters, node: Apply) -> Kernel:
    """One loop over the parameters (scalars, or arrays of one shape) that raises ``ParameterError`` with the first
    values breaking the rule; the outputs are the inputs."""
    params = node.inputs
    ndim = max(p.ndim for p in params)
    arrays = [i for i, p in enumerate(params) if p.ndim]
    code = Code(len(params))
    for i in arrays[1:]:
        code.fail(f"a{i}.shape != a{arrays[0]}.shape", f"{op}: the parameters' shapes differ")
    holds = code.helper(PARAMETER_RULES[op.rule].holds.__name__, __name__)
    error = code.helper("ParameterError", "symgraph.ops.random")
    if arrays:
        code.lengths(f"a{arrays[0]}", ndim)
    with code.loops(range(ndim)):
        code(*(f"v{i} = a{i}[{index(range(p.ndim))}]" for i, p in enumerate(params)))
        values = ", ".join(f"v{i}" for i in range(len(params)))
        with code.block(f"if not {holds}({values}):"):
            code(f"raise {error}({op.caller!r}, {op.rule!r}, {values})")
    return code.kernel(*(f"a{i}" for i in range(len(params))))
