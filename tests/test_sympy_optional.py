"""sympy is an optional extra (``symgraph[sympy]``): without it symgraph builds, rewrites (every default phase),
differentiates and runs graphs, and the sympy bridge says what to install. Simulated in a subprocess where
``import sympy`` fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = """
import sys
sys.modules["sympy"] = None  # import sympy raises ImportError, as where it is not installed
import numpy as np
import symgraph as sg

x = sg.vector("x")
cost = sg.sum(sg.log(1 + sg.exp(x)) + sg.log(sg.sigmoid(x)) + sg.where(x > 0, x, 0) ** 2)
f = sg.function([x], [cost, sg.grad(cost, x)])  # the default rewrites
value, grad = f(np.array([-1.0, 0.5, 2.0]))
print(round(float(value), 6), [round(float(g), 6) for g in grad])
print(sorted(m for m in sys.modules if m.startswith("sympy") and sys.modules[m] is not None))
try:
    import symgraph.rewrite.sympy_bridge
except ImportError as err:
    print(err)
"""


def test_symgraph_works_without_sympy():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    value, modules, error = done.stdout.strip().splitlines()
    x = np.array([-1.0, 0.5, 2.0])
    softplus, sigmoid = np.logaddexp(0, x), 1 / (1 + np.exp(-x))
    expected = np.sum(softplus + np.log(sigmoid) + np.where(x > 0, x, 0) ** 2)
    grad = sigmoid + (1 - sigmoid) + 2 * np.where(x > 0, x, 0)
    assert value == f"{round(float(expected), 6)} {[round(float(g), 6) for g in grad]}"
    assert modules == "[]"
    assert error == "symgraph.rewrite.sympy_bridge needs sympy: pip install 'symgraph[sympy]'"
