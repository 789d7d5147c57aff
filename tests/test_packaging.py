"""What installing symgraph claims on the import path: only its own top-level packages. models/ and bench/ run
from a checkout (``python -m models.<name>``, ``python -m bench``), so a user's own ``models`` or ``bench`` stays
theirs."""

from pathlib import Path

from setuptools.config.pyprojecttoml import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def test_the_distribution_installs_symgraph_and_its_backends_only():
    packages = read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]["packages"]
    assert {name.split(".")[0] for name in packages} == {"symgraph", "backends"}
    folders = {".".join(f.parent.relative_to(ROOT).parts) for top in ("symgraph", "backends")
               for f in (ROOT / top).rglob("__init__.py")}  # fmt: skip
    assert set(packages) == folders  # every subpackage of both is installed
