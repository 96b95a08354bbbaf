"""LightGBM adapter: training with the init score set and baked into the model.

With a custom objective LightGBM starts from 0 (``boost_from_average`` is
ignored), never adds a Dataset's ``init_score`` to ``predict``, and saves no
objective, so ``predict`` returns raw scores. :func:`train` sets the loss's
optimal constant as ``init_score`` on the training set and on every
validation set, trains, then adds the constant to the leaves of the first
iteration's trees (as LightGBM's built-in objectives do with ``AddBias``) and
records the objective matching the loss's link. The returned booster's
``predict`` gives probabilities (or values) including the init score, and
``raw_score=True`` the margins, also after ``save_model`` and reloading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from ._base import Loss

__all__ = ["bake_init_score", "train"]


def _dataset_labels(ds: lgb.Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    label = ds.get_label()
    weight = ds.weight  # as given; LightGBM reads it at construction
    if label is None:
        raise ValueError("the training Dataset has no labels")
    y = np.asarray(label, dtype=np.float64).reshape(-1)
    w = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
    return y, w


def _num_rows(ds: lgb.Dataset) -> int:
    label = ds.get_label()
    return int(np.shape(label)[0]) if label is not None else ds.num_data()


def _objective_line(loss: Loss, num_class: int) -> str:
    if loss.link == "identity":
        return "objective=regression"
    if num_class > 1:
        return f"objective=multiclass num_class:{num_class}"
    return "objective=binary sigmoid:1"


def bake_init_score(booster: lgb.Booster, init: Any, loss: Loss) -> lgb.Booster:
    """Return a booster whose trees include ``init`` and whose ``predict`` applies the link.

    ``init`` is added to every leaf of the first iteration's tree of each class
    (what LightGBM's built-in objectives do with ``AddBias``), and the model
    records the objective matching ``loss.link`` (``binary sigmoid:1``,
    ``multiclass num_class:k`` or ``regression``), so ``predict`` returns
    probabilities (or values) and ``predict(raw_score=True)`` margins, both
    including ``init``, also after ``save_model`` and reloading.

    Parameters
    ----------
    booster : lightgbm.Booster
        Trained with a custom objective and ``init_score`` on its Datasets.
    init : float or array of shape (k,)
        The init score (one per class for multiclass models).
    loss : gbloss.Loss

    Returns
    -------
    lightgbm.Booster
        A new booster; ``best_iteration`` and ``best_score`` are kept.
    """
    init = np.atleast_1d(np.asarray(init, dtype=np.float64))
    text = booster.model_to_string(num_iteration=-1)
    starts = [m.start() for m in re.finditer(r"^Tree=\d+\n", text, flags=re.M)]
    stop = text.find("end of trees")
    if len(starts) < init.size or stop < 0:
        raise ValueError("the booster has fewer trees than classes: nothing can carry the init score")
    trees = [text[a:b] for a, b in zip(starts, [*starts[1:], stop])]
    for cls in range(init.size):
        def shift(match: re.Match, c: float = init[cls]) -> str:
            values = np.array(match.group(1).split(), dtype=np.float64) + c
            return "leaf_value=" + " ".join(repr(float(v)) for v in values)

        trees[cls] = re.sub(r"^leaf_value=(.*)$", shift, trees[cls], count=1, flags=re.M)
    head = text[: starts[0]]
    num_class = int(re.search(r"^num_class=(\d+)$", head, re.M).group(1))
    head = re.sub(r"^tree_sizes=.*$", "tree_sizes=" + " ".join(str(len(t)) for t in trees),
                  head, count=1, flags=re.M)
    head = re.sub(r"^objective=.*\n", "", head, flags=re.M)
    head = re.sub(r"^(max_feature_idx=.*)$", lambda m: m.group(1) + "\n"
                  + _objective_line(loss, num_class), head, count=1, flags=re.M)
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
    **kwargs: Any,
) -> lgb.Booster:
    """``lightgbm.train`` with ``loss`` as objective and metric, and its init score set.

    Parameters
    ----------
    params : dict
        Booster parameters; ``objective`` is set to ``loss`` and ``metric``
        defaults to ``"None"`` (LightGBM's built-in metrics would read raw
        scores as probabilities). Give ``num_class`` for multiclass data.
        ``num_threads`` also sets the threads of gbloss's CPU kernels.
    train_set : lightgbm.Dataset
        Its ``init_score`` is set to the loss's optimal constant, as is every
        validation set's.
    loss : gbloss.Loss
    num_boost_round : int
    valid_sets, valid_names, feval, **kwargs
        As in :func:`lightgbm.train`; ``feval`` defaults to ``loss.metric``.

    Returns
    -------
    lightgbm.Booster
        With the init score added to the first iteration's trees:
        ``predict`` gives probabilities (classification) or values
        (regression); ``raw_score=True`` gives margins.
    """
    params = dict(params)
    if isinstance(params.get("objective"), str):
        raise ValueError(
            "params['objective'] is set by gbloss to the loss; remove it "
            f"(got {params['objective']!r})"
        )
    num_class = int(params.get("num_class", 1) or 1)
    threads = next((params[k] for k in ("num_threads", "num_thread", "nthread", "nthreads",
                                        "n_jobs") if params.get(k) is not None), None)
    obj = loss._with_threads(threads)
    params["objective"] = obj
    params.setdefault("metric", "None")

    y, w = _dataset_labels(train_set)
    init = loss.init_score(y, w, n_classes=num_class if num_class > 1 else None)
    init = np.asarray(init, dtype=np.float64)
    seen: set[int] = set()
    for ds in [train_set, *(valid_sets or ())]:
        if id(ds) in seen:
            continue
        seen.add(id(ds))
        n = _num_rows(ds)
        ds.set_init_score(np.tile(init, (n, 1)) if init.ndim else np.full(n, float(init)))
    booster = lgb.train(
        params,
        train_set,
        num_boost_round,
        valid_sets=valid_sets,
        valid_names=valid_names,
        feval=feval if feval is not None else obj.metric,
        **kwargs,
    )
    return bake_init_score(booster, init, loss)
