import copy
import pickle

import numpy as np
import pytest
import scipy.special

import symgraph as sg
from symgraph.ops import scalar
from symgraph.ops.elemwise import Elemwise
from tests.helpers import assert_op, evaluate, rand

pytestmark = pytest.mark.cross_backend

UNARY_FLOAT = {
    "exp": np.exp, "expm1": np.expm1, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "arcsinh": np.arcsinh,
    "sigmoid": scipy.special.expit, "softplus": lambda x: np.logaddexp(0, x), "erf": scipy.special.erf,
    "exp2": np.exp2, "erfc": scipy.special.erfc,
}  # fmt: skip
UNARY_POSITIVE = {"log": np.log, "log2": np.log2, "log10": np.log10, "sqrt": np.sqrt, "reciprocal": np.reciprocal}
UNARY_KEEP = {
    "neg": np.negative, "abs": np.abs, "sign": np.sign, "square": np.square, "floor": np.floor, "ceil": np.ceil,
    "round": np.round, "trunc": np.trunc, "relu": lambda x: np.maximum(x, 0),
}  # fmt: skip
SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3)]


@pytest.mark.parametrize("name", sorted(UNARY_FLOAT))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_float(name, dtype, shape):
    x = sg.tensor("x", dtype, shape=(None,) * len(shape))
    data = rand(shape, dtype, low=-0.9)
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert_op(getattr(sg, name)(x), UNARY_FLOAT[name](data).astype(dtype), {x: data}, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(UNARY_POSITIVE))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_positive_domain(name, dtype):
    x = sg.matrix("x", dtype)
    data = rand((3, 4), dtype, low=0.1, high=5)
    assert_op(getattr(sg, name)(x), UNARY_POSITIVE[name](data), {x: data}, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(UNARY_KEEP))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int8"])
def test_unary_keep_dtype(name, dtype):
    x = sg.vector("x", dtype)
    data = rand((7,), dtype, low=-3, high=3)
    assert_op(getattr(sg, name)(x), UNARY_KEEP[name](data).astype(dtype), {x: data})


UPGRADES = [("int8", "float32"), ("int16", "float32"), ("int32", "float64"), ("int64", "float64"),
            ("bool", "float32"), ("uint8", "float32")]  # fmt: skip


@pytest.mark.parametrize("dtype, expected", UPGRADES)
def test_float_math_on_integers_upgrades(dtype, expected):
    x = sg.vector("x", dtype)
    assert sg.exp(x).dtype == expected and (x / x).dtype == expected
    data = rand((4,), dtype, low=0, high=3)
    np.testing.assert_allclose(evaluate(sg.exp(x), {x: data}), np.exp(data.astype(expected)), rtol=1e-6)


BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide, "maximum": np.maximum,
    "minimum": np.minimum, "eq": np.equal, "neq": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal, "arctan2": np.arctan2, "power": np.power,
}  # fmt: skip
BROADCASTS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)), ((), (5,)), ((0, 3), (3,))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCASTS)
def test_binary_broadcasting(name, shapes):
    sa, sb = shapes
    a = sg.tensor("a", shape=tuple(1 if d == 1 else None for d in sa))
    b = sg.tensor("b", shape=tuple(1 if d == 1 else None for d in sb))
    da, db = rand(sa, low=0.5, high=2), rand(sb, seed=1, low=0.5, high=2)
    assert_op(getattr(sg, name)(a, b), BINARY[name](da, db), {a: da, b: db}, rtol=1e-12)


@pytest.mark.parametrize("da, db", [("int32", "float32"), ("int64", "float32"), ("float32", "float64"),
                                    ("int8", "uint8"), ("bool", "int16"), ("int32", "int32")])  # fmt: skip
def test_mixed_dtype_promotion_follows_numpy(da, db):
    a, b = sg.vector("a", da), sg.vector("b", db)
    xa, xb = rand((5,), da), rand((5,), db, seed=3)
    for sym, ref in [(a + b, xa + xb), (a * b, xa * xb), (sg.maximum(a, b), np.maximum(xa, xb))]:
        assert_op(sym, ref, {a: xa, b: xb})


def test_python_scalars_are_weak():
    x32, i8 = sg.vector("x", "float32"), sg.vector("i", "int8")
    assert (x32 * 2.0).dtype == "float32" and (2 * x32).dtype == "float32" and (x32**2).dtype == "float32"
    assert (i8 + 1).dtype == "int8" and (i8 + 1.5).dtype == "float64"
    assert (np.float64(2.0) * x32).dtype == "float64"  # NumPy scalars are strong
    with pytest.raises(sg.SymgraphTypeError, match="does not fit in int8"):
        i8 + 1000
    data = np.array([1, 2], dtype="float32")
    assert_op(1.0 - x32 / 4, (1.0 - data / 4).astype("float32"), {x32: data})


