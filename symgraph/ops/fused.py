"""FusedElemwise: a program of scalar ops, and reductions of their results, run as one loop over memory.

The fusion rewrite (``symgraph.rewrite.fusion``) replaces groups of Elemwise nodes, and the reductions they
feed, by one FusedElemwise node. Everything a code generator needs is in the op's ``Program``, a frozen,
hashable value:

- slots: slot ``k < n_inputs`` is node input ``k``; slot ``n_inputs + j`` is the result of step ``j``;
- ``steps``: each applies a ScalarOp to earlier slots, with its computation and result dtypes spelled out
  (exactly ``ScalarOp.dtypes`` of the argument dtypes, so a loop never promotes implicitly);
- ``outputs``: a step's slot, either elementwise (the whole loop) or reduced (kind, axes, dtype).

Every step is evaluated over the loop shape, the broadcast of all inputs (an input of lower ndim gets leading
length-1 axes); as in Elemwise, a runtime length 1 on an axis not declared static-1 is refused. Constants are
ordinary node inputs. ``to_graph`` turns a program back into Elemwise/Reduce nodes, ``from_graph`` builds it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from symgraph.errors import SymgraphValueError
from symgraph.grad import Lop
from symgraph.graph import Apply, Variable, as_variable, toposort
from symgraph.op import Op
from symgraph.ops import reduce as reductions
from symgraph.ops.alloc import broadcast_to
from symgraph.ops.elemwise import Elemwise, can_hold, check_runtime_broadcast
from symgraph.ops.lengths import lengths_of
from symgraph.ops.reduce import Reduce
from symgraph.ops.scalar import ScalarOp
from symgraph.types import DTYPES, TensorType, broadcast_static

__all__ = ["FusedElemwise", "Program", "Step", "Output", "REDUCTIONS"]

REDUCTIONS = ("sum", "prod", "max", "min", "all", "any")  # Reduce kinds a program can hold (all associative)


@functools.cache
def _dtypes(op: ScalarOp, in_dtypes: tuple[str, ...]) -> tuple[str, str]:
    return op.dtypes(in_dtypes)


@dataclass(frozen=True)
class Step:
    """``op`` applied to the slots ``args``.

    The arguments are converted to ``comp_dtype`` (except a switch's condition, argument 0, read as is, and
    a cast's operand), then ``op`` computes, giving ``out_dtype`` (the dtype of this step's slot).
    """

    op: ScalarOp
    args: tuple[int, ...]
    comp_dtype: str
    out_dtype: str


@dataclass(frozen=True)
class Output:
    """An output of the program: the value of ``slot``, elementwise (``reduce`` None), or reduced.

    ``reduce``: one of REDUCTIONS, over the loop axes ``axes`` (sorted; they are dropped from the output).
    ``dtype``: the output's dtype; elementwise: the slot's; max/min: the slot's; all/any: bool; sum/prod: the
    accumulator dtype (as Reduce's ``dtype``, NumPy's default when Reduce had None).
    """

    slot: int
    dtype: str
    reduce: str | None = None
    axes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Program:
    """Steps over input slots, and the outputs; validated on construction (SymgraphValueError)."""

    input_dtypes: tuple[str, ...]
    steps: tuple[Step, ...]
    outputs: tuple[Output, ...]

    def __post_init__(self) -> None:
        dtypes = list(self.input_dtypes)
        if not all(d in DTYPES for d in dtypes):
            raise SymgraphValueError(f"Program: input dtypes {self.input_dtypes} must be names from {DTYPES}")
        for j, step in enumerate(self.steps):
            if not isinstance(step.op, ScalarOp):
                raise SymgraphValueError(f"Program: step {j} has op {step.op!r}, not a ScalarOp")
            nin = step.op.nin
            if len(step.args) != nin if nin > 0 else len(step.args) < 2:
                raise SymgraphValueError(f"Program: step {j} ({step.op}) has {len(step.args)} arguments")
            if not all(isinstance(a, int) and 0 <= a < len(dtypes) for a in step.args):
                raise SymgraphValueError(f"Program: step {j} reads slots {step.args}; only slots < {len(dtypes)} exist")
            try:
                expected = _dtypes(step.op, tuple(dtypes[a] for a in step.args))
            except TypeError as err:
                raise SymgraphValueError(f"Program: step {j} ({step.op}): {err}") from err
            if (step.comp_dtype, step.out_dtype) != expected:
                raise SymgraphValueError(
                    f"Program: step {j} ({step.op}) on {[dtypes[a] for a in step.args]} computes in {expected[0]} "
                    f"giving {expected[1]}, not {step.comp_dtype} giving {step.out_dtype}"
                )
            dtypes.append(step.out_dtype)
        if not self.outputs or len(set(self.outputs)) != len(self.outputs):
            raise SymgraphValueError("Program: needs one or more outputs, all different")
        for k, out in enumerate(self.outputs):
            if not len(self.input_dtypes) <= out.slot < len(dtypes):
                raise SymgraphValueError(f"Program: output {k} reads slot {out.slot}, which is not a step's")
            if out.reduce is None and out.axes or out.reduce not in (None, *REDUCTIONS):
                raise SymgraphValueError(f"Program: output {k} reduces ({out.reduce}) over axes {out.axes}")
            if out.axes != tuple(sorted(set(out.axes))) or any(a < 0 for a in out.axes):
                raise SymgraphValueError(f"Program: output {k}: axes {out.axes} must be sorted, distinct and >= 0")
            if out.reduce in ("sum", "prod"):  # the accumulator dtype is a choice
                allowed = DTYPES
            else:
                allowed = ("bool",) if out.reduce in ("all", "any") else (dtypes[out.slot],)
            if out.dtype not in allowed:
                raise SymgraphValueError(f"Program: output {k} ({out.reduce or 'elementwise'}) has dtype {out.dtype}")
        elementwise = [o.slot for o in self.outputs if o.reduce is None]
        if len(set(elementwise)) != len(elementwise):
            raise SymgraphValueError("Program: a slot is an elementwise output twice")

    def slot_dtype(self, slot: int) -> str:
        n = len(self.input_dtypes)
        return self.input_dtypes[slot] if slot < n else self.steps[slot - n].out_dtype

    def __str__(self) -> str:
        return _render(self)


@dataclass(frozen=True)
class FusedElemwise(Op):
    """Run ``program`` over the broadcast shape of the inputs; one output per program output.

    ``inplace``: (output, input) pairs; that elementwise output is written into that input's memory
    (``destroy_map``), which must have the output's dtype and run-time shape (``can_hold``).
    """

    program: Program
    inplace: tuple[tuple[int, int], ...] = ()

    @property
    def destroy_map(self) -> dict[int, int]:
        return dict(self.inplace)

    # -- building ------------------------------------------------------------------------------
    def make_node(self, *inputs: Any) -> Apply:
        inputs = [as_variable(v) for v in inputs]
        prog = self.program
        if tuple(v.dtype for v in inputs) != prog.input_dtypes:
            raise self.type_error(inputs, f"expects inputs of dtypes {prog.input_dtypes}")
        loop = _loop_static(inputs)
        if loop is None:
            raise self.value_error(inputs, f"static shapes {[v.type.shape for v in inputs]} do not broadcast")
        types = []
        for out in prog.outputs:
            if any(a >= len(loop) for a in out.axes):
                raise self.value_error(inputs, f"reduction axes {out.axes} out of range for {len(loop)} dimensions")
            types.append(TensorType(out.dtype, tuple(d for a, d in enumerate(loop) if a not in out.axes)))
        outs, ins = (set(side) for side in zip(*self.inplace)) if self.inplace else (set(), set())
        if (
            len(outs) < len(self.inplace)
            or len(ins) < len(self.inplace)
            or not (outs <= set(range(len(types))) and ins <= set(range(len(inputs))))
        ):
            raise self.value_error(inputs, f"invalid inplace pairs {self.inplace}")
        for o, i in self.inplace:
            if prog.outputs[o].reduce is not None or not can_hold(inputs[i].type, types[o]):
                raise self.type_error(inputs, f"output {o} ({types[o]}) cannot be written into input {i}")
        return Apply(self, inputs, types)

    def inplace_variant(self, output_index: int, input_index: int) -> FusedElemwise | None:
        """This op writing elementwise output ``output_index`` into input ``input_index`` (the inplace rewrite's
        protocol; it checks that the input can hold the output), or None for a reduction or another dtype."""
        out = self.program.outputs[output_index]
        if (
            out.reduce is not None
            or out.dtype != self.program.input_dtypes[input_index]
            or any(o == output_index or i == input_index for o, i in self.inplace)
        ):
            return None
        return replace(self, inplace=tuple(sorted(self.inplace + ((output_index, input_index),))))

    @classmethod
    def from_graph(
        cls, inputs: Sequence[Variable], outputs: Sequence[Variable], nodes: Sequence[Apply] | None = None
    ) -> FusedElemwise:
        """The op computing ``outputs`` from ``inputs``, for a graph of Elemwise nodes between them, optionally
        topped by Reduce nodes (REDUCTIONS) giving some of the outputs. ``nodes``: those nodes in topological
        order, when the caller has them (by default they are found from the outputs)."""
        slots = {v: k for k, v in enumerate(inputs)}
        steps, reduced = [], {}
        for node in toposort(outputs, blockers=inputs) if nodes is None else nodes:
            op = node.op
            if isinstance(op, Reduce) and node.outputs[0] in outputs and node.inputs[0] in slots:
                reduced[node.outputs[0]] = Output(slots[node.inputs[0]], node.outputs[0].dtype, op.kind, op.axes)
                continue
            if type(op) is not Elemwise:
                raise SymgraphValueError(f"FusedElemwise.from_graph: cannot fuse {op}")
            missing = [v for v in node.inputs if v not in slots]
            if missing:
                raise SymgraphValueError(f"FusedElemwise.from_graph: {missing[0]!r} is not among the inputs")
            args = tuple(slots[v] for v in node.inputs)
            comp, out = _dtypes(op.scalar_op, tuple(v.dtype for v in node.inputs))
            steps.append(Step(op.scalar_op, args, comp, out))
            slots[node.outputs[0]] = len(slots)
        program_outputs = tuple(
            reduced[v] if v in reduced else Output(slots[v], v.dtype) if v in slots else None for v in outputs
        )
        if None in program_outputs:
            raise SymgraphValueError("FusedElemwise.from_graph: every output must be computed from the inputs")
        return cls(Program(tuple(v.dtype for v in inputs), tuple(steps), program_outputs))

    # -- computing -----------------------------------------------------------------------------
    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        check_runtime_broadcast(node, inputs)
        shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
        values = list(inputs)
        for step in self.program.steps:
            values.append(step.op.compute([values[a] for a in step.args], step.comp_dtype, step.out_dtype))
        results: list[np.ndarray] = []
        for out in self.program.outputs:
            value = values[out.slot]
            if out.reduce is not None:
                kwargs = {"dtype": out.dtype} if out.reduce in ("sum", "prod") else {}
                value = np.asarray(getattr(np, out.reduce)(np.broadcast_to(value, shape), axis=out.axes, **kwargs))
            elif value.shape != shape:
                value = np.broadcast_to(value, shape)
            if value.base is not None or any(np.may_share_memory(value, x) for x in [*inputs, *results]):
                value = value.copy()  # a broadcast view, or an input returned as is (floor of an int...)
            results.append(value)
        for o, i in self.inplace:
            np.copyto(inputs[i], results[o])
            results[o] = inputs[i]
        return results

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple]) -> list[tuple]:
        loop = _loop_lengths(node.inputs, input_shapes)
        return [tuple(d for a, d in enumerate(loop) if a not in out.axes) for out in self.program.outputs]

    def to_graph(self, inputs: Sequence[Any]) -> list[Variable]:
        """The program as a graph of Elemwise and Reduce nodes on ``inputs`` (one variable per output)."""
        node = self.make_node(*inputs)
        values: list[Variable] = list(node.inputs)
        for step in self.program.steps:
            values.append(Elemwise(step.op)(*(values[a] for a in step.args)))
        bcast = tuple(d == 1 for d in _loop_static(node.inputs))
        results = []
        for out in self.program.outputs:
            value = values[out.slot]
            if value.type.broadcastable != bcast:  # computed from inputs that broadcast: spread it to the loop
                value = broadcast_to(value, _loop_lengths(node.inputs, [lengths_of(v) for v in node.inputs]))
            if out.reduce is not None:
                dtype = {"dtype": out.dtype} if out.reduce in ("sum", "prod") else {}
                value = getattr(reductions, out.reduce)(value, out.axes, **dtype)
            results.append(value)
        return results

    def vjp(self, node: Apply, output_grads: Sequence[Variable | None]) -> list[Variable | None]:
        """The gradient of the program expanded into Elemwise/Reduce nodes (``to_graph``)."""
        outs = self.to_graph(node.inputs)
        seeds = [(o, g) for o, g in zip(outs, output_grads) if g is not None and o.type.is_float]
        wrt = [v for v in node.inputs if v.type.is_float]
        if not seeds or not wrt:
            return [None] * len(node.inputs)
        grads = iter(Lop([o for o, _ in seeds], wrt, [g for _, g in seeds]))
        return [next(grads) if v.type.is_float else None for v in node.inputs]

    def __str__(self) -> str:
        pairs = ", ".join(f"o{o}->i{i}" for o, i in self.inplace)
        return f"Fused{{{self.program}{'; inplace ' + pairs if pairs else ''}}}"


def _loop_static(inputs: Sequence[Variable]) -> tuple | None:
    """The static loop shape: the inputs' static shapes broadcast (lower ndims padded on the left)."""
    ndim = max((v.ndim for v in inputs), default=0)
    return broadcast_static(*((1,) * (ndim - v.ndim) + v.type.shape for v in inputs))


