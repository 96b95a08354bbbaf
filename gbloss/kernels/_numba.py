"""The numba half of :mod:`gbloss.kernels.fused`: imported on first use (numba's import
and compilation cost nothing until a large enough input arrives).

See :mod:`gbloss.kernels.fused` for the scheme, the float32 transcendentals and the
fast-math flags.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic as _numba_intrinsic
from numba.extending import overload

from .._core.hessian import HESSIAN_FLOOR, XGBOOST_HESSIAN_MIN
from .._core.special import LOG_ZERO

__all__ = ["GRAD_HESS", "VALUE", "VALUE_GRAD", "kernel", "softmax_kernel"]

VALUE, GRAD_HESS, VALUE_GRAD = 0, 1, 2

# Every value in these kernels is finite (the inputs are checked), so "nnan"
# and "ninf" hold; see gbloss.kernels.fused for "reassoc".
_FASTMATH = {"nnan", "ninf", "nsz", "contract", "reassoc"}
_inline = numba.njit(fastmath=_FASTMATH)
# Inlined by numba itself: left to LLVM's inliner, the larger loops (soft labels,
# fractional gamma) kept calls to them and were not vectorised (10x slower).
_always_inline = numba.njit(fastmath=_FASTMATH, inline="always")
_JIT_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "fastmath": _FASTMATH}


def _jit(fn: Any) -> Any:
    """Compile ``fn`` with numba's on-disk cache, or without one where nothing can be
    written: numba raises at decoration when neither the package's folder nor the
    user's cache folder is writable (a read-only install)."""
    try:
        return numba.njit(cache=True, **_JIT_OPTIONS)(fn)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(cache=False, **_JIT_OPTIONS)(fn)


# --------------------------------------------------- float32 transcendentals
# Called from compiled code without numba's typing context (which the decorator adds):
# seen by mypy as plain callables.
intrinsic: Any = _numba_intrinsic


@intrinsic
def _float32_from_bits(typingctx: Any, bits: Any) -> Any:
    """Reinterpret an int32 as the float32 with the same bits (LLVM ``bitcast``)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _fmaf(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` rounded once (``llvm.fma``), which re-association leaves intact."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.fma(*args)

    return types.float32(types.float32, types.float32, types.float32), codegen


_F = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693359375), _F(-2.12194440e-4)
_EXP_MIN = _F(-87.33654)  # log(smallest normal float32)


@_inline
def _expf_nonpositive(x: Any) -> Any:  # Cephes expf, for x <= 0
    n = np.floor(x * _LOG2E + _F(0.5))
    r = _fmaf(n, -_LN2_LO, _fmaf(n, -_LN2_HI, x))  # x - n ln 2, ln 2 split in two (Cody-Waite)
    poly = _F(1.9875691500e-4)
    poly = poly * r + _F(1.3981999507e-3)
    poly = poly * r + _F(8.3334519073e-3)
    poly = poly * r + _F(4.1665795894e-2)
    poly = poly * r + _F(1.6666665459e-1)
    poly = poly * r + _F(5.0000001201e-1)
    value = (poly * r * r + r + _F(1.0)) * _float32_from_bits(
        (np.int32(max(n, _F(-126.0))) + np.int32(127)) << np.int32(23))
    return value if x >= _EXP_MIN else _F(0.0)


@_inline
def _log1pf_unit(e: Any) -> Any:
    """``log1p(e)`` for ``0 <= e <= 1`` as ``2 atanh(s)``, ``s = e / (2 + e) <= 1/3``.

    The odd series to ``s^15`` (truncation below 2e-9): relatively accurate as
    ``e -> 0`` with no rounding correction that re-association could fold away.
    """
    s = e / (_F(2.0) + e)
    s2 = s * s
    poly = _F(1.0 / 15.0)
    poly = poly * s2 + _F(1.0 / 13.0)
    poly = poly * s2 + _F(1.0 / 11.0)
    poly = poly * s2 + _F(1.0 / 9.0)
    poly = poly * s2 + _F(1.0 / 7.0)
    poly = poly * s2 + _F(1.0 / 5.0)
    poly = poly * s2 + _F(1.0 / 3.0)
    return (s + s) * (poly * s2 + _F(1.0))


@intrinsic
def _bits_from_float32(typingctx: Any, x: Any) -> Any:
    """The int32 with the bits of a float32 (LLVM ``bitcast``)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@_inline
