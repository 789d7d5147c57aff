"""Test session settings: generated numba modules go to one cache shared by every test worker of a run."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SYMGRAPH_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "symgraph"))
