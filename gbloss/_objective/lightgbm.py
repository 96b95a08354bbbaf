"""LightGBM's side of the objective protocol: its Dataset, its call forms, its guard.

* native objective ``fobj(preds, train_set)`` and metric
  ``feval(preds, eval_data) -> (name, value, False)``;
* scikit-learn objective ``obj(y_true, y_pred, weight, group)`` and metric
  ``eval_metric(y_true, y_pred, weight, group) -> (name, value, False)``.

LightGBM hands float64 margins (F-ordered ``(n, k)`` for multiclass) and reads
float32 gradients: the objective computes in float32 on a C-ordered copy. A
validation Dataset of ``lgb.train`` refers to its training Dataset
(``reference``); the folds of ``lgb.cv`` are subsets of one Dataset, each
validation fold the complement of its training fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["REFUSE_DISTRIBUTED", "REFUSE_UNFITTED", "is_data", "read", "refusal", "training_data_of"]

THREAD_PARAMS = ("num_threads", "num_thread", "nthread", "nthreads", "n_jobs")


def is_data(obj: Any) -> bool:
    """Whether ``obj`` is a LightGBM Dataset."""
    return type(obj).__module__.startswith("lightgbm") and hasattr(obj, "get_label") \
        and hasattr(obj, "get_group")


def threads(params: Any) -> int | None:
    """The thread count a LightGBM parameter dict sets, or None."""
    for name in THREAD_PARAMS:
        value = (params or {}).get(name)
        if value is not None and int(value) > 0:
            return int(value)
    return None


def _field(dataset: Any, name: str) -> Any:
    """A Dataset's ``label`` / ``weight`` / ``group``: as given before construction, as
    LightGBM holds it after (its getters fail on a Dataset not yet constructed)."""
    value = getattr(dataset, name)
    if value is None and dataset._handle is not None:
        value = getattr(dataset, f"get_{name}")()
    return value


def read(dataset: Any) -> tuple[NDArray, NDArray | None, NDArray | None, int | None]:
    """``(y, w, group_sizes, n_threads)`` of a LightGBM Dataset, constructed or not.

    LightGBM replaces NaN labels by 0 when it constructs a Dataset, and gives a
    Dataset made without labels all-zero labels, before any objective sees them;
    :func:`gbloss.lightgbm.train` reads the labels before construction.
    """
    y = _field(dataset, "label")
    if y is None:
        raise ValueError("the LightGBM Dataset has no labels: gbloss objectives and metrics "
                         "need the labels of every training and validation set "
                         "(lgb.Dataset(X, label=y))")
    w = _field(dataset, "weight")
    groups = _field(dataset, "group")
    return (np.asarray(y), None if w is None else np.asarray(w),
            None if groups is None else np.asarray(groups), threads(dataset.params))


def is_distributed(dataset: Any) -> bool:
    """Whether ``dataset`` belongs to a distributed LightGBM training (``num_machines > 1``
    or a ``machines`` list, as ``lightgbm.dask`` and socket-parallel training set)."""
    params = dataset.params or {}
    machines = params.get("machines") or params.get("workers")
    num = params.get("num_machines", params.get("num_machine", 1))
    return bool(machines) or int(num or 1) > 1


def training_data_of(eval_data: Any, trained: Iterable[Any]) -> Any:
    """The training Dataset that an evaluation Dataset belongs to, among ``trained``.

    ``lgb.train``: the validation set's ``reference`` is its training set.
    ``lgb.cv``: each fold's training and validation sets are subsets of one
    Dataset with disjoint rows (``used_indices``); the validation fold belongs
    to the one training fold it does not overlap. None when neither applies.
    """
    trained = list(trained)
    ref = getattr(eval_data, "reference", None)
    while ref is not None:
        for data in trained:
            if data is ref:
                return data
        ref = getattr(ref, "reference", None)
    rows = getattr(eval_data, "used_indices", None)
    parent = getattr(eval_data, "reference", None)
    if rows is None or parent is None:
        return None
    rows = np.asarray(rows)
    siblings = [d for d in trained if getattr(d, "reference", None) is parent
                and getattr(d, "used_indices", None) is not None]
    disjoint = [d for d in siblings
                if not np.intersect1d(np.asarray(d.used_indices), rows, assume_unique=True).size]
    return disjoint[0] if len(disjoint) == 1 else None


REFUSE_DISTRIBUTED = (
    "{name} cannot train with lightgbm.dask or other distributed LightGBM (num_machines > 1): its "
    "gradients depend on sums over all the rows (or over each group) that change every round, "
    "and LightGBM's objective runs on each worker's own rows with no way to add up those sums "
    "across workers, so each worker would optimise the loss of its own partitions. Train it "
    "with xgboost.dask (gbloss.dask.train), which all-reduces the sums, or on one machine "
    "(inside a Dask task, use lightgbm.train rather than LightGBM's scikit-learn estimators)."
)


REFUSE_UNFITTED = (
    "{loss} uses statistics of the training labels (class counts, the label "
    "distribution), and it is not fitted: in distributed LightGBM (lightgbm.dask, "
    "num_machines > 1) each worker would compute them from its own rows and optimise another "
    "loss, and LightGBM's objective has no collective to share them. Fit the loss on all the "
    "training labels first: objective, init_score = gbloss.dask.lightgbm_objective(loss, y, w) "
    "(or loss.fit(y, w)); or train with xgboost.dask, whose collective shares them."
)

WARN_UNFITTED = (
    "{loss} is not fitted and runs in a Dask task through LightGBM's scikit-learn "
    "interface: if this is lightgbm.dask training, each worker computes the label statistics "
    "(class counts, the label distribution) from its own rows and optimises another loss. "
    "Fit the loss on all the training labels first: objective, init_score = "
    "gbloss.dask.lightgbm_objective(loss, y, w). (A single-machine fit inside a Dask task is "
    "unaffected.)"
)


def refusal(message: str) -> ValueError:
    """The error to raise from an objective running in a distributed LightGBM training, once
    this process's LightGBM network is freed.

    ``lightgbm.dask`` frees a worker's network only after a successful fit. A worker whose
    objective raised kept its sockets and its network state: its peers could wait in their
    next all-reduce until LightGBM's ``time_out`` (two hours), holding their Dask threads, and
    the next training on these workers could hang (the intermittent Dask test hang). Freed,
    the peers fail at once and the next training starts clean.
    """
    import lightgbm.basic as lgb_basic  # (LightGBM is running: it is imported)

    lgb_basic._safe_call(lgb_basic._LIB.LGBM_NetworkFree())
    return ValueError(message)


def in_dask_worker() -> bool:
    """Whether this call runs in a Dask worker's task, where ``lightgbm.dask`` calls the
    scikit-learn objective on one shard (that form carries no Dataset to tell)."""
    try:
        from distributed import get_worker
    except ImportError:
        return False
    try:
        get_worker()
    except ValueError:
        return False
    return True
