"""Rules for reductions: sum, prod, max, min, all and any as one loop accumulating into the result."""

from __future__ import annotations

from backends.numba.loops import LoopOutput, LoopSpec, loop_source
from backends.numba.rules import Kernel, numba_rule
from symgraph.graph import Apply
from symgraph.ops.reduce import Reduce


@numba_rule.register(Reduce)
def _reduce(op: Reduce, node: Apply) -> Kernel:
    x, out = node.inputs[0], node.outputs[0]
    spec = LoopSpec(
        inputs=((x.dtype, x.type.shape),),
        steps=(),
        outputs=(LoopOutput(0, out.dtype, op.kind, op.axes),),
        label=str(op),
    )
    return Kernel(loop_source(spec))
