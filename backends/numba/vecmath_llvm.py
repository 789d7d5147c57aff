"""LLVM-level building blocks for ``backends.numba.vecmath``: numba intrinsics that LLVM's loop vectorizer keeps
in SIMD form.

- ``bits``/``from_bits`` reinterpret a float as the signed integer of the same width and back, ``select`` is
  LLVM's branch-free ``select``, ``fma`` is ``llvm.fma`` (one rounding; used where exactness matters).
- ``libmvec_call(symbol, dtype)`` calls glibc's vector math library: a scalar call whose call site carries the
  ``vector-function-abi-variant`` attribute naming the AVX2 variant (``_ZGVdN8v_expf``, ...), which the loop
  vectorizer substitutes for the scalar call. (LLVM 22 dropped the ``-vector-library`` command-line option that
  used to enable this globally: it moved into ``TargetOptions``, which llvmlite does not expose.) The scalar
  form itself calls the vector variant with the argument in every lane, so an element gets the same bits
  whether the loop vectorizes, or it falls in the scalar remainder.
- ``libm_lanes(symbol, dtype)`` calls scalar libm for a rarely taken branch (huge sin/cos arguments): in a
  vectorized loop the call becomes a masked vector call that returns at once when no lane takes the branch.

Helper functions are emitted into each module that uses them with ``linkonce_odr`` linkage and kept alive
through ``llvm.compiler.used`` until the vectorizer has seen the call sites that name them.
"""

from __future__ import annotations

from llvmlite import ir
from llvmlite.ir.values import AttributeSet
from numba import types
from numba.extending import intrinsic

_INT_OF = {types.float32: types.int32, types.float64: types.int64}
_FLOAT_OF = {v: k for k, v in _INT_OF.items()}
#: lanes of one AVX2 register, the width of glibc's ``_ZGVd`` variants
AVX2_LANES = {"float32": 8, "float64": 4}


def _bitcast(table: dict, doc: str) -> object:
    """An intrinsic reinterpreting the bits of a value whose type is a key of ``table`` as ``table[type]``."""

    def reinterpret(typingctx, x):  # numba's intrinsic protocol
        if x not in table:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], context.get_value_type(table[x]))

        return table[x](x), codegen

    reinterpret.__doc__ = doc
    return intrinsic(reinterpret)


bits = _bitcast(_INT_OF, "The bits of a float as a signed integer of the same width.")
from_bits = _bitcast(_FLOAT_OF, "The float whose bits are a signed integer (int32 -> float32, int64 -> float64).")


@intrinsic
def select(typingctx, cond, a, b):
    """``a if cond else b`` without a branch."""
    if cond != types.boolean or a != b:
        return None

    def codegen(context, builder, sig, args):
        return builder.select(*args)

    return a(cond, a, b), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once."""
    if not (a == b == c and a in _INT_OF):
        return None

    def codegen(context, builder, sig, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@intrinsic
def horner(typingctx, x, coefficients):
    """coefficients[0] + x * coefficients[1] + x^2 * coefficients[2] + ..., as straight-line code (fused
    multiply-adds allowed)."""
    if x not in _INT_OF or not (isinstance(coefficients, types.UniTuple) and coefficients.dtype == x):
        return None

    def codegen(context, builder, sig, args):
        value, tup = args
        result = builder.extract_value(tup, coefficients.count - 1)
        for index in range(coefficients.count - 2, -1, -1):
            product = builder.fmul(result, value, flags=("contract",))
            result = builder.fadd(product, builder.extract_value(tup, index), flags=("contract",))
        return result

    return x(x, coefficients), codegen


class _AnyAttributes(AttributeSet):
    """A call's attribute set that accepts string attributes (llvmlite only knows a fixed list)."""

    def add(self, name: str) -> None:
        set.add(self, name)


def _mark_vector_variants(call: ir.CallInstr, mappings: list[str]) -> None:
    attrs = _AnyAttributes()
    attrs.add(f'"vector-function-abi-variant"="{",".join(mappings)}"')
    call.attributes = attrs


def _keep_alive(module: ir.Module, functions: list[ir.Function]) -> None:
    """Add ``functions`` to the module's ``llvm.compiler.used`` (only call-site attributes name them)."""
    ptr = ir.IntType(8).as_pointer()
    used = module.globals.get("llvm.compiler.used")
    items = [] if used is None else list(used.initializer.constant)
    items += [f.bitcast(ptr) for f in functions]
    array = ir.ArrayType(ptr, len(items))
    if used is None:
        used = ir.GlobalVariable(module, array, "llvm.compiler.used")
        used.linkage = "appending"
        used.section = "llvm.metadata"
    used.value_type = array
    used.initializer = ir.Constant(array, items)


def _function(module: ir.Module, name: str, fnty: ir.FunctionType) -> tuple[ir.Function, bool]:
    """The function ``name`` of ``module`` and whether it was just declared (so still needs a body)."""
    existing = module.globals.get(name)
    if existing is not None:
        return existing, False
    return ir.Function(module, fnty, name), True


