"""What every paper module shares: its command line, a progress bar, and writing the figure and metrics.

A paper module defines ``add_arguments(parser)`` (its flags, with reduced-scale defaults) and
``run(args, progress) -> (metrics, figure)``; ``main(...)`` ties them to ``python -m models.<name>``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

Progress = Callable[..., Iterator]


def progress_bar(enabled: bool) -> Progress:
    """``progress(iterable, desc=..., total=...)``: a tqdm bar on stderr, or the bare iterable."""

    def progress(iterable: Iterable, desc: str = "", total: int | None = None) -> Iterator:
        if not enabled:
            return iter(iterable)
        from tqdm import tqdm

        return iter(tqdm(iterable, desc=desc, total=total, file=sys.stderr, leave=False))

    return progress


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value)
    return value


def save_results(out: Path, name: str, metrics: dict[str, Any], figure: Any) -> tuple[Path, Path]:
    """Write ``metrics.json`` and ``<name>.png`` into ``out`` (created); returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    metrics_path = out / "metrics.json"
    metrics_path.write_text(json.dumps(_jsonable(metrics), indent=2) + "\n")
    figure_path = out / f"{name}.png"
    figure.savefig(figure_path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return metrics_path, figure_path


def main(
    name: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace, Progress], tuple[dict[str, Any], Any]],
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """Parse ``argv``, run the experiment, write its figure and metrics, print the metrics; returns them."""
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(prog=f"python -m models.{name}", description=description)
    parser.add_argument("--out", type=Path, default=Path("results") / name, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_arguments(parser)
    args = parser.parse_args(argv)
    metrics, figure = run(args, progress_bar(not args.no_progress))
    metrics_path, figure_path = save_results(args.out, name, metrics, figure)
    print(json.dumps(_jsonable(metrics), indent=2))
    print(f"wrote {figure_path} and {metrics_path}")
    return metrics
