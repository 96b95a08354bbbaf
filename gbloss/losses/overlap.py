"""Overlap losses for per-item (per-pixel) data: soft Dice, (focal) Tversky and PointWise
Exponential Loss.

Both are ratios of sums over many rows, so a row's gradient depends on the
whole training set, or on its group (one image = one group, given as XGBoost
``qid`` / ``group`` or LightGBM ``group``). The loss is the mean over groups
and the gradients are exact for that definition. Sums run in float64
whatever the input dtype.

Sum convention: as for every gbloss loss, ``grad`` and ``hess`` are the
derivatives of ``S * L`` with ``S = sum_i w_i``, so that a row's gradient has
the size of a row-separable loss's and ``learning_rate`` keeps its meaning.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import check_finite_scalar
from .._core.groups import Segments, group_pointer
from .._core.hessian import HESSIAN_FLOOR, check_hessian_option
from .._core.labels import BINARY, Labels
from .._core.namespace import to_numpy
from .._core.special import log_sigmoid_pair, sigmoid_pair
from .._objective.binding import CallContext
from ._contract import Loss
from ._docs import fill_doc
from ._init import sigmoid_constant

__all__ = ["DiceLoss", "PELoss", "TverskyLoss", "dice", "dice_kernel", "pel", "pel_kernel",
           "tversky", "tversky_kernel"]

OverlapHessian = Literal["auto", "exact"]
HESSIAN_OPTIONS: tuple[OverlapHessian, ...] = ("auto", "exact")
Surrogate = Literal["abs_grad", "logistic"]
#: Surrogate curvatures compared in benchmarks/results/segmentation.md (each loss's
#: ``_surrogate`` names the one its ``hessian="auto"`` uses where the exact diagonal is
#: below HESSIAN_FLOOR times the row weight):
#: ``"abs_grad"``: ``|grad_i|`` (per channel); ``"logistic"``: ``m_g w_i p_i (1 - p_i)``
#: with ``m_g`` the group's mean of ``|k dL/dp_i|`` per unit weight.
SURROGATES: tuple[Surrogate, ...] = ("abs_grad", "logistic")


# ----------------------------------------------------------------------------- math
def _finish(grad: Any, exact: Any, abs_grad: Any, pq_w: Any, floor_w: Any, hessian: str,
            surrogate: str, xp: Any) -> tuple[Any, Any]:
    """Apply the Hessian policy of the overlap losses.

    ``"auto"``: the exact diagonal where it is at least ``HESSIAN_FLOOR`` times
    the row weight, else the surrogate (floored at that value). The kernels
    also take ``"surrogate"``, the surrogate on every row, which the Hessian
    study of ``examples/segmentation_demo.py`` compares; the losses offer
    ``"auto"`` and ``"exact"``.
    """
    if hessian == "exact":
        return grad, exact
    # "logistic": the logistic curvature scaled by the group's mean gradient size
    sur = abs_grad if surrogate == "abs_grad" else pq_w
    floor = HESSIAN_FLOOR * floor_w
    if hessian == "surrogate":  # measurement only: the surrogate on every row
        return grad, xp.maximum(sur, floor)
    return grad, xp.where(exact >= floor, exact, xp.maximum(sur, floor))


def _as_float64(y: Any, w: Any, z: Any, xp: Any) -> tuple[Any, Any, Any]:
    """Labels, weights (ones when absent) and margins in float64: the kernels divide rows by
    group sums that can be denormal (all margins very negative), which float32 cannot hold."""
    z = xp.astype(z, xp.float64)
    w = xp.ones_like(z) if w is None else xp.astype(w, xp.float64)
    return xp.astype(y, xp.float64), w, z


def dice_kernel(y: Any, w: Any, z: Any, xp: Any, *, smooth: float, seg: Segments, mode: str,
                hessian: str, surrogate: str = "logistic") -> tuple[Any, ...]:
    r"""Soft Dice loss of groups under a sigmoid link, and its derivatives.

    Per group ``g``, with ``p = sigmoid(z)``:

    .. math::

        D_g = 1 - \frac{2 I + s}{P + Y + s}, \quad I = \sum w p y,\ P = \sum w p,\
        Y = \sum w y

        \frac{\partial D}{\partial p_i} = \frac{w_i}{T} \Big(\frac{N}{T} - 2 y_i\Big),
        \qquad
        \frac{\partial^2 D}{\partial p_i^2} = -\frac{2 w_i}{T} \frac{\partial D}{\partial p_i}

    with ``N = 2I + s`` and ``T = P + Y + s``; ``dp/dz = p q`` and
    ``d2p/dz2 = p q (q - p)``. ``L = mean_g D_g``; ``grad`` and ``hess`` are of
    ``S L`` (``S = sum w``). Computed in float64 (outputs in ``z``'s dtype).
    ``mode="value"`` returns ``(L,)`` (0-d, float64).
    """
    dtype = z.dtype
    y, wv, z = _as_float64(y, w, z, xp)
    p, q, _, _ = sigmoid_pair(z, xp)
    wp = wv * p
    big_i, big_p, big_y = seg.sum(wp * y), seg.sum(wp), seg.sum(wv * y)
    num = 2 * big_i + smooth
    den = big_p + big_y + smooth
    safe = den > 0
    den_s = xp.where(safe, den, 1.0)
    ratio = xp.where(safe, num / den_s, 0.0)
    if mode == "value":
        return (seg.mean(1 - ratio),)
    k = seg.total(wv) / seg.n_groups  # the derivatives are of S * mean_g D_g
    den_r = seg.rows(den_s, xp.float64)
    a = k * wv * (seg.rows(ratio, xp.float64) - 2 * y) / den_r  # k dD/dp_i
    pq = p * q
    grad = a * pq
    exact = -2 * (wv * a / den_r) * pq * pq + grad * (q - p)
    weights = seg.sum(wv)
    per_weight = k / xp.where(weights > 0, weights, 1.0)
    mean_abs = seg.rows(seg.sum(xp.abs(a)) / xp.where(weights > 0, weights, 1.0), xp.float64)
    floor_w = wv * seg.rows(per_weight, xp.float64)
    grad, hess = _finish(grad, exact, xp.abs(grad), mean_abs * wv * pq, floor_w, hessian,
                         surrogate, xp)
    return xp.astype(grad, dtype), xp.astype(hess, dtype)


#: ``1 - TI`` below this is taken as this in the ratios of :func:`tversky_kernel` (never in
#: the value): keeps ``r^(gamma - 2)``-sized intermediates finite for ``gamma < 1``.
_R_TINY = 1e-300


def tversky_kernel(y: Any, w: Any, z: Any, xp: Any, *, alpha: float, beta: float, gamma: float,
                   smooth: float, seg: Segments, mode: str, hessian: str,
                   surrogate: str = "logistic") -> tuple[Any, ...]:
    r"""Focal Tversky loss of groups under a sigmoid link, and its derivatives.

    Per group ``g``, with ``p = sigmoid(z)``, ``TP = sum w p y``,
    ``FP = sum w p (1 - y)``, ``FN = sum w (1 - p) y`` and ``s = smooth``:

    .. math::

        F_g = r^\gamma, \qquad r = 1 - TI = \frac{\alpha FP + \beta FN}{D},
        \qquad D = TP + \alpha FP + \beta FN + s

        \frac{\partial TI}{\partial p_i} = t_i = \frac{w_i}{D}(y_i - TI\, a_i), \quad
        a_i = (1 - \beta) y_i + \alpha (1 - y_i), \qquad
        \frac{\partial^2 TI}{\partial p_i^2} = -\frac{2 w_i a_i}{D} t_i

    With ``G_i = t_i p_i q_i / r`` (bounded: ``r`` is at least each row's share
    ``alpha w_i p_i (1 - y_i) / D``, ``beta w_i q_i y_i / D``) the derivatives are

    .. math::

        \frac{\partial F}{\partial z_i} = -\gamma r^\gamma G_i, \qquad
        \frac{\partial^2 F}{\partial z_i^2} = \gamma r^\gamma
            \Big[(\gamma - 1) G_i^2 - G_i \Big(q_i - p_i - \frac{2 w_i a_i p_i q_i}{D}\Big)\Big]

    so every output is finite for every finite margin and every ``gamma > 0``,
    also where ``r`` underflows (``r`` is floored at 1e-300 in the ratios only).
    ``r`` is formed from ``alpha FP + beta FN`` directly, never as ``1 - TI``. A
    group with ``D = 0`` (``smooth = 0``, no positives and every ``p`` 0)
    scores 1. ``L = mean_g F_g``; ``grad`` and ``hess`` are of ``S L``
    (``S = sum w``). Computed in float64 (outputs in ``z``'s dtype).
    ``mode="value"`` returns ``(L,)`` (0-d, float64). With ``alpha = beta = 1/2``
    and ``gamma = 1`` this is :func:`dice_kernel` with ``smooth = 2 s``.
    """
    dtype = z.dtype
    y, wv, z = _as_float64(y, w, z, xp)
    p, q, _, _ = sigmoid_pair(z, xp)
    wp = wv * p
    tp, fp, fn = seg.sum(wp * y), seg.sum(wp * (1 - y)), seg.sum(wv * q * y)
    miss = alpha * fp + beta * fn
    den = tp + smooth + miss
    safe = den > 0
    den_s = xp.where(safe, den, 1.0)
    r = xp.where(safe, miss / den_s, 1.0)  # 1 - TI
    r_gamma = r if gamma == 1 else r ** gamma
    if mode == "value":
        return (seg.mean(r_gamma),)
    k = seg.total(wv) / seg.n_groups  # the derivatives are of S * mean_g F_g
    den_r = seg.rows(den_s, xp.float64)
    r_row = seg.rows(r, xp.float64)
    a = (1 - beta) * y + alpha * (1 - y)
    t = wv * (y - (1 - r_row) * a) / den_r  # dTI/dp_i
    pq = p * q
    ratio = t * pq / xp.clip(r_row, min=_R_TINY)  # G_i
    scale = k * gamma * seg.rows(r_gamma, xp.float64)  # k gamma r^gamma
    grad = -scale * ratio
    exact = scale * ((gamma - 1) * ratio * ratio - ratio * (q - p - 2 * wv * a * pq / den_r))
    weights = seg.sum(wv)
    per_weight = k / xp.where(weights > 0, weights, 1.0)
    # |k dF/dp_i| = k gamma r^gamma |t_i| / r: its group mean per unit weight
    abs_dp = scale * xp.abs(t) / xp.clip(r_row, min=_R_TINY)
    mean_abs = seg.rows(seg.sum(abs_dp) / xp.where(weights > 0, weights, 1.0), xp.float64)
    floor_w = wv * seg.rows(per_weight, xp.float64)
    grad, hess = _finish(grad, exact, xp.abs(grad), mean_abs * wv * pq, floor_w, hessian,
                         surrogate, xp)
    return xp.astype(grad, dtype), xp.astype(hess, dtype)


def pel_kernel(y: Any, w: Any, z: Any, xp: Any, *, alpha: float, power: float, seg: Segments,
               mode: str, hessian: str, surrogate: str = "abs_grad") -> tuple[Any, ...]:
    r"""PointWise Exponential Loss of groups under a sigmoid link, and its derivatives.

    Per group and channel ``(r, t)`` -- foreground ``(p, y)`` and background
    ``(1 - p, 1 - y)`` -- with ``A = alpha sum w (r t)^beta`` and
    ``U = sum w r + sum w t``:

    .. math::

        E = 1 - A / U, \qquad
        \frac{\partial E}{\partial r_i} = -\frac{\alpha\beta w_i r_i^{\beta-1} t_i^\beta}{U}
            + \frac{A w_i}{U^2}

        \frac{\partial^2 E}{\partial r_i^2} = -\frac{\alpha\beta(\beta-1) w_i
            r_i^{\beta-2} t_i^\beta}{U} + \frac{2\alpha\beta w_i^2 r_i^{\beta-1}
            t_i^\beta}{U^2} - \frac{2 A w_i^2}{U^3}

    The group's loss is the mean of its two channels, ``L`` the mean over
    groups; ``r = sigmoid(+-z)`` so ``dr/dz = +-r(1 - r)`` and
    ``d2r/dz2 = r(1 - r)(1 - 2r)``. Evaluated in float64 through bounded
    ratios -- ``v_i = w_i t_i^beta r_i^beta / U``, ``s_i = w_i r_i / U`` and
    ``A / U`` -- and powers of ``r`` in log space (``r^beta (1 - r)`` instead
    of ``r^(beta-1) * r (1 - r)``), so every output is finite for every finite
    margin and every ``beta > 0``. A channel with ``U = 0`` (no target and a
    prediction that underflows to 0) scores 1.
    """
    dtype = z.dtype
    y, wv, z = _as_float64(y, w, z, xp)
    k = seg.total(wv) / seg.n_groups / 2  # S * mean over groups of the mean of 2 channels
    weights = seg.sum(wv)
    value = grad = exact = abs_grad = logistic = None
    for sign in (1.0, -1.0):
        u = z if sign > 0 else -z
        r, rbar, e, a_abs = sigmoid_pair(u, xp)
        log_r, _ = log_sigmoid_pair(u, e, a_abs, xp)
        t = y if sign > 0 else 1 - y
        tpos = t > 0
        tb = xp.where(tpos, xp.exp(power * xp.log(xp.where(tpos, t, 1.0))), 0.0)  # t^beta
        wtr = wv * tb * xp.exp(power * log_r)  # w t^beta r^beta
        big_a = alpha * seg.sum(wtr)
        big_u = seg.sum(wv * r) + seg.sum(wv * t)
        safe = big_u > 0
        u_s = xp.where(safe, big_u, 1.0)
        a_over_u = xp.where(safe, big_a / u_s, 0.0)
        value = 1 - a_over_u if value is None else value + 1 - a_over_u
        if mode == "value":
            continue
        u_row = seg.rows(u_s, xp.float64)
        v = wtr / u_row  # w t^beta r^beta / U
        s_ = wv * r / u_row  # w r / U
        ab = k * alpha * power
        c = k * seg.rows(a_over_u, xp.float64)
        g_r = (-ab * v + c * s_) * rbar  # k dE/dr * r(1 - r)
        h = (-(power - 1) * ab * v * rbar * rbar + 2 * ab * v * s_ * rbar * rbar
             - 2 * c * s_ * s_ * rbar * rbar + g_r * (rbar - r))
        rr = r * rbar
        mean_abs = seg.rows(seg.sum(xp.abs(-ab * v + c * s_) / xp.where(r > 0, r, 1.0))
                            / xp.where(weights > 0, weights, 1.0), xp.float64)
        gs = g_r if sign > 0 else -g_r
        grad = gs if grad is None else grad + gs
        exact = h if exact is None else exact + h
        abs_grad = xp.abs(g_r) if abs_grad is None else abs_grad + xp.abs(g_r)
        logistic = mean_abs * wv * rr if logistic is None else logistic + mean_abs * wv * rr
    if value is None:  # unreachable: the loop sets it for both channels
        raise AssertionError("pel_kernel: no channel evaluated")
    if mode == "value":
        return (seg.mean(value / 2),)
    floor_w = wv * seg.rows(2 * k / xp.where(weights > 0, weights, 1.0), xp.float64)
    grad, hess = _finish(grad, exact, abs_grad, logistic, floor_w, hessian, surrogate, xp)
    return xp.astype(grad, dtype), xp.astype(hess, dtype)


# -------------------------------------------------------------------------- losses
class _OverlapLoss(Loss):
    """Binary per-item losses over sums: whole data set or per group.

    The groups come with the call: the booster's (XGBoost ``qid`` / ``group``,
    LightGBM ``group``) or ``group=`` of :meth:`gradient_hessian` and
    :meth:`loss`. Inside a distributed XGBoost training the sums are
    all-reduced across the workers.
    """

    _tasks = (BINARY,)
    link = "logit"
    row_separable = False
    _kernel_fn: ClassVar[Any] = None
    #: The surrogate of ``hessian="auto"`` (one of SURROGATES), chosen by measurement.
    _surrogate: ClassVar[Surrogate] = "abs_grad"
    #: Set by every subclass's constructor.
    hessian: OverlapHessian

    def _kernel_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        fn = type(self)._kernel_fn
        params = {"mode": mode, "hessian": self.hessian, "surrogate": type(self)._surrogate,
                  **self._kernel_params()}

        def kernel(y: Any, w: Any, z: Any, xp: Any) -> tuple[Any, ...]:
            return fn(y, w, z, xp, seg=Segments(context.group_ptr, z, xp, context.reduce),
                      **params)

        return kernel

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        """Log-odds of the (weighted) positive rate, as cross-entropy's.

        Dice and PEL have no useful constant optimum: for most label sets they
        decrease monotonically towards an all-positive prediction.
        """
        y = to_numpy(labels.y, np.float64)
        ww = np.ones_like(y) if w is None else to_numpy(w, np.float64)
        return np.asarray(sigmoid_constant(float(np.sum(ww * y)), float(np.sum(ww * (1 - y)))))

    def gradient_hessian(self, y_true: ArrayLike, raw_prediction: ArrayLike,
                         sample_weight: ArrayLike | None = None, *, group: ArrayLike | None = None,
                         n_threads: int | None = None) -> tuple[Any, Any]:
        """Gradient and Hessian diagonal of ``S * L``; ``group``: group sizes (optional).

        See :meth:`gbloss.Loss.gradient_hessian`. Without ``group`` the whole
        data set is one group.
        """
        context = CallContext(group_ptr=group_pointer(group, _n_rows(raw_prediction)))
        return self._direct("grad_hess", y_true, raw_prediction, sample_weight, context,
                            n_threads=n_threads)

    def loss(self, y_true: ArrayLike, raw_prediction: ArrayLike,
             sample_weight: ArrayLike | None = None, *, group: ArrayLike | None = None) -> float:
        """The loss ``L``: the mean over groups (one group without ``group``)."""
        context = CallContext(group_ptr=group_pointer(group, _n_rows(raw_prediction)))
        return self._direct("value", y_true, raw_prediction, sample_weight, context)


def _n_rows(raw: Any) -> int:
    shape = getattr(raw, "shape", None)
    return int(shape[0]) if shape is not None else len(raw)


class DiceLoss(_OverlapLoss):
    r"""Soft Dice loss with a sigmoid link; see :func:`gbloss.dice`."""

    _name = "dice"
    _kernel_fn = staticmethod(dice_kernel)
    _surrogate = "logistic"

    def __init__(self, smooth: float = 1.0, hessian: OverlapHessian = "auto") -> None:
        self.smooth = smooth
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("smooth", self.smooth, low=0.0)
        check_hessian_option(self.hessian, HESSIAN_OPTIONS)

    def _kernel_params(self) -> dict[str, Any]:
        return {"smooth": float(self.smooth)}


class TverskyLoss(_OverlapLoss):
    r"""(Focal) Tversky loss with a sigmoid link; see :func:`gbloss.tversky`."""

    _name = "tversky"
    _kernel_fn = staticmethod(tversky_kernel)
    _surrogate = "logistic"

    def __init__(self, alpha: float = 0.3, beta: float = 0.7, gamma: float = 1.0,
                 smooth: float = 1.0, hessian: OverlapHessian = "auto") -> None:
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.smooth = smooth
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("alpha", self.alpha, low=0.0)
        check_finite_scalar("beta", self.beta, low=0.0)
        if self.alpha == 0 and self.beta == 0:
            raise ValueError("alpha and beta are both 0: the Tversky index would be 1 for "
                             "every prediction")
        check_finite_scalar("gamma", self.gamma, low=0.0, low_inclusive=False)
        check_finite_scalar("smooth", self.smooth, low=0.0)
        check_hessian_option(self.hessian, HESSIAN_OPTIONS)

    def _kernel_params(self) -> dict[str, Any]:
        return {"alpha": float(self.alpha), "beta": float(self.beta),
                "gamma": float(self.gamma), "smooth": float(self.smooth)}


class PELoss(_OverlapLoss):
    r"""PointWise Exponential Loss with a sigmoid link; see :func:`gbloss.pel`."""

    _name = "pel"
    _kernel_fn = staticmethod(pel_kernel)
    _surrogate = "abs_grad"

    def __init__(self, alpha: float = 20.0, power: float = 3.0,
                 hessian: OverlapHessian = "auto") -> None:
        self.alpha = alpha
        self.power = power
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("alpha", self.alpha, low=0.0, low_inclusive=False)
        check_finite_scalar("power", self.power, low=0.0, low_inclusive=False)
        check_hessian_option(self.hessian, HESSIAN_OPTIONS)

    def _kernel_params(self) -> dict[str, Any]:
        return {"alpha": float(self.alpha), "power": float(self.power)}


_HESSIAN_DOC = r"""
    hessian : {"auto", "exact"}
        ``"exact"``: the true diagonal, negative on many rows (every positive
        row with ``p < 1/2`` at a constant prediction); boosting with it
        diverges from the init score. ``"auto"``: the exact diagonal where it
        is at least ``1e-6`` times the row weight, else a positive surrogate
        (floored at that value):
        %(surrogate)s
        Chosen by measurement among 4 candidates on 2 data sets, fine-tuning
        and from scratch (``benchmarks/results/segmentation.md``).
"""


@fill_doc(hessian=_HESSIAN_DOC, surrogate="""
        ``m_g w_i p_i (1 - p_i)``, the logistic curvature scaled by ``m_g``,
        the group's mean of ``|S/G dD_g/dp_i|`` per unit weight.""")
def dice(smooth: float = 1.0, hessian: OverlapHessian = "auto") -> DiceLoss:
    r"""Soft Dice loss for per-item (per-pixel) binary data, with a sigmoid link.

    .. math::

        L = \frac{1}{G}\sum_g \Big(1 - \frac{2\sum_{i \in g} w_i p_i y_i + s}
            {\sum_{i \in g} w_i p_i + \sum_{i \in g} w_i y_i + s}\Big),
        \qquad p = \sigma(z)

    over the groups ``g`` of the data (one image = one group: XGBoost ``qid``
    / ``group`` or LightGBM ``group``; without groups the whole data set is one
    group). Gradients are exact for this definition: every row's gradient
    depends on its group's sums. A perfect prediction gives 0.

    Parameters
    ----------
    smooth : float >= 0
        Added to numerator and denominator; keeps groups without positives
        finite (their Dice is then 0 at a perfect prediction).
    %(hessian)s

    Returns
    -------
    DiceLoss
        ``loss.gradient_hessian(y, raw, w, group=sizes)`` and
        ``loss.loss(..., group=sizes)`` take group sizes; the boosters' group
        information is read from the DMatrix / Dataset.

    Notes
    -----
    The init score is the log-odds of the positive rate (Dice has no useful
    constant optimum). Dice is meant for fine-tuning a model trained with
    log-loss (``xgb_model=`` / ``init_model=``); see
    ``examples/segmentation_demo.py``.

    References
    ----------
    F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net", 3DV 2016, arXiv:1606.04797.

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.array([0.0, 1.0, 1.0, 0.0]); raw = np.array([-30.0, 30.0, 30.0, -30.0])
    >>> round(gbloss.dice().loss(y, raw), 12)
    0.0
    """
    return DiceLoss(smooth=smooth, hessian=hessian)


@fill_doc(hessian=r"""
    hessian : {"auto", "exact"}
        Dice's policy. ``"exact"``: the true diagonal, negative on many rows
        (as Dice's, of which Tversky is the generalisation). ``"auto"``: the
        exact diagonal where it is at least ``1e-6`` times the row weight,
        else ``m_g w_i p_i (1 - p_i)`` (floored at that value), the logistic
        curvature scaled by ``m_g``, the group's mean of ``|S/G dF_g/dp_i|``
        per unit weight: the surrogate measured best for Dice
        (``benchmarks/results/segmentation.md``), not measured again for
        Tversky.
""")
def tversky(alpha: float = 0.3, beta: float = 0.7, gamma: float = 1.0, smooth: float = 1.0,
            hessian: OverlapHessian = "auto") -> TverskyLoss:
    r"""Tversky loss (Salehi et al. 2017) and focal Tversky loss (Abraham and Khan 2019) for
    per-item binary data, with a sigmoid link.

    .. math::

        L = \frac{1}{G}\sum_g (1 - TI_g)^\gamma, \qquad
        TI_g = \frac{TP_g + s}{TP_g + \alpha FP_g + \beta FN_g + s}

    over the soft counts of each group ``g``, ``p = sigmoid(z)``:
    ``TP = sum w p y``, ``FP = sum w p (1 - y)``, ``FN = sum w (1 - p) y``
    (groups as in :func:`dice`: XGBoost ``qid`` / ``group``, LightGBM
    ``group``; without groups the whole data set is one group; under
    ``gbloss.dask`` the group sums are all-reduced). Gradients are exact for
    this definition. A perfect prediction gives 0.

    Parameters
    ----------
    alpha : float >= 0
        Weight of false positives (0.3: Salehi et al.'s best for lesions).
    beta : float >= 0
        Weight of false negatives (0.7); ``beta > alpha`` favours recall.
        ``alpha = beta = 1/2`` is the Dice coefficient, ``alpha = beta = 1``
        the Tanimoto (Jaccard) coefficient.
    gamma : float > 0
        The focal exponent. ``gamma = 1`` is the Tversky loss. Abraham and
        Khan write ``(1 - TI)^(1/gamma)`` with their ``gamma`` in [1, 3] (best
        4/3): their ``gamma = 4/3`` is ``gamma = 0.75`` here (the exponent, as
        segmentation-models-pytorch's ``TverskyLoss(gamma=...)``).
    smooth : float >= 0
        ``s``, added to numerator and denominator (MONAI's
        ``smooth_nr = smooth_dr = s``; kornia adds ``eps`` to the denominator
        only, and sums the counts over every class channel of a softmax). Note the convention differs from :func:`dice`'s: ``tversky(0.5,
        0.5, 1, s)`` equals ``dice(smooth=2 s)``, since
        ``(I + s) / ((P + Y) / 2 + s) = (2 I + 2 s) / (P + Y + 2 s)``.
    %(hessian)s

    Returns
    -------
    TverskyLoss
        ``loss.gradient_hessian(y, raw, w, group=sizes)`` and
        ``loss.loss(..., group=sizes)`` take group sizes.

    Notes
    -----
    The init score is the log-odds of the positive rate, as for :func:`dice`:
    at a constant prediction the Tversky index is monotone in ``p``, so the
    constant minimiser is an infinite margin. As Dice, meant for fine-tuning
    a model trained with log-loss (``xgb_model=`` / ``init_model=``); the
    benchmark of that use was run for Dice and PEL, not for Tversky.

    References
    ----------
    S. S. M. Salehi, D. Erdogmus, A. Gholipour, "Tversky loss function for
    image segmentation using 3D fully convolutional deep networks", MLMI 2017,
    arXiv:1706.05721. N. Abraham, N. M. Khan, "A Novel Focal Tversky Loss
    Function with Improved Attention U-Net for Lesion Segmentation", ISBI 2019,
    arXiv:1810.07842. Held against MONAI's ``TverskyLoss`` and kornia's
    ``tversky_loss`` in the tests.

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.array([0.0, 1.0, 1.0, 0.0]); raw = np.array([-30.0, 30.0, 30.0, -30.0])
    >>> round(gbloss.tversky(alpha=0.3, beta=0.7).loss(y, raw), 12)
    0.0
    """
    return TverskyLoss(alpha=alpha, beta=beta, gamma=gamma, smooth=smooth, hessian=hessian)


@fill_doc(hessian=_HESSIAN_DOC, surrogate="""
        ``|grad_i|`` summed over the two channels, so that a Newton step moves
        a leaf by at most 1 logit (as LambdaMART's ``|lambda| rho (1 - rho)``).""")
def pel(alpha: float = 20.0, power: float = 3.0, hessian: OverlapHessian = "auto") -> PELoss:
    r"""PointWise Exponential Loss (PEL) for per-item binary data, with a sigmoid link.

    .. math::

        E_c = 1 - \frac{\alpha \sum_i w_i (r_i t_i)^\beta}{\sum_i w_i r_i + \sum_i w_i t_i},
        \qquad L = \frac{1}{G}\sum_g \tfrac12 (E_{fg} + E_{bg})

    with the foreground channel ``(r, t) = (p, y)`` and the background channel
    ``(1 - p, 1 - y)``, ``p = sigmoid(z)``, over the groups of the data as in
    :func:`dice`. This follows the authors' deleted ``loss.py``
    (bluesky314/PointWise-Exponential-Loss, commit a23a992), which scores each
    channel and returns both; gbloss averages them and weights the sums by
    sample weights. A perfect prediction gives ``1 - alpha / 2`` (-9 at
    ``alpha = 20``) when the group has both classes; PEL is not bounded below
    by 0.

    Parameters
    ----------
    alpha : float > 0
        Scale of the overlap term (20 in the authors' code).
    power : float > 0
        Exponent ``beta`` on ``p * g`` (3 in the authors' code).
    %(hessian)s

    Returns
    -------
    PELoss

    References
    ----------
    github.com/bluesky314/PointWise-Exponential-Loss (README: for fine-tuning
    a segmentation model; the claimed +1 to 3 Dice points are measured in
    ``benchmarks/results/segmentation.md``).
    """
    return PELoss(alpha=alpha, power=power, hessian=hessian)