def _logf_normal(x: Any) -> Any:
    """``log(x)`` for a positive normal float32: ``x = 2^n m``, ``m`` in [1, 2), and
    ``log x = n ln 2 + log1p(m - 1)`` (absolute error about 1e-7)."""
    bits = _bits_from_float32(x)
    n = _F((bits >> np.int32(23)) - np.int32(127))
    m = _float32_from_bits((bits & np.int32(0x7FFFFF)) | np.int32(0x3F800000))
    return n * _LN2_HI + (n * _LN2_LO + _log1pf_unit(m - _F(1.0)))


def _exp_nonpositive(x: Any) -> Any:
    """``exp(x)`` for ``x <= 0``: libm in float64, a vectorisable polynomial in float32."""
    return math.exp(x)


def _log1p_unit(e: Any) -> Any:
    """``log1p(e)`` for ``0 <= e <= 1``: libm in float64, a vectorisable series in float32."""
    return math.log1p(e)


def _log(x: Any) -> Any:
    """``log(x)`` for a positive normal ``x``: libm in float64, bits and a series in float32."""
    return math.log(x)


def _is_float32(x: Any) -> bool:
    return isinstance(x, types.Float) and x.bitwidth == 32


@overload(_exp_nonpositive)
def _exp_nonpositive_impl(x):  # (no annotations: numba matches them against the lambdas)
    return (lambda x: _expf_nonpositive(x)) if _is_float32(x) else (lambda x: math.exp(x))


@overload(_log1p_unit)
def _log1p_unit_impl(e):  # (no annotations: numba matches them against the lambdas)
    return (lambda e: _log1pf_unit(e)) if _is_float32(e) else (lambda e: math.log1p(e))


@overload(_log)
def _log_impl(x):  # (no annotations: numba matches them against the lambdas)
    return (lambda x: _logf_normal(x)) if _is_float32(x) else (lambda x: math.log(x))


# ------------------------------------------------------------- focal math
# Every literal below is typed like the data (float32 stays float32: numba
# promotes a float32 combined with a Python int or float to float64).


@_always_inline
def _power(base: Any, log_base: Any, gamma: Any, int_gamma: int, one: Any) -> Any:
    """``base ** gamma``: products for integer gamma 0-4, else ``exp(gamma log base)``."""
    if int_gamma < 0:
        return _exp_nonpositive(gamma * log_base)
    square = base * base
    if int_gamma <= 1:
        return one if int_gamma == 0 else base
    return square if int_gamma == 2 else square * (base if int_gamma == 3 else square)


@_always_inline
def _branch(p: Any, q: Any, log_p: Any, log_q: Any, gamma: Any, int_gamma: int,
            one: Any, log_zero: Any, top: Any) -> Any:
    """``(f, f', f'', s)`` of :func:`gbloss.losses.focal.focal_branch` at one element
    (the same clamps: ``log_zero`` in ``gamma log p``, ``top`` on the value)."""
    qg = _power(q, log_q, gamma, int_gamma, one)
    t = gamma * max(log_p, log_zero)
    qgp = qg * p
    d1 = qg * (p * t - q)
    d2 = qgp * ((gamma + gamma + one) * q + (q - gamma * p) * t)
    return min(-qg * log_p, top), d1, d2, qgp * q


@_always_inline
def _policy(exact: Any, surrogate: Any, weight: Any, code: int, floor: Any,
            xgboost_min: Any, scale: Any) -> Any:
    """One element of :func:`gbloss._core.hessian.apply_hessian_policy`."""
    if code == 0:
        return exact
    if code == 1:
        weighted_floor = weight * floor
        return exact if exact >= weighted_floor else max(surrogate, weighted_floor)
    h = (exact if exact > 0 else surrogate) * scale
    return max(h, xgboost_min) if code == 2 else h


@_always_inline
def _element(yi: Any, zi: Any, c0: Any, c1: Any, gamma: Any, int_gamma: int, hard: bool,
             one: Any, zero: Any, log_zero: Any, top: Any) -> Any:
    """``(value, grad, hess_exact, surrogate, factor)`` of one ``_sigmoid_kernel`` element."""
    positive = yi > 0
    if hard:  # the true class's branch only, at the signed margin
        zi = zi if positive else -zi
    e = _exp_nonpositive(-abs(zi))
    u = one + e
    large = one / u
    small = e * large
    log1p_e = _log1p_unit(e)
    log_p = min(zi, zero) - log1p_e
    log_q = min(-zi, zero) - log1p_e
    p = large if zi >= 0 else small
    q = small if zi >= 0 else large
    f1, a1, b1, s1 = _branch(p, q, log_p, log_q, gamma, int_gamma, one, log_zero, top)
    if hard:
        c = c1 if positive else c0
        return c * f1, (a1 if positive else -a1) * c, b1 * c, s1 * c, c
    f0, a0, b0, s0 = _branch(q, p, log_q, log_p, gamma, int_gamma, one, log_zero, top)
    k1, k0 = c1 * yi, c0 * (one - yi)
    return k1 * f1 + k0 * f0, k1 * a1 - k0 * a0, k1 * b1 + k0 * b0, k1 * s1 + k0 * s0, k1 + k0


