"""Gradients of indexing: basic and advanced reads, set_subtensor/inc_subtensor and take.

Finite differences (sg.verify_grad) for every op and index kind; torch.autograd for what torch has.
"""

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops.indexing import AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor

S = slice
MASK_34 = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
MASK_4 = np.array([False, True, True, False])


def _data(shape, dtype="float64", seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, size=shape).astype(dtype)


# -- reads: finite differences -------------------------------------------------------------
BASIC = [
    ((5,), 0),
    ((5,), -1),
    ((5,), S(1, 4)),
    ((5,), S(None, None, -1)),
    ((5,), S(4, 0, -2)),
    ((5,), S(-10, 10, 3)),
    ((5,), S(3, 1)),  # empty
    ((3, 4), (1, -1)),
    ((3, 4), (Ellipsis, 2)),
    ((3, 4), (None, 1)),
    ((3, 4), (S(None), None, S(1, 3))),
    ((3, 4), (S(None, None, -1), S(None, None, -3))),
    ((2, 3, 4), ()),
    ((2, 3, 4), (0, Ellipsis, None)),
    ((2, 3, 4), (S(None, None, -1), 1, S(None, None, 2))),
    ((0, 3), (S(None), 1)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("shape", "index"), BASIC)
def test_basic_read(shape, index, dtype):
    sg.verify_grad(lambda x: x[index], [_data(shape, dtype)], rng=0)


@pytest.mark.parametrize(
    ("bounds", "fn"),
    [
        ((1, 3), lambda x, a, b: x[a:b]),
        ((-1, 0), lambda x, a, b: x[a:b:-1]),
        ((3, -2), lambda x, a, s: x[a::s]),
        ((2, 1), lambda x, i, j: x[i, j:]),
    ],
)
def test_basic_read_symbolic_bounds(bounds, fn):
    ints = [np.array(b, dtype="int64") for b in bounds]
    sg.verify_grad(fn, [_data((4, 3)), *ints], rng=0)


ADVANCED = [
    ((5,), [0, 2, 0, 0]),  # repeated indices accumulate
    ((5,), [[1, 1], [-1, 4]]),
    ((3, 4), (S(None), [1, 1, 0])),
    ((3, 4), ([0, 0, 2], [1, 1, 3])),
    ((3, 4), (1, [3, 3])),
    ((2, 3, 4), ([0, 1, 1], S(None), [2, 2, 0])),  # separated arrays: the broadcast axis goes first
    ((2, 3, 4), (None, [1, 1], S(1, None), [[0], [3]])),
    ((5,), np.array([], dtype="int64")),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("shape", "index"), ADVANCED)
def test_advanced_read(shape, index, dtype):
    sg.verify_grad(lambda x: x[index], [_data(shape, dtype)], rng=0)


@pytest.mark.parametrize(
    ("shape", "index"),
    [((3, 4), MASK_34), ((3, 4), (S(None), MASK_4)), ((2, 3, 4), (1, S(None), MASK_4)), ((3, 4), MASK_34 & False)],
)
def test_mask_read(shape, index):
    sg.verify_grad(lambda x: x[index], [_data(shape)], rng=0)


def test_symbolic_index_arrays():
    indices = np.array([2, 0, 2, 2])
    sg.verify_grad(lambda x, i: x[i], [_data((3, 2)), indices], rng=0)
    sg.verify_grad(lambda x, m: x[m], [_data((3, 4)), MASK_34], rng=0)


@pytest.mark.parametrize(
    ("shape", "indices", "axis"),
    [((5,), [4, 4, 0], None), ((2, 3), [5, 0, 5], None), ((2, 3), [[2, 2], [0, 1]], 1), ((2, 3), [1, 1], -2)],
)
def test_take(shape, indices, axis):
    sg.verify_grad(lambda x: sg.take(x, indices, axis=axis), [_data(shape)], rng=0)


# -- writes: finite differences --------------------------------------------------------------
WRITES = [  # (x shape, index, y shape)
    ((5,), S(1, 4), (3,)),
    ((5,), S(None, None, -2), ()),  # scalar y
    ((3, 4), (1, S(None, None, -1)), (4,)),
    ((3, 4), S(1, None), (4,)),  # y lacks the leading axis: the driver sums it
    ((2, 3, 4), (Ellipsis, None, 2), (3, 1)),
    ((3, 4), [2, 0], (2, 4)),
    ((3, 4), [0, 2, 0], (3, 4)),  # duplicates: inc accumulates, set keeps the last write
    ((3, 4), [1, 1], (4,)),  # duplicates with a broadcast y
    ((3, 4), ([0, 2, 0], [3, 3, 3]), ()),
    ((2, 3, 4), ([1, 1, 0], S(None), [2, 2, 2]), (3, 3)),
    ((3, 4), MASK_34, (6,)),
    ((3, 4), (S(None), MASK_4), (3, 2)),
]


@pytest.mark.parametrize("write", [sg.set_subtensor, sg.inc_subtensor])
@pytest.mark.parametrize(("x_shape", "index", "y_shape"), WRITES)
def test_write(write, x_shape, index, y_shape):
    sg.verify_grad(lambda x, y: write(x[index], y), [_data(x_shape), _data(y_shape, seed=1)], rng=0)


@pytest.mark.parametrize("write", [sg.set_subtensor, sg.inc_subtensor])
@pytest.mark.parametrize("index", [S(0, 2), [2, 2, 0]])
def test_write_float32(write, index):
    x, y = _data((3, 4), "float32"), _data((4,), "float32", seed=1)
    sg.verify_grad(lambda x, y: write(x[index], y), [x, y], rng=0)


@pytest.mark.parametrize("write", [sg.set_subtensor, sg.inc_subtensor])
@pytest.mark.parametrize("index", [S(0, 2), [2, 2, 0]])
def test_write_with_declared_broadcast_y(write, index):
    # y has static length 1 on axis 0 and is broadcast over the indexed rows: its gradient is summed there
    def fn(x, y):
        return write(x[index], sg.specify_shape(y, (1, None)))

    sg.verify_grad(fn, [_data((3, 4)), _data((1, 4), seed=1)], rng=0)


def test_set_with_duplicates_gives_gradient_to_the_last_write_only():
    x, y = sg.vector("x"), sg.vector("y")
    out = sg.set_subtensor(x[[1, 0, 1, 1]], y)
    weights = np.array([1.0, 2.0, 3.0])
    g_x, g_y = sg.grad((out * weights).sum(), [x, y])
    g_x, g_y = sg.function([x, y], [g_x, g_y], on_unused_input="ignore")(np.zeros(3), np.arange(4.0))  # values unread
    np.testing.assert_array_equal(g_x, [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(g_y, [0.0, 1.0, 0.0, 2.0])


# -- structure, second derivatives -----------------------------------------------------------
def test_read_gradient_reuses_the_index_inputs():
    x, a, b = sg.matrix("x"), sg.scalar("a", "int64"), sg.scalar("b", "int64")
    out = x[a:b, 1]
    g = sg.grad(out.sum(), x)
    assert isinstance(g.owner.op, IncSubtensor) and not g.owner.op.set_instead_of_inc
    assert g.owner.op.idx_list == out.owner.op.idx_list and g.owner.inputs[2:] == out.owner.inputs[1:]


@pytest.mark.parametrize(
    "build",
    [
        lambda x, i: x[1:, i],
        lambda x, i: x[i],
        lambda x, i: sg.set_subtensor(x[i], 1.0),
        lambda x, i: sg.inc_subtensor(x[:, 0:2], 1.0),
        lambda x, i: sg.set_subtensor(x[i, i], 1.0),
    ],
)
def test_index_inputs_get_no_gradient(build):
    out = build(sg.matrix("x"), sg.vector("i", "int64"))
    node = out.owner
    grads = node.op.vjp(node, [sg.ones_like(out)])
    assert isinstance(node.op, Subtensor | AdvancedSubtensor | IncSubtensor | AdvancedIncSubtensor)
    first_index = 1 if isinstance(node.op, Subtensor | AdvancedSubtensor) else 2
    assert all(g is not None for g in grads[:first_index])
    assert grads[first_index:] == [None] * (len(node.inputs) - first_index)


def test_grad_of_grad_basic():
    def fn(x):
        return sg.grad((x[1:] ** 2 * x[:-1]).sum() + (x[::-2] ** 3).sum(), x)

    sg.verify_grad(fn, [_data((5,))], rng=0)


def test_grad_of_grad_advanced_writes():
    def fn(x, y):
        z = sg.set_subtensor(x[[0, 2, 0]], y**2)
        z = sg.inc_subtensor(z[[1, 1], [0, 2]], y[0, :2] * y[1, 1:3])
        return sg.grad((z**3).sum() + (z[MASK_34] ** 2).sum(), [x, y])

    sg.verify_grad(fn, [_data((3, 4)), _data((3, 4), seed=1)], rng=0)


def test_hessian_vector_product_through_take():
    x, v = sg.vector("x"), sg.vector("v")
    cost = (sg.take(x, [0, 0, 2]) ** 3).sum()
    hv = sg.function([x, v], sg.hessian_vector_product(cost, x, v))
    x_val, v_val = _data((3,)), _data((3,), seed=1)
    # d2/dx2 sum_k x[i_k]**3 = diag(6 x * count): counts (2, 0, 1)
    np.testing.assert_allclose(hv(x_val, v_val), 6 * x_val * np.array([2, 0, 1]) * v_val)


# -- torch.autograd ---------------------------------------------------------------------------
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _compare(torch, sg_fn, torch_fn, arrays):
    """Values and gradients of sum(fn(*arrays) * w) agree between symgraph and torch (w random)."""
    variables = [sg.tensor(f"a{i}", "float64", ndim=a.ndim) for i, a in enumerate(arrays)]
    out = sg_fn(*variables)
    t_arrays = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = torch_fn(*t_arrays)
    weights = np.random.default_rng(0).uniform(-1, 1, size=tuple(t_out.shape))
    (t_out * torch.tensor(weights)).sum().backward()
    value, *grads = sg.function(variables, [out, *sg.grad((out * weights).sum(), variables)])(*arrays)
    np.testing.assert_allclose(value, t_out.detach().numpy(), rtol=1e-12)
    for g, t in zip(grads, t_arrays):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "index", [S(1, 3), (S(None), 2), (None, S(None, None, 2), -1), (Ellipsis, S(1, None)), (1, None, S(0, 4, 3))]
)
def test_basic_read_matches_torch(torch, index):
    _compare(torch, lambda x: x[index], lambda x: x[index], [_data((3, 4))])


def test_index_select_with_duplicates_matches_torch(torch):
    idx = [2, 0, 2, 2]
    _compare(torch, lambda x: sg.take(x, idx, axis=1), lambda x: torch.index_select(x, 1, torch.tensor(idx)),
             [_data((2, 3))])  # fmt: skip


def test_advanced_read_with_duplicates_matches_torch(torch):
    rows, cols = np.array([[0, 2], [0, 0]]), np.array([1, 1])
    _compare(torch, lambda x: x[rows, :, cols], lambda x: x[torch.tensor(rows), :, torch.tensor(cols)],
             [_data((3, 2, 4))])  # fmt: skip


def test_masked_select_matches_torch(torch):
    _compare(torch, lambda x: x[MASK_34], lambda x: torch.masked_select(x, torch.tensor(MASK_34)), [_data((3, 4))])


def test_basic_set_matches_torch(torch):
    def torch_set(x, y):
        z = x.clone()
        z[1:, ::2] = y
        return z

    _compare(torch, lambda x, y: sg.set_subtensor(x[1:, ::2], y), torch_set, [_data((3, 4)), _data((2,), seed=1)])


def test_index_add_matches_torch(torch):
    idx = [2, 0, 2]
    _compare(torch, lambda x, y: sg.inc_subtensor(x[idx], y), lambda x, y: x.index_add(0, torch.tensor(idx), y),
             [_data((3, 4)), _data((3, 4), seed=1)])  # fmt: skip


@pytest.mark.parametrize("accumulate", [True, False])
def test_index_put_matches_torch(torch, accumulate):
    # torch leaves the winner of repeated indices undefined without accumulate, so those have none
    rows, cols = np.array([0, 2, 0, 1]), np.array([3, 1, 3, 0]) if accumulate else np.array([3, 1, 2, 0])
    write = sg.inc_subtensor if accumulate else sg.set_subtensor
    _compare(torch, lambda x, y: write(x[rows, cols], y),
             lambda x, y: x.index_put((torch.tensor(rows), torch.tensor(cols)), y, accumulate=accumulate),
             [_data((3, 4)), _data((4,), seed=1)])  # fmt: skip


def test_masked_scatter_style_set_matches_torch(torch):
    def torch_set(x, y):
        z = x.clone()
        z[torch.tensor(MASK_34)] = y
        return z

    _compare(torch, lambda x, y: sg.set_subtensor(x[MASK_34], y), torch_set, [_data((3, 4)), _data((6,), seed=1)])