def _scalar_wrapper(module: ir.Module, name: str, lty: ir.Type, body) -> ir.Function:
    """A ``noinline`` scalar function ``name`` (the vectorizer only substitutes calls that stay calls)."""
    fn, new = _function(module, name, ir.FunctionType(lty, [lty]))
    if new:
        fn.linkage = "linkonce_odr"
        fn.attributes.add("noinline")
        builder = ir.IRBuilder(fn.append_basic_block())
        builder.ret(body(builder, fn.args[0]))
    return fn


def libmvec_call(symbol: str, dtype: str):
    """An intrinsic computing libmvec's ``symbol`` (the scalar name, e.g. ``expf``) for a ``dtype`` scalar."""
    fty = types.float32 if dtype == "float32" else types.float64
    lanes = AVX2_LANES[dtype]
    vector_name = f"_ZGVdN{lanes}v_{symbol}"

    @intrinsic
    def call_libmvec(typingctx, x):
        if x != fty:
            return None

        def codegen(context, builder, sig, args):
            module = builder.module
            lty = context.get_value_type(fty)
            vty = ir.VectorType(lty, lanes)
            vector_fn, _ = _function(module, vector_name, ir.FunctionType(vty, [vty]))

            def body(b, arg):
                splat = b.shuffle_vector(
                    b.insert_element(ir.Constant(vty, None), arg, ir.Constant(ir.IntType(32), 0)),
                    ir.Constant(vty, None),
                    ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes),
                )
                return b.extract_element(b.call(vector_fn, [splat]), ir.Constant(ir.IntType(32), 0))

            scalar = _scalar_wrapper(module, f"sg_vm_mvec_{symbol}", lty, body)
            call = builder.call(scalar, args)
            _mark_vector_variants(call, [f"_ZGV_LLVM_N{lanes}v_{scalar.name}({vector_name})"])
            return call

        return fty(fty), codegen

    return call_libmvec


def _masked_libm(module: ir.Module, libm: ir.Function, lty: ir.Type, lanes: int) -> ir.Function:
    """``<lanes x T> f(<lanes x T> x, <lanes x i1> mask)``: libm on the masked lanes, nothing when none is."""
    vty, mty, i32 = ir.VectorType(lty, lanes), ir.VectorType(ir.IntType(1), lanes), ir.IntType(32)
    fn, new = _function(module, f"sg_vm_{libm.name}_m{lanes}", ir.FunctionType(vty, [vty, mty]))
    if not new:
        return fn
    _keep_alive(module, [fn])
    fn.linkage = "linkonce_odr"
    x, mask = fn.args
    entry, loop, call, step, done = (fn.append_basic_block(n) for n in ("entry", "loop", "call", "step", "done"))
    b = ir.IRBuilder(entry)
    any_lane = b.icmp_unsigned("!=", b.bitcast(mask, ir.IntType(lanes)), ir.Constant(ir.IntType(lanes), 0))
    b.cbranch(any_lane, loop, done)
    b.position_at_end(loop)
    index, acc = b.phi(i32), b.phi(vty)
    b.cbranch(b.extract_element(mask, index), call, step)
    b.position_at_end(call)
    acc_called = b.insert_element(acc, b.call(libm, [b.extract_element(x, index)]), index)
    b.branch(step)
    b.position_at_end(step)
    acc_next = b.phi(vty)
    acc_next.add_incoming(acc, loop)
    acc_next.add_incoming(acc_called, call)
    index_next = b.add(index, ir.Constant(i32, 1))
    b.cbranch(b.icmp_unsigned("<", index_next, ir.Constant(i32, lanes)), loop, done)
    index.add_incoming(ir.Constant(i32, 0), entry)
    index.add_incoming(index_next, step)
    acc.add_incoming(x, entry)
    acc.add_incoming(acc_next, step)
    b.position_at_end(done)
    result = b.phi(vty)
    result.add_incoming(x, entry)
    result.add_incoming(acc_next, step)
    b.ret(result)
    return fn


def libm_lanes(symbol: str, dtype: str):
    """An intrinsic calling scalar libm ``symbol`` (e.g. ``sinf``), for use inside a rarely taken ``if``.

    The loop vectorizer turns the branch into a call of a masked vector variant (for 2 to 16 lanes), which
    calls libm only for the lanes that take the branch.
    """
    fty = types.float32 if dtype == "float32" else types.float64
    widths = (4, 8, 16) if dtype == "float32" else (2, 4, 8)

    @intrinsic
    def call_libm(typingctx, x):
        if x != fty:
            return None

        def codegen(context, builder, sig, args):
            module = builder.module
            lty = context.get_value_type(fty)
            libm, _ = _function(module, symbol, ir.FunctionType(lty, [lty]))
            scalar = _scalar_wrapper(module, f"sg_vm_{symbol}", lty, lambda b, arg: b.call(libm, [arg]))
            masked = [_masked_libm(module, libm, lty, lanes) for lanes in widths]
            call = builder.call(scalar, args)
            _mark_vector_variants(call, [f"_ZGV_LLVM_M{n}v_{scalar.name}({m.name})" for n, m in zip(widths, masked)])
            return call

        return fty(fty), codegen

    return call_libm
