"""``python -m bench``: run a suite, print the table, write the JSON record and the chart.

Exit status: 0; 1 when a system's results disagreed with the reference or symgraph failed to build
or run; 2 for bad options (unknown backend or benchmark, ``--backend cupy`` without a GPU...).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from bench import report
from bench.cases import FAMILIES, PENDING, suite_cases
from bench.context import SYSTEMS, BenchSetupError
from bench.latency import ROOT
from bench.suite import LATENCY_CHOICES, run_suite


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench", description="Compare symgraph with PyTorch (and PyTensor) on the same work."
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="paper sizes, more repetitions, latency of every case")
    size.add_argument("--tiny", action="store_true", help="tiny sizes, one repetition (a smoke test)")
    p.add_argument("--only", type=_names, metavar="NAME[,NAME]", help="cases by name, family or shell pattern")
    p.add_argument("--systems", type=_names, default=list(SYSTEMS), metavar="S[,S]",
                   help=f"systems to compare (default all: {','.join(SYSTEMS)})")  # fmt: skip
    p.add_argument("--threads", type=int, default=1, help="threads for symgraph, torch, numba and BLAS (default 1)")
    p.add_argument("--backend", help="symgraph backend: numba (default when registered), python or cupy")
    p.add_argument("--repeat", type=int, help="timed repetitions per system (default 15; --full 50)")
    p.add_argument("--warmup", type=int, help="untimed calls per system before timing (default 2)")
    p.add_argument("--latency", choices=LATENCY_CHOICES,
                   help="which cases get the cold/warm build latency pass (default: marked; --full: all)")  # fmt: skip
    p.add_argument("--json", default="results/bench.json", metavar="PATH", help="JSON record ('' for none)")
    p.add_argument("--plot", default="results/bench.png", metavar="PATH", help="PNG chart of ratios ('' for none)")
    p.add_argument("--update-readme", action="store_true", help="write the table into README.md's bench section")
    p.add_argument("--list", action="store_true", help="list the benchmarks of the chosen suite and exit")
    return p


def _list(suite: str) -> None:
    for case in suite_cases(suite):
        latency = "  [+ build latency]" if case.latency else ""
        print(f"{case.name:32s} {case.family:10s} {case.description}{latency}")
    for name, reason in PENDING.items():
        print(f"{name:32s} {'pending':10s} {reason}")
    print(f"families: {', '.join(FAMILIES)}; systems: {', '.join(SYSTEMS)}")


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    suite = "full" if args.full else "tiny" if args.tiny else "default"
    if args.list:
        _list(suite)
        return 0
    try:
        record = run_suite(suite, args.only, args.systems, args.backend, args.threads, args.repeat, args.warmup,
                           latency_cases=args.latency)  # fmt: skip
    except BenchSetupError as err:
        p.error(str(err))
    record["settings"]["argv"] = sys.argv[1:] if argv is None else list(argv)
    print(report.render(record))
    if args.json:
        report.write_json(record, args.json)
        print(f"\nJSON record: {args.json}", file=sys.stderr)
    if args.plot and report.plot(record, args.plot):
        print(f"chart: {args.plot}", file=sys.stderr)
    if args.update_readme:
        report.update_readme(record, pathlib.Path(ROOT) / "README.md")
        print("README.md bench table updated", file=sys.stderr)
    print(f"wall time {record['wall_s']:.1f} s", file=sys.stderr)
    failed = [
        (case["name"], row["system"])
        for case in record["cases"]
        for row in case["results"]
        if row["status"] == "mismatch" or (row["status"] == "error" and row["system"] == "symgraph")
    ]
    return 1 if failed else 0
