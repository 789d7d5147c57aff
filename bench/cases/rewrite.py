"""Rewrite time of a 10,000-node graph: the gradient of a deep, narrow tanh MLP, unrolled layer by layer.

Only symgraph rewrites graphs here (torch has no counterpart), so the row has no ratio; its check is that the
rewritten graph computes what the unrewritten one does, and the node counts before and after are recorded.
"""

from __future__ import annotations

import numpy as np

from bench.context import Context
from bench.harness import BenchMismatch, Built, Case

DEPTH = {"tiny": 20, "default": 650, "full": 650}
WIDTH = 8


def deep_mlp_gradient(depth: int, width: int = WIDTH) -> tuple[list, list]:
    """Inputs and outputs (loss and one gradient per weight) of a ``depth``-layer tanh MLP."""
    import symgraph as sg

    x = sg.matrix("x")
    weights = [sg.matrix(f"w{i}") for i in range(depth)]
    h = x
    for w in weights:
        h = sg.tanh(sg.dot(h, w) + 0.1) * 0.9 + h * 0.1
    loss = sg.mean(sg.square(h - 1.0))
    return [x, *weights], [loss, *sg.grad(loss, weights)]


def make_data(depth: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(4, WIDTH))}
    data.update({f"w{i}": rng.normal(size=(WIDTH, WIDTH)) / np.sqrt(WIDTH) for i in range(depth)})
    return data


def _symgraph(depth: int):  # noqa: ANN202 - a Builder
    def build(data: dict[str, np.ndarray], ctx: Context) -> Built:
        import symgraph as sg
        from symgraph.rewrite import rewrite_graph

        inputs, outputs = deep_mlp_gradient(depth)
        values = [data[v.name] for v in inputs]

        def run() -> int:
            fgraph = sg.FunctionGraph(inputs, outputs)
            rewrite_graph(fgraph, "fast_run")
            return len(fgraph.apply_nodes)

        def check() -> list[np.ndarray]:
            plain = sg.function(inputs, outputs, rewrites=None, backend="python")(*values)
            rewritten = sg.function(inputs, outputs, backend="python")(*values)
            for i, (a, b) in enumerate(zip(plain, rewritten)):
                if not np.allclose(a, b, rtol=1e-9, atol=1e-12):
                    raise BenchMismatch("symgraph", "symgraph without rewrites", f"output {i} changed")
            return rewritten

        return Built(run=run, check=check)

    return build


def cases(suite: str) -> list[Case]:
    depth = DEPTH[suite]
    return [
        Case(
            name=f"rewrite-mlp-grad-depth{depth}",
            family="rewrite",
            description=f"fast_run rewrites of a {depth}-layer MLP gradient graph (~{16 * depth} nodes)",
            dtype="float64",
            make_data=lambda: make_data(depth),
            systems={"symgraph": _symgraph(depth)},
            params={"depth": depth, "width": WIDTH},
        )
    ]
