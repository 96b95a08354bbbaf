"""ACB-MSE: squared error averaged within each target class (Adillwma/ACB-MSE).

The classes are zero and non-zero targets by default, or bins or a function of
the target; each class's mean squared error gets its own weight, so rare
non-zero targets (detector hits in a mostly empty image) are not drowned by the
common zeros. Fitted statistics: the element counts of each class
(:class:`ClassSizes`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import as_float_array, check_finite_scalar, check_option
from .._core.collective import Workers
from .._core.hessian import HESSIAN_FLOOR
from .._core.labels import REGRESSION, Labels, Task, check_regression_shapes
from .._core.namespace import asarray_on, to_numpy
from .._core.special import finite_bound
from .._objective.binding import CallContext
from ._contract import Loss

__all__ = ["ACBMSELoss", "ClassSizes", "acb_kernel", "acb_mse"]


def _as_2d(a: Any, xp: Any) -> Any:
    return xp.reshape(a, (-1, 1)) if a.ndim == 1 else a


def acb_kernel(y: Any, w: Any, z: Any, xp: Any, *, factors: Any, classes: Any,
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
    bound = finite_bound(z.dtype)
    r = xp.clip(z - y, min=-bound, max=bound)  # z - y overflows near the float maximum
    if mode == "value":
        v = c * r * r
        return (xp.sum(v, axis=-1) if v.ndim == 2 else v,)
    if w is not None:
        c = c * (_as_2d(w, xp) if z.ndim == 2 else w)
    # beyond the float range the gradient is the largest float of its sign
    grad, hess = xp.clip(2 * c * r, min=-4 * bound, max=4 * bound), 2 * c
    if hessian == "auto":
        if w is None:
            hess = xp.maximum(hess, xp.full_like(hess, HESSIAN_FLOOR))
        else:
            hess = xp.maximum(hess, HESSIAN_FLOOR * (_as_2d(w, xp) if z.ndim == 2 else w))
    return grad, hess


@dataclass(frozen=True)
class ClassSizes:
    """Fitted statistics of ACB-MSE: the sample-weighted element counts of each target class
    (``counts``, shape ``(k,)``) and the total row weight ``total``."""

    counts: NDArray[np.float64]
    total: float

    def summed(self, workers: Workers) -> ClassSizes:
        """These (one worker's) sizes summed over the workers of a distributed training
        (a worker may see fewer classes: the counts are padded to the most classes)."""
        k = int(workers.max(np.array([float(self.counts.size)]))[0])
        sums = workers.sum(np.concatenate([np.pad(self.counts, (0, k - self.counts.size)),
                                           [self.total]]))
        return ClassSizes(counts=sums[:k], total=float(sums[k]))


class ACBMSELoss(Loss):
    """ACB-MSE: squared error averaged within each target class; see :func:`gbloss.acb_mse`."""

    _name = "acb_mse"
    _tasks = (REGRESSION,)
    link = "identity"
    _statistics_params = ("classes",)

    def __init__(
        self,
        zero_weight: float = 1.0,
        nonzero_weight: float = 1.0,
        classes: ArrayLike | Callable[[Any], Any] | None = None,
        class_weight: ArrayLike | None = None,
        hessian: Literal["auto", "exact"] = "auto",
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
        if self.zero_weight == 0 and self.nonzero_weight == 0:
            raise ValueError("zero_weight and nonzero_weight are both 0: the loss would be 0")
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
                edges = as_float_array("classes", self.classes)
                if edges.ndim != 1 or edges.size == 0 or not np.all(np.isfinite(edges)) \
                        or np.any(np.diff(edges) <= 0):
                    raise ValueError("classes must be a callable or a non-empty, strictly "
                                     "increasing 1-D array of finite bin edges; got "
                                     f"{self.classes!r}")
        if self.class_weight is not None:
            cw = as_float_array("class_weight", self.class_weight)
            if cw.ndim != 1 or not np.all(np.isfinite(cw)) or np.any(cw < 0):
                raise ValueError("class_weight must be a 1-D array of finite non-negative weights")
            if not np.any(cw > 0):
                raise ValueError("class_weight is 0 for every class: the loss would be 0")
            if self.classes is not None and not callable(self.classes) \
                    and cw.size != np.size(self.classes) + 1:
                raise ValueError(f"{np.size(self.classes)} bin edges make "
                                 f"{np.size(self.classes) + 1} classes; class_weight has {cw.size}")

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> Task:
        check_regression_shapes(y_shape, raw_shape, "acb_mse")
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

    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> ClassSizes:
        y = to_numpy(labels.y).astype(np.float64)
        ids, k = self._class_ids(y)
        ww = np.ones(y.shape[0]) if w is None else to_numpy(w).astype(np.float64)
        elem_w = ww if y.ndim == 1 else np.repeat(ww, y.shape[1])
        counts: NDArray = np.bincount(ids.reshape(-1), weights=elem_w, minlength=k)[:k] if k \
            else np.zeros(0)
        return ClassSizes(counts=counts, total=float(ww.sum()))

    def _fit_stats_across(self, labels: Labels, w: Any, xp: Any, workers: Workers) -> ClassSizes:
        return self._fit_stats(labels, w, xp).summed(workers)

    def _factors(self, stats: ClassSizes) -> NDArray:
        """Per-class factors ``c_k S / N_k``, and one more for ids beyond the last class."""
        counts, total = stats.counts, stats.total
        if self.classes is None:
            cw = np.array([float(self.zero_weight), float(self.nonzero_weight)])
        elif self.class_weight is None:
            cw = np.ones(counts.size)
        else:
            cw = np.asarray(self.class_weight, dtype=np.float64)
            if cw.size < counts.size:
                raise ValueError(f"class_weight has {cw.size} entries; the labels have "
                                 f"{counts.size} classes")
        counts = np.pad(counts, (0, cw.size - counts.size))
        present = counts > 0
        # factor_k = weight_k * S / N_k, so that sum_i w_i l_i / S = sum_k weight_k * MSE_k
        factors = np.where(present, cw * total / np.where(present, counts, 1.0), 0.0)
        # A class without training rows contributes nothing to the training loss (the acb-mse
        # package replaces its NaN mean by 0). Rows of it met later (validation data, or class
        # ids above the largest seen) get the factor of the rarest present class times the
        # class's own weight (weight 1 for unseen ids).
        rarest = total / counts[present].min() if np.any(present) else 1.0
        factors = np.where(present, factors, cw * rarest)
        return np.append(factors, rarest)

    def _kernel(self, labels: Labels, stats: ClassSizes, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        factors = self._factors(stats)
        if self.classes is None:
            fac: Any = (float(factors[0]), float(factors[1]))
            classes: Any = None
        else:
            fac = asarray_on(factors, labels.y, xp, dtype)
            classes = self.classes if callable(self.classes) else \
                asarray_on(np.asarray(self.classes), labels.y, xp, dtype)
        return functools.partial(acb_kernel, factors=fac, classes=classes, mode=mode,
                                 hessian=self.hessian)

    def _init_constant(self, labels: Labels, w: Any, stats: ClassSizes) -> NDArray:
        y = to_numpy(labels.y).astype(np.float64)
        ids, _ = self._class_ids(y)
        factors = self._factors(stats)
        c = factors[np.minimum(ids, factors.size - 1)]
        ww = np.ones(y.shape[0]) if w is None else to_numpy(w).astype(np.float64)
        cw = c * (ww if y.ndim == 1 else ww[:, None])
        total = cw.sum(axis=0)
        mean = np.sum(cw * y, axis=0) / np.where(total > 0, total, 1.0)
        return np.where(total > 0, mean, y.mean(axis=0) if y.shape[0] else 0.0)


def acb_mse(
    zero_weight: float = 1.0,
    nonzero_weight: float = 1.0,
    classes: ArrayLike | Callable[[Any], Any] | None = None,
    class_weight: ArrayLike | None = None,
    hessian: Literal["auto", "exact"] = "auto",
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
