"""The rewrite engine: registration, selection, fixed points and their bounds, trace; merge; constant folding."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph import rewrite_driver
from symgraph.fgraph import FunctionGraph
from symgraph.graph import Constant
from symgraph.ops.elemwise import Elemwise
from symgraph.rewrite import engine
from symgraph.rewrite.engine import register, register_pass, rewrite_graph, select, unregister
from symgraph.rewrite_driver import RewriteError
from tests.helpers import check_rewrite, op_names


@pytest.fixture
def temporary():
    """Names registered during a test are removed after it, so no other test sees them."""
    names: list[str] = []
    yield names
    for name in names:
        unregister(name)


def test_selection_modes():
    every = {r.name for r in engine.registered()}
    assert {r.name for r in select("fast_run")} == every
    assert select(None) == []
    fast_compile = {r.name for r in select("fast_compile")}
    assert {"merge", "constant_folding"} <= fast_compile < every or fast_compile == every
    merge_phase = {r.name for r in engine.registered() if "merge" in r.tags}  # the phase name is a tag
    assert {"merge", "scan_extension"} <= merge_phase
    assert {r.name for r in select(["merge"])} == merge_phase
    assert {r.name for r in select(["-merge"])} == every - merge_phase


@pytest.mark.parametrize("bad", ["fast_runn", ["merge", "nope"], [3]])
def test_unknown_selection_is_an_error(bad):
    with pytest.raises(sg.SymgraphValueError, match="unknown tag or rewrite"):
        select(bad)


def test_register_refuses_duplicates_and_unknown_phases(temporary):
    with pytest.raises(sg.SymgraphValueError, match="already registered"):
        register("canonicalize", name="merge")(lambda fg, node: None)
    with pytest.raises(sg.SymgraphValueError, match="unknown rewrite phase"):
        register("polish", name="t_polish")(lambda fg, node: None)
    with pytest.raises(sg.SymgraphValueError, match="no rewrite named"):
        unregister("t_never_registered")


def test_node_rewrite_tracks_scalar_names_and_classes(temporary):
    seen: list[str] = []

    @register("canonicalize", "exp", name="t_exp_tracker")
    def exp_tracker(fgraph, node):
        seen.append(str(node.op))

    @register("canonicalize", Elemwise, name="t_class_tracker")
    def class_tracker(fgraph, node):
        seen.append("class:" + str(node.op))

    temporary += ["t_exp_tracker", "t_class_tracker"]
    x = sg.vector("x")
    sg.function([x], sg.exp(x) + sg.log(x), rewrites=["t_exp_tracker", "t_class_tracker"])
    assert seen.count("Elemwise{exp}") == 1  # only the exp node reached the name tracker
    assert sorted(s for s in seen if s.startswith("class:")) == [
        "class:Elemwise{add}", "class:Elemwise{exp}", "class:Elemwise{log}",
    ]  # fmt: skip


def test_rewrite_to_fixed_point_and_trace(temporary, capsys):
    @register("canonicalize", "exp", name="t_exp_to_expm1_plus_1")
    def exp_rewrite(fgraph, node):
        return sg.expm1(node.inputs[0]) + np.float64(1.0)

    temporary.append("t_exp_to_expm1_plus_1")
    x = sg.vector("x")
    f = check_rewrite(sg.exp(sg.exp(x)), {x: np.linspace(-1, 1, 5)}, rewrites=["t_exp_to_expm1_plus_1"])
    assert op_names(f).count("Elemwise{expm1}") == 2 and "Elemwise{exp}" not in op_names(f)
    assert f.rewrite_report.counts["t_exp_to_expm1_plus_1"] == 2
    sg.function([x], sg.exp(x), rewrites=["t_exp_to_expm1_plus_1"], trace=True)
    assert "1 x t_exp_to_expm1_plus_1" in capsys.readouterr().err


def test_ping_pong_stops_at_the_sweep_bound(temporary):
    @register("canonicalize", "neg", name="t_neg_to_mul")
    def neg_to_mul(fgraph, node):
        return node.inputs[0] * np.float64(-1.0)

    @register("canonicalize", "mul", name="t_mul_to_neg")
    def mul_to_neg(fgraph, node):
        return -node.inputs[0] if len(node.inputs) == 2 else None

    temporary += ["t_neg_to_mul", "t_mul_to_neg"]
    x = sg.vector("x")
    f = sg.function([x], -x, rewrites=["t_neg_to_mul", "t_mul_to_neg"])
    (phase,) = f.rewrite_report.phases
    assert phase.sweeps == rewrite_driver.MAX_SWEEPS and "no fixed point" in phase.stopped
    assert "STOPPED" in str(f.rewrite_report)
    np.testing.assert_array_equal(f([1.0, -2.0]), [-1.0, 2.0])


def test_growth_is_bounded(temporary):
    @register("canonicalize", "exp", name="t_explode")
    def explode(fgraph, node):
        y = node.inputs[0]
        for _ in range(50):
            y = sg.identity(y)
        return sg.exp(y)

    temporary.append("t_explode")
    x = sg.vector("x")
    f = sg.function([x], sg.exp(x), rewrites=["t_explode"])
    (phase,) = f.rewrite_report.phases
    assert "graph grew" in phase.stopped
    assert phase.nodes_after <= rewrite_driver.GROWTH_LIMIT * phase.nodes_before + 1000 + 51


@pytest.mark.parametrize(
    "result",
    [lambda x: sg.cast(x, "float32"), lambda x: sg.matrix(), lambda x: [x, x], lambda x: 3.0],
    ids=["dtype", "ndim", "arity", "not-a-variable"],
)
def test_invalid_replacements_name_the_rewrite(temporary, result):
    @register("canonicalize", "exp", name="t_bad")
    def bad(fgraph, node):
        return result(node.inputs[0])

    temporary.append("t_bad")
    x = sg.vector("x")
    with pytest.raises(RewriteError, match="t_bad"):
        sg.function([x], sg.exp(x), rewrites=["t_bad"])


def test_less_specific_static_shape_is_refused(temporary):
    @register("canonicalize", "exp", name="t_loses_shape")
    def loses_shape(fgraph, node):
        return sg.vector()

    temporary.append("t_loses_shape")
    x = sg.tensor("x", shape=(3,))
    with pytest.raises(RewriteError, match="t_loses_shape"):
        sg.function([x], sg.exp(x), rewrites=["t_loses_shape"])


def test_graph_pass_counts_changes(temporary):
    calls = []

    @register_pass("specialize", name="t_counting_pass")
    def counting(fgraph):
        calls.append(len(fgraph.apply_nodes))
        return 0

    temporary.append("t_counting_pass")
    x = sg.vector("x")
    f = sg.function([x], sg.exp(x), rewrites=["t_counting_pass"])
    assert calls == [1] and f.rewrite_report.phases[0].sweeps == 1


def test_merge_equal_nodes_and_constants():
    x = sg.vector("x")
    a = sg.exp(x) * sg.constant(np.float64(2.0))
    b = sg.exp(x) * sg.constant(np.float64(2.0))
    f = check_rewrite([a + b, a], {x: np.arange(3.0)}, rewrites=["merge"])
    assert op_names(f).count("Elemwise{exp}") == 1 and op_names(f).count("Elemwise{mul}") == 1
    constants = [v for v in f.fgraph.variables if isinstance(v, Constant) and f.fgraph.clients[v]]
    assert len(constants) == 1


def test_merge_keeps_different_ops_apart():
    x = sg.matrix("x")
    f = check_rewrite([x.sum(axis=0), x.sum(axis=1), sg.exp(x), sg.log(x + 3)], {x: np.ones((2, 3))},
                      rewrites=["merge"])  # fmt: skip
    assert len(f.fgraph.apply_nodes) == 5


def test_merge_keeps_user_outputs_distinct_arrays():
    x = sg.vector("x")
    f = sg.function([x], [sg.exp(x), sg.exp(x)])
    a, b = f(np.zeros(2))
    a[0] = 5.0
    assert b[0] == 1.0


def test_constant_folding():
    x = sg.vector("x")
    c = sg.exp(sg.constant(np.arange(3.0))) * 2.0
    f = check_rewrite(x + c, {x: np.ones(3)}, rewrites=["constant_folding"])
    assert op_names(f) == ["Elemwise{add}"]
    folded = next(v for v in f.fgraph.toposort()[0].inputs if isinstance(v, Constant))
    np.testing.assert_allclose(folded.data, np.exp(np.arange(3.0)) * 2.0)
    assert folded.dtype == "float64"


def test_constant_folding_keeps_dtype_and_skips_large_or_failing_results():
    x = sg.vector("x", dtype="float32")
    small = sg.constant(np.float32(3.0)) * sg.constant(np.float32(2.0))
    f = check_rewrite(x * small, {x: np.ones(2, "float32")}, rewrites=["constant_folding"])
    assert [str(v.dtype) for v in f.fgraph.toposort()[0].inputs] == ["float32", "float32"]
    big = sg.alloc(np.float64(1.0), 1000, 1000)
    g = sg.function([], big.sum(), rewrites=["constant_folding"])
    assert "Alloc" in " ".join(op_names(g)) and g() == 1e6
    bad = sg.constant(np.arange(3.0))[sg.constant(2) + sg.constant(3)]  # fails when run, so it is not folded
    with pytest.raises(sg.SymgraphError, match="out of bounds"):
        sg.function([], bad, rewrites=["constant_folding"])()


def test_fast_compile_and_none_run_through_function():
    x = sg.vector("x")
    y = (sg.exp(x) + sg.exp(x)) * sg.constant(np.float64(2.0)) * sg.constant(np.float64(3.0))
    for rewrites in ("fast_compile", None, "fast_run", ["-merge"]):
        check_rewrite(y, {x: np.arange(3.0)}, rewrites=rewrites)
    assert sg.function([x], y, rewrites=None).rewrite_report.phases == []


def test_config_controls_defaults(capsys):
    x = sg.vector("x")
    old = sg.config.rewrites, sg.config.trace_rewrites
    try:
        sg.config.rewrites, sg.config.trace_rewrites = None, True
        f = sg.function([x], sg.exp(x) + sg.exp(x))
        assert f.rewrite_report.phases == [] and op_names(f).count("Elemwise{exp}") == 2
        assert "rewrites:" in capsys.readouterr().err
    finally:
        sg.config.rewrites, sg.config.trace_rewrites = old


def test_rewrite_graph_on_a_function_graph():
    x = sg.vector("x")
    fg = FunctionGraph([x], [sg.exp(x) + sg.exp(x)])
    report = rewrite_graph(fg, ["merge"])
    assert report.nodes_before == 3 and report.nodes_after == 2 and report.counts["merge"] == 1
    assert "3 -> 2 nodes" in str(report)
