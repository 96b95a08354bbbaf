"""Numerically stable special functions written against an array namespace ``xp``.

Every function here is elementwise (or reduces along the last axis only) and
evaluates both branches of each ``where`` to finite values, so numpy raises no
floating-point warnings and the functions run unchanged on numpy, cupy,
array-api-strict and torch arrays.
"""

from __future__ import annotations

from typing import Any

__all__ = ["log1p", "log_sigmoid_pair", "log_softmax", "sigmoid_pair"]


def log1p(x: Any, xp: Any) -> Any:
    """``log(1 + x)`` accurate for small ``x``, from ``log`` alone.

    numpy's float32 ``log1p`` is scalar code (about 6x slower than its SIMD
    ``log``); Goldberg's identity ``log1p(x) = x * log(u) / (u - 1)`` with
    ``u = 1 + x`` keeps full relative accuracy and uses the fast ``log``.
    Reference: D. Goldberg, "What every computer scientist should know about
    floating-point arithmetic", ACM Computing Surveys 23(1), 1991, Theorem 4.
    """
    u = 1 + x
    d = u - 1
    tiny = d == 0
    return xp.where(tiny, x, x * xp.log(u) / xp.where(tiny, 1, d))


def sigmoid_pair(z: Any, xp: Any) -> tuple[Any, Any, Any]:
    """Return ``(p, q, e)`` with ``p = sigmoid(z)``, ``q = 1 - p`` and ``e = exp(-|z|)``.

    Both ``p`` and ``q`` are computed without cancellation, so ``q`` keeps its
    relative accuracy when ``p`` is close to 1 and vice versa.
    """
    e = xp.exp(-xp.abs(z))
    r = 1 / (1 + e)
    er = e * r
    positive = z >= 0
    return xp.where(positive, r, er), xp.where(positive, er, r), e


def log_sigmoid_pair(z: Any, e: Any, xp: Any) -> tuple[Any, Any]:
    """Return ``(log sigmoid(z), log sigmoid(-z))`` given ``e = exp(-|z|)``.

    ``log sigmoid(z) = -softplus(-z) = -(max(-z, 0) + log1p(exp(-|z|)))``;
    finite for every finite ``z``.
    """
    softplus_abs = log1p(e, xp)
    log_p = -(xp.maximum(-z, xp.zeros_like(z)) + softplus_abs)
    return log_p, log_p - z


def log_softmax(z: Any, xp: Any) -> tuple[Any, Any]:
    """Return ``(log_softmax(z), softmax(z))`` along the last axis, max-subtracted."""
    shifted = z - xp.max(z, axis=-1, keepdims=True)
    ex = xp.exp(shifted)
    total = xp.sum(ex, axis=-1, keepdims=True)
    return shifted - xp.log(total), ex / total
