"""Metrics and decision rules on predicted probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .losses.cost_sensitive import check_cost_matrix

__all__ = ["min_expected_cost"]


def min_expected_cost(proba: ArrayLike, cost_matrix: ArrayLike) -> NDArray[np.intp]:
    r"""The Bayes-optimal decisions: the class of least expected cost under ``proba``.

    .. math::

        \hat y_i = \operatorname{argmin}_k \sum_j p_{ij} C_{jk}

    with ``C[j, k]`` the cost of predicting ``k`` when the truth is ``j`` (the
    matrix of :func:`gbloss.cost_sensitive`). For a binary matrix this predicts 1
    where ``p > (C01 - C00) / ((C01 - C00) + (C10 - C11))`` (Elkan 2001, when
    that denominator is positive). Ties go to the lower class (up to the
    rounding of ``proba @ cost_matrix``).

    Meant for calibrated probabilities (a log-loss model's, or calibrated
    scores). A model trained with :func:`gbloss.cost_sensitive` already
    outputs cost-aware scores: take its largest probability instead (applying
    this to them counts the costs twice).

    Parameters
    ----------
    proba : array of shape (n,) or (n, k)
        ``P(y = 1)`` for binary data (with a ``2 x 2`` matrix), or one
        probability per class (rows summing to 1), e.g.
        ``loss.transform(margins)`` or ``predict_proba``.
    cost_matrix : array of shape (k, k)
        Finite, non-negative, not constant.

    Returns
    -------
    decisions : int array of shape (n,)

    References
    ----------
    C. Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from gbloss.metrics import min_expected_cost
    >>> cost = [[0.0, 1.0], [10.0, 0.0]]  # a missed positive costs 10 false alarms
    >>> min_expected_cost(np.array([0.05, 0.2, 0.9]), cost)  # threshold 1/11
    array([0, 1, 1])
    """
    c = check_cost_matrix(cost_matrix)
    k = c.shape[0]
    p = _as_proba(proba, k)
    return np.argmin(p @ c, axis=1)


def _as_proba(proba: Any, k: int) -> NDArray[np.float64]:
    """``(n, k)`` class probabilities, checked; 1-D binary ``P(y = 1)`` stacked as ``[1 - p, p]``."""
    try:
        p = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"proba must be an array of probabilities, got {proba!r}") from None
    if p.ndim == 1:
        if k != 2:
            raise ValueError(f"1-D proba holds P(y = 1) of binary data, but cost_matrix is "
                             f"{k} x {k}: pass proba of shape (n, {k})")
        p = np.stack([1 - p, p], axis=1)
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"proba must have shape (n,) (binary) or (n, {k}) for a {k} x {k} "
                         f"cost_matrix, got {np.shape(proba)}")
    if not np.all((p >= 0) & (p <= 1)):  # NaN fails too
        raise ValueError("proba must hold probabilities in [0, 1]")
    return p
