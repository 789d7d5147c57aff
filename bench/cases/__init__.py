"""The benchmark registry: each family module has ``cases(suite) -> list[Case]``.

To add a benchmark, write a module with such a function (see ``elemwise.py`` for a pure function,
``mlp.py`` for a stateful training step) and add it to ``FAMILIES``; move its entry out of
``PENDING`` if it was announced there.
"""

from __future__ import annotations

import fnmatch

from bench.cases import elemwise, lstm, mlp, overhead, rewrite, softmax
from bench.context import BenchSetupError
from bench.harness import Case

SUITES = ("tiny", "default", "full")
FAMILIES = {
    "elemwise": elemwise.cases,
    "softmax": softmax.cases,
    "mlp": mlp.cases,
    "lstm": lstm.cases,
    "overhead": overhead.cases,
    "rewrite": rewrite.cases,
}
PENDING: dict[str, str] = {}


def suite_cases(suite: str) -> list[Case]:
    """All cases of ``suite`` (``tiny``, ``default`` or ``full``), in a stable order."""
    if suite not in SUITES:
        raise BenchSetupError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    return [case for family in FAMILIES.values() for case in family(suite)]


def select(cases: list[Case], only: list[str] | None) -> list[Case]:
    """The cases whose name or family matches one of ``only`` (exact names or shell patterns)."""
    if not only:
        return cases
    chosen = [c for c in cases if any(fnmatch.fnmatchcase(c.name, p) or c.family == p for p in only)]
    unknown = [p for p in only if not any(fnmatch.fnmatchcase(c.name, p) or c.family == p for c in cases)]
    if unknown:
        pending = [p for p in unknown if p in PENDING]
        if pending:
            raise BenchSetupError(f"{', '.join(pending)}: {'; '.join(PENDING[p] for p in pending)}")
        raise BenchSetupError(
            f"--only {','.join(unknown)} matches no benchmark; names: {', '.join(c.name for c in cases)}; "
            f"families: {', '.join(FAMILIES)}"
        )
    return chosen


def find(suite: str, name: str) -> Case:
    """The case of ``suite`` called ``name``."""
    for case in suite_cases(suite):
        if case.name == name:
            return case
    raise BenchSetupError(f"no benchmark {name!r} in the {suite} suite")
