"""Recurrent layers written with ``sg.scan``, laid out like torch's nn.LSTM / nn.GRU (so weights copy over).

The input projection of every step is one matrix product before the loop; the loop body only multiplies the
previous hidden state.
"""

from __future__ import annotations

import symgraph as sg


def lstm(x: sg.Variable, h0: sg.Variable, c0: sg.Variable, w_ih: sg.Variable, w_hh: sg.Variable,
         b_ih: sg.Variable, b_hh: sg.Variable) -> tuple[sg.Variable, sg.Variable]:  # fmt: skip
    """LSTM over ``x`` (time, batch, input); weights (4H, I), (4H, H), biases (4H,), gates in the order i, f, g, o.
    Returns the hidden and cell states of every step, each (time, batch, H)."""
    projected = sg.dot(x, w_ih.T) + (b_ih + b_hh)
    w = w_hh.T

    def step(p: sg.Variable, h: sg.Variable, c: sg.Variable, w: sg.Variable) -> list[sg.Variable]:
        gates = p + sg.dot(h, w)
        n = h.shape[1]
        i = sg.sigmoid(gates[:, :n])
        f = sg.sigmoid(gates[:, n : 2 * n])
        g = sg.tanh(gates[:, 2 * n : 3 * n])
        o = sg.sigmoid(gates[:, 3 * n :])
        c_new = f * c + i * g
        return [o * sg.tanh(c_new), c_new]

    (hs, cs), _ = sg.scan(step, sequences=projected, outputs_info=[h0, c0], non_sequences=w, name="lstm")
    return hs, cs


def gru(x: sg.Variable, h0: sg.Variable, w_ih: sg.Variable, w_hh: sg.Variable, b_ih: sg.Variable,
        b_hh: sg.Variable) -> sg.Variable:  # fmt: skip
    """GRU over ``x`` (time, batch, input); weights (3H, I), (3H, H), biases (3H,), gates in the order r, z, n.
    Returns the hidden state of every step (time, batch, H)."""
    projected = sg.dot(x, w_ih.T) + b_ih
    w = w_hh.T

    def step(p: sg.Variable, h: sg.Variable, w: sg.Variable, b: sg.Variable) -> sg.Variable:
        q = sg.dot(h, w) + b
        n = h.shape[1]
        r = sg.sigmoid(p[:, :n] + q[:, :n])
        z = sg.sigmoid(p[:, n : 2 * n] + q[:, n : 2 * n])
        candidate = sg.tanh(p[:, 2 * n :] + r * q[:, 2 * n :])
        return (1 - z) * candidate + z * h

    hs, _ = sg.scan(step, sequences=projected, outputs_info=h0, non_sequences=[w, b_hh], name="gru")
    return hs
