"""XGBoost adapter: training with the init score set, so users never hand-roll it.

XGBoost never estimates the intercept (``base_score``) for a custom objective:
it stays at 0.5 read through whichever built-in objective is configured. This
module computes the loss's optimal constant and sets it as ``base_score``,
together with the built-in objective whose link matches the loss
(``binary:logistic``, ``multi:softprob`` or ``reg:squarederror``), so that
``Booster.predict`` returns probabilities (or values) that include the init
score, also after ``save_model`` and ``load_model``. The custom gradient still
drives every boosting round: XGBoost never computes the built-in objective's
gradient when ``obj=`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xgboost as xgb

from ._base import Loss
from ._device import params_device, with_device

__all__ = ["booster_params", "objective", "train"]


def _labels(dtrain: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray | None]:
    y = dtrain.get_label()
    w = dtrain.get_weight()
    return y, (w if w.size else None)


def booster_params(params: Mapping[str, Any], loss: Loss, y: Any,
                   sample_weight: Any = None) -> dict[str, Any]:
    """``params`` plus the ``objective`` and ``base_score`` that carry ``loss``'s init score.

    ``objective`` must not be in ``params``: it is chosen to match the loss's
    link (``binary:logistic``, ``multi:softprob`` with ``num_class``, or
    ``reg:squarederror``), so that predictions go through the right transform.
    ``base_score`` is the init score read through that link: ``sigmoid(init)``
    for ``binary:logistic`` (XGBoost applies the logit), the margins otherwise
    (a per-class list for multiclass and multi-label data, xgboost >= 3.1).

    Parameters
    ----------
    params : mapping
        Booster parameters without ``objective``.
    loss : gbloss.Loss
    y : array of shape (n,) or (n, k)
        Training labels.
    sample_weight : array of shape (n,), optional

    Returns
    -------
    dict
        A copy of ``params`` with ``objective``, ``base_score`` and
        ``disable_default_eval_metric`` set.
    """
    params = dict(params)
    if params.get("objective") is not None:
        raise ValueError(
            "params['objective'] is set by gbloss to match the loss's link; remove it "
            f"(got {params['objective']!r})"
        )
    num_class = int(params.get("num_class", 0) or 0)
    init = loss.init_score(y, sample_weight, n_classes=num_class if num_class > 1 else None)
    init = np.atleast_1d(np.asarray(init, dtype=np.float64))
    if loss.link == "identity":
        params["objective"] = "reg:squarederror"
        base = init
    elif num_class > 1:
        params["objective"] = "multi:softprob"
        base = init  # softmax margins: XGBoost applies no link to a multiclass base_score
    else:
        params["objective"] = "binary:logistic"
        base = 1.0 / (1.0 + np.exp(-init))  # read back through logit by XGBoost
        base = np.clip(base, np.finfo(np.float32).tiny, 1 - np.finfo(np.float32).epsneg)
    params["base_score"] = float(base[0]) if base.size == 1 else [float(b) for b in base]
    params.setdefault("disable_default_eval_metric", True)
    return params


def objective(loss: Loss, params: Mapping[str, Any]) -> Loss:
    """``loss`` set up for the booster ``params``: kernel threads and device.

    ``nthread`` (or ``n_jobs``) sets the threads of gbloss's CPU kernels. With
    ``device="cuda"`` (or ``"cuda:N"``, ``"gpu"``) the objective and metric run
    on that GPU with cupy: labels, weights and label statistics are copied to
    the device once per DMatrix, the margins (which XGBoost hands over on the
    host) once per round, and the gradient and Hessian go back to XGBoost as
    device arrays. Use it with ``xgb.train(params, dtrain, obj=...)`` or
    ``XGBClassifier(objective=...)``; :func:`train` calls it.

    Parameters
    ----------
    loss : gbloss.Loss
    params : mapping
        Booster parameters; ``nthread``/``n_jobs`` and ``device`` are read.

    Returns
    -------
    gbloss.Loss
        A deep copy of ``loss`` sharing its label cache; ``loss`` itself is unchanged.
    """
    obj = loss._with_threads(params.get("nthread", params.get("n_jobs")))
    device = params_device(params)
    return with_device(obj, device) if device is not None else obj


def train(
    params: Mapping[str, Any],
    dtrain: xgb.DMatrix,
    loss: Loss,
    num_boost_round: int = 10,
    *,
    evals: Sequence[tuple[xgb.DMatrix, str]] | None = None,
    custom_metric: Any = None,
    **kwargs: Any,
) -> xgb.Booster:
    """``xgboost.train`` with ``loss`` as objective and metric, and its init score set.

    Parameters
    ----------
    params : dict
        Booster parameters, without ``objective`` (set here from the loss's
        link). Give ``num_class`` for multiclass data, as usual. ``nthread``
        also sets the threads of gbloss's CPU kernels; ``device="cuda"`` runs
        the objective on the GPU (see :func:`objective`).
    dtrain : xgboost.DMatrix
        Training data with labels and optional weights. Weights are applied to
        the gradients by the loss (XGBoost does not apply them to a custom
        objective) and kept in the DMatrix for the quantile sketch.
    loss : gbloss.Loss
    num_boost_round : int
    evals, custom_metric, **kwargs
        As in :func:`xgboost.train`; ``custom_metric`` defaults to
        ``loss.metric``.

    Returns
    -------
    xgboost.Booster
        ``predict`` returns probabilities (classification) or values
        (regression) including the init score; ``output_margin=True`` the
        margins. The loss itself is not saved with the model: pass it again as
        ``obj=`` to continue training.
    """
    y, w = _labels(dtrain)
    num_class = int(params.get("num_class", 0) or 0)
    if y.ndim == 1 and num_class < 2 and y.size and dtrain.num_row() and y.size != dtrain.num_row():
        y = y.reshape(dtrain.num_row(), -1)  # XGBoost < 3.2 flattens multi-target labels
    full = booster_params(params, loss, y, w)
    obj = objective(loss, params)
    return xgb.train(
        full,
        dtrain,
        num_boost_round,
        evals=list(evals or ()),
        obj=obj,
        custom_metric=custom_metric if custom_metric is not None else obj.metric,
        **kwargs,
    )
