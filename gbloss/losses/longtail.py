"""Long-tail objectives: LDAM (Cao et al. 2019) and LMF (Sadi et al. 2022).

LDAM subtracts a per-class margin ``m_j = max_margin (n_min / n_j)^(1/4)`` from
the true class's margin and applies cross-entropy to ``scale`` times the
margins; LMF adds focal loss on the plain margins. The math is that of
:mod:`gbloss.losses.focal`: :func:`softmax_focal` (multiclass) and
:func:`focal_branch` (binary, sigmoid link) evaluated at shifted and scaled
margins, with the chain rule applied here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypedDict

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
from .._core.labels import BINARY, MULTICLASS, Labels
from .._core.namespace import arange_like, asarray_on, to_numpy
from .._core.special import finite_bound
from .._objective.binding import CallContext
from ._contract import Loss
from ._docs import fill_doc
from ._drw import DRW_START_ROUND_DOC, DRWMixin
from ._init import sigmoid_constant, softmax_constant
from ._weights import ClassCounts, resolve_class_weight
from .focal import (
    _check_alpha,
    _check_class_weight,
    _sigmoid_factors,
    _softmax_factors,
    focal_branch,
    softmax_focal,
)

__all__ = ["LDAMLoss", "LMFLoss", "check_class_counts", "ldam", "ldam_margins", "lmf",
           "lmf_sigmoid_kernel", "lmf_softmax_kernel"]

#: Default ``scale`` for boosting, chosen by measurement (benchmarks/results/longtail.md):
#: the paper's 30 is meant for cosine-normalised network logits in [-1, 1].
DEFAULT_SCALE = 1.0


# ----------------------------------------------------------------------------- math
def ldam_margins(counts: NDArray, max_margin: float) -> NDArray:
    r"""Per-class LDAM margins ``m_j = max_margin (n_min / n_j)^(1/4)``.

    ``n_min`` is the smallest positive count. A class with count 0 (absent
    from the training labels) is at least as rare as the rarest one and gets
    ``max_margin``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    if not np.any(present):
        return np.full(counts.shape, float(max_margin))
    n_min = np.min(counts[present])
    ratio = np.where(present, n_min / np.where(present, counts, 1.0), 1.0)
    return float(max_margin) * ratio ** 0.25


def lmf_softmax_kernel(
    t: Any, w: Any, z: Any, xp: Any, *, gamma: float, focal_weight: float,
    ldam_weight: float, focal_factors: Any, ldam_factors: Any, margins: Any, scale: float,
    mode: str, hessian: str, hscale: float,
) -> tuple[Any, ...]:
    r"""Multiclass LMF of each row: ``a c^F_t FL_gamma(z) + b c^L_t CE(s (z - m_t e_t))``.

    Derivatives of the LDAM term by the chain rule: ``s * grad`` and
    ``s^2 * hess`` of the cross-entropy at the shifted, scaled margins.
    """
    ti = xp.astype(t, xp.int64)
    parts = []  # (coefficient per row or scalar, outputs)
    if focal_weight != 0:
        out = softmax_focal(t, z, gamma, xp, mode)
        c = focal_weight if focal_factors is None else focal_weight * xp.take(focal_factors, ti)
        parts.append((c, out, 1.0))
    if ldam_weight != 0:
        k = z.shape[-1]
        onehot = xp.astype(xp.reshape(t, (-1, 1)) == xp.reshape(arange_like(k, t, xp), (1, -1)),
                           z.dtype)
        shift = onehot * xp.reshape(xp.take(margins, ti), (-1, 1))
        bound = finite_bound(z.dtype)  # scale * z overflows near the float maximum
        out = softmax_focal(t, xp.clip(scale * (z - shift), min=-bound, max=bound), 0.0, xp, mode)
        c = ldam_weight if ldam_factors is None else ldam_weight * xp.take(ldam_factors, ti)
        parts.append((c, out, scale))
    if mode == "value":
        value = None
        for c, (v,), _ in parts:
            value = c * v if value is None else value + c * v
        return (value,)
    grad = hess = sur = None
    weight = 0.0
    for c, (g, h, s), chain in parts:
        cc = xp.reshape(c, (-1, 1)) if not isinstance(c, float) else c
        g, h, s = cc * chain * g, cc * (chain * chain) * h, cc * (chain * chain) * s
        grad = g if grad is None else grad + g
        hess = h if hess is None else hess + h
        sur = s if sur is None else sur + s
        weight = weight + cc
    if w is not None:
        wc = xp.reshape(w, (-1, 1))
        grad, hess, sur, weight = grad * wc, hess * wc, sur * wc, weight * wc
    weight = weight * xp.ones_like(z)
    return grad, apply_hessian_policy(hess, sur, weight, hessian, xp, scale=hscale)


