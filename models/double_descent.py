"""Epoch-wise double descent in a linear teacher-student model (Pezeshki et al., ICML 2022, Fig. 3).

The paper: "Multi-scale Feature Learning Dynamics: Insights for Double Descent". A teacher labels latent inputs
z ~ N(0, I_d/d) with y = z.w + sigma*eps, w ~ N(0, I_d); the student sees x = F^T z with F = U S V^T (U, V Haar
orthogonal, S = 1 on p "fast" directions and 1/kappa on the d-p "slow" ones) and is trained by full-batch gradient
descent (GD) from 0 with eta = 1/lambda_max(X^T X). The test error E_G = (1 - 2R + Q)/2 with R = (F w_hat).w/d and
Q = |F w_hat|^2/d is monotone for kappa = 1 but shows epoch-wise double descent for kappa = 50: the fast features
fit (and overfit the slow features' signal, which acts as label noise) first, then the slow features are learned
and the error descends a second time; for kappa = 1e5 the slow features are never learned in 1e5 steps.

What is reproduced (n=150, d=100, p=60, kappa = 1, 50, 1e5, sigma = 0 as in the paper's Fig. 3 script; the teacher
is rescaled to |w|^2 = d, so E_G(0) = 1/2 exactly and E_G = |w - F w_hat|^2/(2d) for every seed):
- ``GDSimulator``: one compiled symgraph GD step (shared weights, ``sg.grad`` of the training MSE, an update),
  run for ``--gd-steps`` steps on one seed per kappa and checked step by step against the closed form;
- ``closed_form``: GD exactly, in the eigenbasis of X^T X: w_hat(t) = sum_i (1 - (1 - eta l_i)^t) c_i v_i with
  c_i = v_i.X^T y / l_i; it gives the seed-averaged empirical curves up to ``--t-max`` steps;
- ``theory``: the analytic curve. kappa = 1: the closed form averaged over the Marchenko-Pastur (MP) law of X^T X
  (exact as n, d -> infinity). kappa > 1: a two-time-scale theory, exact as n, d -> infinity and then
  kappa -> infinity, built from the MP laws of the two blocks. Fast phase (slow weights still 0): GD on the p fast
  features with n samples, the slow features' signal acting as label noise of variance (d-p)/d + sigma^2, giving
  R1(t), Q1(t) from MP(p/n). Slow phase (fast weights at their least-squares optimum given the slow ones): GD on
  the slow features projected off the fast ones, i.e. n-p effective samples with noise sigma^2, giving R2(t), Q2(t)
  from MP((d-p)/(n-p)) with rates scaled by 1/kappa^2; the slaved fast error is p/(n-p) times the slow error plus
  noise. E_G(t) = E_fast(t) + E_slow(t) - E_plateau (additive matching of the two phases).
- ``paper_equations``: the paper's macroscopic equations (R1, R2 from a1, a2; Q1 = b1 (c1 + Q2), Q2 = b2 (c2 + Q1)),
  i.e. two ridge-regressed MP blocks, each seeing the other's residual as noise, evaluated at the ridge
  lambda = 1/(eta t) that the paper uses as GD's proxy. Drawn for comparison; they match GD only qualitatively.

Run: ``python -m models.double_descent`` (50 seeds, compiled GD over 1e5 steps per kappa) or ``--full``
(500 seeds, compiled GD on 3 seeds per kappa); ``--help`` lists the other flags.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import ortho_group
from threadpoolctl import threadpool_limits

import symgraph as sg
from models.common import Progress
from models.common import main as common_main

NAME = "double_descent"
KAPPAS = (1.0, 50.0, 1e5)
T_CHECK = 100_000  # the time at which the late-time criteria are read


@dataclass
class Problem:
    """One draw of the teacher-student data (the student sees ``x``; ``u`` splits errors into fast/slow parts)."""

    x: np.ndarray  # (n, d) student inputs, rows x = F^T z
    y: np.ndarray  # (n,) teacher labels
    f: np.ndarray  # (d, d) modulation matrix F = U S V^T
    u: np.ndarray  # (d, d) U: its first p columns are the fast latent directions
    w: np.ndarray  # (d,) teacher weights, |w|^2 = d
    p: int


def make_problem(n: int, d: int, p: int, kappa: float, sigma: float, rng: np.random.Generator) -> Problem:
    """Teacher z.w + sigma*eps on z ~ N(0, I/d); student inputs x = F^T z with singular values 1 (p) and 1/kappa."""
    z = rng.standard_normal((n, d)) / np.sqrt(d)
    w = rng.standard_normal(d)
    w *= np.sqrt(d) / np.linalg.norm(w)
    y = z @ w + sigma * rng.standard_normal(n)
    u = ortho_group.rvs(d, random_state=rng)
    v = ortho_group.rvs(d, random_state=rng)
    s = np.where(np.arange(d) < p, 1.0, 1.0 / kappa)
    f = (u * s) @ v.T
    return Problem(z @ f, y, f, u, w, p)


def learning_rate(prob: Problem) -> float:
    """eta = 1/lambda_max(X^T X), the paper's step size for the loss |X w - y|^2 / 2."""
    return 1.0 / np.linalg.eigvalsh(prob.x.T @ prob.x)[-1]


