"""On-disk cache of generated modules, so numba's own cache can keep their machine code between processes.

numba caches functions defined in real files only. Every generated module (one per kernel, one per graph)
is written once to ``<cache dir>/<versions key>/<name>.py`` where ``name`` is a hash of its source, then
imported; numba stores the compiled code beside it (``cache=True``). The file is created atomically and never
rewritten (numba's index checks its mtime and size), unless its content is wrong (a truncated or edited
file), which is repaired with a warning. Versions of symgraph, numba, numpy, Python and this backend's own
source are part of the directory name, so an upgrade never loads stale code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
import warnings
from functools import cache
from pathlib import Path
from types import ModuleType

import numba
import numpy as np

log = logging.getLogger("symgraph.numba.cache")


def cache_root() -> Path:
    """``SYMGRAPH_CACHE_DIR`` or ``~/.cache/symgraph`` (read at each compile, so tests can redirect it)."""
    return Path(os.environ.get("SYMGRAPH_CACHE_DIR") or Path.home() / ".cache" / "symgraph")


@cache
def versions_key() -> str:
    """A hash of everything that decides what a generated module compiles to, besides its own source."""
    import symgraph

    backend_sources = sorted(Path(__file__).parent.rglob("*.py"))
    digest = hashlib.sha256()
    for part in (symgraph.__version__, numba.__version__, np.__version__, sys.version):
        digest.update(part.encode())
    for path in backend_sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def module_name(prefix: str, source: str) -> str:
    return f"{prefix}{hashlib.sha256(source.encode()).hexdigest()[:24]}"


def load_module(name: str, source: str) -> ModuleType:
    """Import the generated module ``name`` with ``source``, writing its file first if needed."""
    if name in sys.modules:
        return sys.modules[name]
    directory = cache_root() / f"numba-{versions_key()}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    reused = _ensure_file(path, source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: numba's cache locator looks the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    for value in vars(module).values():
        if isinstance(value, numba.core.registry.CPUDispatcher):
            _recompile_unreadable_entries(value)
    module.reused_from_cache = reused
    return module


def report_misses(module: ModuleType) -> None:
    """After a first call: if the module's file was already cached but numba compiled anyway, say so loudly."""
    dispatcher = module.graph
    if module.reused_from_cache and dispatcher.stats.cache_misses:
        log.warning(
            "cache miss that should have hit: %s existed in %s but numba recompiled it for %s",
            module.__name__,
            dispatcher.stats.cache_path,
            list(dispatcher.stats.cache_misses),
        )


def _recompile_unreadable_entries(dispatcher: numba.core.registry.CPUDispatcher) -> None:
    """Make an unreadable entry of numba's own cache (a truncated index or object file) a recompile with a
    warning, instead of an exception at the first call.

    numba reads a present but corrupted file without a guard (numba/numba#10434: ``EOFError``, ``UnpicklingError``
    from ``IndexDataCacheFile``; numba/numba#10656 proposes the same fallback there) and has no public hook for
    it, so this wraps ``load_overload`` of the dispatcher's ``_cache`` object, a private attribute. pyproject.toml
    allows the numba releases on which tests/test_numba_backend.py's corrupted-cache test passes.
    """
    cache_impl = dispatcher._cache
    load = cache_impl.load_overload

    def load_or_forget(sig, target_context):  # noqa: ANN001, ANN202 - numba's signature
        try:
            return load(sig, target_context)
        except Exception as err:  # noqa: BLE001 - any failure to read the cache means: compile again
            warnings.warn(
                f"symgraph cache: numba's cache entry for {dispatcher.py_func.__module__}.{dispatcher.__name__} "
                f"is unreadable ({type(err).__name__}: {err}); recompiling it",
                stacklevel=2,
            )
            cache_impl.flush()  # forget the index numba could not read; saving writes a fresh one
            return None

    cache_impl.load_overload = load_or_forget


def _ensure_file(path: Path, source: str) -> bool:
    """Make ``path`` hold ``source``; True when it already did (a cache hit is then expected)."""
    if path.exists():
        try:
            if path.read_text() == source:
                log.debug("cache: reusing %s", path.name)
                return True
        except (OSError, UnicodeDecodeError):
            pass
        warnings.warn(f"symgraph cache: {path} is corrupted; rewriting it (its code will be recompiled)", stacklevel=4)
        _write(path, source, replace=True)
        return False
    log.debug("cache: writing %s", path.name)
    _write(path, source, replace=False)
    return False


def _write(path: Path, source: str, replace: bool) -> None:
    """Write atomically: a complete file appears under ``path`` or nothing does. Without ``replace`` an
    existing file (written meanwhile by another process) is kept, so numba's index stays valid."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(source)
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
