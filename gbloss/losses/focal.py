"""Class-weighted cross-entropy and focal loss for binary, multiclass and multi-label data.

The math is written once, against an array namespace ``xp``:

* :func:`focal_branch` -- the focal term of one class under a sigmoid,
  ``f(z) = -(1 - p)^gamma log p`` with ``p = sigmoid(z)``, and its first two
  derivatives in ``z``. Binary and multi-label losses are sums of two branches,
  ``y f(z)`` and ``(1 - y) f(-z)``.
* :func:`softmax_focal` -- the softmax focal loss of a row and the diagonal of
  its Hessian.

Cross-entropy is focal loss with ``gamma = 0``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import as_float_array, check_finite_scalar, check_n_classes
from .._core.collective import Workers
from .._core.hessian import (
    HessianPolicy,
    apply_hessian_policy,
    booster_scale,
    check_hessian_option,
)
from .._core.labels import BINARY, MULTICLASS, MULTILABEL, Labels
from .._core.namespace import arange_like, asarray_on, to_numpy
from .._core.special import (
    LOG_ZERO,
    finite_bound,
    int_power,
    log1p,
    log_sigmoid_from,
    sigmoid_parts,
)
from .._objective.binding import CallContext
from ..kernels import fused
from ._contract import Loss, _sigmoid, _softmax
from ._docs import fill_doc
from ._drw import DRW_START_ROUND_DOC, DRWMixin
from ._init import sigmoid_constant, softmax_constant
from ._posterior import MARGIN_BOUND, focal_log_slope, softmax_focal_log_slope
from ._weights import SCHEMES, ClassCounts, check_class_weight_values, resolve_class_weight

__all__ = ["CrossEntropyLoss", "FocalLoss", "cross_entropy", "focal", "focal_branch",
           "sigmoid_kernel", "softmax_focal", "softmax_kernel", "softmax_rows"]


# ----------------------------------------------------------------------------- math
def focal_branch(z: Any, gamma: float, xp: Any, mode: str) -> tuple[Any, ...]:
    r"""Focal term of one class under a sigmoid link, and its derivatives.

    .. math::

        f(z) = -(1 - p)^\gamma \log p, \qquad p = \sigma(z), \ q = 1 - p

        f'(z) = q^\gamma (\gamma p \log p - q)

        f''(z) = p q^\gamma \left[(2\gamma + 1) q + \gamma (q - \gamma p) \log p\right]

    ``mode="value"`` returns ``(f,)``; ``mode="value_grad"`` returns ``(f, f')``
    (one pass, for :mod:`gbloss.torch`); ``mode="grad_hess"`` returns
    ``(f', f'', s)`` with ``s = q^gamma p q >= 0``, the logistic curvature
    scaled by the focal factor (the surrogate of ``hessian="auto"``).
    ``log p`` and ``log q`` come from a log-space softplus and ``q^gamma`` from
    repeated products (integer gamma up to 4) or ``exp(gamma log q)``, so all
    outputs are finite for every finite ``z``.
    ``gamma = 0`` is cross-entropy: ``f' = p - 1``, ``f'' = p q``.

    Reference: T.-Y. Lin et al., "Focal Loss for Dense Object Detection",
    ICCV 2017, arXiv:1708.02002.
    """
    p, q, e, u, zc = sigmoid_parts(z, xp)
    if gamma == 0 and mode == "grad_hess":
        pq = p * q
        return -q, pq, pq  # cross-entropy's derivatives need no logarithm
    log_p = log_sigmoid_from(z, zc, e, u, xp)
    if gamma == 0:
        qg = None
    else:
        qg = int_power(q, gamma, xp)
        if qg is None:
            qg = xp.exp(gamma * (log_p - z))  # q^gamma = exp(gamma log q), log q = log p - z
    if mode in ("value", "value_grad"):
        # (at margins near the float maximum q^gamma log p may round past it: clamped, so
        # that a zero label weight times the value stays 0)
        value = -log_p if qg is None else xp.clip(-qg * log_p, max=float(xp.finfo(z.dtype).max))
        if mode == "value":
            return (value,)
    # gamma log p overflows for margins near the float maximum, where p is 0: clamped
    t = gamma * xp.clip(log_p, min=LOG_ZERO)
    if mode == "value_grad":
        return (value, -q) if qg is None else (value, qg * (p * t - q))
    qgp = qg * p
    d1 = qg * (p * t - q)
    d2 = qgp * ((2 * gamma + 1) * q + (q - gamma * p) * t)
    return d1, d2, qgp * q

class SoftmaxRows(NamedTuple):
    """The pieces of a softmax row that the softmax losses share (see :func:`softmax_rows`)."""

    m: Any  # one-hot of the true class t, (n, k)
    not_m: Any  # 1 - m
    shifted: Any  # z - max(z), clamped to the float range, (n, k)
    log_total: Any  # log sum exp(shifted), (n,)
    other: Any  # sum of exp(shifted) over the other classes, (n,)
    q: Any  # 1 - p_t, summed from the other classes, (n,)
    log_u: Any  # log p_t, (n,)
    p: Any  # softmax(z), (n, k)
    a: Any  # [k = t] - p_k without cancellation, (n, k)
    comp: Any  # 1 - p_k without cancellation (None unless asked for), (n, k)


def softmax_rows(t: Any, z: Any, xp: Any, *, complement: bool = False) -> SoftmaxRows:
    """Softmax probabilities of ``(n, k)`` margins and the true class's ``q = 1 - p_t`` and
    ``log p_t``, each kept relatively accurate in the tails (:func:`softmax_focal`'s notes);
    ``complement=True`` also forms ``1 - p_k`` without cancellation."""
    n_classes = z.shape[-1]
    m = xp.astype(xp.reshape(t, (-1, 1)) == xp.reshape(arange_like(n_classes, t, xp), (1, -1)),
                  z.dtype)
    not_m = 1 - m
    # a row spanning more than the float range would give -inf (and 0 * inf): clamped
    shifted = xp.clip(z - xp.max(z, axis=-1, keepdims=True), min=-finite_bound(z.dtype))
    ex = xp.exp(shifted)
    total = xp.sum(ex, axis=-1)
    log_total = xp.log(total)
    other = xp.sum(ex * not_m, axis=-1)  # sum of exp over the other classes: q * total
    q = other / total
    log_u_direct = xp.sum(shifted * m, axis=-1) - log_total
    # log u: log1p(-q) while q is small (u near 1), the direct difference otherwise.
    log_u = xp.where(q < 0.5, log1p(-xp.where(q < 0.5, q, 0), xp), log_u_direct)
    p = ex / xp.reshape(total, (-1, 1))
    # [k = t] - p_k without cancellation (q for the true class). Blends with the 0/1
    # masks are exact and, unlike `where`, cost one cheap pass each.
    a = m * xp.reshape(q, (-1, 1)) - not_m * p
    comp = None
    if complement:
        # 1 - p_k without cancellation: for a class with p_k > 1/2 (the unique maximum)
        # it is the sum of the classes below the maximum.
        dominant = xp.astype(p > 0.5, z.dtype)
        rest = xp.sum(ex * xp.astype(shifted < 0, z.dtype), axis=-1)
        comp = dominant * xp.reshape(rest / total, (-1, 1)) + (1 - dominant) * (1 - p)
    return SoftmaxRows(m, not_m, shifted, log_total, other, q, log_u, p, a, comp)


def softmax_focal(
    t: Any, z: Any, gamma: float, xp: Any, mode: str
) -> tuple[Any, ...]:
    r"""Softmax focal loss of each row and its derivatives in the margins.

    With ``p = softmax(z)``, ``u = p_t`` the probability of the true class
    ``t`` and ``q = 1 - u``:

    .. math::

        \ell = -q^\gamma \log u, \qquad
        \partial_k \ell = G_1 A_k, \qquad
        \partial^2_{kk} \ell = G_2 A_k^2 + G_1 A_k (1 - 2 p_k)

    where ``A_k = [k = t] - p_k``, ``G_1 = u g'(u) = q^gamma (gamma u log(u)/q - 1)``
    and ``G_2 = u^2 g''(u)``. ``q`` is summed from the other classes, never
    formed as ``1 - u``; so is ``1 - p_k`` for a dominant wrong class; and the
    Hessian diagonal is written per case (true class, other classes) so that
    every entry keeps its relative accuracy as ``u -> 0`` or ``q -> 0``.

    Parameters
    ----------
    t : int array (n,)
    z : float array (n, k)

    Returns
    -------
    ``mode="value"``: ``(l,)`` of shape ``(n,)``. ``mode="value_grad"``:
    ``(l, grad)`` (one pass, for :mod:`gbloss.torch`). ``mode="grad_hess"``:
    ``(grad, hess_exact, surrogate)`` of shape ``(n, k)``; the surrogate
    ``q^gamma p_k (1 - p_k)`` is the softmax curvature scaled by the focal factor.

    Reference: the derivation in gbdtCBL (Luo et al., Neurocomputing 634, 2025)
    agrees with this one; both are checked against autograd in the tests.
    """
    s = softmax_rows(t, z, xp, complement=mode == "grad_hess")
    m, not_m, q, log_u, other, log_total = s.m, s.not_m, s.q, s.log_u, s.other, s.log_total
    has_q = q > 0
    if gamma == 0 and mode == "value":
        return (-log_u,)
    p, a, comp = s.p, s.a, s.comp
    if gamma == 0:
        if mode == "value_grad":
            return -log_u, -a
        pp = p * comp
        return -a, pp, pp
    qg = int_power(q, gamma, xp)
    if qg is None:
        log_q = xp.log(xp.where(has_q, other, 1)) - log_total
        qg = xp.where(has_q, xp.exp(gamma * log_q), 0)
    if mode == "value":
        return (-qg * log_u,)
    u = xp.exp(log_u)
    log_u_c = xp.clip(log_u, min=LOG_ZERO)  # where u is 0: keeps gamma u log(u) / q exactly 0
    q_safe = xp.where(has_q, q, 1)
    rho = xp.where(has_q, log_u_c / q_safe, -1)  # log(u) / q, which tends to -1 as q -> 0
    g1 = qg * (gamma * u * rho - 1)
    grad = xp.reshape(g1, (-1, 1)) * a
    if mode == "value_grad":
        return -qg * log_u, grad
    # The diagonal, written per case so that nothing cancels as u -> 0 or q -> 0:
    #   true class:  u q^g [(2g + 1) q + g (q - g u) log u]
    #   other class: p q^g [(1 - p) + (p / q) u (2g - g (g - 1) u rho) - g u rho (1 - 2p)]
    # (algebraically G2 A^2 + G1 A (1 - 2p) with G1 = u g'(u), G2 = u^2 g''(u)).
    h_true = u * qg * ((2 * gamma + 1) * q + gamma * (q - gamma * u) * log_u_c)
    qg_c, u_c, rho_c = (xp.reshape(v, (-1, 1)) for v in (qg, u, rho))
    ratio = not_m * p / xp.reshape(q_safe, (-1, 1))  # p_k / q <= 1 off the true class
    h_other = p * qg_c * (comp + ratio * u_c * (2 * gamma - gamma * (gamma - 1) * u_c * rho_c)
                          - gamma * u_c * rho_c * (1 - 2 * p))
    hess = m * xp.reshape(h_true, (-1, 1)) + not_m * h_other
    return grad, hess, qg_c * p * comp


# ------------------------------------------------------------------------- kernels
def sigmoid_kernel(
    y: Any, w: Any, z: Any, xp: Any, *, gamma: float, c0: Any, c1: Any, hard: bool,
    mode: str, hessian: str,
) -> tuple[Any, ...]:
    """Binary and multi-label focal: ``l = c1 y f(z) + c0 (1 - y) f(-z)`` elementwise."""
    unit = isinstance(c0, float) and c0 == 1.0 and c1 == 1.0
    if hard:
        s = 2 * y - 1
        c = None if unit else c1 * y + c0 * (1 - y)  # exact for 0/1 y (no cancellation)
        if mode == "value":
            (value,) = focal_branch(s * z, gamma, xp, mode)
            value = value if c is None else c * value
            return (xp.sum(value, axis=-1) if value.ndim == 2 else value,)
        d1, d2, sur = focal_branch(s * z, gamma, xp, mode)
        grad = s * d1
        if c is not None:
            grad, d2, sur = c * grad, c * d2, c * sur
        hess = d2
    else:
        k1, k0 = c1 * y, c0 * (1 - y)
        if mode == "value":
            (f1,), (f0,) = focal_branch(z, gamma, xp, mode), focal_branch(-z, gamma, xp, mode)
            value = k1 * f1 + k0 * f0
            return (xp.sum(value, axis=-1) if value.ndim == 2 else value,)
        a1, b1, s1 = focal_branch(z, gamma, xp, mode)
        a0, b0, s0 = focal_branch(-z, gamma, xp, mode)
        grad, hess, sur = k1 * a1 - k0 * a0, k1 * b1 + k0 * b0, k1 * s1 + k0 * s0
        c = k1 + k0
    if w is not None:
        wc = xp.reshape(w, (-1, 1)) if z.ndim == 2 else w
        grad, hess, sur = grad * wc, hess * wc, sur * wc
        c = wc if c is None else c * wc
    exact_is_positive = gamma == 0  # cross-entropy: the exact Hessian p q is its own surrogate
    return grad, apply_hessian_policy(hess, None if exact_is_positive else sur, c, hessian, xp)


def softmax_kernel(
    t: Any, w: Any, z: Any, xp: Any, *, gamma: float, factors: Any, mode: str,
    hessian: str, scale: float,
) -> tuple[Any, ...]:
    """Multiclass focal: ``l = c_t * softmax_focal`` with per-class factors ``c``."""
    out = softmax_focal(t, z, gamma, xp, mode)
    c = None if factors is None else xp.take(factors, xp.astype(t, xp.int64))
    if w is not None and mode != "value":
        c = w if c is None else c * w
    if mode == "value":
        return (out[0] if c is None else c * out[0],)
    grad, hess, sur = out
    if c is None:
        weight = xp.ones_like(z)
    else:
        cc = xp.reshape(c, (-1, 1))
        grad, hess, sur = grad * cc, hess * cc, sur * cc
        weight = xp.broadcast_to(cc, z.shape)
    return grad, apply_hessian_policy(hess, sur, weight, hessian, xp, scale=scale)


# -------------------------------------------------------------------------- losses
def _class_factors(alpha: Any, labels: Labels,
                   class_weight: NDArray | None) -> tuple[NDArray, NDArray] | NDArray | None:
    """Per-class factors, alpha x class weight: ``(c0, c1)`` for sigmoid tasks, ``(k,)``
    (or None: all 1) for multiclass. Shared by :class:`FocalLoss` and LMF."""
    if labels.task == MULTICLASS:
        return _softmax_factors(alpha, labels.n_classes, class_weight)
    return _sigmoid_factors(alpha, labels, class_weight)


def _softmax_factors(alpha: Any, k: int, class_weight: NDArray | None) -> NDArray | None:
    """Multiclass factors alpha x class weight, shape ``(k,)``; None when all are 1."""
    alpha = None if alpha is None else np.asarray(alpha, dtype=np.float64)
    if alpha is not None and alpha.ndim == 1 and alpha.shape != (k,):
        raise ValueError(f"alpha has {alpha.size} entries for {k} classes")
    if alpha is None and class_weight is None:
        return None
    a = np.ones(k) if alpha is None else np.broadcast_to(alpha, (k,))
    return a * (np.ones(k) if class_weight is None else class_weight)


def _sigmoid_factors(alpha: Any, labels: Labels,
                     class_weight: NDArray | None) -> tuple[NDArray, NDArray]:
    """Binary and multi-label factors ``(c0, c1)``: scalars, or one per column."""
    k = labels.n_classes
    alpha = None if alpha is None else np.asarray(alpha, dtype=np.float64)
    width = k if labels.task == MULTILABEL else None
    # scalars, or per-column arrays (multi-label alpha / class weights)
    a0: float | NDArray[Any]
    a1: float | NDArray[Any]
    w0: float | NDArray[Any]
    w1: float | NDArray[Any]
    if alpha is None:
        a1, a0 = 1.0, 1.0
    elif alpha.ndim == 0:
        a1, a0 = float(alpha), 1.0 - float(alpha)
    else:
        if labels.task == BINARY and alpha.shape != (2,):
            raise ValueError("binary alpha must be a scalar or [alpha_neg, alpha_pos]")
        if labels.task == MULTILABEL and alpha.shape != (k,):
            raise ValueError(f"multi-label alpha must be a scalar or have {k} entries")
        a1, a0 = (alpha[1], alpha[0]) if labels.task == BINARY else (alpha, 1.0 - alpha)
    if class_weight is None:
        w0, w1 = 1.0, 1.0
    else:
        w0, w1 = class_weight[..., 0], class_weight[..., 1]
    c0, c1 = np.asarray(a0 * w0, dtype=np.float64), np.asarray(a1 * w1, dtype=np.float64)
    if width is not None:
        c0, c1 = np.broadcast_to(c0, (width,)), np.broadcast_to(c1, (width,))
    return c0, c1


def _check_alpha(alpha: Any) -> None:
    if alpha is None:
        return
    a = as_float_array("alpha", alpha)
    if a.ndim > 1 or a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"alpha must be None, a non-negative scalar or a 1-D array, got {alpha!r}")
    if a.ndim == 0 and a > 1:
        raise ValueError(f"a scalar alpha weights positives by alpha and negatives by "
                         f"1 - alpha, so it must be in [0, 1]; got {alpha!r}")


def _check_class_weight(class_weight: Any) -> None:
    if class_weight is None:
        return
    if isinstance(class_weight, Mapping):
        bad = [c for c in class_weight
               if isinstance(c, bool) or not isinstance(c, int | np.integer) or c < 0]
        if bad:
            raise ValueError(f"class_weight keys must be class ids (integers >= 0), got {bad}")
        check_class_weight_values(as_float_array("class_weight", list(class_weight.values())))
        return
    if isinstance(class_weight, str):
        if class_weight not in SCHEMES:
            raise ValueError(f"class_weight={class_weight!r} is not one of {list(SCHEMES)}, "
                             f"a dict, an array or None")
        return
    cw = as_float_array("class_weight", class_weight)
    if cw.ndim == 0 or not np.all(np.isfinite(cw)) or np.any(cw < 0):
        raise ValueError("class_weight must be 'balanced', 'effective', a dict or an array "
                         "of finite non-negative weights")
    check_class_weight_values(cw)


class FocalLoss(DRWMixin, Loss):
    r"""Focal loss (Lin et al. 2017) with optional alpha and class weights.

    Binary (sigmoid link), multiclass (softmax) and multi-label (a sigmoid per
    column); see :func:`gbloss.focal`. ``drw_start_round`` defers the class
    weights to that boosting round (see :func:`gbloss.drw_callback`).
    Fitted statistics: the class counts (:class:`gbloss.losses.ClassCounts`).
    """

    _name = "focal"

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | ArrayLike | None = None,
        class_weight: str | Mapping | ArrayLike | None = None,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
        drw_start_round: int | None = None,
    ) -> None:
        self.gamma = gamma
        self.alpha = alpha
        self.class_weight = class_weight
        self.n_classes = n_classes
        self.hessian = hessian
        self.drw_start_round = drw_start_round
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("gamma", self.gamma, low=0.0)
        _check_alpha(self.alpha)
        _check_class_weight(self.class_weight)
        check_n_classes(self.n_classes)
        check_hessian_option(self.hessian)
        self._check_drw()

    # ---- statistics: the class counts; class weights follow from them and the parameters
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> ClassCounts:
        return ClassCounts.of(labels, w)

    def _uses_statistics(self) -> bool:
        return self._weights_from_counts()

    def _fit_stats_across(self, labels: Labels, w: Any, xp: Any, workers: Workers
                          ) -> ClassCounts:
        return ClassCounts.of(labels, w).summed(workers)

    def _class_weight(self, stats: ClassCounts, on: bool) -> NDArray | None:
        """The resolved class weights (None: none), switched off before a DRW round."""
        class_weight = self.class_weight
        if class_weight is None and self.drw_start_round is not None:
            class_weight = "effective"  # deferred re-weighting switches these on
        if class_weight is None or not on:
            return None
        counts = stats.counts if isinstance(class_weight, str) else None
        return resolve_class_weight(class_weight, stats.task, stats.n_classes, counts)

    def _factors(self, labels: Labels, class_weight: NDArray | None) -> tuple[Any, Any] | Any:
        """Per-class factors: ``(c0, c1)`` for sigmoid tasks, ``(k,)`` for multiclass."""
        return _class_factors(self.alpha, labels, class_weight)

    def _kernel(self, labels: Labels, stats: ClassCounts, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        factors = self._factors(labels, self._class_weight(stats, self._drw_weights_on(context)))
        gamma = float(self.gamma)
        least = 0 if context.small_blocks else fused.MIN_ELEMENTS
        if labels.task == MULTICLASS:
            k = labels.n_classes
            f = None if factors is None else asarray_on(factors, labels.y, xp, dtype)
            use_fused = mode in ("value", "grad_hess") and fused.enabled(
                xp, dtype, labels.y.shape[0] * k, min_elements=least)
            kernel = fused.softmax_focal if use_fused else softmax_kernel
            return functools.partial(kernel, gamma=gamma, factors=f, mode=mode,
                                     hessian=self.hessian, scale=booster_scale(self.hessian, k))
        c0, c1 = factors
        if np.ndim(c0) == 0:
            c0, c1 = float(c0), float(c1)
        else:
            c0, c1 = asarray_on(c0, labels.y, xp, dtype), asarray_on(c1, labels.y, xp, dtype)
        use_fused = mode in ("value", "grad_hess") and fused.enabled(xp, dtype, labels.y.size,
                                                                     min_elements=least)
        sigmoid_fn = fused.sigmoid_focal if use_fused else sigmoid_kernel
        return functools.partial(sigmoid_fn, gamma=gamma, c0=c0, c1=c1, hard=labels.hard,
                                 mode=mode, hessian=self.hessian)

    # ---- probabilities: the focal and class-weight maps, inverted in log space
    def _final_class_weight(self, stats: ClassCounts | None, task: str,
                            k: int) -> NDArray | None:
        """The class weights of the last round (DRW: switched on), resolved for ``task``."""
        class_weight = self.class_weight
        if class_weight is None and self.drw_start_round is not None:
            class_weight = "effective"  # deferred re-weighting switches these on
        if class_weight is None:
            return None
        counts = None
        if isinstance(class_weight, str):
            what = (f"class_weight={class_weight!r}" if self.class_weight is not None
                    else f"drw_start_round={self.drw_start_round}")
            counts = self._require_statistics(stats, what).counts
        return resolve_class_weight(class_weight, task, k, counts)

    def _posterior(self, raw: Any, stats: Any, multilabel: bool, xp: Any) -> Any:
        r"""Invert the class factors ``c`` (alpha x class weight) and the focal map.

        Binary and per column: the minimiser ``q = sigmoid(z)`` of
        ``c_1 eta f(q) + c_0 (1 - eta) f(1 - q)`` gives
        ``logit(eta) = log(c_0 / c_1) + log|f'(1 - q)| - log|f'(q)|``;
        multiclass: ``eta_k propto 1 / (c_k |f'(q_k)|)``, ``q = softmax(z)``.
        ``gamma = 0`` reduces both to the prior shift of King and Zeng (2001).
        Exact at the minimiser of the expected loss.
        """
        task = BINARY if raw.ndim == 1 else (MULTILABEL if multilabel else MULTICLASS)
        k = 1 if raw.ndim == 1 else int(raw.shape[1])
        factors = self._factors(Labels(task, None, k, True),
                                self._final_class_weight(stats, task, k))
        gamma = float(self.gamma)
        z = xp.clip(raw, min=-MARGIN_BOUND, max=MARGIN_BOUND)
        with np.errstate(divide="ignore"):
            if task == MULTICLASS:
                score = -softmax_focal_log_slope(z, gamma, xp)
                if factors is not None:
                    score = score - asarray_on(np.log(factors), raw, xp, raw.dtype)
                return _softmax(score, xp)
            c0, c1 = factors
            logit = z if gamma == 0 else focal_log_slope(-z, gamma, xp) - focal_log_slope(
                z, gamma, xp)
            shift = np.log(np.asarray(c0, dtype=np.float64)) - np.log(
                np.asarray(c1, dtype=np.float64))
        if np.any(shift != 0):
            logit = logit + (float(shift) if np.ndim(shift) == 0
                             else asarray_on(shift, raw, xp, raw.dtype))
        return _sigmoid(logit, xp)

    # ---- init score: training starts before any deferred class weights switch on
    def _init_constant(self, labels: Labels, w: Any, stats: ClassCounts) -> NDArray:
        class_weight = self._class_weight(stats, on=self.drw_start_round is None)
        y = to_numpy(labels.y).astype(np.float64)
        w = None if w is None else to_numpy(w).astype(np.float64)
        if labels.task == MULTICLASS:
            counts = np.bincount(y.astype(np.intp), weights=w, minlength=labels.n_classes)
            return self._init_softmax(labels, counts, class_weight)
        ww = 1.0 if w is None else (w if y.ndim == 1 else w[:, None])
        pos, neg = np.sum(ww * y, axis=0), np.sum(ww * (1 - y), axis=0)
        c0, c1 = self._factors(labels, class_weight)
        if labels.task == BINARY:
            return np.asarray(self._init_sigmoid(float(pos), float(neg), float(c0), float(c1)))
        c0, c1 = np.broadcast_to(c0, pos.shape), np.broadcast_to(c1, pos.shape)
        return np.array([self._init_sigmoid(pos[j], neg[j], c0[j], c1[j])
                         for j in range(pos.shape[0])])

    def _init_sigmoid(self, pos: float, neg: float, c0: float, c1: float) -> float:
        """argmin_z c1 pos f(z) + c0 neg f(-z)."""
        a, b = c1 * pos, c0 * neg
        gamma = float(self.gamma)

        def slope(z: float) -> float:
            d_pos = focal_branch(np.array([z]), gamma, np, "grad_hess")[0][0]
            d_neg = focal_branch(np.array([-z]), gamma, np, "grad_hess")[0][0]
            return a * d_pos - b * d_neg

        return sigmoid_constant(a, b, None if gamma == 0 else slope)

    def _init_softmax(self, labels: Labels, counts: NDArray,
                      class_weight: NDArray | None) -> NDArray:
        """Centred argmin over constant margins; absent classes get probability eps."""
        factors = self._factors(labels, class_weight)
        weight = counts * (1.0 if factors is None else factors)
        gamma = float(self.gamma)

        def objective(idx: NDArray) -> Any:
            rows = np.arange(idx.size, dtype=np.int32)

            def fun(c: NDArray) -> tuple[float, NDArray]:
                zz = np.broadcast_to(c, (idx.size, idx.size))
                (val,) = softmax_focal(rows, zz, gamma, np, "value")
                g = softmax_focal(rows, zz, gamma, np, "grad_hess")[0]
                return float(weight[idx] @ val), weight[idx] @ g

            return fun

        return softmax_constant(weight, None if gamma == 0 else objective)


class CrossEntropyLoss(FocalLoss):
    r"""Class-weighted cross-entropy (log-loss); see :func:`gbloss.cross_entropy`."""

    _name = "cross_entropy"

    def __init__(
        self,
        class_weight: str | Mapping | ArrayLike | None = None,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
        drw_start_round: int | None = None,
    ) -> None:
        self.class_weight = class_weight
        self.n_classes = n_classes
        self.hessian = hessian
        self.drw_start_round = drw_start_round
        self._validate_params()

    # cross-entropy is the gamma = 0, alpha = None member of the focal family
    gamma = 0.0
    alpha = None


@fill_doc(drw_start_round=DRW_START_ROUND_DOC)
def cross_entropy(
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> CrossEntropyLoss:
    r"""Class-weighted cross-entropy.

    .. math::

        \ell_i = -c_1 y_i \log p_i - c_0 (1 - y_i) \log(1 - p_i)
        \quad\text{(binary, } p = \sigma(z)\text{)}, \qquad
        \ell_i = -c_{t_i} \log \operatorname{softmax}(z_i)_{t_i}
        \quad\text{(multiclass)}

    with class weights ``c`` (1 when ``class_weight=None``). Multi-label rows
    sum the binary loss over their columns.

    Parameters
    ----------
    class_weight : None, "balanced", "effective", dict or array
        ``"balanced"`` and ``"effective"`` are computed from the training
        labels (see :func:`gbloss.class_weights`); a dict maps class id to
        weight; an array has shape ``(2,)`` (binary), ``(k,)`` (multiclass) or
        ``(2,)``/``(k, 2)`` (multi-label ``[neg, pos]``).
    n_classes : int, optional
        Checked against the margins' columns; sets the length of multiclass
        init scores.
    hessian : {"auto", "exact", "xgboost", "lightgbm"}
        The exact diagonal ``p(1 - p)`` is positive; ``"auto"`` only floors it
        at ``1e-6`` times the row weight. ``"xgboost"`` gives XGBoost's
        ``max(2 p (1 - p), 1e-16)`` and ``"lightgbm"`` LightGBM's
        ``k / (k - 1) p (1 - p)`` for multiclass, so that gbloss reproduces
        ``multi:softprob`` and ``multiclass`` exactly.
    %(drw_start_round)s

    Returns
    -------
    CrossEntropyLoss
        Usable as ``obj=`` in XGBoost and ``"objective"`` in LightGBM.

    References
    ----------
    G. King, L. Zeng, "Logistic Regression in Rare Events Data", Political
    Analysis 9(2), 2001 (weighting for rare events). Y. Cui et al.,
    "Class-Balanced Loss Based on Effective Number of Samples", CVPR 2019,
    arXiv:1901.05555 (``class_weight="effective"``).
    """
    return CrossEntropyLoss(class_weight=class_weight, n_classes=n_classes, hessian=hessian,
                            drw_start_round=drw_start_round)


@fill_doc(drw_start_round=DRW_START_ROUND_DOC)
def focal(
    gamma: float = 2.0,
    alpha: float | ArrayLike | None = None,
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> FocalLoss:
    r"""Focal loss (Lin et al. 2017) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = -\alpha_t c_t (1 - p_t)^\gamma \log p_t

    where ``p_t`` is the predicted probability of the true class: ``sigmoid(z)``
    for positives and ``1 - sigmoid(z)`` for negatives (binary, multi-label),
    ``softmax(z)_t`` for multiclass. Soft binary labels ``y`` in ``[0, 1]``
    give ``y l(1) + (1 - y) l(0)``, the focal loss expected under a Bernoulli(y)
    label (as kornia's ``binary_focal_loss_with_logits``; torchvision's
    ``sigmoid_focal_loss`` agrees on 0/1 labels). ``gamma=0`` is cross-entropy.

    Task from shapes: margins ``(n,)`` with labels ``(n,)``: binary; margins
    ``(n, k)`` with integer labels ``(n,)``: multiclass; margins ``(n, k)``
    with 0/1 labels ``(n, k)``: multi-label.

    Parameters
    ----------
    gamma : float >= 0
        Focusing parameter; down-weights well-classified rows by ``(1 - p_t)^gamma``.
    alpha : None, float in [0, 1] or array
        Binary and multi-label: ``alpha`` for positives and ``1 - alpha`` for
        negatives (``[alpha_neg, alpha_pos]`` or one per column as an array).
        Multiclass: a per-class array, or a scalar that scales every class alike.
    class_weight : None, "balanced", "effective", dict or array
        As in :func:`cross_entropy`; multiplies ``alpha``.
    n_classes : int, optional
    hessian : {"auto", "exact", "xgboost", "lightgbm"}
        The exact Hessian of focal loss is negative for confidently wrong rows
        (``z_t`` below about -2.8 at ``gamma=2``). ``"auto"`` keeps it where it
        is at least ``1e-6`` times the row weight and uses
        ``max(alpha_t c_t q^gamma p (1 - p), 1e-6 w)`` elsewhere: the logistic
        curvature scaled by the focal factor. ``"exact"`` returns the true
        diagonal. ``"xgboost"`` / ``"lightgbm"`` scale the multiclass Hessian
        by 2 and ``k/(k-1)`` as those boosters' softmax objectives do.
    %(drw_start_round)s

    Returns
    -------
    FocalLoss

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollar, "Focal Loss for Dense
    Object Detection", ICCV 2017, arXiv:1708.02002.

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> loss = gbloss.focal(gamma=2.0)
    >>> grad, hess = loss.gradient_hessian(np.array([0.0, 1.0]), np.array([0.5, -1.0]))
    >>> grad.shape, bool((hess > 0).all())
    ((2,), True)
    """
    return FocalLoss(gamma=gamma, alpha=alpha, class_weight=class_weight, n_classes=n_classes,
                     hessian=hessian, drw_start_round=drw_start_round)
