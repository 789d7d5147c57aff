"""Negative momentum on bilinear games and the saturating GAN (models/negative_momentum.py), at test scale."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models import negative_momentum as nm


@pytest.fixture(scope="module")
def operators():
    return {scheme: nm.compile_operator(2, scheme) for scheme in nm.SCHEMES}


@pytest.fixture(scope="module")
def game():
    return nm.game_matrix(2, seed=3)


def _spectrum_from_polys(a: np.ndarray, eta: float, beta: float, scheme: str) -> np.ndarray:
    sigmas = np.linalg.svd(a, compute_uv=False)
    return np.sort_complex(np.concatenate([np.roots(nm.char_poly(s, eta, beta, scheme)) for s in sigmas]))


@pytest.mark.parametrize("scheme", nm.SCHEMES)
@pytest.mark.parametrize(("eta", "beta"), [(0.3, -0.5), (0.7, 0.2), (1.2, -0.8)])
def test_jacobian_spectrum_is_polynomial_roots(operators, game, scheme, eta, beta):
    jac = operators[scheme][1](np.zeros(8), game, eta, beta)
    eig = np.sort_complex(np.linalg.eigvals(jac))
    np.testing.assert_allclose(eig, _spectrum_from_polys(game, eta, beta, scheme), atol=1e-7)


@pytest.mark.parametrize("scheme", nm.SCHEMES)
def test_compiled_step_matches_hand_written_update(operators, game, scheme):
    rng = np.random.default_rng(0)
    s = rng.normal(size=8)
    theta, phi, vt, vp = s[:2], s[2:4], s[4:6], s[6:]
    eta, beta = 0.4, -0.3
    vt2 = beta * vt - eta * game @ phi
    th2 = theta + vt2
    vp2 = beta * vp + eta * game.T @ (th2 if scheme == "alternating" else theta)
    expected = np.concatenate([th2, phi + vp2, vt2, vp2])
    np.testing.assert_allclose(operators[scheme][0](s, game, eta, beta), expected, rtol=1e-12)


def test_spectral_radius_criteria(operators, game):
    etas, betas = np.linspace(0.1, 1.5, 5), np.linspace(-0.9, 0.9, 5)
    ident = lambda it, **_: iter(it)  # noqa: E731
    sim, sim_poly = nm.spectral_grid(operators["simultaneous"][1], game, etas, betas, "simultaneous", ident)
    assert sim.min() > 1.0 and np.abs(sim - sim_poly).max() < 1e-6
    alt = operators["alternating"][1]
    assert max(abs(nm.rho_jacobian(alt, game, eta, 0.0) - 1) for eta in etas) < 1e-9
    assert nm.rho_jacobian(alt, game, 0.5, -0.5) < 0.995
    assert nm.rho_jacobian(alt, game, 0.5, 0.5) > 1.1


def test_trajectories_converge_with_negative_momentum_only(operators, game):
    step = operators["alternating"][0]

    def ratio(beta: float) -> float:
        norms = np.hypot(*nm.trajectory(step, game, 0.5, beta, 400, seed=1).T)
        return norms[-1] / norms[0]

    assert ratio(-0.5) < 0.1
    assert 0.2 < ratio(0.0) < 5.0
    assert ratio(0.5) > 1e6


def test_modes_covered():
    rng = np.random.default_rng(0)
    assert nm.modes_covered(nm.sample_mixture(rng, 800), 0.01)[0] == 8
    collapsed = nm.mode_centers()[[2]] + 0.05 * rng.normal(size=(800, 2))
    covered, counts, near = nm.modes_covered(collapsed, 0.01)
    assert covered == 1 and counts[2] > 700 and near > 0.9


def test_gan_steps_improve_each_players_objective():
    gan = nm.SaturatingGAN(noise_dim=2, hidden=8)
    rng = np.random.default_rng(0)
    gan.reset(rng)
    x, z = nm.sample_mixture(rng, 64), rng.normal(size=(64, 2))
    first = gan.d_step(x, z, 0.0, 0.05)
    for _ in range(5):
        last = gan.d_step(x, z, 0.0, 0.05)
    assert last > first  # D ascends its objective
    g_first = gan.g_step(z, 0.05)
    for _ in range(5):
        g_last = gan.g_step(z, 0.05)
    assert g_last < g_first  # G descends log(1 - D(G(z)))


def test_discriminator_heavy_ball_buffer():
    gan = nm.SaturatingGAN(noise_dim=2, hidden=4)
    rng = np.random.default_rng(1)
    gan.reset(rng)
    x, z = nm.sample_mixture(rng, 32), rng.normal(size=(32, 2))
    w = gan.d_params[0]
    w0 = w.get_value()
    gan.d_step(x, z, -0.5, 0.1)
    w1 = w.get_value()
    np.testing.assert_allclose(gan.d_buffers[0].get_value(), w1 - w0, rtol=1e-12)  # v_1 = -lr g_0
    gan.d_step(x, z, -0.5, 0.1)
    v2 = gan.d_buffers[0].get_value()
    np.testing.assert_allclose(w.get_value(), w1 + v2, rtol=1e-12)
    gan.reset(rng)  # buffers are cleared
    assert not gan.d_buffers[0].get_value().any()


def test_training_returns_snapshots():
    gan = nm.SaturatingGAN(noise_dim=2, hidden=4)
    snaps = gan.train(0.0, 0.05, 10, 8, np.random.default_rng(0), lambda it, **_: iter(it), 3, 50)
    assert len(snaps) == 4 and all(s.shape == (50, 2) for s in snaps)  # every 3 steps, and at the end


def test_main_writes_figures_and_metrics(tmp_path):
    argv = ["--n", "2", "--grid", "4", "--traj-steps", "50", "--gan-steps", "5", "--gan-seeds", "1", "--gan-hidden",
            "8", "--gan-batch", "16", "--gan-samples", "100", "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    metrics = nm.main(argv)
    assert (tmp_path / "negative_momentum.png").stat().st_size > 0
    assert (tmp_path / "negative_momentum_gan.png").stat().st_size > 0
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for key in [
        "rho_jacobian_vs_polynomial_max_abs_diff",
        "simultaneous_rho_gt_1_on_grid",
        "alternating_beta0_rho_eq_1",
    ]:
        assert saved[key]["passed"] is True
    assert saved["rho_jacobian_vs_polynomial_max_abs_diff"]["value"] < 1e-6
    assert set(metrics["gan_modes_covered_final"]) == {"lr=0.05 beta=-0.5", "lr=0.05 beta=+0.0", "lr=0.05 beta=+0.5"}
    assert "passed" in saved["gan_negative_momentum_covers_most_modes"]
