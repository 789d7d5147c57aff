"""Random streams (Theano/PyTensor's API): ``rng = sg.RandomStream(seed)``, then ``rng.normal((3, 4))``...

A stream owns one shared state ``rng.state = [key, counter]`` (uint64). Each draw is a ``RandomDraw`` node of
standard values (see ``symgraph.ops.random`` for the generator, Philox4x32-10, and its exact layout) with its own
draw id; location, scale, bounds and counts are ordinary graphs on top, so gradients with respect to ``avg``,
``std``, ``low`` and ``high`` come from the existing ops (reparametrization). The state's default update adds 1 to
the counter, so every call of a compiled function draws new numbers; ``rng.seed(s)`` starts the stream over.

``size``: ints and int scalars, an int vector, or None (the broadcast shape of the parameters); parameters are
broadcast to ``size``. Parameters outside their domain (``p`` outside [0, 1], a negative ``std``, ``low >= high``
for ``integers``...) are a build error where they are constants and a ``CallError`` at run time otherwise; a call
that fails so changes no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.config import config
from symgraph.errors import SymgraphValueError
from symgraph.graph import Constant, Variable, as_variable, constant
from symgraph.infer_shape import symbolic_shape
from symgraph.op import Caller
from symgraph.ops.alloc import broadcast_to
from symgraph.ops.elemwise import add, cast, lt, mod
from symgraph.ops.lengths import as_length, int_scalar, shape_entries
from symgraph.ops.random import (
    CheckParameters,
    RandomDraw,
    StableArgsort,
    first_violation,
    random_fork,
    violation_message,
)
from symgraph.ops.reduce import sum as sum_
from symgraph.ops.shape import expand_dims
from symgraph.shared import SharedVariable
from symgraph.types import FLOAT_DTYPES, INT_DTYPES, as_dtype

__all__ = ["RandomStream", "RandomStateVariable", "is_random_state", "random_fork"]


class RandomStateVariable(SharedVariable):
    """The shared state ``[key, counter]`` (uint64, length 2) of a ``RandomStream``."""


def is_random_state(var: Any) -> bool:
    """Whether ``var`` is the state of a ``RandomStream``."""
    return isinstance(var, RandomStateVariable)


class RandomStream:
    """Symbolic random draws from one seeded stream; ``seed=None`` takes a seed from the OS."""

    def __init__(self, seed: int | None = None) -> None:
        self.state = RandomStateVariable(np.zeros(2, np.uint64), name="random_state", shape=(2,))
        self.state.default_update = self.state + constant(np.array([0, 1], dtype=np.uint64))
        self._draws = 0
        self.seed(seed)

    def seed(self, seed: int | None = None) -> None:
        """Start the stream over from ``seed`` (an int in [0, 2**64); None: one from the OS)."""
        if seed is None:
            seed = np.random.SeedSequence().entropy % (1 << 64)
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or not 0 <= seed < 1 << 64:
            raise SymgraphValueError(f"RandomStream.seed: the seed must be an int in [0, 2**64), got {seed!r}")
        self.state.set_value(np.array([seed, 0], dtype=np.uint64))

    # -- draws ------------------------------------------------------------------------------
    def normal(self, size: Any = None, avg: Any = 0.0, std: Any = 1.0, dtype: object = None) -> Variable:
        """Normal draws of mean ``avg`` and standard deviation ``std`` (>= 0): ``avg + std * z`` (dtype default
        floatX)."""
        dtype = _float_dtype("normal", dtype)
        avg, (std,) = cast(avg, dtype), _check("normal", "scale", cast(std, dtype))
        dims, (avg, std) = _size("normal", size, [avg, std])
        return _affine(avg, std, self._draw("normal", dtype, dims))

    def uniform(self, size: Any = None, low: Any = 0.0, high: Any = 1.0, dtype: object = None) -> Variable:
        """Uniform draws in [low, high): ``low + (high - low) * u`` (dtype default floatX); ``high - low`` must be
        finite and not negative, as in NumPy's ``Generator.uniform``."""
        dtype = _float_dtype("uniform", dtype)
        low, high = _check("uniform", "interval", cast(low, dtype), cast(high, dtype))
        dims, (low, high) = _size("uniform", size, [low, high])
        return _affine(low, high if _is(low, 0) else high - low, self._draw("uniform", dtype, dims))

    def binomial(self, size: Any = None, n: int = 1, p: Any = 0.5, dtype: object = "int64") -> Variable:
        """Counts of successes in ``n`` (a Python int >= 0) trials of probability ``p`` (in [0, 1]), each trial a
        float64 uniform draw below ``p`` (so ``size * n`` draws). ``dtype``: an integer or float dtype (or bool for
        n = 1)."""
        return self._binomial("binomial", size, n, p, dtype)

    def bernoulli(self, p: Any, size: Any = None, dtype: object = "int64") -> Variable:
        """1 (True) with probability ``p`` (in [0, 1]), else 0."""
        return self._binomial("bernoulli", size, 1, p, dtype)

    def _binomial(self, name: str, size: Any, n: int, p: Any, dtype: object) -> Variable:
        caller = Caller(name)
        if not isinstance(n, int | np.integer) or isinstance(n, bool):
            raise caller.type_error([], f"n must be a Python int, got {n!r}")
        _check(name, "count", constant(n))
        dtype = as_dtype(dtype)
        if dtype not in INT_DTYPES + FLOAT_DTYPES + (("bool",) if n == 1 else ()):
            raise caller.type_error([], f"dtype must be an integer or float dtype, got {dtype}")
        dims, (p,) = _size(name, size, _check(name, "probability", cast(p, "float64")))
        if n == 1:
            return cast(lt(self._draw("uniform", "float64", dims), p), dtype)
        trials = self._draw("uniform", "float64", [*dims, int(n)])
        return cast(sum_(lt(trials, expand_dims(p, -1)), axis=-1), dtype)

    def integers(self, low: Any, high: Any = None, size: Any = None, dtype: object = "int64") -> Variable:
        """Integers in [low, high) (NumPy's ``Generator.integers``; one bound: [0, low)) of an integer dtype.

        ``low + bits % (high - low)`` on 64-bit draws (the modulo bias is below (high - low) / 2**64); ``low < high``
        everywhere.
        """
        caller = Caller("integers")
        if high is None:
            low, high = 0, low
        dtype = as_dtype(dtype)
        if dtype not in INT_DTYPES:
            raise caller.type_error([], f"dtype must be an integer dtype, got {dtype}")
        low, high = as_variable(low), as_variable(high)
        if low.dtype not in INT_DTYPES or high.dtype not in INT_DTYPES:
            raise caller.type_error([low, high], f"low and high must be integers, got {low.dtype} and {high.dtype}")
        _check_bounds(caller, low, high, dtype)
        low, high = _check("integers", "range", cast(low, "int64"), cast(high, "int64"))
        dims, (low, high) = _size("integers", size, [low, high])
        span = cast(high - low, "uint64")  # wraps to the exact span
        offset = cast(mod(self._draw("bits", "uint64", dims), span), "int64")
        return cast(offset + low, dtype)

    def permutation(self, n: Any) -> Variable:
        """A random permutation of ``range(n)`` (``n`` an int or int scalar, >= 0), int64: the stable argsort of
        ``n`` 64-bit draws."""
        (length,) = _check("permutation", "count", int_scalar(Caller("permutation"), [n], n))
        return StableArgsort()(self._draw("bits", "uint64", [length]))

    def _draw(self, kind: str, dtype: str, dims: Sequence[Any]) -> Variable:
        """Standard draws; each gets the next draw id of this stream."""
        draw = RandomDraw(kind, dtype)(self.state, self._draws, *dims)
        self._draws += 1
        return draw