def _loop_lengths(inputs: Sequence[Variable], shapes: Sequence[Sequence[Any]]) -> tuple:
    """The symbolic loop shape: static lengths where known, else an input's length that is not statically 1."""
    loop = _loop_static(inputs)
    padded = [(1,) * (len(loop) - len(s)) + tuple(s) for s in shapes]
    return tuple(
        static if static is not None else next((s[a] for s in padded if not (isinstance(s[a], int) and s[a] == 1)), 1)
        for a, static in enumerate(loop)
    )


# -- printing -------------------------------------------------------------------------------------
_INFIX = {
    "add": ("+", 1), "sub": ("-", 1), "mul": ("*", 2), "true_div": ("/", 2), "floor_div": ("//", 2),
    "mod": ("%", 2), "pow": ("**", 4), "eq": ("==", 0), "neq": ("!=", 0), "lt": ("<", 0), "le": ("<=", 0),
    "gt": (">", 0), "ge": (">=", 0),
}  # fmt: skip
_ATOM = 5


def _render(program: Program) -> str:
    """Expressions over i0, i1...; steps used more than once are bound to names t0, t1... first."""
    n = len(program.input_dtypes)
    uses = [0] * (n + len(program.steps))
    for step in program.steps:
        for a in step.args:
            uses[a] += 1
    for out in program.outputs:
        uses[out.slot] += 1
    text: list[tuple[str, int]] = [(f"i{k}", _ATOM) for k in range(n)]
    bindings = []
    for j, step in enumerate(program.steps):
        expr = _expression(step, [text[a] for a in step.args])
        if uses[n + j] > 1:
            bindings.append(f"t{len(bindings)}={expr[0]}")
            expr = (f"t{len(bindings) - 1}", _ATOM)
        text.append(expr)
    outputs = []
    for out in program.outputs:
        body = text[out.slot][0]
        if out.reduce is not None:
            dtype = f":{out.dtype}" if out.dtype != program.slot_dtype(out.slot) else ""
            body = f"{out.reduce}{{{','.join(map(str, out.axes))}{dtype}}}({body})"
        outputs.append(body)
    return "; ".join(bindings + [", ".join(outputs)])


def _expression(step: Step, args: list[tuple[str, int]]) -> tuple[str, int]:
    """(text, precedence) of one step applied to its arguments' texts."""
    name = step.op.name
    if name == "neg":
        inner, prec = args[0]
        return "-" + (f"({inner})" if prec <= 3 else inner), 3
    if name not in _INFIX:
        return f"{step.op}({', '.join(t for t, _ in args)})", _ATOM
    symbol, prec = _INFIX[name]

    def bare(i: int, text: str, p: int) -> bool:  # left-associative; a negation after an operator gets parens
        return p > prec and not (i and text.startswith("-")) or p == prec and i == 0 and name != "pow"

    return symbol.join(t if bare(i, t, p) else f"({t})" for i, (t, p) in enumerate(args)), prec
