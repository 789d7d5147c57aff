"""symgraph: a compiled symbolic tensor-graph framework in the spirit of Theano.

``import symgraph as sg``; build expressions from ``sg.matrix()``, ``sg.shared(...)``..., compile
them with ``sg.function(inputs, outputs, updates=..., givens=...)``.
"""

from symgraph import (
    nnet,
    random,
    variable_methods,  # attaches the operators and methods of Variable
)
from symgraph.compile import Function, function
from symgraph.config import config
from symgraph.errors import (
    AllocationError,
    CallError,
    ConfigError,
    MissingInputError,
    PerformError,
    SymgraphError,
    SymgraphTypeError,
    SymgraphValueError,
    UnusedInputError,
)
from symgraph.fgraph import FunctionGraph
from symgraph.grad import *
from symgraph.graph import (
    Apply,
    Constant,
    Variable,
    ancestors,
    clone_replace,
    constant,
    graph_inputs,
    toposort,
)
from symgraph.graph import as_variable as as_tensor_variable
from symgraph.infer_shape import symbolic_shape
from symgraph.jacobian import hessian, jacobian
from symgraph.nnet import one_hot
from symgraph.op import Op
from symgraph.ops.alloc import *  # noqa: F403
from symgraph.ops.control import *  # noqa: F403
from symgraph.ops.elemwise import *  # noqa: F403
from symgraph.ops.gradient_ops import *
from symgraph.ops.indexing import *  # noqa: F403
from symgraph.ops.join import *  # noqa: F403
from symgraph.ops.linalg import *  # noqa: F403
from symgraph.ops.reduce import *  # noqa: F403
from symgraph.ops.shape import *  # noqa: F403
from symgraph.printing import debugprint, to_dot
from symgraph.random import RandomStream
from symgraph.scan import *  # noqa: F403
from symgraph.shared import SharedVariable, shared
from symgraph.tensor import *  # noqa: F403
from symgraph.verify_grad import *

__version__ = "0.1.0"
