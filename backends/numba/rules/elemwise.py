"""Rules for elementwise work: a lone Elemwise and a fused group each become one loop kernel."""

from __future__ import annotations

from backends.numba.loops import program_kernel
from backends.numba.rules import Kernel, numba_rule
from symgraph.graph import Apply
from symgraph.ops.elemwise import Elemwise
from symgraph.ops.fused import FusedElemwise, Output, Program, Step


@numba_rule.register(Elemwise)
def _elemwise(op: Elemwise, node: Apply) -> Kernel:
    comp, out = op.scalar_op.dtypes(tuple(v.dtype for v in node.inputs))
    n = len(node.inputs)
    program = Program(tuple(v.dtype for v in node.inputs), (Step(op.scalar_op, tuple(range(n)), comp, out),),
                      (Output(n, out),))  # fmt: skip
    return program_kernel(op, node, program, tuple(op.destroy_map.items()))


@numba_rule.register(FusedElemwise)
def _fused(op: FusedElemwise, node: Apply) -> Kernel:
    return program_kernel(op, node, op.program, op.inplace)
