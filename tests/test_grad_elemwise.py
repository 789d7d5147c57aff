"""Gradients of the elementwise ops: finite differences for all, torch.autograd where torch has the op."""

import numpy as np
import pytest

import symgraph as sg

rng = np.random.default_rng(0)

# name -> (symgraph function, domain low, domain high, torch function name or None)
UNARY = {
    "exp": (-2, 2, "exp"), "expm1": (-2, 2, "expm1"), "exp2": (-2, 2, "exp2"), "log": (0.2, 3, "log"),
    "log2": (0.2, 3, "log2"), "log10": (0.2, 3, "log10"), "log1p": (-0.5, 3, "log1p"), "sqrt": (0.2, 3, "sqrt"),
    "sin": (-3, 3, "sin"), "cos": (-3, 3, "cos"), "tan": (-1, 1, "tan"), "arcsin": (-0.8, 0.8, "asin"),
    "arccos": (-0.8, 0.8, "acos"), "arctan": (-3, 3, "atan"), "sinh": (-2, 2, "sinh"), "cosh": (-2, 2, "cosh"),
    "tanh": (-2, 2, "tanh"), "arcsinh": (-2, 2, "asinh"), "arccosh": (1.2, 3, "acosh"),
    "arctanh": (-0.8, 0.8, "atanh"), "erf": (-2, 2, "erf"), "erfc": (-2, 2, "erfc"), "sigmoid": (-4, 4, "sigmoid"),
    "softplus": (-4, 4, None), "relu": (-2, 2, "relu"), "neg": (-2, 2, "neg"), "abs": (-2, 2, "abs"),
    "square": (-2, 2, "square"), "reciprocal": (0.3, 3, "reciprocal"),
}  # fmt: skip
BINARY = {
    "add": (-2, 2, "add"), "sub": (-2, 2, "sub"), "mul": (-2, 2, "mul"), "true_div": (0.5, 2, "div"),
    "power": (0.5, 2, "pow"), "maximum": (-2, 2, "maximum"), "minimum": (-2, 2, "minimum"),
    "arctan2": (0.3, 2, "atan2"), "mod": (0.6, 3, "remainder"),
}  # fmt: skip
SHAPE_PAIRS = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]


def _data(shape, low, high, dtype="float64", seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_unary_verify_grad(name, shape):
    low, high, _ = UNARY[name]
    data = _data(shape, low, high)
    if name in ("abs", "relu"):
        data = np.where(np.abs(data) < 0.1, 0.5, data)  # stay away from the kink
    sg.verify_grad(getattr(sg, name), [data], rng=0)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "log"])
def test_unary_verify_grad_float32(name):
    low, high, _ = UNARY[name]
    sg.verify_grad(getattr(sg, name), [_data((5,), low, high, "float32")], rng=0)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_binary_verify_grad_with_broadcasting(name, shapes):
    low, high, _ = BINARY[name]
    a, b = _data(shapes[0], low, high), _data(shapes[1], low, high, seed=1)
    if name == "mod":
        a = a + 3.0  # away from the discontinuities of mod
    sg.verify_grad(getattr(sg, name), [a, b], rng=0)


def test_static_broadcast_shapes_are_summed():
    x = sg.tensor("x", shape=(1, None))
    y = sg.matrix("y")
    g = sg.grad((x * y).sum(), x)
    assert g.type.shape[0] == 1
    value = sg.function([x, y], g)(np.ones((1, 3)), np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(value, [[3.0, 5.0, 7.0]])


def test_where_clip_cast_and_variadic():
    a, b = _data((2, 3), -2, 2), _data((2, 3), -2, 2, seed=1)
    sg.verify_grad(lambda x, y: sg.where(x > 0, x * y, sg.exp(y)), [a, b], rng=0)
    sg.verify_grad(lambda x: sg.clip(x, -1.0, 1.0), [np.array([-1.5, -0.5, 0.3, 1.7])], rng=0)
    sg.verify_grad(lambda x, y: sg.clip(x, y, 1.0), [np.array([-1.5, 0.5]), np.array([-1.0, -1.0])], rng=0)
    sg.verify_grad(lambda x, y: sg.add(x, y, x * y) * sg.mul(x, y, y), [a, b], rng=0)
    sg.verify_grad(lambda x: sg.cast(x, "float32") * 2, [a], rng=0)


def test_integer_inputs_get_no_gradient():
    x = sg.vector("x")
    i = sg.vector("i", "int64")
    gx = sg.grad((x * i).sum(), x)
    np.testing.assert_allclose(sg.function([x, i], gx)([1.0, 2.0], [3, 4]), [3.0, 4.0])
    with pytest.raises(sg.SymgraphTypeError, match="only floats have gradients"):
        sg.grad((x * i).sum(), i)
    # a path through a comparison carries no gradient
    with pytest.raises(sg.DisconnectedInputError):
        sg.grad(sg.cast(x > 0, "float64").sum(), x)


def test_pow_gradient_at_zero_base():
    x, y = sg.vector("x"), sg.vector("y")
    gx, gy = sg.grad((x**y).sum(), [x, y])
    vx, vy = sg.function([x, y], [gx, gy])([0.0, 2.0], [2.0, 3.0])
    np.testing.assert_allclose(vx, [0.0, 12.0])
    np.testing.assert_allclose(vy, [0.0, 8.0 * np.log(2.0)])


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", sorted(n for n, v in UNARY.items() if v[2]))
def test_unary_matches_torch(name):
    low, high, torch_name = UNARY[name]
    data = _data((7,), low, high)
    weights = _data((7,), -1, 1, seed=5)
    x = sg.vector("x")
    out = getattr(sg, name)(x)
    value, gx = sg.function([x], [out, sg.grad((out * weights).sum(), x)])(data)
    t = torch.tensor(data, requires_grad=True)
    t_out = getattr(torch, torch_name)(t)
    (t_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(value, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softplus_matches_torch():
    data = np.linspace(-30, 30, 13)
    x = sg.vector("x")
    value, gx = sg.function([x], [sg.softplus(x), sg.grad(sg.softplus(x).sum(), x)])(data)
    t = torch.tensor(data, requires_grad=True)
    out = torch.nn.functional.softplus(t, threshold=1000)
    out.sum().backward()
    np.testing.assert_allclose(value, out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_binary_matches_torch(name, shapes):
    low, high, torch_name = BINARY[name]
    a, b = _data(shapes[0], low, high), _data(shapes[1], low, high, seed=1)
    x = sg.tensor("x", shape=tuple(1 if d == 1 else None for d in shapes[0]))
    y = sg.tensor("y", shape=tuple(1 if d == 1 else None for d in shapes[1]))
    out = getattr(sg, name)(x, y)
    value, gx, gy = sg.function([x, y], [out, *sg.grad(out.sum(), [x, y])])(a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    t_out = getattr(torch, torch_name)(ta, tb)
    t_out.sum().backward()
    np.testing.assert_allclose(value, t_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy, tb.grad.numpy(), rtol=1e-10, atol=1e-12)
