r"""Focal-R: focal regression losses (Yang et al., ICML 2021, "Delving into Deep Imbalanced Regression").

The squared (``kind="mse"``) or absolute (``kind="l1"``) error, scaled by a
factor that grows with the error, so that rows predicted well weigh less than
the hard ones (the regression analogue of focal loss). With the error
``e = z - y``, ``a = |e|`` and the authors' sigmoid activation:

.. math::

    \ell_{\mathrm{mse}} = a^2 \, (2\sigma(\beta a) - 1)^\gamma, \qquad
    \ell_{\mathrm{l1}} = a \, (2\sigma(\beta a) - 1)^\gamma

exactly as ``weighted_focal_mse_loss`` / ``weighted_focal_l1_loss`` of the
authors' code (YyzHarry/imbalanced-regression, ``imdb-wiki-dir/loss.py``,
``activate='sigmoid'``). Since ``2 sigma(v) - 1 = tanh(v / 2)`` the math is
written with ``x = beta a / 2``, ``t = tanh x``, ``s = 1 - t^2`` and
``q = x / t`` (``q -> 1`` at ``x = 0``), from which every term is finite:

.. math::

    \ell'_{\mathrm{mse}}(a) = a \, t^\gamma (2 + \gamma q s), \qquad
    \ell''_{\mathrm{mse}}(a) = t^\gamma \big[2 + 4\gamma q s + \gamma(\gamma - 1) q^2 s^2
        - 2\gamma x^2 s\big],

.. math::

    \ell'_{\mathrm{l1}}(a) = t^\gamma (1 + \gamma q s), \qquad
    \ell''_{\mathrm{l1}}(a) = \tfrac{\beta}{2} \gamma \, t^{\gamma - 1} s
        \big[2 + (\gamma - 1) q s - 2 x t\big],

and ``d l / d z = sign(e) l'(a)``, ``d^2 l / d z^2 = l''(a)``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from .._core.checks import check_finite_scalar, check_option
from .._core.hessian import apply_hessian_policy
from .._core.labels import REGRESSION, Labels, Task, check_regression_shapes
from .._core.namespace import to_numpy
from .._core.special import finite_bound
from .._objective.binding import CallContext
from ._contract import Loss

__all__ = ["FocalRegressionLoss", "focal_regression", "focal_regression_kernel"]

Kind = Literal["mse", "l1"]
KINDS: tuple[Kind, ...] = ("mse", "l1")


def _parts(a: Any, beta: float, gamma: float, xp: Any) -> tuple[Any, ...]:
    """``(x, t, s, q, t^gamma)`` of ``a = |e| >= 0`` (all finite, also at ``a = 0``)."""
    x = (0.5 * beta) * a
    u = xp.exp(-2 * x)  # in (0, 1]: never overflows
    one_minus_u = -xp.expm1(-2 * x)
    t = one_minus_u / (1 + u)  # tanh x
    s = (4 * u) / ((1 + u) * (1 + u))  # 1 - tanh^2 x, without cancellation
    positive = x > 0
    # q = x / tanh x = x (1 + u) / (1 - u), 1 at x = 0
    q = xp.where(positive, x * (1 + u) / xp.where(positive, one_minus_u, 1), 1)
    tg = t ** gamma if gamma != 0 else xp.ones_like(t)
    return x, t, s, q, tg


def focal_regression_kernel(y: Any, w: Any, z: Any, xp: Any, *, kind: str, beta: float,
                            gamma: float, mode: str, hessian: str) -> tuple[Any, ...]:
    """Focal-R of each row (``mode="value"``), its gradient and Hessian diagonal
    (``"grad_hess"``, times ``w``), or the unweighted value and gradient (``"value_grad"``,
    for the torch twin). See :mod:`gbloss.losses.focal_regression` for the formulas.

    ``hessian``: ``"exact"``, or ``"auto"``: for ``kind="mse"`` the exact Hessian where
    it is at least ``HESSIAN_FLOOR w`` and the majoriser ``l'(a) / a`` elsewhere (floored);
    for ``kind="l1"`` the majoriser ``min(l'(a) / a, beta)`` everywhere (floored).
    """
    bound = finite_bound(z.dtype)
    e = xp.clip(z - y, min=-bound, max=bound)  # z - y overflows near the float maximum
    a = xp.abs(e)
    x, t, s, q, tg = _parts(a, beta, gamma, xp)
    mse = kind == "mse"
    if mode == "value":
        v = (a * a if mse else a) * tg
        return (xp.sum(v, axis=-1) if v.ndim == 2 else v,)
    # l'(a), with gamma q s = 0 when gamma = 0
    slope = (a * tg) * (2 + (gamma * q) * s) if mse else tg * (1 + (gamma * q) * s)
    sign = xp.sign(e)
    # beyond the float range the gradient is the largest float of its sign
    grad = xp.clip(sign * slope, min=-4 * bound, max=4 * bound)
    if mode == "value_grad":
        v = (a * a if mse else a) * tg
        return v, grad
    positive = t > 0
    t_safe = xp.where(positive, t, 1)
    if mse:
        xs = x * s
        exact = tg * (2 + (4 * gamma) * q * s + (gamma * (gamma - 1)) * (q * s) * (q * s)
                      - (2 * gamma) * xs * x)
        surrogate = tg * (2 + (gamma * q) * s)  # l'(a) / a
    else:
        # (beta / 2) gamma t^(gamma - 1) s [2 + (gamma - 1) q s - 2 x t], t^(gamma-1) = t^g / t
        inner = (0.5 * beta * gamma) * s * (2 + (gamma - 1) * q * s - 2 * x * t)
        at_zero = math.inf if gamma < 1 else (beta if gamma == 1 else 0.0)
        exact = xp.where(positive, (tg / t_safe) * inner, at_zero) if gamma != 0 else \
            xp.zeros_like(a)
        exact = xp.clip(exact, min=-bound, max=bound)
        # l'(a) / a = (beta / 2) t^(gamma - 1) (1 + gamma q s) / q, at most beta
        ratio = xp.where(positive, (tg / t_safe) * (1 + (gamma * q) * s) / q,
                         2.0 if gamma <= 1 else 0.0)  # its limit at e = 0 (capped)
        surrogate = (0.5 * beta) * xp.minimum(ratio, 2.0)
    if w is not None:
        wc = xp.reshape(w, (-1, 1)) if z.ndim == 2 else w
        grad, exact, surrogate = grad * wc, exact * wc, surrogate * wc
    else:
        wc = None
    if hessian == "exact":
        return grad, exact
    if mse:
        return grad, apply_hessian_policy(exact, surrogate, wc, "auto", xp)
    # the l1 kind's exact Hessian decays like exp(-beta a) and turns negative beyond
    # a ~ 2 / beta: a Newton step on it is unbounded; the majoriser gives IRLS steps
    return grad, apply_hessian_policy(surrogate, None, wc, "auto", xp)


class FocalRegressionLoss(Loss):
    """Focal-R (Yang et al., ICML 2021); see :func:`gbloss.focal_regression`."""

    _name = "focal_regression"
    _tasks = (REGRESSION,)
    link = "identity"

    def __init__(self, kind: Kind = "mse", beta: float = 0.2, gamma: float = 1.0,
                 hessian: Literal["auto", "exact"] = "auto") -> None:
        self.kind = kind
        self.beta = beta
        self.gamma = gamma
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_option("kind", self.kind, KINDS)
        check_finite_scalar("beta", self.beta, low=0.0, low_inclusive=False)
        check_finite_scalar("gamma", self.gamma, low=0.0)
        check_option("hessian", self.hessian, ("auto", "exact"))

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> Task:
        check_regression_shapes(y_shape, raw_shape, "focal_regression")
        return REGRESSION

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        return functools.partial(focal_regression_kernel, kind=self.kind,
                                 beta=float(self.beta), gamma=float(self.gamma), mode=mode,
                                 hessian=self.hessian)

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        y = to_numpy(labels.y).astype(np.float64)
        ww = np.ones(y.shape[0]) if w is None else to_numpy(w).astype(np.float64)
        if y.ndim == 1:
            return np.asarray(self._constant(y, ww))
        return np.array([self._constant(y[:, j], ww) for j in range(y.shape[1])])

    def _constant(self, y: NDArray, w: NDArray) -> float:
        """The constant minimising ``sum_i w_i l(c - y_i)``: a scan over the labels, then
        Brent's method between the neighbours of the best one (the total need not be convex)."""
        keep = w > 0
        y, w = y[keep], w[keep]
        if y.size == 0:
            return 0.0
        if self.kind == "l1" and self.gamma == 0:  # plain L1: a weighted median
            order = np.argsort(y, kind="stable")
            cum = np.cumsum(w[order])
            return float(y[order][min(int(np.searchsorted(cum, 0.5 * cum[-1])), y.size - 1)])
        kernel = functools.partial(focal_regression_kernel, kind=self.kind,
                                   beta=float(self.beta), gamma=float(self.gamma), mode="value",
                                   hessian="exact")

        def total(c: float) -> float:
            (v,) = kernel(y, None, np.full(y.shape, c), np)
            return float(np.dot(w, v))

        grid = np.unique(np.concatenate([
            np.quantile(y, np.linspace(0, 1, 65)), [np.average(y, weights=w)]]))
        values = np.array([total(c) for c in grid])
        best = int(np.argmin(values))
        if grid.size == 1:
            return float(grid[0])
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
        res = optimize.minimize_scalar(total, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12 * max(1.0, abs(hi - lo))})
        return float(res.x) if res.fun <= values[best] else float(grid[best])


