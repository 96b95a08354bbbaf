"""The Hessian policy: what the boosters see where a loss is not convex.

The exact Hessian diagonal of focal loss (and of LMF, Dice, PEL) is negative
on confidently wrong rows; XGBoost and LightGBM then learn badly without a
word. Each loss computes its exact diagonal and a non-negative surrogate
curvature; :func:`apply_hessian_policy` turns them into what the booster gets.
"""

from __future__ import annotations

from typing import Any, Literal

from .checks import check_option

__all__ = [
    "HESSIAN_FLOOR",
    "HESSIAN_OPTIONS",
    "XGBOOST_HESSIAN_MIN",
    "HessianPolicy",
    "apply_hessian_policy",
    "booster_scale",
    "check_hessian_option",
]

HessianPolicy = Literal["auto", "exact", "xgboost", "lightgbm"]
#: ``hessian="auto"`` keeps the exact Hessian where it is at least this many
#: times the row's weight, and uses the loss's positive surrogate elsewhere.
HESSIAN_FLOOR = 1e-6
HESSIAN_OPTIONS: tuple[HessianPolicy, ...] = ("auto", "exact", "xgboost", "lightgbm")
#: XGBoost's own floor for the softmax Hessian (src/objective/multiclass_obj.cc).
XGBOOST_HESSIAN_MIN = 1e-16


def check_hessian_option(hessian: Any, options: tuple[str, ...] = HESSIAN_OPTIONS) -> str:
    return check_option("hessian", hessian, options)


def booster_scale(hessian: str, n_classes: int) -> float:
    """The multiclass Hessian factor of a booster convention: 2 (XGBoost's
    ``multi:softprob``), ``k / (k - 1)`` (LightGBM's ``multiclass``), else 1."""
    if hessian == "xgboost":
        return 2.0
    if hessian == "lightgbm":
        return n_classes / (n_classes - 1)
    return 1.0


def apply_hessian_policy(
    exact: Any,
    surrogate: Any,
    weight: Any,
    policy: str,
    xp: Any,
    *,
    scale: float = 1.0,
) -> Any:
    """Apply a Hessian policy to a loss's exact Hessian diagonal.

    ``exact``: the true diagonal (may be negative). ``surrogate``: the loss's
    non-negative curvature used where the exact one is too small or negative;
    ``None`` when the exact Hessian is never negative. ``weight``: the row's
    total weight (sample weight times class factors), broadcastable to
    ``exact``; ``None`` for 1. ``scale``: the booster convention's multiclass
    factor (:func:`booster_scale`), 1 otherwise.

    * ``"exact"``: ``exact``.
    * ``"auto"``: ``exact`` where ``exact >= HESSIAN_FLOOR * weight``, else
      ``max(surrogate, HESSIAN_FLOOR * weight)``: positive on every row with
      positive weight.
    * ``"xgboost"`` / ``"lightgbm"``: the exact Hessian where positive (the
      surrogate elsewhere) times ``scale``; ``"xgboost"`` then floors at 1e-16
      as XGBoost's softmax objective does.
    """
    if policy == "exact":
        return exact
    if policy == "auto":
        if weight is None:
            floor = HESSIAN_FLOOR
            h = xp.clip(exact, min=floor)
        else:
            floor = HESSIAN_FLOOR * weight
            h = xp.maximum(exact, floor)
        if surrogate is not None:
            # where(exact >= floor, exact, max(surrogate, floor)), without a `where` pass
            h = xp.maximum(h, surrogate * xp.astype(exact < floor, exact.dtype))
        return h
    h = exact
    if surrogate is not None:
        h = xp.where(exact > 0, exact, surrogate)
    if scale != 1.0:
        h = h * scale
    if policy == "xgboost":
        h = xp.maximum(h, xp.full_like(h, XGBOOST_HESSIAN_MIN))
    return h
