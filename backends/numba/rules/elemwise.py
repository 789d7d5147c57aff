"""Rules for Elemwise: one loop kernel per node (fused groups have their own rule)."""

from __future__ import annotations

from backends.numba.loops import LoopOutput, LoopSpec, Step, loop_source
from backends.numba.rules import Kernel, numba_rule
from symgraph.graph import Apply
from symgraph.ops.elemwise import Elemwise


@numba_rule.register(Elemwise)
def _elemwise(op: Elemwise, node: Apply) -> Kernel:
    comp, out = op.scalar_op.dtypes(tuple(v.dtype for v in node.inputs))
    n = len(node.inputs)
    spec = LoopSpec(
        inputs=tuple((v.dtype, v.type.shape) for v in node.inputs),
        steps=(Step(op.scalar_op, tuple(range(n)), comp, out),),
        outputs=(LoopOutput(n, out, destroys=op.destroy_map.get(0)),),
        label=str(op),
    )
    return Kernel(loop_source(spec))
