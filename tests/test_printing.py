"""debugprint and to_dot: printed tree structure, ids of shared subtrees, updates, DOT structure and files."""

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

import symgraph as sg
from symgraph.graph import Apply, as_variable
from symgraph.op import Op

M = "Tensor[float64](?, ?)"


@dataclass(frozen=True)
class Split2(Op):
    """A two-output op for the tests: (x, -x)."""

    def make_node(self, x):
        x = as_variable(x)
        return Apply(self, [x], [x.type, x.type])

    def perform(self, node: Apply, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [inputs[0].copy(), -inputs[0]]


def reused_graph():
    x, y = sg.matrix("x", "float64"), sg.vector("y", "float64")
    e = sg.exp(x)
    e.name = "e"
    z = e * e + y
    z.name = "z"
    return x, y, e, z


# -- debugprint ------------------------------------------------------------------------------------------
def test_debugprint_reused_subtree_printed_once():
    *_, z = reused_graph()
    assert sg.debugprint(z, file="str") == (
        f"Elemwise{{add}} 'z' :: {M}\n"
        f" |Elemwise{{mul}} :: {M}\n"
        f" | |Elemwise{{exp}} 'e' [id A] :: {M}\n"
        f" | | |x :: {M}\n"
        f" | |Elemwise{{exp}} 'e' [id A] :: {M} ...\n"
        " |y :: Tensor[float64](?,)\n"
    )


def test_debugprint_without_types_and_all_ids():
    *_, z = reused_graph()
    assert sg.debugprint(z, file="str", print_type=False, ids="all") == (
        "Elemwise{add} 'z' [id A]\n |Elemwise{mul} [id B]\n | |Elemwise{exp} 'e' [id C]\n | | |x [id D]\n"
        " | |Elemwise{exp} 'e' [id C] ...\n |y [id E]\n"
    )


def test_debugprint_ids_shared_across_outputs_and_roots():
    x, _, e, z = reused_graph()
    w = sg.log(x) + x
    lines = sg.debugprint([z, e, w], file="str", print_type=False).splitlines()
    assert lines[0] == "Elemwise{add} 'z'"
    assert lines[4] == " | |Elemwise{exp} 'e' [id A] ..."  # inside z,
    assert lines[6] == "Elemwise{exp} 'e' [id A] ..."  # then as the second output
    assert lines[3] == " | | |x [id B]"  # x is used three times: by exp, log and the last add
    assert lines[-4:] == ["Elemwise{add}", " |Elemwise{log}", " | |x [id B]", " |x [id B]"]


def test_debugprint_indents_last_child_with_spaces():
    x = sg.vector("x", "float64")
    text = sg.debugprint(sg.add(x, sg.exp(sg.neg(x))), file="str", print_type=False, ids="all")
    assert text.splitlines() == [
        "Elemwise{add} [id A]",
        " |x [id B]",
        " |Elemwise{exp} [id C]",
        "   |Elemwise{neg} [id D]",
        "     |x [id B]",
    ]


def test_debugprint_constants_shared_and_unnamed_inputs():
    w = sg.shared(np.zeros((2, 2)), name="W")
    anonymous = sg.matrix(dtype="float64")
    z = anonymous + w * 2.5 + np.arange(10.0)[:2] + np.array([[1, 2], [3, 4]])
    text = sg.debugprint(z, file="str")
    assert f"<input> :: {M}" in text
    assert f"W (shared) :: {M}" in text
    assert "Constant{2.5} :: Tensor[float64]()" in text
    assert "Constant{[[1 2] [3 4]]} :: Tensor[int64](2, 2)" in text
    big = sg.debugprint(sg.constant(np.arange(10.0)) + 1.0, file="str")
    assert "Constant{<float64 array of shape (10,)>} :: Tensor[float64](10,)" in big


def test_debugprint_multi_output_node_gets_one_id():
    x = sg.vector("x", "float64")
    a, b = Split2()(x)
    lines = sg.debugprint(a * b, file="str", print_type=False).splitlines()
    assert lines == ["Elemwise{mul}", " |Split2.0 [id A]", " | |x", " |Split2.1 [id A] ..."]


def test_debugprint_compiled_function_with_updates():
    x = sg.matrix("x", "float64")
    w = sg.shared(np.ones((2, 2)), name="W")
    count = sg.shared(np.int64(0), name="count")
    unused = sg.shared(np.zeros(2), name="unused")
    f = sg.function([x], [x * w, x.sum()], updates={w: w - x, count: count + 1, unused: x[0]})
    lines = sg.debugprint(f, file="str").splitlines()
    roots = [line for line in lines if not line.startswith(" ")]
    assert [r.split(" ")[0] for r in roots] == ["Elemwise{mul}", roots[1].split(" ")[0], "W", "count", "unused"]
    assert roots[2].startswith("W <- Elemwise{sub") and roots[2].endswith(f":: {M}")
    assert roots[3].startswith("count <- Elemwise{add") and roots[3].endswith(":: Tensor[int64]()")
    assert ("inplace" in roots[2]) + ("inplace" in roots[3]) == 1  # the update running last, into its storage
    assert roots[4].startswith("unused <- ")
    assert lines[1] == f" |x [id A] :: {M}"
    assert lines.count(f" |W (shared) [id B] :: {M}") == 2  # read by the first output and by its own update
    assert " |count (shared) :: Tensor[int64]()" in lines


def test_debugprint_function_graph_and_files(capsys):
    x, _, _, z = reused_graph()
    fg = sg.FunctionGraph([x, z.owner.inputs[1]], [z])
    text = sg.debugprint(fg, file="str")
    assert text.startswith("Elemwise{add} 'z'") and text.count("\n") == 6
    assert sg.debugprint(z) == text
    assert capsys.readouterr().out == text
    buffer = io.StringIO()
    assert sg.debugprint(z, file=buffer) == text and buffer.getvalue() == text
    assert capsys.readouterr().out == ""


def test_debugprint_deep_graph_is_not_recursive():
    x = sg.vector("x", "float64")
    y = x
    for _ in range(3000):
        y = sg.neg(y)
    lines = sg.debugprint(y, file="str", print_type=False).splitlines()
    assert len(lines) == 3001 and lines[-1].strip() == "|x"


@pytest.mark.parametrize("fn", [sg.debugprint, sg.to_dot])
def test_bad_arguments(fn):
    with pytest.raises(sg.SymgraphTypeError, match="expected a Variable"):
        fn(3)
    with pytest.raises(sg.SymgraphTypeError, match="expected a Variable"):
        fn([sg.vector(), 1.0])
    if fn is sg.debugprint:
        with pytest.raises(sg.SymgraphValueError, match="ids"):
            sg.debugprint(sg.vector(), ids="CHAR")


# -- to_dot ------------------------------------------------------------------------------------------------
def parse_dot(text):
    """(node id -> attribute text, list of (source, target, attribute text)) of a DOT digraph."""
    assert text.startswith("digraph symgraph {\n") and text.endswith("}\n")
    nodes = dict(re.findall(r"^  (\w+) \[(.*)\];$", text, re.M))
    edges = re.findall(r"^  (\w+) -> (\w+)(?: \[(.*)\])?;$", text, re.M)
    assert len(nodes) + len(edges) + 3 == text.count("\n")  # every other line is a node or an edge
    for source, target, _ in edges:
        assert source in nodes and target in nodes
    return nodes, edges


def test_to_dot_structure():
    x, y = sg.matrix("x", "float64"), sg.matrix("y", "float64")
    z = x * y + sg.exp(x)
    z.name = "z"
    nodes, edges = parse_dot(sg.to_dot(z))
    variables = {k: v for k, v in nodes.items() if "ellipse" in v}
    ops = {k: v for k, v in nodes.items() if "shape=box" in v}
    assert len(variables) == 5 and len(ops) == 3
    assert len(edges) == 8  # 5 inputs of nodes + 3 outputs
    (mul,) = [k for k, v in ops.items() if "Elemwise{mul}" in v]
    x_id = next(k for k, v in variables.items() if v.startswith('label="x\\n'))
    y_id = next(k for k, v in variables.items() if v.startswith('label="y\\n'))
    assert (x_id, mul, 'label="0"') in edges and (y_id, mul, 'label="1"') in edges
    assert 'label="z\\nTensor[float64](?, ?)"' in next(v for v in variables.values() if "lightblue" in v)


def test_to_dot_function_with_updates_and_constants():
    x = sg.vector("x", "float64")
    w = sg.shared(np.zeros(3), name="W")
    unused = sg.shared(np.zeros(3), name="unused")
    f = sg.function([x], x + 1.0, updates={w: w * x, unused: x})
    nodes, edges = parse_dot(sg.to_dot(f))
    updates = [(s, t) for s, t, attrs in edges if "update" in attrs]
    assert len(updates) == 2
    by_label = {v.split("\\n")[0][len('label="') :]: k for k, v in nodes.items()}
    assert "orange" in nodes[by_label["W (shared)"]] and "dashed" in nodes[by_label["Constant{1.}"]]
    assert {t for _, t in updates} == {by_label["W (shared)"], by_label["unused (shared)"]}
    assert (by_label["x"], by_label["unused (shared)"]) in updates
    assert len(nodes) == 8 and len(edges) == 8  # x, 1.0, W, unused, 2 results, add, mul; 6 + 2 updates


def test_to_dot_multi_output_and_escaping():
    x = sg.vector('say "hi"\\', "float64")
    a, _ = Split2()(x)
    text = sg.to_dot(sg.exp(a))
    nodes, edges = parse_dot(text)
    assert 'label="say \\"hi\\"\\\\\\nTensor[float64](?,)"' in text
    assert len(nodes) == 6 and len(edges) == 5  # x, 2 outputs of Split2, exp's output, Split2, exp
    out_labels = sorted(attrs for s, _, attrs in edges if nodes[s].startswith('label="Split2"'))
    assert out_labels == ['label="0"', 'label="1"']


@pytest.mark.parametrize("suffix", [".dot", ".gv"])
def test_to_dot_writes_text(tmp_path, suffix):
    path = tmp_path / f"graph{suffix}"
    text = sg.to_dot(sg.exp(sg.vector("x")), path=path)
    assert path.read_text() == text


def test_to_dot_renders_through_dot_program(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text('#!/bin/sh\n[ -n "$FAIL_DOT" ] && { echo broken >&2; exit 3; }\necho "$1" > "$3"\ncat >> "$3"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    text = sg.to_dot(sg.exp(sg.vector("x")), path=str(tmp_path / "graph.svg"))
    assert (tmp_path / "graph.svg").read_text() == "-Tsvg\n" + text
    monkeypatch.setenv("FAIL_DOT", "1")
    with pytest.raises(sg.SymgraphError, match="dot failed on 'graph.png': broken"):
        sg.to_dot(sg.exp(sg.vector("x")), path=tmp_path / "graph.png")


def test_to_dot_needs_dot_program_for_pictures(tmp_path, monkeypatch):
    monkeypatch.setattr("symgraph.printing.shutil.which", lambda name: None)
    with pytest.raises(sg.SymgraphError, match="needs Graphviz's 'dot' program"):
        sg.to_dot(sg.vector("x"), path=tmp_path / "graph.png")
    assert not (tmp_path / "graph.png").exists()
    with pytest.raises(sg.SymgraphValueError, match="cannot write 'graph.txt'"):
        sg.to_dot(sg.vector("x"), path=tmp_path / "graph.txt")
