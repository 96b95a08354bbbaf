"""Imbalanced regression: ACB-MSE and Balanced MSE (BMC, BNI, GAI).

ACB-MSE is squared error with one weight per target class (zero and non-zero
targets by default): :class:`ACBMSELoss`.

Balanced MSE (Ren et al., CVPR 2022) is written once for its three priors.
Each prior is a mixture over centres ``mu_j`` (the training labels, bin
centres or Gaussian components) with log-weights ``a_j`` and
prior covariances ``V_j`` (0 for point centres). With the noise variance
``sigma^2``, ``S_j = V_j + sigma^2 I``, ``P_j = S_j^{-1}`` and
``B_j = I - sigma^2 P_j``, the loss of row ``i`` (margin ``z``, label ``y``) is

.. math::

    \\ell = \\|z - y\\|^2 + 2\\sigma^2 \\Big[\\kappa + \\log \\sum_j
    \\exp\\big(a_j - \\tfrac12 (z - \\mu_j)^\\top P_j (z - \\mu_j)\\big)\\Big]

and, with the responsibilities ``r_j`` (softmax of the exponent) and the
posterior means ``e_j = mu_j + B_j (z - mu_j)`` of a training label given
``z`` under each component,

.. math::

    \\partial_z \\ell = 2 (\\bar e - y), \\qquad
    \\partial^2_{z_a} \\ell = 2\\Big[\\sum_j r_j (B_j)_{aa}
        + \\mathrm{Var}_r(e_{\\cdot a}) / \\sigma^2\\Big] \\ge 0,

that is twice the posterior mean minus the label, and twice the posterior
variance of a training label given ``z`` over ``sigma^2``. The exponents are
rewritten without cancellation (:func:`mixture_moments`), so every output is
finite for margins up to ``+-1e4`` and beyond.

All four functions that touch rows (:func:`mixture_moments`,
:func:`mixture_log_sum`, :func:`table_lookup` and the ACB kernel) use only
array-API operations through ``xp``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from ._base import HESSIAN_FLOOR, Labels, Loss
from ._classification import _to_numpy
from ._device import asarray_on
from ._validation import REGRESSION, check_finite_scalar, check_option

__all__ = [
    "ACBMSELoss",
    "BalancedMSELoss",
    "acb_mse",
    "balanced_mse",
    "mixture_log_sum",
    "mixture_moments",
    "table_lookup",
]

PRIORS = ("bmc", "bni", "gai")
METHODS = ("auto", "exact", "fast")
#: ``method="auto"`` uses the fast table when a 1-D prior has more centres than this.
FAST_ABOVE = 512
#: Default ``sigma`` as a fraction of the standard deviation of the training labels.
SIGMA_FRACTION = 0.5
#: Pairs (rows x centres x dims) per chunk of the exact kernel: bounds its memory.
_PAIR_BUDGET = 1 << 17


# ============================================================================ shapes
def _check_regression_shapes(y_shape: tuple, raw_shape: tuple, name: str) -> None:
    if len(raw_shape) not in (1, 2) or len(y_shape) not in (1, 2):
        raise ValueError(f"{name}: raw_prediction and y_true must be 1-D or 2-D; got shapes "
                         f"{raw_shape} and {y_shape}")
    if tuple(y_shape) != tuple(raw_shape):
        raise ValueError(
            f"{name}: raw_prediction of shape {raw_shape} does not fit y_true of shape "
            f"{y_shape}; regression margins must have the shape of the targets, (n,) or (n, d)"
        )


def _as_2d(a: Any, xp: Any) -> Any:
    return xp.reshape(a, (-1, 1)) if a.ndim == 1 else a


# ============================================================================ ACB-MSE
def _acb_kernel(y: Any, w: Any, z: Any, xp: Any, *, factors: Any, classes: Any,
                mode: str, hessian: str) -> tuple[Any, ...]:
    """``l = sum_a c_{k(y_a)} (z_a - y_a)^2`` with per-class factors ``c``."""
    if classes is None:  # zero / non-zero: factors = (c_zero, c_nonzero)
        c = factors[1] + (factors[0] - factors[1]) * xp.astype(y == 0, y.dtype)
    elif callable(classes):
        ids = xp.asarray(classes(y))
        ids = xp.clip(xp.astype(ids, xp.int64), 0, factors.shape[0] - 1)
        c = xp.reshape(xp.take(factors, xp.reshape(ids, (-1,))), y.shape)
    else:  # bin edges
        ids = xp.searchsorted(classes, y, side="right")
        c = xp.reshape(xp.take(factors, xp.reshape(ids, (-1,))), y.shape)
    r = z - y
    if mode == "value":
        v = c * r * r
        return (xp.sum(v, axis=-1) if v.ndim == 2 else v,)
    if w is not None:
        c = c * (_as_2d(w, xp) if z.ndim == 2 else w)
    grad, hess = 2 * c * r, 2 * c
    if hessian == "auto":
        if w is None:
            hess = xp.maximum(hess, xp.full_like(hess, HESSIAN_FLOOR))
        else:
            hess = xp.maximum(hess, HESSIAN_FLOOR * (_as_2d(w, xp) if z.ndim == 2 else w))
    return grad, hess


@dataclass(frozen=True)
class _ACBStats:
    factors: NDArray  # (k + 1,): one per class, the last for classes absent from training
    counts: NDArray  # (k,) weighted element counts of the training labels


class ACBMSELoss(Loss):
    """ACB-MSE: squared error averaged within each target class; see :func:`gbloss.acb_mse`."""

    _name = "acb_mse"
    _tasks = (REGRESSION,)
    link = "identity"

    def __init__(
        self,
        zero_weight: float = 1.0,
        nonzero_weight: float = 1.0,
        classes: ArrayLike | Callable[[Any], Any] | None = None,
        class_weight: ArrayLike | None = None,
        hessian: str = "auto",
    ) -> None:
        self.zero_weight = zero_weight
        self.nonzero_weight = nonzero_weight
        self.classes = classes
        self.class_weight = class_weight
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_finite_scalar("zero_weight", self.zero_weight, low=0.0)
        check_finite_scalar("nonzero_weight", self.nonzero_weight, low=0.0)
        check_option("hessian", self.hessian, ("auto", "exact"))
        if self.classes is None:
            if self.class_weight is not None:
                raise ValueError("class_weight needs classes=; without classes use "
                                 "zero_weight and nonzero_weight")
        else:
            if self.zero_weight != 1.0 or self.nonzero_weight != 1.0:
                raise ValueError("zero_weight and nonzero_weight apply to the default zero / "
                                 "non-zero classes; with classes= give class_weight instead")
            if not callable(self.classes):
                edges = np.asarray(self.classes, dtype=np.float64)
                if edges.ndim != 1 or edges.size == 0 or not np.all(np.isfinite(edges)) \
                        or np.any(np.diff(edges) <= 0):
                    raise ValueError("classes must be a callable or a non-empty, strictly "
                                     "increasing 1-D array of finite bin edges; got "
                                     f"{self.classes!r}")
        if self.class_weight is not None:
            cw = np.asarray(self.class_weight, dtype=np.float64)
            if cw.ndim != 1 or not np.all(np.isfinite(cw)) or np.any(cw < 0):
                raise ValueError("class_weight must be a 1-D array of finite non-negative weights")
            if self.classes is not None and not callable(self.classes) \
                    and cw.size != np.size(self.classes) + 1:
                raise ValueError(f"{np.size(self.classes)} bin edges make "
                                 f"{np.size(self.classes) + 1} classes; class_weight has {cw.size}")

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> str:
        _check_regression_shapes(y_shape, raw_shape, "acb_mse")
        return REGRESSION

    def _class_ids(self, y: NDArray) -> tuple[NDArray, int]:
        if self.classes is None:
            return (y != 0).astype(np.intp), 2
        if callable(self.classes):
            ids = np.asarray(self.classes(y))
            if ids.shape != y.shape:
                raise ValueError(f"classes(y) returned shape {ids.shape} for targets of shape "
                                 f"{y.shape}")
            if ids.size and (not np.all(np.isfinite(ids)) or np.any(ids < 0)
                             or np.any(ids != np.round(ids))):
                raise ValueError("classes(y) must return non-negative integer class ids")
            ids = ids.astype(np.intp)
            k = int(ids.max()) + 1 if ids.size else 0
            if self.class_weight is not None:
                k = max(k, np.size(self.class_weight))
            return ids, k
        edges = np.asarray(self.classes, dtype=np.float64)
        return np.searchsorted(edges, y, side="right"), edges.size + 1

    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> _ACBStats:
        y = _to_numpy(labels.y).astype(np.float64)
        ids, k = self._class_ids(y)
        ww = np.ones(y.shape[0]) if w is None else _to_numpy(w).astype(np.float64)
        total = float(ww.sum())
        elem_w = ww if y.ndim == 1 else np.repeat(ww, y.shape[1])
        counts = np.bincount(ids.reshape(-1), weights=elem_w, minlength=k)[:k] if k else \
            np.zeros(0)
        if self.classes is None:
            cw = np.array([float(self.zero_weight), float(self.nonzero_weight)])
        elif self.class_weight is None:
            cw = np.ones(k)
        else:
            cw = np.asarray(self.class_weight, dtype=np.float64)
            if cw.size != k:
                raise ValueError(f"class_weight has {cw.size} entries; the labels have {k} "
                                 "classes")
        present = counts > 0
        # factor_k = weight_k * S / N_k, so that sum_i w_i l_i / S = sum_k weight_k * MSE_k
        factors = np.where(present, cw * total / np.where(present, counts, 1.0), 0.0)
        # A class without training rows contributes nothing to the training loss (the acb-mse
        # package replaces its NaN mean by 0). Rows of it met later (validation data, or class
        # ids above the largest seen) get the factor of the rarest present class times the
        # class's own weight (weight 1 for unseen ids).
        rarest = total / counts[present].min() if np.any(present) else 1.0
        factors = np.where(present, factors, cw * rarest)
        factors = np.append(factors, rarest)
        return _ACBStats(factors=factors, counts=counts)

    def _kernel(self, labels: Labels, stats: _ACBStats, mode: str, xp: Any, dtype: Any) -> Any:
        factors = stats.factors
        if self.classes is None:
            fac: Any = (float(factors[0]), float(factors[1]))
            classes: Any = None
        else:
            fac = asarray_on(factors, labels.y, xp, dtype)
            classes = self.classes if callable(self.classes) else \
                asarray_on(np.asarray(self.classes), labels.y, xp, dtype)
        return functools.partial(_acb_kernel, factors=fac, classes=classes, mode=mode,
                                 hessian=self.hessian)

    def _init_constant(self, labels: Labels, w: Any, stats: _ACBStats) -> NDArray:
        y = _to_numpy(labels.y).astype(np.float64)
        ids, _ = self._class_ids(y)
        c = stats.factors[np.minimum(ids, stats.factors.size - 1)]
        ww = np.ones(y.shape[0]) if w is None else _to_numpy(w).astype(np.float64)
        cw = c * (ww if y.ndim == 1 else ww[:, None])
        total = cw.sum(axis=0)
        mean = np.sum(cw * y, axis=0) / np.where(total > 0, total, 1.0)
        return np.where(total > 0, mean, y.mean(axis=0) if y.shape[0] else 0.0)


def acb_mse(
    zero_weight: float = 1.0,
    nonzero_weight: float = 1.0,
    classes: ArrayLike | Callable[[Any], Any] | None = None,
    class_weight: ArrayLike | None = None,
    hessian: str = "auto",
) -> ACBMSELoss:
    r"""ACB-MSE (automatic class-balanced MSE) as an XGBoost / LightGBM objective.

    .. math::

        L = \sum_k c_k \, \frac{1}{N_k} \sum_{i \in k} (\hat y_i - y_i)^2

    the mean squared error within each target class ``k``, weighted by
    ``c_k``. By default the classes are ``y == 0`` and ``y != 0`` (exact
    equality) with weights ``zero_weight`` (A) and ``nonzero_weight`` (B), as
    the ``acb-mse`` package (1.0.6, ``ACBLoss``) defines it; its value equals
    that package's on the same data. Targets of shape ``(n, d)`` are pooled
    over all elements, as the package does with images.

    Per row: ``l_i = sum_a c_{k(y_ia)} S / N_k (z_ia - y_ia)^2`` with ``N_k``
    the (sample-weighted) number of training targets in class ``k`` and
    ``S = sum_i w_i``, so that ``loss() = sum_i w_i l_i / S`` is the formula
    above. ``N_k`` comes from the training labels once (or ``loss.fit(y)``).
    With ``k`` classes of equal size and equal weights it is ``k`` x MSE.

    Parameters
    ----------
    zero_weight, nonzero_weight : float >= 0
        A and B of ACB-MSE; only without ``classes``.
    classes : None, array of bin edges, or callable
        Generalises the two classes to ``n``: an increasing array of ``m``
        edges gives ``m + 1`` classes ``(-inf, e_0), [e_0, e_1), ...,
        [e_{m-1}, inf)`` (``searchsorted(edges, y, side="right")``); a
        callable maps an array of targets to non-negative integer class ids
        of the same shape (it receives the label array in its own namespace).
    class_weight : array of shape (n_classes,), optional
        ``c_k`` with ``classes``; all ones by default.
    hessian : {"auto", "exact"}
        The Hessian ``2 w_i c_k`` is exact; ``"auto"`` floors it at
        ``1e-6 w_i`` for classes of weight 0.

    Notes
    -----
    A class with no training targets gives no NaN: it contributes 0 to the
    training loss (the package replaces the NaN mean of an empty class by 0).
    Targets of such a class met later -- validation rows, or ids above the
    largest seen by a callable -- are weighted as the rarest present class
    (``c_k S / min_k N_k``; ``c_k = 1`` for unseen ids) rather than dropped.

    Returns
    -------
    ACBMSELoss

    References
    ----------
    The ``acb-mse`` package (PyPI 1.0.6, Adillwma/ACB-MSE).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.array([0.0, 0.0, 0.0, 2.0])
    >>> loss = gbloss.acb_mse(zero_weight=1.0, nonzero_weight=1.0)
    >>> loss.loss(y, np.zeros(4))  # 1 * 0 + 1 * (2 - 0)^2
    4.0
    """
    return ACBMSELoss(zero_weight=zero_weight, nonzero_weight=nonzero_weight, classes=classes,
                      class_weight=class_weight, hessian=hessian)


# ====================================================================== Balanced MSE
@dataclass(frozen=True)
class Mixture:
    """A Balanced-MSE prior as a mixture, in the shifted frame (labels minus ``shift``).

    ``centres`` (M, d); ``log_weight`` (M,); ``half_prec`` (M,) = 1 / (2 s_j)
    for isotropic components ``S_j = s_j I`` or ``None`` when ``prec`` (M, d, d)
    holds full precisions; ``shrink`` = ``B_j`` as (M,) (isotropic), (M, d, d)
    (full) or ``None`` (point centres, ``B = 0``).
    """

    centres: NDArray
    log_weight: NDArray
    half_prec: NDArray | None
    prec: NDArray | None
    shrink: NDArray | None

    @property
    def size(self) -> int:
        return int(self.centres.shape[0])

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])


def _mix_to(mix: Mixture, xp: Any, ref: Any = None) -> Mixture:
    """``mix`` as float64 arrays of ``xp`` on the device of the array ``ref``."""
    def conv(a: Any) -> Any:
        return None if a is None else asarray_on(np.ascontiguousarray(a), ref, xp, xp.float64)

    return Mixture(conv(mix.centres), conv(mix.log_weight), conv(mix.half_prec),
                   conv(mix.prec), conv(mix.shrink))


def _chunk_terms(x: Any, y: Any | None, mix: Mixture, lo: int, hi: int, sigma2: float,
                 xp: Any, *, exact_rows: bool = False) -> tuple[Any, Any]:
    """Exponents and posterior means of rows ``x`` (R, d) over centres ``lo:hi``.

    Without ``y``: ``g_j = a_j - (x - mu_j)' P_j (x - mu_j) / 2``, up to a
    per-row constant when every centre is a point of the same variance (unless
    ``exact_rows``). With ``y``:
    ``g_j + ||x - y||^2 / (2 sigma^2)``, written as
    ``a_j + [(mu_j - y).(2x - y - mu_j) + (x - mu_j)' B_j (x - mu_j)] / (2 sigma^2)``,
    which has no cancellation for large margins. Returns ``(g (R, m), e)`` with
    ``e`` (R, m, d) the posterior means, or ``None`` for point centres (``e = mu``).
    """
    mu = mix.centres[lo:hi, :]
    a = mix.log_weight[lo:hi]
    d = x.shape[1]
    if y is None and mix.prec is None and mix.shrink is None and not exact_rows:
        # point centres with one variance (BMC, BNI): up to a per-row constant,
        # g_j = x . mu_j / sigma^2 + a_j - ||mu_j||^2 / (2 sigma^2), one matrix product
        k = mix.half_prec[lo:hi]
        lin = mu * (2 * k)[:, None]
        bias = a - k * xp.sum(mu * mu, axis=1)
        return xp.matmul(x, xp.permute_dims(lin, (1, 0))) + bias[None, :], None
    diff = x[:, None, :] - mu[None, :, :]  # (R, m, d)
    e = None
    if mix.prec is not None:  # full covariances
        p = mix.prec[lo:hi, ...]
        bdiff = xp.sum(mix.shrink[None, lo:hi, :, :] * diff[:, :, None, :], axis=-1)
        e = mu[None, :, :] + bdiff
        if y is None:
            pdiff = xp.sum(p[None, :, :, :] * diff[:, :, None, :], axis=-1)
            return a[None, :] - 0.5 * xp.sum(diff * pdiff, axis=-1), e
        quad_b = xp.sum(diff * bdiff, axis=-1)
    else:
        sq = diff[:, :, 0] * diff[:, :, 0] if d == 1 else xp.sum(diff * diff, axis=-1)
        if mix.shrink is not None:
            b = mix.shrink[lo:hi]
            e = mu[None, :, :] + b[None, :, None] * diff
        if y is None:
            return a[None, :] - sq * mix.half_prec[None, lo:hi], e
        quad_b = None if mix.shrink is None else mix.shrink[None, lo:hi] * sq
    dy = mu[None, :, :] - y[:, None, :]
    cross = dy * (2 * x[:, None, :] - y[:, None, :] - mu[None, :, :])
    cross = cross[:, :, 0] if d == 1 else xp.sum(cross, axis=-1)
    if quad_b is not None:
        cross = cross + quad_b
    return a[None, :] + cross / (2 * sigma2), e


def _chunk_shape(n_rows: int, n_centres: int, d: int) -> tuple[int, int]:
    per_row = max(1, n_centres * d * d)
    if per_row * 64 <= _PAIR_BUDGET:
        return max(1, _PAIR_BUDGET // per_row), n_centres
    rows = min(max(n_rows, 1), 256)
    return rows, max(1, _PAIR_BUDGET // (rows * d * d))


def mixture_log_sum(x: Any, y: Any, mix: Mixture, sigma2: float, xp: Any) -> Any:
    """``log sum_j exp(h_j)`` per row (R,), with ``h`` of :func:`_chunk_terms` given ``y``.

    Chunked over rows and centres with a running maximum: memory stays bounded.
    """
    n, m = x.shape[0], mix.size
    if n == 0:
        return x[0:0, 0]
    rb, cb = _chunk_shape(n, m, x.shape[1])
    out = []
    for r0 in range(0, n, rb):
        r1 = min(r0 + rb, n)
        xr, yr = x[r0:r1, :], y[r0:r1, :]
        mx = s = None
        for c0 in range(0, m, cb):
            h, _ = _chunk_terms(xr, yr, mix, c0, min(c0 + cb, m), sigma2, xp)
            mc = xp.max(h, axis=1)
            if mx is None:
                mx, s = mc, xp.sum(xp.exp(h - mc[:, None]), axis=1)
            else:
                mn = xp.maximum(mx, mc)
                s = s * xp.exp(mx - mn) + xp.sum(xp.exp(h - mn[:, None]), axis=1)
                mx = mn
        out.append(mx + xp.log(s))
    return out[0] if len(out) == 1 else xp.concat(out, axis=0)


def mixture_moments(x: Any, mix: Mixture, sigma2: float, xp: Any) -> tuple[Any, Any]:
    """Posterior mean ``e_bar`` (R, d) and ``sum_j r_j B_jaa + Var_r(e_a) / sigma^2`` (R, d).

    The responsibilities ``r`` are the softmax over centres of the exponents
    ``g``; chunks over centres are merged with Chan's pairwise update of the
    weighted mean and sum of squares (weights relative to a running maximum),
    so the variance has no cancellation and memory stays bounded.
    """
    n, m, d = x.shape[0], mix.size, x.shape[1]
    if n == 0:
        return x[0:0, :], x[0:0, :]
    rb, cb = _chunk_shape(n, m, d)
    if mix.shrink is None:
        bdiag = None
    elif mix.prec is not None:
        bdiag = xp.stack([mix.shrink[:, a, a] for a in range(d)], axis=1)  # (M, d)
    else:
        bdiag = mix.shrink[:, None]  # (M, 1) broadcasts over d
    means, curv = [], []
    for r0 in range(0, n, rb):
        xr = x[r0:min(r0 + rb, n), :]
        state = None
        for c0 in range(0, m, cb):
            c1 = min(c0 + cb, m)
            g, e = _chunk_terms(xr, None, mix, c0, c1, sigma2, xp)
            mc = xp.max(g, axis=1, keepdims=True)
            eps = xp.exp(g - mc)  # (r, m)
            wc = xp.sum(eps, axis=1, keepdims=True)  # (r, 1)
            if e is None:
                mu = mix.centres[c0:c1, :]
                ref = xp.mean(mu, axis=0, keepdims=True)
                dmu = mu - ref
                d1 = xp.matmul(eps, dmu)
                meanc = ref + d1 / wc
                m2c = xp.maximum(xp.matmul(eps, dmu * dmu) - d1 * d1 / wc, 0.0)
            else:
                meanc = xp.sum(eps[:, :, None] * e, axis=1) / wc
                dev = e - meanc[:, None, :]
                m2c = xp.sum(eps[:, :, None] * dev * dev, axis=1)
            bc = None if bdiag is None else xp.matmul(eps, bdiag[c0:c1, :]) / wc
            if state is None:
                state = [mc, wc, meanc, m2c, bc]
                continue
            mx, wa, mean, m2, bbar = state
            mn = xp.maximum(mx, mc)
            al, be = xp.exp(mx - mn), xp.exp(mc - mn)
            wa, wb = wa * al, wc * be
            wn = wa + wb
            delta = meanc - mean
            frac = wb / wn
            mean = mean + delta * frac
            m2 = m2 * al + m2c * be + delta * delta * (wa * frac)
            if bbar is not None:
                bbar = bbar + (bc - bbar) * frac
            state = [mn, wn, mean, m2, bbar]
        _, wt, mean, m2, bbar = state
        c = m2 / (wt * sigma2)
        if bbar is not None:
            c = c + bbar
        means.append(mean)
        curv.append(c)
    if len(means) == 1:
        return means[0], curv[0]
    return xp.concat(means, axis=0), xp.concat(curv, axis=0)


def _hermite(f0: Any, f1: Any, d0: Any, d1: Any, t: Any) -> Any:
    """Cubic Hermite on [0, 1] with end values ``f`` and end slopes ``d`` (per unit ``t``)."""
    t2 = t * t
    t3 = t2 * t
    return (f0 + t2 * (3 * (f1 - f0) - 2 * d0 - d1) + t3 * (2 * (f0 - f1) + d0 + d1)
            + t * d0)


@dataclass(frozen=True)
class Table:
    """Tabulated posterior mean, curvature and log-sum of a 1-D prior (the fast method).

    Uniform cells of width ``step`` from ``lo``; cell ``k`` is split into
    ``nsub[k]`` (a power of 2) equal intervals, the first of which is interval
    ``first[k]``. Interval ``i`` holds cubic polynomials in the local
    coordinate ``t`` in [0, 1]: ``coef[0:4, i]`` for the posterior mean
    ``e_bar``, ``coef[4:8, i]`` for ``eta = Var / sigma^2`` (the slope of
    ``e_bar``) and ``vcoef[:, i]`` for ``phi = 2 sigma^2 log-sum + x^2`` (slope
    ``2 e_bar``): cubic Hermite interpolants of exact values and slopes at the
    interval's ends. ``tails`` = ``(b, gap, rho)`` below and above the table:
    beyond an end the mean continues as ``end + b dx + gap ((1 + rho |dx|)^-2 - 1)``,
    which keeps the end value and slope and tends to the limit line of slope ``b``.
    """

    lo: float
    step: float
    first: NDArray  # (K,) float64
    nsub: NDArray  # (K,) float64
    coef: NDArray  # (8, n_intervals)
    vcoef: NDArray  # (4, n_intervals)
    tails: tuple[tuple[float, float, float], tuple[float, float, float]]

    @property
    def n_intervals(self) -> int:
        return int(self.coef.shape[1])


def table_lookup(x: Any, tab: Any, xp: Any, mode: str) -> tuple[Any, ...]:
    """Interpolate a :class:`Table` (its arrays in namespace ``xp``) at margins ``x`` (R,).

    Returns ``(mean, curv)`` for ``mode="grad_hess"`` and ``(phi,)`` for
    ``"value"``, float64. ``tab["lo"]`` may include a shift of the margins
    (then ``coef[0]`` includes it too). Every step is a contiguous elementwise
    operation or a 1-D gather.
    """
    n_cells = tab["nsub"].shape[0]
    step = tab["step"]
    q = x * (1.0 / step) - tab["lo"] / step
    # just below n_cells, so that floor() <= n_cells - 1 and t < 1 without more passes
    qc = xp.clip(q, 0.0, n_cells * (1 - 2**-50))
    k = xp.floor(qc)
    ki = xp.astype(k, xp.int64)
    s = (qc - k) * xp.take(tab["nsub"], ki)
    j = xp.floor(s)
    t = s - j
    idx = xp.astype(xp.take(tab["first"], ki) + j, xp.int64)
    coef = tab["coef"]

    def poly(c: Any, r: int) -> Any:
        a = [xp.take(c[r + i, :], idx) for i in range(4)]
        return ((a[3] * t + a[2]) * t + a[1]) * t + a[0]

    mean = poly(coef, 0)
    # beyond the ends (dx != 0 on one side only): the tails
    dx = (q - qc) * step
    dn, dp = xp.minimum(dx, 0.0), xp.maximum(dx, 0.0)
    (b_lo, g_lo, r_lo), (b_hi, g_hi, r_hi) = tab["tails"]
    il, ih = 1 / (1 - r_lo * dn), 1 / (1 + r_hi * dp)
    if mode == "value":
        phi = poly(tab["vcoef"], 0)
        return (phi + 2 * mean * dx + b_lo * dn * dn + b_hi * dp * dp
                + 2 * g_lo * dn * (il - 1) + 2 * g_hi * dp * (ih - 1),)
    il2, ih2 = il * il, ih * ih
    mean = mean + (g_lo * il2 + g_hi * ih2 - (g_lo + g_hi))
    il3, ih3 = il2 * il, ih2 * ih
    curv = poly(coef, 4) * (il3 * ih3)
    if b_lo != 0 or b_hi != 0:  # limit lines with a slope (Gaussian components)
        mean = mean + (b_lo * dn + b_hi * dp)
        curv = curv + (b_lo * (1 - il3) + b_hi * (1 - ih3))
    return mean, curv


# ---------------------------------------------------------------- table construction
def _dense_cumulants(t: NDArray, mix: Mixture, sigma2: float) -> tuple[NDArray, ...]:
    """Exact log-sum, mean, eta and d(eta)/dx of the 1-D posterior at points ``t`` (numpy)."""
    g, e = _chunk_terms(t[:, None], None, mix, 0, mix.size, sigma2, np, exact_rows=True)
    mx = g.max(axis=1, keepdims=True)
    eps = np.exp(g - mx)
    wt = eps.sum(axis=1, keepdims=True)
    r = eps / wt
    ev = np.broadcast_to(mix.centres[None, :, 0], g.shape) if e is None else e[:, :, 0]
    mean = np.sum(r * ev, axis=1)
    dev = ev - mean[:, None]
    cvar = 0.0 if mix.shrink is None else sigma2 * mix.shrink[None, :]  # component variances
    var = np.sum(r * (dev * dev + cvar), axis=1)
    k3 = np.sum(r * dev * (dev * dev + 3 * cvar), axis=1)
    lse = (mx[:, 0] + np.log(wt[:, 0]))
    return lse, mean, var / sigma2, k3 / (sigma2 * sigma2)


def _banded_cumulants(t: NDArray, mix: Mixture, sigma2: float) -> tuple[NDArray, ...]:
    """:func:`_dense_cumulants` at sorted points ``t``, each chunk against the centres that matter.

    A centre is skipped when its exponent is below the nearest centre's by more
    than 50 for every point of the chunk (its weight relative to the total is
    below ``M e^-50``).
    """
    mu = mix.centres[:, 0]  # sorted
    a = mix.log_weight
    hp = mix.half_prec
    kmax, kmin = float(hp.max()), float(hp.min())
    amax, amin = float(a.max()), float(a.min())
    idx = np.clip(np.searchsorted(mu, t), 1, mu.size - 1) if mu.size > 1 else np.zeros(t.size, int)
    dist = np.minimum(np.abs(t - mu[idx - 1]), np.abs(t - mu[idx])) if mu.size > 1 else \
        np.abs(t - mu[0])
    outs = [np.empty(t.size) for _ in range(4)]
    chunk = max(16, min(1024, _PAIR_BUDGET // max(1, min(mu.size, 4096))))
    for s0 in range(0, t.size, chunk):
        sl = slice(s0, min(s0 + chunk, t.size))
        dmax = float(dist[sl].max())
        reach = math.sqrt((amax - amin + kmax * dmax * dmax + 50.0) / kmin)
        lo_c = int(np.searchsorted(mu, t[sl.start] - reach, side="left"))
        hi_c = int(np.searchsorted(mu, t[sl.stop - 1] + reach, side="right"))
        lo_c, hi_c = min(lo_c, mu.size - 1), max(hi_c, lo_c + 1)
        sub = Mixture(mix.centres[lo_c:hi_c], a[lo_c:hi_c], hp[lo_c:hi_c], None,
                      None if mix.shrink is None else mix.shrink[lo_c:hi_c])
        for o, v in zip(outs, _dense_cumulants(t[sl], sub, sigma2)):
            o[sl] = v
    return tuple(outs)


def build_table(mix: Mixture, sigma: float, *, limits: tuple[float, float] | None = None,
                tail: float = 64.0, cell: float = 0.25, tol: float = 1e-7,
                max_level: int = 16) -> Table:
    """Tabulate a 1-D isotropic prior for :func:`table_lookup`.

    Cells of ``cell * sigma`` cover the centres plus ``tail * sigma`` either
    side; a cell is halved until cubic Hermite interpolation from the current
    points predicts the exact mean (within ``tol * sigma``), eta (within
    ``100 tol (1 + |eta|)``) and phi (within ``tol * sigma^2``) at every
    midpoint, or ``max_level`` halvings are reached.
    """
    sigma2 = sigma * sigma
    order = np.argsort(mix.centres[:, 0], kind="stable")
    mix = Mixture(mix.centres[order], mix.log_weight[order], mix.half_prec[order], None,
                  None if mix.shrink is None else mix.shrink[order])
    mu = mix.centres[:, 0]
    step = cell * sigma
    lo = float(mu.min()) - tail * sigma
    n_cells = int(math.ceil((float(mu.max()) + tail * sigma - lo) / step))
    grid = lo + step * np.arange(n_cells + 1)

    def exact(tt: NDArray) -> tuple[NDArray, ...]:
        order = np.argsort(tt, kind="stable")
        res = _banded_cumulants(tt[order], mix, sigma2)
        out = []
        for v in res:
            back = np.empty_like(v)
            back[order] = v
            out.append(back)
        lse, mean, curv, dcurv = out
        return mean, curv, dcurv, 2 * sigma2 * lse + tt * tt

    vals = exact(grid)
    # pending cells: arrays (n_pending, 2^level + 1) per quantity
    pend = np.arange(n_cells)
    cur = [np.stack([v[:-1], v[1:]], axis=1) for v in vals]
    done: dict[int, list[NDArray]] = {}
    levels = np.zeros(n_cells, dtype=np.int64)
    level = 0
    while pend.size:
        n_pts = cur[0].shape[1]
        width = step / (n_pts - 1)
        left = pend[:, None] * step + lo + width * np.arange(n_pts - 1)[None, :]
        mid = (left + width / 2).reshape(-1)
        mvals = [v.reshape(pend.size, n_pts - 1) for v in exact(mid)]
        m, c, dc, ph = cur
        hm = _hermite(m[:, :-1], m[:, 1:], width * c[:, :-1], width * c[:, 1:], 0.5)
        hc = _hermite(c[:, :-1], c[:, 1:], width * dc[:, :-1], width * dc[:, 1:], 0.5)
        hp = _hermite(ph[:, :-1], ph[:, 1:], 2 * width * m[:, :-1], 2 * width * m[:, 1:], 0.5)
        err = np.maximum.reduce([
            np.abs(hm - mvals[0]) / (tol * sigma),
            np.abs(hc - mvals[1]) / (100 * tol * (1 + np.abs(mvals[1]))),
            np.abs(hp - mvals[3]) / (tol * sigma2 * (1 + np.abs(mvals[3]) * 1e-3)),
        ]).max(axis=1)
        ok = (err <= 1.0) | (level >= max_level)
        for i in np.flatnonzero(ok):
            done[int(pend[i])] = [v[i] for v in cur]
            levels[pend[i]] = level
        keep = ~ok
        merged = []
        for v, mv in zip(cur, mvals):
            v, mv = v[keep], mv[keep]
            out = np.empty((v.shape[0], 2 * (n_pts - 1) + 1))
            out[:, 0::2] = v
            out[:, 1::2] = mv
            merged.append(out)
        pend, cur = pend[keep], merged
        level += 1
    nsub = (1 << levels).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(nsub)[:-1]])
    pts = [np.concatenate([done[k][q] for k in range(n_cells)]) for q in range(4)]
    starts = np.concatenate([[0], np.cumsum(nsub + 1)[:-1]])
    left = np.concatenate([starts[k] + np.arange(nsub[k]) for k in range(n_cells)])
    width = np.repeat(step / nsub, nsub)

    def hermite_coef(f: NDArray, df: NDArray) -> list[NDArray]:
        f0, f1 = f[left], f[left + 1]
        d0, d1 = width * df[left], width * df[left + 1]
        return [f0, d0, 3 * (f1 - f0) - 2 * d0 - d1, 2 * (f0 - f1) + d0 + d1]

    mean, curv, dcurv, phi = pts
    coef = np.stack(hermite_coef(mean, curv) + hermite_coef(curv, dcurv), axis=0)
    vcoef = np.stack(hermite_coef(phi, 2 * mean), axis=0)
    # tails: the component dominating as x -> -inf / +inf, and the decay towards its line
    hp = mix.half_prec
    wide = np.flatnonzero(hp <= hp.min() * (1 + 1e-12))
    ends = (int(wide[np.argmin(mu[wide])]), int(wide[np.argmax(mu[wide])]))
    b_all = np.zeros(mu.size) if mix.shrink is None else mix.shrink
    tails = []
    for side, j, x_end in ((-1.0, ends[0], grid[0]), (1.0, ends[1], grid[-1])):
        end = 0 if side < 0 else -1
        m_star = float(mu[j]) if limits is None else float(limits[end])
        b_star = float(b_all[j]) if limits is None else 0.0
        gap = float(mean[end] - (m_star + b_star * (x_end - m_star)))
        rho = side * (b_star - float(curv[end])) / (2 * gap) if gap != 0 else 0.0
        if not (np.isfinite(rho) and rho > 0):
            rho, gap = 1.0 / sigma, 0.0
        tails.append((b_star, gap, float(rho)))
    return Table(lo=lo, step=step, first=first.astype(np.float64),
                 nsub=nsub.astype(np.float64), coef=coef, vcoef=vcoef,
                 tails=(tails[0], tails[1]))


# ------------------------------------------------------------------------- kernels
def _balanced_kernel(y: Any, w: Any, z: Any, xp: Any, *, mix: Mixture | None,
                     table: dict | None, shift: Any, sigma2: float, kappa: float, mode: str,
                     hessian: str, floor: float) -> tuple[Any, ...]:
    dtype = z.dtype
    if table is not None and mode == "grad_hess":
        # the table's lo and mean include the shift: margins and labels are used as they are
        mean, curv = table_lookup(xp.astype(z, xp.float64), table, xp, mode)
        grad = 2 * (mean - xp.astype(y, xp.float64))
        hess = 2 * curv
        if w is not None:
            wf = xp.astype(w, xp.float64)
            grad, hess = grad * wf, hess * wf
        if hessian == "auto":
            hess = xp.maximum(hess, 2 * floor if w is None else (2 * floor) * wf)
        else:
            hess = xp.maximum(hess, 0.0)
        return xp.astype(grad, dtype), xp.astype(hess, dtype)
    x = _as_2d(xp.astype(z, xp.float64), xp) - shift
    t = _as_2d(xp.astype(y, xp.float64), xp) - shift
    if mode == "value":
        if table is not None:
            (phi,) = table_lookup(x[:, 0], table, xp, "value")
            tt = t[:, 0]
            v = phi - 2 * x[:, 0] * tt + tt * tt + 2 * sigma2 * kappa
        else:
            v = 2 * sigma2 * (kappa + mixture_log_sum(x, t, mix, sigma2, xp))
        return (xp.astype(v, dtype),)
    mean, curv = mixture_moments(x, mix, sigma2, xp)
    grad = 2 * (mean - t)
    hess = 2 * curv
    if w is not None:
        wc = xp.astype(w, xp.float64)[:, None]
        grad, hess = grad * wc, hess * wc
    if hessian == "auto":
        hess = xp.maximum(hess, 2 * floor if w is None else (2 * floor) * wc)
    if z.ndim == 1:
        grad, hess = grad[:, 0], hess[:, 0]
    return xp.astype(grad, dtype), xp.astype(hess, dtype)


@dataclass(frozen=True)
class BalancedStats:
    """Training-label statistics of a Balanced-MSE loss (picklable, device-free)."""

    prior: str
    sigma: float
    dim: int
    shift: NDArray  # (d,), subtracted from margins and labels before the math
    kappa: float
    mixture: Mixture
    table: Table | None


def _weighted_std(y: NDArray, w: NDArray | None) -> float:
    ww = np.ones(y.shape[0]) if w is None else w
    tot = ww.sum()
    mean = (ww[:, None] * y).sum(axis=0) / tot
    var = (ww[:, None] * (y - mean) ** 2).sum(axis=0) / tot
    return float(math.sqrt(var.mean()))


class BalancedMSELoss(Loss):
    """Balanced MSE (Ren et al., CVPR 2022); see :func:`gbloss.balanced_mse`."""

    _name = "balanced_mse"
    _tasks = (REGRESSION,)
    link = "identity"

    def __init__(
        self,
        sigma: float | None = None,
        prior: str = "bmc",
        *,
        bins: int | ArrayLike | None = None,
        n_components: int = 8,
        gmm: Any = None,
        method: str = "auto",
        hessian: str = "auto",
        hessian_floor: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        self.sigma = sigma
        self.prior = prior
        self.bins = bins
        self.n_components = n_components
        self.gmm = gmm
        self.method = method
        self.hessian = hessian
        self.hessian_floor = hessian_floor
        self.random_state = random_state
        self._validate_params()

    # ---------------------------------------------------------------- params
    def _validate_params(self) -> None:
        if self.sigma is not None:
            check_finite_scalar("sigma", self.sigma, low=0.0, low_inclusive=False)
        check_option("prior", self.prior, PRIORS)
        check_option("method", self.method, METHODS)
        check_option("hessian", self.hessian, ("auto", "exact"))
        check_finite_scalar("hessian_floor", self.hessian_floor, low=0.0, high=1.0)
        if isinstance(self.n_components, bool) or not isinstance(self.n_components,
                                                                 int | np.integer) \
                or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}")
        if self.bins is not None:
            if isinstance(self.bins, int | np.integer) and not isinstance(self.bins, bool):
                if self.bins < 1:
                    raise ValueError(f"bins must be a positive integer or edges, got {self.bins!r}")
            else:
                edges = np.asarray(self.bins, dtype=np.float64)
                if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) \
                        or np.any(np.diff(edges) <= 0):
                    raise ValueError("bins must be a positive integer or a strictly increasing "
                                     "1-D array of at least 2 finite edges")
        if self.bins is not None and self.prior != "bni":
            raise ValueError(f"bins applies to prior='bni' only, not {self.prior!r}")
        if self.gmm is not None and self.prior != "gai":
            raise ValueError(f"gmm applies to prior='gai' only, not {self.prior!r}")

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> str:
        _check_regression_shapes(y_shape, raw_shape, "balanced_mse")
        return REGRESSION

    # ------------------------------------------------------------ statistics
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> BalancedStats:
        y = _to_numpy(labels.y).astype(np.float64)
        y2 = y.reshape(y.shape[0], -1)
        ww = None if w is None else _to_numpy(w).astype(np.float64)
        if ww is not None:
            keep = ww > 0
            y2, ww = y2[keep], ww[keep]
        n, d = y2.shape
        if n == 0:
            raise ValueError("balanced_mse needs at least one training label with positive "
                             "weight")
        if self.sigma is None:
            spread = _weighted_std(y2, ww)
            if not spread > 0:
                raise ValueError("the training labels do not vary, so the default sigma "
                                 f"({SIGMA_FRACTION} x their standard deviation) is 0; "
                                 "pass sigma explicitly")
            sigma = SIGMA_FRACTION * spread
        else:
            sigma = float(self.sigma)
        sigma2 = sigma * sigma
        shift = (y2 if ww is None else y2 * ww[:, None]).sum(axis=0) / \
            (n if ww is None else ww.sum())
        yc = y2 - shift
        fast = self.method == "fast"
        if fast and d > 1:
            raise ValueError("method='fast' supports 1-D targets only; use method='exact' "
                             "for targets of shape (n, d)")
        kappa = 0.0
        limits = None
        if self.prior == "bmc":
            if fast or (self.method == "auto" and d == 1 and n > FAST_ABOVE):
                mix = _binned_mixture(yc[:, 0], ww, sigma)
                limits = (float(yc[:, 0].min()), float(yc[:, 0].max()))
                fast = True
            else:
                order = np.lexsort(yc.T[::-1]) if d > 1 else np.argsort(yc[:, 0], kind="stable")
                a = np.zeros(n) if ww is None else np.log(ww / ww.mean())
                mix = Mixture(yc[order], a[order], np.full(n, 0.5 / sigma2), None, None)
        elif self.prior == "bni":
            if d != 1:
                raise ValueError("prior='bni' supports 1-D targets only (as the authors' BNI); "
                                 "use 'bmc' or 'gai' for targets of shape (n, d)")
            mix = self._bin_mixture(y2[:, 0], ww, sigma, shift[0])
            fast = fast or (self.method == "auto" and mix.size > FAST_ABOVE)
        else:
            mix, kappa = self._gai_mixture(y2, ww, sigma, shift)
            fast = fast or (self.method == "auto" and d == 1 and mix.size > FAST_ABOVE)
        table = build_table(mix, sigma, limits=limits) if fast else None
        return BalancedStats(prior=self.prior, sigma=sigma, dim=d, shift=shift, kappa=kappa,
                             mixture=mix, table=table)

    def _bin_mixture(self, y: NDArray, w: NDArray | None, sigma: float, shift: float) -> Mixture:
        lo, hi = float(y.min()), float(y.max())
        if self.bins is None or isinstance(self.bins, int | np.integer):
            if self.bins is None:
                count = max(1, int(math.ceil((hi - lo) / (sigma / 4))))
            else:
                count = int(self.bins)
            if hi == lo:
                hi = lo + sigma / 4 * count
            edges = np.linspace(lo, hi, count + 1)
        else:
            edges = np.asarray(self.bins, dtype=np.float64)
            outside = int(np.sum((y < edges[0]) | (y > edges[-1])))
            if outside == y.size:
                raise ValueError(f"the bins [{edges[0]}, {edges[-1]}] hold none of the "
                                 f"{y.size} training labels")
            if outside:
                raise ValueError(
                    f"the bins [{edges[0]}, {edges[-1]}] leave {outside} of the {y.size} "
                    "training labels outside; they must cover every label")
        idx = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, edges.size - 2)
        counts = np.bincount(idx, weights=w, minlength=edges.size - 1)
        present = counts > 0
        if not np.any(present):
            raise ValueError("the bins leave no training labels (every bin is empty)")
        centres = 0.5 * (edges[:-1] + edges[1:])[present] - shift
        freq = counts[present] / counts.sum()
        m = centres.size
        return Mixture(centres[:, None], np.log(freq), np.full(m, 0.5 / (sigma * sigma)), None,
                       None)

    def _gai_mixture(self, y: NDArray, w: NDArray | None, sigma: float,
                     shift: NDArray) -> tuple[Mixture, float]:
        d = y.shape[1]
        if self.gmm is not None:
            means, weights, covs = _gmm_parameters(self.gmm, d)
        else:
            from sklearn.mixture import GaussianMixture

            k = int(self.n_components)
            distinct = np.unique(y, axis=0).shape[0]
            if distinct < k:
                raise ValueError(f"prior='gai' with n_components={k} needs at least {k} distinct "
                                 f"training labels; got {distinct}")
            gm = GaussianMixture(n_components=k, random_state=self.random_state).fit(y)
            means, weights, covs = gm.means_, gm.weights_, gm.covariances_
        sigma2 = sigma * sigma
        s = covs + sigma2 * np.eye(d)[None]
        prec = np.linalg.inv(s)
        _, logdet = np.linalg.slogdet(s)
        a = np.log(weights) - 0.5 * logdet
        centres = means - shift
        kappa = 0.5 * d * math.log(sigma2)
        shrink = np.eye(d)[None] - sigma2 * prec
        if d == 1:
            return Mixture(centres, a, 0.5 * prec[:, 0, 0], None, shrink[:, 0, 0]), kappa
        return Mixture(centres, a, None, prec, shrink), kappa

    # --------------------------------------------------------------- kernel
    def _check_dim(self, labels: Labels, stats: BalancedStats) -> None:
        d = 1 if labels.y.ndim == 1 else int(labels.y.shape[1])
        if d != stats.dim:
            raise ValueError(f"balanced_mse was fitted on {stats.dim}-dimensional targets; "
                             f"got {d}-dimensional ones")

    def _kernel(self, labels: Labels, stats: BalancedStats, mode: str, xp: Any,
                dtype: Any) -> Any:
        self._check_dim(labels, stats)
        table = None
        mix = None
        if stats.table is not None:
            tb = stats.table
            coef, lo = tb.coef, tb.lo
            if mode == "grad_hess":  # work in the margins' own frame: fold the shift in
                coef = coef.copy()
                coef[0] += stats.shift[0]
                lo = lo + float(stats.shift[0])
            table = {"lo": lo, "step": tb.step, "tails": tb.tails}
            for name, arr in (("first", tb.first), ("nsub", tb.nsub), ("coef", coef),
                              ("vcoef", tb.vcoef)):
                table[name] = asarray_on(arr, labels.y, xp, xp.float64)
        else:
            mix = _mix_to(stats.mixture, xp, labels.y)
        shift = asarray_on(stats.shift[None, :], labels.y, xp, xp.float64)
        floor = max(float(self.hessian_floor), HESSIAN_FLOOR)
        return functools.partial(_balanced_kernel, mix=mix, table=table, shift=shift,
                                 sigma2=stats.sigma ** 2, kappa=stats.kappa, mode=mode,
                                 hessian=self.hessian, floor=floor)

    def _init_constant(self, labels: Labels, w: Any, stats: BalancedStats) -> NDArray:
        self._check_dim(labels, stats)
        y = _to_numpy(labels.y).astype(np.float64).reshape(labels.y.shape[0], -1)
        ww = np.ones(y.shape[0]) if w is None else _to_numpy(w).astype(np.float64)
        if y.shape[0] == 0 or ww.sum() <= 0:
            return np.zeros(()) if labels.y.ndim == 1 else np.zeros(y.shape[1])
        # sum_i w_i l_i(z) = S * l(z; y_bar) + const: minimise one row's loss at the mean label
        ybar = (ww[:, None] * y).sum(axis=0) / ww.sum() - stats.shift
        mix, s2 = stats.mixture, stats.sigma ** 2

        def grad(z: NDArray) -> NDArray:
            mean, _ = mixture_moments(z[None, :], mix, s2, np)
            return 2 * (mean[0] - ybar)

        if stats.dim == 1:
            f = lambda v: float(grad(np.array([v]))[0])  # noqa: E731
            if f(ybar[0]) == 0:  # also when every label is the same: the loss is flat
                return np.asarray(ybar[0] + stats.shift[0])
            step = stats.sigma
            lo, hi = ybar[0] - step, ybar[0] + step
            for _ in range(60):
                if f(lo) <= 0 <= f(hi):
                    break
                step *= 2
                lo, hi = ybar[0] - step, ybar[0] + step
            else:
                return np.asarray(ybar[0] + stats.shift[0])
            z = optimize.brentq(f, lo, hi, xtol=1e-12 * max(1.0, stats.sigma), rtol=1e-14)
            return np.asarray(z + stats.shift[0])

        def fun(z: NDArray) -> tuple[float, NDArray]:
            v = 2 * s2 * (stats.kappa + mixture_log_sum(z[None, :], ybar[None, :], mix, s2, np))
            return float(v[0]), grad(z)

        res = optimize.minimize(fun, ybar.copy(), jac=True, method="BFGS",
                                options={"gtol": 1e-10 * max(1.0, stats.sigma)})
        return res.x + stats.shift


def _binned_mixture(y: NDArray, w: NDArray | None, sigma: float,
                    per_sigma: int = 32) -> Mixture:
    """The fast BMC prior: labels in bins of ``sigma / per_sigma``, each a Gaussian with the bin's
    count, mean and variance (moment matching), so that
    ``sum_{y in bin} exp(-(x - y)^2 / 2 sigma^2) ~= n sqrt(sigma^2 / s) exp(-(x - m)^2 / 2 s)``
    with ``s = sigma^2 + v``."""
    h = sigma / per_sigma
    lo = float(y.min())
    idx = np.floor((y - lo) / h).astype(np.int64)
    ww = np.ones(y.size) if w is None else w
    nb = int(idx.max()) + 1
    cnt = np.bincount(idx, weights=ww, minlength=nb)
    s1 = np.bincount(idx, weights=ww * y, minlength=nb)
    present = cnt > 0
    cnt, s1 = cnt[present], s1[present]
    mean = s1 / cnt
    dev = y - mean[np.searchsorted(np.flatnonzero(present), idx)]
    s2 = np.bincount(idx, weights=ww * dev * dev, minlength=nb)[present]
    var = np.maximum(s2 / cnt, 0.0)
    sigma2 = sigma * sigma
    s = sigma2 + var
    a = np.log(cnt / ww.mean()) - 0.5 * np.log(s / sigma2)
    return Mixture(mean[:, None], a, 0.5 / s, None, var / s)


def _gmm_parameters(gmm: Any, d: int) -> tuple[NDArray, NDArray, NDArray]:
    """(means (K, d), weights (K,), full covariances (K, d, d)) of a fitted mixture or a dict."""
    if isinstance(gmm, Mapping):
        means, weights = gmm.get("means"), gmm.get("weights")
        covs = gmm.get("covariances", gmm.get("variances"))
        ctype = "full"
    else:
        means, weights = getattr(gmm, "means_", None), getattr(gmm, "weights_", None)
        covs, ctype = getattr(gmm, "covariances_", None), getattr(gmm, "covariance_type", "full")
    if means is None or weights is None or covs is None:
        raise ValueError("gmm must be a fitted sklearn GaussianMixture or a dict with 'means', "
                         "'weights' and 'covariances' (or 'variances')")
    means = np.asarray(means, dtype=np.float64).reshape(-1, d)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    k = means.shape[0]
    covs = np.asarray(covs, dtype=np.float64)
    if ctype == "tied":
        covs = np.broadcast_to(covs, (k, d, d))
    elif ctype == "diag" or (covs.shape == (k, d) and d > 1):
        covs = np.einsum("ka,ab->kab", covs.reshape(k, d), np.eye(d))
    elif ctype == "spherical" or covs.size == k:
        covs = covs.reshape(k, 1, 1) * np.eye(d)[None]
    covs = covs.reshape(k, d, d)
    if weights.shape != (k,) or not np.all(weights > 0) or not np.all(np.isfinite(means)):
        raise ValueError("gmm weights must be positive, one per component, and means finite")
    return means, weights / weights.sum(), covs


def balanced_mse(
    sigma: float | None = None,
    prior: str = "bmc",
    *,
    bins: int | ArrayLike | None = None,
    n_components: int = 8,
    gmm: Any = None,
    method: str = "auto",
    hessian: str = "auto",
    hessian_floor: float = 0.1,
    random_state: int | None = 0,
) -> BalancedMSELoss:
    r"""Balanced MSE (Ren et al., CVPR 2022) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = 2\sigma^2 \Big[-\log \mathcal N(y_i; z_i, \sigma^2 I)
            + \log \int p_{\text{train}}(y') \, \mathcal N(y'; z_i, \sigma^2 I)\, dy'\Big]
            + \text{const}

    squared error ``||z - y||^2`` plus a term that lowers the loss where the
    training labels are dense, so rare target values are not drowned by
    frequent ones. The factor ``2 sigma^2`` (the authors' ``(2 noise_var)``
    rescale) keeps the squared-error scale, so ``learning_rate``, ``lambda``
    and ``min_child_weight`` mean what they mean for ``reg:squarederror``.

    Priors (the label distribution ``p_train``), one closed form for all:

    * ``"bmc"``: the training labels themselves (Batch-based Monte Carlo with
      the whole training set as the batch). The value equals the authors'
      ``BMCLoss`` on the training set: the mean over rows of the cross-entropy
      of the ``[N, N]`` logits ``-(z_i - y_j)^2 / (2 sigma^2)`` against the
      diagonal, times ``2 sigma^2``.
    * ``"bni"``: a histogram of the training labels (Bin-based Numerical
      Integration; centres at the bin midpoints, weights the bin frequencies;
      1-D targets only, as the authors' ``BNILoss``).
    * ``"gai"``: a Gaussian mixture fit to the training labels with
      scikit-learn (GMM-based Analytical Integration, as ``GAILoss`` and
      ``gai_loss_md``).

    With responsibilities ``r_j`` over the prior's centres (softmax of
    ``log w_j - (z - mu_j)' S_j^{-1} (z - mu_j) / 2 - log|S_j| / 2``,
    ``S_j = V_j + sigma^2 I``), the gradient is ``2 (e_bar - y)`` and the
    Hessian diagonal ``2 Var(y' | z) / sigma^2``: ``e_bar`` and ``Var`` are the
    mean and variance of a training label given the prediction ``z`` under
    the prior. The Hessian is non-negative (the loss is convex in ``z``) but
    tends to 0 where the responsibilities collapse onto one centre, e.g. for
    predictions outside the label range. Row ``i``'s loss depends on its own
    margin only: the Hessian is exactly diagonal.

    Parameters
    ----------
    sigma : float > 0, optional
        The label noise scale, in target units. Larger ``sigma`` balances more
        (it smooths the label density over a wider window); ``sigma -> 0``
        (but above the spacing of the labels) recovers squared error. Default:
        ``0.5`` x the standard deviation of the training labels (the root mean
        of the per-dimension variances for ``(n, d)`` targets). The authors
        used ``sigma`` of 8-10 years on ages (about 0.7 standard deviations)
        and 1 m on depth; tune it on a balanced validation metric (for
        example MAE averaged over target bins), trying 0.25-1 x the standard
        deviation.
    prior : {"bmc", "bni", "gai"}
    bins : int or array of edges, optional
        BNI only: the number of equal-width bins over the label range, or
        their edges (which must cover every training label). Default: bins
        of width ``sigma / 4``. Empty bins are dropped, as by the authors.
    n_components : int
        GAI only: mixture components (the authors used 8 on ages). The
        mixture is ``GaussianMixture(n_components, random_state=random_state)``
        with full covariances, fit to the training labels; sample weights are
        not used by the fit (scikit-learn's GaussianMixture takes none), rows
        of weight 0 are left out.
    gmm : fitted ``sklearn.mixture.GaussianMixture`` or dict, optional
        GAI only: a prior fitted elsewhere (the authors' ``gmm.pkl`` dict with
        ``means``, ``weights``, ``variances`` works).
    method : {"auto", "exact", "fast"}
        ``"exact"`` sums over every centre: ``O(n_rows x n_centres)`` per
        call (BMC on the full training set is ``O(N^2)``), in chunks of
        bounded memory. ``"fast"`` (1-D targets) tabulates the posterior
        mean, curvature and log-sum once per training set and interpolates
        them (cubic Hermite on an adaptively refined grid; ``O(1)`` per row).
        For BMC the labels are first merged into bins of ``sigma / 32``, each
        a Gaussian with the bin's count, mean and variance. Tabulated values
        are within about ``1e-7 sigma`` of those of the (binned) prior; see
        ``benchmarks/results/balanced_mse.md`` for the error against exact BMC.
        ``"auto"``: fast for 1-D priors with more than 512 centres, else exact.
    hessian : {"auto", "exact"}
        ``"exact"``: the exact diagonal, which may be 0. ``"auto"``: floored at
        ``hessian_floor x 2 w_i``, a fraction of the squared-error curvature
        ``2 w_i``.
    hessian_floor : float in [0, 1]
        Default 0.1: a Newton step is at most 10 times the squared-error step
        of the same gradient. (At 0 the floor is ``1e-6 x 2 w_i``.)
    random_state : int or None
        Seed of the GAI mixture fit.

    Returns
    -------
    BalancedMSELoss
        Label statistics (the prior, ``sigma``, the table) come from the
        training labels once and are cached; ``loss.fit(y)`` computes and
        freezes them (for instance once on the full labels of a cluster).

    Notes
    -----
    The value is the authors' formula (``(mse + bal) * 2 sigma^2``, BMC as
    the cross-entropy above), so it equals their implementations on the same
    data, constants included. ``sigma`` is fixed here; the authors can learn
    it. In the fast method, margins more than ``64 sigma`` beyond every
    centre continue the table's end values towards the posterior mean's
    limit there (the extreme label for BMC and BNI), exponentially with the
    rate that matches the table's end slope.

    References
    ----------
    J. Ren, M. Zhang, C. Yu, Z. Liu, "Balanced MSE for Imbalanced Visual
    Regression", CVPR 2022, arXiv:2203.16427; code: jiawei-ren/BalancedMSE.

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.random.default_rng(0).lognormal(size=200)
    >>> loss = gbloss.balanced_mse(prior="bmc")
    >>> grad, hess = loss.gradient_hessian(y, np.full(200, y.mean()))
    >>> grad.shape, bool((hess > 0).all())
    ((200,), True)
    """
    return BalancedMSELoss(sigma=sigma, prior=prior, bins=bins, n_components=n_components,
                           gmm=gmm, method=method, hessian=hessian, hessian_floor=hessian_floor,
                           random_state=random_state)