def focal_regression(kind: Kind = "mse", beta: float = 0.2, gamma: float = 1.0,
                     hessian: Literal["auto", "exact"] = "auto") -> FocalRegressionLoss:
    r"""Focal-R (focal regression loss) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = |e_i|^p \, \big(2\sigma(\beta |e_i|) - 1\big)^\gamma,
        \qquad e_i = z_i - y_i, \quad p = 2 \ (\text{"mse"}) \text{ or } 1 \ (\text{"l1"})

    the squared or absolute error times a factor in ``[0, 1)`` that grows with
    the error (``2 sigma(v) - 1 = tanh(v / 2)``): rows already fitted well
    count less, the hard rows -- on an imbalanced target, mostly those of
    rare target values -- count more. The value equals the authors'
    ``weighted_focal_mse_loss`` / ``weighted_focal_l1_loss`` with
    ``activate='sigmoid'`` per row (their mean is :meth:`Loss.loss`). Targets
    of shape ``(n, d)`` sum the loss over the ``d`` columns of a row.

    Parameters
    ----------
    kind : {"mse", "l1"}
        Squared (``weighted_focal_mse_loss``) or absolute error
        (``weighted_focal_l1_loss``).
    beta : float > 0
        Scale of the factor, in 1 / target units: it saturates at 1 for
        ``|e| >> 1 / beta``. The authors used ``beta=0.2`` on ages in years
        and ``beta=20`` on STS-B scores in [0, 5].
    gamma : float >= 0
        Exponent of the factor; ``gamma=0`` is plain squared / absolute error.
    hessian : {"auto", "exact"}
        ``"exact"``: the second derivative above. For ``kind="mse"`` it is
        non-negative for ``gamma`` up to about 75 (the loss is convex there) and
        0 at ``e = 0`` when ``gamma > 0``; for larger ``gamma`` it turns
        negative near ``|e| ~ 7 / beta``. For ``kind="l1"`` it is infinite at
        ``e = 0`` for ``gamma < 1`` (returned as a quarter of the float
        maximum), decays like ``exp(-beta |e|)`` and is negative beyond
        ``|e|`` of about ``2.4 / beta`` for ``gamma = 1`` (2 to 4.3 / beta
        for gamma from 0.1 to 20: the loss is not convex), and is 0 for
        ``gamma = 0`` (plain L1, which is not differentiable at ``e = 0``:
        its gradient there is taken as 0).
        ``"auto"`` (default), positive on every row with positive weight:

        * ``kind="mse"``: the exact Hessian where it is at least
          ``HESSIAN_FLOOR * w`` (``1e-6 w``); elsewhere the majoriser
          curvature ``l'(|e|) / |e|`` (also >= 0), floored at ``1e-6 w``.
        * ``kind="l1"``: the majoriser curvature
          ``min(l'(|e|) / |e|, beta)`` on every row, floored at ``1e-6 w``.
          A Newton step with ``l'(|e|)/|e|`` moves a one-row leaf onto its
          label and a leaf of many rows to a weighted mean of their labels
          (a step of iteratively reweighted least squares): scale-free,
          where the exact Hessian, tiny for large errors, would give
          unbounded steps. The cap ``beta`` is its value at ``e = 0`` for
          ``gamma = 1``; it binds only for ``gamma < 1`` near ``e = 0`` (and
          for ``gamma = 0``, plain L1, where it makes the curvature
          ``min(1 / |e|, beta)``, Huber's IRLS weight at ``1 / beta``).
          XGBoost's ``reg:absoluteerror`` and LightGBM's ``l1`` use a
          Hessian of 1 and then set each leaf to a quantile of its residuals
          (leaf refresh), which a custom objective cannot do.

    Returns
    -------
    FocalRegressionLoss
        No statistics: the init score is the constant ``c`` minimising
        ``sum_i w_i l(c - y_i)`` (numerically; the total need not be convex).

    Notes
    -----
    The authors' ``tanh`` activation (``tanh(beta |e|)^gamma``) is this loss
    with ``beta`` doubled. Combine with :func:`gbloss.lds_weights` (LDS) as
    ``sample_weight`` for the paper's LDS + Focal-R.

    References
    ----------
    Y. Yang, K. Zha, Y.-C. Chen, H. Wang, D. Katabi, "Delving into Deep
    Imbalanced Regression", ICML 2021, arXiv:2102.09554; code:
    YyzHarry/imbalanced-regression (``loss.py``).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> loss = gbloss.focal_regression(kind="mse", beta=0.2, gamma=1.0)
    >>> round(loss.loss(np.array([0.0]), np.array([10.0])), 4)  # 100 * (2 sigmoid(2) - 1)
    76.1594
    """
    return FocalRegressionLoss(kind=kind, beta=beta, gamma=gamma, hessian=hessian)
