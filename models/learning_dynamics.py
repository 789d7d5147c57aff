"""Learning dynamics of small-initialised networks in binary classification (Tachet des Combes et al., 2018).

The paper ("On the Learning Dynamics of Deep Neural Networks") shows that, from a small initialisation, a network
learns a separable binary task in sigmoid-shaped steps: each mode's strength ``u = y f(x)`` stays near zero for a
plateau whose length scales as ``1 / r`` (``r`` the input norm of the mode) and ``1 / p`` (``p`` the fraction of
examples showing the feature), then rises quickly; hinge loss learns faster than cross-entropy; and co-occurring
features compete: once the strong one fits the data, the loss gradient vanishes and the weak one is starved.

Reproduced here with a two-layer linear network ``f(x) = w2 . (W1 x)`` trained by full-batch gradient descent (a
compiled symgraph step, gradients from ``sg.grad``, time ``t = step * lr``). With the balanced rank-one initialisation
``W1 = s q e^T, w2 = s q`` and data ``y x = r e``, the mode obeys ``du/dt = 2 p r u (-l'(u))``:

* hinge ``l(u) = max(0, 1 - u)``: ``u(t) = u0 exp(2 p r t)`` until ``u = 1``;
* cross-entropy ``l(u) = log(1 + exp(-u))``: ``2 p r t = ln(u / u0) + Ei(u) - Ei(u0)``.

Criteria (each in ``metrics.json`` with its value and ``passed``): the time gradient descent takes to reach every
level ``u`` on a log grid (from ``10 u0`` to 1 for hinge, to 3 for cross-entropy) is within 1% of the formula, in
every run below; doubling ``r`` halves the time to ``u = 1`` (within 1%); a feature present in a fraction ``p`` of the
examples (the others are blank, x = 0) takes ``1 / p`` times longer (within 1%).

Gradient starvation: ``y x = r_A e_A + r_B e_B`` with ``r_A = 2 r_B`` and a small random init, against the same
init trained on ``y x = r_B e_B`` alone; ``u_B`` is the margin the network gives a B-only input. The shared output
weight makes B grow with A at first, but once the examples are fitted the loss gradient vanishes (hinge: exactly)
and B keeps the share ``r_B^2 / (r_A^2 + r_B^2)`` = 0.2 of the margin (criterion: within 2%), whereas alone it reaches
the full margin. The ratio ``u_B(with A) / u_B(alone)`` is read when the B-alone run learns B (``u_B = 1``) for hinge,
at 3 times that moment for cross-entropy (which starves gradually: at that moment it is still 0.9-1); both must
be below 0.35. The metrics also give both margins when the joint run first fits the data (``at_fit``).

Real data: MNIST 0 vs 1 (``models.data.mnist_pair``), a two-layer ReLU net from a small init, both losses. The loss
stays on a plateau, then drops in a sigmoid; the training error, after a short transient in which the random signs
of the initial outputs are overwritten, sits at 25-30% through the plateau and falls below 1% with the loss. The
hinge plateau is half as long as the cross-entropy one (``-l'(0)`` is 1 vs 1/2; criterion: ratio within 15% of 2).

Not reproduced: independent modes (with one output, modes share ``w2`` and are coupled), deeper networks, the phase
diagram of failing initialisations.

Run: ``python -m models.learning_dynamics`` (about 20 s on 2 cores), ``--full`` (overrides the step and scale flags:
smaller step and init, longer and wider MNIST run).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expi

import symgraph as sg
from models.common import Progress
from models.common import main as common_main
from models.data import mnist_pair

LOSSES = ("hinge", "ce")
LOSS_LABEL = {"hinge": "hinge", "ce": "cross-entropy"}
HIDDEN = 8  # hidden width of the synthetic network
DIM = 4  # input dimension of the synthetic data


@dataclass
class Trainer:
    """A compiled GD step ``step(x, y, lr) -> [training error, loss]`` (before the step) and ``probe(x) -> f(x)``."""

    step: sg.Function
    probe: sg.Function
    w1: sg.SharedVariable
    w2: sg.SharedVariable

    def reset(self, w1: np.ndarray, w2: np.ndarray) -> None:
        """Set the weights (copied)."""
        self.w1.set_value(np.array(w1, dtype=sg.config.floatX))
        self.w2.set_value(np.array(w2, dtype=sg.config.floatX))


def build_trainer(n_in: int, n_hidden: int, loss: str, relu: bool = False) -> Trainer:
    """Two-layer network ``f(x) = w2 . act(W1 x)`` (act: identity or ReLU), full-batch GD on the mean loss of
    the margins ``y f(x)``, labels in {-1, +1}."""
    x, y, lr = sg.matrix("x"), sg.vector("y"), sg.scalar("lr")
    w1 = sg.shared(np.zeros((n_hidden, n_in), dtype=sg.config.floatX), name="W1")
    w2 = sg.shared(np.zeros(n_hidden, dtype=sg.config.floatX), name="w2")

    def forward(inputs: sg.Variable) -> sg.Variable:
        hidden = sg.dot(inputs, w1.T)
        return sg.dot(sg.nnet.relu(hidden) if relu else hidden, w2)

    margin = y * forward(x)
    if loss == "hinge":
        cost = sg.nnet.binary_hinge_loss(margin, 1.0, binary=False).mean()
    elif loss == "ce":
        cost = sg.nnet.softplus(-margin).mean()
    else:
        raise ValueError(f"unknown loss {loss!r}")
    g1, g2 = sg.grad(cost, [w1, w2])
    error = (margin <= 0).mean()
    step = sg.function([x, y, lr], [error, cost], updates=[(w1, w1 - lr * g1), (w2, w2 - lr * g2)])
    probe = sg.function([x], forward(x))
    return Trainer(step, probe, w1, w2)


def theory_time(u: np.ndarray, u0: float, rate: float, loss: str) -> np.ndarray:
    """Gradient-flow time for a mode of strength ``rate = p r`` to grow from ``u0`` to ``u`` (balanced init)."""
    u = np.asarray(u, dtype=float)
    if loss == "hinge":
        return np.log(u / u0) / (2 * rate)
    return (np.log(u / u0) + expi(u) - expi(u0)) / (2 * rate)


def crossing_times(t: np.ndarray, u: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """First time the trajectory ``u(t)`` reaches each (positive) level, interpolating ``log u`` between steps
    (``u`` itself from a non-positive value); NaN if never."""
    out = np.full(len(levels), np.nan)
    for i, level in enumerate(levels):
        k = int(np.argmax(u >= level))
        if u[k] < level:
            continue
        if k == 0:
            out[i] = t[0]
            continue
        a, b, c = (np.log(v) for v in (u[k - 1], u[k], level)) if u[k - 1] > 0 else (u[k - 1], u[k], level)
        out[i] = t[k - 1] + (t[k] - t[k - 1]) * (c - a) / (b - a)
    return out


def train(
    trainer: Trainer,
    x: np.ndarray,
    y: np.ndarray,
    probes: np.ndarray,
    init: tuple[np.ndarray, np.ndarray],
    lr: float,
    steps: int,
) -> np.ndarray:
    """Run ``steps`` GD steps from ``init``; returns ``f(probes)`` before each step and after the last,
    shape ``(steps + 1, len(probes))``."""
    trainer.reset(*init)
    out = np.empty((steps + 1, len(probes)))
    out[0] = trainer.probe(probes)
    for k in range(steps):
        trainer.step(x, y, lr)
        out[k + 1] = trainer.probe(probes)
    return out


def mode_data(r: float, p: float = 1.0, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples with labels alternating +-1; the first ``p n`` carry the feature ``y x = r e_0``, the
    others are blank (x = 0)."""
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    x = np.zeros((n, DIM))
    carriers = int(round(p * n))
    x[:carriers, 0] = r * y[:carriers]
    return x, y


