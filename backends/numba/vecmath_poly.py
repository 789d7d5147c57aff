"""Branch-free float32/float64 implementations of exp, expm1, log, log1p, sin, cos, tanh, sigmoid, softplus, erf.

Each is a scalar ``numba.njit(forceinline=True)`` function that LLVM inlines into the calling loop and
vectorizes: range reduction (Cody-Waite) and a polynomial, with special cases (overflow, underflow, zeros,
denormals, infinities, NaN) handled by ``select`` rather than branches. One dtype per function: every constant
is typed, so nothing widens to float64. The only branch is sin/cos's fallback to libm for |x| above
``TRIG_LIMIT``, which vectorizes as a masked call (see ``vecmath_llvm.libm_lanes``).

The functions carry their own fast-math flags (``contract`` only: FMA formation, which never changes
special-value results); a caller's flags (e.g. ``reassoc`` in reduction kernels) do not reach inside.
Coefficients are near-minimax fits (iteratively reweighted least squares in 60-digit arithmetic) of the
reduced function, rounded to the dtype. Max errors measured (ulp against the exact result; float32 over every
finite input, float64 over 9e5 inputs spread over all binades), float32 / float64: exp 0.98 / 1.00, expm1
1.44 / 1.78, log 0.84 / 0.76, log1p 0.84 / 0.80, sin 1.49 / 1.43, cos 1.49 / 1.43, tanh 1.42 / 1.38, sigmoid
2.40 / 1.98, softplus 1.66 / 1.58, erf 1.32 / 1.35.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from backends.numba.vecmath_llvm import bits, fma, from_bits, horner, libm_lanes, select
from symgraph.ops import scalar
from symgraph.ops.scalar import ScalarOp

JIT_OPTIONS = {"forceinline": True, "error_model": "numpy", "fastmath": {"contract"}, "nogil": True}
#: above this |x|, sin and cos call libm for the lanes concerned (the 3-part reduction is exact up to there)
TRIG_LIMIT = {"float32": 1e5, "float64": 1e9}

_COEFFICIENTS = {
    # exp(r) = 1 + r + r^2 P(r), |r| <= ln2/2 (expm1 uses r + r^2 P(r))
    ("exp", "float32"): (0.5, 0.1666666567325592, 0.041666362434625626, 0.008333389647305012,
                         0.0013940638164058328, 0.00019845904898829758),
    ("exp", "float64"): (0.5, 0.16666666666666677, 0.04166666666666651, 0.008333333333321686, 0.0013888888888962396,
                         0.0001984126988597874, 2.480158717251025e-05, 2.7557244360074584e-06,
                         2.755740265041761e-07, 2.5108984193763384e-08, 2.0875332602887404e-09),
    # log(1 + f) = f - hfsq + s (hfsq + z P(z)), s = f / (2 + f), z = s^2, hfsq = f^2 / 2
    ("log", "float32"): (0.6666677594184875, 0.39977532625198364, 0.29872003197669983),
    ("log", "float64"): (0.6666666666666734, 0.39999999999414165, 0.2857142874251221, 0.2222219855941454,
                         0.1818356509055808, 0.15314029799065368, 0.14796168844686147),
    # sin(r) = r + r z P(z), z = r^2, |r| <= pi/4
    ("sin", "float32"): (-0.1666666716337204, 0.008333329111337662, -0.00019839311426039785,
                         2.7181149562238716e-06),
    ("sin", "float64"): (-0.1666666666666663, 0.00833333333332211, -0.00019841269829582437, 2.75573136188498e-06,
                         -2.5050747354599027e-08, 1.5896205859472047e-10),
    # cos(r) = 1 - z/2 + z^2 P(z)
    ("cos", "float32"): (0.04166664555668831, -0.0013887315290048718, 2.4433087673969567e-05),
    ("cos", "float64"): (0.041666666666666595, -0.0013888888888873045, 2.4801587288844057e-05,
                         -2.7557314177047815e-07, 2.087570053068669e-09, -1.135852011077789e-11),
    # tanh(x) = x + x z P(z), z = x^2, |x| < 0.5625
    ("tanh", "float32"): (-0.3333331346511841, 0.1333245187997818, -0.053837407380342484, 0.021007366478443146,
                          -0.006179677788168192),
    ("tanh", "float64"): (-0.33333333333333276, 0.1333333333332313, -0.05396825396172289, 0.02186948832723565,
                          -0.008863231636554073, 0.0035920822439263114, -0.0014554796038002936,
                          0.0005881834959305692, -0.00023271583893868595, 8.236039755948383e-05,
                          -1.8903642796366196e-05),
    # erf(x) = x + x P(z) (float32), x P(z) (float64), z = x^2, |x| < 0.9
    ("erf", "float32"): (0.12837916612625122, -0.37612634897232056, 0.11283715069293976, -0.02686050906777382,
                         0.005203860346227884, -0.0008175645489245653, 8.513106149621308e-05),
    ("erf", "float64"): (1.1283791670955126, -0.37612638903183726, 0.11283791670953705, -0.02686617064480677,
                         0.005223977621604178, -0.0008548326754960533, 0.00012055321043286881,
                         -1.4925299757893763e-05, 1.6455214121927338e-06, -1.6275477217879828e-07,
                         1.4046050124133228e-08, -8.481850495656999e-10),
    # erfc(x) = exp(-x^2) P(x), 0.9 <= x <= 4 (float32) or 6 (float64)
    ("erfc", "float32"): (0.9942620396614075, -1.090035319328308, 0.8849668502807617, -0.546061098575592,
                          0.2509346008300781, -0.08231306821107864, 0.01804434321820736, -0.002351862145587802,
                          0.00013707189646083862),
    ("erfc", "float64"): (0.9999994826944113, -1.1283723407703827, 0.9999573152347944, -0.7520843910594465,
                          0.49952922059161187, -0.2999074907136478, 0.16501970530046162, -0.08376903815576231,
                          0.0392420430965154, -0.0168741230937445, 0.006595822125431986, -0.0023145031217497187,
                          0.0007190394826384653, -0.0001949287678252902, 4.543079263010003e-05,
                          -8.959138115517333e-06, 1.4682516605522644e-06, -1.9563281013270713e-07,
                          2.0593124263899832e-08, -1.6440513668589864e-09, 9.335984637863552e-11,
                          -3.354172076389991e-12, 5.722809548958313e-14),
}  # fmt: skip


class _Consts:
    """Per-dtype constants; every value already has the dtype (or the integer type of the same width)."""

    def __init__(self, dtype: str) -> None:
        single = dtype == "float32"
        self.f = f = np.dtype(dtype).type
        self.i = i = np.int32 if single else np.int64
        self.mant_bits = i(23 if single else 52)
        self.bias = i(127 if single else 1023)
        self.magic = f(1.5 * 2.0 ** (23 if single else 52))  # x + magic - magic rounds x to an integer
        self.magic_bits = i(np.array(self.magic).view(i))
        self.sign = i(np.array(f(-0.0)).view(i))
        self.sqrt_half_bits = i(np.array(f(np.sqrt(0.5))).view(i))
        self.log2e = f(1.4426950408889634)
        # ln 2 = ln2_hi + ln2_lo, with ln2_hi's trailing bits zero so that k * ln2_hi is exact
        self.ln2_hi = f(0.693145751953125 if single else 0.6931471803691238)
        self.ln2_lo = f(1.428606765330187e-06 if single else 1.9082149292705877e-10)
        # pi/2 = c1 + c2 + c3 to 3x the precision (each the rounding of the rest; products taken with fma)
        self.pio2 = tuple(
            map(f, (1.5707963705062866, -4.371138828673793e-08, -1.7151245100058819e-15) if single
                else (1.5707963267948966, 6.123233995736766e-17, -1.4973849048591698e-33))
        )  # fmt: skip
        self.two_over_pi = f(2 / np.pi)
        self.tiny_normal = f(np.finfo(dtype).tiny)
        self.inf, self.nan = f(np.inf), f(np.nan)

    def poly(self, name: str, dtype: str) -> tuple:
        return tuple(self.f(c) for c in _COEFFICIENTS[name, dtype])


def make_exp(dtype: str) -> Callable:
    k = _Consts(dtype)
    f, i = k.f, k.i
    lo, hi = (f(-104.0), f(89.0)) if dtype == "float32" else (f(-746.0), f(710.0))  # beyond: 0 and inf
    p, one, i1 = k.poly("exp", dtype), f(1.0), i(1)
    log2e, magic, magic_bits, ln2_hi, ln2_lo, bias, mant_bits = (
        k.log2e, k.magic, k.magic_bits, k.ln2_hi, k.ln2_lo, k.bias, k.mant_bits)  # fmt: skip

    @numba.njit(**JIT_OPTIONS)
    def exp(x):
        xc = select(x < lo, lo, x)
        xc = select(xc > hi, hi, xc)  # NaN passes both
        t = xc * log2e + magic
        n = t - magic  # round(x / ln2); its integer is the bits of t minus those of magic
        r = xc - n * ln2_hi
        r = r - n * ln2_lo
        e = one + (r + r * r * horner(r, p))
        # scale by 2^n in two steps, so that results near overflow and denormal results come out right
        n_int = i(bits(t) - magic_bits)
        half = i(n_int >> i1)
        return e * from_bits(i((half + bias) << mant_bits)) * from_bits(i((n_int - half + bias) << mant_bits))

    return exp


def make_expm1(dtype: str) -> Callable:
    k = _Consts(dtype)
    f, i = k.f, k.i
    # below lo the result rounds to -1; hi keeps 2^(n-1) finite while exceeding the overflow threshold
    lo, hi = (f(-20.0), f(88.8)) if dtype == "float32" else (f(-40.0), f(709.8))
    tiny = f(2.0**-25) if dtype == "float32" else f(2.0**-54)  # expm1(x) rounds to x (and keeps -0.0)
    p, half, two, i1 = k.poly("exp", dtype), f(0.5), f(2.0), i(1)
    log2e, magic, magic_bits, ln2_hi, ln2_lo, bias, mant_bits = (
        k.log2e, k.magic, k.magic_bits, k.ln2_hi, k.ln2_lo, k.bias, k.mant_bits)  # fmt: skip

    @numba.njit(**JIT_OPTIONS)
    def expm1(x):
        xc = select(x < lo, lo, x)
        xc = select(xc > hi, hi, xc)
        t = xc * log2e + magic
        n = t - magic
        r = xc - n * ln2_hi
        r = r - n * ln2_lo
        e = r + r * r * horner(r, p)  # expm1(r)
        s = from_bits(i((i(bits(t) - magic_bits) - i1 + bias) << mant_bits))  # 2^(n-1)
        # 2^n (e + 1) - 1 = 2 (s e + (s - 1/2)); exact scaling when n == 0
        return select(abs(x) < tiny, x, two * (s * e + (s - half)))

    return expm1


def _make_log_kernel(dtype: str) -> Callable:
    k = _Consts(dtype)
    f, i = k.f, k.i
    mantissa = i((1 << int(k.mant_bits)) - 1)
    p, one, two, half = k.poly("log", dtype), f(1.0), f(2.0), f(0.5)
    sqrt_half_bits, mant_bits, ln2_hi, ln2_lo = k.sqrt_half_bits, k.mant_bits, k.ln2_hi, k.ln2_lo

    @numba.njit(**JIT_OPTIONS)
    def log_kernel(u, c, exponent_offset):
        """log(u) + c for a positive normal u, whose exponent is taken minus ``exponent_offset``."""
        shifted = i(bits(u) - sqrt_half_bits)  # u = 2^e m with m in [sqrt(1/2), sqrt(2))
        e = f(i(shifted >> mant_bits)) - exponent_offset
        m = from_bits(i((shifted & mantissa) + sqrt_half_bits)) - one
        s = m / (two + m)
        z = s * s
        hfsq = half * m * m
        return e * ln2_hi - ((hfsq - (s * (hfsq + z * horner(z, p)) + (e * ln2_lo + c))) - m)

    return log_kernel


def make_log(dtype: str) -> Callable:
    k = _Consts(dtype)
    f = k.f
    kernel = _make_log_kernel(dtype)
    scale, scale_exponent = (f(2.0**25), f(25.0)) if dtype == "float32" else (f(2.0**54), f(54.0))
    zero, inf, nan, tiny_normal = f(0.0), k.inf, k.nan, k.tiny_normal

    @numba.njit(**JIT_OPTIONS)
    def log(x):
        denormal = x < tiny_normal
        res = kernel(select(denormal, x * scale, x), zero, select(denormal, scale_exponent, zero))
        special = select(x == zero, -inf, select(x < zero, nan, x))  # x itself for +inf and NaN
        return select((x > zero) & (x < inf), res, special)

    return log


def make_log1p(dtype: str) -> Callable:
    k = _Consts(dtype)
    f = k.f
    kernel = _make_log_kernel(dtype)
    tiny = f(2.0**-24) if dtype == "float32" else f(2.0**-53)  # log1p(x) rounds to x (and keeps -0.0)
    zero, one, two, inf, nan = f(0.0), f(1.0), f(2.0), k.inf, k.nan

    @numba.njit(**JIT_OPTIONS)
    def log1p(x):
        u = one + x
        # the rounding error of 1 + x, exactly (Sterbenz), relative to u
        c = select(u < two, x - (u - one), one - (u - x)) / u
        res = select(abs(x) < tiny, x, kernel(u, c, zero))
        special = select(x == -one, -inf, select(x < -one, nan, x))
        return select((x > -one) & (x < inf), res, special)

    return log1p


def _make_sin_cos(dtype: str, cosine: bool) -> Callable:
    k = _Consts(dtype)
    f, i = k.f, k.i
    ps, pc, one, half = k.poly("sin", dtype), k.poly("cos", dtype), f(1.0), f(0.5)
    c1, c2, c3 = k.pio2
    two_over_pi, magic, magic_bits, sign = k.two_over_pi, k.magic, k.magic_bits, k.sign
    limit = k.f(TRIG_LIMIT[dtype])
    i0, i1, i2, shift = i(0), i(1), i(2), i(30 if dtype == "float32" else 62)  # bit 1 of n -> the sign bit
    quadrant_offset, sign_mask = (i1, i0) if cosine else (i0, sign)  # cos(x) = sin(x + pi/2) = sin(|x| + pi/2)
    libm = libm_lanes(("cos" if cosine else "sin") + ("f" if dtype == "float32" else ""), dtype)

    @numba.njit(**JIT_OPTIONS)
    def sin_cos(x):
        ax = abs(x)
        t = ax * two_over_pi + magic
        n = t - magic
        r = fma(-n, c3, fma(-n, c2, fma(-n, c1, ax)))  # |x| - n pi/2
        z = r * r
        s = r + r * z * horner(z, ps)
        hz = half * z
        w = one - hz
        c = w + (((one - w) - hz) + z * z * horner(z, pc))  # 1 - hz with hz's rounding error kept
        q = i(i(bits(t) - magic_bits) + quadrant_offset)
        v = select((q & i1) != i0, c, s)
        res = from_bits(i(bits(v) ^ (i(i(q & i2) << shift) ^ (bits(x) & sign_mask))))
        if ax > limit:
            res = libm(x)
        return res

    return sin_cos


def make_sin(dtype: str) -> Callable:
    return _make_sin_cos(dtype, cosine=False)


def make_cos(dtype: str) -> Callable:
    return _make_sin_cos(dtype, cosine=True)


def make_tanh(dtype: str) -> Callable:
    k = _Consts(dtype)
    f, i = k.f, k.i
    exp = make_exp(dtype)
    p, one, two, bound, sign = k.poly("tanh", dtype), f(1.0), f(2.0), f(0.5625), k.sign

    @numba.njit(**JIT_OPTIONS)
    def tanh(x):
        ax = abs(x)
        z = ax * ax
        small = ax + ax * z * horner(z, p)
        large = one - two / (exp(two * ax) + one)  # 1 when exp overflows
        return from_bits(i(bits(select(ax < bound, small, large)) | (bits(x) & sign)))

    return tanh


def make_sigmoid(dtype: str, exp: Callable | None = None) -> Callable:
    """1 / (1 + exp(-x)) through ``exp`` (default: ``make_exp(dtype)``)."""
    f = _Consts(dtype).f
    exp = exp or make_exp(dtype)
    zero, one = f(0.0), f(1.0)

    @numba.njit(**JIT_OPTIONS)
    def sigmoid(x):
        e = exp(-abs(x))  # never overflows
        return select(x >= zero, one, e) / (one + e)

    return sigmoid


def make_softplus(dtype: str, exp: Callable | None = None, log1p: Callable | None = None) -> Callable:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), through the given ``exp`` and ``log1p`` (libmvec's) or
    this module's (then log1p's special cases, impossible for an argument in [0, 1], are left out)."""
    f = _Consts(dtype).f
    zero, one = f(0.0), f(1.0)
    if exp is not None and log1p is not None:

        @numba.njit(**JIT_OPTIONS)
        def softplus_through(x):
            return select(x > zero, x, zero) + log1p(exp(-abs(x)))  # NaN through exp

        return softplus_through
    exp, kernel = make_exp(dtype), _make_log_kernel(dtype)

    @numba.njit(**JIT_OPTIONS)
    def softplus(x):
        e = exp(-abs(x))
        u = one + e
        return select(x > zero, x, zero) + kernel(u, (e - (u - one)) / u, zero)  # NaN through exp

    return softplus


