"""``sg.scan`` and its shorthands (``map``, ``reduce``, ``foldl``, ``foldr``), with Theano's semantics.

``fn`` is called once, on placeholder variables, to build the loop body: first one argument per sequence tap,
then one per tap of each fed-back output, then the non-sequences. Variables the body reads from outside
(shared variables, inputs, outer expressions) become non-sequences by themselves; random streams used in the
body draw fresh numbers at each step. ``fn`` returns the outputs, or ``(outputs, updates)``, or updates alone,
where updates map shared variables to their new values after each step (returned as the scan's ``updates``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from symgraph.errors import SymgraphTypeError, SymgraphValueError
from symgraph.graph import Variable, as_variable, clone_replace, graph_inputs
from symgraph.ops.elemwise import cast, minimum
from symgraph.ops.inner_graph import free_variables, placeholder
from symgraph.ops.scan import Scan
from symgraph.ops.shape import dimshuffle, shape_i
from symgraph.random import is_random_state, random_fork
from symgraph.shared import SharedVariable
from symgraph.types import TensorType

__all__ = ["scan", "map", "reduce", "foldl", "foldr"]


def _listify(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _taps(value: Any, what: str) -> list[int]:
    """A list of integer taps; anything else (floats, bools, strings) is an error naming ``what``."""
    taps = list(value) if isinstance(value, list | tuple) else [value]
    if not all(isinstance(t, int | np.integer) and not isinstance(t, bool) for t in taps):
        raise SymgraphTypeError(f"scan: {what} taps must be integers, got {value!r}")
    return [int(t) for t in taps]


def _sequence_specs(sequences: Any) -> list[tuple[Variable, list[int]]]:
    specs = []
    for i, seq in enumerate(_listify(sequences)):
        if isinstance(seq, Mapping):
            unknown = set(seq) - {"input", "taps"}
            if "input" not in seq or unknown:
                raise SymgraphValueError(f"scan: sequence {i} must be a variable or dict(input=..., taps=[...])")
            var, taps = as_variable(seq["input"]), _taps(seq.get("taps", [0]), f"sequence {i}")
        else:
            var, taps = as_variable(seq), [0]
        if var.ndim == 0:
            raise SymgraphTypeError(f"scan: sequence {i} is a scalar ({var.type}); sequences are iterated on axis 0")
        if not taps or len(set(taps)) != len(taps):
            raise SymgraphValueError(f"scan: sequence {i} needs distinct taps, got {taps}")
        specs.append((var, taps))
    return specs


def _output_specs(outputs_info: Any) -> list[tuple[Variable, list[int]] | None]:
    """Per output: (initial buffer with L rows, taps), or None for an output that is not fed back."""
    specs: list[tuple[Variable, list[int]] | None] = []
    for i, info in enumerate(_listify(outputs_info)):
        if info is None:
            specs.append(None)
            continue
        if isinstance(info, Mapping):
            unknown = set(info) - {"initial", "taps"}
            if unknown:
                raise SymgraphValueError(f"scan: outputs_info[{i}] has unknown keys {sorted(unknown)}")
            if info.get("initial") is None:
                specs.append(None)
                continue
            initial, taps = as_variable(info["initial"]), _taps(info.get("taps", [-1]), f"outputs_info[{i}]")
        else:
            initial, taps = as_variable(info), [-1]
        if not taps or any(t >= 0 for t in taps) or len(set(taps)) != len(taps):
            raise SymgraphValueError(f"scan: outputs_info[{i}] taps must be distinct negative offsets, got {taps}")
        if taps == [-1]:  # the initial value itself (Theano); other taps: one row per lag
            initial = dimshuffle(initial, ["x", *range(initial.ndim)])
        elif initial.ndim == 0:
            raise SymgraphTypeError(
                f"scan: outputs_info[{i}] with taps {taps} needs an initial value with a leading axis"
            )
        lag = -min(taps)
        if initial.type.shape[0] is not None and initial.type.shape[0] != lag:
            if initial.type.shape[0] < lag:
                raise SymgraphValueError(
                    f"scan: outputs_info[{i}] has {initial.type.shape[0]} initial values, taps {taps} need {lag}"
                )
            initial = initial[initial.type.shape[0] - lag :]
        specs.append((initial, taps))
    return specs


def _split_result(result: Any) -> tuple[list[Variable], list[tuple[SharedVariable, Variable]], bool]:
    """(outputs, updates, single) from what ``fn`` returned."""
    updates: Any = None
    if isinstance(result, Mapping):
        outputs, updates = [], result
    elif isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping):
        outputs, updates = result
    else:
        outputs = result
    single = outputs is not None and not isinstance(outputs, list | tuple)
    outputs = [as_variable(o) for o in _listify(outputs)]
    pairs = list((updates or {}).items())
    for var, _ in pairs:
        if not isinstance(var, SharedVariable):
            raise SymgraphTypeError(f"scan: the step function's updates must be for shared variables, got {var!r}")
    return outputs, [(var, as_variable(value)) for var, value in pairs], single


def _fit_state(value: Variable, initial: Variable, i: int) -> Variable:
    """The step's new value for a fed-back output, in the initial value's dtype."""
    if value.ndim != initial.ndim - 1:
        raise SymgraphTypeError(f"scan: output {i} has type {value.type}, but its initial value has rows of "
                                f"{initial.ndim - 1} dimensions ({initial.type})")  # fmt: skip
    if value.dtype != initial.dtype:
        if not np.can_cast(value.dtype, initial.dtype, "same_kind"):
            raise SymgraphTypeError(f"scan: output {i} is {value.dtype} but its initial value is {initial.dtype}")
        value = cast(value, initial.dtype)
    for a, b in zip(value.type.shape, initial.type.shape[1:]):
        if a is not None and b is not None and a != b:
            raise SymgraphTypeError(f"scan: output {i} has shape {value.type.shape}, its initial value rows "
                                    f"{initial.type.shape[1:]}")  # fmt: skip
    return value


def _steps(specs: list[tuple[Variable, list[int]]], n_steps: Any) -> Variable:
    """The number of steps: ``n_steps`` if given, else what the shortest sequence allows."""
    if n_steps is not None:
        n = as_variable(n_steps)
        if n.ndim != 0 or n.dtype[0] not in "iu":
            raise SymgraphTypeError(f"scan: n_steps must be an integer scalar, got {n.type}")
        return cast(n, "int64") if n.dtype != "int64" else n
    if not specs:
        raise SymgraphValueError("scan: give sequences or n_steps")
    lengths = [shape_i(seq, 0) - (max(taps) - min(taps)) for seq, taps in specs]
    n = lengths[0]
    for other in lengths[1:]:
        n = minimum(n, other)
    return as_variable(n, dtype="int64")


def scan(fn: Callable, sequences: Any = None, outputs_info: Any = None, non_sequences: Any = None,
         n_steps: Any = None, go_backwards: bool = False, truncate_gradient: int = -1, strict: bool = False,
         name: str | None = None) -> tuple[Any, OrderedDict]:  # fmt: skip
    """Repeat ``fn`` over the rows of ``sequences``, feeding back outputs; returns ``(outputs, updates)``.

    ``sequences``: variables (iterated on axis 0) or ``dict(input=x, taps=[-1, 0, 1])``. ``outputs_info``: per
    output, an initial value (fed back as tap -1), ``dict(initial=x0, taps=[-2, -1])`` (``x0`` has one row per
    lag unless the taps are just [-1]), or None (not fed back). ``non_sequences``: variables every step reads.
    ``n_steps``: the number of steps (default: what the sequences allow). ``go_backwards``: iterate the sequences
    from the end (outputs stay in the order computed). ``truncate_gradient``: backpropagate through at most that
    many steps (-1: all). ``strict``: every shared variable the body reads must be among ``non_sequences``.
    """
    seq_specs = _sequence_specs(sequences)
    out_specs = _output_specs(outputs_info)
    non_seqs = [as_variable(v) for v in _listify(non_sequences)]
    n = _steps(seq_specs, n_steps)
    if go_backwards:
        seq_specs = [(seq[::-1], taps) for seq, taps in seq_specs]
    # placeholders, in fn's argument order
    seq_args, seq_rows = [], []
    for seq, taps in seq_specs:
        for tap in taps:
            start = tap - min(taps)
            ph = placeholder(seq, drop_leading=True, name=f"{seq.name or 'seq'}[t{tap:+d}]")
            seq_args.append(ph)
            seq_rows.append((ph, seq[start : start + n]))
    tap_args: list[list[Variable]] = []
    for k, spec in enumerate(out_specs):
        if spec is not None:
            initial, taps = spec
            tap_args.append([placeholder(initial, drop_leading=True, name=f"out{k}[t{tap:+d}]") for tap in taps])
    non_seq_args = [placeholder(v) for v in non_seqs]
    step = Variable(TensorType("int64", ()), name="step")
    result = fn(*seq_args, *[v for args in tap_args for v in args], *non_seq_args)
    outputs, updates, single = _split_result(result)
    if len(outputs) < len(out_specs):
        raise SymgraphValueError(f"scan: fn returned {len(outputs)} outputs but outputs_info has {len(out_specs)}")
    out_specs += [None] * (len(outputs) - len(out_specs))

    states = [(k, spec) for k, spec in enumerate(out_specs) if spec is not None]
    state_values = [_fit_state(outputs[k], spec[0], k) for k, spec in states]
    nit = [k for k, spec in enumerate(out_specs) if spec is None]
    # shared variables updated by the body are extra states; only their final value is returned
    update_values = []
    for var, value in updates:
        value = _fit_state(value, dimshuffle(var, ["x", *range(var.ndim)]), -1)
        update_values.append((var, value))
    body_outputs = state_values + [v for _, v in update_values] + [outputs[k] for k in nit]
    bound = [step, *seq_args, *[v for a in tap_args for v in a], *non_seq_args]
    update_args = [placeholder(var, name=var.name) for var, _ in update_values]
    replace_updated = {var: ph for (var, _), ph in zip(update_values, update_args)}
    body_outputs = clone_replace(body_outputs, replace_updated) if replace_updated else body_outputs
    bound += update_args

    randoms = [v for v in graph_inputs(body_outputs) if is_random_state(v)]
    listed = {id(v) for v in non_seqs}
    free = [v for v in free_variables(body_outputs, bound, randoms) if id(v) not in listed]
    if strict:
        loose = [v for v in free if isinstance(v, SharedVariable) and not is_random_state(v)]
        if loose:
            raise SymgraphValueError(f"scan(strict=True): the step function reads {loose} without non_sequences")
    free_args = [placeholder(v) for v in free]
    forks = {ph: random_fork(ph, step) for v, ph in zip(free, free_args) if is_random_state(v)}
    inner_outputs = clone_replace(body_outputs, dict(zip(free, free_args))) if free else body_outputs
    if forks:
        inner_outputs = clone_replace(inner_outputs, forks)
    # inner inputs: step, sequence rows, state taps (the updated shared variables' last), non-sequences
    inner_inputs = [step, *[ph for ph, _ in seq_rows], *[v for a in tap_args for v in a], *update_args]
    inner_inputs += non_seq_args + free_args
    op = Scan(
        inner_inputs=tuple(inner_inputs),
        inner_outputs=tuple(inner_outputs),
        n_seqs=len(seq_rows),
        taps=tuple(tuple(spec[1]) for _, spec in states) + tuple((-1,) for _ in update_values),
        n_nit=len(nit),
        keep_last=tuple(False for _ in states) + tuple(True for _ in update_values),
        name=name or "scan",
        truncate_gradient=truncate_gradient,
    )
    inits = [spec[0] for _, spec in states] + [dimshuffle(var, ["x", *range(var.ndim)]) for var, _ in update_values]
    results = op(n, *[s for _, s in seq_rows], *inits, *non_seqs, *free)
    results = results if isinstance(results, list) else [results]
    n_states = len(states)
    by_position = {k: results[i] for i, (k, _) in enumerate(states)}
    by_position.update((k, results[n_states + len(update_values) + j]) for j, k in enumerate(nit))
    outs = [by_position[k] for k in range(len(outputs))]
    new_updates = OrderedDict((var, results[n_states + j]) for j, (var, _) in enumerate(update_values))
    return (outs[0] if single and len(outs) == 1 else outs), new_updates


def map(fn: Callable, sequences: Any, non_sequences: Any = None, go_backwards: bool = False,  # noqa: A001
        name: str | None = None) -> tuple[Any, OrderedDict]:  # fmt: skip
    """``fn`` applied to each row of ``sequences`` (a scan without fed-back outputs)."""
    return scan(fn, sequences, None, non_sequences, go_backwards=go_backwards, name=name or "map")


def reduce(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any = None,
           go_backwards: bool = False, name: str | None = None) -> tuple[Any, OrderedDict]:  # fmt: skip
    """The final value of a scan (``fn(row, accumulator) -> accumulator``)."""
    outputs, updates = scan(fn, sequences, outputs_info, non_sequences, go_backwards=go_backwards,
                            name=name or "reduce")  # fmt: skip
    last = [o[-1] for o in outputs] if isinstance(outputs, list) else outputs[-1]
    return last, updates


def foldl(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any = None,
          name: str | None = None) -> tuple[Any, OrderedDict]:  # fmt: skip
    """``reduce`` from the first row to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, name=name or "foldl")


def foldr(fn: Callable, sequences: Any, outputs_info: Any, non_sequences: Any = None,
          name: str | None = None) -> tuple[Any, OrderedDict]:  # fmt: skip
    """``reduce`` from the last row to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, name=name or "foldr")
