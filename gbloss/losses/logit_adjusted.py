r"""Logit-adjusted cross-entropy: logit adjustment (Menon et al. 2021), Balanced Softmax
(Ren et al. 2020) and the vector-scaling (VS) loss (Kini et al. 2021).

All three are cross-entropy at affinely adjusted margins ``u = Delta * z + iota``
with per-class ``Delta_j = (n_j / n_max)^gamma`` and ``iota_j = tau log pi_j``
(``pi`` the training class frequencies): the VS loss; ``gamma = 0`` is the
logit-adjusted loss and ``gamma = 0, tau = 1`` Balanced Softmax. The math is
that of :mod:`gbloss.losses.focal` (:func:`~gbloss.losses.focal.softmax_focal`
and :func:`~gbloss.losses.focal.focal_branch` with ``gamma = 0``) at the
adjusted margins, with the chain rule (``Delta`` and ``Delta^2``) applied here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import as_margins, check_finite_scalar, check_n_classes
from .._core.hessian import (
    HessianPolicy,
    apply_hessian_policy,
    booster_scale,
    check_hessian_option,
)
from .._core.labels import BINARY, MULTICLASS, MULTILABEL, Labels
from .._core.namespace import asarray_on, to_numpy
from .._core.special import finite_bound, log1p
from .._objective.binding import CallContext
from ._contract import Loss, _sigmoid, _softmax
from ._docs import fill_doc
from ._drw import DRW_START_ROUND_DOC, DRWMixin
from ._init import root, sigmoid_constant, softmax_constant
from ._weights import ClassCounts
from .focal import FocalLoss, _check_class_weight, focal_branch, softmax_focal

__all__ = ["BalancedSoftmaxLoss", "LogitAdjustedLoss", "VSLoss", "adjusted_counts",
           "balanced_softmax", "logit_adjusted", "vs_loss", "vs_parameters",
           "vs_sigmoid_kernel", "vs_softmax_kernel"]


# ----------------------------------------------------------------------------- math
def adjusted_counts(counts: ArrayLike) -> NDArray:
    """Class counts with each empty class given the smallest positive count of its group.

    The group is the last axis: the ``k`` classes (multiclass), ``[n_0, n_1]``
    (binary) or one column's ``[n_neg, n_pos]`` (multi-label). An empty class
    (absent from the training labels) is taken to be as rare as the rarest
    present one, as LDAM gives it the largest margin, so that ``log pi`` stays
    finite; a group without any positive count is uniform.
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    smallest = np.min(np.where(present, counts, np.inf), axis=-1, keepdims=True)
    smallest = np.where(np.isfinite(smallest), smallest, 1.0)
    return np.where(present, counts, smallest)


def vs_parameters(counts: ArrayLike, gamma: float, tau: float) -> tuple[NDArray, NDArray]:
    r"""``(Delta, iota)`` of the VS loss from class counts (only their ratios matter).

    Along the last axis of ``counts`` (see :func:`adjusted_counts`):
    ``Delta_j = (n_j / n_max)^gamma`` and ``iota_j = tau log(n_j / sum_k n_k)``.
    For ``[n_0, n_1]`` pairs (binary, multi-label) the sigmoid losses use
    ``Delta`` and ``iota_1 - iota_0 = tau log(pi_1 / pi_0)``.
    """
    c = adjusted_counts(counts)
    delta = (c / np.max(c, axis=-1, keepdims=True)) ** float(gamma)
    iota = float(tau) * (np.log(c) - np.log(np.sum(c, axis=-1, keepdims=True)))
    return delta, iota


def vs_softmax_kernel(
    t: Any, w: Any, z: Any, xp: Any, *, delta: Any, iota: Any, factors: Any, mode: str,
    hessian: str, scale: float,
) -> tuple[Any, ...]:
    r"""Multiclass VS loss of each row: ``c_t CE(Delta * z + iota)`` (cross-entropy at the
    adjusted margins; ``delta`` and ``iota`` are ``(k,)``, ``factors`` the class weights).

    ``grad = c_t Delta (p - e_t)`` and the Hessian diagonal
    ``c_t Delta_j^2 p_j (1 - p_j)`` with ``p = softmax(Delta * z + iota)``: the
    diagonal of ``diag(Delta) H diag(Delta)``, ``H`` the softmax Hessian, which
    is positive semi-definite (the loss is convex in ``z``).
    """
    bound = finite_bound(z.dtype)  # z + iota overflows near the float maximum
    u = xp.clip(z * delta + iota, min=-bound, max=bound)
    out = softmax_focal(t, u, 0.0, xp, mode)
    c = None if factors is None else xp.take(factors, xp.astype(t, xp.int64))
    if mode == "value":
        return (out[0] if c is None else c * out[0],)
    grad, hess, _ = out
    grad, hess = grad * delta, hess * (delta * delta)
    if w is not None:
        c = w if c is None else c * w
    if c is None:
        weight = None
    else:
        cc = xp.reshape(c, (-1, 1))
        grad, hess = grad * cc, hess * cc
        weight = xp.broadcast_to(cc, z.shape)
    return grad, apply_hessian_policy(hess, None, weight, hessian, xp, scale=scale)


