"""LSTM and GRU written with scan against torch's nn.LSTM / nn.GRU with copied weights: outputs and every
gradient (reference backend, and numba for the LSTM)."""

import numpy as np
import pytest

import symgraph as sg
from models.layers import gru, lstm

torch = pytest.importorskip("torch")

T, B, N_IN, H = 5, 3, 4, 6


def _torch_grads(module, x, states, proj_h, extra=None):
    x = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s[None], requires_grad=True) for s in states]
    out, _ = module(x, states[0] if len(states) == 1 else tuple(states))
    cost = (out * torch.tensor(proj_h)).sum()
    params = [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0]
    cost.backward()
    return out.detach().numpy(), [x.grad.numpy()] + [s.grad.numpy()[0] for s in states] + [
        p.grad.numpy() for p in params
    ]


def _weights(module):
    return [p.detach().numpy().copy() for p in (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0,
                                                  module.bias_hh_l0)]  # fmt: skip


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_lstm_matches_torch(backend):
    torch.manual_seed(0)
    module = torch.nn.LSTM(N_IN, H).double()
    rng = np.random.default_rng(0)
    x, h0, c0, proj = (
        rng.normal(size=(T, B, N_IN)),
        rng.normal(size=(B, H)),
        rng.normal(size=(B, H)),
        rng.normal(size=(T, B, H)),
    )
    expected_out, expected_grads = _torch_grads(module, x, [h0, c0], proj)
    sx, sh, sc = sg.tensor3("x"), sg.matrix("h0"), sg.matrix("c0")
    params = [sg.matrix("w_ih"), sg.matrix("w_hh"), sg.vector("b_ih"), sg.vector("b_hh")]
    hs, _ = lstm(sx, sh, sc, *params)
    cost = (hs * proj).sum()
    grads = sg.grad(cost, [sx, sh, sc, *params])
    f = sg.function([sx, sh, sc, *params], [hs, *grads], backend=backend)
    out, *got = f(x, h0, c0, *_weights(module))
    np.testing.assert_allclose(out, expected_out, rtol=1e-10, atol=1e-12)
    for g, e in zip(got, expected_grads):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-11)


def test_gru_matches_torch():
    torch.manual_seed(1)
    module = torch.nn.GRU(N_IN, H).double()
    rng = np.random.default_rng(1)
    x, h0, proj = rng.normal(size=(T, B, N_IN)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    expected_out, expected_grads = _torch_grads(module, x, [h0], proj)
    sx, sh = sg.tensor3("x"), sg.matrix("h0")
    params = [sg.matrix("w_ih"), sg.matrix("w_hh"), sg.vector("b_ih"), sg.vector("b_hh")]
    hs = gru(sx, sh, *params)
    grads = sg.grad((hs * proj).sum(), [sx, sh, *params])
    out, *got = sg.function([sx, sh, *params], [hs, *grads])(x, h0, *_weights(module))
    np.testing.assert_allclose(out, expected_out, rtol=1e-10, atol=1e-12)
    for g, e in zip(got, expected_grads):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-11)
