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

Importing this module makes gbloss's losses XGBoost ``Objective`` classes
(XGBoost >= 3.2), so that XGBoost passes them the boosting round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._core.versions import require
from ._objective import xgboost as xgb_calls
from ._objective.device import params_device
from ._objective.protocol import Objective, register_with_xgboost
from ._objective.rounds import with_round_callback
from .losses import Loss

__all__ = ["booster_params", "estimator_params", "objective", "train"]

if TYPE_CHECKING:
    import xgboost as xgb
else:  # a clear message where it is missing or too old
    xgb = require("xgboost", extra="xgboost")

register_with_xgboost()


def _check_loss(loss: Any) -> None:
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a gbloss loss (for example gbloss.focal()), got {loss!r}")


def _num_class(params: Mapping[str, Any]) -> int | None:
    num_class = int(params.get("num_class", 0) or 0)
    return num_class if num_class > 1 else None


def booster_params(params: Mapping[str, Any], loss: Loss, y: Any,
                   sample_weight: Any = None) -> dict[str, Any]:
    """``params`` plus the ``objective`` and ``base_score`` that carry ``loss``'s init score.

    ``objective`` must not be in ``params``: it is chosen to match the loss's
    link (``binary:logistic``, ``multi:softprob`` with ``num_class``, or
    ``reg:squarederror``), so that predictions go through the right transform.
    ``base_score`` is the init score read through that link: ``sigmoid(init)``
    for ``binary:logistic`` (XGBoost applies the logit), the margins otherwise
    (a per-class list for multiclass and multi-label data, xgboost >= 3.1). A
    ``base_score`` already in ``params`` is kept as it is (read through the
    same link: a probability for binary data).

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
    _check_loss(loss)
    params = dict(params)
    if params.get("objective") is not None:
        raise ValueError(
            "params['objective'] is set by gbloss to match the loss's link; remove it "
            f"(got {params['objective']!r})"
        )
    num_class = _num_class(params)
    if loss.link == "identity":
        params["objective"] = "reg:squarederror"
    elif num_class:
        params["objective"] = "multi:softprob"
    else:
        params["objective"] = "binary:logistic"
    if params.get("base_score") is None:
        init = np.atleast_1d(np.asarray(loss.init_score(y, sample_weight, n_classes=num_class),
                                        dtype=np.float64))
        if params["objective"] == "binary:logistic":
            base = 1.0 / (1.0 + np.exp(-init))  # read back through logit by XGBoost
            init = np.clip(base, np.finfo(np.float32).tiny, 1 - np.finfo(np.float32).epsneg)
        # softmax and identity margins: XGBoost applies no link to their base_score
        params["base_score"] = float(init[0]) if init.size == 1 else [float(b) for b in init]
    params.setdefault("disable_default_eval_metric", True)
    return params


def estimator_params(loss: Loss, y: Any, sample_weight: Any = None, *,
                     n_classes: int | None = None) -> dict[str, Any]:
    """``objective`` and ``base_score`` for XGBoost's estimators (``XGBClassifier``, ...).

    ``objective`` is ``loss`` fitted to ``y`` (a fitted loss is kept as it is),
    so that its statistics survive :func:`sklearn.base.clone` and reach every
    validation metric; ``base_score`` carries the loss's init score in the form
    the estimator reads it (a probability for binary classifiers, per-class
    margins for multiclass, the value for regressors)::

        clf = xgb.XGBClassifier(**gbloss.xgboost.estimator_params(loss, y, w), n_estimators=100)
        clf.fit(X, y, sample_weight=w)
    """
    _check_loss(loss)
    fitted = loss._fitted_to(y, sample_weight, n_classes=n_classes)
    params = {"num_class": n_classes} if n_classes else {}
    return {"objective": fitted,
            "base_score": booster_params(params, fitted, y, sample_weight)["base_score"]}


def objective(loss: Loss, params: Mapping[str, Any]) -> Objective:
    """``loss`` as the objective of a booster with ``params``: kernel threads and device.

    ``nthread`` (or ``n_jobs``) sets the threads of gbloss's CPU kernels. With
    ``device="cuda"`` (or ``"cuda:N"``, ``"gpu"``) the objective and metric run
    on that GPU with cupy: labels, weights and label statistics are copied to
    the device once per training, the margins (which XGBoost hands over on the
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
    gbloss.Objective
        Callable as an XGBoost objective; ``.metric`` is the matching metric.
        ``loss`` itself is unchanged.
    """
    threads = params.get("nthread", params.get("n_jobs"))
    return Objective(loss, n_threads=threads, device=params_device(params))


def train(
    params: Mapping[str, Any],
    dtrain: xgb.DMatrix,
    loss: Loss,
    num_boost_round: int = 10,
    *,
    evals: Sequence[tuple[xgb.DMatrix, str]] | None = None,
    custom_metric: Any = None,
    xgb_model: Any = None,
    **kwargs: Any,
) -> xgb.Booster:
    """``xgboost.train`` with ``loss`` as objective and metric, and its init score set.

    The loss is fitted to ``dtrain``'s labels first (:meth:`gbloss.Loss.fit`),
    so the objective and every validation metric use the training statistics.

    Parameters
    ----------
    params : dict
        Booster parameters, without ``objective`` (set here from the loss's
        link). Give ``num_class`` for multiclass data, as usual. ``nthread``
        also sets the threads of gbloss's CPU kernels; ``device="cuda"`` runs
        the objective on the GPU (see :func:`objective`). A ``base_score``
        given here is kept (see :func:`booster_params`).
    dtrain : xgboost.DMatrix
        Training data with labels and optional weights. Weights are applied to
        the gradients by the loss (XGBoost does not apply them to a custom
        objective) and kept in the DMatrix for the quantile sketch.
    loss : gbloss.Loss
    num_boost_round : int
    evals, custom_metric, **kwargs
        As in :func:`xgboost.train`; ``custom_metric`` defaults to
        ``loss.metric``. A deferred re-weighting loss gets
        :func:`gbloss.drw_callback` added to ``callbacks`` when it has none.
    xgb_model : xgboost.Booster, str or path, optional
        A model to continue. Its ``base_score`` and objective are kept: the
        new rounds start from its margins, as with XGBoost's own objectives.

    Returns
    -------
    xgboost.Booster
        ``predict`` returns the loss's link of the margins (classification)
        or values (regression) including the init score; ``output_margin=True``
        the margins, and ``loss.predict_proba`` of them estimates of
        ``P(y | x)`` with what the loss does to the probabilities undone (fit
        the loss before training, ``loss = loss.fit(y_train)``, when it needs
        the class counts: an unfitted ``loss`` stays unfitted here; the copy
        fitted to ``dtrain``'s labels is the booster's attribute
        ``fitted_loss``, kept by pickling but not by ``save_model``). The loss
        itself is not saved with the model: pass it again as ``obj=`` to
        continue training.
    """
    _check_loss(loss)
    if not isinstance(dtrain, xgb.DMatrix):
        raise TypeError(f"dtrain must be an xgboost.DMatrix, got {type(dtrain).__name__}")
    n = dtrain.num_row()
    y, w, _, _ = xgb_calls.read(dtrain, np.empty(n))
    if y.ndim == 1 and n and y.size != n:
        y = y.reshape(n, -1)  # XGBoost < 3.2 flattens multi-target labels
    fitted = loss._fitted_to(y, w, n_classes=_num_class(params))
    if xgb_model is None:
        full = booster_params(params, fitted, y, w)
    else:
        full = {"disable_default_eval_metric": True, **params}  # the loaded model's own
    obj = objective(fitted, params)
    callbacks = with_round_callback(fitted, kwargs.pop("callbacks", None))
    booster = xgb.train(
        full,
        dtrain,
        num_boost_round,
        evals=list(evals or ()),
        obj=obj,
        custom_metric=custom_metric if custom_metric is not None else obj.metric,
        xgb_model=xgb_model,
        callbacks=callbacks,
        **kwargs,
    )
    setattr(booster, "fitted_loss", fitted)  # noqa: B010 (the loss with the training statistics)
    return booster