def make_erf(dtype: str) -> Callable:
    k = _Consts(dtype)
    f, i = k.f, k.i
    single = dtype == "float32"
    exp = make_exp(dtype)
    p_small, p_large = k.poly("erf", dtype), k.poly("erfc", dtype)
    one, bound, sign = f(1.0), f(0.9), k.sign
    clamp = f(4.0) if single else f(6.0)  # erf rounds to 1 beyond

    @numba.njit(**JIT_OPTIONS)
    def erf(x):
        ax = abs(x)
        z = ax * ax
        if single:
            small = ax + ax * horner(z, p_small)
        else:
            small = ax * horner(z, p_small)
        a = select(ax > clamp, clamp, ax)
        a2 = a * a
        # exp(-a^2) with a^2's rounding error (exact by fma) as a first-order correction
        erfc = exp(-a2) * (one - fma(a, a, -a2)) * horner(a, p_large)
        return from_bits(i(bits(select(ax < bound, small, one - erfc)) | (bits(x) & sign)))

    return erf


#: the maker of each scalar op's polynomial implementation (called with the dtype)
MAKERS: dict[ScalarOp, Callable[[str], Callable]] = {
    scalar.exp: make_exp,
    scalar.expm1: make_expm1,
    scalar.log: make_log,
    scalar.log1p: make_log1p,
    scalar.sin: make_sin,
    scalar.cos: make_cos,
    scalar.tanh: make_tanh,
    scalar.sigmoid: make_sigmoid,
    scalar.softplus: make_softplus,
    scalar.erf: make_erf,
}
