"""Benchmarks: symgraph against PyTorch (eager and torch.compile) and PyTensor on the same work.

``python -m bench`` runs the default suite and prints a markdown table of medians and ratios to torch
eager; ``python -m bench --help`` lists the options; ``bench/README.md`` explains the method and the
JSON record. In Python: ``bench.suite.run_suite(...)`` returns that record; ``bench.harness`` has
``Case``, ``Built``, ``run_case`` and ``BenchMismatch``.

Threads: numba's default OpenMP threading layer and torch's OpenMP runtime slow each other down by
7-120x when both run in one process (see ``shared/PERFORMANCE-NOTES.md``). Importing this package
therefore sets ``NUMBA_THREADING_LAYER=workqueue`` unless the user chose a layer; it must happen
before numba is imported, which is why it lives here rather than in the CLI.
"""

import os

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
