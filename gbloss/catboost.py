"""CatBoost adapter: training with the loss fitted and its init score in the model.

Every gbloss loss is a CatBoost objective and metric as it is
(``CatBoostClassifier(loss_function=loss, eval_metric=loss.metric)``; see
:mod:`gbloss._objective.catboost` for the call forms), on CPU. What that
leaves to the user, :func:`train` does:

* it fits the loss to the Pool's labels (a CatBoost objective sees only
  blocks of objects, never the training labels as a whole);
* CatBoost's ``boost_from_average`` is refused for Python objectives, so
  training would start from 0: :func:`train` sets the loss's optimal constant
  (:meth:`gbloss.Loss.init_score`) as the ``baseline`` of the training Pool
  and of every evaluation Pool for the duration of training;
* a model trained on Pools with a baseline does not include it in its
  predictions (CatBoost adds a Pool's baseline only when predicting on that
  Pool): :func:`train` stores the constant as the model's bias
  (``set_scale_and_bias``), which ``save_model`` keeps, and gives the Pools
  their own (no) baseline back.

The returned model's ``predict(X, prediction_type="RawFormulaVal")`` are the
loss's margins, init score included, equal to the margins the objective saw
during training; ``prediction_type="Probability"`` applies the sigmoid
(binary) or softmax (multiclass), as CatBoost does for a Python objective.
Predicting on a Pool that has a baseline adds it on top, as CatBoost always
does. On GPU (``task_type="GPU"``) CatBoost needs CUDA kernels
(``calc_ders_range_gpu``) for a Python objective, which gbloss does not
provide: training is on CPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._core.labels import as_label_array
from ._core.versions import require
from ._objective.protocol import Objective
from .losses import Loss

__all__ = ["train"]

if TYPE_CHECKING:
    import catboost as cb
else:  # a clear message where it is missing or too old
    cb = require("catboost", extra="catboost")


def _has_baseline(pool: cb.Pool) -> bool:
    baseline = pool.get_baseline()
    return baseline is not None and np.ndim(baseline) == 2 and np.shape(baseline)[1] > 0


def _clear_baseline(pool: cb.Pool) -> None:
    pool.set_baseline(np.empty((pool.num_row(), 0), dtype=np.float32))


def _labels(pool: cb.Pool) -> tuple[np.ndarray, np.ndarray | None]:
    if not pool.has_label():
        raise ValueError("the Pool has no labels: cb.Pool(X, label=y)")
    y = np.asarray(as_label_array(pool.get_label(), np, name="the Pool's labels"),
                   dtype=np.float64)
    w = np.asarray(pool.get_weight(), dtype=np.float64)
    return y, (None if w.size == 0 or np.all(w == 1.0) else w)


def _as_pool(data: Any, name: str) -> cb.Pool:
    if isinstance(data, cb.Pool):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        return cb.Pool(data[0], label=data[1])
    raise TypeError(f"{name} must be a catboost.Pool or an (X, y) tuple, "
                    f"got {type(data).__name__}")


def train(
    params: Mapping[str, Any],
    pool: cb.Pool,
    loss: Loss,
    iterations: int | None = None,
    *,
    eval_set: cb.Pool | Sequence[cb.Pool] | None = None,
    early_stopping_rounds: int | None = None,
    init_model: Any = None,
    **kwargs: Any,
) -> cb.CatBoost:
    """``catboost.train`` with ``loss`` as objective and metric, and its init score set.

    The loss is fitted to the Pool's labels first (:meth:`gbloss.Loss.fit`;
    a fitted loss is kept as it is), so that the objective and the metric on
    every evaluation set use the training statistics.

    Parameters
    ----------
    params : dict
        CatBoost parameters without ``loss_function`` (set here to the loss).
        ``eval_metric`` defaults to the loss's metric (CatBoost requires one
        for a Python objective); ``thread_count`` also sets the threads of
        gbloss's kernels. For multiclass labels ``classes_count`` is set to
        the number of classes (the labels must be the class ids ``0..k-1``).
    pool : catboost.Pool
        Training data with labels and optional weights (applied by the loss).
        Without a ``baseline`` of its own, the loss's optimal constant is its
        baseline during training, and that of every evaluation Pool without
        one; the Pools get their own (none) back afterwards. A Pool's own
        baseline is an offset: as with CatBoost's built-in objectives, gbloss
        then adds no constant.
    loss : gbloss.Loss
        Binary, multiclass or regression; not Dice or PEL (they need whole
        groups) and not ``drw_start_round`` (CatBoost does not pass the round).
    iterations : int, optional
        Boosting iterations (CatBoost's default: ``params["iterations"]`` or 1000).
    eval_set : catboost.Pool, (X, y) or a list of them, optional
        Evaluation sets, scored with the loss's metric; with
        ``early_stopping_rounds`` the last one decides when to stop.
    early_stopping_rounds, **kwargs
        As in :func:`catboost.train`.
    init_model : catboost.CatBoost or path, optional
        A model to continue: the new trees start from its predictions (which
        include its bias), so no constant is added.

    Returns
    -------
    catboost.CatBoost
        ``predict(X, prediction_type="RawFormulaVal")`` gives the margins
        including the init score (stored as the model's bias, also after
        ``save_model``); ``prediction_type="Probability"`` probabilities for
        classification losses. The loss itself is not saved with the model.

    Examples
    --------
    >>> import numpy as np, catboost, gbloss, gbloss.catboost
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 4)); y = (X[:, 0] > 1).astype(float)
    >>> model = gbloss.catboost.train({"depth": 3, "verbose": 0},
    ...                               catboost.Pool(X, y), gbloss.focal(gamma=2.0), 20)
    >>> model.predict(X[:2], prediction_type="Probability").shape
    (2, 2)
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be a gbloss loss (for example gbloss.focal()), got {loss!r}")
    if not isinstance(pool, cb.Pool):
        raise TypeError(f"pool must be a catboost.Pool, got {type(pool).__name__}")
    params = dict(params)
    if params.get("loss_function", params.get("objective")) is not None:
        raise ValueError("params['loss_function'] is set by gbloss to the loss; remove it "
                         f"(got {params.get('loss_function', params.get('objective'))!r})")
    params.pop("objective", None)
    if str(params.get("task_type", "CPU")).upper() == "GPU":
        raise ValueError("task_type='GPU': CatBoost runs a Python objective on GPU only as "
                         "numba CUDA kernels (calc_ders_range_gpu), which gbloss does not "
                         "provide; train on CPU (task_type='CPU')")
    if params.get("boost_from_average"):
        raise ValueError("boost_from_average: CatBoost refuses it for Python objectives; "
                         "gbloss.catboost.train sets the loss's init score itself")
    if eval_set is None:
        items: list[Any] = []
    elif isinstance(eval_set, cb.Pool) or (isinstance(eval_set, tuple) and len(eval_set) == 2
                                           and not isinstance(eval_set[0], cb.Pool)):
        items = [eval_set]  # one set: a Pool or an (X, y) tuple
    else:
        items = list(eval_set)
    evals = [_as_pool(e, f"eval_set[{i}]") for i, e in enumerate(items)]

    y, w = _labels(pool)
    n_classes = params.get("classes_count")
    if n_classes is None and loss.link != "identity" and y.ndim == 1 and y.size \
            and np.nanmax(y) > 1:
        n_classes = int(np.nanmax(y)) + 1
    fitted = loss._fitted_to(y, w, n_classes=n_classes)
    if n_classes is not None:
        params["classes_count"] = int(n_classes)
    threads = params.get("thread_count")
    obj = Objective(fitted, n_threads=None if threads is None else int(threads))
    params["loss_function"] = obj
    if params.get("eval_metric") is None:
        params["eval_metric"] = obj.metric

    init = None
    owned: list[cb.Pool] = []
    if init_model is None and not _has_baseline(pool):
        # rounded as a Pool stores a baseline (float32), so that the model's bias gives the
        # very margins that training saw
        init = np.atleast_1d(np.asarray(fitted.init_score(y, w, n_classes=n_classes),
                                        dtype=np.float32)).astype(np.float64)
        for p in {id(p): p for p in [pool, *evals]}.values():
            if not _has_baseline(p):
                p.set_baseline(np.tile(init, (p.num_row(), 1)))
                owned.append(p)
    try:
        model = cb.train(pool=pool, params=params, iterations=iterations,
                         eval_set=evals or None, early_stopping_rounds=early_stopping_rounds,
                         init_model=init_model, **kwargs)
    finally:
        for p in owned:
            _clear_baseline(p)
    if init is not None:
        scale, bias = model.get_scale_and_bias()
        bias = np.atleast_1d(np.asarray(bias, dtype=np.float64)) + init
        model.set_scale_and_bias(scale, float(bias[0]) if bias.size == 1 else bias.tolist())
    return model
