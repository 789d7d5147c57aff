"""Smoke tests of the benchmark harness: every case at a tiny size, the JSON schema, the agreement check.

No timing is asserted. torch.compile is left out (its first compile takes ~20 s); the NumPy reference
backend keeps the symgraph side deterministic while other backends are being built.
"""

import dataclasses
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")
pytest.importorskip("threadpoolctl")

from backends import available_backends  # noqa: E402
from bench import report  # noqa: E402
from bench.cases import PENDING, select, suite_cases  # noqa: E402
from bench.cli import main  # noqa: E402
from bench.context import BenchSetupError, Context, make_context  # noqa: E402
from bench.harness import BenchMismatch, Built, check_agreement, run_case  # noqa: E402
from bench.suite import SCHEMA, run_suite  # noqa: E402

ROOT = pathlib.Path(__file__).parents[1]
SYSTEMS = ("symgraph", "torch", "pytensor")
ROW_KEYS = {"system", "label", "status", "detail", "median_s", "min_s", "times_s", "calls_per_rep", "ratio",
            "throughput", "max_abs_err", "max_rel_err"}  # fmt: skip
CASE_KEYS = {"name", "family", "description", "params", "dtype", "unit", "work", "reference", "tolerance", "results",
             "latency"}  # fmt: skip
LATENCY_KEYS = {"system", "status", "detail", "cold_s", "warm_s", "cold_process_s", "warm_process_s"}
MACHINE_KEYS = {"cpu", "cores", "usable_cores", "threads", "device", "platform", "python", "versions", "blas",
                "numba_threading_layer", "torch", "env", "load_average", "warnings"}  # fmt: skip


def check_schema(record: dict, systems: tuple[str, ...]) -> None:
    assert record["schema"] == SCHEMA
    assert set(record) == {"schema", "created", "settings", "machine", "cases", "pending", "wall_s"}
    assert {"suite", "backend", "device", "threads", "systems", "only", "repeat", "warmup", "min_time",
            "latency"} <= set(record["settings"])  # fmt: skip
    assert set(record["machine"]) == MACHINE_KEYS
    assert {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} <= set(record["machine"]["env"])
    assert {p["name"] for p in record["pending"]} == set(PENDING)
    for case in record["cases"]:
        assert set(case) == CASE_KEYS
        assert [row["system"] for row in case["results"]] == list(systems)
        for row in case["results"]:
            assert set(row) == ROW_KEYS
            assert row["status"] in ("ok", "mismatch", "error", "skipped")
            timed = row["median_s"] is not None
            assert timed == (row["status"] == "ok") == bool(row["times_s"])
        for row in case["latency"]:
            assert set(row) == LATENCY_KEYS
    json.dumps(record)  # serialisable as is


def test_tiny_suite_every_case_agrees_and_is_timed(tmp_path):
    record = run_suite("tiny", systems=SYSTEMS, backend="python", log=lambda _: None)
    check_schema(record, SYSTEMS)
    assert [c["name"] for c in record["cases"]] == [c.name for c in suite_cases("tiny")]
    for case in record["cases"]:
        rows = {row["system"]: row for row in case["results"]}
        if case["family"] == "rewrite":  # symgraph alone (torch has no graph rewriter): timed, no ratio
            assert rows["symgraph"]["status"] == "ok" and len(rows["symgraph"]["times_s"]) == 1
            assert rows["torch"]["status"] == "skipped" and rows["symgraph"]["ratio"] is None
            continue
        for system in ("symgraph", "torch"):
            assert rows[system]["status"] == "ok", (case["name"], rows[system])
            assert len(rows[system]["times_s"]) == 1 and rows[system]["ratio"] > 0
        assert rows["torch"]["ratio"] == 1.0 and case["reference"] == "torch"
        assert rows["symgraph"]["max_abs_err"] <= case["tolerance"]["atol"] + case["tolerance"]["rtol"] * 1e3
        assert rows["pytensor"]["status"] in ("ok", "skipped")
        assert (case["unit"] is None) == (rows["symgraph"]["throughput"] is None)
    text = report.render(record)
    assert "| mlp-12x8x8x3-b4-f32 | symgraph (python) |" in text and "| lstm-h3-in4-T5-b2-f32 |" in text
    assert report.plot(record, tmp_path / "chart.png") and (tmp_path / "chart.png").stat().st_size > 0


def _perturbed(builder, factor):
    def build(data, ctx):
        built = builder(data, ctx)
        return Built(built.run, lambda: [np.asarray(r) * factor for r in built.results()])

    return build


