"""Python operators, NumPy-style methods, ``shape``, ``T`` and ``eval`` of Variable.

They build ops (and ``eval`` compiles), which sit above ``symgraph.graph``, so they are attached to the class
here; ``symgraph/__init__.py`` imports this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.compile import function
from symgraph.config import config
from symgraph.graph import Variable
from symgraph.ops import elemwise as ew
from symgraph.ops import indexing, linalg, reduce
from symgraph.ops import shape as shape_ops


class _VariableMethods:
    @property
    def shape(self) -> Variable:
        return shape_ops.shape(self)

    @property
    def size(self) -> Variable:
        return reduce.prod(self.shape)

    @property
    def T(self) -> Variable:  # noqa: N802 (NumPy's spelling)
        return shape_ops.transpose(self)

    def eval(self, inputs_dict: dict | None = None, **kwargs: Any) -> np.ndarray:
        """Compile (once per set of inputs, ``function`` options and configuration) and evaluate this variable.
        Values of variables it does not use are ignored unless ``on_unused_input`` says otherwise."""
        inputs_dict = inputs_dict or {}
        kwargs.setdefault("on_unused_input", "ignore")
        key = (tuple(inputs_dict), tuple(sorted(kwargs.items())), config.backend, config.rewrites,
               config.trace_rewrites)  # fmt: skip
        try:
            hash(key)
        except TypeError:  # an unhashable option (givens as a dict...): compile without caching
            return function(list(inputs_dict), self, **kwargs)(*inputs_dict.values())
        cache = self.__dict__.setdefault("_eval_cache", {})
        if key not in cache:
            cache[key] = function(list(inputs_dict), self, **kwargs)
        return cache[key](*inputs_dict.values())

    # -- arithmetic --------------------------------------------------------------------
    # fmt: off
    def __add__(self, other): return ew.add(self, other)
    def __radd__(self, other): return ew.add(other, self)
    def __sub__(self, other): return ew.sub(self, other)
    def __rsub__(self, other): return ew.sub(other, self)
    def __mul__(self, other): return ew.mul(self, other)
    def __rmul__(self, other): return ew.mul(other, self)
    def __truediv__(self, other): return ew.true_div(self, other)
    def __rtruediv__(self, other): return ew.true_div(other, self)
    def __floordiv__(self, other): return ew.floor_div(self, other)
    def __rfloordiv__(self, other): return ew.floor_div(other, self)
    def __mod__(self, other): return ew.mod(self, other)
    def __rmod__(self, other): return ew.mod(other, self)
    def __pow__(self, other): return ew.power(self, other)
    def __rpow__(self, other): return ew.power(other, self)
    def __matmul__(self, other): return linalg.matmul(self, other)
    def __rmatmul__(self, other): return linalg.matmul(other, self)
    def __neg__(self): return ew.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ew.abs(self)
    def __lt__(self, other): return ew.lt(self, other)
    def __le__(self, other): return ew.le(self, other)
    def __gt__(self, other): return ew.gt(self, other)
    def __ge__(self, other): return ew.ge(self, other)
    def __and__(self, other): return ew.and_(self, other)
    def __rand__(self, other): return ew.and_(other, self)
    def __or__(self, other): return ew.or_(self, other)
    def __ror__(self, other): return ew.or_(other, self)
    def __xor__(self, other): return ew.xor(self, other)
    def __rxor__(self, other): return ew.xor(other, self)
    def __invert__(self): return ew.invert(self)
    def __getitem__(self, index): return indexing.getitem(self, index)

    # -- methods (Theano/NumPy spelling) ---------------------------------------------
    def sum(self, axis=None, keepdims=False, dtype=None): return reduce.sum(self, axis, keepdims, dtype)
    def prod(self, axis=None, keepdims=False, dtype=None): return reduce.prod(self, axis, keepdims, dtype)
    def mean(self, axis=None, keepdims=False): return reduce.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return reduce.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return reduce.min(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0): return reduce.var(self, axis, keepdims, ddof)
    def std(self, axis=None, keepdims=False, ddof=0): return reduce.std(self, axis, keepdims, ddof)
    def argmax(self, axis=None, keepdims=False): return reduce.argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return reduce.argmin(self, axis, keepdims)
    def all(self, axis=None, keepdims=False): return reduce.all(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return reduce.any(self, axis, keepdims)
    def reshape(self, *shape, ndim=None):
        return shape_ops.reshape(self, shape[0] if len(shape) == 1 else shape, ndim=ndim)
    def dimshuffle(self, *pattern):
        single = len(pattern) == 1 and isinstance(pattern[0], list | tuple)
        return shape_ops.dimshuffle(self, pattern[0] if single else pattern)
    def flatten(self, ndim=1): return shape_ops.flatten(self, ndim)
    def transpose(self, *axes): return shape_ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None))
    def squeeze(self, axis=None): return shape_ops.squeeze(self, axis)
    def astype(self, dtype): return ew.cast(self, dtype)
    def dot(self, other): return linalg.dot(self, other)
    def clip(self, lo, hi): return ew.clip(self, lo, hi)
    def nonzero_values(self): return self[ew.neq(self, 0)]
    # fmt: on


for _name, _member in vars(_VariableMethods).items():
    if callable(_member) or isinstance(_member, property):
        setattr(Variable, _name, _member)
