"""function(): turn symbolic outputs, updates and givens into a compiled callable."""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from backends import get_backend  # the registry only: it imports a backend when its name is asked for
from symgraph.config import config
from symgraph.errors import CallError, MissingInputError, SymgraphTypeError, SymgraphValueError, UnusedInputError
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant, Variable, ancestors, as_variable, clone_replace, graph_inputs
from symgraph.ops.elemwise import cast
from symgraph.rewrite import RewriteReport, inner_rewrites, rewrite_graph
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
        try:
            value = as_variable(value)
        except TypeError as error:
            raise SymgraphTypeError(f"updates: the update of {var!r} is a {type(value).__name__}: {error}") from None
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


@dataclass(frozen=True)
class _Spec:
    """What ``function()`` was asked to compile, checked: a Function is rebuilt from it when unpickled or copied
    without its updates."""

    inputs: list[Variable]
    outputs: list[Variable]
    single: bool
    updates: list[tuple[SharedVariable, Variable]]
    givens: dict[Variable, Variable]
    backend: str
    allow_input_downcast: bool
    rewrites: Rewrites
    trace: bool
    name: str | None

    def variables(self) -> list[Variable]:
        """Every variable of the graph, each after those it is computed from (pickling and copying them in this
        order keeps the recursion shallow however deep the graph)."""
        roots = [*self.inputs, *self.outputs, *(v for pair in self.updates for v in pair)]
        return ancestors([*roots, *(v for pair in self.givens.items() for v in pair)])