@pytest.mark.parametrize("family", ["elemwise", "mlp"])
def test_a_mismatch_is_refused_not_timed(family):
    (case, *_) = select(suite_cases("tiny"), [family])
    broken = dataclasses.replace(case, systems={**case.systems, "broken": _perturbed(case.systems["symgraph"], 1.01)})
    record = run_case(broken, Context("python"), ["symgraph", "torch", "broken"], repeat=1, warmup=0, min_time=0)
    rows = {row["system"]: row for row in record["results"]}
    assert rows["symgraph"]["status"] == "ok" and rows["symgraph"]["median_s"] is not None
    assert rows["broken"]["status"] == "mismatch"
    assert rows["broken"]["median_s"] is None and rows["broken"]["times_s"] == [] and rows["broken"]["ratio"] is None
    assert "broken disagrees with torch" in rows["broken"]["detail"]
    table = report.timing_table({"cases": [record], "settings": {"backend": "python"}})
    assert "REFUSED, results disagree" in table


@pytest.mark.parametrize(
    ("got", "message"),
    [
        ([np.ones(3, np.float32) * 1.001], "output 0 at [0]"),
        ([np.ones(3, np.float64)], "output 0 is float64[3], not float32[3]"),
        ([np.ones(4, np.float32)], "output 0 is float32[4], not float32[3]"),
        ([np.ones(3, np.float32)] * 2, "2 outputs instead of 1"),
        ([np.array([1, np.nan, 1], np.float32)], "output 0 at [1]"),
    ],
)
def test_check_agreement_raises(got, message):
    with pytest.raises(BenchMismatch, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_agreement("a", got, "b", [np.ones(3, np.float32)], rtol=1e-4, atol=1e-5)


def test_check_agreement_within_tolerance():
    errors = check_agreement("a", [np.float32([1, 2 + 1e-5, np.nan])], "b", [np.float32([1, 2, np.nan])], 1e-4, 1e-5)
    assert 0 < errors["max_abs_err"] < 2e-5 and 0 < errors["max_rel_err"] < 1e-5


def test_setup_errors_are_clear():
    with pytest.raises(BenchSetupError, match="no backend 'nosuch'; registered backends: .*python"):
        make_context("nosuch")
    with pytest.raises(BenchSetupError, match="no backend 'cupy'|needs a GPU that CuPy can see"):
        make_context("cupy")  # never results made up for a GPU that is not there
    with pytest.raises(BenchSetupError, match="matches no benchmark"):
        select(suite_cases("tiny"), ["no-such-case"])
    with pytest.raises(BenchSetupError, match="unknown systems jax"):
        run_suite("tiny", systems=["jax"])


def test_update_readme_rewrites_only_the_marked_section(tmp_path):
    record = run_suite("tiny", only=["overhead"], systems=["symgraph", "torch"], backend="python", log=lambda _: None)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{report.README_START}\nold table\n{report.README_END}\n\nrest\n")
    report.update_readme(record, readme)
    text = readme.read_text()
    assert text.startswith("# title\n\n<!-- bench-table:start -->\n_")
    assert text.endswith("<!-- bench-table:end -->\n\nrest\n")
    assert "old table" not in text and "| overhead-add3-f64 | symgraph (python) |" in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no <!-- bench-table:start -->"):
        report.update_readme(record, readme)


def test_repo_readme_has_the_bench_section():
    text = (ROOT / "README.md").read_text()
    assert text.count(report.README_START) == 1 and text.count(report.README_END) == 1


def test_cli_list(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(case.name in out for case in suite_cases("default")) and "lstm" in out


def test_cli_writes_table_json_and_chart_and_measures_latency(tmp_path):
    json_path, png_path = tmp_path / "out" / "bench.json", tmp_path / "bench.png"
    options = "--tiny --only overhead --systems symgraph,torch --backend python --latency all".split()
    command = [sys.executable, "-m", "bench", *options, "--json", str(json_path), "--plot", str(png_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "| case | system | median | vs torch eager |" in done.stdout and "cold cache" in done.stdout
    record = json.loads(json_path.read_text())
    check_schema(record, ("symgraph", "torch"))
    assert record["settings"]["argv"][0] == "--tiny"
    (case,) = record["cases"]
    assert [row["system"] for row in case["latency"]] == ["symgraph", "torch"]
    for row in case["latency"]:
        assert row["status"] == "ok" and row["cold_s"] > 0 and row["warm_process_s"] > row["warm_s"]
    assert png_path.stat().st_size > 0


@pytest.mark.skipif("cupy" in available_backends(), reason="a cupy backend is registered")
def test_cli_refuses_a_missing_backend():
    done = subprocess.run([sys.executable, "-m", "bench", "--backend", "cupy"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "no backend 'cupy'" in done.stderr
