"""Integer helpers that generated kernels call where an expression cannot say it (NumPy's semantics)."""

from __future__ import annotations

import numba

NEGATIVE_POWER = "Integers to negative integer powers are not allowed."  # NumPy's message


@numba.njit(inline="always", error_model="numpy", nogil=True)
def int_power(base, exponent, one):
    """``base ** exponent`` by squaring, wrapping around as NumPy (``one``: 1 of the base's dtype, so that every
    product keeps its type; signed bases come unsigned, see ``scalar.wrapping``); ValueError for a negative
    exponent."""
    if exponent < 0:
        raise ValueError(NEGATIVE_POWER)
    result = one
    while exponent > 0:
        if exponent & 1:
            result = result * base
        base = base * base
        exponent = exponent >> 1
    return result
