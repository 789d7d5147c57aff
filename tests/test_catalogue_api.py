"""Catalogue: bad function() arguments (inputs, outputs, updates, givens), failed calls that must leave shared
state unchanged, scan and ifelse misuse, and random-stream parameters."""

import numpy as np
import pytest

import symgraph as sg
from tests.catalogue import Fails, Same, call, check, make, params, state


def compiles(make_args, **kwargs):
    """A run function compiling ``function(*make_args(), **kwargs)`` on the backend."""
    return lambda backend: sg.function(*make_args(), backend=backend, **kwargs)


x = sg.vector("x")
w = state(np.zeros(3), "w")
w_int = state(np.zeros(3, "int64"), "w_int")


def static_update():
    ws = state(np.zeros(3), "ws", shape=(3,))
    v = sg.vector("v")
    return dict(inputs=[v], outputs=v.sum(), updates={ws: v})


def update_then_read():
    """The counter's update (c + 1, computed in place) is read by an index that may be out of bounds."""
    i, c = sg.scalar("i", "int64"), state(np.zeros(3), "c")
    return dict(inputs=[i], outputs=(c + 1)[i], updates={c: c + 1})


def update_then_fail_late():
    """An in-place update and a later node that fails (a reshape of the updated value)."""
    n, c = sg.scalar("n", "int64"), state(np.arange(4.0), "c_late")
    new = c * 2
    return dict(inputs=[n], outputs=sg.reshape(new, (n, -1)).sum(), updates={c: new})


def scan_steps():
    v, n = sg.vector("v"), sg.scalar("n", "int64")
    acc = state(np.zeros(()), "acc")
    hs, _ = sg.scan(lambda a, h: h + a, sequences=[v], outputs_info=sg.zeros(()), n_steps=n)
    return dict(inputs=[v, n], outputs=hs, updates={acc: acc + hs.sum()})


def scan_grows():
    v = sg.vector("v")
    hs, _ = sg.scan(lambda h: sg.concatenate([h, h]), outputs_info=v, n_steps=2)
    return dict(inputs=[v], outputs=hs)


def scan_reads():
    m, i = sg.matrix("m"), sg.scalar("i", "int64")
    hs, _ = sg.scan(lambda r, j: r[j], sequences=m, non_sequences=i)
    return dict(inputs=[m, i], outputs=hs)


def scan_two_sequences():
    a, b = sg.vector("a"), sg.vector("b")
    hs, _ = sg.scan(lambda p, q: p * q, sequences=[a, b])
    return dict(inputs=[a, b], outputs=hs)


def lazy_ifelse():
    s, v, i = sg.scalar("s"), sg.vector("v"), sg.scalar("i", "int64")
    return dict(inputs=[s, v, i], outputs=sg.ifelse(s > 0, v[i], sg.constant(0.0)))


def branch_lengths():
    s, a, b = sg.scalar("s"), sg.vector("a"), sg.vector("b")
    return dict(inputs=[s, a, b], outputs=sg.ifelse(s > 0, a, b))


rng = sg.RandomStream(seed=3)


def draws():
    p, std = sg.scalar("p"), sg.scalar("std")
    lo, hi, n = sg.scalar("lo", "int64"), sg.scalar("hi", "int64"), sg.scalar("n", "int64")
    low, high = sg.cast(lo, "float64"), sg.cast(hi, "float64")
    return dict(inputs=[p, std, lo, hi, n], outputs=[
        rng.bernoulli(p, size=(4,)), rng.normal(size=(3,), std=std), rng.integers(lo, hi, size=(4,)),
        rng.uniform(size=(3,), low=low, high=high), rng.normal(size=(n,))])  # fmt: skip


GOOD_DRAW = (0.5, 1.0, 0, 3, 2)


def draw(**bad):
    names = ["p", "std", "lo", "hi", "n"]
    return lambda: tuple(bad.get(k, v) for k, v in zip(names, GOOD_DRAW))


def random_state_unchanged(backend):
    """A failed draw does not advance the stream: the next good call draws what a fresh stream draws first."""
    f = sg.function([p := sg.scalar("p")], (stream := sg.RandomStream(seed=5)).bernoulli(p, size=(8,)),
                    backend=backend)  # fmt: skip
    first = f(0.5)
    stream.seed(5)
    with pytest.raises(sg.SymgraphError):
        f(1.5)
    return np.asarray(np.array_equal(f(0.5), first))


