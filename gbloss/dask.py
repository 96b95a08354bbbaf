"""Distributed training on Dask with the same loss objects.

In ``xgboost.dask`` and ``lightgbm.dask`` every worker builds its booster's
data from its own partitions, and the objective sees only those rows. A loss
whose gradient depends on more than its row needs dataset-wide values:

* **label statistics** (class counts of ``class_weight="balanced"`` /
  ``"effective"``, LDAM and LMF margins, Balanced MSE's label distribution,
  ACB-MSE's class sizes): inside XGBoost's collective an unfitted loss
  computes them from all the workers' labels itself, so plain
  ``xgboost.dask.train(obj=loss)`` and ``DaskXGBClassifier(objective=loss)``
  give the single-process model. :func:`fit` computes them once from *all* the
  labels on the client and freezes them in a copy of the loss (what LightGBM,
  which has no collective for the objective, needs); :func:`train` does this,
  sets the init score as ``base_score``, and calls ``xgboost.dask.train``.
* **sums over predictions** (Dice and PEL): they change every round, so the
  objective all-reduces them across workers with
  ``xgboost.collective.allreduce`` (float64, a few collectives per round;
  :mod:`gbloss._objective.xgboost`). Groups (XGBoost ``qid``: one image = one
  group) must lie within one partition: :func:`train` checks it. Without
  ``qid`` the whole data set is one group. LightGBM's objective has no
  collective to call, so Dice and PEL are refused inside ``lightgbm.dask``
  training.

Threads: gbloss's CPU kernels use the worker's thread count (XGBoost's worker
DMatrix ``nthread``, LightGBM's ``num_threads``), so two processes of one
thread each on two cores run two kernel threads, not four.

This module imports dask, distributed and xgboost only when its functions run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from ._core.namespace import to_numpy
from ._core.versions import require
from ._objective.lightgbm import REFUSE_DISTRIBUTED
from .losses import Loss

require("dask", extra="dask")
require("distributed", extra="dask")

__all__ = ["check_groups", "estimator_params", "fit", "lightgbm_objective", "train"]


# --------------------------------------------------------------------- statistics
@overload
def _gather(a: None) -> None: ...


@overload
def _gather(a: Any) -> NDArray: ...


def _gather(a: Any) -> NDArray | None:
    """A dask collection (array, series, frame), or any array, as one host numpy array."""
    if a is None:
        return None
    if hasattr(a, "__dask_graph__"):
        a = a.compute()
    if hasattr(a, "to_numpy"):  # pandas / cudf
        a = a.to_numpy()
    return to_numpy(a)


def fit(loss: Loss, y: Any, sample_weight: Any = None, *, n_classes: int | None = None) -> Loss:
    """A copy of ``loss`` whose label statistics come from all of ``y``.

    Parameters
    ----------
    loss : gbloss.Loss
    y : dask array / series / frame, or array, shape (n,) or (n, k)
        All training labels (as given to the booster).
    sample_weight : same kind, shape (n,), optional
    n_classes : int, optional
        Number of classes of 1-D multiclass labels (``num_class``).

    Returns
    -------
    gbloss.Loss
        :meth:`gbloss.Loss.fit` on the gathered labels: every worker's
        objective then uses the global class counts, label distribution or
        class sizes, whatever its partitions hold.

    Notes
    -----
    The labels (and weights) are gathered to the client, 8 bytes per label:
    the statistics of Balanced MSE (a density estimate) need all of them.
    """
    return loss._fitted_to(_gather(y), _gather(sample_weight), n_classes=n_classes)


def estimator_params(loss: Loss, y: Any, sample_weight: Any = None, *,
                     n_classes: int | None = None) -> dict[str, Any]:
    """``objective`` and ``base_score`` for the Dask estimators (``DaskXGBClassifier`` ...).

    :func:`gbloss.xgboost.estimator_params` on all the labels (gathered):
    ``objective`` is the loss fitted to them, ``base_score`` their init score
    in the form the estimator reads it::

        est = DaskXGBClassifier(**gbloss.dask.estimator_params(loss, y, w), n_estimators=100)
        est.fit(X, y, sample_weight=w)
    """
    from . import xgboost as gxgb

    return gxgb.estimator_params(loss, _gather(y), _gather(sample_weight), n_classes=n_classes)


# ---------------------------------------------------------------- XGBoost on Dask
def _part_meta(part: Mapping[str, Any]) -> dict[str, Any]:
    """Labels, weights and the distinct qids of one DaskDMatrix partition (runs on a worker)."""
    out: dict[str, Any] = {}
    for name in ("label", "weight"):
        value = part.get(name)
        out[name] = None if value is None else _gather(value)
    qid = part.get("qid")
    out["qid"] = None if qid is None else np.unique(_gather(qid).reshape(-1))
    out["rows"] = int(part["data"].shape[0])
    return out


def _dmatrix_meta(client: Any, dtrain: Any) -> tuple[NDArray, NDArray | None, list | None]:
    """All labels and weights of a DaskDMatrix in partition order, and each partition's qids."""
    futures = [f for parts in dtrain.worker_map.values() for f in parts]
    order = dtrain.partition_order
    futures.sort(key=lambda f: order[f.key])
    metas = client.gather(client.map(_part_meta, futures, pure=False))
    if not metas or metas[0]["label"] is None:
        raise ValueError("the DaskDMatrix has no labels")
    shapes = {m["label"].ndim for m in metas if m["rows"]}
    labels = [m["label"].reshape(m["rows"], -1) if max(shapes, default=1) == 2 else
              m["label"].reshape(-1) for m in metas]
    y = np.concatenate(labels, axis=0)
    w = None
    if metas[0]["weight"] is not None:
        w = np.concatenate([m["weight"].reshape(-1) for m in metas])
    qids = None if metas[0]["qid"] is None else [m["qid"] for m in metas]
    return y, w, qids