def lmf_sigmoid_kernel(
    y: Any, w: Any, z: Any, xp: Any, *, gamma: float, focal_weight: float, ldam_weight: float,
    c0f: Any, c1f: Any, c0l: Any, c1l: Any, m0: float, m1: float, scale: float, mode: str,
    hessian: str,
) -> tuple[Any, ...]:
    r"""Binary LMF under a sigmoid link (soft labels: the expectation under Bernoulli(y)).

    The two-class LDAM with margins ``(0, z)`` is
    ``y CE(s (z - m_1)) + (1 - y) CE(s (-z - m_0))`` with
    ``CE(u) = -log sigmoid(u)``; the focal term is
    ``c_1 y f(z) + c_0 (1 - y) f(-z)`` as in :func:`gbloss.focal`.
    """
    # (coefficient, argument u, du/dz, gamma) of each branch f_gamma(u)
    branches = []
    if focal_weight != 0:
        branches += [(focal_weight * c1f * y, z, 1.0, gamma),
                     (focal_weight * c0f * (1 - y), -z, -1.0, gamma)]
    if ldam_weight != 0:
        bound = finite_bound(z.dtype)  # scale * z overflows near the float maximum
        branches += [(ldam_weight * c1l * y, xp.clip(scale * (z - m1), min=-bound, max=bound),
                      scale, 0.0),
                     (ldam_weight * c0l * (1 - y), xp.clip(scale * (-z - m0), min=-bound,
                                                           max=bound), -scale, 0.0)]
    if mode == "value":
        value = None
        for c, u, _, g in branches:
            (f,) = focal_branch(u, g, xp, "value")
            value = c * f if value is None else value + c * f
        return (value,)
    grad = hess = sur = None
    weight = 0.0
    for c, u, du, g in branches:
        d1, d2, s = focal_branch(u, g, xp, "grad_hess")
        gi, hi, si = c * du * d1, c * (du * du) * d2, c * (du * du) * s
        grad = gi if grad is None else grad + gi
        hess = hi if hess is None else hess + hi
        sur = si if sur is None else sur + si
        weight = weight + c
    if w is not None:
        grad, hess, sur, weight = grad * w, hess * w, sur * w, weight * w
    return grad, apply_hessian_policy(hess, sur, weight, hessian, xp)


# ------------------------------------------------------------------------- losses
class _Shared(TypedDict):
    """Keyword arguments of both LMF kernels that come from the parameters."""

    gamma: float
    focal_weight: float
    ldam_weight: float
    scale: float
    hessian: str


class _SoftmaxParts(TypedDict):
    """Per-class arrays of :func:`lmf_softmax_kernel` (numpy float64, or None: all 1)."""

    focal_factors: NDArray | None
    ldam_factors: NDArray | None
    margins: NDArray


class _SigmoidParts(TypedDict):
    """Per-class scalars of :func:`lmf_sigmoid_kernel`."""

    c0f: float
    c1f: float
    c0l: float
    c1l: float
    m0: float
    m1: float


def check_class_counts(class_counts: Any) -> None:
    if class_counts is None:
        return
    c = as_float_array("class_counts", class_counts)
    if c.ndim != 1 or c.size < 2 or not np.all(np.isfinite(c)):
        raise ValueError("class_counts must be a 1-D array of finite counts, one per class "
                         f"(at least 2), got {class_counts!r}")
    empty = np.flatnonzero(c <= 0)
    if empty.size:
        raise ValueError(f"class_counts must be positive: class {int(empty[0])} has "
                         f"{c[empty[0]]!r} samples (LDAM's margin n_j^(-1/4) is infinite for an "
                         "empty class)")