# fmt: off
CASES = [
    # function() arguments
    make("bare-variable-inputs", compiles(lambda: (x, x * 2)), Fails(sg.SymgraphTypeError, ("inputs", "list"))),
    make("none-output", compiles(lambda: ([x], [x, None])), Fails(sg.SymgraphTypeError, ("output 1", "None"))),
    make("str-output", compiles(lambda: ([x], ["abc"])), Fails(sg.SymgraphTypeError, ("output 0", "str"))),
    make("constant-input", compiles(lambda: ([sg.constant(1.0)], x)), Fails(sg.SymgraphTypeError, ("input 0",))),
    make("shared-input", compiles(lambda: ([w], w * 2)), Fails(sg.SymgraphTypeError, ("input 0", "shared"))),
    make("computed-input", compiles(lambda: ([x * 2], x)), Fails(sg.SymgraphTypeError, ("input 0", "mul"))),
    make("input-twice", compiles(lambda: ([x, x], x)), Fails(sg.SymgraphValueError, ("input 1", "twice"))),
    make("missing-input", compiles(lambda: ([], x * 2)), Fails(sg.MissingInputError, ("x", "test_catalogue_api.py"))),
    make("unknown-backend", lambda backend: sg.function([x], x, backend="bogus"), Fails(ValueError, ("bogus",))),
    make("unknown-rewrite", compiles(lambda: ([x], x), rewrites="bogus"), Fails(sg.SymgraphValueError, ("bogus",))),
    # updates
    make("update-of-input", compiles(lambda: ([x], x), updates=[(x, x + 1)]), Fails(sg.SymgraphTypeError, ("x",))),
    make("update-twice", compiles(lambda: ([x], x), updates=[(w, w + 1), (w, w + 2)]),
         Fails(sg.SymgraphValueError, ("w", "twice"))),
    make("update-float-into-int", compiles(lambda: ([x], x), updates={w_int: x * 2}),
         Fails(sg.SymgraphTypeError, ("w_int", "float64"))),
    make("update-ndim", compiles(lambda: ([x], x), updates={w: sg.matrix("m")}),
         Fails(sg.SymgraphTypeError, ("w", "(?, ?)"))),
    make("update-not-a-pair", compiles(lambda: ([x], x), updates=[w]), Fails(sg.SymgraphValueError, ("updates",))),
    make("update-str", compiles(lambda: ([x], x), updates={w: "abc"}), Fails(sg.SymgraphTypeError, ("w", "str"))),
    # givens
    make("givens-key-not-variable", compiles(lambda: ([x], x), givens={1.0: x}),
         Fails(sg.SymgraphTypeError, ("givens",))),
    make("givens-ndim", compiles(lambda: ([x], x), givens={x: sg.matrix("m")}), Fails(sg.SymgraphTypeError, ("x",))),
    make("givens-dtype", compiles(lambda: ([], x), givens={x: sg.vector("xi", dtype="int64")}),
         Fails(sg.SymgraphTypeError, ("x", "int64"))),
    # failed calls leave the shared variables (and the random state) as they were
    call("update-violates-static-shape", static_update, lambda: (np.ones(4),), Fails(sg.CallError, ("ws", "axis 0"))),
    call("in-place-update-then-index-error", update_then_read, lambda: (10,),
         Fails(sg.SymgraphError, ("Subtensor", "(3,)"), line=True)),
    call("in-place-update-then-reshape-error", update_then_fail_late, lambda: (3,),
         Fails(sg.SymgraphError, ("Reshape", "(4,)"), line=True)),
    # scan misuse
    make("scan-string-step", lambda backend: sg.scan(lambda a: "abc", sequences=x), Fails(TypeError, ("str",))),
    make("scan-scalar-sequence", lambda backend: sg.scan(lambda a: a, sequences=sg.scalar("s")),
         Fails(sg.SymgraphTypeError, ("sequence 0", "scalar"))),
    make("scan-no-length", lambda backend: sg.scan(lambda h: h * 2, outputs_info=x), Fails(sg.SymgraphValueError,
                                                                                         ("n_steps",))),
    make("scan-float-taps", lambda backend: sg.scan(lambda a: a, sequences=dict(input=x, taps=[1.5])),
         Fails(sg.SymgraphTypeError, ("sequence 0", "taps", "1.5"))),
    make("scan-float-output-taps", lambda backend: sg.scan(lambda a: a, outputs_info=dict(initial=sg.matrix("m"),
                                                                                          taps=[-1.0]), n_steps=2),
         Fails(sg.SymgraphTypeError, ("outputs_info[0]", "taps"))),
    make("scan-positive-output-taps", lambda backend: sg.scan(lambda a: a, outputs_info=dict(initial=x, taps=[1]),
                                                              n_steps=2),
         Fails(sg.SymgraphValueError, ("outputs_info[0]", "taps"))),
    make("scan-step-arity", lambda backend: sg.scan(lambda a, b, c: a, sequences=x), Fails(TypeError, ("missing",))),
    call("scan-negative-steps", scan_steps, lambda: (np.ones(3), -1), Fails(sg.SymgraphError, ("n_steps", "-1"))),
    call("scan-steps-beyond-sequence", scan_steps, lambda: (np.ones(3), 5),
         Fails(sg.SymgraphError, ("sequence 0", "3", "5"))),
    call("scan-steps-ok", scan_steps, lambda: (np.ones(3), 2), Same(lambda: np.array([1.0, 2.0]))),
    call("scan-state-changes-length", scan_grows, lambda: (np.ones(2),), Fails(sg.SymgraphError, ("Scan",))),
    call("scan-body-index-error", scan_reads, lambda: (np.ones((2, 3)), 5),
         Fails(sg.SymgraphError, ("(3,)",), line=True)),
    call("scan-shortest-sequence-ok", scan_two_sequences, lambda: (np.arange(3.0), np.arange(5.0)),
         Same(lambda: np.arange(3.0) ** 2)),
    # ifelse misuse
    make("ifelse-ndims", lambda backend: sg.ifelse(sg.scalar("s") > 0, x, sg.matrix("m")),
         Fails(sg.SymgraphTypeError, ("ifelse", "dimensions"))),
    make("ifelse-vector-condition", lambda backend: sg.ifelse(x > 0, x, x),
         Fails(sg.SymgraphTypeError, ("condition",))),
    make("ifelse-output-counts", lambda backend: sg.ifelse(sg.scalar("s") > 0, [x, x], [x]),
         Fails(sg.SymgraphValueError, ("2 and 1",))),
    call("ifelse-lazy-skips-bad-index", lazy_ifelse, lambda: (-1.0, np.ones(2), 10), Same(lambda: np.float64(0))),
    call("ifelse-taken-bad-index", lazy_ifelse, lambda: (1.0, np.ones(2), 10),
         Fails(sg.SymgraphError, ("Subtensor", "(2,)"), line=True)),
    call("ifelse-branch-lengths-ok", branch_lengths, lambda: (-1.0, np.ones(2), np.zeros(3)),
         Same(lambda: np.zeros(3))),
    # random parameters at build time and at call time
    make("bernoulli-p-static", lambda backend: rng.bernoulli(1.5, size=(3,)), Fails(sg.SymgraphValueError, ("p",))),
    make("integers-empty-range-static", lambda backend: rng.integers(5, 3, size=(3,)),
         Fails(sg.SymgraphValueError, ("high", "low"))),
    make("normal-negative-size-static", lambda backend: rng.normal(size=(-1,)),
         Fails(sg.SymgraphValueError, ("size",))),
    call("bernoulli-p-above-1", draws, draw(p=1.5), Fails(sg.SymgraphError, ("p", "1.5"))),
    call("bernoulli-p-negative", draws, draw(p=-0.1), Fails(sg.SymgraphError, ("p", "-0.1"))),
    call("bernoulli-p-nan", draws, draw(p=np.nan), Fails(sg.SymgraphError, ("p", "nan"))),
    call("normal-negative-std", draws, draw(std=-1.0), Fails(sg.SymgraphError, ("std", "-1"))),
    call("integers-empty-range", draws, draw(lo=5, hi=3), Fails(sg.SymgraphError, ("low", "high"))),
    call("uniform-low-above-high", draws, draw(lo=4, hi=3), Fails(sg.SymgraphError, ("low", "high"))),
    call("random-negative-size", draws, draw(n=-2), Fails(sg.SymgraphError, ("size", "-2"))),
    make("failed-draw-keeps-stream", random_state_unchanged, Same(lambda: True)),
]
# fmt: on


@pytest.mark.parametrize(("case", "backend"), params(CASES))
def test_catalogue_api(case, backend):
    check(case, backend)
