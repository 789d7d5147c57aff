"""models.learning_dynamics at test scale: the mode formulas, GD against them, r and p scaling, starvation."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from models import learning_dynamics as ld
from tests.helpers import needs_mnist


@pytest.mark.parametrize("loss", ld.LOSSES)
def test_theory_time_solves_the_mode_ode(loss):
    """t(u) from the closed forms equals the time the ODE du/dt = 2 r u (-l'(u)) takes (hinge: until u = 1)."""
    rate, u0 = 0.7, 1e-3
    slope = (lambda u: 1.0) if loss == "hinge" else (lambda u: 1 / (1 + np.exp(u)))
    levels = np.array([0.01, 0.3, 1.0] if loss == "hinge" else [0.01, 1.0, 4.0])
    times = ld.theory_time(levels, u0, rate, loss)
    sol = solve_ivp(lambda t, u: 2 * rate * u * slope(u), (0, times[-1]), [u0], t_eval=times, rtol=1e-10, atol=0)
    np.testing.assert_allclose(sol.y[0], levels, rtol=1e-6)


@pytest.mark.parametrize("loss", ld.LOSSES)
def test_gradient_descent_follows_theory_and_scales_with_r_and_p(loss):
    trainer = ld.build_trainer(ld.DIM, ld.HIDDEN, loss)
    base = ld.mode_run(trainer, loss, 1.0, 1.0, 1e-2, 1.0 if loss == "hinge" else 3.0, 0.01, seed=0)
    assert base["u0"] == pytest.approx(1e-2)
    assert base["rel_err"].max() < 0.01
    double = ld.mode_run(trainer, loss, 2.0, 1.0, 1e-2, 1.0, 0.01, seed=1)
    half = ld.mode_run(trainer, loss, 1.0, 0.5, 1e-2, 1.0, 0.01, seed=2)
    assert base["t_one"] / double["t_one"] == pytest.approx(2.0, rel=0.01)
    assert half["t_one"] / base["t_one"] == pytest.approx(2.0, rel=0.01)
    assert max(double["rel_err"].max(), half["rel_err"].max()) < 0.01


def test_crossing_times_interpolates_log_u():
    t = np.array([0.0, 1.0, 2.0])
    u = np.array([-0.5, 0.1, 10.0])
    out = ld.crossing_times(t, u, np.array([0.1, 1.0, 20.0, 0.0001]))
    np.testing.assert_allclose(out[:2], [1.0, 1.5])
    assert np.isnan(out[2])
    assert 0 < out[3] < 1  # linear interpolation from a negative value


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("loss", ld.LOSSES)
def test_compiled_step_is_one_gradient_descent_step(loss, relu):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 5)), np.array([1.0, -1, 1, -1, 1, -1])
    w1, w2 = rng.normal(size=(3, 5)), rng.normal(size=3)
    trainer = ld.build_trainer(5, 3, loss, relu=relu)
    trainer.reset(w1, w2)
    error, cost = trainer.step(x, y, 0.1)
    pre = x @ w1.T
    hidden = np.maximum(pre, 0) if relu else pre
    u = y * (hidden @ w2)
    slope = (u < 1).astype(float) if loss == "hinge" else 1 / (1 + np.exp(u))
    c = slope * y / len(y)  # -dL/df
    g2 = -hidden.T @ c
    g1 = -(np.outer(c, w2) * (pre > 0 if relu else 1)).T @ x
    np.testing.assert_allclose(trainer.w1.get_value(), w1 - 0.1 * g1, rtol=1e-12)
    np.testing.assert_allclose(trainer.w2.get_value(), w2 - 0.1 * g2, rtol=1e-12)
    assert error == pytest.approx(np.mean(u <= 0))
    expected = np.maximum(1 - u, 0).mean() if loss == "hinge" else np.logaddexp(0, -u).mean()
    assert cost == pytest.approx(expected)


@pytest.mark.parametrize("loss", ld.LOSSES)
def test_gradient_starvation(loss):
    args = argparse.Namespace(init_scale=0.1, lr=0.04 if loss == "ce" else 0.02, seed=0)
    criteria = {}
    curves = ld.starvation(ld.build_trainer(ld.DIM, ld.HIDDEN, loss), loss, args, criteria)
    result = criteria[f"starvation_{loss}"]["value"]
    assert result["ratio"] < 0.35 and result["u_B_alone"] >= 1.0
    assert criteria[f"starvation_share_{loss}"]["value"] == pytest.approx(0.2, rel=0.02)
    assert criteria[f"starvation_{loss}"]["passed"] and criteria[f"starvation_share_{loss}"]["passed"]
    if loss == "hinge":  # once the examples are fitted nothing moves: B stays starved
        assert curves["u_b"][-1] == pytest.approx(result["u_B_together"])


@needs_mnist
def test_main_writes_figure_and_metrics(tmp_path):
    flags = ["--lr", "0.05", "--u0", "0.05", "--init-scale", "0.2", "--mnist-steps", "15", "--mnist-n", "60",
             "--mnist-hidden", "4", "--mnist-lr", "0.05", "--mnist-init", "0.01"]  # fmt: skip
    metrics = ld.main([*flags, "--out", str(tmp_path), "--no-progress"])
    assert (tmp_path / "learning_dynamics.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert set(saved["criteria"]) == set(metrics["criteria"])
    expected = {f"{c}_{loss}" for c in ("theory_vs_gd", "r_doubling", "frequency", "starvation", "starvation_share")
                for loss in ld.LOSSES} | {"mnist_sigmoid_hinge", "mnist_sigmoid_ce", "mnist_hinge_faster"}  # fmt: skip
    assert set(saved["criteria"]) == expected
    assert all(isinstance(c["passed"], bool) for c in saved["criteria"].values())
    assert saved["criteria"]["r_doubling_hinge"]["value"] == pytest.approx(2.0, rel=0.05)
