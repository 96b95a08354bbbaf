"""Numerically stable special functions written against an array namespace ``xp``.

Every function here is elementwise (or reduces along the last axis only) and
evaluates both branches of each ``where`` to finite values, so numpy raises no
floating-point warnings and the functions run unchanged on numpy, cupy,
array-api-strict and torch arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "LOG_ZERO",
    "finite_bound",
    "int_power",
    "log1p",
    "log_sigmoid_from",
    "log_sigmoid_pair",
    "log_softmax",
    "sigmoid_pair",
    "sigmoid_parts",
]


#: A log-probability below which the probability is 0 in every float type (exp(-1e4)
#: underflows). Clamping a log-probability here before it multiplies a constant keeps
#: ``p * (c log p)`` exactly 0 where ``c log p`` would overflow (margins near the float
#: maximum).
LOG_ZERO = -1.0e4


def finite_bound(dtype: Any) -> float:
    """A quarter of the largest finite value of ``dtype``: sums and differences of two
    values within it, and their products with small constants, stay finite."""
    name = str(dtype).split(".")[-1]
    return float(np.finfo(np.dtype(name)).max) / 4


def log1p(x: Any, xp: Any) -> Any:
    """``log(1 + x)`` accurate for small ``x``, from ``log`` alone (no branch).

    numpy's float32 ``log1p`` is scalar code, about 6x slower than its SIMD
    ``log``. With ``u = fl(1 + x)`` the rounding error ``d = (u - 1) - x`` is
    exact, and ``log(1 + x) = log(u) - d / u + O(d^2)``: full accuracy for
    ``x >= -0.5``, including ``x`` below machine epsilon (``u = 1``, result ``x``).
    Reference: N. J. Higham, "Accuracy and Stability of Numerical Algorithms",
    2nd ed., SIAM 2002, section 1.14.1.
    """
    u = 1 + x
    return xp.log(u) - ((u - 1) - x) / u


def sigmoid_pair(z: Any, xp: Any) -> tuple[Any, Any, Any, Any]:
    """Return ``(p, q, e, a)``: ``p = sigmoid(z)``, ``q = 1 - p``, ``e = exp(-|z|)``, ``a = |z|``.

    The smaller of ``p`` and ``q`` is ``e / (1 + e)`` exactly, so each keeps its
    relative accuracy in the tail; the larger is formed as
    ``small + (large - small)`` (within 2 ulp). No ``where``: blends with the
    0/1 sign indicator are exact and several times faster in numpy.
    """
    a = xp.abs(z)
    e = xp.exp(-a)
    large = 1 / (1 + e)
    small = e * large
    positive = xp.astype(z >= 0, z.dtype)
    gap = large - small
    return small + positive * gap, small + (1 - positive) * gap, e, a


def sigmoid_parts(z: Any, xp: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Return ``(p, q, e, u, zc)``: ``p = sigmoid(z)``, ``q = 1 - p`` and the pieces of
    :func:`log_sigmoid_from`.

    ``zc`` is ``z`` clipped to ``+-(log(finfo.max) - 1)`` so that
    ``e = exp(-zc)`` is finite; ``u = 1 + e``, ``p = 1 / u`` and ``q = e p``
    are then both relatively accurate (neither is formed as ``1 - x``) in
    6 passes, with no ``where``. Clipping changes only values below
    ``exp(-708)`` (float64) or ``exp(-87)`` (float32).
    """
    bound = math.log(float(xp.finfo(z.dtype).max)) - 1.0
    zc = xp.clip(z, min=-bound, max=bound)
    e = xp.exp(-zc)
    u = 1 + e
    p = 1 / u
    return p, e * p, e, u, zc


def log_sigmoid_from(z: Any, zc: Any, e: Any, u: Any, xp: Any) -> Any:
    """``log sigmoid(z) = -log1p(exp(-z))`` from the pieces of :func:`sigmoid_parts`.

    ``log1p(e)`` is corrected for the rounding of ``u = 1 + e`` (see
    :func:`log1p`); where ``z`` was clipped, ``min(z - zc, 0)`` restores the
    exact tail (``log sigmoid(z) = z - log1p(exp(z))`` there). Finite for every
    finite ``z``.
    """
    return xp.clip(z - zc, max=0) - (xp.log(u) - ((u - 1) - e) / u)


def log_sigmoid_pair(z: Any, e: Any, a: Any, xp: Any) -> tuple[Any, Any]:
    """Return ``(log sigmoid(z), log sigmoid(-z))`` given ``e = exp(-|z|)`` and ``a = |z|``.

    ``log sigmoid(z) = -(max(-z, 0) + log1p(exp(-|z|)))`` with
    ``max(-z, 0) = (|z| - z) / 2`` (exact); finite for every finite ``z``.
    """
    log_p = -((a - z) * 0.5 + log1p(e, xp))
    return log_p, log_p - z


def int_power(x: Any, exponent: float, xp: Any) -> Any:
    """``x ** exponent``; small integer exponents by repeated products (no exp/log pass)."""
    if exponent == int(exponent) and 1 <= exponent <= 4:
        out = x
        for _ in range(int(exponent) - 1):
            out = out * x
        return out
    return None


def log_softmax(z: Any, xp: Any) -> tuple[Any, Any]:
    """Return ``(log_softmax(z), softmax(z))`` along the last axis, max-subtracted."""
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    ex = xp.exp(shifted)
    total = xp.sum(ex, axis=-1, keepdims=True)
    return shifted - xp.log(total), ex / total
