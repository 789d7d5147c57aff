"""Negative momentum for game dynamics (Gidel et al., AISTATS 2019, "Negative Momentum for Improved Game Dynamics").

The paper shows that on the bilinear game ``min_theta max_phi theta^T A phi`` gradient descent-ascent with
heavy-ball momentum ``beta`` diverges for every step size and momentum when both players update simultaneously,
oscillates forever (spectral radius exactly 1) with alternating updates and no momentum, and converges linearly
with alternating updates and a *negative* momentum; positive momentum makes alternating updates diverge. It then
trains the saturating GAN with negative momentum on the discriminator and reports better mode coverage.

Reproduced here, all with symgraph:

- The update operator of each scheme is written as a symbolic map ``state -> next state`` (state: both players
  and their momentum buffers; the gradients come from ``sg.grad`` of the game value). Its spectral radius over an
  (eta, beta) grid is computed two ways: eigenvalues of the Jacobian from ``sg.jacobian`` (compiled with
  ``sg.function``), and roots of the characteristic polynomials per singular value (``char_poly``); the largest
  disagreement over the grid goes in the metrics. Trajectories of the iterates are run with the compiled map.
- A saturating GAN (minimax loss, generator minimizing ``log(1 - D(G(z)))``) on a mixture of 8 Gaussians
  (radius 2, std 0.05), alternating SGD steps, heavy-ball momentum on the discriminator in {-0.5, 0, 0.5};
  small tanh MLPs, gradients from ``sg.grad``, one compiled step per player, noise drawn with NumPy. A run is
  scored by the modes covered (>= 1% of the samples within 3 std of the center) averaged over the checkpoints of
  the second half of training, since the counts oscillate.

Run: ``python -m models.negative_momentum`` (reduced scale: 3 seeds x 6000 iterations per momentum, about 1.5 CPU
minutes); ``--full`` trains 5 seeds x 20000 iterations per momentum at step sizes 0.05, 0.02 and 0.1.
Writes ``results/negative_momentum/{metrics.json, negative_momentum.png, negative_momentum_gan.png}``.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import symgraph as sg
from models.common import Progress
from models.common import main as common_main

NAME = "negative_momentum"
SCHEMES = ("simultaneous", "alternating")


# ----------------------------------------------------------------------------------------------- bilinear game
def game_matrix(n: int, seed: int, smin: float = 0.5, smax: float = 1.0) -> np.ndarray:
    """A random n x n matrix with singular values evenly spread over [smin, smax]."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.normal(size=(n, n)))
    v, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return u @ np.diag(np.linspace(smin, smax, n)) @ v.T


def update_map(n: int, scheme: str) -> tuple[list[sg.Variable], sg.Variable]:
    """Inputs ``[s, A, eta, beta]`` and the next state for one step of gradient descent-ascent with momentum.

    ``s = [theta, phi, v_theta, v_phi]`` (players and heavy-ball buffers). theta descends and phi ascends on
    ``f = theta^T A phi``: ``v' = beta v -+ eta grad``, ``x' = x + v'``. With ``scheme="alternating"`` phi's
    gradient is taken at the new theta (held constant: it is phi's partial derivative of f(theta', phi)).
    """
    s, a = sg.vector("s", shape=(4 * n,)), sg.matrix("A", shape=(n, n))
    eta, beta = sg.scalar("eta"), sg.scalar("beta")
    theta, phi, v_theta, v_phi = s[:n], s[n : 2 * n], s[2 * n : 3 * n], s[3 * n :]
    v_theta_next = beta * v_theta - eta * sg.grad(sg.dot(theta, sg.dot(a, phi)), theta)
    theta_next = theta + v_theta_next
    theta_seen = theta_next if scheme == "alternating" else theta
    grad_phi = sg.grad(sg.dot(theta_seen, sg.dot(a, phi)), phi, consider_constant=[theta_seen])
    v_phi_next = beta * v_phi + eta * grad_phi
    return [s, a, eta, beta], sg.concatenate([theta_next, phi + v_phi_next, v_theta_next, v_phi_next])