@_always_inline
def _constants(z: Any) -> Any:
    """``(1, 0, HESSIAN_FLOOR, XGBOOST_HESSIAN_MIN, LOG_ZERO, finfo.max)`` in the dtype of
    ``z``."""
    t = z.dtype.type
    return (t(1.0), t(0.0), t(HESSIAN_FLOOR), t(XGBOOST_HESSIAN_MIN), t(LOG_ZERO),
            t(np.finfo(z.dtype).max))


@_always_inline
def _element_outputs(yi: Any, zi: Any, wi: Any, c0: Any, c1: Any, gamma: Any, int_gamma: int,
                     hard: bool, mode: int, hessian: int, constants: Any) -> Any:
    """The two outputs of one element by mode: GRAD_HESS the weighted gradient and
    Hessian (after the policy), VALUE_GRAD the unweighted loss and gradient (for
    gbloss.torch), VALUE the loss (twice)."""
    one, zero, floor, xgboost_min, log_zero, top = constants
    value, grad, hess, sur, c = _element(yi, zi, c0, c1, gamma, int_gamma, hard, one, zero,
                                         log_zero, top)
    if mode == GRAD_HESS:
        return grad * wi, _policy(hess * wi, sur * wi, c * wi, hessian, floor, xgboost_min, one)
    if mode == VALUE_GRAD:
        return value, grad
    return value, value


# Two loops over the same element: a flat one for binary data (which LLVM
# vectorises; an inner loop of length 1 would stop it) and a row/column one for
# multi-label data, whose VALUE mode sums each row.
@_inline
def _binary_loop(y: Any, w: Any, z: Any, c0: Any, c1: Any, gamma: Any, int_gamma: int,
                 hard: bool, mode: int, hessian: int, out1: Any, out2: Any) -> None:
    constants = _constants(z)
    weighted = w.shape[0] > 0
    for i in range(z.shape[0]):
        wi = w[i] if weighted else constants[0]
        out1[i], out2[i] = _element_outputs(y[i], z[i], wi, c0[0], c1[0], gamma, int_gamma,
                                            hard, mode, hessian, constants)


@_inline
def _multilabel_loop(y: Any, w: Any, z: Any, c0: Any, c1: Any, gamma: Any, int_gamma: int,
                     hard: bool, mode: int, hessian: int, out1: Any, out2: Any) -> None:
    constants = _constants(z)
    weighted = w.shape[0] > 0
    for i in range(z.shape[0]):
        wi = w[i] if weighted else constants[0]
        row_value = constants[1]
        for j in range(z.shape[1]):
            a, b = _element_outputs(y[i, j], z[i, j], wi, c0[j], c1[j], gamma, int_gamma, hard,
                                    mode, hessian, constants)
            if mode == VALUE:
                row_value += a
            else:
                out1[i, j], out2[i, j] = a, b
        if mode == VALUE:
            out1[i, 0] = row_value


