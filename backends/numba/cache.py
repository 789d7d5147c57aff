"""On-disk cache of generated modules, so numba's own cache can keep their machine code between processes.

numba caches functions defined in real files only. Every generated module (one per kernel, one per graph)
is written once to ``<cache dir>/<versions key>/<name>.py`` where ``name`` is a hash of its source, then
imported; numba stores the compiled code beside it (``cache=True``). The file is created atomically and never
rewritten (numba's index checks its mtime and size), unless its content is wrong (a truncated or edited
file), which is repaired with a warning. Versions of symgraph, numba, numpy, Python and this backend's own
source are part of the directory name, so an upgrade never loads stale code.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import logging
import os
import shutil
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


def cache_directory() -> Path:
    """``<cache root>/numba-<versions key>``, created if needed; when it cannot be (the root is a file, not
    writable...), a temporary directory for this process, with one warning naming SYMGRAPH_CACHE_DIR."""
    return _usable(cache_root() / f"numba-{versions_key()}")


@cache
def _usable(directory: Path) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
        return directory
    except OSError as err:
        fallback = Path(tempfile.mkdtemp(prefix="symgraph-cache-"))
        atexit.register(shutil.rmtree, fallback, ignore_errors=True)
        warnings.warn(
            f"symgraph cache: cannot write to {directory} ({type(err).__name__}: {err.strerror or err}); compiled "
            f"code is cached in {fallback} for this process only. Set SYMGRAPH_CACHE_DIR to a writable directory "
            "to keep it between processes",
            stacklevel=2,
        )
        return fallback


def load_module(name: str, source: str) -> ModuleType:
    """Import the generated module ``name`` with ``source``, writing its file first if needed."""
    if name in sys.modules:
        return sys.modules[name]
    path = cache_directory() / f"{name}.py"
    _ensure_file(path, source)
    saved = _saved_signatures(path)  # read before numba looks at its index
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: numba's cache locator looks the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    module.saved_signatures = saved
    return module


def report_misses(module: ModuleType) -> None:
    """After a first call: if numba compiled a signature of the graph function that an earlier run had compiled
    and saved (recorded beside the module file once its call returned), say so loudly; then record the
    signatures compiled now. A process that finds the file while another is still compiling it (several
    processes starting at once, or one killed mid-compile) finds no record, so its compile is no false alarm."""
    dispatcher = module.graph
    missed = [sig for sig in dispatcher.stats.cache_misses if str(tuple(sig)) in module.saved_signatures]
    if missed:
        log.warning(
            "cache miss that should have hit: %s was compiled and saved in %s before, but numba recompiled it for %s",
            module.__name__,
            dispatcher.stats.cache_path,
            missed,
        )
    compiled = {str(tuple(sig)) for sig in dispatcher.signatures}
    if not compiled <= module.saved_signatures:
        path = Path(module.__file__).with_suffix(".saved")
        _write(path, "".join(f"{sig}\n" for sig in sorted(compiled | module.saved_signatures)), replace=True)


def _saved_signatures(path: Path) -> set[str]:
    """The graph function's signatures recorded as compiled and saved for the module file ``path``."""
    try:
        return set(path.with_suffix(".saved").read_text().splitlines())
    except (OSError, UnicodeDecodeError):
        return set()


def unreadable_cache(err: BaseException) -> bool:
    """Whether ``err`` was raised while numba read its cache files: a truncated or damaged index or object file,
    which numba reads without a guard (numba/numba#10434) and has no hook for."""
    frame = err.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__") == "numba.core.caching":
            return True
        frame = frame.tb_next
    return False


def forget_compiled(names: list[str]) -> None:
    """Unload the generated modules ``names`` and delete what numba and this cache saved of their compiled code,
    so that loading them again compiles afresh. numba keeps it in ``__pycache__`` beside the module file, or
    under ``NUMBA_CACHE_DIR``; each file's name starts with its module's name."""
    directory = cache_directory()
    roots = [directory / "__pycache__", *([Path(numba.config.CACHE_DIR)] if numba.config.CACHE_DIR else [])]
    for name in names:
        sys.modules.pop(name, None)
        (directory / f"{name}.saved").unlink(missing_ok=True)
        for root in roots:
            for path in root.rglob(f"{name}.*.nb[ic]"):
                path.unlink(missing_ok=True)


def _ensure_file(path: Path, source: str) -> None:
    """Make ``path`` hold ``source``."""
    if path.exists():
        try:
            if path.read_text() == source:
                log.debug("cache: reusing %s", path.name)
                return
        except (OSError, UnicodeDecodeError):
            pass
        warnings.warn(f"symgraph cache: {path} is corrupted; rewriting it (its code will be recompiled)", stacklevel=4)
        path.with_suffix(".saved").unlink(missing_ok=True)
        _write(path, source, replace=True)
        return
    log.debug("cache: writing %s", path.name)
    _write(path, source, replace=False)


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
