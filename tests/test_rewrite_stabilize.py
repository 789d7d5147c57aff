"""Stabilize rewrites: the graph after each one, equality with the unrewritten graph on random inputs, the sympy
proof of each elementwise identity, finite and correct values and gradients at logits of +-1000, the fused
softmax-crossentropy op, and the stabilized copies of graphs that sg.grad differentiates."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special

import symgraph as sg
from symgraph.ops.nnet_ops import SoftmaxCategoricalCrossentropyInt
from symgraph.rewrite.engine import select
from symgraph.stable_forms import stabilize_outputs
from tests.helpers import assert_op, check_rewrite, op_names, rand, requires_sympy

try:
    import sympy

    from symgraph.rewrite.sympy_bridge import equal_on_domain, to_sympy
except ImportError:  # sympy is an optional extra: the proofs are marked requires_sympy
    pass

nnet = sg.nnet
FLOATS = ["float32", "float64"]
STABILIZE = ["log_softmax", "crossentropy_softmax", "log_sigmoid", "log1m_sigmoid", "log1p", "expm1", "logsumexp",
             "sqrt_square"]  # fmt: skip


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _no(names, pattern):
    return not any(re.fullmatch(pattern, n) for n in names)


def test_every_stabilize_rewrite_is_registered_for_fast_run_and_fast_compile():
    assert {r.name for r in select(["stabilize"])} == set(STABILIZE)
    assert set(STABILIZE) <= {r.name for r in select("fast_compile")} & {r.name for r in select("fast_run")}


# -- log(softmax) -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("shape", "axis"), [((5,), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((0, 3), 1)])
def test_log_softmax(shape, axis, dtype):
    x = sg.tensor("x", dtype, shape=(None,) * len(shape))
    f = check_rewrite(sg.log(nnet.softmax(x, axis=axis)), {x: rand(shape, dtype)}, rewrites=["log_softmax"])
    assert op_names(f) == [f"LogSoftmax{{axis={axis % len(shape)}}}"]
    assert f.fgraph.outputs[0].type == sg.tensor(dtype=dtype, shape=(None,) * len(shape)).type


def test_log_softmax_keeps_static_shape_and_other_logs():
    x = sg.tensor("x", shape=(2, 3))
    f = check_rewrite([sg.log(nnet.softmax(x)), sg.log(sg.exp(x))], {x: rand((2, 3))}, rewrites=["log_softmax"])
    assert f.fgraph.outputs[0].type.shape == (2, 3)
    assert "LogSoftmax{axis=1}" in op_names(f) and "Elemwise{log}" in op_names(f)  # log(exp(x)) is not touched


@pytest.mark.parametrize("dtype", FLOATS)
def test_dense_crossentropy_of_softmax_is_finite_at_huge_logits(dtype):
    z, t = sg.matrix("z", dtype), sg.matrix("t", dtype)
    cost = nnet.categorical_crossentropy(nnet.softmax(z), t).mean()
    zv = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], dtype)
    tv = np.array([[0.0, 1.0, 0.0], [0.25, 0.25, 0.5]], dtype)
    f = sg.function([z, t], [cost, sg.grad(cost, z)])
    assert "LogSoftmax{axis=1}" in op_names(f) and "Softmax{axis=1}" not in op_names(f)
    value, g = f(zv, tv)
    assert np.isfinite(value) and np.isfinite(g).all()
    log_p = zv - zv.max(1, keepdims=True) - np.log(np.exp(zv - zv.max(1, keepdims=True)).sum(1, keepdims=True))
    np.testing.assert_allclose(value, -(tv * log_p).sum(1).mean(), rtol=1e-6)
    np.testing.assert_allclose(g, (_softmax(zv) * tv.sum(1, keepdims=True) - tv) / 2, atol=1e-6)
    assert not np.isfinite(sg.function([z, t], cost, rewrites=None)(zv, tv))  # unrewritten: log(0) * 0


# -- crossentropy(softmax(z), int targets) ------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 3), (4, 3), (5, 1), (0, 3)])
def test_crossentropy_softmax(shape, dtype):
    z, t = sg.matrix("z", dtype), sg.vector("t", "int64")
    tv = np.random.default_rng(1).integers(0, shape[1], size=shape[0])
    loss = nnet.categorical_crossentropy(nnet.softmax(z), t)
    f = check_rewrite(loss, {z: rand(shape, dtype), t: tv}, rewrites=["crossentropy_softmax"])
    assert op_names(f) == ["SoftmaxCategoricalCrossentropyInt"]
    assert f.fgraph.outputs[0].type == loss.type


def test_crossentropy_softmax_keeps_static_rows_and_needs_softmax_over_classes():
    z, t = sg.matrix("z", shape=(4, 3)), sg.vector("t", "int64")
    values = {z: rand((4, 3)), t: np.array([0, 2, 1, 2])}
    f = check_rewrite(nnet.categorical_crossentropy(nnet.softmax(z), t), values, rewrites=["crossentropy_softmax"])
    assert f.fgraph.outputs[0].type.shape == (4,)
    g = check_rewrite(nnet.categorical_crossentropy(nnet.softmax(z, axis=0), t), values)
    assert "SoftmaxCategoricalCrossentropyInt" not in op_names(g)  # normalized over the rows: not a crossentropy


@pytest.mark.parametrize("dtype", FLOATS)
def test_crossentropy_softmax_and_gradient_at_huge_logits(dtype):
    """Value logsumexp(z) - z[t] and gradient (softmax(z) - onehot(t)) / n at +-1000, with respect to the
    logits and through a dense layer; with the default rewrites and with fast_compile."""
    x, t = sg.matrix("x", dtype), sg.vector("t", "int64")
    w = sg.shared(np.eye(3, dtype=dtype), "w")
    z = sg.dot(x, w)
    cost = nnet.categorical_crossentropy(nnet.softmax(z), t).mean()
    xv = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [0.0, 0.0, 1000.0]], dtype)
    tv = np.array([1, 1, 0])
    d_logits = (_softmax(xv.astype("float64")) - np.eye(3)[tv]) / 3
    expected = [(2000.0 + 0.0 + 1000.0) / 3, d_logits, xv.T.astype("float64") @ d_logits]
    for rewrites in ["fast_run", "fast_compile"]:
        f = sg.function([x, t], [cost, *sg.grad(cost, [x, w])], rewrites=rewrites)
        assert "SoftmaxCategoricalCrossentropyInt" in op_names(f)
        for value, want in zip(f(xv, tv), expected):
            assert value.dtype == dtype and np.isfinite(value).all()
            np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-6)
    assert not np.isfinite(sg.function([x, t], cost, rewrites=None)(xv, tv))  # unrewritten: -log(0)


def test_mlp_training_step_prints_a_stable_crossentropy():
    rng = np.random.default_rng(0)
    x, t = sg.matrix("x"), sg.vector("t", "int64")
    w1, w2 = sg.shared(rng.normal(size=(4, 5)), "w1"), sg.shared(rng.normal(size=(5, 3)) * 300, "w2")
    cost = nnet.categorical_crossentropy(nnet.softmax(sg.dot(sg.tanh(sg.dot(x, w1)), w2)), t).mean()
    updates = [(w, w - 0.1 * g) for w, g in zip([w1, w2], sg.grad(cost, [w1, w2]))]
    train = sg.function([x, t], cost, updates=updates)
    text = sg.debugprint(train, file="str")
    assert "SoftmaxCategoricalCrossentropyInt" in text
    assert not re.search(r"(?<!Softmax)CategoricalCrossentropyInt|\blog\b", text)  # no log of probabilities
    loss = train(rng.normal(size=(6, 4)) * 10, np.array([0, 1, 2, 0, 1, 2]))  # logits in the hundreds
    assert np.isfinite(loss) and np.isfinite(w1.get_value()).all() and np.isfinite(w2.get_value()).all()


# -- log(sigmoid), log(1 - sigmoid), binary crossentropy ----------------------------------------------
@pytest.mark.parametrize("dtype", [*FLOATS, "int8"])
def test_log_sigmoid(dtype):
    x = sg.vector("x", dtype)
    f = check_rewrite(sg.log(sg.sigmoid(x)), {x: rand((6,), dtype, low=-5, high=5)}, rewrites=["log_sigmoid"])
    cast = ["Elemwise{cast{float32}}"] if dtype == "int8" else []
    assert op_names(f) == [*cast, "Elemwise{neg}", "Elemwise{softplus}", "Elemwise{neg}"]


LOG1M_SIGMOID_FORMS = {
    "log(1 - s)": lambda s: sg.log(1 - s),
    "log1p(-s)": lambda s: sg.log1p(-s),
    "log(1 + neg(s))": lambda s: sg.log(sg.add(1, sg.neg(s))),
    "log(neg(s) + 1)": lambda s: sg.log(sg.add(sg.neg(s), 1)),
    "log1p(-1 * s)": lambda s: sg.log1p(sg.mul(-1, s)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", LOG1M_SIGMOID_FORMS)
def test_log1m_sigmoid(form, dtype):
    x = sg.vector("x", dtype)
    out = LOG1M_SIGMOID_FORMS[form](sg.sigmoid(x))
    f = check_rewrite(out, {x: rand((6,), dtype, low=-5, high=5)}, rewrites=["log1m_sigmoid"])
    assert op_names(f) == ["Elemwise{softplus}", "Elemwise{neg}"]
    assert all(v.dtype == dtype for v in f.fgraph.variables)  # float32 stays float32


def test_log1m_sigmoid_needs_a_one():
    x = sg.vector("x")
    f = check_rewrite([sg.log(2 - sg.sigmoid(x)), sg.log1p(sg.sigmoid(x))], {x: rand((4,))}, rewrites=["log1m_sigmoid"])
    assert "Elemwise{softplus}" not in op_names(f)


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_crossentropy_of_sigmoid_at_huge_logits(dtype):
    x, t = sg.vector("x", dtype), sg.vector("t", dtype)
    cost = nnet.binary_crossentropy(nnet.sigmoid(x), t).mean()
    xv = np.array([-1000.0, 1000.0, -1000.0, 1000.0, 0.5, 30.0], dtype)
    tv = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.25], dtype)
    x64 = xv.astype("float64")
    for rewrites in ["fast_run", "fast_compile"]:
        f = sg.function([x, t], [cost, sg.grad(cost, x)], rewrites=rewrites)
        assert _no(op_names(f), r"Elemwise\{(log|log1p)(,.*)?\}")
        value, g = f(xv, tv)
        assert np.isfinite(value) and np.isfinite(g).all()
        np.testing.assert_allclose(value, (np.logaddexp(0, x64) - tv * x64).mean(), rtol=1e-6)
        np.testing.assert_allclose(g, (scipy.special.expit(x64) - tv) / 6, rtol=1e-6, atol=1e-9)
    assert not np.isfinite(sg.function([x, t], cost, rewrites=None)(xv, tv))  # unrewritten: log(0)


# -- log1p, expm1 ----------------------------------------------------------------------------------
LOG1P_FORMS = {
    "log(1 + x)": (lambda x, y: sg.log(1 + x), ["Elemwise{log1p}"]),
    "log(x + 1)": (lambda x, y: sg.log(x + 1), ["Elemwise{log1p}"]),
    "log(1 + x + y)": (lambda x, y: sg.log(sg.add(1, x, y)), ["Elemwise{add}", "Elemwise{log1p}"]),
    "log(x + 1 + y)": (lambda x, y: sg.log(sg.add(x, 1, y)), ["Elemwise{add}", "Elemwise{log1p}"]),
    "log(1 - x)": (lambda x, y: sg.log(1 - x), ["Elemwise{neg}", "Elemwise{log1p}"]),
    "log(1 + neg(x))": (lambda x, y: sg.log(sg.add(1, sg.neg(x))), ["Elemwise{neg}", "Elemwise{log1p}"]),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", LOG1P_FORMS)
def test_log1p(form, dtype):
    build, expected = LOG1P_FORMS[form]
    x, y = sg.vector("x", dtype), sg.vector("y", dtype)
    values = {x: rand((5,), dtype, low=-0.3, high=0.3), y: rand((5,), dtype, seed=1, low=-0.3, high=0.3)}
    f = check_rewrite(build(x, y), values, rewrites=["log1p"])
    assert op_names(f) == expected
    assert all(v.dtype == dtype for v in f.fgraph.variables)


def test_log1p_is_accurate_for_tiny_x():
    x = sg.vector("x")
    out = sg.log(1 + x)
    tiny = np.array([1e-20, -1e-18, 3e-17])
    np.testing.assert_allclose(sg.function([x], out)(tiny), np.log1p(tiny), rtol=1e-15)
    assert (sg.function([x], out, rewrites=None)(tiny) != np.log1p(tiny)).any()  # unrewritten: log(1) = 0


def test_log1p_not_for_other_constants_broadcasting_constants_or_int_sums():
    x, n = sg.vector("x"), sg.vector("n", "int32")
    outs = [sg.log(2 + x), sg.log(np.ones((2, 1)) + x), sg.log(1 + n)]
    f = check_rewrite(outs, {x: rand((3,), low=0, high=1), n: np.array([0, 1, 2], "int32")}, rewrites=["log1p"])
    assert "Elemwise{log1p}" not in op_names(f)
    assert f.fgraph.outputs[1].type.shape == (2, None)


EXPM1_FORMS = {
    "exp(x) - 1": (lambda x, y: sg.exp(x) - 1, ["Elemwise{expm1}"]),
    "-1 + exp(x)": (lambda x, y: sg.add(-1, sg.exp(x)), ["Elemwise{expm1}"]),
    "exp(x) + -1": (lambda x, y: sg.add(sg.exp(x), -1), ["Elemwise{expm1}"]),
    "-1 + exp(x) + y": (lambda x, y: sg.add(-1, sg.exp(x), y), ["Elemwise{expm1}", "Elemwise{add}"]),
    "-1 + y + exp(x) + exp(x)": (
        lambda x, y: sg.add(-1, y, sg.exp(x), sg.exp(x)),
        ["Elemwise{exp}", "Elemwise{expm1}", "Elemwise{add}"],
    ),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", EXPM1_FORMS)
def test_expm1(form, dtype):
    build, expected = EXPM1_FORMS[form]
    x, y = sg.vector("x", dtype), sg.vector("y", dtype)
    f = check_rewrite(build(x, y), {x: rand((5,), dtype), y: rand((5,), dtype, seed=1)}, rewrites=["expm1"])
    assert sorted(op_names(f)) == sorted(expected)
    assert all(v.dtype == dtype for v in f.fgraph.variables)


def test_expm1_is_accurate_for_tiny_x_and_skips_other_constants():
    x = sg.vector("x")
    tiny = np.array([1e-20, -3e-18])
    np.testing.assert_allclose(sg.function([x], sg.exp(x) - 1)(tiny), tiny, rtol=1e-15)
    f = check_rewrite([sg.exp(x) - 2, 1 - sg.exp(x), sg.exp(x) + 1], {x: rand((3,))}, rewrites=["expm1"])
    assert "Elemwise{expm1}" not in op_names(f)


# -- logsumexp --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(("shape", "axis"), [((5,), None), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), (0, 2)), ((0, 3), 0)])
def test_logsumexp(shape, axis, keepdims, dtype):
    x = sg.tensor("x", dtype, shape=(None,) * len(shape))
    out = sg.log(sg.exp(x).sum(axis=axis, keepdims=keepdims))
    f = check_rewrite(out, {x: rand(shape, dtype)}, rewrites=["logsumexp"])
    names = op_names(f)
    assert names[0].startswith("LogSumExp") and len(names) == 1 + keepdims
    assert f.fgraph.outputs[0].type == out.type


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_and_gradient_at_huge_values(dtype):
    x = sg.matrix("x", dtype)
    cost = sg.log(sg.exp(x).sum(axis=1)).sum()
    xv = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 999.0]], dtype)
    f = sg.function([x], [cost, sg.grad(cost, x)])
    value, g = f(xv)
    x64 = xv.astype("float64")
    np.testing.assert_allclose(value, np.logaddexp.reduce(x64, axis=1).sum(), rtol=1e-6)
    np.testing.assert_allclose(g, _softmax(x64), atol=1e-4 if dtype == "float32" else 1e-12)  # float32: x - 1000.5
    assert not np.isfinite(sg.function([x], cost, rewrites=None)(xv))  # unrewritten: exp overflows


def test_logsumexp_not_for_other_reductions():
    x = sg.matrix("x")
    outs = [sg.log(sg.exp(x).prod(axis=1)), sg.log(sg.exp(x).max(axis=1)), sg.log(x.sum(axis=1))]
    f = check_rewrite(outs, {x: rand((2, 3), low=0.1, high=1)}, rewrites=["logsumexp"])
    assert not any(n.startswith("LogSumExp") for n in op_names(f))


# -- sqrt(x * x) -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", ["x * x", "square(x)", "x ** 2"])
def test_sqrt_square(form, dtype):
    x = sg.vector("x", dtype)
    sq = {"x * x": x * x, "square(x)": sg.square(x), "x ** 2": x**2}[form]
    f = check_rewrite(sg.sqrt(sq), {x: rand((6,), dtype)}, rewrites=["sqrt_square"])
    assert op_names(f) == ["Elemwise{abs}"]
    huge = np.array([1e200, -1e200, 3.0], "float64") if dtype == "float64" else np.array([1e30, -1e30], dtype)
    np.testing.assert_allclose(sg.function([x], sg.sqrt(sq))(huge), np.abs(huge))


def test_sqrt_square_not_for_other_products_or_ints():
    x, y, n = sg.vector("x"), sg.vector("y"), sg.vector("n", "int64")
    f = check_rewrite([sg.sqrt(x * y), sg.sqrt(x**3), sg.sqrt(n * n)],
                      {x: rand((3,), low=0.1), y: rand((3,), seed=1, low=0.1), n: np.array([1, -2, 3])},
                      rewrites=["sqrt_square"])  # fmt: skip
    assert "Elemwise{abs}" not in op_names(f)


def test_sqrt_square_gradient_is_finite_at_zero():
    x = sg.vector("x")
    g = sg.function([x], sg.grad(sg.sqrt(x * x).sum(), x))(np.array([0.0, -2.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, -1.0, 1.0])  # sign(x); the unstabilized gradient is 0 / 0 at 0


# -- after canonicalize --------------------------------------------------------------------------------
CANONICALIZED = {  # expression: the ops left by canonicalize + stabilize + specialize
    "log(1 - sigmoid(x))": (lambda x, y: sg.log(1 - sg.sigmoid(x)), ["softplus", "neg"]),
    "log1p(-sigmoid(x))": (lambda x, y: sg.log1p(-sg.sigmoid(x)), ["softplus", "neg"]),
    "log(sigmoid(x))": (lambda x, y: sg.log(sg.sigmoid(x)), ["neg", "softplus", "neg"]),
    "log(y + (x + 1))": (lambda x, y: sg.log(y + (x + 1)), ["add", "log1p"]),
    "log(x + 1)": (lambda x, y: sg.log(x + 1), ["log1p"]),
    "exp(x) - 1 + y": (lambda x, y: sg.exp(x) - 1 + y, ["expm1", "add"]),
    "sqrt(x ** 2)": (lambda x, y: sg.sqrt(x**2), ["abs"]),
    "log(sum(exp(x)))": (lambda x, y: sg.log(sg.exp(x).sum()), ["LogSumExp{axes=(0,)}"]),
}


@pytest.mark.parametrize("form", CANONICALIZED)
def test_canonicalized_forms_are_stabilized(form):
    """The default pipeline (canonicalize first; fusion and inplace left out to see the ops) stabilizes them."""
    build, expected = CANONICALIZED[form]
    x, y = sg.vector("x"), sg.vector("y")
    values = {x: rand((5,), low=0.1, high=0.5), y: rand((5,), seed=1, low=0.1, high=0.5)}
    f = check_rewrite(build(x, y), values, rewrites=["-fusion", "-inplace"])
    assert sorted(op_names(f)) == sorted(n if "{" in n else f"Elemwise{{{n}}}" for n in expected)


# -- symbolic proofs ---------------------------------------------------------------------------------
def _u() -> sympy.Symbol:
    return sympy.Symbol("u", positive=True)


PROOFS = {  # form: (rewrite, left side, symbols of x and y on the domain; None: all reals)
    "log(sigmoid(x))": ("log_sigmoid", lambda x, y: sg.log(sg.sigmoid(x)), None),
    "log(1 - sigmoid(x))": ("log1m_sigmoid", lambda x, y: sg.log(1 - sg.sigmoid(x)), None),
    "log1p(-sigmoid(x))": ("log1m_sigmoid", lambda x, y: sg.log1p(-sg.sigmoid(x)), None),
    "log(1 + x), x > -1": ("log1p", lambda x, y: sg.log(1 + x), lambda y: [_u() - 1, y]),
    "log(1 + x + y), x + y > -1": ("log1p", lambda x, y: sg.log(sg.add(1, x, y)), lambda y: [_u() - 1 - y, y]),
    "log(1 - x), x < 1": ("log1p", lambda x, y: sg.log(1 - x), lambda y: [1 - _u(), y]),
    "exp(x) - 1": ("expm1", lambda x, y: sg.exp(x) - 1, None),
    "-1 + exp(x) + y": ("expm1", lambda x, y: sg.add(-1, sg.exp(x), y), None),
    "sqrt(x * x)": ("sqrt_square", lambda x, y: sg.sqrt(x * x), None),
    "sqrt(x ** 2)": ("sqrt_square", lambda x, y: sg.sqrt(x**2), None),
}


@requires_sympy
@pytest.mark.parametrize("form", PROOFS)
def test_sympy_proof(form):
    """The scalar left side (the graph as built) equals the right side (after the rewrite alone) in sympy."""
    name, build, domain = PROOFS[form]
    x, y = sg.scalar("x"), sg.scalar("y")
    left = build(x, y)
    f = sg.function([x, y], left, rewrites=[name])
    assert f.rewrite_report.counts[name] >= 1
    symbols = None if domain is None else domain(sympy.Symbol("y", real=True))
    (lhs,) = to_sympy([left], [x, y], symbols)
    (rhs,) = to_sympy(f.fgraph.outputs, f.fgraph.inputs, symbols)
    verdict = equal_on_domain(lhs, rhs)
    assert verdict.proved, (lhs, rhs, verdict)


@requires_sympy
def test_sympy_proof_of_the_softmax_identities():
    """The identities behind log_softmax, crossentropy_softmax and logsumexp, on 3 real logits: log(softmax(z))
    is z - logsumexp(z) (so -log(softmax(z)[t]) is the fused op's logsumexp(z) - z[t], whose gradient is
    softmax(z) - onehot(t)), and logsumexp(z) = m + log(sum(exp(z - m))) for any shift m (the stable forms)."""
    z = sympy.symbols("z0:3", real=True)
    m = sympy.Symbol("m", real=True)
    total = sum(sympy.exp(v) for v in z)
    for i in range(3):
        assert equal_on_domain(sympy.log(sympy.exp(z[i]) / total), z[i] - sympy.log(total)).proved
        fused = sympy.log(total) - z[1]  # target class 1
        assert equal_on_domain(sympy.diff(fused, z[i]), sympy.exp(z[i]) / total - int(i == 1)).proved
    assert equal_on_domain(sympy.log(total), m + sympy.log(sum(sympy.exp(v - m) for v in z))).proved


# -- the fused op ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("shape", "target_dtype"), [((1, 3), "int64"), ((4, 3), "int32"), ((3, 1), "uint8"),
                                                      ((0, 4), "int64")])  # fmt: skip
def test_softmax_crossentropy_op(shape, target_dtype, dtype):
    z, t = sg.matrix("z", dtype), sg.vector("t", target_dtype)
    zv = rand(shape, dtype, low=-5, high=5)
    tv = np.random.default_rng(2).integers(0, shape[1], size=shape[0]).astype(target_dtype)
    z64 = zv.astype("float64")
    expected = np.logaddexp.reduce(z64, axis=1) - z64[np.arange(shape[0]), tv] if shape[0] else np.zeros(0)
    out = SoftmaxCategoricalCrossentropyInt()(z, t)
    assert out.type == sg.vector(dtype=dtype).type
    assert_op(out, expected.astype(dtype), {z: zv, t: tv}, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_softmax_crossentropy_op_static_rows_and_bad_builds():
    op = SoftmaxCategoricalCrossentropyInt()
    assert op(sg.matrix(shape=(4, None)), sg.vector(dtype="int64")).type.shape == (4,)
    assert op(sg.matrix(), sg.vector(shape=(5,), dtype="int64")).type.shape == (5,)
    with pytest.raises(sg.SymgraphTypeError, match="logits must be a float matrix"):
        op(sg.vector(), sg.vector(dtype="int64"))
    with pytest.raises(sg.SymgraphTypeError, match="logits must be a float matrix"):
        op(sg.matrix(dtype="int64"), sg.vector(dtype="int64"))
    with pytest.raises(sg.SymgraphTypeError, match="targets must be an int vector"):
        op(sg.matrix(), sg.vector())
    with pytest.raises(sg.SymgraphValueError, match="2 rows of logits but 3 targets"):
        op(sg.matrix(shape=(2, 3)), sg.vector(shape=(3,), dtype="int64"))


RUN_TIME_ERRORS = [([0, 3], "class index 3 is out of range"), ([0, -1], "class index -1"), ([0], "2 rows of logits")]


@pytest.mark.parametrize(("targets", "match"), RUN_TIME_ERRORS)
def test_softmax_crossentropy_op_run_time_errors(targets, match):
    z, t = sg.matrix("z"), sg.vector("t", "int64")
    f = sg.function([z, t], SoftmaxCategoricalCrossentropyInt()(z, t))
    with pytest.raises(sg.SymgraphError, match=match):
        f(rand((2, 3)), np.array(targets))


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_crossentropy_op_verify_grad(dtype):
    targets = np.array([0, 2, 1, 2])
    sg.verify_grad(SoftmaxCategoricalCrossentropyInt(), [rand((4, 3), dtype), targets], rng=0)
    sg.verify_grad(lambda z: sg.grad(SoftmaxCategoricalCrossentropyInt()(z, targets).sum(), z), [rand((4, 3))], rng=0)


def test_softmax_crossentropy_op_gradient_has_no_target_gradient():
    z, t = sg.matrix("z"), sg.vector("t", "int64")
    node = SoftmaxCategoricalCrossentropyInt()(z, t).owner
    grads = node.op.vjp(node, [sg.vector("g")])
    assert grads[1] is None and grads[0].type.ndim == 2


# -- stabilized copies for gradients ----------------------------------------------------------------
def test_stabilize_outputs_leaves_the_given_graph_alone():
    z, t = sg.matrix("z"), sg.vector("t", "int64")
    p = nnet.softmax(z)
    cost = nnet.categorical_crossentropy(p, t).mean()
    before = sg.debugprint(cost, file="str")
    (stable,) = stabilize_outputs([cost], [z])
    assert sg.debugprint(cost, file="str") == before
    assert "SoftmaxCategoricalCrossentropyInt" in sg.debugprint(stable, file="str")
    assert stable.owner.op == cost.owner.op  # the mean is rebuilt on the fused op, with the given nodes elsewhere
    unchanged = sg.exp(z).sum()
    assert stabilize_outputs([unchanged], [z]) == [unchanged]  # nothing to stabilize: the same variables


def test_gradient_with_respect_to_an_intermediate_variable_cuts_the_graph_there():
    """grad w.r.t. the probabilities of crossentropy(softmax(z)): no fusion across them (-1 / p at the targets)."""
    z, t = sg.matrix("z"), sg.vector("t", "int64")
    p = nnet.softmax(z)
    cost = nnet.categorical_crossentropy(p, t).sum()
    zv, tv = rand((3, 4)), np.array([0, 3, 1])
    gp = sg.function([z, t], sg.grad(cost, p))(zv, tv)  # fused across p, the cost would not depend on p
    pv = _softmax(zv)
    expected = np.zeros((3, 4))
    expected[np.arange(3), tv] = -1 / pv[np.arange(3), tv]
    np.testing.assert_allclose(gp, expected, rtol=1e-12)


def test_known_grads_on_stabilized_variables_are_summed():
    z = sg.matrix("z")
    a, b = sg.log(nnet.softmax(z)), nnet.log_softmax(z)
    ga, gb = rand((2, 3), seed=1), rand((2, 3), seed=2)
    g = sg.function([z], sg.grad(None, z, known_grads={a: sg.constant(ga), b: sg.constant(gb)}))(rand((2, 3)))
    s = _softmax(rand((2, 3)))
    total = ga + gb
    np.testing.assert_allclose(g, total - s * total.sum(1, keepdims=True), rtol=1e-12)


def test_gradient_of_a_constant_wrt_stays_connected():
    c = sg.constant(np.ones(3))
    x = sg.vector("x")
    g = sg.function([x], sg.grad(sg.log(c + x).sum(), c))(np.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(g, 1 / np.array([1.5, 2.0, 3.0]))