def test_integer_division_and_mod_follow_python():
    a, b = sg.vector("a", "int64"), sg.vector("b", "int64")
    xa, xb = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    assert_op(a // b, xa // xb, {a: xa, b: xb})
    assert_op(a % b, xa % xb, {a: xa, b: xb})
    assert_op(a / b, xa / xb, {a: xa, b: xb})


def test_variadic_add_and_mul():
    xs = [sg.vector(f"x{i}") for i in range(4)]
    data = [rand((3,), seed=i) for i in range(4)]
    assert_op(sg.add(*xs), sum(data), dict(zip(xs, data)))
    assert_op(sg.mul(*xs), data[0] * data[1] * data[2] * data[3], dict(zip(xs, data)))
    with pytest.raises(sg.SymgraphTypeError, match="2 or more"):
        sg.add(xs[0])


def test_where_clip_cast_logic():
    x = sg.vector("x")
    data = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    assert_op(sg.where(x > 0, x, 0.0), np.where(data > 0, data, 0.0), {x: data})
    assert_op(sg.switch(x, 1, -1), np.where(data != 0, 1, -1), {x: data})
    assert_op(sg.clip(x, -1, 1), np.clip(data, -1, 1), {x: data})
    assert_op(x.clip(-1.0, 0.25), np.clip(data, -1, 0.25), {x: data})
    assert_op(sg.cast(x, "int32"), data.astype("int32"), {x: data})
    assert_op(x.astype("float32"), data.astype("float32"), {x: data})
    assert sg.cast(x, "float64") is x
    b = sg.vector("b", "bool")
    bd = np.array([True, False, True, False, True])
    assert_op(~b, ~bd, {b: bd})
    assert_op(b & (x > 0), bd & (data > 0), {b: bd, x: data})
    assert_op(b | (x > 0), bd | (data > 0), {b: bd, x: data})
    assert_op(sg.logical_not(x), np.logical_not(data), {x: data})
    assert_op(sg.not_(b), ~bd, {b: bd})
    with np.errstate(all="ignore"):
        assert_op(sg.isnan(sg.log(x)), np.isnan(np.log(data)), {x: data})
    i = sg.vector("i", "int32")
    assert_op(i ^ 5, np.arange(5, dtype="int32") ^ 5, {i: np.arange(5, dtype="int32")})


def test_bad_builds():
    with pytest.raises(sg.SymgraphValueError, match="do not broadcast"):
        sg.tensor(shape=(3,)) + sg.tensor(shape=(4,))
    with pytest.raises(sg.SymgraphTypeError, match="unsupported dtypes"):
        sg.vector(dtype="bool") - sg.vector(dtype="bool")
    with pytest.raises(sg.SymgraphTypeError, match="unsupported dtypes"):
        sg.vector() ^ sg.vector()


def test_build_error_names_user_line():
    with pytest.raises(sg.SymgraphError) as info:
        sg.tensor(shape=(3,)) + sg.tensor(shape=(4,))
    message = str(info.value)
    assert "Elemwise{add}" in message and "Tensor[float64](3,)" in message and "test_elemwise.py" in message


def test_runtime_broadcast_must_be_declared():
    x, y = sg.matrix("x"), sg.matrix("y")
    f = sg.function([x, y], x + y)
    with pytest.raises(sg.CallError, match="not declared broadcastable"):
        f(np.ones((3, 4)), np.ones((1, 4)))
    row = sg.tensor("row", shape=(1, None))
    np.testing.assert_allclose(sg.function([x, row], x + row)(np.ones((3, 4)), np.ones((1, 4))), 2 * np.ones((3, 4)))
    with pytest.raises(sg.CallError, match="do not broadcast"):
        f(np.ones((3, 4)), np.ones((2, 4)))


def test_ndarray_on_the_left_defers_to_variable():
    x = sg.vector("x")
    expr = np.array([1.0, 2.0]) + x
    assert isinstance(expr, sg.Variable)
    assert_op(expr, np.array([2.0, 4.0]), {x: np.array([1.0, 2.0])})


def test_theano_spelling_sqr_is_square():
    x = sg.vector("x")
    assert sg.sqr is sg.square
    np.testing.assert_array_equal(sg.sqr(x).eval({x: np.array([1.0, -3.0])}), [1.0, 9.0])


def test_every_scalar_op_is_one_definition_and_a_public_function():
    """Each op is the module attribute named after it, documented, and (but for switch and cast, whose public
    functions where and cast prepare their arguments) the public function of that name applies exactly it."""
    for name, op in scalar.OPS.items():
        assert getattr(scalar, name) is op and op.name == name and op.doc, name
        if name not in ("switch", "cast"):
            fn = getattr(sg, name)
            assert fn.__name__ == name and fn.__doc__ == op.doc
            inputs = [sg.vector(f"x{i}", "int32") for i in range(2 if op.nin == -1 else op.nin)]
            assert fn(*inputs).owner.op.scalar_op is op
    assert sg.where(sg.vector("c", "bool"), 1.0, 2.0).owner.op.scalar_op is scalar.switch
    assert sg.cast(sg.vector("x"), "int8").owner.op.scalar_op == scalar.cast_to("int8")


@pytest.mark.parametrize("op", [scalar.exp, scalar.cast_to("int16"), scalar.add])
def test_scalar_ops_are_values_that_pickle_and_copy(op):
    assert pickle.loads(pickle.dumps(Elemwise(op))) == Elemwise(op)
    assert copy.deepcopy(op) == op and hash(copy.deepcopy(op)) == hash(op) and str(copy.deepcopy(op)) == str(op)
    assert scalar.cast_to("int16") != scalar.cast_to("int8") != scalar.cast


def test_results_never_share_an_input_s_memory():
    """Ops that give their input unchanged (identity, floor of integers, a cast to the same dtype) copy it."""
    cases = [(scalar.identity, np.array([1.0, 2.0])), (scalar.floor, np.array([1, 2], "int32")),
             (scalar.cast_to("float64"), np.array([1.0, 2.0]))]  # fmt: skip
    for op, data in cases:
        node = Elemwise(op)(sg.vector("x", data.dtype.name)).owner
        (result,) = node.op.perform(node, [data])
        np.testing.assert_array_equal(result, data)
        assert not np.shares_memory(result, data)
