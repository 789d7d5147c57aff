"""Run one benchmark case: build every system, check that they agree, then time them interleaved.

A system whose results disagree with the reference (torch eager when it ran) is refused: its row says
``mismatch`` and carries no time, so a wrong answer can never be read as a speed.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.context import REFERENCE, SYSTEMS, Context, host, unavailable

TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-12)}  # (rtol, atol) by the case's dtype
MAX_CALLS_PER_REP = 1_000_000


class BenchMismatch(Exception):  # noqa: N818 (the name bench/README.md documents)
    """A system's results differ from the reference's beyond the case's tolerance."""

    def __init__(self, system: str, reference: str, detail: str) -> None:
        super().__init__(f"{system} disagrees with {reference}: {detail}")
        self.system, self.reference, self.detail = system, reference, detail


@dataclass(frozen=True)
class Built:
    """A system ready to run: ``run()`` is what gets timed; ``check()`` (default ``run``) returns the
    results compared across systems. Stateful cases (a training step) compare the state after one
    step from the initial values, so ``check`` is called once, before any timing."""

    run: Callable[[], Any]
    check: Callable[[], Any] | None = None

    def results(self) -> list[np.ndarray]:
        value = (self.check or self.run)()
        return [host(v) for v in (value if isinstance(value, list | tuple) else [value])]


Builder = Callable[[dict[str, np.ndarray], Context], Built]


@dataclass(frozen=True)
class Case:
    """One computation at one size, defined once per system.

    ``make_data()`` returns the NumPy inputs and initial values (fixed seed); each builder in
    ``systems`` turns them into a :class:`Built`. ``work`` is the bytes moved (unit ``GB/s``) or the
    FLOPs (``GFLOP/s``) of one call, for the throughput column.
    """

    name: str
    family: str
    description: str
    dtype: str
    make_data: Callable[[], dict[str, np.ndarray]]
    systems: Mapping[str, Builder]
    params: Mapping[str, Any] = field(default_factory=dict)
    work: float | None = None
    unit: str | None = None
    latency: bool = False  # measured by the cold/warm build-latency pass
    # (rtol, atol) where the dtype's default is too tight for the work (long float32 sums: gradients over steps)
    tolerance_override: tuple[float, float] | None = None

    @property
    def tolerance(self) -> tuple[float, float]:
        return self.tolerance_override or TOLERANCES[self.dtype]


def check_agreement(system: str, results: list[np.ndarray], reference: str, expected: list[np.ndarray],
                    rtol: float, atol: float) -> dict[str, float]:  # fmt: skip
    """The largest absolute and relative errors of ``results`` against ``expected``; raises
    :class:`BenchMismatch` on a different number of outputs, shape, dtype or any value outside
    ``|a - b| <= atol + rtol * |b|`` (NaNs must match NaNs)."""
    if len(results) != len(expected):
        raise BenchMismatch(system, reference, f"{len(results)} outputs instead of {len(expected)}")
    max_abs = max_rel = 0.0
    for i, (a, b) in enumerate(zip(results, expected)):
        if a.shape != b.shape or a.dtype != b.dtype:
            got, want = f"{a.dtype}{list(a.shape)}", f"{b.dtype}{list(b.shape)}"
            raise BenchMismatch(system, reference, f"output {i} is {got}, not {want}")
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            raise BenchMismatch(
                system, reference,
                f"output {i} at {list(where)}: {a[where]!r} vs {b[where]!r} ({int(bad.sum())} of {bad.size} "
                f"elements outside rtol={rtol}, atol={atol})",
            )  # fmt: skip
        finite = np.isfinite(a) & np.isfinite(b)
        if finite.any():
            x, y = a[finite].astype(np.float64), b[finite].astype(np.float64)
            diff = np.abs(x - y)
            max_abs = max(max_abs, float(diff.max()))
            max_rel = max(max_rel, float((diff / np.maximum(np.abs(y), np.finfo(np.float64).tiny)).max()))
    return {"max_abs_err": max_abs, "max_rel_err": max_rel}


