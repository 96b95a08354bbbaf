"""Per-class weights for imbalanced data, and the class counts they come from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import check_finite_scalar, check_option
from .._core.labels import Labels, Task, as_label_array
from .._core.namespace import to_numpy

__all__ = ["ClassCounts", "class_counts", "class_weights", "resolve_class_weight",
           "weights_from_counts"]

SCHEMES = ("balanced", "effective")


@dataclass(frozen=True)
class ClassCounts:
    """Fitted statistics of a classification loss: the (weighted) class counts.

    ``counts``: ``(2,)`` ``[n_0, n_1]`` for binary labels, ``(k,)`` for
    multiclass, ``(k, 2)`` for multi-label (``[n_neg, n_pos]`` per column).
    Class weights, LDAM margins and the like are derived from them with the
    loss's current parameters.
    """

    task: Task
    n_classes: int
    counts: NDArray[np.float64]

    @classmethod
    def of(cls, labels: Labels, w: Any) -> ClassCounts:
        counts = class_counts(to_numpy(labels.y), labels.n_classes, labels.task,
                              None if w is None else to_numpy(w))
        return cls(labels.task, labels.n_classes, counts)

    def class_prior(self) -> NDArray[np.float64]:
        """The training class frequencies, shaped like ``counts`` and summing to 1 along
        the last axis: ``[P(0), P(1)]`` (binary), ``(k,)`` (multiclass), ``(k, 2)``
        ``[P(neg), P(pos)]`` per column (multi-label). Uniform where a column has no weight.
        """
        counts = np.asarray(self.counts, dtype=np.float64)
        total = np.sum(counts, axis=-1, keepdims=True)
        uniform = np.full_like(counts, 1.0 / counts.shape[-1])
        return np.where(total > 0, counts / np.where(total > 0, total, 1.0), uniform)


def class_counts(y: NDArray, n_classes: int | None, task: str, w: NDArray | None) -> NDArray:
    """(Weighted) class counts: ``(2,)`` binary ``[n_0, n_1]``, ``(k,)`` multiclass, ``(k, 2)`` multi-label.

    Soft binary labels count fractionally: ``n_1 = sum(w * y)``, ``n_0 = sum(w * (1 - y))``.
    """
    y = np.asarray(y, dtype=np.float64)
    w = None if w is None else np.asarray(w, dtype=np.float64)
    if task == "multiclass":
        return np.bincount(y.astype(np.intp), weights=w, minlength=n_classes or 0).astype(float)
    ww = 1.0 if w is None else (w if y.ndim == 1 else w[:, None])
    n1 = np.sum(ww * y, axis=0)
    n0 = np.sum(ww * (1.0 - y), axis=0)
    return np.stack([n0, n1], axis=-1)


def weights_from_counts(counts: NDArray, scheme: str, beta: float) -> NDArray:
    """Weights along the last axis of ``counts`` with mean 1 over the rows they weight."""
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    if scheme == "balanced":
        raw = np.where(present, 1.0 / np.where(present, counts, 1.0), 0.0)
    else:  # effective number of samples (Cui et al. 2019): E_n = (1 - beta^n) / (1 - beta)
        with np.errstate(divide="ignore", invalid="ignore"):  # beta = 0: log(0) = -inf
            effective = -np.expm1(counts * np.log(beta)) / (1.0 - beta)
        raw = np.where(present, 1.0 / np.where(present, effective, 1.0), 0.0)
    # A class absent from the labels is at least as rare as the rarest present
    # one: it gets the largest weight, so that validation rows of it still count.
    largest = np.max(raw, axis=-1, keepdims=True)
    raw = np.where(present, raw, largest)
    # Normalise so that the weights average to 1 over the rows: sum_c n_c w_c = n.
    total = np.sum(counts, axis=-1, keepdims=True)
    weighted = np.sum(counts * raw, axis=-1, keepdims=True)
    scale = np.where(weighted > 0, total / np.where(weighted > 0, weighted, 1.0), 1.0)
    return raw * scale


def class_weights(
    y: ArrayLike,
    scheme: str = "balanced",
    beta: float = 0.9999,
    sample_weight: ArrayLike | None = None,
) -> NDArray[np.float64]:
    r"""Per-class weights that average to 1 over the rows.

    .. math::

        w_c \propto \frac{1}{n_c} \ (\text{"balanced"}), \qquad
        w_c \propto \frac{1 - \beta}{1 - \beta^{n_c}} \ (\text{"effective"}),
        \qquad \frac{1}{n} \sum_i w_{y_i} = 1

    ``"balanced"``: ``w_c = n / (k n_c)`` (as scikit-learn's
    ``compute_class_weight``). ``"effective"``: ``w_c`` proportional to
    ``(1 - beta) / (1 - beta^{n_c})``, the inverse effective number of samples
    (Cui et al., "Class-Balanced Loss Based on Effective Number of Samples",
    CVPR 2019, arXiv:1901.05555). Both are scaled so that
    ``sum_i w_{y_i} / n = 1``, so they change the balance between classes, not
    the overall scale of the loss (and hence not the learning rate or
    ``min_child_weight``).

    Parameters
    ----------
    y : array of shape (n,) or (n, k)
        Labels: 0/1 (or soft labels in [0, 1]) for binary, integers ``0..k-1``
        for multiclass, a 0/1 matrix for multi-label data.
    scheme : {"balanced", "effective"}
    beta : float in [0, 1)
        Only for ``"effective"``; ``beta -> 1`` approaches ``"balanced"``,
        ``beta = 0`` gives equal weights.
    sample_weight : array of shape (n,), optional
        Counts become sums of sample weights.

    Returns
    -------
    weights : ndarray
        ``(2,)`` for binary labels (``[w_0, w_1]``), ``(k,)`` for multiclass
        labels, ``(k, 2)`` for multi-label (``[w_neg, w_pos]`` of each column).
        A class absent from ``y`` gets the largest weight of the present ones.

    References
    ----------
    Y. Cui, M. Jia, T.-Y. Lin, Y. Song, S. Belongie, "Class-Balanced Loss Based
    on Effective Number of Samples", CVPR 2019, arXiv:1901.05555.
    """
    check_option("scheme", scheme, SCHEMES)
    beta = check_finite_scalar("beta", beta, low=0.0, high=1.0)
    if beta >= 1.0:
        raise ValueError(f"beta must be < 1, got {beta!r}")
    y = np.asarray(as_label_array(y, np, name="y"), dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] == 0:
        raise ValueError(f"y must be a non-empty 1-D or 2-D array, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w is not None and (w.shape != (y.shape[0],) or np.any(~(w >= 0))):
        raise ValueError("sample_weight must be a non-negative array of shape (n,)")
    if y.ndim == 2:
        if np.any((y < 0) | (y > 1)):
            raise ValueError("multi-label y must be in [0, 1]")
        task, k = "multilabel", y.shape[1]
    elif np.max(y) <= 1:
        if np.any(y < 0):
            raise ValueError("binary labels must be in [0, 1]")
        task, k = "binary", 2
    else:
        if np.any((y < 0) | (y != np.round(y))):
            raise ValueError("multiclass labels must be non-negative integers")
        task, k = "multiclass", int(np.max(y)) + 1
    return weights_from_counts(class_counts(y, k, task, w), scheme, beta)


def resolve_class_weight(
    class_weight: Any,
    task: str,
    n_classes: int,
    counts: NDArray | None,
    beta: float = 0.9999,
) -> NDArray | None:
    """Turn a ``class_weight=`` argument into an array shaped like the counts (or ``None``).

    ``counts`` are the training-set class counts; needed only for the schemes.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        assert counts is not None
        return weights_from_counts(counts, class_weight, beta)
    expected = (2,) if task == "binary" else (n_classes,) if task == "multiclass" else None
    if isinstance(class_weight, Mapping):
        size = 2 if task in ("binary", "multilabel") else n_classes
        unknown = [c for c in class_weight if not (isinstance(c, int | np.integer) and 0 <= c < size)]
        if unknown:
            raise ValueError(f"class_weight has keys {unknown} outside the classes 0..{size - 1}")
        cw = np.ones(size)
        for c, v in class_weight.items():
            cw[int(c)] = v
    else:
        cw = np.asarray(class_weight, dtype=np.float64)
    if task == "multilabel":
        if cw.shape == (2,):
            cw = np.broadcast_to(cw, (n_classes, 2))
        if cw.shape != (n_classes, 2):
            raise ValueError(
                f"multi-label class_weight must have shape (2,) or ({n_classes}, 2), got {cw.shape}"
            )
    elif cw.shape != expected:
        raise ValueError(f"class_weight must have shape {expected}, got {cw.shape}")
    check_class_weight_values(cw)
    return cw


def check_class_weight_values(cw: Any) -> None:
    """Explicit class weights: finite, non-negative, not all 0."""
    cw = np.asarray(cw, dtype=np.float64)
    if not np.all(np.isfinite(cw)) or np.any(cw < 0):
        raise ValueError("class_weight must be finite and non-negative")
    if cw.size and not np.any(cw > 0):
        raise ValueError("class_weight is 0 for every class: the loss (and every gradient) "
                         "would be 0")
