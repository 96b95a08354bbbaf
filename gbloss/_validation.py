"""Input checks shared by every loss: each raises ``ValueError`` naming the problem."""

from __future__ import annotations

import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

from ._array import is_numpy

__all__ = [
    "check_finite_scalar",
    "check_option",
    "check_sample_weight",
    "infer_task",
]

BINARY, MULTICLASS, MULTILABEL, REGRESSION = "binary", "multiclass", "multilabel", "regression"


def check_option(name: str, value: Any, options: Collection[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}={value!r} is not one of {sorted(options)}")
    return value


def check_finite_scalar(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bound = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {bound} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return float(value)


def _any(xp: Any, mask: Any) -> bool:
    return bool(np.any(mask)) if is_numpy(xp) else bool(xp.any(mask))


def check_finite_array(name: str, a: Any, xp: Any) -> None:
    if is_numpy(xp):
        # One summing pass: NaN and inf propagate, so a finite sum means every
        # element is finite (an overflowing sum falls through to the full check).
        with np.errstate(all="ignore"):
            if np.isfinite(np.add.reduce(a, axis=None)):
                return
    if _any(xp, ~xp.isfinite(a)):
        kind = "NaN" if _any(xp, xp.isnan(a)) else "infinite"
        raise ValueError(f"{name} contains {kind} values")


def check_sample_weight(sample_weight: Any, n_rows: int, xp: Any, dtype: Any) -> Any:
    """Return ``sample_weight`` as a 1-D array of ``dtype``, or ``None`` when absent or empty."""
    if sample_weight is None:
        return None
    w = xp.asarray(sample_weight)
    if w.ndim == 2 and w.shape[1] == 1:
        w = xp.reshape(w, (-1,))
    if w.ndim == 1 and w.shape[0] == 0:
        return None  # XGBoost reports "no weights" as an empty array
    if w.ndim != 1 or w.shape[0] != n_rows:
        raise ValueError(f"sample_weight has shape {tuple(w.shape)}; expected ({n_rows},)")
    w = xp.astype(w, dtype)
    if _any(xp, xp.isnan(w)):
        raise ValueError("sample_weight contains NaN values")
    if _any(xp, w < 0):
        raise ValueError("sample_weight contains negative values")
    if _any(xp, xp.isinf(w)):
        raise ValueError("sample_weight contains infinite values")
    return w


def infer_task(y_shape: tuple[int, ...], raw_shape: tuple[int, ...]) -> str:
    """Classification task implied by the shapes of the labels and the margins.

    1-D margins with 1-D labels: binary. ``(n, k)`` margins with 1-D labels:
    multiclass (``k >= 2``; ``(n, 1)`` is treated as binary). ``(n, k)`` margins
    with ``(n, k)`` labels: multi-label.
    """
    if len(raw_shape) not in (1, 2) or len(y_shape) not in (1, 2):
        raise ValueError(
            f"raw_prediction must be 1-D or 2-D and y_true 1-D or 2-D; got shapes "
            f"{raw_shape} and {y_shape}"
        )
    if raw_shape[0] != y_shape[0]:
        raise ValueError(
            f"raw_prediction has {raw_shape[0]} rows but y_true has {y_shape[0]}: "
            f"shapes {raw_shape} and {y_shape} do not fit"
        )
    if len(raw_shape) == 1:
        if len(y_shape) != 1:
            raise ValueError(f"1-D raw_prediction {raw_shape} needs 1-D y_true, got {y_shape}")
        return BINARY
    if len(y_shape) == 1:
        return BINARY if raw_shape[1] == 1 else MULTICLASS
    if y_shape != raw_shape:
        raise ValueError(
            f"multi-label y_true must have the shape of raw_prediction; got {y_shape} and "
            f"{raw_shape}"
        )
    return MULTILABEL
