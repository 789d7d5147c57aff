"""Build latency: build -> first result of one case and system, in a fresh process.

``cold``: the compile caches (``SYMGRAPH_CACHE_DIR``, ``NUMBA_CACHE_DIR``, ``TORCHINDUCTOR_CACHE_DIR``,
``TRITON_CACHE_DIR``, PyTensor's ``base_compiledir``) point to a new empty directory; ``warm``: a
second process with the same, now populated, directory. The child reports the seconds from the start
of the build to the first result on the host (imports and data generation excluded); the parent also
records the whole process's wall time.

Child: ``python -m bench.latency --suite S --case NAME --system SYSTEM --backend B --threads N``
prints one JSON line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from typing import Any

from bench.context import Context

IMPORTS = {
    "symgraph": ("symgraph", "backends"),
    "torch": ("torch",),
    "torch.compile": ("torch", "torch._dynamo"),
    "pytensor": ("pytensor", "pytensor.tensor"),
}
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _env(cache: pathlib.Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SYMGRAPH_CACHE_DIR=str(cache / "symgraph"),
        NUMBA_CACHE_DIR=str(cache / "numba"),
        TORCHINDUCTOR_CACHE_DIR=str(cache / "inductor"),
        TRITON_CACHE_DIR=str(cache / "triton"),
        PYTENSOR_FLAGS=",".join(filter(None, [env.get("PYTENSOR_FLAGS"), f"base_compiledir={cache / 'pytensor'}"])),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def _child(suite: str, case: str, system: str, ctx: Context, cache: pathlib.Path, timeout: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.latency", "--suite", suite, "--case", case, "--system", system,
               "--backend", ctx.backend, "--threads", str(ctx.threads)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, env=_env(cache), capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"process_s": wall}


def measure(suite: str, case: str, systems: Iterable[str], ctx: Context, timeout: float = 600) -> list[dict[str, Any]]:
    """Cold and warm build latency of ``case`` for each of ``systems``: one row per system."""
    rows = []
    for system in systems:
        row: dict[str, Any] = {"system": system, "status": "ok", "detail": None, "cold_s": None, "warm_s": None,
                               "cold_process_s": None, "warm_process_s": None}  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="symgraph-bench-cache-") as cache:
            try:
                for kind in ("cold", "warm"):
                    result = _child(suite, case, system, ctx, pathlib.Path(cache), timeout)
                    row[f"{kind}_s"], row[f"{kind}_process_s"] = result["first_result_s"], result["process_s"]
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                row.update(status="error", detail=f"{type(err).__name__}: {err}")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    from bench.cases import find
    from bench.context import make_context, set_threads

    parser = argparse.ArgumentParser(description="build -> first result of one benchmark, in this process")
    for flag in ("--suite", "--case", "--system", "--backend"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    ctx = make_context(args.backend, args.threads)
    for module in IMPORTS.get(args.system, ()):
        importlib.import_module(module)
    case = find(args.suite, args.case)
    data = case.make_data()
    set_threads(ctx.threads)
    built_at = time.perf_counter()
    case.systems[args.system](data, ctx).results()
    done = time.perf_counter()
    print(json.dumps({"import_s": built_at - start, "first_result_s": done - built_at}))


if __name__ == "__main__":
    main()