class Function:
    """A compiled graph: call it with positional or keyword inputs; updates are written back after.

    Calls that update shared variables hold the locks of every shared variable they read or update, so calls
    from several threads never lose an update; calls of a function without updates take no lock and run in
    parallel. ``pickle`` and ``copy.deepcopy`` work (see ``copy``)."""

    def __init__(self, spec: _Spec, on_unused_input: str = "raise") -> None:
        self._spec = spec
        self.name = spec.name
        self.inputs = inputs = spec.inputs
        self.trust_input = False
        self.single = spec.single
        self.allow_input_downcast = spec.allow_input_downcast
        outputs, updates, givens = spec.outputs, spec.updates, spec.givens
        targets = (
            clone_replace(outputs + [v for _, v in updates], givens) if givens else outputs + [v for _, v in updates]
        )
        explicit = {id(v) for v in inputs}
        self.shared = []
        roots = graph_inputs(targets)
        for var in roots:
            if isinstance(var, SharedVariable):
                if id(var) not in explicit:
                    self.shared.append(var)
            elif not isinstance(var, Constant) and id(var) not in explicit:
                where = f" (created at {var.created_at})" if var.created_at else ""
                raise MissingInputError(
                    f"function() needs a value for {var!r}{where}: add it to the inputs or to givens"
                )
        _check_unused(inputs, {id(v) for v in roots}, on_unused_input)
        self.update_vars = [var for var, _ in updates]
        self.n_outputs = len(outputs)
        self.fgraph = FunctionGraph(inputs + self.shared, targets)
        position = {id(var): len(inputs) + i for i, var in enumerate(self.shared)}
        if not any(_needs_shape_check(var, value) for var, value in updates):  # else a check after the call may fail
            self.fgraph.update_map = {  # the inplace rewrite may write these updates into their storage
                len(outputs) + j: position[id(var)] for j, var in enumerate(self.update_vars) if id(var) in position
            }
        self.rewrite_report: RewriteReport = rewrite_graph(self.fgraph, spec.rewrites)
        if spec.trace:
            print(self.rewrite_report, file=sys.stderr)
        self.backend = spec.backend
        with inner_rewrites(spec.rewrites):
            self.thunk = get_backend(spec.backend).compile(self.fgraph)
        self._storage = [position.get(id(var)) for var in self.update_vars]  # each updated value's place in a call
        index = {var: p for p, var in enumerate(self.fgraph.inputs)}
        bases = {self.fgraph.view_base(n.inputs[i]) for n in self.fgraph.apply_nodes for i in n.op.destroy_map.values()}
        self._overwritten = sorted(index[b] for b in bases if b in index)  # storage updated in place
        self._positions = {v.name: i for i, v in enumerate(inputs) if v.name}
        self._names = [f"input {i} ({var.name or var.type})" for i, var in enumerate(inputs)]
        self._may_alias = _may_alias(self.fgraph, len(outputs))
        self._bind_shared()

    def _bind_shared(self) -> None:
        """The locks a call holds (those of every shared variable it reads or updates, in one global order: no
        deadlock), none without updates; the names that update errors give."""
        used = {id(var): var for var in self.shared + self.update_vars}
        self._locks = [var.lock for _, var in sorted(used.items())] if self.update_vars else []
        self._update_names = [f"update of {var.label}" for var in self.update_vars]

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
        ndarrays of the inputs' exact dtypes and ndims). A call that fails changes no shared variable."""
        values = list(args) if self.trust_input and not kwargs else self._arguments(args, kwargs)
        if not self._locks:
            return self._run(values)
        for lock in self._locks:
            lock.acquire()
        try:
            return self._run(values)
        finally:
            for lock in reversed(self._locks):
                lock.release()

    def _run(self, values: list[Any]) -> np.ndarray | list[np.ndarray]:
        values += [var.get_value(borrow=True) for var in self.shared]
        if self._overwritten:
            _unshare(values, self._overwritten)
        results = self.thunk(values)  # writes into shared storage only in its last node (the inplace rewrite)
        n = self.n_outputs
        may_alias = self._may_alias
        kept = []  # arrays handed out so far: nothing returned may alias another returned array
        new_values = []
        for k, (var, own) in enumerate(zip(self.update_vars, self._storage)):
            value = results[n + k]
            if may_alias[n + k] and not (own is not None and value is values[own]):  # not its own storage
                value = _detached(value, values + kept)
            kept.append(value)
            new_values.append(var.type.filter(value, name=self._update_names[k]))  # all checked before any is set
        for var, value in zip(self.update_vars, new_values):
            var.set_value(value, borrow=True)
        outputs = results[:n]
        for i in range(n):
            if may_alias[i]:
                outputs[i] = _detached(outputs[i], values + kept)
            kept.append(outputs[i])
        return outputs[0] if self.single else outputs

    def copy(self, share_memory: bool = False, swap: Mapping[SharedVariable, SharedVariable] | None = None,
             delete_updates: bool = False, name: str | None = None) -> Function:  # fmt: skip
        """A copy of this function (Theano's ``Function.copy``). With ``share_memory`` it reads and updates the
        same shared variables, else copies of them (holding their current values); ``swap`` maps shared
        variables of this function to others of the same type that the copy uses instead; ``delete_updates``
        compiles the copy without updates; ``name`` names it."""
        swap = dict(swap or {})
        for old, new in swap.items():
            if not any(old is var for var in self.shared + self.update_vars):
                raise SymgraphValueError(f"copy(swap=...): {old!r} is not a shared variable of this function")
            if not isinstance(new, SharedVariable) or new.type != old.type:
                raise SymgraphTypeError(f"copy(swap=...): {old!r} can only be swapped for a shared {old.type}")
        memo: dict[int, Any] = {id(var): var for var in self.shared + self.update_vars} if share_memory else {}
        memo.update((id(old), new) for old, new in swap.items())
        spec = self._copied_spec(memo)
        spec = replace(spec, name=self.name if name is None else name)
        if delete_updates:
            copied = Function(replace(spec, updates=[]), on_unused_input="ignore")
            copied.trust_input = self.trust_input
            return copied
        return self._rebound(spec, memo)

    def _copied_spec(self, memo: dict[int, Any]) -> _Spec:
        copy.deepcopy(self._spec.variables(), memo)  # roots first: shallow recursion
        return copy.deepcopy(self._spec, memo)

    def _rebound(self, spec: _Spec, memo: dict[int, Any]) -> Function:
        """This compiled function running on the copied graph ``spec`` (whose shared variables ``memo`` maps)."""
        copied = copy.copy(self)
        copied._spec, copied.name, copied.inputs = spec, spec.name, spec.inputs
        copied.shared = [memo.get(id(var), var) for var in self.shared]
        copied.update_vars = [memo.get(id(var), var) for var in self.update_vars]
        copied._bind_shared()
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> Function:
        """A copy with its own copies of the shared variables (shared with other objects copied in the same
        ``deepcopy`` call), running the same compiled code."""
        return self._rebound(self._copied_spec(memo), memo)

    def __reduce__(self) -> tuple:
        """Pickled as its graph and options (shared variables with their values); loading compiles it again,
        which the backends' compile caches make quick."""
        return _load_function, (self._spec.variables(), self._spec, self.trust_input)

    @property
    def source(self) -> str | None:
        """Generated source code, for backends that generate code."""
        return getattr(self.thunk, "source", None)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return f"Function({name}{len(self.inputs)} inputs, {self.n_outputs} outputs, backend={self.backend!r})"


