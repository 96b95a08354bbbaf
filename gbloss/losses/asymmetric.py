r"""Asymmetric losses: ASL (Ridnik et al. 2021) and gbdtCBL's asymmetric cross-entropy.

* :func:`asymmetric` -- the asymmetric loss (ASL) of Ridnik et al.: focal terms
  with separate focusing parameters for positives and negatives, and a
  probability margin (``clip``) that discards easy negatives. Binary and
  multi-label data (a sigmoid per element); multiclass data get the ASL
  repository's single-label softmax variant (``ASLSingleLabel``).
* :func:`ace` and :func:`awe` -- gbdtCBL's asymmetric cross-entropy (``ACELoss``)
  and its positive-weighted form (``AWELoss``): cross-entropy on positives and a
  convex margin-shifted term on negatives whose gradient is gbdtCBL's.

The positive term is :func:`gbloss.losses.focal.focal_branch`; with ``clip=0``
so is the negative one (at ``-z``), so ASL with equal gammas and no clip *is*
:func:`gbloss.focal`. The multiclass variant adds label-smoothing terms to
:func:`gbloss.losses.focal.softmax_focal`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._core.checks import check_finite_scalar, check_n_classes
from .._core.hessian import (
    HessianPolicy,
    apply_hessian_policy,
    booster_scale,
    check_hessian_option,
)
from .._core.labels import BINARY, MULTICLASS, MULTILABEL, Labels
from .._core.namespace import to_numpy
from .._core.special import LOG_ZERO, int_power, log1p, log_sigmoid_from, sigmoid_parts
from .._objective.binding import CallContext
from ._contract import CountsKeptMixin, Loss
from ._init import kernel_sigmoid_constant, kernel_softmax_constant
from .focal import focal_branch, softmax_focal, softmax_rows

__all__ = ["ACELoss", "AsymmetricLoss", "ace", "ace_negative_branch", "asymmetric",
           "asymmetric_sigmoid_kernel", "asymmetric_softmax_kernel", "awe",
           "clipped_negative_branch"]

#: gbdtCBL's floor on probabilities (its ``clip_value``), used by ``hessian="gbdtcbl"``.
GBDTCBL_EPS = 1e-7


# ----------------------------------------------------------------------------- math
def _power(x: Any, gamma: float, positive: Any, xp: Any) -> Any:
    """``x^gamma`` for ``x >= 0`` (0 where not ``positive``; 1 for ``gamma = 0``)."""
    if gamma == 0:
        return xp.ones_like(x)
    out = int_power(x, gamma, xp)
    if out is None:
        out = xp.where(positive, xp.exp(gamma * xp.log(xp.where(positive, x, 1))), 0)
    return out


def clipped_negative_branch(z: Any, gamma: float, clip: float, xp: Any,
                            mode: str) -> tuple[Any, ...]:
    r"""ASL's term of a negative label under a sigmoid link, and its derivatives in ``z``.

    .. math::

        N(z) = -p_m^\gamma \log(1 - p_m), \qquad p_m = \max(p - c, 0), \ p = \sigma(z)

        N'(z) = p q\, p_m^\gamma \left[\frac{1}{r} - \gamma \rho\right], \qquad
        N''(z) = p q (q - p)\, D_1 + (p q)^2 D_2

    with ``q = 1 - p``, ``r = 1 - p_m = q + c``, ``rho = log(r) / p_m`` (-1 at
    ``p_m = 0``), ``D_1 = dN/dp_m = p_m^gamma (1/r - gamma rho)`` and
    ``D_2 = p_m^(gamma-1) (2 gamma / r - gamma (gamma - 1) rho) + p_m^gamma / r^2``.
    ``c > 0``. Where ``p <= c`` the term and its derivatives are 0.

    At the kink ``p = c`` the value and, for ``gamma > 0``, the first
    derivative are continuous; for ``gamma = 0`` the first derivative jumps
    from 0 to ``c (1 - c)``, and for ``0 < gamma < 1`` the second derivative
    tends to ``+inf`` from the right. gbloss takes the left-sided limits at
    ``p = c`` exactly (0).

    Returns ``(N,)``, ``(N, N')`` (``mode="value_grad"``) or
    ``(N', N'', s)`` with the surrogate curvature ``s = p_m^gamma p q >= 0``.
    """
    p, q = sigmoid_parts(z, xp)[:2]
    active = p > clip
    pm = xp.where(active, p - clip, 0)
    r = xp.where(active, q + clip, 1)  # 1 - p_m, from q (accurate as p -> 1)
    # log(1 - p_m): log1p(-p_m) while p_m is small, log(q + c) otherwise
    small = pm < 0.5
    log_r = xp.where(small, log1p(-xp.where(small, pm, 0), xp), xp.log(r))
    pmg = _power(pm, gamma, active, xp) if gamma != 0 else xp.astype(active, z.dtype)
    value = -pmg * log_r
    if mode == "value":
        return (value,)
    rho = xp.where(active, log_r / xp.where(active, pm, 1), -1)  # log(1 - p_m) / p_m
    pq = p * q
    d1 = pmg * (1 / r - gamma * rho)
    grad = pq * d1
    if mode == "value_grad":
        return value, grad
    d2 = pmg / (r * r)
    if gamma != 0:
        pm_gm1 = xp.where(active, pmg / xp.where(active, pm, 1), 0)  # p_m^(gamma - 1)
        d2 = d2 + pm_gm1 * (2 * gamma / r - gamma * (gamma - 1) * rho)
    hess = pq * (q - p) * d1 + (pq * pq) * d2
    return grad, hess, pmg * pq


def _negative_branch(z: Any, gamma: float, clip: float, xp: Any, mode: str) -> tuple[Any, ...]:
    """ASL's negative term with derivatives in ``z``: focal at ``-z`` when ``clip = 0``."""
    if clip > 0:
        return clipped_negative_branch(z, gamma, clip, xp, mode)
    out = focal_branch(-z, gamma, xp, mode)
    if mode == "value":
        return out
    if mode == "value_grad":
        return out[0], -out[1]
    return -out[0], out[1], out[2]


def ace_negative_branch(z: Any, margin: float, xp: Any, mode: str) -> tuple[Any, ...]:
    r"""gbdtCBL's ACE term of a negative label: the loss whose gradient is ``max(p - m, 0)``.

    .. math::

        A(z) = \mathrm{KL}\big(\mathrm{Bern}(m) \,\|\, \mathrm{Bern}(p)\big)
             = m \log\frac{m}{p} + (1 - m) \log\frac{1 - m}{1 - p}
             \quad (p > m), \qquad A(z) = 0 \quad (p \le m)

        A'(z) = \max(p - m, 0), \qquad A''(z) = p (1 - p)\,[p > m]

    Convex: cross-entropy towards the probability ``m``, cut at its minimum.
    Returns ``(A,)``, ``(A, A')`` or ``(A', A'', s)`` with ``s = A''``.
    """
    p, q, e, u, zc = sigmoid_parts(z, xp)
    active = p > margin
    if mode != "grad_hess":
        log_p = log_sigmoid_from(z, zc, e, u, xp)
        log_q = log_p - z  # log(1 - p)
        kl = (1 - margin) * (math.log1p(-margin) - log_q)
        if margin > 0:
            kl = kl + margin * (math.log(margin) - log_p)
        value = xp.where(active, xp.clip(kl, min=0), 0)
        if mode == "value":
            return (value,)
        return value, xp.where(active, p - margin, 0)
    hess = xp.where(active, p * q, 0)
    return xp.where(active, p - margin, 0), hess, hess


def asymmetric_sigmoid_kernel(
    y: Any, w: Any, z: Any, xp: Any, *, gamma_pos: float, gamma_neg: float, clip: float,
    mode: str, hessian: str,
) -> tuple[Any, ...]:
    """Binary and multi-label ASL: ``l = y P(z) + (1 - y) N(z)`` elementwise (rows summed)."""
    k1, k0 = y, 1 - y
    if mode == "value":
        (f1,) = focal_branch(z, gamma_pos, xp, mode)
        (f0,) = _negative_branch(z, gamma_neg, clip, xp, mode)
        value = k1 * f1 + k0 * f0
        return (xp.sum(value, axis=-1) if value.ndim == 2 else value,)
    a1, b1, s1 = focal_branch(z, gamma_pos, xp, mode)
    a0, b0, s0 = _negative_branch(z, gamma_neg, clip, xp, mode)
    grad, hess, sur = k1 * a1 + k0 * a0, k1 * b1 + k0 * b0, k1 * s1 + k0 * s0
    weight = None
    if w is not None:
        weight = xp.reshape(w, (-1, 1)) if z.ndim == 2 else w
        grad, hess, sur = grad * weight, hess * weight, sur * weight
    convex = gamma_pos == 0 and gamma_neg == 0 and clip == 0  # cross-entropy
    return grad, apply_hessian_policy(hess, None if convex else sur, weight, hessian, xp)


def ace_sigmoid_kernel(
    y: Any, w: Any, z: Any, xp: Any, *, margin: float, pos_weight: float, mode: str,
    hessian: str,
) -> tuple[Any, ...]:
    """Binary and multi-label ACE / AWE: ``l = r y CE(z) + (1 - y) A(z)`` elementwise."""
    k1, k0 = pos_weight * y, 1 - y
    if mode == "value":
        (f1,) = focal_branch(z, 0.0, xp, mode)
        (f0,) = ace_negative_branch(z, margin, xp, mode)
        value = k1 * f1 + k0 * f0
        return (xp.sum(value, axis=-1) if value.ndim == 2 else value,)
    a1, b1, _ = focal_branch(z, 0.0, xp, mode)
    a0, b0, _ = ace_negative_branch(z, margin, xp, mode)
    grad, hess = k1 * a1 + k0 * a0, k1 * b1 + k0 * b0
    if hessian == "gbdtcbl":  # ACELoss / AWELoss: p_m (1 - p_m), p_m = max(p - m, 1e-7)
        p = sigmoid_parts(z, xp)[0]
        pm = xp.clip(p - margin, min=GBDTCBL_EPS)
        hess = k1 * b1 + k0 * (pm * (1 - pm))
        return (grad, hess) if w is None else (grad * _rows(w, z, xp), hess * _rows(w, z, xp))
    weight = k1 + k0
    if w is not None:
        wc = _rows(w, z, xp)
        grad, hess, weight = grad * wc, hess * wc, weight * wc
    return grad, apply_hessian_policy(hess, None, weight, hessian, xp)


def _rows(w: Any, z: Any, xp: Any) -> Any:
    return xp.reshape(w, (-1, 1)) if z.ndim == 2 else w


def asymmetric_softmax_kernel(
    t: Any, w: Any, z: Any, xp: Any, *, gamma_pos: float, gamma_neg: float,
    label_smoothing: float, mode: str, hessian: str, scale: float,
) -> tuple[Any, ...]:
    r"""Multiclass ASL (the ASL repository's ``ASLSingleLabel``) of each row.

    With ``p = softmax(z)``, ``e = label_smoothing`` and ``k`` classes:

    .. math::

        \ell = -(1 - e + e/k)(1 - p_t)^{\gamma_+} \log p_t
               - \frac{e}{k} \sum_{j \ne t} p_j^{\gamma_-} \log p_j

    The first term is :func:`~gbloss.losses.focal.softmax_focal`. Each
    smoothing term ``c phi(p_j)``, ``phi(u) = -u^g log u``, contributes
    ``B_j ([i = j] - p_i)`` to the gradient in ``z_i`` and
    ``A_j [i = j] (1 - 2 p_i) + A_j p_i^2 - B_j p_i (1 - p_i)`` to the Hessian
    diagonal, with ``B = c u phi'(u) = -c u^g (g log u + 1)`` and
    ``A = c (u^2 phi'' + u phi') = -c g u^g (g log u + 2)``. Surrogate: the
    focal surrogate plus ``p_i (1 - p_i) sum_{j != t} c p_j^g``.
    """
    k = z.shape[-1]
    c_true = 1.0 - label_smoothing + label_smoothing / k
    c_other = label_smoothing / k
    out = softmax_focal(t, z, gamma_pos, xp, mode)
    if c_true != 1:
        out = tuple(c_true * o for o in out)
    if c_other == 0:
        if mode != "grad_hess":
            return out
        grad, hess, sur = out
    else:
        s = softmax_rows(t, z, xp, complement=mode == "grad_hess")
        log_p = s.shifted - xp.reshape(s.log_total, (-1, 1))
        if gamma_neg != 0:  # p^g log p is 0 where p underflows: keeps 0 * (-inf) away
            log_p = xp.clip(log_p, min=LOG_ZERO)
        pg = _power(s.p, gamma_neg, s.p > 0, xp) * s.not_m  # p_j^g off the true class
        if mode != "grad_hess":
            smooth = -c_other * xp.sum(pg * log_p, axis=-1)
            if mode == "value":
                return (out[0] + smooth,)
        b = -c_other * pg * (gamma_neg * log_p + 1)
        sum_b = xp.reshape(xp.sum(b, axis=-1), (-1, 1))
        if mode == "value_grad":
            return out[0] + smooth, out[1] + b - s.p * sum_b
        a = -c_other * gamma_neg * pg * (gamma_neg * log_p + 2)
        sum_a = xp.reshape(xp.sum(a, axis=-1), (-1, 1))
        pc = s.p * s.comp  # p_i (1 - p_i)
        grad = out[0] + b - s.p * sum_b
        hess = out[1] + a * (1 - 2 * s.p) + sum_a * s.p * s.p - sum_b * pc
        sur = out[2] + pc * (c_other * xp.reshape(xp.sum(pg, axis=-1), (-1, 1)))
    weight = xp.ones_like(z)
    if w is not None:
        wc = xp.reshape(w, (-1, 1))
        grad, hess, sur, weight = grad * wc, hess * wc, sur * wc, weight * wc
    convex = gamma_pos == 0 and gamma_neg == 0
    return grad, apply_hessian_policy(hess, None if convex else sur, weight, hessian, xp,
                                      scale=scale)


# ------------------------------------------------------------------------- losses
class AsymmetricLoss(CountsKeptMixin, Loss):
    r"""Asymmetric loss (ASL, Ridnik et al. 2021); see :func:`gbloss.asymmetric`."""

    _name = "asymmetric"

    def __init__(
        self,
        gamma_pos: float = 0.0,
        gamma_neg: float = 4.0,
        clip: float = 0.05,
        label_smoothing: float = 0.1,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
    ) -> None:
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg
        self.clip = clip
        self.label_smoothing = label_smoothing
        self.n_classes = n_classes
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("gamma_pos", self.gamma_pos, low=0.0)
        check_finite_scalar("gamma_neg", self.gamma_neg, low=0.0)
        check_finite_scalar("clip", self.clip, low=0.0, high=1.0)
        if self.clip == 1:
            raise ValueError("clip must be < 1: clip=1 would discard every negative")
        check_finite_scalar("label_smoothing", self.label_smoothing, low=0.0, high=1.0)
        check_n_classes(self.n_classes)
        check_hessian_option(self.hessian)

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        common: dict[str, Any] = {"gamma_pos": float(self.gamma_pos),
                                  "gamma_neg": float(self.gamma_neg),
                                  "mode": mode, "hessian": self.hessian}
        if labels.task == MULTICLASS:
            return functools.partial(asymmetric_softmax_kernel, **common,
                                     label_smoothing=float(self.label_smoothing),
                                     scale=booster_scale(self.hessian, labels.n_classes))
        return functools.partial(asymmetric_sigmoid_kernel, **common, clip=float(self.clip))

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        y = to_numpy(labels.y).astype(np.float64)
        w = None if w is None else to_numpy(w).astype(np.float64)
        common: dict[str, Any] = {"gamma_pos": float(self.gamma_pos),
                                  "gamma_neg": float(self.gamma_neg), "hessian": "exact"}
        if labels.task == MULTICLASS:
            kernel = functools.partial(asymmetric_softmax_kernel, **common, scale=1.0,
                                       label_smoothing=float(self.label_smoothing))
            return kernel_softmax_constant(kernel, y, w, labels.n_classes)
        kernel = functools.partial(asymmetric_sigmoid_kernel, **common, clip=float(self.clip))
        return kernel_sigmoid_constant(kernel, y, w)


class ACELoss(CountsKeptMixin, Loss):
    r"""gbdtCBL's asymmetric cross-entropy (ACE; AWE with ``pos_weight``).

    See :func:`gbloss.ace` and :func:`gbloss.awe`.
    """

    _name = "ace"
    _tasks = (BINARY, MULTILABEL)

    def __init__(
        self,
        margin: float = 0.05,
        pos_weight: float = 1.0,
        hessian: Literal["auto", "exact", "gbdtcbl"] = "auto",
    ) -> None:
        self.margin = margin
        self.pos_weight = pos_weight
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("margin", self.margin, low=0.0, high=1.0)
        if self.margin == 1:
            raise ValueError("margin must be < 1: margin=1 would discard every negative")
        check_finite_scalar("pos_weight", self.pos_weight, low=0.0, low_inclusive=False)
        check_hessian_option(self.hessian, ("auto", "exact", "gbdtcbl"))

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        return functools.partial(ace_sigmoid_kernel, margin=float(self.margin),
                                 pos_weight=float(self.pos_weight), mode=mode,
                                 hessian=self.hessian)

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        y = to_numpy(labels.y).astype(np.float64)
        w = None if w is None else to_numpy(w).astype(np.float64)
        kernel = functools.partial(ace_sigmoid_kernel, margin=float(self.margin),
                                   pos_weight=float(self.pos_weight), hessian="exact")
        return kernel_sigmoid_constant(kernel, y, w)


# ---------------------------------------------------------------------- factories
def asymmetric(
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    label_smoothing: float = 0.1,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
) -> AsymmetricLoss:
    r"""Asymmetric loss (ASL, Ridnik et al. 2021) as an XGBoost / LightGBM objective.

    Binary and multi-label data (a sigmoid per element, ``p = sigmoid(z)``):

    .. math::

        \ell = -y\,(1 - p)^{\gamma_+} \log p
               - (1 - y)\, p_m^{\gamma_-} \log(1 - p_m),
        \qquad p_m = \max(p - \mathrm{clip}, 0)

    summed over the columns of a multi-label row. Negatives are focused
    harder than positives (``gamma_neg > gamma_pos``), and a negative with
    ``p <= clip`` costs nothing ("probability shifting"): on data with many
    more negatives than positives (multi-label tagging) the easy negatives
    stop dominating the gradient. With ``gamma_pos = gamma_neg = gamma`` and
    ``clip=0`` this is :func:`gbloss.focal` ``(gamma)`` (tested). Soft labels
    ``y`` in [0, 1] give ``y l(1) + (1 - y) l(0)``.

    Multiclass data (margins ``(n, k)``, integer labels ``(n,)``): the ASL
    repository's single-label variant ``ASLSingleLabel``,

    .. math::

        \ell = -(1 - e + e/k)\,(1 - p_t)^{\gamma_+} \log p_t
               - \frac{e}{k} \sum_{j \ne t} p_j^{\gamma_-} \log p_j,
        \qquad p = \operatorname{softmax}(z)

    with label smoothing ``e``: negatives enter only through it, so
    ``label_smoothing=0`` is softmax :func:`gbloss.focal` ``(gamma_pos)``.
    ``clip`` does not apply (as in the reference).

    Parameters
    ----------
    gamma_pos, gamma_neg : float >= 0
        Focusing parameters of positives and negatives. Defaults: the
        paper's recommended 0 and 4 (the reference ``AsymmetricLoss``
        class defaults to ``gamma_pos=1``).
    clip : float in [0, 1)
        Probability margin of negatives (the paper's ``m``), default 0.05 as
        the reference. The loss has a kink at ``p = clip``: continuous, with a
        continuous first derivative for ``gamma_neg > 0`` but a jump in it for
        ``gamma_neg = 0``, and a second derivative that tends to ``+inf`` from
        the right for ``0 < gamma_neg < 1``. At ``p = clip`` exactly gbloss
        takes the left-sided limits (0); elsewhere the derivatives are exact.
    label_smoothing : float in [0, 1]
        Multiclass only: the reference ``ASLSingleLabel``'s ``eps``, default
        0.1 as there.
    n_classes : int, optional
    hessian : {"auto", "exact", "xgboost", "lightgbm"}
        ASL is not convex when ``gamma_neg > 0`` or ``clip > 0`` (a wrong
        negative's gradient falls towards 0 as ``p -> 1``: the loss of a
        negative is bounded). ``"auto"`` keeps the exact Hessian where it is
        at least ``1e-6`` times the row weight and uses
        ``max(s, 1e-6 w)`` elsewhere, with ``s`` the logistic curvature
        ``p (1 - p)`` scaled by the focusing factor of the row's label
        (``(1 - p)^gamma_pos`` for positives, ``p_m^gamma_neg`` for
        negatives; for multiclass the focal surrogate plus
        ``p_j (1 - p_j)`` times the smoothing weights), as :func:`gbloss.focal`.
        Positive on every row with positive weight. ``"exact"``: the true
        diagonal. ``"xgboost"`` / ``"lightgbm"``: as in :func:`gbloss.focal`.

    Returns
    -------
    AsymmetricLoss

    Notes
    -----
    The gradient is the full derivative (as autograd of the reference
    ``AsymmetricLoss``, whose ``disable_torch_grad_focal_loss`` switch is
    commented out there). The reference clamps probabilities at ``eps=1e-8``
    inside the logarithms (its loss is flat for ``z < -18.4``); gbloss works
    in log space and does not.

    gbdtCBL's ``ASLLoss(r1, r2, m)`` is this loss with ``gamma_pos=r1``,
    ``gamma_neg=r2``, ``clip=m``, but its negative-class gradient and Hessian
    use ``p_m (1 - p_m)`` where the chain rule gives ``dp/dz = p (1 - p)``:
    they are not the derivatives of the loss, and gbloss's are. gbdtCBL's
    multiclass ``XGBASLMulti`` / ``XGBACEMulti`` replace ``p_j`` by ``p_m``
    in the softmax gradient, a field that is not the gradient of any loss;
    gbloss offers the ``ASLSingleLabel`` definition for multiclass data
    instead. For gbdtCBL's ``ACELoss`` / ``AWELoss`` see :func:`gbloss.ace`,
    :func:`gbloss.awe`.

    References
    ----------
    T. Ridnik, E. Ben-Baruch, N. Zamir, A. Noy, I. Friedman, M. Protter,
    L. Zelnik-Manor, "Asymmetric Loss For Multi-Label Classification", ICCV
    2021, arXiv:2009.14119 (code: Alibaba-MIIL/ASL,
    ``src/loss_functions/losses.py``).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> loss = gbloss.asymmetric(gamma_neg=4.0, clip=0.05)
    >>> y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> grad, hess = loss.gradient_hessian(y, np.zeros((2, 3)))
    >>> grad.shape, bool((hess > 0).all())
    ((2, 3), True)
    """
    return AsymmetricLoss(gamma_pos=gamma_pos, gamma_neg=gamma_neg, clip=clip,
                          label_smoothing=label_smoothing, n_classes=n_classes, hessian=hessian)


_ACE_NOTES = r"""
    The gradient is gbdtCBL's (``ACELoss``, ``AWELoss`` in ``ibloss/binary.py``):
    ``r (p - 1)`` on positives, ``max(p - m, 0)`` on negatives (gbdtCBL floors
    it at ``1e-7``). It is the exact gradient of the loss above: on negatives
    the Kullback-Leibler divergence of ``Bernoulli(p)`` from ``Bernoulli(m)``,
    cut to 0 below its minimum at ``p = m``; the loss is convex. (It is not
    ``-log(1 - p_m)``, ASL's ``gamma = 0`` term: gbdtCBL differentiates that
    with ``p_m (1 - p_m)`` in place of ``dp/dz``, which makes this loss.)

    Binary and multi-label data; gbdtCBL's multiclass ACE (``XGBACEMulti``)
    is not the gradient of any loss (see :func:`gbloss.asymmetric`).
"""


def ace(
    margin: float = 0.05,
    pos_weight: float = 1.0,
    hessian: Literal["auto", "exact", "gbdtcbl"] = "auto",
) -> ACELoss:
    r"""gbdtCBL's asymmetric cross-entropy (ACE) as an XGBoost / LightGBM objective.

    .. math::

        \ell = -r\, y \log p
               + (1 - y) \left[m \log\frac{m}{p} + (1 - m) \log\frac{1 - m}{1 - p}\right]_{p > m}

    with ``p = sigmoid(z)``, margin ``m`` and positive weight ``r`` (1 for
    ACE; :func:`gbloss.awe` sets it); the bracket is 0 for ``p <= m``. Easy
    negatives (``p <= m``) cost nothing.
    %(notes)s
    Parameters
    ----------
    margin : float in [0, 1)
        gbdtCBL's ``m``; ``margin=0`` is cross-entropy. Default 0.05 (ASL's
        ``clip``; gbdtCBL has no default).
    pos_weight : float > 0
        gbdtCBL's ``r1`` of ``AWELoss``.
    hessian : {"auto", "exact", "gbdtcbl"}
        The exact Hessian is ``r p (1 - p)`` on positives and
        ``p (1 - p) [p > m]`` on negatives: zero on easy negatives, where
        ``"auto"`` floors it at ``1e-6`` times the row weight (positive on
        every row with positive weight). ``"gbdtcbl"`` gives gbdtCBL's
        ``p_m (1 - p_m)`` with ``p_m = max(p - m, 1e-7)`` on negatives, to
        train as gbdtCBL does.

    Returns
    -------
    ACELoss

    References
    ----------
    J. Luo, Y. Yuan, S. Xu, "Improving GBDT performance on imbalanced datasets:
    An empirical study of class-balanced loss functions", Neurocomputing 634,
    2025 (code: Luojiaqimath/ClassbalancedLoss4GBDT, PyPI ``gbdtcbl``).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> grad, hess = gbloss.ace(margin=0.1).gradient_hessian(np.array([0.0, 1.0]), np.zeros(2))
    >>> np.round(grad, 3)
    array([ 0.4, -0.5])
    """
    return ACELoss(margin=margin, pos_weight=pos_weight, hessian=hessian)


ace.__doc__ = (ace.__doc__ or "").replace("%(notes)s", _ACE_NOTES)


def awe(
    pos_weight: float = 1.0,
    margin: float = 0.05,
    hessian: Literal["auto", "exact", "gbdtcbl"] = "auto",
) -> ACELoss:
    r"""gbdtCBL's asymmetric weighted cross-entropy (AWE): :func:`gbloss.ace` with positives
    weighted by ``pos_weight`` (gbdtCBL's ``AWELoss(r1, m)`` is ``awe(r1, m)``).

    .. math::

        \ell = -r\, y \log p
               + (1 - y) \left[m \log\frac{m}{p} + (1 - m) \log\frac{1 - m}{1 - p}\right]_{p > m}

    Parameters
    ----------
    pos_weight : float > 0
        ``r``, the weight of positives.
    margin : float in [0, 1)
        ``m``, as in :func:`gbloss.ace`.
    hessian : {"auto", "exact", "gbdtcbl"}
        As in :func:`gbloss.ace`.

    Returns
    -------
    ACELoss

    References
    ----------
    J. Luo, Y. Yuan, S. Xu, Neurocomputing 634, 2025 (gbdtCBL).
    """
    return ACELoss(margin=margin, pos_weight=pos_weight, hessian=hessian)