def closed_form(prob: Problem, ts: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Exact GD from 0 at the integer times ``ts``: (fast, slow) parts of E_G, E_G = fast + slow.

    In the eigenbasis (l_i, v_i) of X^T X each coordinate of w_hat relaxes as 1 - (1 - eta l_i)^t towards the
    least-squares solution; the error w - F w_hat is split along the fast and slow columns of U.
    """
    d = prob.x.shape[1]
    lam, vecs = np.linalg.eigh(prob.x.T @ prob.x)
    eta = 1.0 / lam[-1]
    coef = vecs.T @ (prob.x.T @ prob.y) / lam
    g = prob.u.T @ prob.f @ vecs  # w_hat in the eigenbasis -> F w_hat in U's basis
    target = prob.u.T @ prob.w
    fast, slow = np.empty(len(ts)), np.empty(len(ts))
    for start in range(0, len(ts), chunk):
        t = np.asarray(ts[start : start + chunk], dtype=float)[:, None]
        err = target - ((1.0 - (1.0 - eta * lam) ** t) * coef) @ g.T
        fast[start : start + chunk] = np.sum(err[:, : prob.p] ** 2, axis=1) / (2 * d)
        slow[start : start + chunk] = np.sum(err[:, prob.p :] ** 2, axis=1) / (2 * d)
    return fast, slow


class GDSimulator:
    """Full-batch GD as one compiled symgraph function: each call returns E_G, then takes one step."""

    def __init__(self) -> None:
        zeros2, zeros1 = np.zeros((1, 1)), np.zeros(1)
        self.x, self.f = sg.shared(zeros2, "x"), sg.shared(zeros2, "F")
        self.y, self.w = sg.shared(zeros1, "y"), sg.shared(zeros1, "w_teacher")
        self.w_hat = sg.shared(zeros1, "w_hat")
        self.lr = sg.shared(np.asarray(0.0), "lr")
        mse = 0.5 * sg.mean(sg.square(sg.dot(self.x, self.w_hat) - self.y))
        grad = sg.grad(mse, self.w_hat)
        beta = sg.dot(self.f, self.w_hat)
        r, q = sg.mean(beta * self.w), sg.mean(sg.square(beta))
        self.step = sg.function([], 0.5 * (1.0 - 2.0 * r + q), updates=[(self.w_hat, self.w_hat - self.lr * grad)])

    def run(self, prob: Problem, steps: int, progress: Progress | None = None) -> np.ndarray:
        """E_G at t = 0..steps of GD from w_hat = 0 with eta = 1/lambda_max(X^T X)."""
        n, d = prob.x.shape
        for var, value in ((self.x, prob.x), (self.y, prob.y), (self.f, prob.f), (self.w, prob.w)):
            var.set_value(value)
        self.w_hat.set_value(np.zeros(d))
        self.lr.set_value(np.asarray(n * learning_rate(prob)))  # the MSE's gradient carries a 1/n
        loop = range(steps + 1) if progress is None else progress(range(steps + 1), desc="compiled GD", total=steps + 1)
        return np.array([float(self.step()) for _ in loop])


def _mp_quadrature(ratio: float, scale: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the MP law of ratio <= 1 (variance 1), scaled by ``scale``; x = mid - half cos(theta)."""
    lo, hi = (1 - np.sqrt(ratio)) ** 2, (1 + np.sqrt(ratio)) ** 2
    theta = (np.arange(nodes) + 0.5) * np.pi / nodes
    x = 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(theta)
    weights = (0.5 * (hi - lo) * np.sin(theta)) ** 2 / (2 * np.pi * ratio * x) * (np.pi / nodes)
    return scale * x, weights


def theory_learning_rate(n: int, d: int, p: int, kappa: float) -> float:
    """eta = 1/lambda_max in the large-n, d limit: the MP edge of all d directions (kappa = 1) or of the fast block."""
    width = d if kappa == 1.0 else p
    return 1.0 / ((n / d) * (1 + np.sqrt(width / n)) ** 2)


def _gd_block(share: float, eigs: np.ndarray, weights: np.ndarray, rate: float, ts: np.ndarray, noise: float):
    """(R, Q) of GD on an isotropic block holding ``share`` of the teacher's power, label-noise variance ``noise``.

    R = share * <phi>, Q = share * (<phi^2> + noise <phi^2 / l>) with phi = 1 - (1 - rate l)^t and <.> the MP average.
    """
    phi = 1.0 - (1.0 - rate * eigs[None, :]) ** np.asarray(ts, dtype=float)[:, None]
    r = share * (phi @ weights)
    q = share * ((phi**2) @ weights + noise * ((phi**2) @ (weights / eigs)))
    return r, q


def theory(ts: np.ndarray, n: int, d: int, p: int, kappa: float, sigma: float = 0.0, nodes: int = 2000):
    """Analytic (fast, slow) parts of E_G(t) from the blocks' MP laws (module docstring); needs n > d."""
    if not n > d > p > 0:
        raise ValueError(f"the theory needs n > d > p > 0, got n={n}, d={d}, p={p}")
    noise = sigma**2
    if kappa == 1.0:  # one isotropic block: the exact large-n, d limit of the closed form
        eigs, weights = _mp_quadrature(d / n, n / d, nodes)
        r, q = _gd_block(1.0, eigs, weights, theory_learning_rate(n, d, p, kappa), ts, noise)
        total = 0.5 * (1.0 - 2.0 * r + q)
        return total * p / d, total * (d - p) / d
    eta = theory_learning_rate(n, d, p, kappa)
    eigs, weights = _mp_quadrature(p / n, n / d, nodes)
    r1, q1 = _gd_block(p / d, eigs, weights, eta, ts, noise + (d - p) / d)
    eigs, weights = _mp_quadrature((d - p) / (n - p), (n - p) / d, nodes)
    r2, q2 = _gd_block((d - p) / d, eigs, weights, eta / kappa**2, ts, noise)
    slow = (d - p) / d - 2.0 * r2 + q2  # slow-block error, 2x its E_G share
    slaved = (slow + noise) * p / (n - p)  # the fast block's error when it sits at its optimum
    plateau = ((d - p) / d + noise) * p / (n - p)
    fast = (p / d - 2.0 * r1 + q1) + slaved - plateau
    return 0.5 * fast, 0.5 * slow


def paper_equations(ts: np.ndarray, n: int, d: int, p: int, kappa: float, sigma: float = 0.0) -> np.ndarray:
    """The paper's two-block macroscopic equations for E_G at ridge lambda = 1/(eta t), needs n > max(p, d-p).

    Block b (size p_b, scale s_b): alpha_b = n/p_b, l_b = lambda d/(p_b s_b^2), a_b = 1 + 2 l_b/(1 - alpha_b - l_b
    + sqrt((1 - alpha_b - l_b)^2 + 4 l_b)), R_b = (n/d)/a_b, b_b = alpha_b/(a_b^2 - alpha_b); c_1 = 1 + sigma^2
    - 2 R_2 - (2 - a_1)/a_1 n/d (and 1 <-> 2); Q_1 = b_1 (c_1 + Q_2), Q_2 = b_2 (c_2 + Q_1).
    These are the MP averages of ridge on each block with the other block's residual as extra label noise.
    """
    lam = 1.0 / (theory_learning_rate(n, d, p, kappa) * np.asarray(ts, dtype=float))
    blocks = []
    for size, scale in ((p, 1.0), (d - p, 1.0 / kappa)):
        alpha, ell = n / size, lam * d / (size * scale**2)
        gap = 1.0 - alpha - ell  # < 0 as n > size: the rationalized root below avoids cancellation
        a = 1.0 + 0.5 * (np.sqrt(gap**2 + 4.0 * ell) - gap)
        blocks.append((a, (n / d) / a, alpha / (a**2 - alpha)))
    (a1, r1, b1), (a2, r2, b2) = blocks
    c1 = 1.0 + sigma**2 - 2.0 * r2 - (2.0 - a1) / a1 * n / d
    c2 = 1.0 + sigma**2 - 2.0 * r1 - (2.0 - a2) / a2 * n / d
    q1 = (b1 * b2 * c2 + b1 * c1) / (1.0 - b1 * b2)
    q2 = (b1 * b2 * c1 + b2 * c2) / (1.0 - b1 * b2)
    return 0.5 * (1.0 - 2.0 * (r1 + r2) + q1 + q2)


def time_grid(t_max: float, per_decade: int = 40) -> np.ndarray:
    """Integer GD times from 1 to ``t_max``, log-spaced, always holding T_CHECK when it is in range."""
    ts = np.rint(np.logspace(0.0, np.log10(t_max), int(round(per_decade * np.log10(t_max))) + 1))
    if t_max >= T_CHECK:
        ts = np.append(ts, T_CHECK)
    return np.unique(ts).astype(np.int64)


def interior_extrema(values: np.ndarray, tol: float = 1e-9) -> tuple[list[int], list[int]]:
    """Indices of the interior local minima and maxima of a sampled curve, ignoring steps smaller than ``tol``."""
    steps = np.diff(values)
    moving = np.flatnonzero(np.abs(steps) > tol)
    minima, maxima = [], []
    for a, b in zip(moving[:-1], moving[1:]):
        if steps[a] < 0 < steps[b]:
            minima.append(a + 1 + int(np.argmin(values[a + 1 : b + 1])))
        elif steps[a] > 0 > steps[b]:
            maxima.append(a + 1 + int(np.argmax(values[a + 1 : b + 1])))
    return minima, maxima


def _criterion(value: Any, passed: bool, target: str, **extra: Any) -> dict[str, Any]:
    return {"value": value, "target": target, **extra, "passed": bool(passed)}


def evaluate_criteria(ts: np.ndarray, mean: dict[float, np.ndarray], theory_eg: dict[float, np.ndarray],
                      gd_diff: float, gd_steps: int, gd_seeds: int) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The paper's claims, read on the seed-averaged empirical curves (times up to T_CHECK)."""
    upto = ts <= T_CHECK
    t_read = int(ts[upto][-1])
    rise = float(np.max(np.diff(mean[1.0])))
    minima, maxima = interior_extrema(mean[50.0][upto])
    t_min = int(ts[minima[0]]) if minima else None
    t_max = int(ts[maxima[0]]) if maxima else None
    height = float(mean[50.0][maxima[0]] - mean[50.0][minima[0]]) if minima and maxima else None
    final50, final1e5 = float(mean[50.0][upto][-1]), float(mean[1e5][upto][-1])
    dev = {f"kappa={k:g}": float(np.max(np.abs(theory_eg[k] - mean[k]))) for k in KAPPAS}
    worst = max(dev.values())
    return {
        "kappa1_monotone": _criterion(rise, rise <= 1e-12, "largest rise of E_G between grid times <= 1e-12"),
        "kappa50_interior_minimum": _criterion(
            t_min,
            len(minima) == 1 and 3 <= t_min <= 15,
            "one interior minimum, at t in [3, 15]",
            minima_count=len(minima),
            eg_at_minimum=float(mean[50.0][minima[0]]) if minima else None,
        ),
        "kappa50_interior_maximum": _criterion(
            t_max,
            len(maxima) == 1 and 30 <= t_max <= 300 and height >= 0.02,
            "one interior maximum, at t in [30, 300], >= 0.02 above the minimum",
            maxima_count=len(maxima),
            height_above_minimum=height,
        ),
        "kappa50_final_error": _criterion(final50, final50 < 0.02, f"E_G(t={t_read}) < 0.02", t=t_read),
        "kappa1e5_plateau": _criterion(final1e5, final1e5 >= 0.3, f"E_G(t={t_read}) >= 0.3", t=t_read),
        "gd_matches_closed_form": _criterion(
            gd_diff,
            gd_diff <= 1e-6 and gd_steps > 0 and gd_seeds > 0,
            "max |E_G(compiled GD) - E_G(closed form)| <= 1e-6 at every step",
            steps=gd_steps,
            seeds_per_kappa=gd_seeds,
        ),
        "theory_matches_empirical": _criterion(
            worst, worst <= 0.03, "max over t and kappa of |E_G(theory) - seed mean| <= 0.03", per_kappa=dev
        ),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full", action="store_true", help="sets --seeds 500 --gd-seeds 3")
    parser.add_argument("--seeds", type=int, default=50, help="seeds averaged for the empirical curves")
    parser.add_argument("--gd-seeds", type=int, default=1, help="seeds per kappa run with the compiled GD step")
    parser.add_argument("--gd-steps", type=int, default=T_CHECK, help="compiled GD steps checked per run")
    parser.add_argument("--t-max", type=float, default=1e6, help="last GD time of the curves")
    parser.add_argument("--n", type=int, default=150)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--p", type=int, default=60)
    parser.add_argument("--sigma", type=float, default=0.0, help="label noise (0 in the paper's Fig. 3)")


def run(args: argparse.Namespace, progress: Progress) -> tuple[dict[str, Any], Any]:
    """Empirical (closed form) and analytic E_G(t) for each kappa, the compiled-GD check, the figure."""
    with threadpool_limits(limits=1, user_api="blas"):  # d x d linear algebra: threads only contend
        return _run(args, progress)


def _run(args: argparse.Namespace, progress: Progress) -> tuple[dict[str, Any], Any]:
    if args.full:
        args.seeds, args.gd_seeds = 500, 3
    n, d, p, sigma = args.n, args.d, args.p, args.sigma
    ts = time_grid(args.t_max)
    sim = GDSimulator()
    mean, spread, parts, theory_parts, theory_eg, paper_eg, gd_runs = {}, {}, {}, {}, {}, {}, {}
    gd_diff = 0.0
    for kappa in KAPPAS:
        draws = [make_problem(n, d, p, kappa, sigma, np.random.default_rng([args.seed, s])) for s in range(args.seeds)]
        theory_parts[kappa] = theory(ts, n, d, p, kappa, sigma)  # first: it checks n > d > p
        theory_eg[kappa] = sum(theory_parts[kappa])
        paper_eg[kappa] = paper_equations(ts, n, d, p, kappa, sigma)
        curves = np.array([closed_form(prob, ts) for prob in progress(draws, desc=f"kappa={kappa:g}")])
        eg = curves.sum(axis=1)
        mean[kappa], parts[kappa] = eg.mean(axis=0), curves.mean(axis=0)
        spread[kappa] = eg.std(axis=0) / np.sqrt(args.seeds)  # standard error of the mean
        for prob in draws[: args.gd_seeds]:
            simulated = sim.run(prob, args.gd_steps, progress)
            exact = sum(closed_form(prob, np.arange(args.gd_steps + 1)))
            gd_diff = max(gd_diff, float(np.max(np.abs(simulated - exact))))
            gd_runs.setdefault(kappa, (simulated, exact))
    criteria = evaluate_criteria(ts, mean, theory_eg, gd_diff, args.gd_steps, args.gd_seeds)
    metrics = {
        "criteria": criteria,
        "all_passed": all(c["passed"] for c in criteria.values()),
        "settings": {
            "n": n,
            "d": d,
            "p": p,
            "kappas": list(KAPPAS),
            "sigma": sigma,
            "seeds": args.seeds,
            "gd_seeds": args.gd_seeds,
            "gd_steps": args.gd_steps,
            "t_max": int(ts[-1]),
            "backend": sg.config.backend,
            "teacher": "w ~ N(0, I_d) rescaled to |w|^2 = d",
        },
        "paper_equations_max_deviation_from_gd": {
            f"kappa={k:g}": float(np.max(np.abs(paper_eg[k] - mean[k]))) for k in KAPPAS
        },
        "largest_standard_error_of_seed_mean": float(max(np.max(spread[k]) for k in KAPPAS)),
        "theory_extrema_kappa50": _theory_extrema(ts, theory_eg[50.0]),
    }
    return metrics, _figure(ts, mean, spread, parts, theory_eg, theory_parts, paper_eg, gd_runs, args)


def _theory_extrema(ts: np.ndarray, curve: np.ndarray) -> dict[str, Any]:
    minima, maxima = interior_extrema(curve[ts <= T_CHECK])
    return {"t_minima": [int(ts[i]) for i in minima], "t_maxima": [int(ts[i]) for i in maxima]}


def _figure(ts, mean, spread, parts, theory_eg, theory_parts, paper_eg, gd_runs, args):
    import matplotlib.pyplot as plt

    colors = dict(zip(KAPPAS, ("tab:blue", "tab:orange", "tab:green")))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    ax = axes[0]
    for k in KAPPAS:
        ax.fill_between(ts, mean[k] - spread[k], mean[k] + spread[k], color=colors[k], alpha=0.12, lw=0)
        ax.plot(ts, mean[k], "--", color=colors[k], lw=2, label=rf"$\kappa$={k:g}: GD, mean of {args.seeds} seeds")
        ax.plot(ts, theory_eg[k], "-", color=colors[k], lw=1.4, alpha=0.9)
        ax.plot(ts, paper_eg[k], ":", color=colors[k], lw=1.2)
    ax.plot([], [], "k-", lw=1.4, label="theory: two-time-scale MP")
    ax.plot([], [], "k:", lw=1.2, label=r"paper's equations, ridge $\lambda=1/\eta t$")
    ax.set(xscale="log", ylim=(0, 0.6), xlabel="training time t (GD steps)", ylabel=r"$E_G$",
           title=f"Fig. 3: n={args.n}, d={args.d}, p={args.p}, $\\sigma$={args.sigma:g} (band: ±1 s.e.)")  # fmt: skip
    ax.legend(fontsize=7.5, loc="upper right")
    ax = axes[1]
    k = 50.0
    for (emp, th), label, color in zip(zip(parts[k], theory_parts[k]), ("fast features", "slow features"),
                                       ("tab:red", "tab:purple")):  # fmt: skip
        ax.plot(ts, emp, "--", color=color, lw=2, label=f"{label}: GD mean")
        ax.plot(ts, th, "-", color=color, lw=1.2, label=f"{label}: theory")
    ax.plot(ts, mean[k], "--", color=colors[k], lw=2, label=r"total $E_G$")
    ax.set(xscale="log", ylim=(0, 0.5), xlabel="training time t", ylabel="share of $E_G$",
           title=r"$\kappa$=50: the error along fast and slow latent directions")  # fmt: skip
    ax.legend(fontsize=7.5)
    ax = axes[2]
    for k, (simulated, exact) in gd_runs.items():
        if len(exact) < 2:
            continue
        steps = np.arange(len(exact))
        shown = np.unique(np.rint(np.logspace(0, np.log10(len(exact) - 1), 30)).astype(int))
        ax.plot(steps[1:], exact[1:], "-", color=colors[k], lw=1.2, label=rf"$\kappa$={k:g}: closed form")
        ax.plot(shown, simulated[shown], "o", ms=3.5, mfc="none", color=colors[k], label="compiled symgraph GD")
    gap = max((np.max(np.abs(s - e)) for s, e in gd_runs.values()), default=np.nan)
    ax.set(xscale="log", ylim=(0, 0.5), xlabel="GD step", ylabel=r"$E_G$ (seed 0)",
           title=f"compiled GD vs closed form: max |diff| = {gap:.1e}")  # fmt: skip
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """``python -m models.double_descent [--full] [...]``: writes the figure and metrics, returns the metrics."""
    return common_main(NAME, __doc__.splitlines()[0], add_arguments, run, argv)


if __name__ == "__main__":
    main()