def _load_function(variables: list[Variable], spec: _Spec, trust_input: bool) -> Function:
    """Unpickle a Function: compile its graph (``variables`` are there to be unpickled first)."""
    function = Function(spec, on_unused_input="ignore")
    function.trust_input = trust_input
    return function


ON_UNUSED_INPUT = ("raise", "warn", "ignore")


def _check_unused(inputs: list[Variable], used: set[int], on_unused_input: str) -> None:
    """Raise (or warn) naming the inputs that the outputs, updates and givens do not use."""
    if on_unused_input not in ON_UNUSED_INPUT:
        raise SymgraphValueError(f"on_unused_input must be one of {ON_UNUSED_INPUT}, got {on_unused_input!r}")
    unused = [f"input {i} ({var!r})" for i, var in enumerate(inputs) if id(var) not in used]
    if not unused or on_unused_input == "ignore":
        return
    message = (
        f"function() was given {', '.join(unused)}, which the outputs, updates and givens do not use; "
        "remove it, or pass on_unused_input='warn' or 'ignore'"
    )
    if on_unused_input == "raise":
        raise UnusedInputError(message)
    warnings.warn(message, stacklevel=4)


def _needs_shape_check(var: SharedVariable, value: Variable) -> bool:
    """Whether an update's value may break its shared variable's static shape (checked after each call)."""
    return any(want is not None and got is None for want, got in zip(var.type.shape, value.type.shape))


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
             trace: bool | None = None, trust_input: bool = False, on_unused_input: str = "raise",
             name: str | None = None) -> Function:  # fmt: skip
    """Compile ``outputs`` as a function of ``inputs``.

    ``updates``: dict or pairs (shared variable, new value expression), applied after each call; a shared
    variable the graph reads that has a ``default_update`` and no explicit update gets that one.
    ``givens``: dict or pairs (variable, replacement) substituted before compiling.
    ``backend``: a name from the ``backends`` registry (default ``config.backend``).
    ``rewrites``: "fast_run", "fast_compile", None, or tags/rewrite names to include ("-name" excludes);
    default ``config.rewrites``. ``trace``: print which rewrites fired (default ``config.trace_rewrites``);
    the report is kept as ``f.rewrite_report`` either way. ``trust_input``: skip checking and converting the
    inputs at each call (positional ndarrays of the exact dtypes only; ``f.trust_input`` can be set later).
    ``on_unused_input``: what an input that the outputs, updates and givens do not use is: "raise" (an
    ``UnusedInputError``), "warn" or "ignore". ``name``: the function's name (``f.name``).

    A call that fails changes no shared variable: every update is checked before any is written, and the
    inplace rewrite writes an update into its shared variable's storage only in the last node to run, when
    nothing runs after it that could fail.
    """
    if isinstance(inputs, Variable):
        raise SymgraphTypeError(f"function() takes its inputs as a list of variables, got the variable {inputs!r} "
                                "itself: write function([x], ...)")  # fmt: skip
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
    spec = _Spec(
        inputs, outputs, single, updates, givens, backend or config.backend, allow_input_downcast,
        config.rewrites if rewrites == "default" else rewrites, config.trace_rewrites if trace is None else trace,
        name,
    )  # fmt: skip
    compiled = Function(spec, on_unused_input)
    compiled.trust_input = trust_input
    return compiled
