"""LightGBM adapter: training with the init score set and baked into the model.

With a custom objective LightGBM starts from 0 (``boost_from_average`` is
ignored), never adds a Dataset's ``init_score`` to ``predict``, and saves no
objective, so ``predict`` returns raw scores. :func:`train` fits the loss to
the training labels, sets its optimal constant as ``init_score`` on the
training set and every validation set for the duration of training, then adds
the constant to the leaves of the first iteration's trees (as LightGBM's
built-in objectives do with ``AddBias``) and records the objective matching
the loss's link. The returned booster's ``predict`` gives probabilities (or
values) including the init score, and ``raw_score=True`` the margins, also
after ``save_model`` and reloading.

LightGBM's scikit-learn estimators (``LGBMClassifier(objective=loss)``) return
raw scores from ``predict`` and ``predict_proba`` for any custom objective;
use :class:`gbloss.sklearn.GBLossClassifier` with ``booster="lightgbm"`` for
labels and probabilities.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._core.labels import as_label_array
from ._core.versions import require
from ._objective import lightgbm as lgb_calls
from ._objective.protocol import Objective
from ._objective.rounds import with_round_callback
from .losses import Loss

__all__ = ["bake_init_score", "train"]

if TYPE_CHECKING:
    import lightgbm as lgb
else:  # a clear message where it is missing or too old
    lgb = require("lightgbm", extra="lightgbm")


def _dataset_labels(ds: lgb.Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    """The labels and weights, read before LightGBM constructs the Dataset (and
    replaces NaN labels by 0)."""
    label, weight, _, _ = lgb_calls.read(ds)
    y = np.asarray(as_label_array(label, np), dtype=np.float64).reshape(-1)
    w = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
    return y, w


def _num_rows(ds: lgb.Dataset) -> int:
    return len(ds.label) if ds.label is not None else ds.num_data()


def _has_init_score(ds: lgb.Dataset) -> bool:
    return ds.init_score is not None or (ds._handle is not None
                                         and ds.get_field("init_score") is not None)


def _clear_init_score(ds: lgb.Dataset) -> None:
    ds.init_score = None
    if ds._handle is not None:
        ds.set_field("init_score", None)


def _objective_line(loss: Loss, num_class: int) -> str:
    if loss.link == "identity":
        return "objective=regression"
    if num_class > 1:
        return f"objective=multiclass num_class:{num_class}"
    return "objective=binary sigmoid:1"


def bake_init_score(booster: lgb.Booster, init: Any, loss: Loss) -> lgb.Booster:
    """Return a booster whose trees include ``init`` and whose ``predict`` applies the link.

    ``init`` is added to every leaf of the first iteration's tree of each class
    (what LightGBM's built-in objectives do with ``AddBias``; for linear trees
    to the leaves' constants too), and the model records the objective
    matching ``loss.link`` (``binary sigmoid:1``, ``multiclass num_class:k`` or
    ``regression``), so ``predict`` returns probabilities (or values) and
    ``predict(raw_score=True)`` margins, both including ``init``, also after
    ``save_model`` and reloading. ``init=None`` only records the objective.

    Parameters
    ----------
    booster : lightgbm.Booster
        Trained with a custom objective and ``init_score`` on its Datasets.
    init : float, array of shape (k,) or None
        The init score (one per class for multiclass models).
    loss : gbloss.Loss

    Returns
    -------
    lightgbm.Booster
        A new booster; ``best_iteration`` and ``best_score`` are kept.
    """
    text = booster.model_to_string(num_iteration=-1)
    starts = [m.start() for m in re.finditer(r"^Tree=\d+\n", text, flags=re.MULTILINE)]
    stop = text.find("end of trees")
    head_end = starts[0] if starts else stop
    if stop < 0:
        raise ValueError("not a LightGBM model string: 'end of trees' is missing")
    trees = [text[a:b] for a, b in zip(starts, [*starts[1:], stop], strict=True)]
    if init is not None:
        init = np.atleast_1d(np.asarray(init, dtype=np.float64))
        if len(trees) < init.size:
            raise ValueError("the booster has fewer trees than classes: nothing can carry the "
                             "init score")
        for cls in range(init.size):
            def shift(match: re.Match, c: float = init[cls]) -> str:
                values = np.array(match.group(2).split(), dtype=np.float64) + c
                return match.group(1) + "=" + " ".join(repr(float(v)) for v in values)

            # leaf_value: the leaves' outputs; leaf_const: a linear tree's constants
            trees[cls] = re.sub(r"^(leaf_value|leaf_const)=(.*)$", shift, trees[cls],
                                flags=re.MULTILINE)
    head = text[:head_end]
    found = re.search(r"^num_class=(\d+)$", head, re.MULTILINE)
    if found is None:
        raise ValueError("not a LightGBM model string: 'num_class' is missing")
    num_class = int(found.group(1))
    if trees:
        head = re.sub(r"^tree_sizes=.*$", "tree_sizes=" + " ".join(str(len(t)) for t in trees),
                      head, count=1, flags=re.MULTILINE)
    head = re.sub(r"^objective=.*\n", "", head, flags=re.MULTILINE)
    head = re.sub(r"^(max_feature_idx=.*)$", lambda m: m.group(1) + "\n"
                  + _objective_line(loss, num_class), head, count=1, flags=re.MULTILINE)
    model = head + "".join(trees) + text[stop:]
    baked = lgb.Booster(model_str=model)
    baked.best_iteration = booster.best_iteration
    baked.best_score = booster.best_score
    return baked


def train(
    params: Mapping[str, Any],
    train_set: lgb.Dataset,
    loss: Loss,
    num_boost_round: int = 100,
    *,
    valid_sets: Sequence[lgb.Dataset] | None = None,
    valid_names: Sequence[str] | None = None,
    feval: Any = None,
    init_model: Any = None,
    **kwargs: Any,
) -> lgb.Booster:
    """``lightgbm.train`` with ``loss`` as objective and metric, and its init score set.

    The loss is fitted to the training labels first (:meth:`gbloss.Loss.fit`),
    so the objective and every validation metric use the training statistics.

    Parameters
    ----------
    params : dict
        Booster parameters; ``objective`` is set to ``loss`` and ``metric``
        defaults to ``"None"`` (LightGBM's built-in metrics would read raw
        scores as probabilities). Give ``num_class`` for multiclass data.
        ``num_threads`` also sets the threads of gbloss's CPU kernels.
    train_set : lightgbm.Dataset
        Its labels are checked before LightGBM constructs it (LightGBM
        replaces NaN labels by 0). Without an ``init_score`` of its own, the
        loss's optimal constant is its init score during training, and that
        of every validation set without one; the Datasets get their own
        (none) back afterwards. A Dataset's own ``init_score`` is an offset:
        as LightGBM's built-in objectives do, gbloss then adds no constant.
    loss : gbloss.Loss
    num_boost_round : int
    valid_sets, valid_names, feval, **kwargs
        As in :func:`lightgbm.train`; ``feval`` defaults to ``loss.metric``. A
        deferred re-weighting loss gets :func:`gbloss.drw_callback` added to
        ``callbacks`` when it has none.
    init_model : lightgbm.Booster, str or path, optional
        A model to continue: the new trees start from its predictions (which
        already hold any init score), as in :func:`lightgbm.train`.

    Returns
    -------
    lightgbm.Booster
        With the init score added to the first iteration's trees:
        ``predict`` gives the loss's link of the margins (classification) or
        values (regression); ``raw_score=True`` gives margins, and
        ``loss.predict_proba`` of them estimates of ``P(y | x)`` with what the
        loss does to the probabilities undone (fit the loss before training
        when it needs the class counts: an unfitted ``loss`` stays unfitted
        here; the copy fitted to ``train_set``'s labels is the booster's
        attribute ``fitted_loss``, kept by pickling but not by ``save_model``).
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a gbloss loss (for example gbloss.focal()), got {loss!r}")
    if not isinstance(train_set, lgb.Dataset):
        raise TypeError(f"train_set must be a lightgbm.Dataset, got {type(train_set).__name__}")
    params = dict(params)
    if params.get("objective") is not None:
        raise ValueError(
            "params['objective'] is set by gbloss to the loss; remove it "
            f"(got {params['objective']!r})"
        )
    num_class = int(params.get("num_class", 1) or 1)
    y, w = _dataset_labels(train_set)
    if num_class < 2 and loss.link != "identity" and y.size and np.nanmax(y) > 1:
        raise ValueError(
            f"the labels go up to {np.nanmax(y):g}: for multiclass data set "
            f"params['num_class'] to the number of classes (LightGBM trains one margin per "
            "row without it)")
    for i, ds in enumerate(valid_sets or ()):
        if ds is not train_set and ds.label is None and ds._handle is None:
            raise ValueError(f"valid_sets[{i}] has no labels: gbloss's metric needs them "
                             "(lgb.Dataset(X_val, label=y_val))")
    fitted = loss._fitted_to(y, w, n_classes=num_class if num_class > 1 else None)
    obj = Objective(fitted, n_threads=lgb_calls.threads(params))
    params["objective"] = obj
    params.setdefault("metric", "None")

    init = None
    owned: list[lgb.Dataset] = []
    if init_model is None and not _has_init_score(train_set):
        init = np.asarray(fitted.init_score(y, w, n_classes=num_class if num_class > 1 else None),
                          dtype=np.float64)
        for ds in {id(d): d for d in [train_set, *(valid_sets or ())]}.values():
            if not _has_init_score(ds):
                n = _num_rows(ds)
                ds.set_init_score(np.tile(init, (n, 1)) if init.ndim else np.full(n, float(init)))
                owned.append(ds)
    try:
        booster = lgb.train(
            params,
            train_set,
            num_boost_round,
            valid_sets=None if valid_sets is None else list(valid_sets),
            valid_names=None if valid_names is None else list(valid_names),
            feval=feval if feval is not None else obj.metric,
            init_model=init_model,
            callbacks=with_round_callback(fitted, kwargs.pop("callbacks", None)),
            **kwargs,
        )
    finally:
        for ds in owned:
            _clear_init_score(ds)
    baked = bake_init_score(booster, init, fitted)
    setattr(baked, "fitted_loss", fitted)  # noqa: B010 (the loss with the training statistics)
    return baked
