"""XGBoost's side of the objective protocol: its data object, its call forms, its collective.

* native objective ``obj(predt, dtrain)``; XGBoost >= 3.2 objective
  ``obj(iteration, predt, dtrain)`` (for :class:`xgboost.objective.Objective`
  instances); native metric ``custom_metric(predt, dtrain) -> (name, value)``;
* scikit-learn objective ``obj(y_true, y_pred, sample_weight=w)`` and metric
  ``eval_metric(y_true, y_score, sample_weight=w) -> value`` (arrays only).

Labels, weights, groups (``qid``) and the thread count are read from the
DMatrix; inside a distributed training (Dask, Ray, Spark barrier mode, a bare
tracker) sums that span the data set are all-reduced through
``xgboost.collective``.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .._core.collective import Workers
from .._core.groups import Reduce

__all__ = ["collective_reduce", "collective_workers", "is_data", "read"]


def is_data(obj: Any) -> bool:
    """Whether ``obj`` is an XGBoost DMatrix (any kind: quantile, Dask worker-local, ...)."""
    return type(obj).__module__.startswith("xgboost") and hasattr(obj, "get_uint_info")


def read(dmatrix: Any, raw: Any) -> tuple[NDArray, NDArray | None, NDArray | None, int | None]:
    """``(y, w, group_sizes, n_threads)`` of a DMatrix whose margins are ``raw``."""
    y = np.asarray(dmatrix.get_label())
    n_rows = int(raw.shape[0])
    if y.size == 0 and n_rows:
        raise ValueError("the DMatrix has no labels: gbloss objectives and metrics need the "
                         "labels of every training and evaluation set (DMatrix(X, label=y))")
    if y.ndim == 1 and raw.ndim == 2 and y.size == raw.shape[0] * raw.shape[1] \
            and raw.shape[1] > 1 and y.size != n_rows:
        y = y.reshape(raw.shape)  # XGBoost < 3.2 flattens multi-target labels
    w = np.asarray(dmatrix.get_weight())
    ptr = np.asarray(dmatrix.get_uint_info("group_ptr"))
    groups = np.diff(ptr.astype(np.int64)) if ptr.size >= 2 else None
    nthread = getattr(dmatrix, "nthread", None)
    return y, (w if w.size else None), groups, (int(nthread) if nthread and nthread > 0 else None)


def _allreduce(values: NDArray[np.float64], op: Literal["sum", "max"]) -> NDArray[np.float64]:
    # xgboost.collective's names are the same from 2.0 to 3.2: allreduce(data, Op.SUM / Op.MAX)
    # (numpy, host memory), get_rank, get_world_size, is_distributed
    from xgboost import collective

    host = np.ascontiguousarray(values, dtype=np.float64)
    out = collective.allreduce(host, collective.Op.SUM if op == "sum" else collective.Op.MAX)
    return np.asarray(out, dtype=np.float64).reshape(host.shape)  # flat before xgboost 3.4


def collective_reduce() -> Reduce | None:
    """The all-reduce of the XGBoost collective this process trains in, or None (one process).

    None without xgboost imported: a call in the scikit-learn form (arrays) may come from
    elsewhere, and XGBoost's collective exists only once xgboost is imported.
    """
    if "xgboost" not in sys.modules:
        return None
    try:
        from xgboost import collective
    except ImportError:  # pragma: no cover - only reached from XGBoost's own calls
        return None
    return _allreduce if collective.is_distributed() else None


def collective_workers() -> Workers | None:
    """The workers of the XGBoost collective this process trains in, or None (one process)."""
    if collective_reduce() is None:
        return None
    from xgboost import collective

    return Workers(_allreduce, collective.get_rank(), collective.get_world_size())