def compile_operator(n: int, scheme: str) -> tuple[sg.Function, sg.Function]:
    """Compiled (step, jacobian) of the update map, both called as ``f(s, A, eta, beta)``."""
    inputs, nxt = update_map(n, scheme)
    jacobian = sg.function(inputs, sg.jacobian(nxt, inputs[0]), on_unused_input="ignore")  # linear: s is not read
    return sg.function(inputs, nxt), jacobian


def char_poly(sigma: float, eta: float, beta: float, scheme: str) -> np.ndarray:
    """Coefficients (highest degree first) of the characteristic polynomial for one singular value sigma.

    In the SVD basis of A the game splits into 2-d games ``theta * sigma * phi``. With ``x_t = x lambda^t``,
    heavy ball gives ``(lambda - 1)(lambda - beta) theta = -eta sigma lambda phi`` and, simultaneously,
    ``(lambda - 1)(lambda - beta) phi = eta sigma lambda theta``; alternating updates see theta one step later,
    ``... = eta sigma lambda^2 theta`` (the buffers ``v_t = x_t - x_(t-1)`` are a change of variables: same
    spectrum). Multiplying the two equations:

    - simultaneous: ``(lambda - 1)^2 (lambda - beta)^2 + eta^2 sigma^2 lambda^2 = 0``
    - alternating:  ``(lambda - 1)^2 (lambda - beta)^2 + eta^2 sigma^2 lambda^3 = 0``

    the characteristic polynomials of the paper's analysis of momentum on bilinear games (Gidel et al., 2019).
    """
    quad = np.array([1.0, -(1.0 + beta), beta])
    coeffs = np.polymul(quad, quad)
    coeffs[1 if scheme == "alternating" else 2] += (eta * sigma) ** 2
    return coeffs


def rho_poly(sigmas: np.ndarray, eta: float, beta: float, scheme: str) -> float:
    """Spectral radius from the polynomial roots, the largest over the singular values."""
    return max(float(np.abs(np.roots(char_poly(s, eta, beta, scheme))).max()) for s in sigmas)


def rho_jacobian(jac: sg.Function, a: np.ndarray, eta: float, beta: float) -> float:
    """Spectral radius of the compiled Jacobian of the update map (it is linear: any state will do)."""
    return float(np.abs(np.linalg.eigvals(jac(np.zeros(4 * a.shape[0]), a, eta, beta))).max())


def spectral_grid(jac: sg.Function, a: np.ndarray, etas: np.ndarray, betas: np.ndarray, scheme: str,
                  progress: Progress) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(rho from the Jacobian, rho from the polynomials), each of shape (len(betas), len(etas))."""
    sigmas = np.linalg.svd(a, compute_uv=False)
    by_jac, by_poly = np.zeros((len(betas), len(etas))), np.zeros((len(betas), len(etas)))
    for i, beta in enumerate(progress(betas, desc=f"rho grid {scheme}")):
        for j, eta in enumerate(etas):
            by_jac[i, j] = rho_jacobian(jac, a, eta, beta)
            by_poly[i, j] = rho_poly(sigmas, eta, beta, scheme)
    return by_jac, by_poly


def trajectory(step: sg.Function, a: np.ndarray, eta: float, beta: float, steps: int, seed: int) -> np.ndarray:
    """Rows ``(|theta_t|, |phi_t|)`` for t = 0..steps from a random start with zero momentum buffers."""
    n = a.shape[0]
    s = np.concatenate([np.random.default_rng(seed).normal(size=2 * n), np.zeros(2 * n)])
    norms = [(np.linalg.norm(s[:n]), np.linalg.norm(s[n : 2 * n]))]
    for _ in range(steps):
        s = step(s, a, eta, beta)
        norms.append((np.linalg.norm(s[:n]), np.linalg.norm(s[n : 2 * n])))
    return np.array(norms)


# ----------------------------------------------------------------------------------------------------- the GAN
def mode_centers(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """Centers of the mixture, evenly spaced on a circle."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_mixture(rng: np.random.Generator, size: int, std: float = 0.05) -> np.ndarray:
    """``size`` points from the mixture of 8 Gaussians (radius 2, std ``std``)."""
    centers = mode_centers()
    return centers[rng.integers(len(centers), size=size)] + std * rng.normal(size=(size, 2))


