r"""PolyLoss (Leng et al. 2022): cross-entropy or focal loss plus a first polynomial term.

Poly-1 adds ``epsilon (1 - p_t)^(gamma + 1)`` to the focal loss of
:mod:`gbloss.losses.focal` (``gamma = 0``: to cross-entropy). The focal part is
:func:`~gbloss.losses.focal.focal_branch` (sigmoid) and
:func:`~gbloss.losses.focal.softmax_focal` (softmax); the polynomial term is
written here on the same pieces (:func:`gbloss._core.special.sigmoid_parts`,
:func:`~gbloss.losses.focal.softmax_rows`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.checks import check_finite_scalar, check_n_classes
from .._core.hessian import (
    HessianPolicy,
    apply_hessian_policy,
    booster_scale,
    check_hessian_option,
)
from .._core.labels import MULTICLASS, Labels
from .._core.namespace import to_numpy
from .._core.special import LOG_ZERO, int_power, log_sigmoid_from, sigmoid_parts
from .._objective.binding import CallContext
from ._contract import CountsKeptMixin, Loss
from ._init import kernel_sigmoid_constant, kernel_softmax_constant
from .focal import focal_branch, softmax_focal, softmax_rows

__all__ = ["PolyLoss", "poly", "poly_branch", "poly_sigmoid_kernel", "poly_softmax_kernel"]


# ----------------------------------------------------------------------------- math
def _power_of_q(q: Any, log_q: Any, exponent: float, xp: Any) -> Any:
    """``q^exponent`` from ``q`` and ``log q`` (products for small integer exponents)."""
    if exponent == 0:
        return xp.ones_like(q)
    out = int_power(q, exponent, xp)
    if out is None:  # log q clamped: q^a is 0 there, and a * log q cannot overflow
        out = xp.exp(exponent * xp.clip(log_q, min=LOG_ZERO))
    return out


def poly_branch(z: Any, gamma: float, epsilon: float, xp: Any, mode: str) -> tuple[Any, ...]:
    r"""Poly-1 term of one class under a sigmoid link, and its derivatives in ``z``.

    .. math::

        g(z) = f_\gamma(z) + \epsilon\, q^{a}, \qquad a = \gamma + 1,
        \quad p = \sigma(z), \ q = 1 - p

        g'(z) = f_\gamma'(z) - \epsilon a\, p q^a, \qquad
        g''(z) = f_\gamma''(z) - \epsilon a\, p q^a (q - a p)

    with ``f_gamma`` the focal term :func:`~gbloss.losses.focal.focal_branch`.
    Returns ``(g,)``, ``(g, g')`` or ``(g', g'', s)`` with ``s`` the focal
    surrogate curvature ``q^gamma p q``.
    """
    out = focal_branch(z, gamma, xp, mode)
    p, q, e, u, zc = sigmoid_parts(z, xp)
    a = gamma + 1.0
    qa = _power_of_q(q, log_sigmoid_from(z, zc, e, u, xp) - z, a, xp)
    if mode == "value":
        return (out[0] + epsilon * qa,)
    d1 = -epsilon * a * p * qa
    if mode == "value_grad":
        return out[0] + epsilon * qa, out[1] + d1
    return out[0] + d1, out[1] + d1 * (q - a * p), out[2]


def poly_sigmoid_kernel(
    y: Any, w: Any, z: Any, xp: Any, *, gamma: float, epsilon: float, mode: str, hessian: str,
) -> tuple[Any, ...]:
    """Binary and multi-label Poly-1: ``l = y g(z) + (1 - y) g(-z)`` elementwise (rows summed)."""
    k1, k0 = y, 1 - y
    if mode == "value":
        (g1,), (g0,) = poly_branch(z, gamma, epsilon, xp, mode), \
            poly_branch(-z, gamma, epsilon, xp, mode)
        value = k1 * g1 + k0 * g0
        return (xp.sum(value, axis=-1) if value.ndim == 2 else value,)
    a1, b1, s1 = poly_branch(z, gamma, epsilon, xp, mode)
    a0, b0, s0 = poly_branch(-z, gamma, epsilon, xp, mode)
    grad, hess, sur = k1 * a1 - k0 * a0, k1 * b1 + k0 * b0, k1 * s1 + k0 * s0
    weight = None
    if w is not None:
        weight = xp.reshape(w, (-1, 1)) if z.ndim == 2 else w
        grad, hess, sur = grad * weight, hess * weight, sur * weight
    return grad, apply_hessian_policy(hess, sur, weight, hessian, xp)


def poly_softmax_kernel(
    t: Any, w: Any, z: Any, xp: Any, *, gamma: float, epsilon: float, mode: str, hessian: str,
    scale: float,
) -> tuple[Any, ...]:
    r"""Multiclass Poly-1 of each row: softmax focal plus ``epsilon q^a``, ``q = 1 - p_t``.

    With ``u = p_t``, ``A_k = [k = t] - p_k`` and ``psi(u) = epsilon (1 - u)^a``:
    ``d_k psi = G_1 A_k``, ``d_kk psi = G_2 A_k^2 + G_1 A_k (1 - 2 p_k)`` with
    ``G_1 = u psi'(u) = -epsilon a u q^gamma`` and
    ``G_2 = u^2 psi''(u) = epsilon a gamma u^2 q^(gamma - 1)``; ``G_2 A_k^2`` is
    formed as ``epsilon a gamma u^2 q^a (A_k / q)^2`` (``|A_k| <= q``), finite
    as ``q -> 0`` for every ``gamma >= 0``.
    """
    out = softmax_focal(t, z, gamma, xp, mode)
    s = softmax_rows(t, z, xp)
    a = gamma + 1.0
    has_q = s.q > 0
    log_q = xp.log(xp.where(has_q, s.other, 1)) - s.log_total
    qa = xp.where(has_q, _power_of_q(s.q, log_q, a, xp), 0)
    if mode == "value":
        return (out[0] + epsilon * qa,)
    u = xp.exp(s.log_u)
    qg = xp.where(has_q, _power_of_q(s.q, log_q, gamma, xp), 1 if gamma == 0 else 0)
    g1 = xp.reshape(-epsilon * a * u * qg, (-1, 1))
    grad = out[1 if mode == "value_grad" else 0] + g1 * s.a
    if mode == "value_grad":
        return out[0] + epsilon * qa, grad
    ratio = s.m - s.not_m * s.p / xp.reshape(xp.where(has_q, s.q, 1), (-1, 1))  # A_k / q
    g2 = xp.reshape(epsilon * a * gamma * u * u * qa, (-1, 1))
    hess = out[1] + g2 * ratio * ratio + g1 * s.a * (1 - 2 * s.p)
    sur = out[2]
    weight = xp.ones_like(z)
    if w is not None:
        wc = xp.reshape(w, (-1, 1))
        grad, hess, sur, weight = grad * wc, hess * wc, sur * wc, weight * wc
    return grad, apply_hessian_policy(hess, sur, weight, hessian, xp, scale=scale)


# ------------------------------------------------------------------------- losses
class PolyLoss(CountsKeptMixin, Loss):
    r"""Poly-1 loss (Leng et al. 2022); see :func:`gbloss.poly`."""

    _name = "poly"

    def __init__(
        self,
        epsilon: float = 1.0,
        gamma: float = 0.0,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
    ) -> None:
        self.epsilon = epsilon
        self.gamma = gamma
        self.n_classes = n_classes
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        epsilon = check_finite_scalar("epsilon", self.epsilon)
        if epsilon < -1:
            raise ValueError(f"epsilon must be >= -1 (below it the loss rises again as p_t -> 1 "
                             f"and rewards under-confidence), got {self.epsilon!r}")
        check_finite_scalar("gamma", self.gamma, low=0.0)
        check_n_classes(self.n_classes)
        check_hessian_option(self.hessian)

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        common: dict[str, Any] = {"gamma": float(self.gamma), "epsilon": float(self.epsilon),
                                  "mode": mode,
                  "hessian": self.hessian}
        if labels.task == MULTICLASS:
            return functools.partial(poly_softmax_kernel, **common,
                                     scale=booster_scale(self.hessian, labels.n_classes))
        return functools.partial(poly_sigmoid_kernel, **common)

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        y = to_numpy(labels.y).astype(np.float64)
        w = None if w is None else to_numpy(w).astype(np.float64)
        common: dict[str, Any] = {"gamma": float(self.gamma), "epsilon": float(self.epsilon),
                                  "hessian": "exact"}
        if labels.task == MULTICLASS:
            return kernel_softmax_constant(
                functools.partial(poly_softmax_kernel, **common, scale=1.0), y, w,
                labels.n_classes)
        return kernel_sigmoid_constant(functools.partial(poly_sigmoid_kernel, **common), y, w)


def poly(
    epsilon: float = 1.0,
    gamma: float = 0.0,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
) -> PolyLoss:
    r"""Poly-1 loss (PolyLoss, Leng et al. 2022) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = -(1 - p_t)^\gamma \log p_t + \epsilon\,(1 - p_t)^{\gamma + 1}

    with ``p_t`` the predicted probability of the true class, as in
    :func:`gbloss.focal`: ``sigmoid`` for binary and multi-label data (rows
    summed over the columns), ``softmax`` for multiclass. ``gamma=0`` is
    Poly-1 cross-entropy ``CE + epsilon (1 - p_t)``; ``gamma > 0`` is Poly-1
    focal loss; ``epsilon=0`` is :func:`gbloss.focal` (:func:`gbloss.cross_entropy`
    at ``gamma=0``). Soft binary labels give ``y l(1) + (1 - y) l(0)``.

    Parameters
    ----------
    epsilon : float >= -1
        Coefficient of the first polynomial term. Negative values make the
        loss more lenient towards confident predictions (the paper uses
        ``epsilon=-1`` for detection). The loss stays a valid loss, non-negative
        and decreasing in ``p_t`` with its minimum at ``p_t = 1``, exactly when
        ``epsilon >= -1``, for every ``gamma``: its slope in ``p_t`` is
        ``(1 - p_t)^(gamma - 1) [gamma log p_t - (1 - p_t) / p_t - epsilon
        (gamma + 1)(1 - p_t)]``, which is negative near ``p_t = 1`` only if
        ``epsilon > -1`` (at ``epsilon=-1`` the loss is
        ``(1 - p_t)^gamma (-log p_t - (1 - p_t)) >= 0``). Below -1 the minimum
        moves to ``p_t < 1``; such values are refused.
    gamma : float >= 0
        Focal focusing parameter.
    n_classes : int, optional
    hessian : {"auto", "exact", "xgboost", "lightgbm"}
        Poly-1 cross-entropy is convex in the margin for ``|epsilon| <= 1``
        (binary: ``h = p q (1 - epsilon (q - p))``); larger ``epsilon`` and
        ``gamma > 0`` make the exact Hessian negative on some rows. ``"auto"``
        keeps the exact Hessian where it is at least ``1e-6`` times the row
        weight and uses the focal surrogate ``max(q^gamma p (1 - p), 1e-6 w)``
        elsewhere (positive on every row with positive weight), as
        :func:`gbloss.focal`; ``"exact"``, ``"xgboost"``, ``"lightgbm"`` as there.

    Returns
    -------
    PolyLoss

    References
    ----------
    Z. Leng, M. Tan, C. Liu, E. D. Cubuk, X. Shi, S. Cheng, D. Anguelov,
    "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
    Functions", ICLR 2022, arXiv:2204.12511 (code: jahongir7174/PolyLoss).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> loss = gbloss.poly(epsilon=1.0)
    >>> grad, hess = loss.gradient_hessian(np.array([0, 2]), np.zeros((2, 3)))
    >>> grad.shape
    (2, 3)
    """
    return PolyLoss(epsilon=epsilon, gamma=gamma, n_classes=n_classes, hessian=hessian)
