"""Counter-based random draws: the Philox4x32-10 generator, the primitive draw op, the state fork that loops use,
the stable argsort that permutations are built from, and the run-time check of a distribution's parameters.

A random state is a uint64 vector ``[key, counter]``. A draw's values are Philox blocks of the counter words
``(block index, draw id, lo32(counter), hi32(counter))`` under the key words ``(lo32(key), hi32(key))``: they
depend on the state, the draw's id and its size only, never on how a backend splits the work. The conversions
are exact, so every backend gives the same bits:

- ``uniform`` float32 in [0, 1): element i is ``(w >> 8) * 2**-24`` for word ``i % 4`` of block ``i // 4``;
- ``uniform`` float64 in [0, 1): ``(((a << 32) | b) >> 11) * 2**-53`` for the words ``a, b = 2(i % 2),
  2(i % 2) + 1`` of block ``i // 2``; ``bits`` (uint64): ``(a << 32) | b`` from the same words;
- ``normal``: Box-Muller in float64 on block i, ``sqrt(-2 log u1) cos(2 pi u2)`` with ``u1`` in (0, 1] from
  words 0, 1 and ``u2`` in [0, 1) from words 2, 3, then cast to the dtype. log and cos are the C library's
  (Python's ``math``, as numba's), not NumPy's SIMD routines, which may differ in the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.errors import CallError
from symgraph.graph import Apply, Constant, Variable, as_variable
from symgraph.op import Op
from symgraph.ops.lengths import as_length, int_scalar
from symgraph.types import FLOAT_DTYPES, INT_DTYPES, TensorType

__all__ = [
    "PARAMETER_RULES", "CheckParameters", "ParameterError", "RandomDraw", "RandomFork", "StableArgsort",
    "first_violation", "philox4x32", "random_fork", "violation_message",
]  # fmt: skip

PHILOX_M = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))  # round multipliers
PHILOX_W = (np.uint64(0x9E3779B9), np.uint64(0xBB67AE85))  # key increments (Weyl sequence)
MASK32 = np.uint64(0xFFFFFFFF)
MAX_BLOCKS = 1 << 32  # the block index is one counter word
KINDS = {"uniform": FLOAT_DTYPES, "normal": FLOAT_DTYPES, "bits": ("uint64",)}
_32 = np.uint64(32)


def philox4x32(counter: Sequence[Any], key: Sequence[Any]) -> np.ndarray:
    """Philox4x32-10 of the four counter words (ints or arrays, broadcast) under the two key words: the four
    output words as a uint64 array of shape (4, ...) holding 32-bit values."""
    c0, c1, c2, c3 = np.broadcast_arrays(*(np.asarray(w, dtype=np.uint64) for w in counter))
    k0, k1 = (np.uint64(k) for k in key)
    for _ in range(10):
        p0, p1 = c0 * PHILOX_M[0], c2 * PHILOX_M[1]  # 32 x 32 bits: the 64-bit product is exact
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & MASK32, (p0 >> _32) ^ c3 ^ k1, p0 & MASK32
        k0, k1 = (k0 + PHILOX_W[0]) & MASK32, (k1 + PHILOX_W[1]) & MASK32
    return np.stack([c0, c1, c2, c3])


def _blocks(n_blocks: int, draw_id: int, state: np.ndarray) -> np.ndarray:
    """The (4, n_blocks) words of one draw."""
    if n_blocks > MAX_BLOCKS:
        raise ValueError("too many values in one random draw (at most 2**32 Philox blocks)")
    key, counter = state[0], state[1]
    words = (np.arange(n_blocks, dtype=np.uint64), draw_id, counter & MASK32, counter >> _32)
    return philox4x32(words, (key & MASK32, key >> _32))


def _join(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    return (high << _32) | low


def _unit53(bits: np.ndarray, offset: int = 0) -> np.ndarray:
    """The top 53 bits (plus ``offset``) times 2**-53, exactly, as float64."""
    return ((bits >> np.uint64(11)) + np.uint64(offset)).astype(np.float64) * 2.0**-53


def draw_values(kind: str, dtype: str, n: int, draw_id: int, state: np.ndarray) -> np.ndarray:
    """``n`` values of one draw (flat), as described in the module docstring."""
    if kind == "normal":
        w = _blocks(n, draw_id, state)
        u1, u2 = _unit53(_join(w[0], w[1]), 1), _unit53(_join(w[2], w[3]))
        radius = np.sqrt(-2.0 * np.array([math.log(u) for u in u1.tolist()], dtype=np.float64))
        angle = np.array([math.cos(a) for a in (2.0 * math.pi * u2).tolist()], dtype=np.float64)
        return (radius * angle).astype(dtype)
    if kind == "uniform" and dtype == "float32":
        words = _blocks(-(-n // 4), draw_id, state).T.reshape(-1)[:n]
        return (words >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)
    w = _blocks(-(-n // 2), draw_id, state)
    bits = np.stack([_join(w[0], w[1]), _join(w[2], w[3])], axis=1).reshape(-1)[:n]
    return bits if kind == "bits" else _unit53(bits)


def fmix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer (a bijection of uint64 with good avalanche), wrapping."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _check_state_type(op: Op, state: Variable, inputs: Sequence[Any]) -> None:
    if state.dtype != "uint64" or state.ndim != 1 or state.type.shape[0] not in (None, 2):
        raise op.type_error(inputs, f"the state must be a uint64 vector [key, counter] of length 2, got {state.type}")


def _check_state_value(state: np.ndarray) -> None:
    if state.shape != (2,):
        raise ValueError(f"a random state must have shape (2,), got {state.shape}")


@dataclass(frozen=True)
class RandomDraw(Op):
    """Standard draws from a random state: ``kind`` "uniform" ([0, 1)), "normal" (mean 0, variance 1) or "bits"
    (raw uint64) of ``dtype``.

    Inputs: the state ``[key, counter]`` (uint64, length 2), the draw id (an int64 scalar in [0, 2**32) that tells
    a stream's draws apart; an input rather than a property, so draws share their compiled kernels) and one length
    per axis (negative: an error).
    """

    kind: str
    dtype: str

    def make_node(self, state: Any, draw_id: Any, *size: Any) -> Apply:
        state = as_variable(state)
        inputs = [state, draw_id, *size]
        _check_state_type(self, state, inputs)
        if self.dtype not in KINDS.get(self.kind, ()):
            allowed = "; ".join(f"{kind}: {', '.join(dtypes)}" for kind, dtypes in KINDS.items())
            raise self.type_error(inputs, f"no {self.kind!r} draws of dtype {self.dtype} ({allowed})")
        draw_id = int_scalar(self, inputs, draw_id)
        if isinstance(draw_id, Constant) and not 0 <= int(draw_id.data) < MAX_BLOCKS:
            raise self.value_error(inputs, f"the draw id must lie in [0, 2**32), got {int(draw_id.data)}")
        lengths = [int_scalar(self, inputs, s) for s in size]
        dims = [as_length(s) for s in lengths]
        if any(isinstance(d, int) and d < 0 for d in dims):
            raise self.value_error(inputs, f"negative size {tuple(dims)}")
        static = [d if isinstance(d, int) else None for d in dims]
        return Apply(self, [state, draw_id, *lengths], [TensorType(self.dtype, static)])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        state, draw_id, *size = inputs
        _check_state_value(state)
        if not 0 <= draw_id < MAX_BLOCKS:
            raise ValueError(f"the draw id must lie in [0, 2**32), got {draw_id}")
        shape = tuple(int(s) for s in size)
        if any(d < 0 for d in shape):
            raise ValueError(f"negative size {shape}")
        return [draw_values(self.kind, self.dtype, math.prod(shape), int(draw_id), state).reshape(shape)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [tuple(as_length(s) for s in node.inputs[2:])]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Integer inputs: no gradient (location and scale parameters get theirs through the graphs built on the
        standard draws)."""
        return [None] * len(node.inputs)


@dataclass(frozen=True)
class RandomFork(Op):
    """The random state ``[fmix64(key ^ fmix64(step + 1)), counter]`` for loop step ``step`` (int64 scalar):
    each step of a loop draws from its own key, and forks of forks (nested loops) stay distinct."""

    def make_node(self, state: Any, step: Any) -> Apply:
        state = as_variable(state)
        _check_state_type(self, state, [state, step])
        return Apply(self, [state, int_scalar(self, [state, step], step)], [TensorType("uint64", (2,))])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        state, step = inputs
        _check_state_value(state)
        with np.errstate(over="ignore"):
            key = fmix64(state[:1] ^ fmix64(step.reshape(1).astype(np.uint64) + np.uint64(1)))
        return [np.concatenate([key, state[1:]])]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [(2,)]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Integer inputs: no gradient."""
        return [None, None]


@dataclass(frozen=True)
class StableArgsort(Op):
    """The int64 indices that sort an integer vector, equal keys in their order (``np.argsort(kind="stable")``)."""

    def make_node(self, keys: Any) -> Apply:
        keys = as_variable(keys)
        if keys.ndim != 1 or keys.dtype not in INT_DTYPES:
            raise self.type_error([keys], f"needs an integer vector, got {keys.type}")
        return Apply(self, [keys], [TensorType("int64", keys.type.shape)])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [np.argsort(inputs[0], kind="stable").astype(np.int64)]

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [tuple(input_shapes[0])]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """Integer input and output: no gradient."""
        return [None]


def random_fork(state: Any, step: Any) -> Variable:
    """A new random state for loop step ``step`` (an int scalar): its key mixes the state's key with the step,
    its counter is the state's. Scan draws a loop body's numbers from the fork of the stream's state by the step
    index, so each step draws fresh numbers and nested loops compose."""
    return RandomFork()(state, step)


# -- parameter checks -------------------------------------------------------------------------
# Elementwise predicates, written for NumPy arrays and numba scalars alike (the numba rules jit these very functions).
def in_unit_interval(p: Any) -> Any:
    """``0 <= p <= 1`` (NaN fails)."""
    return (p >= 0) & (p <= 1)


def not_negative(x: Any) -> Any:
    """``x >= 0``; NaN passes, as NumPy's scales do."""
    return (x >= 0) | (x != x)  # noqa: PLR0124 - NaN test that numba compiles too


def finite_span(low: Any, high: Any) -> Any:
    """``high - low`` finite and ``>= 0`` (NumPy's ``Generator.uniform``)."""
    span = high - low
    return np.isfinite(span) & (span >= 0)


def increasing(low: Any, high: Any) -> Any:
    """``low < high`` (a non-empty integer range)."""
    return low < high


@dataclass(frozen=True)
class ParameterRule:
    """What the parameters ``names`` of a distribution must satisfy, elementwise."""

    names: tuple[str, ...]
    requirement: str
    holds: Callable[..., Any]


PARAMETER_RULES = {
    "probability": ParameterRule(("p",), "p must lie in [0, 1]", in_unit_interval),
    "scale": ParameterRule(("std",), "std must not be negative", not_negative),
    "count": ParameterRule(("n",), "n must not be negative", not_negative),
    "interval": ParameterRule(("low", "high"), "high - low must be finite and not negative", finite_span),
    "range": ParameterRule(("low", "high"), "low must be less than high", increasing),
}


def violation_message(rule: str, values: Sequence[Any]) -> str:
    """``<requirement>, got <name>=<value>, ...``."""
    names = PARAMETER_RULES[rule].names
    return f"{PARAMETER_RULES[rule].requirement}, got {', '.join(f'{n}={v}' for n, v in zip(names, values))}"


class ParameterError(ValueError):
    """A parameter breaking its rule at run time, raised by the numba kernels with args ``(caller, rule, *values)``
    (the call reports it as a ``CallError``)."""

    def __str__(self) -> str:
        return f"{self.args[0]}: {violation_message(self.args[1], self.args[2:])}"


def first_violation(rule: str, values: Sequence[np.ndarray]) -> list[Any] | None:
    """The parameters' values (broadcast) at the first place they break ``rule``; None where they never do."""
    with np.errstate(all="ignore"):
        held = np.asarray(PARAMETER_RULES[rule].holds(*values))
    if held.all():
        return None
    where = np.unravel_index(np.argmin(held), held.shape)
    return [np.broadcast_to(v, held.shape)[where].item() for v in values]


@dataclass(frozen=True)
class CheckParameters(Op):
    """Its inputs unchanged, once they are checked against ``PARAMETER_RULES[rule]`` everywhere; the error names
    ``caller`` (the distribution), the parameters and their first bad values.

    Inputs: one per name of the rule, each a scalar or of one shape with the others (``symgraph.random``
    broadcasts them).
    """

    caller: str
    rule: str

    @property
    def view_map(self) -> dict[int, int]:  # every output is its input
        return {i: i for i in range(len(PARAMETER_RULES[self.rule].names))}

    def make_node(self, *params: Any) -> Apply:
        params = [as_variable(p) for p in params]
        if self.rule not in PARAMETER_RULES or len(params) != len(PARAMETER_RULES[self.rule].names):
            raise self.type_error(params, f"expects the parameters of one of the rules {sorted(PARAMETER_RULES)}")
        if len({p.ndim for p in params if p.ndim}) > 1:
            raise self.type_error(params, "the parameters must be scalars or have one number of axes")
        return Apply(self, params, [p.type for p in params])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        bad = first_violation(self.rule, inputs)
        if bad is not None:
            raise CallError(f"{self.caller}: {violation_message(self.rule, bad)}")
        return list(inputs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        return [tuple(s) for s in input_shapes]

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The output gradients unchanged."""
        return list(output_grads)