def _mlp(x: sg.Variable, params: list[sg.SharedVariable]) -> sg.Variable:
    """tanh MLP over ``params = [W1, b1, W2, b2, ...]``; the last layer is linear."""
    pairs = list(zip(params[::2], params[1::2]))
    for w, b in pairs[:-1]:
        x = sg.tanh(sg.dot(x, w) + b)
    return sg.dot(x, pairs[-1][0]) + pairs[-1][1]


def _layers(sizes: list[int], prefix: str) -> list[sg.SharedVariable]:
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params += [
            sg.shared(np.zeros((fan_in, fan_out)), name=f"{prefix}W{i}"),
            sg.shared(np.zeros(fan_out), name=f"{prefix}b{i}"),
        ]
    return params


class SaturatingGAN:
    """Generator and discriminator MLPs with compiled alternating SGD steps; heavy-ball momentum on D.

    ``d_step(x, z, beta, lr)``: one step of D ascending ``mean log D(x) + mean log(1 - D(G(z)))`` (returns that
    value); ``g_step(z, lr)``: one step of G descending ``mean log(1 - D(G(z)))`` (the saturating loss);
    ``generate(z)``.
    """

    def __init__(self, noise_dim: int, hidden: int) -> None:
        self.noise_dim = noise_dim
        self.g_params = _layers([noise_dim, hidden, hidden, 2], "G")
        self.d_params = _layers([2, hidden, hidden, 1], "D")
        self.d_buffers = [sg.shared(np.zeros_like(p.get_value()), name=f"v_{p.name}") for p in self.d_params]
        x, z, beta = sg.matrix("x", shape=(None, 2)), sg.matrix("z", shape=(None, noise_dim)), sg.scalar("beta")
        lr = sg.scalar("lr")
        fake = _mlp(z, self.g_params)
        real_logit, fake_logit = _mlp(x, self.d_params)[:, 0], _mlp(fake, self.d_params)[:, 0]
        # log D = -softplus(-logit), log(1 - D) = -softplus(logit)
        d_value = -(sg.softplus(-real_logit).mean() + sg.softplus(fake_logit).mean())
        g_loss = -sg.softplus(fake_logit).mean()
        d_grads = sg.grad(-d_value, self.d_params)
        new_buffers = [beta * v - lr * g for v, g in zip(self.d_buffers, d_grads)]
        d_updates = list(zip(self.d_buffers, new_buffers)) + [(p, p + v) for p, v in zip(self.d_params, new_buffers)]
        g_updates = [(p, p - lr * g) for p, g in zip(self.g_params, sg.grad(g_loss, self.g_params))]
        self.d_step = sg.function([x, z, beta, lr], d_value, updates=d_updates)
        self.g_step = sg.function([z, lr], g_loss, updates=g_updates)
        self.generate = sg.function([z], fake)

    def reset(self, rng: np.random.Generator) -> None:
        """Fresh Glorot-normal weights, zero biases and buffers."""
        for p in self.g_params + self.d_params:
            shape = p.get_value().shape
            p.set_value(rng.normal(size=shape) * np.sqrt(2.0 / sum(shape)) if len(shape) == 2 else np.zeros(shape))
        for v in self.d_buffers:
            v.set_value(np.zeros_like(v.get_value()))

    def train(self, beta: float, lr: float, steps: int, batch: int, rng: np.random.Generator, progress: Progress,
              checkpoints: int, n_samples: int, desc: str = "") -> list[np.ndarray]:  # fmt: skip
        """``steps`` alternating (D then G) iterations from fresh weights; ``n_samples`` generated points at each of
        ``checkpoints`` evenly spaced iterations, the last one at the end."""
        self.reset(rng)
        every, snapshots = max(1, steps // checkpoints), []
        for it in progress(range(1, steps + 1), desc=desc, total=steps):
            self.d_step(sample_mixture(rng, batch), rng.normal(size=(batch, self.noise_dim)), beta, lr)
            self.g_step(rng.normal(size=(batch, self.noise_dim)), lr)
            if it % every == 0 or it == steps:
                snapshots.append(self.generate(rng.normal(size=(n_samples, self.noise_dim))))
        return snapshots


def modes_covered(samples: np.ndarray, min_fraction: float, std: float = 0.05) -> tuple[int, np.ndarray, float]:
    """(modes with at least ``min_fraction`` of the samples within 3 std of their center, counts per mode,
    fraction of samples within 3 std of some center)."""
    dist = np.linalg.norm(samples[:, None, :] - mode_centers()[None], axis=2)
    near = dist < 3 * std
    counts = near.sum(axis=0)
    return int((counts >= min_fraction * len(samples)).sum()), counts, float(near.any(axis=1).mean())


# ------------------------------------------------------------------------------------------- experiment, figure
TRAJECTORIES = [("simultaneous", 0.0), ("simultaneous", -0.5), ("alternating", 0.0), ("alternating", -0.5),
                ("alternating", 0.5)]  # fmt: skip
GAN_BETAS = (-0.5, 0.0, 0.5)
GAN_CHECKPOINTS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of this module (reduced-scale defaults)."""
    parser.add_argument("--n", type=int, default=4, help="size of the square game matrix A")
    parser.add_argument("--grid", type=int, default=31, help="points per axis of the (eta, beta) grid")
    parser.add_argument("--eta-max", type=float, default=1.5)
    parser.add_argument("--traj-steps", type=int, default=1000)
    parser.add_argument("--gan-steps", type=int, default=6000, help="alternating D/G iterations per GAN")
    parser.add_argument("--gan-seeds", type=int, default=3, help="GANs trained per momentum value")
    parser.add_argument(
        "--gan-lrs",
        type=lambda text: [float(v) for v in text.split(",")],
        default=[0.05],
        help="SGD step sizes of both players, comma-separated (the criterion uses the first)",
    )
    parser.add_argument("--gan-batch", type=int, default=256)
    parser.add_argument("--gan-hidden", type=int, default=64)
    parser.add_argument("--gan-noise", type=int, default=4)
    parser.add_argument("--gan-samples", type=int, default=2000, help="samples drawn to count the modes")
    parser.add_argument("--mode-fraction", type=float, default=0.01,
                        help="a mode is covered if this fraction of the samples lie within 3 std of it")  # fmt: skip
    parser.add_argument("--full", action="store_true", help="paper scale: longer GAN training, more seeds")


def _criterion(value: Any, passed: bool, **extra: Any) -> dict[str, Any]:
    return {"value": value, "passed": bool(passed), **extra}


def bilinear_experiment(args: argparse.Namespace, progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, arrays for the figure) of the bilinear-game part."""
    a = game_matrix(args.n, args.seed)
    sigmas = np.linalg.svd(a, compute_uv=False)
    etas = np.linspace(args.eta_max / args.grid, args.eta_max, args.grid)
    betas = np.linspace(-0.9, 0.9, args.grid)
    ops = {scheme: compile_operator(args.n, scheme) for scheme in SCHEMES}
    grids = {scheme: spectral_grid(ops[scheme][1], a, etas, betas, scheme, progress) for scheme in SCHEMES}
    discrepancy = max(float(np.abs(j - p).max()) for j, p in grids.values())
    alt0 = np.array([rho_jacobian(ops["alternating"][1], a, eta, 0.0) for eta in etas])
    alt0_poly = np.array([rho_poly(sigmas, eta, 0.0, "alternating") for eta in etas])
    rho_neg = rho_jacobian(ops["alternating"][1], a, 0.5, -0.5)
    rho_pos = rho_jacobian(ops["alternating"][1], a, 0.5, 0.5)
    trajs = {(scheme, beta): trajectory(ops[scheme][0], a, 0.5, beta, args.traj_steps, args.seed)
             for scheme, beta in progress(TRAJECTORIES, desc="trajectories")}  # fmt: skip

    def growth(key: tuple[str, float]) -> float:
        norms = np.hypot(trajs[key][:, 0], trajs[key][:, 1])
        return float(norms[-1] / norms[0])

    neg, pos = growth(("alternating", -0.5)), growth(("alternating", 0.5))
    alt = grids["alternating"][0]
    best = np.unravel_index(alt.argmin(), alt.shape)
    metrics = {
        "singular_values": sigmas,
        "grid": {"eta": [float(etas[0]), float(etas[-1]), len(etas)], "beta": [-0.9, 0.9, len(betas)]},
        "rho_jacobian_vs_polynomial_max_abs_diff": _criterion(discrepancy, discrepancy < 1e-6, tol=1e-6),
        "simultaneous_rho_gt_1_on_grid": _criterion(
            float(grids["simultaneous"][0].min()), grids["simultaneous"][0].min() > 1.0, measure="min rho"
        ),
        "alternating_beta0_rho_eq_1": _criterion(
            float(max(np.abs(alt0 - 1).max(), np.abs(alt0_poly - 1).max())),
            np.abs(alt0 - 1).max() < 1e-9 and np.abs(alt0_poly - 1).max() < 1e-9,
            measure="max |rho - 1| over eta, Jacobian and polynomial",
            tol=1e-9,
        ),
        "alternating_beta-0.5_eta0.5_rho_lt_0.97": _criterion(
            rho_neg,
            rho_neg < 0.97,
            rho_at_sigma_max=rho_poly(sigmas[:1], 0.5, -0.5, "alternating"),
            rho_at_sigma_min=rho_poly(sigmas[-1:], 0.5, -0.5, "alternating"),
            note="rho is set by the smallest singular value (0.5); at this (eta, beta) rho < 0.97 needs sigma >= 0.9",
        ),
        "alternating_beta-0.5_eta0.5_converges": _criterion(
            neg, neg < 1e-3, measure=f"|z_T|/|z_0|, T={args.traj_steps}"
        ),
        "alternating_beta+0.5_eta0.5_diverges": _criterion(
            pos, pos > 1e3 and rho_pos > 1, rho=rho_pos, measure=f"|z_T|/|z_0|, T={args.traj_steps}"
        ),
        "trajectory_growth": {f"{s} beta={b:+.1f}": growth((s, b)) for s, b in TRAJECTORIES},
        "alternating_best_rho_on_grid": {
            "rho": float(alt.min()),
            "eta": float(etas[best[1]]),
            "beta": float(betas[best[0]]),
        },
    }
    return metrics, {"etas": etas, "betas": betas, "grids": grids, "trajs": trajs}


def gan_experiment(args: argparse.Namespace, progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metrics, arrays for the figures) of the GAN part: ``args.gan_seeds`` GANs per (step size, momentum).

    GAN training oscillates, so a run is scored by the modes covered averaged over the checkpoints of the second
    half of training ("late"), besides the count at the end. The criterion is judged at the first step size of
    ``--gan-lrs``; the others are reported beside it.
    """
    gan = SaturatingGAN(args.gan_noise, args.gan_hidden)
    curves, quality, samples = {}, {}, {}
    for lr in args.gan_lrs:
        for beta in GAN_BETAS:
            curves[lr, beta], quality[lr, beta] = [], []
            for k in range(args.gan_seeds):
                rng = np.random.default_rng([args.seed, k])
                snaps = gan.train(beta, lr, args.gan_steps, args.gan_batch, rng, progress, GAN_CHECKPOINTS,
                                  args.gan_samples, desc=f"GAN lr={lr} beta={beta:+.1f} #{k}")  # fmt: skip
                curves[lr, beta].append([modes_covered(x, args.mode_fraction)[0] for x in snaps])
                quality[lr, beta].append(modes_covered(snaps[-1], args.mode_fraction)[2])
                if k == 0 and lr == args.gan_lrs[0]:
                    samples[beta] = snaps[-1]
    late = {key: np.mean(np.array(c)[:, len(c[0]) // 2 :], axis=1) for key, c in curves.items()}
    lr0 = args.gan_lrs[0]
    neg, zero, pos = (float(late[lr0, beta].mean()) for beta in GAN_BETAS)
    metrics = {
        "gan_negative_momentum_covers_most_modes": _criterion(
            neg, neg > max(zero, pos), lr=lr0, beta0=zero, beta_pos=pos,
            measure="modes covered at beta=-0.5, mean over seeds and over the checkpoints of the second half of "
            "training; passed if more than at beta=0 and at beta=+0.5"),
        "gan_modes_covered_late_mean": {f"lr={lr} beta={b:+.1f}": v for (lr, b), v in late.items()},
        "gan_modes_covered_final": {f"lr={lr} beta={b:+.1f}": [c[-1] for c in v] for (lr, b), v in curves.items()},
        "gan_fraction_within_3std_final": {f"lr={lr} beta={b:+.1f}": q for (lr, b), q in quality.items()},
        "gan_setup": {"steps": args.gan_steps, "seeds": args.gan_seeds, "lrs": args.gan_lrs, "batch": args.gan_batch,
                      "hidden": args.gan_hidden, "noise_dim": args.gan_noise, "mode_fraction": args.mode_fraction,
                      "checkpoints": GAN_CHECKPOINTS},
    }  # fmt: skip
    return metrics, {"samples": samples, "curves": curves, "late": late}


def _heatmap(ax: Any, rho: np.ndarray, etas: np.ndarray, betas: np.ndarray, title: str) -> Any:
    from matplotlib.colors import TwoSlopeNorm

    extent = (etas[0], etas[-1], betas[0], betas[-1])
    image = ax.imshow(rho, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r",
                      norm=TwoSlopeNorm(vmin=0.9, vcenter=1.0, vmax=1.5))  # fmt: skip
    ax.contour(etas, betas, rho, levels=[1.0], colors="k", linewidths=1)
    ax.plot([0.5], [-0.5], "k*", ms=9)
    ax.set(xlabel="step size $\\eta$", title=title)
    return image


def make_figure(bil: dict[str, Any], gan: dict[str, Any], metrics: dict[str, Any]) -> Any:
    """Six panels: rho heatmaps of both schemes, rho slices, trajectories, GAN mode coverage (late, and over time)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    etas, betas = bil["etas"], bil["betas"]
    for ax, scheme in zip(axes[0, :2], SCHEMES):
        image = _heatmap(ax, bil["grids"][scheme][0], etas, betas, f"{scheme}: $\\rho$ of sg.jacobian")
    axes[0, 0].set_ylabel("momentum $\\beta$")
    fig.colorbar(image, ax=axes[0, :2], label="$\\rho$ (clipped to [0.9, 1.5]); black: $\\rho = 1$", shrink=0.9)
    ax = axes[0, 2]
    sigmas = np.asarray(metrics["singular_values"])
    for scheme, beta in [("simultaneous", 0.0), ("alternating", 0.5), ("alternating", 0.0), ("alternating", -0.3),
                         ("alternating", -0.5)]:  # fmt: skip
        ax.plot(
            etas, [rho_poly(sigmas, eta, beta, scheme) for eta in etas], label=f"{scheme[:3]}. $\\beta$={beta:+.1f}"
        )
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="step size $\\eta$", ylabel="$\\rho$ (polynomial roots)", ylim=(0.85, 1.4),
           title="spectral radius along $\\beta$ slices")  # fmt: skip
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    for i, ((scheme, beta), norms) in enumerate(bil["trajs"].items()):
        color = f"C{i}"
        ax.semilogy(norms[:, 0], color=color, label=f"{scheme[:3]}. $\\beta$={beta:+.1f}: $|\\theta_t|$")
        ax.semilogy(norms[:, 1], color=color, ls=":", lw=1)
    ax.set(xlabel="iteration", ylabel="$|\\theta_t|$ (solid), $|\\phi_t|$ (dotted)", ylim=(1e-8, 1e8),
           title="bilinear game iterates, $\\eta = 0.5$")  # fmt: skip
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    lrs = list(dict.fromkeys(lr for lr, _ in gan["late"]))
    for (lr, beta), late in gan["late"].items():
        i, x = GAN_BETAS.index(beta), lrs.index(lr) * (len(GAN_BETAS) + 1) + GAN_BETAS.index(beta)
        ax.bar(x, late.mean(), color=f"C{i}", alpha=0.6, label=f"$\\beta$={beta:+.1f}" if lr == lrs[0] else None)
        ax.plot(x + np.linspace(-0.2, 0.2, len(late)), late, "ko", ms=3)
    ticks = [k * (len(GAN_BETAS) + 1) + 1 for k in range(len(lrs))]
    ax.set(xticks=ticks, xticklabels=[f"SGD lr {lr}" for lr in lrs], ylim=(0, 9),
           ylabel="modes covered (of 8), second half of training", title="saturating GAN, momentum on D")  # fmt: skip
    ax.legend(fontsize=8, ncol=3, loc="upper center", title="bars: mean; dots: seeds", title_fontsize=8)
    ax = axes[1, 2]
    for i, beta in enumerate(GAN_BETAS):
        curves = np.array(gan["curves"][lrs[0], beta])
        iters = np.linspace(0, 1, curves.shape[1] + 1)[1:]
        ax.plot(iters, curves.mean(axis=0), "o-", color=f"C{i}", label=f"$\\beta$={beta:+.1f}")
    ax.set(xlabel="fraction of training", ylabel="modes covered (mean over seeds)", ylim=(0, 8.5),
           title=f"mode coverage during training, lr {lrs[0]}")  # fmt: skip
    ax.legend(fontsize=8)
    fig.suptitle("Negative momentum for game dynamics (Gidel et al., 2019)")
    return fig