def vs_sigmoid_kernel(
    y: Any, w: Any, z: Any, xp: Any, *, d0: Any, d1: Any, b: Any, c0: Any, c1: Any,
    mode: str, hessian: str,
) -> tuple[Any, ...]:
    r"""Binary and multi-label VS loss, elementwise (soft labels: the expectation under
    Bernoulli(y)).

    .. math::

        \ell = c_1\,y\,f(\Delta_1 z + b) + c_0\,(1 - y)\,f\big(-(\Delta_0 z + b)\big),
        \qquad f(u) = -\log\sigma(u), \quad b = \tau \log(\pi_1 / \pi_0)

    Kini et al.'s binary VS loss ``omega_y log(1 + exp(iota_y - Delta_y y z))``
    (``y = +-1``) with ``iota_{+1} = -b``, ``iota_{-1} = b`` and
    ``omega = c``. ``Delta_0 = Delta_1 = 1`` is binary cross-entropy at
    ``z + b`` (logit adjustment). The Hessian ``c_1 y Delta_1^2 p_1 q_1 +
    c_0 (1 - y) Delta_0^2 p_0 q_0`` is positive.
    """
    bound = finite_bound(z.dtype)
    u1 = xp.clip(d1 * z + b, min=-bound, max=bound)
    u0 = xp.clip(d0 * z + b, min=-bound, max=bound)
    k1, k0 = c1 * y, c0 * (1 - y)
    if mode == "value":
        (f1,), (f0,) = focal_branch(u1, 0.0, xp, mode), focal_branch(-u0, 0.0, xp, mode)
        value = k1 * f1 + k0 * f0
        return (xp.sum(value, axis=-1) if value.ndim == 2 else value,)
    a1, h1, _ = focal_branch(u1, 0.0, xp, mode)
    a0, h0, _ = focal_branch(-u0, 0.0, xp, mode)
    grad = k1 * d1 * a1 - k0 * d0 * a0
    hess = k1 * (d1 * d1) * h1 + k0 * (d0 * d0) * h0
    c = k1 + k0
    if w is not None:
        wc = xp.reshape(w, (-1, 1)) if z.ndim == 2 else w
        grad, hess, c = grad * wc, hess * wc, c * wc
    return grad, apply_hessian_policy(hess, None, c, hessian, xp)


