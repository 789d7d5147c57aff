"""Test session settings.

- Graphs run on the NumPy reference backend unless a test names another: it is the oracle. Op tests (modules
  marked ``cross_backend``) also run every evaluated graph on numba and compare (``helpers.evaluate``);
  ``SYMGRAPH_TEST_BACKENDS=python,numba`` does that in every module.
- Generated numba modules go to one cache shared by every test worker of a run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SYMGRAPH_BACKEND", "python")
os.environ.setdefault("SYMGRAPH_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "symgraph"))

_EVERYWHERE = [b for b in os.environ.get("SYMGRAPH_TEST_BACKENDS", "").split(",") if b and b != "python"]


@pytest.fixture(autouse=True)
def _cross_backends(request: pytest.FixtureRequest):
    from tests import helpers

    marked = request.node.get_closest_marker("cross_backend") is not None
    helpers.OTHER_BACKENDS[:] = _EVERYWHERE or (["numba"] if marked else [])
    yield
    helpers.OTHER_BACKENDS[:] = []
