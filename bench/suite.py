"""Run a suite of cases and assemble the JSON record (schema in ``bench/README.md``)."""

from __future__ import annotations

import datetime
import importlib.util
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from bench import latency
from bench.cases import PENDING, select, suite_cases
from bench.context import SYSTEMS, BenchSetupError, make_context, set_threads
from bench.harness import run_case
from bench.machine import load_average, machine_info

SCHEMA = "symgraph-bench/1"
# Per suite: repetitions, warm-up calls, seconds one repetition lasts at least, which cases get the
# cold/warm latency pass ("none", "marked": those with Case.latency, "all").
DEFAULTS = {
    "tiny": {"repeat": 1, "warmup": 0, "min_time": 0.0, "latency": "none"},
    "default": {"repeat": 15, "warmup": 2, "min_time": 0.01, "latency": "marked"},
    "full": {"repeat": 50, "warmup": 3, "min_time": 0.02, "latency": "all"},
}
LATENCY_CHOICES = ("none", "marked", "all")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_suite(suite: str = "default", only: list[str] | None = None, systems: Iterable[str] = SYSTEMS,
              backend: str | None = None, threads: int = 1, repeat: int | None = None, warmup: int | None = None,
              min_time: float | None = None, latency_cases: str | None = None,
              log: Callable[[str], None] = _stderr) -> dict[str, Any]:  # fmt: skip
    """Run ``suite`` (``tiny``, ``default`` or ``full``) and return the JSON record.

    ``only``: names, families or shell patterns of cases; ``systems``: which of ``SYSTEMS`` to run;
    ``backend``: the symgraph backend (default ``numba`` when registered, else ``python``);
    ``repeat``/``warmup``/``min_time``/``latency_cases`` (none, marked, all): override the suite's defaults.
    """
    started, load_before = time.perf_counter(), load_average()
    systems = list(systems)
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise BenchSetupError(f"unknown systems {', '.join(unknown)}; choose from {', '.join(SYSTEMS)}")
    if suite not in DEFAULTS:
        raise BenchSetupError(f"unknown suite {suite!r}; choose one of {', '.join(DEFAULTS)}")
    options = DEFAULTS[suite] | {
        k: v
        for k, v in dict(repeat=repeat, warmup=warmup, min_time=min_time, latency=latency_cases).items()
        if v is not None
    }
    if options["latency"] not in LATENCY_CHOICES or options["repeat"] < 1:
        raise BenchSetupError(f"bad options {options}: repeat >= 1, latency one of {', '.join(LATENCY_CHOICES)}")
    ctx = make_context(backend, threads)
    cases = select(suite_cases(suite), only)
    if importlib.util.find_spec("torch") is not None:
        import torch  # noqa: F401  (loaded before the thread limits, so that they reach its OpenMP runtime)
    records = []
    for i, case in enumerate(cases, 1):
        log(f"[{i}/{len(cases)}] {case.name}")
        set_threads(ctx.threads)
        record = run_case(case, ctx, systems, options["repeat"], options["warmup"], options["min_time"], log)
        record["latency"] = []
        if options["latency"] == "all" or (options["latency"] == "marked" and case.latency):
            ok = [r["system"] for r in record["results"] if r["status"] == "ok"]
            log(f"{case.name}: cold/warm build latency of {', '.join(ok)}")
            record["latency"] = latency.measure(suite, case.name, ok, ctx)
        records.append(record)
    return {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "settings": {
            "suite": suite,
            "backend": ctx.backend,
            "device": ctx.device,
            "threads": ctx.threads,
            "systems": systems,
            "only": only or [],
            **options,
        },
        "machine": machine_info(ctx, load_before),
        "cases": records,
        "pending": [{"name": name, "reason": reason} for name, reason in PENDING.items()],
        "wall_s": time.perf_counter() - started,
    }
