"""TensorType: a dtype and a static shape (ints or None), with NumPy promotion and broadcasting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symgraph.errors import CallError

DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64",
)  # fmt: skip
FLOAT_DTYPES = ("float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

StaticShape = tuple[int | None, ...]


def as_dtype(dtype: object) -> str:
    """Canonical dtype name; raises for dtypes symgraph does not support."""
    name = np.dtype(dtype).name
    if name not in DTYPES:
        raise TypeError(f"unsupported dtype {name!r}; supported: {', '.join(DTYPES)}")
    return name


def upcast(*dtypes: str) -> str:
    """NumPy's promotion of several dtypes."""
    return np.result_type(*dtypes).name


def float_of(dtype: str) -> str:
    """The float dtype that math on ``dtype`` produces (small ints to float32, others to float64)."""
    if dtype in FLOAT_DTYPES:
        return dtype
    return "float32" if np.dtype(dtype).itemsize <= 2 else "float64"


def broadcast_static(*shapes: StaticShape) -> StaticShape | None:
    """Broadcast static shapes (aligned right); None when two known lengths disagree.

    A length of 1 broadcasts; an unknown length (None) is assumed not to be 1.
    """
    ndim = max((len(s) for s in shapes), default=0)
    out: list[int | None] = []
    for axis in range(ndim):
        dims = [s[len(s) - ndim + axis] for s in shapes if len(s) - ndim + axis >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            return None
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


@dataclass(frozen=True)
class TensorType:
    """The type of a tensor variable: dtype plus static shape (``None`` = unknown length)."""

    dtype: str
    shape: StaticShape

    def __init__(self, dtype: object, shape: tuple = ()) -> None:
        shape = tuple(shape)
        for d in shape:
            if d is not None and (not isinstance(d, int | np.integer) or d < 0):
                raise ValueError(f"static shape entries must be ints >= 0 or None, got {shape}")
        object.__setattr__(self, "dtype", as_dtype(dtype))
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in shape))
        object.__setattr__(self, "np_dtype", np.dtype(self.dtype))  # not a field: for fast checks

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(d == 1 for d in self.shape)

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_DTYPES

    @property
    def is_integer(self) -> bool:
        return self.dtype in INT_DTYPES

    def clone(self, dtype: object = None, shape: tuple | None = None) -> TensorType:
        return TensorType(self.dtype if dtype is None else dtype, self.shape if shape is None else shape)

    def is_super(self, other: TensorType) -> bool:
        """True when every value of ``other`` is also a value of this type."""
        return (
            self.dtype == other.dtype
            and self.ndim == other.ndim
            and all(a is None or a == b for a, b in zip(self.shape, other.shape))
        )

    def filter(self, value: object, name: str = "input", allow_downcast: bool = False) -> np.ndarray:
        """Convert a call-time value to this type or raise a CallError naming ``name``."""
        if type(value) is np.ndarray and value.dtype == self.np_dtype and value.ndim == len(self.shape):
            arr = value  # the common case, checked cheaply (the static lengths below)
        elif isinstance(value, np.ndarray | np.generic):
            arr = np.asarray(value)
            _refuse_non_numeric(arr.dtype, name, self)
            if arr.dtype != self.dtype:
                if not (allow_downcast or np.can_cast(arr.dtype, self.dtype, "safe")):
                    raise CallError(
                        f"{name}: cannot safely cast {arr.dtype} to {self.dtype} "
                        "(cast it yourself or pass allow_input_downcast=True)"
                    )
                arr = arr.astype(self.dtype)
        else:
            try:
                probe = np.asarray(value)
            except (ValueError, TypeError) as err:
                raise CallError(f"{name}: cannot convert {type(value).__name__} to an array: {err}") from err
            if probe.dtype == object:
                raise CallError(f"{name}: cannot convert {type(value).__name__} to an array of {self.dtype}")
            _refuse_non_numeric(probe.dtype, name, self)
            lossy = probe.dtype.kind == "f" and self.dtype not in FLOAT_DTYPES
            if lossy and not allow_downcast:
                raise CallError(f"{name}: float data given for a {self.dtype} input")
            try:
                arr = np.asarray(value, dtype=self.dtype)
            except OverflowError as err:
                raise CallError(f"{name}: value does not fit in {self.dtype}: {err}") from err
        if arr.ndim != self.ndim:
            raise CallError(f"{name}: expected {self.ndim} dimensions ({self}), got shape {arr.shape}")
        for axis, (want, got) in enumerate(zip(self.shape, arr.shape)):
            if want != got and want is not None:
                raise CallError(f"{name}: expected length {want} on axis {axis} ({self}), got shape {arr.shape}")
        return arr

    def __str__(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        if self.ndim == 1:
            dims += ","
        return f"Tensor[{self.dtype}]({dims})"

    __repr__ = __str__


_NON_NUMERIC = {"c": "complex", "U": "string", "S": "bytes", "M": "datetime", "m": "timedelta", "V": "structured"}


def _refuse_non_numeric(dtype: np.dtype, name: str, expected: TensorType) -> None:
    """A CallError for complex numbers, strings, dates...: no tensor type holds them, whatever the cast rules."""
    if dtype.kind in _NON_NUMERIC:
        got = _NON_NUMERIC[dtype.kind]
        raise CallError(f"{name}: expected {expected.dtype} data ({expected}), got {got} data ({dtype})")
