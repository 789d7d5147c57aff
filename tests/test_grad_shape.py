"""Gradients of the shape and allocation ops: finite differences for all, torch.autograd where torch has the op."""

import numpy as np
import pytest

import symgraph as sg


def _data(shape, dtype="float64", seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(dtype)


def _fixed(x, shape):
    """``x`` with a static shape (verify_grad's inputs have none), so static-1 axes can be dropped."""
    return sg.specify_shape(x, shape)


# -- finite differences ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "target"),
    [((2, 3), (3, 2)), ((2, 3), (-1,)), ((2, 3, 2), (4, -1)), ((6,), (1, 2, -1)), ((), (1, 1)), ((1,), ()),
     ((0, 3), (-1, 3))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reshape(shape, target, dtype):
    sg.verify_grad(lambda x: x.reshape(target), [_data(shape, dtype)], rng=0)


def test_reshape_to_symbolic_shape():
    sg.verify_grad(lambda x, y: x.reshape(y.shape) * y, [_data((2, 3)), _data((3, 2), seed=1)], rng=0)


@pytest.mark.parametrize(
    ("shape", "pattern"),
    [((2, 3), (1, 0)), ((2, 3), ("x", 0, "x", 1)), ((2, 1, 3), (2, 0)), ((1, 2), ("x", 1, "x")),
     ((2, 3, 4), (2, "x", 0, 1)), ((1,), ()), ((), ("x", "x"))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dimshuffle(shape, pattern, dtype):
    sg.verify_grad(lambda x: _fixed(x, shape).dimshuffle(*pattern), [_data(shape, dtype)], rng=0)


@pytest.mark.parametrize(("shape", "axes"), [((2, 3), None), ((2, 3, 2), (2, 0, 1)), ((4,), None), ((), None)])
def test_transpose(shape, axes):
    sg.verify_grad(lambda x: sg.transpose(x, axes), [_data(shape)], rng=0)


@pytest.mark.parametrize(("shape", "ndim"), [((2, 3), 1), ((2, 3, 2), 2), ((2, 0, 3), 2), ((), 1), ((3,), 1)])
def test_flatten(shape, ndim):
    sg.verify_grad(lambda x: sg.flatten(x, ndim), [_data(shape)], rng=0)


@pytest.mark.parametrize(("shape", "axis"), [((2, 3), 0), ((2, 3), -1), ((3,), (0, 2)), ((), 0)])
def test_expand_dims(shape, axis):
    sg.verify_grad(lambda x: sg.expand_dims(x, axis), [_data(shape)], rng=0)


@pytest.mark.parametrize(("shape", "axis"), [((1, 3, 1), None), ((1, 3, 1), 2), ((2, 1), -1), ((1,), 0)])
def test_squeeze(shape, axis):
    sg.verify_grad(lambda x: sg.squeeze(_fixed(x, shape), axis), [_data(shape)], rng=0)


@pytest.mark.parametrize(
    ("shapes", "axis"),
    [([(2, 3), (1, 3), (3, 3)], 0), ([(2, 1), (2, 3)], 1), ([(2, 2, 1), (2, 2, 2)], -1), ([(3,)], 0),
     ([(0, 2), (2, 2)], 0)],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_concatenate(shapes, axis, dtype):
    data = [_data(s, dtype, seed=i) for i, s in enumerate(shapes)]
    sg.verify_grad(lambda *xs: sg.concatenate(xs, axis), data, rng=0)


def test_concatenate_with_an_integer_input():
    ints = np.arange(3).reshape(1, 3)
    sg.verify_grad(lambda x, i: sg.concatenate([x, i], 0) * 2, [_data((2, 3)), ints], rng=0)


def test_concatenate_mixed_float_dtypes():
    data = [_data((2,), "float32"), _data((3,), "float64", seed=1)]
    sg.verify_grad(lambda a, b: sg.concatenate([a, b]), data, rng=0)


@pytest.mark.parametrize(("shape", "n", "axis"), [((2, 3), 3, 0), ((2, 3), 2, 1), ((2,), 3, -1), ((), 2, 0)])
def test_stack(shape, n, axis):
    data = [_data(shape, seed=i) for i in range(n)]
    sg.verify_grad(lambda *xs: sg.stack(xs, axis), data, rng=0)


@pytest.mark.parametrize(
    ("shape", "sizes", "axis", "used"),
    [((5,), [2, 3], 0, [0, 1]), ((2, 5), [1, 0, 4], 1, [0, 2]), ((4, 2), [1, 2, 1], 0, [1]),
     ((4, 2), [1, 2, 1], 0, [2, 0]), ((3, 2), [3], 0, [0]), ((2, 4), [2, 2], -1, [0])],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_split_some_outputs_used(shape, sizes, axis, used, dtype):
    def fn(x):
        pieces = sg.split(x, sizes, len(sizes), axis)
        return [pieces[i] * (i + 1) for i in used]

    sg.verify_grad(fn, [_data(shape, dtype)], rng=0)


def test_split_with_symbolic_sizes():
    def fn(x, y):
        first, second = sg.split(x, [y.shape[0], x.shape[0] - y.shape[0]], 2)
        return second * 3 + first.sum() * y.sum()

    sg.verify_grad(fn, [_data((5,)), _data((2,), seed=1)], rng=0)


def test_split_gradient_has_zeros_for_unused_pieces():
    x = sg.vector("x")
    g = sg.grad(sg.split(x, [1, 2, 1], 3)[1].sum(), x)
    np.testing.assert_array_equal(g.eval({x: np.ones(4)}), [0, 1, 1, 0])


@pytest.mark.parametrize(
    ("shape", "target"),
    [((3,), (2, 3)), ((1, 3), (2, 3)), ((2, 1), (2, 3)), ((1, 1), (4, 2, 3)), ((), (2, 2)), ((2, 3), (2, 3)),
     ((1, 3), (0, 3))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_broadcast_to_runtime_broadcasting(shape, target, dtype):
    # verify_grad's inputs have no static shape: the length-1 axes are only known at run time
    sg.verify_grad(lambda x: sg.broadcast_to(x, target), [_data(shape, dtype)], rng=0)


@pytest.mark.parametrize(("shape", "target"), [((1, 3), (2, 3)), ((2, 1), (4, 2, 3)), ((1, 1), (2, 3))])
def test_broadcast_to_static_broadcasting(shape, target):
    sg.verify_grad(lambda x: sg.broadcast_to(_fixed(x, shape), target), [_data(shape)], rng=0)


def test_broadcast_to_symbolic_shape():
    sg.verify_grad(lambda x, y: sg.broadcast_to(x, y.shape) * y, [_data((1, 3)), _data((2, 3), seed=1)], rng=0)


def test_broadcast_to_gradient_shape_is_static_where_known():
    x = sg.tensor("x", shape=(1, 3))
    g = sg.grad(sg.broadcast_to(x, (4, 2, 3)).sum(), x)
    assert g.type.shape == (1, 3)
    np.testing.assert_array_equal(g.eval({x: np.zeros((1, 3))}), np.full((1, 3), 8.0))


@pytest.mark.parametrize(
    ("shape", "target"), [((), (2, 3)), ((3,), (2, 3)), ((2, 1), (2, 3)), ((1, 1), (3, 2, 2)), ((2,), (0, 2))]
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_alloc_value(shape, target, dtype):
    sg.verify_grad(lambda v: sg.alloc(v, *target), [_data(shape, dtype)], rng=0)


def test_fill_and_full_value():
    model = _data((2, 3))
    sg.verify_grad(lambda m, v: sg.fill(m, v) * m, [model, _data((3,), seed=1)], rng=0)
    sg.verify_grad(lambda v: sg.full((2, 2), v), [_data(())], rng=0)


def test_zeros_like_and_ones_like_pass_no_gradient_to_the_model():
    x = sg.matrix("x")
    cost = (sg.zeros_like(x) + sg.ones_like(x) * 2).sum() + x.sum()
    np.testing.assert_array_equal(sg.grad(cost, x).eval({x: np.zeros((2, 2))}), np.ones((2, 2)))
    with pytest.raises(sg.DisconnectedInputError):
        sg.grad(sg.zeros_like(x).sum(), x)


@pytest.mark.parametrize(("shape", "spec"), [((2, 3), (2, 3)), ((2, 3), (None, 3)), ((), ()), ((0, 2), (0, None))])
def test_specify_shape(shape, spec):
    sg.verify_grad(lambda x: sg.specify_shape(x, spec) * 2, [_data(shape)], rng=0)


def test_float_arange_start_and_step():
    def fn(start, step):
        return sg.arange(start, 2.9, step) ** 2

    sg.verify_grad(fn, [np.float64(0.3), np.float64(0.7)], rng=0)
    start, stop, step = sg.scalar("start"), sg.scalar("stop"), sg.scalar("step")
    g = sg.grad(sg.arange(start, stop, step).sum(), [start, stop, step], disconnected_inputs="ignore")
    values = [v.eval({start: 0.0, stop: 3.5, step: 1.0}) for v in g]
    np.testing.assert_allclose(values, [4.0, 0.0, 6.0])  # stop only sets the length


def test_integer_ops_pass_no_gradient():
    x = sg.vector("x")
    n = sg.cast(x.shape[0], "float64")
    for cost in [sg.cast(sg.shape(x).sum(), "float64"), n, (sg.eye(x.shape[0]) * 1.0).sum()]:
        with pytest.raises(sg.DisconnectedInputError):
            sg.grad(cost, x)
    for out in [sg.shape(x), sg.shape_i(x, 0), sg.eye(3, 4, x.shape[0])]:
        assert out.owner.op.vjp(out.owner, [sg.ones_like(out, "float64")]) == [None] * len(out.owner.inputs)


# -- second derivatives -----------------------------------------------------------------------
def test_grad_of_grad_through_shape_ops():
    def f(x):
        y = sg.concatenate([x.reshape((-1,)), x.T.flatten()]) ** 3
        a, b = sg.split(y, [4, 4], 2)
        return (sg.broadcast_to(a[None, :], (2, 4)) * sg.concatenate([b.reshape((1, 4)), b.reshape((1, 4)) ** 2])).sum()

    data = _data((2, 2))
    sg.verify_grad(lambda x: sg.grad(f(x), x), [data], rng=0)
    v = _data((2, 2), seed=3)
    sg.verify_grad(lambda x: sg.hessian_vector_product(f(x), x, sg.constant(v)), [data], rng=0)


def test_grad_of_grad_through_alloc_and_stack():
    def f(x):
        return (sg.stack([x, x**2], axis=1) * sg.alloc(x[0], 3, 2) ** 2).sum()

    sg.verify_grad(lambda x: sg.grad(f(x), x), [_data((3,))], rng=0)


# -- torch.autograd ---------------------------------------------------------------------------
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _against_torch(torch, sg_fn, torch_fn, shapes, seed=0):
    """Values and input gradients of sum(fn(*xs) * w) agree with torch.autograd."""
    data = [_data(s, seed=seed + i) for i, s in enumerate(shapes)]
    variables = [sg.tensor(f"x{i}", dtype="float64", shape=(None,) * len(s)) for i, s in enumerate(shapes)]
    out = sg_fn(*variables)
    ts = [torch.tensor(d, requires_grad=True) for d in data]
    t_out = torch_fn(*ts)
    w = _data(tuple(t_out.shape), seed=99)
    cost = (out * sg.constant(w)).sum()
    results = sg.function(variables, [out, *sg.grad(cost, variables)])(*data)
    (t_out * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(results[0], t_out.detach().numpy(), rtol=1e-12)
    for got, t in zip(results[1:], ts):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("shape", "target"), [((2, 3), (3, 2)), ((2, 3, 2), (-1, 4)), ((4,), (2, 1, 2))])
def test_reshape_matches_torch(torch, shape, target):
    _against_torch(torch, lambda x: x.reshape(target), lambda t: t.reshape(target), [shape])


@pytest.mark.parametrize("perm", [(1, 0, 2), (2, 0, 1), (0, 1, 2)])
def test_permute_matches_torch(torch, perm):
    _against_torch(torch, lambda x: sg.transpose(x, perm), lambda t: t.permute(perm), [(2, 3, 4)])
    _against_torch(torch, lambda x: x.T, lambda t: t.T, [(2, 3)])


@pytest.mark.parametrize(("shapes", "axis"), [([(2, 3), (1, 3), (2, 3)], 0), ([(2, 1), (2, 4)], 1)])
def test_cat_matches_torch(torch, shapes, axis):
    _against_torch(torch, lambda *xs: sg.concatenate(xs, axis), lambda *ts: torch.cat(ts, axis), shapes)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack_matches_torch(torch, axis):
    shapes = [(2, 3)] * 3
    _against_torch(torch, lambda *xs: sg.stack(xs, axis), lambda *ts: torch.stack(ts, axis), shapes)


@pytest.mark.parametrize(("sizes", "axis", "used"), [([1, 2, 2], 0, [0, 2]), ([3, 1], 1, [1]), ([2, 3], 1, [0, 1])])
def test_split_matches_torch(torch, sizes, axis, used):
    shape = (sum(sizes), 2) if axis == 0 else (2, sum(sizes))

    def sg_fn(x):
        pieces = sg.split(x, sizes, len(sizes), axis)
        return sg.concatenate([pieces[i].flatten() * (i + 1) for i in used])

    def torch_fn(t):
        pieces = torch.split(t, sizes, dim=axis)
        return torch.cat([pieces[i].flatten() * (i + 1) for i in used])

    _against_torch(torch, sg_fn, torch_fn, [shape])


@pytest.mark.parametrize(("shape", "target"), [((3,), (2, 3)), ((2, 1), (2, 4)), ((1, 1), (3, 2, 2))])
def test_broadcast_to_matches_torch_expand(torch, shape, target):
    _against_torch(torch, lambda x: sg.broadcast_to(x, target), lambda t: t.expand(*target), [shape])
    _against_torch(torch, lambda x: sg.broadcast_to(x, target), lambda t: torch.broadcast_to(t, target), [shape])
