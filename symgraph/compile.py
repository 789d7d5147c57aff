"""function(): turn symbolic outputs, updates and givens into a compiled callable."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backends import get_backend  # the registry only: it imports a backend when its name is asked for
from symgraph.config import config
from symgraph.errors import CallError, MissingInputError, SymgraphTypeError, SymgraphValueError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant, Variable, as_variable, clone_replace, graph_inputs
from symgraph.ops.elemwise import cast
from symgraph.rewrite import RewriteReport, rewrite_graph
from symgraph.shared import SharedVariable

Rewrites = str | Sequence[str] | None


def _pairs(arg: Any, what: str) -> list[tuple[Variable, Any]]:
    if arg is None:
        return []
    items = list(arg.items()) if isinstance(arg, Mapping) else list(arg)
    for item in items:
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise SymgraphValueError(f"{what} must be a dict or a list of (variable, value) pairs, got {item!r}")
    return [tuple(item) for item in items]


def _check_updates(updates: list[tuple[Variable, Any]]) -> list[tuple[SharedVariable, Variable]]:
    seen: set[int] = set()
    checked = []
    for var, value in updates:
        if not isinstance(var, SharedVariable):
            raise SymgraphTypeError(f"updates: {var!r} is not a shared variable")
        if id(var) in seen:
            raise SymgraphValueError(f"updates: {var!r} is updated twice")
        seen.add(id(var))
        value = as_variable(value)
        if value.dtype != var.dtype:
            if not np.can_cast(value.dtype, var.dtype, "same_kind"):
                raise SymgraphTypeError(f"updates: {var!r} is {var.dtype} but its update is {value.dtype}")
            value = cast(value, var.dtype)
        if value.ndim != var.ndim or not all(
            a is None or b is None or a == b for a, b in zip(var.type.shape, value.type.shape)
        ):
            raise SymgraphTypeError(f"updates: {var!r} has type {var.type} but its update has {value.type}")
        checked.append((var, value))
    return checked


def _default_updates(outputs: list[Variable], updates: list[tuple[SharedVariable, Variable]],
                     givens: dict[Variable, Variable]) -> list[tuple[SharedVariable, Variable]]:  # fmt: skip
    """``(var, var.default_update)`` for each shared variable with a default update that the graph reads (through
    the outputs, the updates, the givens' values and the default updates found) and that neither has an explicit
    update nor is replaced by givens (Theano's semantics)."""
    skip = {id(var) for var, _ in updates} | {id(var) for var in givens}
    found: list[tuple[SharedVariable, Variable]] = []
    frontier = [*outputs, *(value for _, value in updates), *givens.values()]
    while frontier:
        new = [
            (var, as_variable(var.default_update))
            for var in graph_inputs(frontier, list(givens))
            if isinstance(var, SharedVariable) and var.default_update is not None and id(var) not in skip
        ]
        skip.update(id(var) for var, _ in new)
        found += new
        frontier = [value for _, value in new]
    return found


def _check_givens(givens: list[tuple[Variable, Any]]) -> dict[Variable, Variable]:
    out = {}
    for old, new in givens:
        if not isinstance(old, Variable):
            raise SymgraphTypeError(f"givens: key {old!r} is not a variable")
        new = as_variable(new, dtype=old.dtype if not isinstance(new, Variable) else None)
        if new.dtype != old.dtype or new.ndim != old.ndim:
            raise SymgraphTypeError(f"givens: {old!r} of type {old.type} cannot be replaced by {new.type}")
        out[old] = new
    return out


class Function:
    """A compiled graph: call it with positional or keyword inputs; updates are written back after."""

    def __init__(self, inputs: list[Variable], outputs: list[Variable], single: bool,
                 updates: list[tuple[SharedVariable, Variable]], givens: dict[Variable, Variable],
                 backend: str, allow_input_downcast: bool, rewrites: Rewrites, trace: bool,
                 trust_input: bool) -> None:  # fmt: skip
        self.inputs = inputs
        self.trust_input = trust_input
        self.single = single
        self.allow_input_downcast = allow_input_downcast
        targets = (
            clone_replace(outputs + [v for _, v in updates], givens) if givens else outputs + [v for _, v in updates]
        )
        explicit = {id(v) for v in inputs}
        self.shared = []
        for var in graph_inputs(targets):
            if isinstance(var, SharedVariable):
                if id(var) not in explicit:
                    self.shared.append(var)
            elif not isinstance(var, Constant) and id(var) not in explicit:
                where = f" (created at {var.created_at})" if var.created_at else ""
                raise MissingInputError(
                    f"function() needs a value for {var!r}{where}: add it to the inputs or to givens"
                )
        self.update_vars = [var for var, _ in updates]
        self.n_outputs = len(outputs)
        self.fgraph = FunctionGraph(inputs + self.shared, targets)
        position = {id(var): len(inputs) + i for i, var in enumerate(self.shared)}
        self.fgraph.update_map = {
            len(outputs) + j: position[id(var)] for j, var in enumerate(self.update_vars) if id(var) in position
        }
        self.rewrite_report: RewriteReport = rewrite_graph(self.fgraph, rewrites)
        if trace:
            print(self.rewrite_report, file=sys.stderr)
        self.backend = backend
        self.thunk = get_backend(backend).compile(self.fgraph)
        self._storage = [position.get(id(var)) for var in self.update_vars]  # each updated value's place in a call
        index = {var: p for p, var in enumerate(self.fgraph.inputs)}
        bases = {self.fgraph.view_base(n.inputs[i]) for n in self.fgraph.apply_nodes for i in n.op.destroy_map.values()}
        self._overwritten = sorted(index[b] for b in bases if b in index)  # storage updated in place
        self._positions = {v.name: i for i, v in enumerate(inputs) if v.name}
        self._names = [f"input {i} ({var.name or var.type})" for i, var in enumerate(inputs)]
        self._may_alias = _may_alias(self.fgraph, len(outputs))

    def _arguments(self, args: tuple, kwargs: dict) -> list[Any]:
        if len(args) > len(self.inputs):
            raise CallError(f"expected at most {len(self.inputs)} inputs, got {len(args)}")
        values: list[Any] = list(args) + [_MISSING] * (len(self.inputs) - len(args))
        for key, value in kwargs.items():
            if key not in self._positions:
                raise CallError(f"unexpected keyword input {key!r}; named inputs: {sorted(self._positions)}")
            pos = self._positions[key]
            if values[pos] is not _MISSING:
                raise CallError(f"input {key!r} given twice")
            values[pos] = value
        for i, value in enumerate(values):
            if value is _MISSING:
                raise CallError(f"missing value for input {i} ({self.inputs[i]!r})")
        return [
            var.type.filter(v, name=name, allow_downcast=self.allow_input_downcast)
            for var, v, name in zip(self.inputs, values, self._names)
        ]

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray | list[np.ndarray]:
        """Run the graph; with ``trust_input`` the positional values are passed on unchecked (they must be
        ndarrays of the inputs' exact dtypes and ndims)."""
        values = list(args) if self.trust_input and not kwargs else self._arguments(args, kwargs)
        values += [var.get_value(borrow=True) for var in self.shared]
        if self._overwritten:
            _unshare(values, self._overwritten)
        results = self.thunk(values)
        n = self.n_outputs
        may_alias = self._may_alias
        kept = []  # arrays handed out so far: nothing returned may alias another returned array
        for k, (var, own) in enumerate(zip(self.update_vars, self._storage)):  # after the call
            value = results[n + k]
            if may_alias[n + k] and not (own is not None and value is values[own]):  # not its own storage
                value = _detached(value, values + kept)
            kept.append(value)
            var.set_value(value, borrow=True)
        outputs = results[:n]
        for i in range(n):
            if may_alias[i]:
                outputs[i] = _detached(outputs[i], values + kept)
            kept.append(outputs[i])
        return outputs[0] if self.single else outputs

    @property
    def source(self) -> str | None:
        """Generated source code, for backends that generate code."""
        return getattr(self.thunk, "source", None)

    def __repr__(self) -> str:
        return f"Function({len(self.inputs)} inputs, {self.n_outputs} outputs, backend={self.backend!r})"


_MISSING = object()


def _detached(result: np.ndarray, arguments: list[np.ndarray]) -> np.ndarray:
    """``result``, copied if it is read-only (a constant) or may share memory with an argument (inputs and
    shared storage)."""
    shared = not result.flags.writeable or any(np.may_share_memory(result, a) for a in arguments)
    return result.copy() if shared else result


def _may_alias(fgraph: FunctionGraph, n_outputs: int) -> list[bool]:
    """For each graph output (outputs, then update values): whether its value may share memory with an
    argument, a constant, or a value returned before it (updates come first), following views and
    in-place writes back to the memory they live in. The others are always fresh memory."""
    roots: list[Variable] = []
    for var in fgraph.outputs:
        while var.owner is not None and var not in fgraph.input_set:
            op = var.owner.op
            source = op.view_map.get(var.index, op.destroy_map.get(var.index))
            if source is None:
                break
            var = var.owner.inputs[source]
        roots.append(var)
    order = list(range(n_outputs, len(roots))) + list(range(n_outputs))
    flags = [False] * len(roots)
    seen: set[Variable] = set()
    for k in order:
        root = roots[k]
        flags[k] = root.owner is None or root in fgraph.input_set or root in seen
        seen.add(root)
    return flags


def _memory_owner(value: Any) -> Any:
    """The object owning an array's memory: the end of its chain of bases."""
    while True:
        if isinstance(value, np.ndarray) and value.base is not None:
            value = value.base
        elif isinstance(value, memoryview) and value.obj is not None:
            value = value.obj
        else:
            return value


def _unshare(values: list[np.ndarray], overwritten: list[int]) -> None:
    """Replace by a copy each storage about to be updated in place that is read-only or whose memory another
    argument reads (a borrowed shared value passed as an input, two shared variables given one array)."""
    owners = [id(_memory_owner(v)) for v in values]
    for p in overwritten:
        if owners.count(owners[p]) > 1 or not values[p].flags.writeable:
            values[p] = values[p].copy()


def _output(i: int, value: Any) -> Variable:
    """Output ``i`` as a variable: a symbolic variable, or a number or array (made a constant)."""
    if isinstance(value, Variable):
        return value
    if value is None or isinstance(value, str | bytes) or np.asarray(value).dtype.kind not in "biuf":
        raise SymgraphTypeError(
            f"function() output {i} is {type(value).__name__} {value!r}; outputs are symbolic variables, numbers "
            "or numeric arrays"
        )
    return as_variable(value)


def function(inputs: Sequence[Variable], outputs: Variable | Sequence[Variable] | None = None,
             updates: Any = None, givens: Any = None, backend: str | None = None,
             allow_input_downcast: bool = False, rewrites: Rewrites = "default",
             trace: bool | None = None, trust_input: bool = False) -> Function:  # fmt: skip
    """Compile ``outputs`` as a function of ``inputs``.

    ``updates``: dict or pairs (shared variable, new value expression), applied after each call; a shared
    variable the graph reads that has a ``default_update`` and no explicit update gets that one.
    ``givens``: dict or pairs (variable, replacement) substituted before compiling.
    ``backend``: a name from the ``backends`` registry (default ``config.backend``).
    ``rewrites``: "fast_run", "fast_compile", None, or tags/rewrite names to include ("-name" excludes);
    default ``config.rewrites``. ``trace``: print which rewrites fired (default ``config.trace_rewrites``);
    the report is kept as ``f.rewrite_report`` either way. ``trust_input``: skip checking and converting the
    inputs at each call (positional ndarrays of the exact dtypes only; ``f.trust_input`` can be set later).

    Updates may be computed in place, into the shared variable's storage (the inplace rewrite); those
    nodes run after every node that does not depend on them. So a call that fails leaves every shared
    variable unchanged, unless it fails in an update or in a node reading an updated value: then the
    updates that ran before keep their new values.
    """
    if isinstance(inputs, Variable):
        raise SymgraphTypeError(f"function() takes a list of input variables, got the variable {inputs!r} itself: "
                                "write function([x], ...)")  # fmt: skip
    inputs = list(inputs)
    for i, var in enumerate(inputs):
        if not isinstance(var, Variable) or isinstance(var, Constant):
            raise SymgraphTypeError(f"function() input {i} must be a symbolic variable, got {var!r}")
        if isinstance(var, SharedVariable):
            raise SymgraphTypeError(f"function() input {i} is a shared variable; shared values are implicit")
        if var.owner is not None:
            raise SymgraphTypeError(f"function() input {i} ({var!r}) is computed by {var.owner.op}; inputs are roots")
        if any(var is other for other in inputs[:i]):
            raise SymgraphValueError(f"function() input {i} ({var!r}) is given twice")
    single = outputs is not None and not isinstance(outputs, list | tuple)
    outputs = [] if outputs is None else [outputs] if single else list(outputs)
    outputs = [_output(i, o) for i, o in enumerate(outputs)]
    givens = _check_givens(_pairs(givens, "givens"))
    updates = _check_updates(_pairs(updates, "updates"))
    updates += _check_updates(_default_updates(outputs, updates, givens))
    return Function(
        inputs, outputs, single, updates, givens, backend or config.backend, allow_input_downcast,
        config.rewrites if rewrites == "default" else rewrites, config.trace_rewrites if trace is None else trace,
        trust_input,
    )  # fmt: skip
