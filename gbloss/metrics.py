"""Metrics of predicted probabilities.

* :func:`calibration_error` -- expected calibration error (ECE) with
  equal-width bins;
* :func:`calibration_metric` -- the ECE of a loss's corrected probabilities
  (:meth:`gbloss.Loss.predict_proba`) as an XGBoost / LightGBM evaluation
  metric, usable for early stopping.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._core.labels import MULTILABEL, Labels
from ._core.namespace import to_numpy
from ._objective.binding import Binding, CallContext
from ._objective.protocol import Metric

__all__ = ["CalibrationMetric", "calibration_error", "calibration_metric"]


def calibration_error(
    y_true: ArrayLike,
    proba: ArrayLike,
    n_bins: int = 15,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    r"""Expected calibration error with ``n_bins`` equal-width bins.

    .. math::

        \mathrm{ECE} = \sum_b \frac{W_b}{W}\,
        \left|\bar y_b - \bar p_b\right|

    where bin ``b`` holds the rows whose confidence ``p`` falls in
    ``[b / B, (b + 1) / B)`` (the last bin includes 1), ``W_b`` is their total
    weight, ``bar p_b`` their mean confidence and ``bar y_b`` their mean
    outcome.

    * Binary: ``proba`` of shape ``(n,)`` is ``P(y = 1)``, the outcome is ``y``
      (the calibration of the positive class, as torchmetrics'
      ``binary_calibration_error``).
    * Multiclass: ``proba`` of shape ``(n, k)``; the confidence is the top
      probability and the outcome whether its class is ``y`` (top-label ECE,
      as torchmetrics' ``multiclass_calibration_error`` with ``norm="l1"``).
    * Multi-label: ``y_true`` and ``proba`` of shape ``(n, k)``: every entry is
      a binary event (the ECE of all columns pooled).

    Vectorised (``np.bincount``): a million rows take a few milliseconds.

    Parameters
    ----------
    y_true : array of shape (n,) or (n, k)
        0/1 labels (binary, multi-label) or class ids ``0..k-1`` (multiclass).
    proba : array of shape (n,) or (n, k)
        Probabilities in [0, 1].
    n_bins : int >= 1
    sample_weight : array of shape (n,), optional

    Returns
    -------
    float
        In [0, 1]; NaN when there are no rows (or no weight).

    References
    ----------
    M. P. Naeini, G. F. Cooper, M. Hauskrecht, "Obtaining Well Calibrated
    Probabilities Using Bayesian Binning", AAAI 2015. C. Guo, G. Pleiss, Y. Sun,
    K. Q. Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    y = np.asarray(to_numpy(y_true), dtype=np.float64)
    p = np.asarray(to_numpy(proba), dtype=np.float64)
    if p.ndim not in (1, 2) or p.shape[0] != y.shape[0]:
        raise ValueError(f"proba must have shape (n,) or (n, k) with n = {y.shape[0]} rows of "
                         f"y_true, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("proba must be probabilities: finite and in [0, 1]")
    if not np.all(np.isfinite(y)):
        raise ValueError("y_true contains NaN or infinite values")
    w = None
    if sample_weight is not None:
        w = np.asarray(to_numpy(sample_weight), dtype=np.float64).reshape(-1)
        if w.shape != (y.shape[0],) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"sample_weight must be finite, non-negative and of shape "
                             f"({y.shape[0]},)")
    if p.ndim == 2 and y.ndim == 1:  # multiclass: top label
        if np.any((y < 0) | (y >= p.shape[1]) | (y != np.round(y))):
            raise ValueError(f"multiclass y_true must hold class ids 0..{p.shape[1] - 1}")
        top = np.argmax(p, axis=1)
        confidence = p[np.arange(p.shape[0]), top]
        outcome = (top == y).astype(np.float64)
    else:
        if y.shape != p.shape:
            raise ValueError(f"y_true has shape {y.shape} but proba {p.shape}")
        if np.any((y < 0) | (y > 1)):
            raise ValueError("binary and multi-label y_true must be in [0, 1]")
        confidence, outcome = p.reshape(-1), y.reshape(-1)
        if w is not None and y.ndim == 2:
            w = np.repeat(w, y.shape[1])
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges[1:-1], confidence, side="right"), 0, n_bins - 1)
    weight = np.bincount(bins, weights=w, minlength=n_bins)
    total = float(np.sum(weight))
    if not total > 0:
        return float("nan")
    conf_sum = np.bincount(bins, weights=confidence if w is None else confidence * w,
                           minlength=n_bins)
    out_sum = np.bincount(bins, weights=outcome if w is None else outcome * w, minlength=n_bins)
    return float(np.sum(np.abs(out_sum - conf_sum)) / total)


class CalibrationMetric(Metric):
    """The ECE of a loss's :meth:`~gbloss.Loss.predict_proba` as a booster metric.

    Callable in every form of :class:`gbloss.Metric` (XGBoost ``custom_metric``,
    LightGBM ``feval``, the boosters' scikit-learn ``eval_metric``); lower is
    better. The probabilities use the loss's fitted statistics, else those of
    the training the evaluation set belongs to (as :class:`gbloss.Metric`).
    """

    def __init__(self, loss: Any, n_bins: int = 15, *, device: Any = None) -> None:
        super().__init__(loss, device=device)
        if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
            raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
        if loss.link == "identity":
            raise ValueError(f"{type(loss).__name__} is a regression loss: it has no class "
                             "probabilities to calibrate")
        self.n_bins: int = int(n_bins)
        self.__name__ = "ece"

    def __repr__(self) -> str:
        return f"CalibrationMetric({self.loss!r}, n_bins={self.n_bins})"

    def _value(self, labels: Labels, w: Any, raw: Any, stats: Any, xp: Any,
               context: CallContext, binding: Binding) -> float:
        proba = self.loss._predict_proba(raw, stats, "train", labels.task == MULTILABEL, xp)
        return calibration_error(labels.y, proba, self.n_bins,
                                 sample_weight=None if w is None else w)


def calibration_metric(loss: Any, n_bins: int = 15) -> CalibrationMetric:
    """The expected calibration error of ``loss.predict_proba`` as an evaluation metric.

    What the user gets is measured: the probabilities with the loss's class
    weights and focusing undone (:meth:`gbloss.Loss.predict_proba`, training
    prior), binned as in :func:`calibration_error`. Use it for early
    stopping on calibration::

        ece = gbloss.metrics.calibration_metric(loss)
        xgb.train(params, dtrain, obj=loss, custom_metric=ece, evals=[(dval, "val")],
                  early_stopping_rounds=20)
        lgb.train({"objective": loss, "metric": "None"}, train_set, valid_sets=[val_set],
                  feval=ece, callbacks=[lgb.early_stopping(20)])

    Pass the fitted loss (``loss.fit(y_train)``, the one given to the training): an unfitted
    loss that is not the training's own object falls back to the class counts of the
    evaluation labels. With ``drw_start_round`` the probabilities are those of the last
    round's class weights, so the values before the switch round do not measure the model
    of those rounds: let early stopping start after it.

    Parameters
    ----------
    loss : gbloss.Loss
        A classification loss.
    n_bins : int >= 1

    Returns
    -------
    CalibrationMetric
        Named ``"ece"``; lower is better.
    """
    return CalibrationMetric(loss, n_bins)