@_inline
def _softmax_loop(t: Any, w: Any, z: Any, factors: Any, gamma: Any, int_gamma: int, mode: int,
                  hessian: int, scale: Any, out1: Any, out2: Any) -> None:
    """:func:`gbloss.losses.focal.softmax_kernel`, row by row (see
    :func:`gbloss._classification.softmax_focal` for the per-case formulas that keep
    every entry relatively accurate). VALUE_GRAD: ``out1`` the weighted
    gradient, ``out2[:, 0]`` the weighted loss of each row (for gbloss.torch)."""
    one, zero, floor, xgboost_min, log_zero, _ = _constants(z)
    half, two = z.dtype.type(0.5), z.dtype.type(2.0)
    # a row spanning more than the float range: differences clamped (see softmax_focal)
    low = -z.dtype.type(np.finfo(z.dtype).max / 4)
    weighted = w.shape[0] > 0
    n, k = z.shape
    ex = np.empty(k, dtype=z.dtype)
    for i in range(n):
        ti = t[i]
        zmax = z[i, 0]
        for j in range(1, k):
            zmax = max(zmax, z[i, j])
        total, other, rest = zero, zero, zero
        for j in range(k):
            shifted = max(z[i, j] - zmax, low)
            e = _exp_nonpositive(shifted)
            ex[j] = e
            total += e
            other += zero if j == ti else e  # q * total, never formed as 1 - u
            rest += e if shifted < zero else zero  # the classes below the maximum
        log_total = _log(total)
        inv_total = one / total
        q = other * inv_total
        # log u: -log1p(q / u) while q < 1/2 (u near 1), the direct difference otherwise
        small_q = q < half
        log_u = (-_log1p_unit(other / (ex[ti] if small_q else total)) if small_q
                 else max(z[i, ti] - zmax, low) - log_total)
        c = factors[ti]
        if int_gamma == 0:
            qg = one
        elif int_gamma > 0:
            qg = _power(q, zero, gamma, int_gamma, one)
        else:
            has_q = other > zero
            qg = (_exp_nonpositive(gamma * (_log(other if has_q else one) - log_total)) if has_q
                  else zero)
        if mode == VALUE:
            out1[i, 0] = -qg * log_u * c
            continue
        if weighted:
            c = c * w[i]
        if mode == VALUE_GRAD:
            out2[i, 0] = -qg * log_u * c
        u = ex[ti] * inv_total  # p_t = exp(log u), below the normal range only where u is
        log_u = max(log_u, log_zero)  # where u is 0: keeps gamma u log(u) / q exactly 0
        q_safe = q if q > zero else one
        rho = log_u / q_safe if q > zero else -one  # log(u) / q, which tends to -1 as q -> 0
        g1 = qg * (gamma * u * rho - one)
        h_true = u * qg * ((gamma + gamma + one) * q + gamma * (q - gamma * u) * log_u)
        for j in range(k):
            p = ex[j] * inv_total
            if mode == VALUE_GRAD:
                out1[i, j] = (g1 * q if j == ti else -g1 * p) * c
                continue
            comp = rest * inv_total if p > half else one - p  # 1 - p without cancellation
            if j == ti:
                grad = g1 * q
                hess = h_true
            else:
                grad = -g1 * p
                ratio = p / q_safe  # <= 1 off the true class (1 / q could overflow)
                hess = p * qg * (comp + ratio * u * (two * gamma - gamma * (gamma - one) * u * rho)
                                 - gamma * u * rho * (one - two * p))
            sur = qg * p * comp
            if int_gamma == 0:  # cross-entropy: the exact Hessian p (1 - p) is its own surrogate
                hess = sur
            out1[i, j] = grad * c
            out2[i, j] = _policy(hess * c, sur * c, c, hessian, floor, xgboost_min, scale)


@functools.cache
def kernel(multilabel: bool, hard: bool, mode: int, int_gamma: int) -> Any:
    """The loop compiled with the options that change its shape as constants, so
    that LLVM drops the unused branches and vectorises what is left (a branch
    between the products and the ``exp`` of :func:`_power` would stop it). The
    Hessian policy stays a run-time value.

    numba caches each variant on disk, keyed by the closure's constants; they
    are plain ints and bools (a captured dispatcher would change the key in
    every process).
    """
    if multilabel:
        @_jit
        def compiled(y: Any, w: Any, z: Any, c0: Any, c1: Any, gamma: Any, hessian: int,
                   out1: Any, out2: Any) -> None:
            _multilabel_loop(y, w, z, c0, c1, gamma, int_gamma, hard, mode, hessian,
                             out1, out2)
    else:
        @_jit
        def compiled(y: Any, w: Any, z: Any, c0: Any, c1: Any, gamma: Any, hessian: int,
                   out1: Any, out2: Any) -> None:
            _binary_loop(y, w, z, c0, c1, gamma, int_gamma, hard, mode, hessian, out1, out2)
    return compiled


@functools.cache
def softmax_kernel(mode: int, int_gamma: int) -> Any:
    """:func:`_softmax_loop` compiled for one mode and integer-gamma case (see :func:`kernel`)."""
    @_jit
    def compiled(t: Any, w: Any, z: Any, factors: Any, gamma: Any, hessian: int, scale: Any,
                 out1: Any, out2: Any) -> None:
        _softmax_loop(t, w, z, factors, gamma, int_gamma, mode, hessian, scale, out1, out2)
    return compiled
