"""Constant-margin solvers: a loss's init score from its own row math.

The init score is the constant margin that minimises the training loss. Each
loss supplies the slope (two classes, regression) or the value and gradient
(softmax) of its total loss at a constant margin; these solvers do the rest,
alike for every loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

__all__ = ["EPS", "EXTREME_LOGIT", "kernel_sigmoid_constant", "kernel_softmax_constant", "root",
           "scan_constant", "sigmoid_constant", "softmax_constant"]

EPS = float(np.finfo(np.float64).eps)
#: The logit of ``1 - eps``: a class absent from the labels gets probability ``eps``.
EXTREME_LOGIT = math.log((1 - EPS) / EPS)


def root(slope: Callable[[float], float], *, center: float = 0.0, step: float = 1.0,
         limit: float = 800.0, xtol: float = 1e-14, rtol: float = 4 * EPS) -> float:
    """The zero of a non-decreasing ``slope``: a bracket doubled out from ``center +- step``
    (up to ``limit`` away), then Brent's method. An end of the bracket when the zero lies
    beyond ``limit``."""
    lo, hi = center - step, center + step
    while slope(lo) > 0 and center - lo < limit:
        lo = center - 2 * (center - lo)
    while slope(hi) < 0 and hi - center < limit:
        hi = center + 2 * (hi - center)
    if slope(lo) > 0:
        return lo
    if slope(hi) < 0:
        return hi
    return float(optimize.brentq(slope, lo, hi, xtol=xtol, rtol=rtol))


def sigmoid_constant(pos: float, neg: float,
                     slope: Callable[[float], float] | None = None) -> float:
    """The constant margin of a sigmoid loss with total weight ``pos`` on positives and
    ``neg`` on negatives.

    ``slope(z)``: the derivative of the total loss at ``z``; None for
    cross-entropy, whose minimum is ``log(pos / neg)``. One class missing: the
    present class gets probability ``1 - eps``; both missing: 0.
    """
    if pos <= 0 or neg <= 0:
        if pos <= 0 and neg <= 0:
            return 0.0
        return EXTREME_LOGIT if pos > 0 else -EXTREME_LOGIT
    if slope is None:
        return math.log(pos) - math.log(neg)
    return root(slope)


def softmax_constant(
    weight: NDArray,
    objective: Callable[[NDArray], Callable[[NDArray], tuple[float, NDArray]]] | None = None,
) -> NDArray:
    """Centred constant margins ``(k,)`` of a softmax loss.

    ``weight``: the total weight of each class's rows (with class factors);
    classes of weight 0 get probability ``eps``. ``objective(idx)``: the
    ``(value, gradient)`` of the total loss as a function of the margins of
    the present classes ``idx``, minimised by BFGS from their log
    frequencies; None for cross-entropy, whose minimum they are.
    """
    weight = np.asarray(weight, dtype=np.float64)
    raw = np.zeros(weight.size)
    present = weight > 0
    if not np.any(present):
        return raw
    idx = np.flatnonzero(present)
    solution = np.log(weight[idx] / weight[idx].sum())
    if objective is not None and idx.size > 1:
        res = optimize.minimize(objective(idx), solution, jac=True, method="BFGS",
                                options={"gtol": 1e-12 * max(1.0, float(weight.sum())),
                                         "maxiter": 1000})
        solution = res.x
    solution = solution - np.logaddexp.reduce(solution)  # log-probabilities
    raw[:] = math.log(EPS)
    raw[idx] = solution
    return raw - raw.mean()


def scan_constant(pos: float, neg: float, value: Callable[[float], float],
                  slope: Callable[[float], float], *, limit: float = 60.0) -> float:
    """The constant margin of a two-class loss that need not be convex in the margin.

    ``value(z)`` and ``slope(z)``: the total loss and its derivative at ``z``.
    The global minimum on a grid over ``[-limit, limit]`` (step 1/4) is refined
    by Brent's method on the slope between its neighbours; a minimum at the
    edge of the grid stays there. One class missing: as :func:`sigmoid_constant`.
    """
    if pos <= 0 or neg <= 0:
        return sigmoid_constant(pos, neg)
    grid = np.linspace(-limit, limit, int(8 * limit) + 1)
    values = np.array([value(float(z)) for z in grid])
    i = int(np.argmin(values))
    if i in (0, grid.size - 1):
        return float(grid[i])
    lo, hi = float(grid[i - 1]), float(grid[i + 1])
    if slope(lo) <= 0 <= slope(hi):
        return float(optimize.brentq(slope, lo, hi, xtol=1e-14, rtol=4 * EPS))
    res = optimize.minimize_scalar(value, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-12})
    return float(res.x)


def kernel_sigmoid_constant(kernel: Any, y: NDArray, w: NDArray | None) -> NDArray:
    """Constant margins of a sigmoid loss from its row kernel, by :func:`scan_constant`.

    ``kernel(y, w, z, np, mode=...)``: the loss's row kernel (exact Hessian). A
    float array for 1-D labels ``y``, one margin per column for 2-D ones.
    """
    ww = 1.0 if w is None else (w if y.ndim == 1 else w[:, None])
    pos, neg = np.sum(ww * y, axis=0), np.sum(ww * (1 - y), axis=0)
    rows = np.array([1.0, 0.0])

    def solve(a: float, b: float) -> float:
        weights = np.array([a, b])

        def value(z: float) -> float:
            with np.errstate(all="ignore"):
                (v,) = kernel(rows, None, np.full(2, z), np, mode="value")
            return float(weights @ v)

        def slope(z: float) -> float:
            with np.errstate(all="ignore"):
                g, _ = kernel(rows, weights, np.full(2, z), np, mode="grad_hess")
            return float(np.sum(g))

        return scan_constant(a, b, value, slope)

    if y.ndim == 1:
        return np.asarray(solve(float(pos), float(neg)))
    return np.array([solve(float(pos[j]), float(neg[j])) for j in range(pos.shape[0])])


def kernel_softmax_constant(kernel: Any, y: NDArray, w: NDArray | None,
                            n_classes: int) -> NDArray:
    """Centred constant margins of a softmax loss from its row kernel, by
    :func:`softmax_constant` (absent classes held at probability ``eps``)."""
    counts = np.bincount(y.astype(np.intp), weights=w, minlength=n_classes)
    rows = np.arange(n_classes, dtype=np.int32)

    def objective(idx: NDArray) -> Any:
        def fun(c: NDArray) -> tuple[float, NDArray]:
            full = np.full(n_classes, np.log(np.finfo(np.float64).eps))
            full[idx] = c
            zz = np.broadcast_to(full, (n_classes, n_classes))
            with np.errstate(all="ignore"):
                (val,) = kernel(rows, None, zz, np, mode="value")
                g, _ = kernel(rows, counts, zz, np, mode="grad_hess")
            return float(counts @ val), np.sum(g, axis=0)[idx]

        return fun

    return softmax_constant(counts, objective)
