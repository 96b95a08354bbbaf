"""From a loss's minimiser back to the class posterior ``P(y | x)``.

A classification loss trained to its minimum predicts, at each ``x``, the
margin ``z`` that minimises the expected loss ``sum_t eta_t l(t, z)`` under the
true posterior ``eta``. For the log-loss ``sigmoid(z) = eta``; class weights,
alpha and focusing move that minimiser. These functions invert the move:

* :func:`focal_log_slope` and :func:`softmax_focal_log_slope` -- ``log|f'(q)|``
  of the focal term ``f(q) = -(1 - q)^gamma log q``, in log space, for the
  closed-form focal inverse (Charoenphakdee et al. 2021);
* :func:`stationary_distribution` -- for any loss: the posterior that makes the
  margin a stationary point of the expected loss, ``sum_t eta_t dl(t, z)/dz_j = 0``,
  solved per row with the subtraction-free GTH algorithm;
* :func:`shift_prior` -- the prior shift ``eta'_k propto eta_k pi'_k / pi_k``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core.special import LOG_ZERO

__all__ = ["MARGIN_BOUND", "focal_log_slope", "shift_prior", "softmax_focal_log_slope",
           "stationary_distribution"]

#: Margins are clipped to +-MARGIN_BOUND before the inverse maps: every posterior there is
#: 0 or 1 to float64 precision (``exp(-1e4)`` underflows), and the log-space terms stay finite.
MARGIN_BOUND = 1.0e4


def _softplus(z: Any, xp: Any) -> Any:
    """``log(1 + exp(z))``, finite for every finite ``z``."""
    return xp.clip(z, min=0) + xp.log1p(xp.exp(-xp.abs(z)))


def focal_log_slope(z: Any, gamma: float, xp: Any) -> Any:
    r"""``log|f'(q)|`` at ``q = sigmoid(z)`` for the focal term ``f(q) = -(1 - q)^gamma log q``.

    .. math::

        |f'(q)| = (1 - q)^{\gamma - 1}\left[\gamma (-\log q) + \frac{1 - q}{q}\right],
        \qquad \log|f'(q)| = -(\gamma - 1)\,\mathrm{sp}(z)
        + \operatorname{logaddexp}\big(\log\gamma + \log \mathrm{sp}(-z),\ -z\big)

    with ``sp`` the softplus (``-log q = sp(-z)``, ``-log(1 - q) = sp(z)``,
    ``(1 - q) / q = exp(-z)``). ``log sp(-z)`` uses ``sp(-z) = exp(-z)(1 - exp(-z)/2)``
    for ``z > 30``, so nothing underflows. ``z`` must be clipped to
    ``+-MARGIN_BOUND``.
    """
    sp_pos = _softplus(z, xp)
    if gamma == 0:
        return sp_pos - z  # |f'(q)| = 1 / q
    sp_neg = _softplus(-z, xp)
    tail = z > 30
    log_sp_neg = xp.where(tail, -z - xp.exp(-xp.clip(z, min=30)) / 2,
                          xp.log(xp.where(tail, 1.0, sp_neg)))
    return -(gamma - 1) * sp_pos + xp.logaddexp(math.log(gamma) + log_sp_neg, -z)


def softmax_focal_log_slope(z: Any, gamma: float, xp: Any) -> Any:
    r"""``log|f'(q_k)|`` of every class at ``q = softmax(z)``, shape ``(n, k)``.

    As :func:`focal_log_slope` with ``log q_k`` and ``log(1 - q_k)`` from the
    margins: ``1 - q_k`` is ``log1p(-q_k)`` for ``q_k <= 1/2`` and, for the
    dominant class, the sum of the other classes (never ``1 - q_k``); both logs
    are floored at ``-1e4`` so that every term stays finite.
    """
    shifted = xp.clip(z - xp.max(z, axis=-1, keepdims=True), min=-MARGIN_BOUND)
    ex = xp.exp(shifted)
    top = xp.astype(shifted == 0, z.dtype)
    rest = xp.sum(ex * (1 - top), axis=-1, keepdims=True)  # the classes below the maximum
    log_total = xp.log1p((xp.sum(top, axis=-1, keepdims=True) - 1) + rest)
    log_q = shifted - log_total
    dominant = log_q > -math.log(2.0)
    log_rest = xp.log(xp.where(rest > 0, rest, 1.0)) - log_total
    log_rest = xp.where(rest > 0, log_rest, LOG_ZERO)
    log_comp = xp.where(dominant, log_rest, xp.log1p(-xp.exp(xp.where(dominant, -1.0, log_q))))
    log_comp = xp.clip(log_comp, min=LOG_ZERO)  # log(1 - q)
    if gamma == 0:
        return -log_q
    neg_log_q = -log_q  # -log q_k >= 0; 0 only where q_k rounds to 1
    log_neg_log_q = xp.where(neg_log_q > 0, xp.log(xp.where(neg_log_q > 0, neg_log_q, 1.0)),
                             LOG_ZERO)
    return (gamma - 1) * log_comp + xp.logaddexp(math.log(gamma) + log_neg_log_q,
                                                 log_comp - log_q)


def stationary_distribution(rates: Any, xp: Any) -> Any:
    r"""The stationary distribution of each row's generator ``rates`` ``(n, k, k)``.

    ``rates[i, t, j]`` (``j != t``) must be ``>= 0``; the diagonal is not read.
    Returns ``pi`` ``(n, k)``, summing to 1, with ``sum_t pi_t rates[t, j] =
    pi_j sum_{l != j} rates[j, l]``: for ``rates[t, j] = dl(t, z)/dz_j`` (the
    gradient of a softmax loss under label ``t``, positive off the true class)
    it is the posterior for which ``z`` is a stationary point of the expected
    loss, ``sum_t pi_t grad_t = 0``.

    Grassmann-Taksar-Heyman state reduction: no subtraction, so the result
    keeps its relative accuracy; rates that underflow are floored at the
    smallest normal number.

    Reference: W. K. Grassmann, M. I. Taksar, D. P. Heyman, "Regenerative
    Analysis and Steady State Distributions for Markov Chains", Operations
    Research 33(5), 1985.
    """
    a = xp.asarray(rates, copy=True)
    k = a.shape[-1]
    tiny = float(np.finfo(np.float64).tiny)
    for m in range(k - 1, 0, -1):
        s = xp.clip(xp.sum(a[:, m, :m], axis=-1), min=tiny)  # (n,)
        col = a[:, :m, m] / s[:, None]
        a[:, :m, m] = col
        a[:, :m, :m] = a[:, :m, :m] + col[:, :, None] * a[:, m, None, :m]
    pi = xp.zeros(a.shape[:2], dtype=a.dtype)
    pi[:, 0] = 1.0
    for j in range(1, k):
        pi[:, j] = xp.sum(pi[:, :j] * a[:, :j, j], axis=-1)
    return pi / xp.sum(pi, axis=-1, keepdims=True)


def shift_prior(eta: Any, pi_train: Any, pi_new: Any, binary: bool, xp: Any) -> Any:
    r"""Posterior under a new class prior: ``eta'_k propto eta_k pi'_k / pi_k``.

    ``binary``: ``eta`` is ``P(y = 1)`` (1-D, or per column of multi-label
    data) and the shift is added to its log-odds,
    ``logit(eta') = logit(eta) + log(pi'_1 / pi'_0) - log(pi_1 / pi_0)``, with
    ``pi`` arrays of shape ``(2,)`` or ``(k, 2)``. Otherwise ``eta`` is
    ``(n, k)`` with rows summing to 1 and ``pi`` of shape ``(k,)``.

    Reference: M. Saerens, P. Latinne, C. Decaestecker, "Adjusting the Outputs
    of a Classifier to New a Priori Probabilities", Neural Computation 14(1), 2002.
    """
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.asarray(pi_new, dtype=np.float64)) - np.log(
            np.clip(np.asarray(pi_train, dtype=np.float64), np.finfo(np.float64).tiny, None))
    if binary:
        shift = xp.asarray(log_ratio[..., 1] - log_ratio[..., 0], dtype=eta.dtype)
        with np.errstate(divide="ignore"):
            logit = xp.log(eta) - xp.log1p(-eta)
        return _sigmoid(logit + shift, xp)
    weighted = eta * xp.asarray(np.exp(log_ratio - np.max(log_ratio)), dtype=eta.dtype)
    total = xp.sum(weighted, axis=-1, keepdims=True)
    return weighted / xp.where(total > 0, total, 1.0)


def _sigmoid(raw: Any, xp: Any) -> Any:
    e = xp.exp(-xp.abs(raw))
    r = 1 / (1 + e)
    return xp.where(raw >= 0, r, e * r)