class LMFLoss(DRWMixin, Loss):
    r"""Large-Margin-aware Focal loss: ``focal_weight * focal + ldam_weight * LDAM``.

    See :func:`gbloss.lmf`; :class:`LDAMLoss` is its ``focal_weight=0`` member.
    """

    _name = "lmf"
    _tasks = (BINARY, MULTICLASS)
    link = "logit"

    def __init__(
        self,
        focal_weight: float = 1.0,
        ldam_weight: float = 1.0,
        gamma: float = 2.0,
        alpha: float | ArrayLike | None = None,
        max_margin: float = 0.5,
        scale: float = DEFAULT_SCALE,
        class_counts: ArrayLike | None = None,
        class_weight: str | Mapping | ArrayLike | None = None,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
        drw_start_round: int | None = None,
    ) -> None:
        self.focal_weight = focal_weight
        self.ldam_weight = ldam_weight
        self.gamma = gamma
        self.alpha = alpha
        self.max_margin = max_margin
        self.scale = scale
        self.class_counts = class_counts
        self.class_weight = class_weight
        self.n_classes = n_classes
        self.hessian = hessian
        self.drw_start_round = drw_start_round
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("focal_weight", self.focal_weight, low=0.0)
        check_finite_scalar("ldam_weight", self.ldam_weight, low=0.0)
        if self.focal_weight == 0 and self.ldam_weight == 0:
            raise ValueError("focal_weight and ldam_weight are both 0: the loss would be 0")
        check_finite_scalar("gamma", self.gamma, low=0.0)
        _check_alpha(self.alpha)
        check_finite_scalar("max_margin", self.max_margin, low=0.0)
        check_finite_scalar("scale", self.scale, low=0.0, low_inclusive=False)
        check_class_counts(self.class_counts)
        _check_class_weight(self.class_weight)
        check_n_classes(self.n_classes)
        if self.class_counts is not None and self.n_classes is not None:
            n_counts = np.size(self.class_counts)  # 1-D: checked above
            if n_counts != self.n_classes:
                raise ValueError(f"class_counts has {n_counts} entries but "
                                 f"n_classes={self.n_classes}")
        check_hessian_option(self.hessian)
        self._check_drw()

    # ---- statistics: the class counts; margins and class weights follow from them
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> ClassCounts:
        return ClassCounts.of(labels, w)

    def _uses_statistics(self) -> bool:
        return self.class_counts is None or self._weights_from_counts()

    def _fit_stats_across(self, labels: Labels, w: Any, xp: Any, workers: Workers
                          ) -> ClassCounts:
        return ClassCounts.of(labels, w).summed(workers)

    def _counts(self, stats: ClassCounts) -> NDArray:
        """``class_counts`` when given, else the (fitted or training) counts."""
        if self.class_counts is None:
            return stats.counts
        k = stats.counts.shape[0]
        counts = np.asarray(self.class_counts, dtype=np.float64)
        if counts.shape != (k,):
            raise ValueError(f"class_counts has {counts.size} entries but the data have "
                             f"{k} classes")
        return counts

    def _class_weight_and_margins(self, labels: Labels, stats: ClassCounts,
                                  on: bool) -> tuple[NDArray | None, NDArray]:
        """The resolved class weights (None: none) and the LDAM margins (float64)."""
        counts = self._counts(stats)
        class_weight = self.class_weight
        if class_weight is None and self.drw_start_round is not None:
            class_weight = "effective"  # deferred re-weighting switches these on
        cw = None
        if class_weight is not None and on:
            cw = resolve_class_weight(class_weight, labels.task, labels.n_classes,
                                      counts if isinstance(class_weight, str) else None)
        return cw, ldam_margins(counts, float(self.max_margin))

    def _softmax_parts(self, labels: Labels, stats: ClassCounts, on: bool) -> _SoftmaxParts:
        """Multiclass per-class factors and margins as numpy arrays (float64)."""
        cw, margins = self._class_weight_and_margins(labels, stats, on)
        focal = _softmax_factors(self.alpha, labels.n_classes, cw)  # as in focal
        return {"focal_factors": focal, "ldam_factors": cw, "margins": margins}

    def _sigmoid_parts(self, labels: Labels, stats: ClassCounts, on: bool) -> _SigmoidParts:
        """Binary per-class factors and margins as floats."""
        cw, margins = self._class_weight_and_margins(labels, stats, on)
        c0f, c1f = _sigmoid_factors(self.alpha, labels, cw)  # alpha x class weight, as in focal
        c0l, c1l = (1.0, 1.0) if cw is None else (float(cw[0]), float(cw[1]))
        return {"c0f": float(c0f), "c1f": float(c1f), "c0l": c0l, "c1l": c1l,
                "m0": float(margins[0]), "m1": float(margins[1])}

    def _shared(self, hessian: str) -> _Shared:
        return {"gamma": float(self.gamma), "focal_weight": float(self.focal_weight),
                "ldam_weight": float(self.ldam_weight), "scale": float(self.scale),
                "hessian": hessian}

    def _kernel(self, labels: Labels, stats: ClassCounts, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        on = self._drw_weights_on(context)
        common = self._shared(self.hessian)
        if labels.task == MULTICLASS:
            parts = self._softmax_parts(labels, stats, on)

            def on_device(a: NDArray | None) -> Any:
                return None if a is None else asarray_on(a, labels.y, xp, dtype)

            return functools.partial(lmf_softmax_kernel, **common, mode=mode,
                                     focal_factors=on_device(parts["focal_factors"]),
                                     ldam_factors=on_device(parts["ldam_factors"]),
                                     margins=on_device(parts["margins"]),
                                     hscale=booster_scale(self.hessian, labels.n_classes))
        return functools.partial(lmf_sigmoid_kernel, **common, mode=mode,
                                 **self._sigmoid_parts(labels, stats, on))

    # ---- probabilities: the posterior at which the margin is stationary
    def _posterior(self, raw: Any, stats: Any, multilabel: bool, xp: Any) -> Any:
        r"""The posterior ``eta`` for which ``z`` minimises the expected loss (exact).

        LDAM's margins and LMF's mix of focal and LDAM terms have no
        closed-form inverse, but the expected loss ``sum_t eta_t l(t, z)`` is
        linear in ``eta``: ``z`` is its minimiser when
        ``sum_t eta_t dl(t, z)/dz = 0``. Binary: ``eta = g_0 / (g_0 - g_1)``
        with ``g_y = dl(y, z)/dz``; multiclass: the stationary distribution of
        the generator ``G[t, j] = dl(t, z)/dz_j`` (GTH algorithm). At test time
        no margin is subtracted: the margins only moved the minimiser, and
        this undoes the move. Class weights are those of the last round (DRW).
        """
        binary = raw.ndim == 1
        k = 2 if binary else int(raw.shape[1])
        task = BINARY if binary else MULTICLASS
        if stats is None and self.class_counts is not None:  # the margins' counts are given
            counts = np.asarray(self.class_counts, dtype=np.float64)
            if counts.shape != (k,):
                raise ValueError(f"class_counts has {counts.size} entries but raw_prediction "
                                 f"has {k} classes")
            stats = ClassCounts(task, 1 if binary else k, counts)
        stats = self._require_statistics(stats, "its margins (n_j^(-1/4))")
        # the last round's class weights
        return self._stationary_posterior(raw, stats, False, xp,
                                          CallContext(round=self.drw_start_round))

    # ---- init score: the constant margin that minimises the loss (at round 0)
    def _init_constant(self, labels: Labels, w: Any, stats: ClassCounts) -> NDArray:
        on = self.drw_start_round is None
        y = to_numpy(labels.y).astype(np.float64)
        w = None if w is None else to_numpy(w).astype(np.float64)
        common = self._shared("exact")
        if labels.task == BINARY:
            sig_parts = self._sigmoid_parts(labels, stats, on)
            ww = np.ones_like(y) if w is None else w
            pos, neg = float(np.sum(ww * y)), float(np.sum(ww * (1 - y)))
            rows, weights = np.array([1.0, 0.0]), np.array([pos, neg])

            def slope(z: float) -> float:
                g, _ = lmf_sigmoid_kernel(rows, weights, np.full(2, z), np, mode="grad_hess",
                                          **common, **sig_parts)
                return float(np.sum(g))

            return np.asarray(sigmoid_constant(pos, neg, slope))
        parts = self._softmax_parts(labels, stats, on)
        counts = np.bincount(y.astype(np.intp), weights=w, minlength=labels.n_classes)

        def subset(a: NDArray | None, idx: NDArray) -> NDArray | None:
            return None if a is None else np.asarray(a, dtype=np.float64)[idx]

        def objective(idx: NDArray) -> Any:
            sub: _SoftmaxParts = {
                "focal_factors": subset(parts["focal_factors"], idx),
                "ldam_factors": subset(parts["ldam_factors"], idx),
                "margins": np.asarray(parts["margins"], dtype=np.float64)[idx]}
            rows = np.arange(idx.size, dtype=np.int32)
            weights = counts[idx]

            def fun(c: NDArray) -> tuple[float, NDArray]:
                zz = np.broadcast_to(c, (idx.size, idx.size))
                with np.errstate(all="ignore"):
                    (val,) = lmf_softmax_kernel(rows, None, zz, np, mode="value", hscale=1.0,
                                                **common, **sub)
                    g, _ = lmf_softmax_kernel(rows, weights, zz, np, mode="grad_hess",
                                              hscale=1.0, **common, **sub)
                return float(weights @ val), np.sum(g, axis=0)

            return fun

        return softmax_constant(counts, objective)


class LDAMLoss(LMFLoss):
    r"""Label-distribution-aware margin loss (Cao et al. 2019); see :func:`gbloss.ldam`."""

    _name = "ldam"

    def __init__(
        self,
        max_margin: float = 0.5,
        scale: float = DEFAULT_SCALE,
        class_counts: ArrayLike | None = None,
        class_weight: str | Mapping | ArrayLike | None = None,
        n_classes: int | None = None,
        hessian: HessianPolicy = "auto",
        drw_start_round: int | None = None,
    ) -> None:
        self.max_margin = max_margin
        self.scale = scale
        self.class_counts = class_counts
        self.class_weight = class_weight
        self.n_classes = n_classes
        self.hessian = hessian
        self.drw_start_round = drw_start_round
        self._validate_params()

    # LDAM is the focal_weight = 0 member of the LMF family
    focal_weight = 0.0
    ldam_weight = 1.0
    gamma = 0.0
    alpha = None


_LONGTAIL_PARAMS = r"""
    max_margin : float >= 0
        Margin of the rarest class, ``C`` in ``m_j = C (n_min / n_j)^(1/4)``,
        in units of the raw margin ``z`` (it is subtracted before scaling).
    scale : float > 0
        Multiplies the shifted margins inside the LDAM cross-entropy. Cao et
        al. use 30 for cosine-normalised network logits in [-1, 1]; boosting
        margins are not normalised. LDAM's gradient is ``scale`` times, its
        Hessian ``scale**2`` times that of cross-entropy at the scaled
        margins, so each Newton step shrinks by ``1 / scale``. gbloss defaults
        to ``scale=1``: scales 0.5 to 2 were within noise of each other on two
        long-tailed sets and both boosters, and 30 was worse on all four
        (by 0.02 to 0.55 macro-F1 at the same learning rate;
        ``benchmarks/results/longtail.md``).
    class_counts : array of shape (k,), optional
        Per-class sample counts for the margins (and for ``"balanced"`` /
        ``"effective"`` class weights), ``[n_0, n_1]`` for binary data. Every
        count must be positive. Default: the (sample-weighted) counts of the
        training labels; a class absent from them gets ``max_margin``.
    class_weight : None, "balanced", "effective", dict or array
        Per-class weights as in :func:`gbloss.cross_entropy`.
    n_classes : int, optional
    hessian : {"auto", "exact", "xgboost", "lightgbm"}
        As in :func:`gbloss.focal`.
""" + DRW_START_ROUND_DOC


@fill_doc(longtail_params=_LONGTAIL_PARAMS)
def ldam(
    max_margin: float = 0.5,
    scale: float = DEFAULT_SCALE,
    class_counts: ArrayLike | None = None,
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> LDAMLoss:
    r"""LDAM loss (label-distribution-aware margin) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = -c_{t}\,\log \operatorname{softmax}\big(s\,(z_i - m_{t} e_{t})\big)_{t},
        \qquad m_j = C\,(n_{\min} / n_j)^{1/4}

    for multiclass rows with label ``t``: the true class's margin is lowered by
    its class margin, so rare classes must be predicted with a larger margin.
    Binary rows (sigmoid link) use the two-class form with margins ``(0, z)``:
    ``-log sigmoid(s (z - m_1))`` for positives and ``-log sigmoid(-s (z + m_0))``
    for negatives. Derivatives: ``grad = s c_t (q - e_t)``,
    ``hess = s^2 c_t q (1 - q)`` with ``q = softmax(s (z - m_t e_t))``; the loss
    is convex. ``max_margin=0, scale=1`` is cross-entropy.

    Parameters
    ----------
    %(longtail_params)s

    Returns
    -------
    LDAMLoss

    References
    ----------
    K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss", NeurIPS 2019,
    arXiv:1906.07413 (code: github.com/kaidic/LDAM-DRW).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> loss = gbloss.ldam(max_margin=0.5)
    >>> y = np.array([0, 0, 0, 1, 2]); raw = np.zeros((5, 3))
    >>> grad, hess = loss.gradient_hessian(y, raw)
    >>> grad.shape
    (5, 3)
    """
    return LDAMLoss(max_margin=max_margin, scale=scale, class_counts=class_counts,
                    class_weight=class_weight, n_classes=n_classes, hessian=hessian,
                    drw_start_round=drw_start_round)


@fill_doc(longtail_params=_LONGTAIL_PARAMS)
def lmf(
    focal_weight: float = 1.0,
    ldam_weight: float = 1.0,
    gamma: float = 2.0,
    alpha: float | ArrayLike | None = None,
    max_margin: float = 0.5,
    scale: float = DEFAULT_SCALE,
    class_counts: ArrayLike | None = None,
    class_weight: str | Mapping | ArrayLike | None = None,
    n_classes: int | None = None,
    hessian: HessianPolicy = "auto",
    drw_start_round: int | None = None,
) -> LMFLoss:
    r"""LMF loss (Large-Margin-aware Focal) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = a\,\alpha_t c_t\,(1 - p_t)^\gamma (-\log p_t)
               + b\,c_t\,\mathrm{LDAM}_i

    per row, with ``a = focal_weight``, ``b = ldam_weight`` (the paper's
    alpha and beta), ``p = softmax(z)`` (binary: ``sigmoid``) and LDAM as in
    :func:`ldam`. ``alpha`` applies to the focal term only (as in the
    published code), ``class_weight`` to both. ``ldam_weight=0`` is
    :func:`gbloss.focal`, ``focal_weight=0`` is :func:`gbloss.ldam`.

    Differences from the published code (SanaNazari/LMFLoss): its focal term
    applies ``(1 - p)^gamma`` to the batch-mean cross-entropy (one factor per
    batch); gbloss applies it per row, as focal loss is defined. gbloss runs
    on any device and takes no CUDA tensor types.

    Parameters
    ----------
    focal_weight, ldam_weight : float >= 0
        Weights of the two terms (not both 0).
    gamma : float >= 0
        Focal focusing parameter.
    alpha : None, float or array
        Focal alpha as in :func:`gbloss.focal`.
    %(longtail_params)s

    Returns
    -------
    LMFLoss

    References
    ----------
    A. A. Sadi, L. Chowdhury, N. Jahan, M. N. S. Rafi, R. Chowdhury, F. A.
    Khan, N. Mohammed, "LMFLOSS: A Hybrid Loss For Imbalanced Medical Image
    Classification", arXiv:2212.12741. T.-Y. Lin et al., "Focal Loss for Dense
    Object Detection", ICCV 2017. K. Cao et al., NeurIPS 2019.
    """
    return LMFLoss(focal_weight=focal_weight, ldam_weight=ldam_weight, gamma=gamma, alpha=alpha,
                   max_margin=max_margin, scale=scale, class_counts=class_counts,
                   class_weight=class_weight, n_classes=n_classes, hessian=hessian,
                   drw_start_round=drw_start_round)