# ------------------------------------------------------------------------- losses
class VSLoss(DRWMixin, Loss):
    r"""Vector-scaling loss (Kini et al. 2021); see :func:`gbloss.vs_loss`.

    Fitted statistics: the class counts (:class:`gbloss.losses.ClassCounts`),
    from which ``Delta``, ``iota`` and any ``"balanced"`` / ``"effective"``
    class weights follow. :class:`LogitAdjustedLoss` is its ``gamma=0`` member.
    """

    _name = "vs"

    def __init__(
        self,
        gamma: float = 0.2,
        tau: float = 1.0,
        class_weight: str | Mapping | ArrayLike | None = None,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
        drw_start_round: int | None = None,
    ) -> None:
        self.gamma = gamma
        self.tau = tau
        self.class_weight = class_weight
        self.n_classes = n_classes
        self.hessian = hessian
        self.drw_start_round = drw_start_round
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("gamma", self.gamma, low=0.0)
        check_finite_scalar("tau", self.tau, low=0.0)
        _check_class_weight(self.class_weight)
        check_n_classes(self.n_classes)
        check_hessian_option(self.hessian)
        self._check_drw()

    # ---- statistics: the class counts; Delta, iota and class weights follow from them
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> ClassCounts:
        return ClassCounts.of(labels, w)

    def _parts(self, stats: ClassCounts, on: bool) -> dict[str, Any]:
        """Delta, iota and class weights (numpy float64) for the task of ``stats``."""
        delta, iota = vs_parameters(stats.counts, float(self.gamma), float(self.tau))
        cw = FocalLoss._class_weight(self, stats, on)  # type: ignore[arg-type]
        if stats.task == MULTICLASS:
            return {"delta": delta, "iota": iota, "factors": cw}
        c0, c1 = (1.0, 1.0) if cw is None else (cw[..., 0], cw[..., 1])
        if stats.task == MULTILABEL:
            k = stats.n_classes
            c0, c1 = np.broadcast_to(c0, (k,)), np.broadcast_to(c1, (k,))
        return {"d0": delta[..., 0], "d1": delta[..., 1], "b": iota[..., 1] - iota[..., 0],
                "c0": c0, "c1": c1}

    def _kernel(self, labels: Labels, stats: ClassCounts, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        parts = self._parts(stats, self._drw_weights_on(context))
        if labels.task == MULTICLASS:
            arrays = {name: None if value is None else asarray_on(value, labels.y, xp, dtype)
                      for name, value in parts.items()}
            return functools.partial(vs_softmax_kernel, **arrays, mode=mode,
                                     hessian=self.hessian,
                                     scale=booster_scale(self.hessian, labels.n_classes))
        if labels.task == BINARY:
            values = {name: float(value) for name, value in parts.items()}
        else:
            values = {name: asarray_on(np.asarray(value, dtype=np.float64), labels.y, xp, dtype)
                      for name, value in parts.items()}
        return functools.partial(vs_sigmoid_kernel, **values, mode=mode, hessian=self.hessian)

    # ---- init score: the constant margin that minimises the loss (at round 0)
    def _init_constant(self, labels: Labels, w: Any, stats: ClassCounts) -> NDArray:
        parts = self._parts(stats, on=self.drw_start_round is None)
        y = to_numpy(labels.y).astype(np.float64)
        w = None if w is None else to_numpy(w).astype(np.float64)
        if labels.task == MULTICLASS:
            counts = np.bincount(y.astype(np.intp), weights=w, minlength=labels.n_classes)
            factors = parts["factors"]
            weight = counts * (1.0 if factors is None else factors)
            # softmax(Delta z + iota) = the weighted class frequencies: Delta_j z_j + iota_j is
            # their log (eps for an absent class) plus any constant C; C centres z.
            target = softmax_constant(weight)
            delta, iota = parts["delta"], parts["iota"]
            base = (target - iota) / delta
            return base - np.sum(base) / np.sum(1.0 / delta) / delta
        ww = 1.0 if w is None else (w if y.ndim == 1 else w[:, None])
        pos, neg = np.sum(ww * y, axis=0), np.sum(ww * (1 - y), axis=0)
        if labels.task == BINARY:
            return np.asarray(_sigmoid_init(float(pos), float(neg), **{
                name: float(value) for name, value in parts.items()}))
        cols = {name: np.broadcast_to(value, pos.shape) for name, value in parts.items()}
        return np.array([_sigmoid_init(float(pos[j]), float(neg[j]),
                                       **{name: float(v[j]) for name, v in cols.items()})
                         for j in range(pos.shape[0])])

    # ---- probabilities under the training prior
    def _posterior(self, raw: Any, stats: Any, multilabel: bool, xp: Any) -> Any:
        r"""Estimates of ``P(y | x)`` under the training class prior, from margins.

        The population minimiser of the loss satisfies
        ``softmax(Delta * z + iota)_j propto c_j P(j | x)`` (multiclass), so the
        estimate is that softmax with the class weights ``c`` divided out (exact
        at the minimiser). Binary and multi-label (per column), from the
        stationarity condition of ``c_1 eta f(Delta_1 z + b) +
        c_0 (1 - eta) f(-(Delta_0 z + b))``:

        .. math::

            \operatorname{logit} \hat\eta = \log\frac{c_0 \Delta_0}{c_1 \Delta_1}
                + \log\sigma(\Delta_0 z + b) - \log\sigma(-(\Delta_1 z + b)),

        increasing in ``z``: exact at the minimiser, and ``sigmoid(z + b)`` when
        ``Delta_0 = Delta_1`` and ``c_0 = c_1`` (logit adjustment). With
        ``drw_start_round`` the deferred class weights are divided out (those of
        the last rounds): an approximation, as the early rounds had none.
        """
        if stats is None:
            raise ValueError(f"{type(self).__name__} is not fitted: its posterior under the "
                             "training prior needs the training class frequencies; use "
                             "loss.fit(y_train) (or a loss fitted by training)")
        raw = as_margins(raw, xp, finite=False)
        task = (MULTILABEL if multilabel else MULTICLASS) \
            if raw.ndim == 2 and raw.shape[1] > 1 else BINARY
        if raw.ndim == 2 and task == BINARY:
            raw = xp.reshape(raw, (-1,))
        if task != stats.task:
            raise ValueError(f"{type(self).__name__} was fitted on {stats.task} labels; these "
                             f"margins are {task}")
        k = int(raw.shape[1]) if raw.ndim == 2 else 2
        if task != BINARY and k != stats.n_classes:
            raise ValueError(f"{type(self).__name__} was fitted on {stats.n_classes} classes; "
                             f"these margins have {k} columns")
        parts = self._parts(stats, on=True)
        dtype = raw.dtype
        bound = finite_bound(dtype)
        with np.errstate(divide="ignore", over="ignore"):
            if task == MULTICLASS:
                delta, iota = (asarray_on(parts[name], raw, xp, dtype)
                               for name in ("delta", "iota"))
                u = xp.clip(raw * delta + iota, min=-bound, max=bound)
                factors = parts["factors"]
                if factors is not None:  # classes of weight 0 are left as trained
                    log_c = np.log(np.where(factors > 0, factors, 1.0))
                    u = u - asarray_on(log_c, raw, xp, dtype)
                return _softmax(u, xp)
            names = ("d0", "d1", "b", "c0", "c1")
            d0, d1, b, c0, c1 = (asarray_on(np.asarray(parts[name], dtype=np.float64), raw, xp,
                                            dtype) for name in names)
            u0 = xp.clip(d0 * raw + b, min=-bound, max=bound)
            u1 = xp.clip(d1 * raw + b, min=-bound, max=bound)
            logit = (xp.log(c0 * d0) - xp.log(c1 * d1)
                     + _log_sigmoid(u0, xp) - _log_sigmoid(-u1, xp))
            return _sigmoid(logit, xp)


def _log_sigmoid(u: Any, xp: Any) -> Any:
    """``log sigmoid(u) = -(max(-u, 0) + log(1 + exp(-|u|)))``, finite for finite ``u``."""
    return -(xp.clip(-u, min=0) + log1p(xp.exp(-xp.abs(u)), xp))


def _sigmoid_init(pos: float, neg: float, *, d0: float, d1: float, b: float, c0: float,
                  c1: float) -> float:
    """argmin_z ``c1 pos f(d1 z + b) + c0 neg f(-(d0 z + b))``, ``f(u) = -log sigmoid(u)``."""
    a, r = c1 * pos, c0 * neg
    if a <= 0 or r <= 0:
        return sigmoid_constant(a, r)
    if d0 == d1:  # sigmoid(d z + b) = a / (a + r)
        return (math.log(a) - math.log(r) - b) / d1

    def slope(z: float) -> float:
        g1 = focal_branch(np.array([d1 * z + b]), 0.0, np, "grad_hess")[0][0]
        g0 = focal_branch(np.array([-(d0 * z + b)]), 0.0, np, "grad_hess")[0][0]
        return a * d1 * g1 - r * d0 * g0

    guess = (math.log(a) - math.log(r) - b) / math.sqrt(d0 * d1)
    return root(slope, center=guess, step=1.0 + abs(guess))


class LogitAdjustedLoss(VSLoss):
    r"""Logit-adjusted cross-entropy (Menon et al. 2021); see :func:`gbloss.logit_adjusted`."""

    _name = "logit_adjusted"

    def __init__(
        self,
        tau: float = 1.0,
        class_weight: str | Mapping | ArrayLike | None = None,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
        drw_start_round: int | None = None,
    ) -> None:
        self.tau = tau
        self.class_weight = class_weight
        self.n_classes = n_classes
        self.hessian = hessian
        self.drw_start_round = drw_start_round
        self._validate_params()

    # logit adjustment is the gamma = 0 member of the VS family (Delta = 1)
    gamma = 0.0


class BalancedSoftmaxLoss(LogitAdjustedLoss):
    r"""Balanced Softmax (Ren et al. 2020); see :func:`gbloss.balanced_softmax`."""

    _name = "balanced_softmax"

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

    # Balanced Softmax is logit adjustment with tau = 1
    tau = 1.0


_COMMON_PARAMS = r"""
    class_weight : None, "balanced", "effective", dict or array
        Per-class weights ``c`` as in :func:`gbloss.cross_entropy` (computed
        from the training counts). The references use none (VS loss: its
        ``weight``, the paper's ``omega``).
    n_classes : int, optional
    hessian : {"auto", "exact", "xgboost", "lightgbm"}
        The loss is convex and its exact Hessian diagonal positive; ``"auto"``
        floors it at ``1e-6`` times the row weight (it underflows at extreme
        margins). ``"xgboost"`` / ``"lightgbm"`` scale the multiclass diagonal
        by 2 and ``k / (k - 1)`` as those boosters' softmax objectives do.
""" + DRW_START_ROUND_DOC

_STATISTICS = r"""
    The class frequencies ``pi`` are the loss's fitted statistics
    (``loss.fit(y_train)``: the sample-weighted class counts), else those of
    the training labels; they reach every booster, Dask worker, pickle and
    :func:`sklearn.base.clone`. A class absent from them is taken to be as
    rare as the rarest present one.
"""

_PROBABILITIES = r"""
    Probabilities: the trained margins are shifted by ``tau log pi``, so
    ``loss.transform(raw)``, the plain softmax (sigmoid) of ``z``, estimates the
    *balanced* posterior, proportional to ``c_y P(y | x) / pi_y^tau`` (for
    ``tau = 1`` and no class weights the posterior under a uniform class
    prior); its argmax is the balanced-error classifier. The posterior under
    the training prior is ``softmax(z + tau log pi)`` (class weights divided
    out; exact at the loss's minimiser).
"""


@fill_doc(common=_COMMON_PARAMS, statistics=_STATISTICS, probabilities=_PROBABILITIES)
def logit_adjusted(
    tau: float = 1.0,
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> LogitAdjustedLoss:
    r"""Logit-adjusted cross-entropy (Menon et al. 2021) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = -c_t \log \operatorname{softmax}(z_i + \tau \log \pi)_t
        \quad\text{(multiclass)}, \qquad
        \ell_i = \mathrm{BCE}\big(z_i + \tau \log\tfrac{\pi_1}{\pi_0},\, y_i\big)
        \quad\text{(binary)}

    with ``pi`` the training class frequencies; multi-label rows sum the
    binary loss over their columns with ``pi_j`` the column's positive rate,
    ``z_j + tau log(pi_j / (1 - pi_j))``. Soft binary labels give the
    expectation under Bernoulli(y). Rare classes must be predicted with a
    margin larger by ``tau log(pi_max / pi_j)``; the minimiser of the loss is
    Fisher-consistent for the balanced error (``tau = 1``). ``tau = 0`` is
    :func:`gbloss.cross_entropy`; ``tau = 1`` is :func:`gbloss.balanced_softmax`.
    Derivatives: ``grad = c_t (p - e_t)``, ``hess = c_t p (1 - p)`` with
    ``p = softmax(z + tau log pi)``; the loss is convex.
    %(statistics)s
    %(probabilities)s

    Parameters
    ----------
    tau : float >= 0
        Strength of the adjustment (the paper's tau; 1 targets the balanced error).
    %(common)s

    Returns
    -------
    LogitAdjustedLoss

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit, S. Kumar,
    "Long-tail learning via logit adjustment", ICLR 2021, arXiv:2007.07314
    (code: google-research/google-research, ``logit_adjustment``).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.array([0, 0, 0, 0, 1, 2]); raw = np.zeros((6, 3))
    >>> loss = gbloss.logit_adjusted(tau=1.0).fit(y)
    >>> grad, hess = loss.gradient_hessian(y, raw)
    >>> np.round(loss.init_score(y), 6).tolist()  # (1 - tau) log pi: 0 at tau = 1
    [0.0, 0.0, 0.0]
    """
    return LogitAdjustedLoss(tau=tau, class_weight=class_weight, n_classes=n_classes,
                             hessian=hessian, drw_start_round=drw_start_round)


@fill_doc(common=_COMMON_PARAMS, statistics=_STATISTICS)
def balanced_softmax(
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> BalancedSoftmaxLoss:
    r"""Balanced Softmax (Ren et al. 2020) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = -\log \frac{n_t e^{z_{it}}}{\sum_j n_j e^{z_{ij}}}
               = -\log \operatorname{softmax}(z_i + \log \pi)_t

    :func:`gbloss.logit_adjusted` with ``tau = 1`` (one implementation), with
    its binary and multi-label forms. ``loss.transform(raw)`` is the posterior
    under a uniform class prior, ``softmax(z + log pi)`` the one under the
    training prior.
    %(statistics)s

    Parameters
    ----------
    %(common)s

    Returns
    -------
    BalancedSoftmaxLoss

    References
    ----------
    J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi, H. Li, "Balanced
    Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020,
    arXiv:2007.10740 (code: jiawei-ren/BalancedMetaSoftmax-Classification,
    ``loss/BalancedSoftmaxLoss.py``).
    """
    return BalancedSoftmaxLoss(class_weight=class_weight, n_classes=n_classes, hessian=hessian,
                               drw_start_round=drw_start_round)


@fill_doc(common=_COMMON_PARAMS, statistics=_STATISTICS)
def vs_loss(
    gamma: float = 0.2,
    tau: float = 1.0,
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> VSLoss:
    r"""Vector-scaling (VS) loss (Kini et al. 2021) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = -c_t \log \operatorname{softmax}(\Delta \odot z_i + \iota)_t,
        \qquad \Delta_j = (n_j / n_{\max})^\gamma, \quad \iota_j = \tau \log \pi_j

    (multiclass): a multiplicative per-class scaling of the margins (rare
    classes get ``Delta_j < 1``) combined with the additive logit adjustment.
    Binary rows use the paper's binary VS loss
    ``omega_y log(1 + exp(iota_y - Delta_y y z))`` (``y = +-1``) with
    ``Delta_y = (n_y / max(n_0, n_1))^gamma``, ``omega = c`` and
    ``iota_{+1} = -iota_{-1} = -tau log(pi_1 / pi_0)``, i.e.
    ``BCE(Delta_y z + tau log(pi_1 / pi_0), y)``, with ``Delta_y`` that of the
    row's label (soft labels: the expectation under Bernoulli(y)); ``gamma = 0``
    is the binary logit-adjusted loss. Multi-label rows sum the binary form over
    their columns, each column with its own counts.

    Derivatives (multiclass): ``grad_j = c_t Delta_j (p_j - [j = t])`` and the
    Hessian diagonal ``c_t Delta_j^2 p_j (1 - p_j)`` with
    ``p = softmax(Delta z + iota)``, the diagonal of ``diag(Delta) H diag(Delta)``:
    the loss is convex, the diagonal positive (gbloss gives the boosters the
    diagonal, as for every softmax loss). ``gamma = 0`` is
    :func:`gbloss.logit_adjusted`.
    %(statistics)s

    The minimiser is consistent: ``softmax(Delta z + iota)`` estimates the
    training-prior posterior exactly at it (binary:
    see :meth:`VSLoss._posterior`); ``loss.transform(raw)`` (the softmax of
    ``z``) is not a calibrated probability for ``gamma > 0``, its argmax the
    balanced classifier the loss aims at.

    Parameters
    ----------
    gamma : float >= 0
        Exponent of the multiplicative adjustment (the reference's default 0.3 for
        CIFAR; the paper's runs use 0.05 to 0.5; gbloss defaults to 0.2).
    tau : float >= 0
        Strength of the additive adjustment.
    %(common)s

    Returns
    -------
    VSLoss

    Notes
    -----
    The reference code (orparask/VS-Loss, ``class_imbalance/losses.py``)
    builds ``x / Delta'`` with ``Delta' = (n_max / n_j)^gamma``, i.e. the
    ``Delta`` here; its ``BinaryVSLoss`` takes hand-set ``iota`` and ``Delta``
    and multiplies the adjusted logit by 30 (for normalised features), which
    boosting margins do not need.

    References
    ----------
    G. R. Kini, O. Paraskevas, S. Oymak, C. Thrampoulidis, "Label-Imbalanced
    and Group-Sensitive Classification under Overparameterization",
    NeurIPS 2021, arXiv:2103.01550 (code: github.com/orparask/VS-Loss).
    """
    return VSLoss(gamma=gamma, tau=tau, class_weight=class_weight, n_classes=n_classes,
                  hessian=hessian, drw_start_round=drw_start_round)
