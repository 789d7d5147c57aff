"""Constructors of symbolic input variables: scalar, vector, matrix, tensor3, tensor4, tensor."""

from __future__ import annotations

from symgraph.config import config
from symgraph.graph import Variable
from symgraph.types import TensorType

__all__ = ["scalar", "vector", "matrix", "tensor3", "tensor4", "tensor", "TensorType"]


def tensor(name: str | None = None, dtype: object = None, shape: tuple = (), *, ndim: int | None = None) -> Variable:
    """A symbolic input of the given dtype (default ``config.floatX``) and static shape.

    ``shape`` entries are ints (fixed lengths; 1 broadcasts) or None (free); ``ndim=k`` is short
    for ``shape=(None,) * k``.
    """
    if ndim is not None:
        if shape:
            raise ValueError("give shape or ndim, not both")
        shape = (None,) * ndim
    return Variable(TensorType(dtype or config.floatX, shape), name=name)


def scalar(name: str | None = None, dtype: object = None) -> Variable:
    """A 0-d symbolic input."""
    return tensor(name, dtype, ())


def vector(name: str | None = None, dtype: object = None, shape: tuple = (None,)) -> Variable:
    """A 1-d symbolic input."""
    return tensor(name, dtype, _check(shape, 1))


def matrix(name: str | None = None, dtype: object = None, shape: tuple = (None, None)) -> Variable:
    """A 2-d symbolic input."""
    return tensor(name, dtype, _check(shape, 2))


def tensor3(name: str | None = None, dtype: object = None, shape: tuple = (None,) * 3) -> Variable:
    """A 3-d symbolic input."""
    return tensor(name, dtype, _check(shape, 3))


def tensor4(name: str | None = None, dtype: object = None, shape: tuple = (None,) * 4) -> Variable:
    """A 4-d symbolic input."""
    return tensor(name, dtype, _check(shape, 4))


def _check(shape: tuple, ndim: int) -> tuple:
    if len(shape) != ndim:
        raise ValueError(f"shape {shape} has {len(shape)} entries, expected {ndim}")
    return shape