def check_groups(qids: Sequence[NDArray]) -> None:
    """Raise ``ValueError`` when a group (qid) has rows in more than one partition.

    Dice and PEL sum over each group. Each worker sees only its partitions, so
    a group split between two partitions (which may sit on two workers) would
    be scored as two groups.
    """
    seen: dict[Any, int] = {}
    for i, values in enumerate(qids):
        for q in values.tolist():
            j = seen.setdefault(q, i)
            if j != i:
                raise ValueError(
                    f"group qid={q} has rows in partitions {j} and {i}: Dice and PEL sum over "
                    "each group, and a group split between partitions (which may be on "
                    "different workers) would be scored as two groups. Repartition so that "
                    "every group lies within one partition (for example set the divisions of "
                    "a dask DataFrame indexed by qid)."
                )


def train(
    client: Any,
    params: Mapping[str, Any],
    dtrain: Any,
    loss: Loss,
    num_boost_round: int = 10,
    *,
    evals: Sequence[tuple[Any, str]] | None = None,
    custom_metric: Any = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """``xgboost.dask.train`` with ``loss`` as objective and metric, with global statistics.

    Parameters
    ----------
    client : distributed.Client
    params : dict
        Booster parameters without ``objective`` (set from the loss's link,
        as in :func:`gbloss.xgboost.train`); ``num_class`` for multiclass data.
        ``device="cuda"`` runs the objective on each worker's GPU.
    dtrain : xgboost.dask.DaskDMatrix
        With labels, optional weights and, for grouped Dice / PEL, ``qid``.
    loss : gbloss.Loss
        Label statistics are computed from all of ``dtrain``'s labels
        (:func:`fit`); the init score of all the labels becomes
        ``base_score``. Dice and PEL all-reduce their sums every round.
    num_boost_round : int
    evals, custom_metric, **kwargs
        As in ``xgboost.dask.train``; ``custom_metric`` defaults to
        ``loss.metric``. XGBoost averages a custom metric over the workers,
        which is the global value for Dice and PEL (all-reduced) and an
        average of per-worker means for the other losses.

    Returns
    -------
    dict
        ``{"booster": xgboost.Booster, "history": dict}`` as
        ``xgboost.dask.train``; the booster's ``predict`` includes the init
        score.

    Raises
    ------
    ValueError
        When a group of a Dice or PEL data set spans partitions, or when
        ``params`` sets ``objective``.
    """
    import xgboost.dask as dxgb

    from . import xgboost as gxgb

    y, w, qids = _dmatrix_meta(client, dtrain)
    num_class = int(params.get("num_class", 0) or 0)
    if not loss.row_separable:
        if qids is not None:
            check_groups(qids)
        fitted = loss
    else:
        fitted = loss._fitted_to(y, w, n_classes=num_class if num_class > 1 else None)
    full = gxgb.booster_params(params, fitted, y, w)
    obj = gxgb.objective(fitted, params)
    return dxgb.train(client, full, dtrain, num_boost_round, evals=evals, obj=obj,
                      custom_metric=custom_metric if custom_metric is not None else obj.metric,
                      **kwargs)


# --------------------------------------------------------------- LightGBM on Dask
def lightgbm_objective(loss: Loss, y: Any, sample_weight: Any = None, *,
                       n_classes: int | None = None) -> tuple[Loss, Any]:
    """The objective and init score for ``lightgbm.dask`` estimators.

    Returns ``(objective, init_score)``: ``loss`` fitted on all the labels
    (:func:`fit`), for ``DaskLGBMClassifier(objective=objective)`` /
    ``DaskLGBMRegressor``, and the loss's init score as a dask array aligned
    with ``y``'s chunks, for ``.fit(X, y, sample_weight=w, init_score=init_score)``
    (LightGBM starts a custom objective from 0). ``predict(..., raw_score=True)``
    then omits the init score: add ``objective.init_score(...)`` before
    ``objective.transform``.

    Raises
    ------
    ValueError
        For Dice and PEL: their gradients need sums over all the rows every
        round, and LightGBM's objective runs on each worker's rows with no
        collective to call, so a distributed LightGBM run would optimise a
        different loss. Use :func:`train` (XGBoost) for them. The same
        error is raised when ``DaskLGBMClassifier(objective=gbloss.dice())``
        trains.
    """
    refuse_lightgbm(loss)
    import dask.array as da

    fitted = fit(loss, y, sample_weight, n_classes=n_classes)
    init = np.asarray(fitted.init_score(_gather(y), _gather(sample_weight), n_classes=n_classes),
                      dtype=np.float64)
    chunks = y.chunks[0] if hasattr(y, "chunks") else None
    if chunks is None and hasattr(y, "to_dask_array"):
        chunks = y.to_dask_array(lengths=True).chunks[0]
    if chunks is None:
        n = int(np.shape(_gather(y))[0])
        chunks = (n,)
    n = int(sum(chunks))
    if init.ndim == 0:
        score = da.full((n,), float(init), chunks=(chunks,), dtype=np.float64)
    else:
        score = da.broadcast_to(da.from_array(init), (n, init.size), chunks=(chunks, init.size))
    return fitted, score


def refuse_lightgbm(loss: Loss) -> None:
    """Raise ``ValueError`` for a loss that cannot be made correct in ``lightgbm.dask``."""
    if not loss.row_separable:
        raise ValueError(REFUSE_DISTRIBUTED.format(name=type(loss).__name__))
