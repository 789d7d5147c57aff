"""Shared variables: symbolic variables whose value lives between calls of compiled functions."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from symgraph.config import config
from symgraph.errors import SymgraphValueError
from symgraph.graph import Variable
from symgraph.types import TensorType


class SharedVariable(Variable):
    """A root variable backed by storage that functions read and (through updates) write.

    The static shape is unknown along every axis (so ``set_value`` may change the shape) unless
    ``shape`` is given.

    ``default_update``: an expression (or None) that ``function`` uses as this variable's update when the
    compiled graph reads the variable and no explicit update is given (Theano's semantics; random states
    advance this way).

    ``lock``: held by each call of a compiled function that reads or updates this variable and has updates.
    Pickling and ``copy.deepcopy`` keep the value (copied) and give the copy a lock of its own.
    """

    def __init__(self, value: np.ndarray, name: str | None = None, shape: tuple | None = None) -> None:
        static = tuple(None for _ in value.shape) if shape is None else tuple(shape)
        super().__init__(TensorType(value.dtype, static), name=name)
        self._value = self.type.filter(value, name=self.label)
        self.default_update: Variable | None = None
        self.lock = threading.Lock()

    @property
    def label(self) -> str:
        """How messages name this variable."""
        return f"shared variable {self.name!r}" if self.name else "shared variable"

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()

    def get_value(self, borrow: bool = False) -> np.ndarray:
        """The current value (a copy unless ``borrow``)."""
        return self._value if borrow else self._value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value; it must fit the variable's type (safe casts only)."""
        new = self.type.filter(value, name=self.label)
        self._value = new if borrow or new is not value else new.copy()

    def clone(self) -> Variable:
        """A plain root variable of the same type (the storage stays with the shared variable)."""
        return Variable(self.type, name=self.name)


def shared(value: Any, name: str | None = None, shape: tuple | None = None, borrow: bool = False) -> SharedVariable:
    """A shared variable holding ``value`` (copied unless ``borrow``).

    Python floats follow ``config.floatX``; ``shape`` fixes static lengths (None entries stay free).
    """
    if isinstance(value, Variable):
        raise SymgraphValueError("shared() takes a value (array or number), not a symbolic variable")
    arr = np.asarray(value)
    if arr.dtype == object:
        raise SymgraphValueError(f"shared() cannot hold a {type(value).__name__}")
    if not isinstance(value, np.ndarray | np.generic) and arr.dtype.kind == "f":
        arr = arr.astype(config.floatX)
    elif not borrow:
        arr = arr.copy()
    return SharedVariable(arr, name=name, shape=shape)
