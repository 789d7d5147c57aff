"""verify_grad: check an expression's symbolic gradient against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgraph.compile import function
from symgraph.errors import SymgraphError
from symgraph.grad import grad
from symgraph.graph import Variable, as_variable
from symgraph.types import TensorType

__all__ = ["verify_grad", "GradientError"]

# (finite-difference step, absolute tolerance, relative tolerance) by dtype
_DEFAULTS = {"float64": (1e-6, 1e-6, 1e-5), "float32": (3e-3, 2e-2, 2e-2)}


class GradientError(SymgraphError, AssertionError):
    """The symbolic gradient disagrees with finite differences."""


def verify_grad(fn: Callable[..., Any], inputs: Sequence[Any], rng: np.random.Generator | int | None = None,
                eps: float | None = None, abs_tol: float | None = None, rel_tol: float | None = None,
                n_tests: int = 1, backend: str | None = None) -> None:  # fmt: skip
    """Raise GradientError unless the gradient of ``fn`` matches finite differences at ``inputs``.

    ``fn`` takes symbolic variables (one per array in ``inputs``; axes of length 1 are declared
    broadcastable) and returns a variable (or a list);
    the check differentiates ``sum(out * t)`` for a random projection ``t``. Float inputs are checked;
    integer and boolean inputs are passed as they are. Tolerances default by the lowest float dtype.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    values = [np.array(v) for v in inputs]
    variables = [  # length-1 axes are declared broadcastable, other lengths are left free
        Variable(TensorType(v.dtype, tuple(1 if d == 1 else None for d in v.shape)), name=f"input{i}")
        for i, v in enumerate(values)
    ]
    checked = [i for i, v in enumerate(values) if v.dtype.kind == "f"]
    if not checked:
        raise ValueError("verify_grad: no float input to check")
    outputs = fn(*variables)
    outputs = [as_variable(o) for o in (outputs if isinstance(outputs, list | tuple) else [outputs])]
    low = "float32" if any(values[i].dtype == np.float32 for i in checked) or any(
        o.dtype == "float32" for o in outputs
    ) else "float64"  # fmt: skip
    default_eps, default_abs, default_rel = _DEFAULTS[low]
    eps, abs_tol, rel_tol = eps or default_eps, abs_tol or default_abs, rel_tol or default_rel
    shapes = [o.shape for o in outputs]
    probe = function(variables, shapes, backend=backend, on_unused_input="ignore")(*values)
    for _ in range(n_tests):
        projections = [rng.uniform(0.5, 1.5, size=tuple(s)) * rng.choice([-1, 1], size=tuple(s)) for s in probe]
        cost = sum(((o * p.astype(o.dtype)).sum() for o, p in zip(outputs, projections)), start=0.0)
        symbolic = function(variables, grad(cost, [variables[i] for i in checked]), backend=backend,
                            on_unused_input="ignore")(*values)  # fmt: skip
        cost_fn = function(variables, cost, backend=backend, on_unused_input="ignore")
        for i, analytic in zip(checked, symbolic):
            numeric = _finite_difference(cost_fn, values, i, eps)
            _compare(i, values[i], analytic, numeric, abs_tol, rel_tol)


def _finite_difference(cost_fn: Callable, values: list[np.ndarray], i: int, eps: float) -> np.ndarray:
    out = np.zeros(values[i].shape, dtype="float64")
    point = [v.copy() for v in values]
    flat = point[i].reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = float(cost_fn(*point))
        flat[k] = original - eps
        minus = float(cost_fn(*point))
        flat[k] = original
        out.reshape(-1)[k] = (plus - minus) / (2 * eps)
    return out


def _compare(i: int, value: np.ndarray, analytic: np.ndarray, numeric: np.ndarray, abs_tol: float,
             rel_tol: float) -> None:  # fmt: skip
    analytic = np.asarray(analytic, dtype="float64")
    if analytic.shape != numeric.shape:
        raise GradientError(f"input {i}: gradient shape {analytic.shape} differs from input shape {numeric.shape}")
    error = np.abs(analytic - numeric) / (abs_tol + rel_tol * (np.abs(analytic) + np.abs(numeric)))
    error = np.where(np.isnan(analytic) != np.isnan(numeric), np.inf, np.nan_to_num(error))
    if error.size and error.max() > 1:
        worst = np.unravel_index(int(np.argmax(error)), error.shape)
        raise GradientError(
            f"input {i} (shape {value.shape}, dtype {value.dtype}): symbolic gradient {analytic[worst]:.6g} "
            f"but finite differences give {numeric[worst]:.6g} at index {tuple(int(j) for j in worst)} "
            f"(abs_tol={abs_tol}, rel_tol={rel_tol})"
        )
