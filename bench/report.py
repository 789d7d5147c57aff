"""Outputs of a run: the markdown table (stdout and README), the JSON record, a PNG chart of ratios."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

from bench.context import REFERENCE

README_START, README_END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    unit, scale = ("s", 1.0) if seconds >= 1 else ("ms", 1e-3) if seconds >= 1e-3 else ("us", 1e-6)
    return f"{seconds / scale:.3g} {unit}"


def _note(row: dict[str, Any], width: int = 140) -> str:
    if row["status"] == "ok":
        return ""
    text = {"mismatch": "REFUSED, results disagree", "error": "error"}.get(row["status"], row["status"])
    detail = f"{text}: {row['detail']}".replace("|", "/").replace("\n", " ")
    return detail if len(detail) <= width else detail[: width - 1] + "…"


def _label(system: str, record: dict[str, Any]) -> str:
    return f"symgraph ({record['settings']['backend']})" if system == "symgraph" else system


def meta_line(record: dict[str, Any]) -> str:
    """Date, machine, backend, threads and versions in one line."""
    m, s = record["machine"], record["settings"]
    versions = ", ".join(f"{k} {m['versions'][k]}" for k in ("torch", "numpy", "numba") if m["versions"].get(k))
    threads = f"{s['threads']} thread{'s' if s['threads'] > 1 else ''}"
    return (
        f"{record['created'][:10]} · {m['cpu']}, {m['usable_cores']} cores · symgraph backend `{s['backend']}` "
        f"on {s['device']} · {threads} · {s['suite']} suite, median of {s['repeat']} · {versions}"
    )


def timing_table(record: dict[str, Any]) -> str:
    lines = [
        "| case | system | median | vs torch eager | throughput | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for case in record["cases"]:
        first = True
        for row in case["results"]:
            if row["status"] == "skipped":
                continue  # listed once in the notes
            ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}x"
            throughput = "" if row["throughput"] is None else f"{row['throughput']:.3g} {case['unit']}"
            cells = [case["name"] if first else "", row["label"], _time(row["median_s"]), ratio, throughput, _note(row)]
            lines.append(f"| {' | '.join(cells)} |")
            first = False
    return "\n".join(lines)


def latency_table(record: dict[str, Any]) -> str | None:
    rows = [(case["name"], row) for case in record["cases"] for row in case.get("latency", [])]
    if not rows:
        return None
    lines = [
        "| case | system | cold cache | warm cache | whole process, cold / warm | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, row in rows:
        process = f"{_time(row['cold_process_s'])} / {_time(row['warm_process_s'])}"
        cells = [name, _label(row["system"], record), _time(row["cold_s"]), _time(row["warm_s"]), process, _note(row)]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def notes(record: dict[str, Any]) -> list[str]:
    skipped: dict[str, set[str]] = {}
    for case in record["cases"]:
        for row in case["results"]:
            if row["status"] == "skipped":
                skipped.setdefault(row["label"], set()).add(row["detail"])
    out = [f"{label} skipped: {'; '.join(sorted(reasons))}" for label, reasons in skipped.items()]
    out += [f"not benchmarked yet: {p['name']} ({p['reason']})" for p in record["pending"]]
    return out + list(record["machine"]["warnings"])


def render(record: dict[str, Any]) -> str:
    """The markdown shown on stdout and in the README."""
    parts = [
        f"_{meta_line(record)}_",
        "Median time per call; *vs torch eager* is the median of paired ratios (time / torch eager time, "
        "lower is better); agreement with torch eager is checked before timing.",
        timing_table(record),
    ]
    latency = latency_table(record)
    if latency:
        parts += [
            "Build -> first result in a fresh process, imports excluded (cold: empty compile caches; warm: "
            "populated); the last column is the whole process, interpreter start and imports included:",
            latency,
        ]
    parts.append("\n".join(f"- {n}" for n in notes(record)))
    return "\n\n".join(p for p in parts if p)


def write_json(record: dict[str, Any], path: str | pathlib.Path) -> None:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")


def plot(record: dict[str, Any], path: str | pathlib.Path) -> bool:
    """A horizontal bar chart of the ratios to torch eager (log scale); False when there is none."""
    from matplotlib.figure import Figure

    bars = [
        (f"{case['name']}  {row['label']}", row["ratio"], row["system"])
        for case in record["cases"]
        for row in case["results"]
        if row["ratio"] is not None and row["system"] != REFERENCE
    ]
    if not bars:
        return False
    systems = sorted({system for _, _, system in bars})
    colors = {system: f"C{i}" for i, system in enumerate(systems)}
    fig = Figure(figsize=(9, 1.6 + 0.32 * len(bars)))
    ax = fig.subplots()
    ax.barh(range(len(bars)), [r for _, r, _ in bars], color=[colors[s] for _, _, s in bars])
    for i, (_, ratio, _) in enumerate(bars):
        ax.annotate(f" {ratio:.2f}x", (ratio, i), va="center", fontsize=8)
    ax.set_yticks(range(len(bars)), [label for label, _, _ in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ratios = [r for _, r, _ in bars]
    ax.set_xlim(min(0.5, min(ratios) / 1.5), max(2.0, max(ratios) * 2.5))  # room for the labels
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("time / torch eager time (log scale; below 1 is faster than torch eager)")
    ax.set_title(meta_line(record).replace("`", ""), fontsize=8, wrap=True)
    fig.tight_layout()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return True


def update_readme(record: dict[str, Any], path: str | pathlib.Path) -> None:
    """Replace the text between the README's bench-table markers with this run's tables."""
    path = pathlib.Path(path)
    text = path.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), flags=re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {README_START} ... {README_END} section to update")
    block = f"{README_START}\n{render(record)}\n{README_END}"
    path.write_text(pattern.sub(lambda _: block, text, count=1))