def make_gan_figure(gan: dict[str, Any], args: argparse.Namespace) -> Any:
    """Generated samples per momentum value (first seed) beside real data; circles of radius 3 std at the modes."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(args.seed)
    panels = [("real data", sample_mixture(rng, args.gan_samples), None)]
    panels += [(f"$\\beta$ = {b:+.1f}", gan["samples"][b], gan["curves"][args.gan_lrs[0], b][0][-1]) for b in GAN_BETAS]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.2))
    for ax, (title, points, covered) in zip(axes, panels):
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
        for c in mode_centers():
            ax.add_patch(plt.Circle(c, 0.15, fill=False, color="r", lw=0.8))
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal",
               title=title if covered is None else f"{title}: {covered}/8 modes")  # fmt: skip
    fig.suptitle(f"saturating GAN, alternating SGD (lr {args.gan_lrs[0]}), momentum on D, {args.gan_steps} iterations")
    return fig


def run(args: argparse.Namespace, progress: Progress) -> tuple[dict[str, Any], Any]:
    """Both experiments; writes the GAN sample figure next to the main one."""
    if args.full:
        args.grid, args.gan_steps, args.gan_seeds, args.gan_lrs = 61, 20000, 5, [0.05, 0.02, 0.1]
    bil_metrics, bil = bilinear_experiment(args, progress)
    gan_metrics, gan = gan_experiment(args, progress)
    metrics = {**bil_metrics, **gan_metrics}
    args.out.mkdir(parents=True, exist_ok=True)
    gan_fig = make_gan_figure(gan, args)
    gan_fig.savefig(args.out / f"{NAME}_gan.png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(gan_fig)
    return metrics, make_figure(bil, gan, metrics)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """``python -m models.negative_momentum [--full] ...``; returns the metrics."""
    return common_main(NAME, __doc__.splitlines()[0], add_arguments, run, argv)


if __name__ == "__main__":
    main()