def balanced_init(u0: float, r: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``W1 = s q e_0^T, w2 = s q`` with ``|q| = 1`` and ``s^2 r = u0``: the mode starts at strength ``u0``."""
    q = rng.normal(size=HIDDEN)
    q *= np.sqrt(u0 / r) / np.linalg.norm(q)
    w1 = np.zeros((HIDDEN, DIM))
    w1[:, 0] = q
    return w1, q.copy()


def mode_run(trainer: Trainer, loss: str, r: float, p: float, u0: float, u_end: float, lr: float, seed: int) -> dict:
    """Train on ``mode_data(r, p)`` until the theory says ``u = u_end`` (plus 5%); returns times, u and the
    relative error of the GD time to reach each level of a log grid up to ``u_end``."""
    x, y = mode_data(r, p)
    init = balanced_init(u0, r, np.random.default_rng(seed))
    t_end = 1.05 * float(theory_time(u_end, u0, p * r, loss))
    steps = int(np.ceil(t_end / lr))
    u = train(trainer, x, y, np.array([[r] + [0.0] * (DIM - 1)]), init, lr, steps)[:, 0]
    t = lr * np.arange(steps + 1)
    levels = np.geomspace(10 * u0, u_end, 40)
    t_gd = crossing_times(t, u, levels)
    t_th = theory_time(levels, u[0], p * r, loss)
    t_one = float(crossing_times(t, u, np.array([1.0]))[0])
    return {"t": t, "u": u, "u0": u[0], "rel_err": np.abs(t_gd - t_th) / t_th, "t_one": t_one}


def starvation_runs(trainer: Trainer, loss: str, r_b: float, scale: float, lr: float, t_end: float, seed: int):
    """Small random init; train on ``y x = 2 r_B e_A + r_B e_B`` (together) and on ``y x = r_B e_B`` (B alone).
    Returns times and the margins of A-only and B-only inputs (together) and of the B-only input (alone)."""
    rng = np.random.default_rng(seed)
    init = (scale * rng.normal(size=(HIDDEN, DIM)), scale * rng.normal(size=HIDDEN))
    _, y = mode_data(1.0)
    e_a, e_b = np.eye(DIM)[0], np.eye(DIM)[1]
    steps = int(np.ceil(t_end / lr))
    probes = np.stack([2 * r_b * e_a, r_b * e_b])
    together = train(trainer, y[:, None] * (2 * r_b * e_a + r_b * e_b), y, probes, init, lr, steps)
    alone = train(trainer, y[:, None] * (r_b * e_b), y, probes[1:], init, lr, steps)[:, 0]
    return lr * np.arange(steps + 1), together[:, 0], together[:, 1], alone


def curve(trainer: Trainer, x: np.ndarray, y: np.ndarray, init, lr: float, steps: int, progress: Progress, desc: str):
    """Training error and loss before each of ``steps`` GD steps (times ``0, lr, 2 lr, ...``), shape (2, steps)."""
    trainer.reset(*init)
    return np.array([trainer.step(x, y, lr) for _ in progress(range(steps), desc=desc)], dtype=float).T


def _finite(value: Any) -> Any:
    """NaN (an event that did not happen in the run) as None, recursively, so that the JSON stays valid."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _criterion(value: Any, passed: bool, target: str) -> dict:
    return {"value": _finite(value), "target": target, "passed": bool(passed)}


def synthetic(args: argparse.Namespace, progress: Progress) -> tuple[dict, dict]:
    """Mode runs (theory, r doubling, frequency) and starvation runs for both losses: (criteria, curves)."""
    criteria, curves = {}, {}
    variants = [(1.0, 1.0), (2.0, 1.0), (1.0, 0.5), (1.0, 0.25)]  # (r, p)
    for loss in progress(LOSSES, desc="synthetic"):
        trainer = build_trainer(DIM, HIDDEN, loss)
        u_top = 1.0 if loss == "hinge" else 3.0
        runs = {
            (r, p): mode_run(trainer, loss, r, p, args.u0, u_top if (r, p) == (1.0, 1.0) else 1.0, args.lr, args.seed)
            for r, p in variants
        }
        worst = max(float(np.max(run["rel_err"])) for run in runs.values())
        criteria[f"theory_vs_gd_{loss}"] = _criterion(
            worst, worst < 0.01, "max relative error of the GD time to reach u (log grid, every r and p run) < 1%"
        )
        halving = runs[1.0, 1.0]["t_one"] / runs[2.0, 1.0]["t_one"]
        criteria[f"r_doubling_{loss}"] = _criterion(
            halving, abs(halving / 2 - 1) < 0.01, "t(u=1; r=1) / t(u=1; r=2) within 1% of 2"
        )
        slowdown = {p: runs[1.0, p]["t_one"] / runs[1.0, 1.0]["t_one"] for p in (0.5, 0.25)}
        off = max(abs(p * v - 1) for p, v in slowdown.items())
        criteria[f"frequency_{loss}"] = _criterion(
            {f"p={p}": v for p, v in slowdown.items()}, off < 0.01, "t(u=1; p) / t(u=1; p=1) within 1% of 1/p"
        )
        curves[loss] = {"runs": runs, "starvation": starvation(trainer, loss, args, criteria)}
    return criteria, curves


def starvation(trainer: Trainer, loss: str, args: argparse.Namespace, criteria: dict) -> dict:
    """Gradient starvation runs (r_A = 2 r_B = 1); adds its criteria; returns the curves and the read-out time."""
    r_b = 0.5
    t_b_est = float(theory_time(1.0, args.init_scale**2 * r_b, r_b, loss))
    t, u_a, u_b, alone = starvation_runs(
        trainer, loss, r_b, args.init_scale, args.lr, (1.3 if loss == "hinge" else 3.3) * t_b_est, args.seed
    )
    t_b = float(crossing_times(t, alone, np.array([1.0]))[0])
    t_read = t_b if loss == "hinge" else 3 * t_b
    k = min(int(np.ceil(t_read / args.lr)), len(t) - 1) if np.isfinite(t_read) else len(t) - 1
    ratio = float(u_b[k] / alone[k])
    share = float(u_b[k] / (u_a[k] + u_b[k]))
    k_b = min(int(np.ceil(t_b / args.lr)), len(t) - 1) if np.isfinite(t_b) else len(t) - 1
    k_fit = int(np.argmax(u_a + u_b >= 1))
    when = "when B alone reaches u_B = 1" if loss == "hinge" else "at 3x the time B alone reaches u_B = 1"
    criteria[f"starvation_{loss}"] = _criterion(
        {"ratio": ratio, "t_read": float(t[k]), "u_B_together": float(u_b[k]), "u_B_alone": float(alone[k]),
         "ratio_when_B_alone_learned": float(u_b[k_b] / alone[k_b]),
         "at_fit": {"t": float(t[k_fit]), "u_B_together": float(u_b[k_fit]), "u_B_alone": float(alone[k_fit])}},
        ratio < 0.35 and np.isfinite(t_read) and t_read <= t[-1],
        f"u_B(trained with A) / u_B(trained alone) {when} < 0.35",
    )  # fmt: skip
    predicted = r_b**2 / (1 + r_b**2)
    criteria[f"starvation_share_{loss}"] = _criterion(
        share,
        abs(share / predicted - 1) < 0.02,
        f"u_B / (u_A + u_B) within 2% of r_B^2 / (r_A^2 + r_B^2) = {predicted}",
    )
    return {"t": t, "u_a": u_a, "u_b": u_b, "alone": alone, "t_read": float(t[k])}


def first_time(t: np.ndarray, values: np.ndarray, below: float) -> float:
    """First time ``values <= below`` (NaN if never)."""
    hit = np.flatnonzero(values <= below)
    return float(t[hit[0]]) if hit.size else float("nan")


def mnist(args: argparse.Namespace, progress: Progress) -> tuple[dict, dict]:
    """MNIST 0 vs 1, two-layer ReLU net from a small init, hinge and cross-entropy: (criteria, curves)."""
    x, y = mnist_pair(0, 1)
    if args.mnist_n:
        keep = np.random.default_rng(args.seed).permutation(len(y))[: args.mnist_n]
        x, y = x[keep], y[keep]
    rng = np.random.default_rng(args.seed)
    h = args.mnist_hidden
    init = (args.mnist_init * rng.normal(size=(h, x.shape[1])), args.mnist_init * rng.normal(size=h))
    t = args.mnist_lr * np.arange(args.mnist_steps)
    criteria, curves, plateau = {}, {"t": t}, {}
    for loss in LOSSES:
        trainer = build_trainer(x.shape[1], h, loss, relu=True)
        error, cost = curve(trainer, x, y, init, args.mnist_lr, args.mnist_steps, progress, f"MNIST {loss}")
        curves[loss] = (error, cost)
        t90, t50 = first_time(t, cost, 0.9 * cost[0]), first_time(t, cost, 0.5 * cost[0])
        plateau[loss] = t90
        k90 = min(int(np.searchsorted(t, t90)), len(t) - 1) if np.isfinite(t90) else len(t) - 1
        value = {"loss_plateau_end": t90, "loss_at_half": t50, "error_at_plateau_end": float(error[k90]),
                 "error_below_2pct_at": first_time(t, error, 0.02), "final_error": float(error[-1])}  # fmt: skip
        criteria[f"mnist_sigmoid_{loss}"] = _criterion(
            value,
            t50 - t90 <= t90 and error[k90] >= 0.1 and error[-1] <= 0.01,
            "loss plateau (>= 90% of its initial value) lasts longer than its drop from 90% to 50%; training "
            "error still >= 10% at the plateau end, <= 1% at the end of the run",
        )
    ratio = plateau["ce"] / plateau["hinge"]
    criteria["mnist_hinge_faster"] = _criterion(
        ratio,
        abs(ratio / 2 - 1) <= 0.15,
        "loss plateau length, cross-entropy / hinge, within 15% of 2 (small u: -l'(0) is 1 for hinge, 1/2 for CE)",
    )
    return criteria, curves


def figure(curves: dict, mnist_curves: dict, args: argparse.Namespace):
    """Six panels: theory vs GD, r and p variants, time collapse, starvation (hinge, CE), MNIST."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    colors = {"hinge": "C0", "ce": "C3"}
    ax = axes[0, 0]
    for loss, c in curves.items():
        run = c["runs"][1.0, 1.0]
        levels = np.geomspace(run["u0"], run["u"].max(), 200)
        ax.plot(theory_time(levels, run["u0"], 1.0, loss), levels, color=colors[loss], lw=3, alpha=0.4,
                label=f"{LOSS_LABEL[loss]}: theory")  # fmt: skip
        thin = max(1, len(run["t"]) // 40)
        ax.plot(run["t"][::thin], run["u"][::thin], "o", ms=3, color=colors[loss], label=f"{LOSS_LABEL[loss]}: GD")
    ax.set(yscale="log", xlabel="t = step x lr", ylabel="mode strength u = y f(x)",
           title=f"(a) two-layer linear net, r = 1, balanced init u0 = {args.u0:g}")  # fmt: skip
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for loss, c in curves.items():
        for (r, p), run in c["runs"].items():
            style = {(1.0, 1.0): "-", (2.0, 1.0): "--", (1.0, 0.5): "-.", (1.0, 0.25): ":"}[r, p]
            ax.plot(run["t"], run["u"], style, color=colors[loss], label=f"{LOSS_LABEL[loss]}, r={r:g}, p={p:g}")
    ax.set(yscale="log", ylim=(args.u0 / 2, 4), xlabel="t", ylabel="u",
           title="(b) input norm r and feature frequency p (GD)")  # fmt: skip
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0, 2]
    for loss, c in curves.items():
        rates = np.array([r * p for r, p in c["runs"]])
        ax.plot(1 / rates, [run["t_one"] for run in c["runs"].values()], "o", color=colors[loss], ms=7,
                label=f"{LOSS_LABEL[loss]}: GD")  # fmt: skip
        grid = np.linspace(0, 1 / rates.min() * 1.05, 50)
        ax.plot(grid, grid * float(theory_time(1.0, args.u0, 1.0, loss)), color=colors[loss], alpha=0.5,
                label=f"{LOSS_LABEL[loss]}: theory")  # fmt: skip
    ax.set(xlabel="1 / (p r)", ylabel="time to reach u = 1", title="(c) learning time scales as 1 / (p r)")
    ax.legend(fontsize=8)
    for ax, loss in zip(axes[1, :2], LOSSES):
        s = curves[loss]["starvation"]
        ax.plot(s["t"], s["u_a"], color="C2", label="u_A (trained with B)")
        ax.plot(s["t"], s["u_b"], color="C1", label="u_B (trained with A)")
        ax.plot(s["t"], s["alone"], "--", color="C1", label="u_B (B trained alone)")
        ax.axvline(s["t_read"], color="gray", lw=0.8, label="ratio read here")
        ax.set(yscale="log", ylim=(1e-4, 10), xlabel="t", ylabel="margin of the A-only / B-only input",
               title=f"({'de'[LOSSES.index(loss)]}) gradient starvation, {LOSS_LABEL[loss]}, r_A = 2 r_B")  # fmt: skip
        ax.legend(fontsize=8, loc="lower right")
    ax = axes[1, 2]
    t = mnist_curves["t"]
    for loss in LOSSES:
        error, cost = mnist_curves[loss]
        ax.plot(t, error, color=colors[loss], label=f"{LOSS_LABEL[loss]}: training error")
        ax.plot(t, cost / cost[0], "--", color=colors[loss], alpha=0.6, label=f"{LOSS_LABEL[loss]}: loss / initial")
    ax.set(xlabel="t = step x lr", ylabel="training error, normalised loss",
           title=f"(f) MNIST 0 vs 1, 2-layer ReLU (h={args.mnist_hidden}), init scale {args.mnist_init:g}")  # fmt: skip
    ax.legend(fontsize=8)
    fig.suptitle("Learning dynamics of small-initialised networks (Tachet des Combes et al., 2018)")
    fig.tight_layout()
    return fig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of this model (reduced-scale defaults)."""
    parser.add_argument("--full", action="store_true", help="smaller step and init, longer and wider MNIST run")
    parser.add_argument("--lr", type=float, default=0.004, help="GD step of the synthetic runs")
    parser.add_argument("--u0", type=float, default=1e-4, help="initial mode strength (balanced init)")
    parser.add_argument("--init-scale", type=float, default=0.01, help="std of the random init (starvation runs)")
    parser.add_argument("--mnist-steps", type=int, default=1200)
    parser.add_argument("--mnist-lr", type=float, default=0.01)
    parser.add_argument("--mnist-hidden", type=int, default=16)
    parser.add_argument("--mnist-init", type=float, default=1e-4, help="std of the MNIST network's init")
    parser.add_argument("--mnist-n", type=int, default=0, help="use a random subset of this many digits (0: all)")


FULL = {"lr": 0.001, "u0": 1e-6, "init_scale": 1e-3, "mnist_steps": 4000, "mnist_lr": 0.005, "mnist_hidden": 64,
        "mnist_init": 1e-6}  # fmt: skip


def run(args: argparse.Namespace, progress: Progress) -> tuple[dict, Any]:
    """All experiments: (metrics, figure)."""
    if args.full:
        vars(args).update(FULL)
    criteria, curves = synthetic(args, progress)
    mnist_criteria, mnist_curves = mnist(args, progress)
    criteria.update(mnist_criteria)
    metrics = {"criteria": criteria, "all_passed": all(c["passed"] for c in criteria.values()),
               "settings": {k: v for k, v in vars(args).items() if k not in ("out", "no_progress")}}  # fmt: skip
    return metrics, figure(curves, mnist_curves, args)


def main(argv: list[str] | None = None) -> dict:
    """``python -m models.learning_dynamics [flags]``: writes the figure and metrics, returns the metrics."""
    return common_main("learning_dynamics", __doc__.splitlines()[0], add_arguments, run, argv)


if __name__ == "__main__":
    main()
