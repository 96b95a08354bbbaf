"""Input checks shared by every loss: each raises ``ValueError`` naming the problem."""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

from .namespace import is_numpy

__all__ = [
    "check_finite_array",
    "check_finite_scalar",
    "check_n_classes",
    "check_option",
    "check_sample_weight",
]


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
    number = math.nan
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError):  # (an int beyond the float range stays NaN)
            number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if low is not None and (number < low or (number == low and not low_inclusive)):
        bound = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {bound} {low}, got {value!r}")
    if high is not None and number > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return number


def check_n_classes(n_classes: Any) -> None:
    """``None`` or an integer >= 2."""
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer)
        or n_classes < 2
    ):
        raise ValueError(f"n_classes must be an integer >= 2 or None, got {n_classes!r}")


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
    if not (xp.isdtype(w.dtype, "real floating") or xp.isdtype(w.dtype, "integral")
            or xp.isdtype(w.dtype, "bool")):
        raise TypeError(f"sample_weight has dtype {w.dtype}; weights must be real numbers")
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


def as_margins(raw_prediction: Any, xp: Any, *, finite: bool = True) -> Any:
    """``raw_prediction`` as a real floating array of ``xp``, checked.

    Integers and booleans become float64; float16 (and bfloat16) margins are
    computed in float32, whose range the losses' formulas need. Complex,
    string and object arrays are refused. With ``finite`` (the default) NaN
    and infinite margins are refused too.
    """
    if is_numpy(xp):
        try:
            raw = np.asarray(raw_prediction)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"raw_prediction cannot be read as a numeric array: {exc}") from None
        if raw.dtype.kind not in "biuf":
            raise TypeError(f"raw_prediction has dtype {raw.dtype}; margins must be real numbers")
    else:
        raw = xp.asarray(raw_prediction)
        if xp.isdtype(raw.dtype, "complex floating"):
            raise TypeError(f"raw_prediction has dtype {raw.dtype}; margins must be real numbers")
    if not xp.isdtype(raw.dtype, "real floating"):
        raw = xp.astype(raw, xp.float64)
    elif _itemsize(raw.dtype) < 4:
        raw = xp.astype(raw, xp.float32)
    if finite:
        check_finite_array("raw_prediction", raw, xp)
    return raw


def _itemsize(dtype: Any) -> int:
    size = getattr(dtype, "itemsize", None)  # numpy, cupy and torch dtypes
    if size is None:  # array-api-strict's
        size = np.dtype(str(dtype).split(".")[-1]).itemsize
    return int(size)


def as_float_array(name: str, value: Any) -> np.ndarray:
    """A parameter given as numbers (scalar or array) as a float64 array, or a
    ``ValueError`` that names the parameter."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}"
                         ) from None