def _batch(fn: Callable[[], Any], number: int, sync: Callable[[], None]) -> float:
    """Seconds for ``number`` calls of ``fn`` (garbage collection paused, device work waited for)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def _calls_per_rep(fn: Callable[[], Any], sync: Callable[[], None], min_time: float) -> int:
    """How many calls make one repetition last at least ``min_time`` seconds (like timeit's autorange)."""
    number = 1
    while number < MAX_CALLS_PER_REP:
        elapsed = _batch(fn, number, sync)
        if elapsed >= min_time:
            break
        number = min(MAX_CALLS_PER_REP, max(2 * number, math.ceil(1.2 * number * min_time / max(elapsed, 1e-9))))
    return number


def time_interleaved(fns: Mapping[str, Callable[[], Any]], sync: Callable[[], None], repeat: int, warmup: int,
                     min_time: float) -> dict[str, tuple[list[float], int]]:  # fmt: skip
    """Per system: the seconds per call of each repetition, and the calls per repetition.

    Each system is warmed up, then the repetitions alternate between systems (A B C A B C ...) so
    that a slow phase of the machine hits all of them alike.
    """
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        sync()
        numbers[name] = _calls_per_rep(fn, sync, min_time) if min_time > 0 else 1
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(_batch(fn, numbers[name], sync) / numbers[name])
    return {name: (times[name], numbers[name]) for name in fns}


def _row(system: str, ctx: Context, status: str, detail: str | None = None) -> dict[str, Any]:
    label = f"symgraph ({ctx.backend})" if system == "symgraph" else system
    return {
        "system": system, "label": label, "status": status, "detail": detail, "median_s": None, "min_s": None,
        "times_s": [], "calls_per_rep": None, "ratio": None, "throughput": None, "max_abs_err": None,
        "max_rel_err": None,
    }  # fmt: skip


def run_case(case: Case, ctx: Context, systems: Iterable[str] = SYSTEMS, repeat: int = 15, warmup: int = 2,
             min_time: float = 0.01, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:  # fmt: skip
    """Build, check and time ``case`` for each of ``systems``; the case's record for the JSON report."""
    systems = list(systems)
    data = case.make_data()
    rows: dict[str, dict[str, Any]] = {}
    built: dict[str, Built] = {}
    outputs: dict[str, list[np.ndarray]] = {}
    for system in systems:
        reason = "not defined for this case" if system not in case.systems else unavailable(system, ctx)
        if reason:
            rows[system] = _row(system, ctx, "skipped", reason)
            continue
        log(f"{case.name}: building {system}")
        try:
            built[system] = case.systems[system](data, ctx)
            outputs[system] = built[system].results()
            rows[system] = _row(system, ctx, "ok")
        except Exception as err:
            log(traceback.format_exc())
            built.pop(system, None)
            first_line = (str(err).splitlines() or [""])[0]
            rows[system] = _row(system, ctx, "error", f"{type(err).__name__}: {first_line}")
    reference = REFERENCE if REFERENCE in outputs else next(iter(outputs), None)
    rtol, atol = case.tolerance
    for system in outputs:
        if system == reference:
            rows[system].update(max_abs_err=0.0, max_rel_err=0.0)
            continue
        try:
            rows[system].update(check_agreement(system, outputs[system], reference, outputs[reference], rtol, atol))
        except BenchMismatch as err:
            log(f"{case.name}: refused {system}: {err}")
            rows[system].update(status="mismatch", detail=str(err))
            del built[system]
    log(f"{case.name}: timing {', '.join(built)}")
    timings = time_interleaved({s: b.run for s, b in built.items()}, ctx.sync, repeat, warmup, min_time)
    ref_times = timings.get(REFERENCE, (None,))[0]
    for system, (times, number) in timings.items():
        median = statistics.median(times)
        rows[system].update(median_s=median, min_s=min(times), times_s=times, calls_per_rep=number)
        if ref_times:
            rows[system]["ratio"] = statistics.median(t / r for t, r in zip(times, ref_times))
        if case.work:
            rows[system]["throughput"] = case.work / median / 1e9
    return {
        "name": case.name, "family": case.family, "description": case.description, "params": dict(case.params),
        "dtype": case.dtype, "unit": case.unit, "work": case.work, "reference": reference,
        "tolerance": {"rtol": rtol, "atol": atol}, "results": [rows[s] for s in systems],
    }  # fmt: skip
