"""Labels: the task they imply, their validation, and their array form.

Every check raises an error that names the problem: the hidden cost of a wrong
label is a model trained on something else.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .checks import check_finite_array

__all__ = [
    "BINARY",
    "MULTICLASS",
    "MULTILABEL",
    "REGRESSION",
    "Labels",
    "Task",
    "as_label_array",
    "check_regression_shapes",
    "infer_task",
    "validate_labels",
]

Task = Literal["binary", "multiclass", "multilabel", "regression"]
BINARY: Task = "binary"
MULTICLASS: Task = "multiclass"
MULTILABEL: Task = "multilabel"
REGRESSION: Task = "regression"


@dataclass(frozen=True)
class Labels:
    """Validated labels of one data set.

    ``y``: float labels (binary, multi-label, regression) or int32 class ids
    (multiclass), on the device of the margins. ``n_classes``: ``k`` for
    multiclass and multi-label data, 1 otherwise. ``hard``: every binary or
    multi-label label is exactly 0 or 1.
    """

    task: Task
    y: Any
    n_classes: int
    hard: bool


def as_label_array(y_true: Any, xp: Any, name: str = "y_true") -> Any:
    """``y_true`` as a numeric array of ``xp``; strings, objects, complex numbers and
    sparse matrices are refused with an error that says what to pass instead."""
    if y_true is None:
        raise ValueError(f"{name} is None: the data have no labels")
    if _is_sparse(y_true):
        raise TypeError(f"{name} is a scipy sparse matrix; labels must be a dense array "
                        f"(for example {name}.toarray())")
    if xp is np or (not hasattr(y_true, "__array_namespace__") and not hasattr(y_true, "dtype")):
        try:
            y = np.asarray(y_true)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} cannot be read as a numeric array: {exc}") from None
        if y.dtype.kind == "O":  # numbers held as objects (pandas nullable dtypes, lists)
            with contextlib.suppress(TypeError, ValueError):
                y = y.astype(np.float64)
        if y.dtype.kind in "OUSVMm":
            raise TypeError(
                f"{name} has dtype {y.dtype}: labels must be numbers. Encode class labels as "
                "0..k-1 first (for example with sklearn.preprocessing.LabelEncoder), or use "
                "gbloss.sklearn.GBLossClassifier, which takes labels of any type")
        if y.dtype.kind == "c":
            raise TypeError(f"{name} is complex; labels must be real numbers")
        if y.dtype.kind == "b":
            y = y.astype(np.float64)
        return y if xp is np else xp.asarray(y)
    y = xp.asarray(y_true)
    if xp.isdtype(y.dtype, "complex floating"):
        raise TypeError(f"{name} is complex; labels must be real numbers")
    if xp.isdtype(y.dtype, "bool"):
        y = xp.astype(y, xp.float64)
    return y


def _is_sparse(a: Any) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a dependency
        return False
    return bool(sp.issparse(a))


def infer_task(y_shape: tuple[int, ...], raw_shape: tuple[int, ...]) -> Task:
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


def check_regression_shapes(y_shape: tuple, raw_shape: tuple, name: str) -> None:
    """Regression margins have the shape of the targets, ``(n,)`` or ``(n, d)``."""
    if len(raw_shape) not in (1, 2) or len(y_shape) not in (1, 2):
        raise ValueError(f"{name}: raw_prediction and y_true must be 1-D or 2-D; got shapes "
                         f"{raw_shape} and {y_shape}")
    if tuple(y_shape) != tuple(raw_shape):
        raise ValueError(
            f"{name}: raw_prediction of shape {raw_shape} does not fit y_true of shape "
            f"{y_shape}; regression margins must have the shape of the targets, (n,) or (n, d)"
        )


def validate_labels(y: Any, task: Task, n_classes: int, xp: Any, dtype: Any) -> Labels:
    """Check ``y`` for ``task`` and return it as :class:`Labels` (floats of ``dtype``,
    or int32 class ids)."""
    check_finite_array("y_true", y, xp)
    if task == MULTICLASS:
        yi = xp.astype(y, xp.int32) if n_classes < 2**31 else xp.astype(y, xp.int64)
        bad = (y < 0) | (y >= n_classes) | (xp.astype(yi, y.dtype) != y)
        if bool(xp.any(bad)):
            raise ValueError(
                f"multiclass labels must be integers in [0, {n_classes}); "
                f"raw_prediction has {n_classes} columns"
            )
        return Labels(task, yi, n_classes, hard=True)
    if task in (BINARY, MULTILABEL):
        if bool(xp.any((y < 0) | (y > 1))):
            kind = "binary" if task == BINARY else "multi-label"
            hint = (" (labels above 1 with one margin per row: for multiclass data give "
                    "(n, k) margins, num_class=k to the booster)"
                    if task == BINARY and bool(xp.any(y > 1)) else "")
            raise ValueError(f"{kind} labels must be in [0, 1]{hint}")
        y = xp.astype(y, dtype)
        hard = not bool(xp.any((y != 0) & (y != 1)))
        return Labels(task, y, n_classes if task == MULTILABEL else 1, hard)
    return Labels(task, xp.astype(y, dtype), 1, hard=False)