# -- argument helpers -------------------------------------------------------------------------
def _float_dtype(name: str, dtype: object) -> str:
    dtype = as_dtype(dtype or config.floatX)
    if dtype not in FLOAT_DTYPES:
        raise Caller(name).type_error([], f"dtype must be a float dtype, got {dtype}")
    return dtype


def _check_lengths(name: str, lengths: Sequence[Variable]) -> None:
    dims = [as_length(d) for d in lengths]
    if any(isinstance(d, int) and d < 0 for d in dims):
        raise Caller(name).value_error(lengths, f"size must not be negative, got {tuple(dims)}")


def _size(name: str, size: Any, params: list[Variable]) -> tuple[list, list[Variable]]:
    """The draw's lengths and the parameters broadcast to them: ``size`` given (ints, int scalars or an int
    vector), or the broadcast shape of the parameters."""
    if size is None:
        return _common_shape(params), params
    lengths = shape_entries(Caller(name), size)
    _check_lengths(name, lengths)
    for p in params:
        if p.ndim > len(lengths):
            raise Caller(name).value_error([p, *lengths], f"a parameter of type {p.type} has more axes than size")
    return lengths, [broadcast_to(p, lengths) if p.ndim else p for p in params]


def _common_shape(params: list[Variable]) -> list:
    """The lengths of the parameters' broadcast shape."""
    tensors = [p for p in params if p.ndim]
    if not tensors:
        return []
    return list(symbolic_shape(tensors[0] if len(tensors) == 1 else add(*tensors)))


def _check(name: str, rule: str, *params: Variable) -> list[Variable]:
    """``params`` checked against ``PARAMETER_RULES[rule]``: now where they are all constants (a build error), else
    at run time (``CheckParameters``, on the parameters broadcast together)."""
    params = list(params)
    if all(isinstance(p, Constant) for p in params):
        bad = first_violation(rule, [p.data for p in params])
        if bad is not None:
            raise Caller(name).value_error(params, violation_message(rule, bad))
        return params
    if sum(p.ndim > 0 for p in params) > 1:
        lengths = _common_shape(params)
        params = [broadcast_to(p, lengths) if p.ndim else p for p in params]
    return CheckParameters(name, rule).make_node(*params).outputs


def _is(var: Variable, value: float) -> bool:
    return isinstance(var, Constant) and var.ndim == 0 and var.data == value


def _affine(shift: Variable, scale: Variable, x: Variable) -> Variable:
    """``shift + scale * x``, without the operations that change nothing."""
    out = x if _is(scale, 1) else scale * x
    return out if _is(shift, 0) else shift + out


def _check_bounds(caller: Caller, low: Variable, high: Variable, dtype: str) -> None:
    """Constant bounds fit ``dtype``."""
    info = np.iinfo(dtype)
    if isinstance(low, Constant) and np.any(low.data < info.min):
        raise caller.value_error([low, high], f"low is out of range for {dtype}")
    if isinstance(high, Constant) and np.any(high.data.astype(object) - 1 > info.max):
        raise caller.value_error([low, high], f"high is out of range for {dtype}")
