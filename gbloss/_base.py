"""The contract every gbloss loss keeps.

A :class:`Loss` owns its link, its math and its label statistics. It is used
as it is by every booster:

* ``xgb.train(params, dtrain, obj=loss, custom_metric=loss.metric)`` and ``xgb.cv``;
* ``lgb.train({"objective": loss, "metric": "None"}, train_set, feval=loss.metric)`` and ``lgb.cv``;
* ``xgb.XGBClassifier(objective=loss)`` and ``lgb.LGBMClassifier(objective=loss)``.

Derivatives are taken with respect to the raw prediction (margin) of the sum
``S * loss`` with ``S = sum_i w_i``: row ``i`` contributes ``w_i * dl_i/dz``.
This is the convention of the boosters' built-in objectives, so their
``learning_rate``, ``lambda`` and ``min_child_weight`` keep their meaning.
"""

from __future__ import annotations

import copy
import threading
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator

from ._array import get_namespace, is_numpy, run_blocked
from ._device import asarray_on, move_like, to_numpy, xgboost_device_call
from ._validation import (
    BINARY,
    MULTICLASS,
    MULTILABEL,
    REGRESSION,
    check_finite_array,
    check_option,
    check_sample_weight,
    infer_task,
)

__all__ = ["HESSIAN_FLOOR", "HESSIAN_OPTIONS", "Loss", "LossMetric"]

#: ``hessian="auto"`` keeps the exact Hessian where it is at least this many
#: times the row's weight, and uses the loss's positive surrogate elsewhere.
HESSIAN_FLOOR = 1e-6
HESSIAN_OPTIONS = ("auto", "exact", "xgboost", "lightgbm")
#: XGBoost's own floor for the softmax Hessian (src/objective/multiclass_obj.cc).
XGBOOST_HESSIAN_MIN = 1e-16
_CACHE_SIZE = 16


class _NotGiven:
    """Marks an argument that the caller did not pass (pickles as the singleton)."""

    _instance: _NotGiven | None = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> str:
        return "NOT_GIVEN"

    def __repr__(self) -> str:
        return "<not given>"


NOT_GIVEN = _NotGiven()


@dataclass(frozen=True)
class Labels:
    """Validated labels of one data set, cached by content."""

    task: str
    y: Any  # float array (binary, multilabel, regression) or int32 class ids (multiclass)
    n_classes: int  # k for multiclass and multilabel, 1 otherwise
    hard: bool  # binary and multilabel: every label is exactly 0 or 1
    key: tuple | None = field(default=None, compare=False)  # content key (numpy labels only)


class _LabelCache:
    """LRU cache of validated labels and training statistics, keyed by label content.

    Shared between a loss and its deep copies (LightGBM deep-copies its params),
    so a metric on the original object sees the statistics the copy computed.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.labels: dict[tuple, tuple[tuple, Labels]] = {}
        self.stats: dict[tuple, tuple[tuple, Any]] = {}
        self.last_training: Any = None
        self.last_task: str | None = None

    # Plain dicts (insertion-ordered) of (stored key, value): a hit is moved to the
    # end under its stored key with a single key comparison, which is a
    # full-array comparison (see _ArrayKey); OrderedDict.pop makes three.
    def get(self, table: dict, key: tuple | None) -> Any:
        if key is None:
            return None
        with self.lock:
            entry = table.pop(key, None)
            if entry is None:
                return None
            table[entry[0]] = entry
            return entry[1]

    def put(self, table: dict, key: tuple | None, value: Any) -> None:
        if key is None:
            return
        key = _owned(key)
        with self.lock:
            table[key] = (key, value)
            while len(table) > _CACHE_SIZE:
                del table[next(iter(table))]  # the least recently used


class _ArrayKey:
    """Hashable stand-in for the content of a numpy array, for the label caches.

    The hash covers the shape, the dtype and a sample of about 1,000 elements;
    equality compares every element (``np.array_equal``, about 0.25 ms per
    4 MB, against 1.9 ms for a CRC-32 of every byte), so changed labels are
    never served from a cache. A probe key only refers to the caller's array;
    :func:`_owned` gives the copy that a cache stores, so that the caller may
    later modify the array in place.
    """

    __slots__ = ("_hash", "data", "owned")

    def __init__(self, a: NDArray, *, copy: bool = False) -> None:
        self.data = np.array(a, copy=True) if copy else a
        self.owned = copy
        step = max(1, a.size // 1024)
        sample = np.ascontiguousarray(a.reshape(-1)[::step])
        self._hash = hash((a.shape, a.dtype.str, zlib.crc32(memoryview(sample).cast("B"))))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _ArrayKey) and self._hash == other._hash
                and self.data.shape == other.data.shape and self.data.dtype == other.data.dtype
                and bool(np.array_equal(self.data, other.data)))


def _owned(key: Any) -> Any:
    """``key`` with every :class:`_ArrayKey` in it holding its own copy of the data."""
    if isinstance(key, _ArrayKey):
        return key if key.owned else _ArrayKey(key.data, copy=True)
    if isinstance(key, tuple):
        return tuple(_owned(k) for k in key)
    return key


def _fingerprint(y: Any, raw_shape: tuple, w: Any, xp: Any) -> tuple | None:
    """Content key of a label array and weights (numpy only; other namespaces are not cached)."""
    if not is_numpy(xp):
        return None
    return (_ArrayKey(np.asarray(y)), tuple(raw_shape[1:]),
            None if w is None else _ArrayKey(np.asarray(w)))


def _booster_of(obj: Any) -> str | None:
    module = type(obj).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    return None


def _lightgbm_threads(dataset: Any) -> int | None:
    params = getattr(dataset, "params", None) or {}
    for name in ("num_threads", "num_thread", "nthread", "nthreads", "n_jobs"):
        value = params.get(name)
        if value is not None and int(value) > 0:
            return int(value)
    return None


def _xgboost_labels(dtrain: Any, raw: NDArray) -> tuple[NDArray, NDArray | None]:
    y = dtrain.get_label()
    if raw.ndim == 2 and y.ndim == 1 and y.size == raw.size and raw.shape[1] > 1:
        y = y.reshape(raw.shape)  # XGBoost < 3.2 flattens multi-target labels
    w = dtrain.get_weight()
    return y, (w if w.size else None)


class Loss(BaseEstimator):
    """Base class of every gbloss loss.

    Subclasses set ``_name``, ``_tasks`` and ``link`` and implement
    ``_validate_params``, ``_fit_stats``, ``_kernel`` and ``_init_constant``.
    """

    _name: ClassVar[str] = "loss"
    _tasks: ClassVar[tuple[str, ...]] = (BINARY, MULTICLASS, MULTILABEL)
    #: ``"logit"`` (sigmoid / softmax) or ``"identity"``.
    link: ClassVar[str] = "logit"
    #: Whether row i's loss depends on row i alone (False for Dice and PEL).
    row_separable: ClassVar[bool] = True

    # ------------------------------------------------------------------ params
    def _validate_params(self) -> None:  # pragma: no cover - every loss overrides
        raise NotImplementedError

    def set_params(self, **params: Any) -> Loss:
        super().set_params(**params)
        self._validate_params()
        self.__dict__.pop("_frozen", None)
        self.__dict__.pop("_label_cache", None)
        return self

    @property
    def _cache(self) -> _LabelCache:
        cache = self.__dict__.get("_label_cache")
        if cache is None:
            cache = self.__dict__["_label_cache"] = _LabelCache()
        return cache

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_label_cache", None)  # caches are not pickled
        return state

    def __deepcopy__(self, memo: dict) -> Loss:
        # LightGBM deep-copies params: the copy keeps the parameters, the fitted
        # statistics and shares the label cache, so it behaves like the original.
        new = type(self)(**copy.deepcopy(self.get_params(deep=False), memo))
        new.__dict__["_label_cache"] = self._cache
        for private in ("_frozen", "_n_threads", "_device"):
            if private in self.__dict__:
                new.__dict__[private] = self.__dict__[private]
        return new

    def _with_threads(self, n_threads: int | None) -> Loss:
        """A deep copy (sharing the label cache) whose CPU kernels use ``n_threads``."""
        new = copy.deepcopy(self)
        if n_threads is not None and int(n_threads) > 0:
            new.__dict__["_n_threads"] = int(n_threads)
        return new

    # ------------------------------------------------------------- subclasses
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> Any:
        """Training-set statistics (class counts, label distribution, ...)."""
        return None

    def _kernel(self, labels: Labels, stats: Any, mode: str, xp: Any, dtype: Any) -> Any:
        """Return ``fn(y, w, raw, xp)`` computing ``(value,)`` or ``(grad, hess)``.

        ``mode`` is ``"value"`` (per-row loss, shape ``(n,)``) or ``"grad_hess"``
        (arrays shaped like ``raw``, already multiplied by ``w``). ``fn`` must be
        row-wise when ``row_separable``.
        """
        raise NotImplementedError

    def _init_constant(self, labels: Labels, w: Any, stats: Any) -> NDArray:
        raise NotImplementedError

    # --------------------------------------------------------------- labels
    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> str:
        if self._tasks == (REGRESSION,):
            return REGRESSION
        return infer_task(y_shape, raw_shape)

    def _validate_labels(self, y: Any, task: str, n_classes: int, xp: Any, dtype: Any) -> Labels:
        check_finite_array("y_true", y, xp)
        if task == MULTICLASS:
            yi = xp.astype(y, xp.int32) if n_classes < 2**31 else xp.astype(y, xp.int64)
            bad = (y < 0) | (y >= n_classes) | (xp.astype(yi, y.dtype) != y)
            if bool(xp.any(bad)):
                raise ValueError(
                    f"multiclass labels must be integers in [0, {n_classes}); "
                    f"raw_prediction has {n_classes} columns"
                )
            return Labels(task, yi, n_classes, hard=True)
        if task in (BINARY, MULTILABEL):
            if bool(xp.any((y < 0) | (y > 1))):
                raise ValueError(
                    f"{'binary' if task == BINARY else 'multi-label'} labels must be in [0, 1]"
                )
            y = xp.astype(y, dtype)
            hard = not bool(xp.any((y != 0) & (y != 1)))
            return Labels(task, y, n_classes if task == MULTILABEL else 1, hard)
        return Labels(task, xp.astype(y, dtype), 1, hard=False)

    def _labels(self, y_true: Any, raw_shape: tuple, xp: Any, dtype: Any) -> Labels:
        y = xp.asarray(y_true)
        if self._tasks != (REGRESSION,) and len(raw_shape) == 2 and raw_shape[1] == 1 and y.ndim == 1:
            raw_shape = (raw_shape[0],)
        task = self._task_of(tuple(y.shape), tuple(raw_shape))
        if task not in self._tasks:
            raise ValueError(f"{type(self).__name__} does not support {task} data")
        n_classes = raw_shape[1] if task in (MULTICLASS, MULTILABEL) else 1
        expected = getattr(self, "n_classes", None)
        if expected is not None and task == MULTICLASS and n_classes != expected:
            raise ValueError(
                f"n_classes={expected} but raw_prediction has {n_classes} columns"
            )
        key = _fingerprint(y, (raw_shape[0], n_classes) if task == MULTICLASS else raw_shape,
                           None, xp)
        key = key and (*key, np.dtype(dtype).str if is_numpy(xp) else None)
        labels = self._cache.get(self._cache.labels, key)
        if labels is None:
            key = _owned(key)  # shared by the cache and the statistics' key: one copy
            labels = replace(self._validate_labels(y, task, n_classes, xp, dtype), key=key)
            self._cache.put(self._cache.labels, key, labels)
        return labels

    def _training_stats(self, labels: Labels, w: Any, xp: Any, *, training: bool) -> Any:
        """Statistics of the training labels: fitted, cached, or computed from ``labels``."""
        frozen = self.__dict__.get("_frozen")
        if frozen is not None:
            return frozen
        cache = self._cache
        if not training and cache.last_training is not None:
            return cache.last_training  # validation metrics use the training statistics
        # The labels' content key is already known: only the weights are read again.
        key = None if labels.key is None else (
            labels.key, None if w is None or not is_numpy(xp) else _ArrayKey(np.asarray(w)))
        stats = cache.get(cache.stats, key)
        if stats is None:
            stats = self._fit_stats(labels, w, xp)
            cache.put(cache.stats, key, stats)
        if training:
            cache.last_training = stats
            cache.last_task = labels.task
        return stats

    # ------------------------------------------------------------ public API
    def fit(self, y_true: ArrayLike, sample_weight: ArrayLike | None = None, *,
            n_classes: int | None = None) -> Loss:
        """Return a copy whose label statistics are computed from ``y_true`` once and kept.

        Use it to supply the training statistics explicitly, for example when
        each worker of a cluster sees only part of the labels.
        """
        xp = get_namespace(y_true)
        y = xp.asarray(y_true)
        labels, w = self._labels_for_init(y, sample_weight, n_classes, xp)
        fitted = copy.deepcopy(self)
        fitted.__dict__["_label_cache"] = _LabelCache()
        fitted.__dict__["_frozen"] = self._fit_stats(labels, w, xp)
        fitted._cache.last_task = labels.task
        return fitted

    def _labels_for_init(self, y: Any, sample_weight: Any, n_classes: int | None,
                         xp: Any) -> tuple[Labels, Any]:
        dtype = xp.float64
        if self._tasks == (REGRESSION,):
            raw_shape = tuple(y.shape)
        elif y.ndim == 2:
            raw_shape = tuple(y.shape)
        else:
            k = n_classes or getattr(self, "n_classes", None)
            if k is None:
                top = float(xp.max(xp.where(xp.isfinite(y), y, xp.zeros_like(y)))) \
                    if y.shape[0] else 0.0
                k = int(top) + 1 if top > 1 else 2
            raw_shape = (y.shape[0],) if k == 2 and not n_classes else (y.shape[0], k)
        labels = self._labels(y, raw_shape, xp, dtype)
        w = check_sample_weight(sample_weight, y.shape[0], xp, dtype)
        return labels, w

    def gradient_hessian(
        self,
        y_true: ArrayLike,
        raw_prediction: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        n_threads: int | None = None,
    ) -> tuple[Any, Any]:
        """Gradient and Hessian diagonal of ``S * loss`` with respect to ``raw_prediction``.

        Parameters
        ----------
        y_true : array of shape (n,) or (n, k)
        raw_prediction : array of shape (n,) or (n, k)
            Margins. The task follows from the shapes (see :func:`gbloss.focal`).
        sample_weight : array of shape (n,), optional
        n_threads : int, optional
            Threads for the CPU kernel; defaults to the cores this process may use.

        Returns
        -------
        grad, hess : arrays shaped and typed like ``raw_prediction``
            (float input keeps its dtype; integer input becomes float64), on the
            same device.
        """
        return self._gradient_hessian(y_true, raw_prediction, sample_weight, n_threads=n_threads)

    def _gradient_hessian(self, y_true: Any, raw_prediction: Any, sample_weight: Any, *,
                          n_threads: int | None = None, training: bool = True) -> tuple[Any, Any]:
        xp, raw = self._raw(raw_prediction, y_true)
        y_true, sample_weight = move_like(y_true, raw, xp), move_like(sample_weight, raw, xp)
        labels = self._labels(y_true, tuple(raw.shape), xp, raw.dtype)
        w = check_sample_weight(sample_weight, raw.shape[0], xp, raw.dtype)
        stats = self._training_stats(labels, w, xp, training=training)
        return self._run_grad_hess(labels, w, raw, stats, xp, n_threads=n_threads)

    def _run_grad_hess(self, labels: Labels, w: Any, raw: Any, stats: Any, xp: Any, *,
                       n_threads: int | None = None, fn: Any = None) -> tuple[Any, Any]:
        """``(grad, hess)`` from validated labels and weights on ``raw``'s device."""
        fn = fn or self._kernel(labels, stats, "grad_hess", xp, raw.dtype)
        squeeze = raw.ndim == 2 and labels.task == BINARY
        raw_in = xp.reshape(raw, (-1,)) if squeeze else raw
        if self.row_separable:
            grad, hess = run_blocked(fn, (labels.y, w, raw_in), xp=xp, n_threads=n_threads)
        else:
            with np.errstate(all="ignore"):
                grad, hess = fn(labels.y, w, raw_in, xp)
        if squeeze:
            grad, hess = xp.reshape(grad, raw.shape), xp.reshape(hess, raw.shape)
        return grad, hess

    def _raw(self, raw_prediction: Any, y_true: Any = None) -> tuple[Any, Any]:
        xp = get_namespace(raw_prediction)
        raw = xp.asarray(raw_prediction)
        if not xp.isdtype(raw.dtype, "real floating"):
            raw = xp.astype(raw, xp.float64)
        check_finite_array("raw_prediction", raw, xp)
        return xp, raw

    def loss(
        self,
        y_true: ArrayLike,
        raw_prediction: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> float:
        """Weighted mean loss ``sum_i w_i l_i / sum_i w_i``.

        ``l_i`` contains any class weight or alpha factor. Label statistics are
        those of the training set when the loss has been trained or fitted,
        else those of ``y_true``. Returns NaN when there are no rows.
        """
        return self._loss(y_true, raw_prediction, sample_weight, training=False)

    def _loss(self, y_true: Any, raw_prediction: Any, sample_weight: Any, *, training: bool,
              n_threads: int | None = None) -> float:
        xp, raw = self._raw(raw_prediction, y_true)
        y_true, sample_weight = move_like(y_true, raw, xp), move_like(sample_weight, raw, xp)
        labels = self._labels(y_true, tuple(raw.shape), xp, raw.dtype)
        w = check_sample_weight(sample_weight, raw.shape[0], xp, raw.dtype)
        stats = self._training_stats(labels, w, xp, training=training)
        return self._run_loss(labels, w, raw, stats, xp, n_threads=n_threads)

    def _run_loss(self, labels: Labels, w: Any, raw: Any, stats: Any, xp: Any, *,
                  n_threads: int | None = None, fn: Any = None) -> float:
        """Weighted mean loss from validated labels and weights on ``raw``'s device."""
        fn = fn or self._kernel(labels, stats, "value", xp, raw.dtype)
        raw_in = xp.reshape(raw, (-1,)) if raw.ndim == 2 and labels.task == BINARY else raw
        if self.row_separable:
            (values,) = run_blocked(fn, (labels.y, None, raw_in), xp=xp, n_threads=n_threads)
        else:
            with np.errstate(all="ignore"):
                (values,) = fn(labels.y, w, raw_in, xp)
            return float(values)
        values = xp.astype(values, xp.float64)
        if w is None:
            return float(xp.mean(values)) if values.shape[0] else float("nan")
        w = xp.astype(w, xp.float64)
        total = float(xp.sum(w))
        with np.errstate(under="ignore"):  # w * (a loss below 1e-300) may round to 0: harmless
            weighted = float(xp.sum(w * values))
        return weighted / total if total > 0 else float("nan")

    def init_score(
        self,
        y_true: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        n_classes: int | None = None,
    ) -> Any:
        """The constant raw prediction that minimises the loss.

        A float for binary and regression data, a ``(k,)`` array for multiclass
        (centred: it sums to 0) and multi-label data. 1-D labels are binary
        unless ``n_classes`` (here or on the loss) is given or a label exceeds 1.
        """
        xp = get_namespace(y_true)
        y = xp.asarray(y_true)
        labels, w = self._labels_for_init(y, sample_weight, n_classes, xp)
        stats = self._training_stats(labels, w, xp, training=False) \
            if "_frozen" in self.__dict__ else self._fit_stats(labels, w, xp)
        value = self._init_constant(labels, w, stats)
        if labels.task in (BINARY, REGRESSION) and np.ndim(value) == 0:
            return float(value)
        return asarray_on(to_numpy(value, np.float64), y, xp, xp.float64)

    def transform(self, raw_prediction: ArrayLike, *, multilabel: bool | None = None) -> Any:
        """Predictions from margins.

        Identity for regression losses. For classification: sigmoid of 1-D
        margins; softmax along the last axis of ``(n, k)`` margins, or a sigmoid
        per column when the data are multi-label (``multilabel=True``, or the
        loss was last trained or fitted on multi-label labels).
        """
        xp = get_namespace(raw_prediction)
        raw = xp.asarray(raw_prediction)
        if not xp.isdtype(raw.dtype, "real floating"):
            raw = xp.astype(raw, xp.float64)
        if self.link == "identity":
            return raw
        if multilabel is None:
            multilabel = self._cache.last_task == MULTILABEL
        if raw.ndim == 2 and raw.shape[1] > 1 and not multilabel:
            return _softmax(raw, xp)
        return _sigmoid(raw, xp)

    @property
    def metric(self) -> LossMetric:
        """The loss as an evaluation metric, callable in each booster's form."""
        return LossMetric(self)

    # ------------------------------------------------------ booster objective
    def __call__(self, a: Any, b: Any, sample_weight: Any = None, group: Any = NOT_GIVEN
                 ) -> tuple[Any, Any]:
        """Custom objective: ``(grad, hess)`` for whichever booster calls.

        * XGBoost native: ``obj(predt, dtrain)``;
        * LightGBM native: ``fobj(preds, train_set)``;
        * XGBoost sklearn: ``obj(y_true, y_pred, sample_weight=w)``;
        * LightGBM sklearn: ``obj(y_true, y_pred, weight, group)``.
        """
        booster = _booster_of(b)
        threads = self.__dict__.get("_n_threads")  # set by gbloss.xgboost / gbloss.lightgbm
        device = self.__dict__.get("_device")  # set by gbloss.xgboost.train(device="cuda")
        if booster == "xgboost":
            if device is not None or not is_numpy(get_namespace(a)):
                return xgboost_device_call(self, a, b, mode="grad_hess", device=device)
            y, w = _xgboost_labels(b, a)
            if threads is None and b.nthread and b.nthread > 0:
                threads = b.nthread
            return self._gradient_hessian(y, a, w, n_threads=threads)
        if not self.row_separable and booster != "xgboost":
            from .dask import check_lightgbm_dask

            check_lightgbm_dask(self)  # per-round global sums cannot be had in lightgbm.dask
        if booster == "lightgbm":
            threads = threads or _lightgbm_threads(b)
            return self._lightgbm_gradient(b.get_label(), a, b.get_weight(), threads)
        if group is not NOT_GIVEN:
            return self._lightgbm_gradient(a, b, sample_weight, threads)
        if device is not None:  # XGBoost scikit-learn API on a GPU
            return xgboost_device_call(self, b, None, mode="grad_hess", device=device, y=a,
                                       w=sample_weight)
        return self._gradient_hessian(a, b, sample_weight, n_threads=threads)

    def _lightgbm_gradient(self, y: Any, raw: Any, w: Any, threads: int | None
                           ) -> tuple[NDArray, NDArray]:
        # LightGBM hands float64 scores (F-ordered when multiclass) and reads float32:
        # compute in float32 on a C-ordered copy so that nothing is converted twice.
        raw = np.ascontiguousarray(raw, dtype=np.float32)
        return self._gradient_hessian(y, raw, w, n_threads=threads)


def _sigmoid(raw: Any, xp: Any) -> Any:
    e = xp.exp(-xp.abs(raw))
    r = 1 / (1 + e)
    return xp.where(raw >= 0, r, e * r)


def _softmax(raw: Any, xp: Any) -> Any:
    ex = xp.exp(raw - xp.max(raw, axis=-1, keepdims=True))
    return ex / xp.sum(ex, axis=-1, keepdims=True)


class LossMetric:
    """A loss as an evaluation metric (lower is better), callable in each booster's form.

    * XGBoost native ``custom_metric(predt, dtrain) -> (name, value)``;
    * LightGBM native ``feval(preds, eval_data) -> (name, value, False)``;
    * XGBoost sklearn ``eval_metric(y_true, y_score, sample_weight=None) -> value``;
    * LightGBM sklearn ``eval_metric(y_true, y_pred, weight, group) -> (name, value, False)``.

    The value is :meth:`Loss.loss` on the margins, with the training set's
    label statistics.
    """

    def __init__(self, loss: Loss) -> None:
        self.loss = loss
        self.__name__ = loss._name

    def __repr__(self) -> str:
        return f"LossMetric({self.loss!r})"

    def __call__(self, a: Any, b: Any, sample_weight: Any = None, group: Any = NOT_GIVEN) -> Any:
        name = self.__name__
        booster = _booster_of(b)
        if booster == "xgboost":
            if self.loss.__dict__.get("_device") is not None or not is_numpy(get_namespace(a)):
                return name, xgboost_device_call(self.loss, a, b, mode="value",
                                                 device=self.loss.__dict__.get("_device"))
            y, w = _xgboost_labels(b, a)
            return name, self.loss._loss(y, a, w, training=False)
        if booster == "lightgbm":
            return name, self.loss._loss(b.get_label(), a, b.get_weight(), training=False), False
        value = self.loss._loss(a, b, sample_weight, training=False)
        return value if group is NOT_GIVEN else (name, value, False)


def check_hessian_option(hessian: Any) -> str:
    return check_option("hessian", hessian, HESSIAN_OPTIONS)


def apply_hessian_policy(
    exact: Any,
    surrogate: Any,
    weight: Any,
    policy: str,
    xp: Any,
    *,
    scale: float = 1.0,
) -> Any:
    """Apply a Hessian policy to a loss's exact Hessian diagonal.

    ``exact``: the true diagonal (may be negative). ``surrogate``: the loss's
    non-negative curvature used where the exact one is too small or negative;
    ``None`` when the exact Hessian is never negative. ``weight``: the row's
    total weight (sample weight times class factors), broadcastable to
    ``exact``; ``None`` for 1. ``scale``: the booster convention's multiclass
    factor (2 for XGBoost, k/(k-1) for LightGBM), 1 otherwise.

    * ``"exact"``: ``exact``.
    * ``"auto"``: ``exact`` where ``exact >= HESSIAN_FLOOR * weight``, else
      ``max(surrogate, HESSIAN_FLOOR * weight)``: positive on every row with
      positive weight.
    * ``"xgboost"`` / ``"lightgbm"``: the exact Hessian where positive (the
      surrogate elsewhere) times ``scale``; ``"xgboost"`` then floors at 1e-16
      as XGBoost's softmax objective does.
    """
    if policy == "exact":
        return exact
    if policy == "auto":
        if weight is None:
            floor = HESSIAN_FLOOR
            h = xp.clip(exact, min=floor)
        else:
            floor = HESSIAN_FLOOR * weight
            h = xp.maximum(exact, floor)
        if surrogate is not None:
            # where(exact >= floor, exact, max(surrogate, floor)), without a `where` pass
            h = xp.maximum(h, surrogate * xp.astype(exact < floor, exact.dtype))
        return h
    h = exact
    if surrogate is not None:
        h = xp.where(exact > 0, exact, surrogate)
    if scale != 1.0:
        h = h * scale
    if policy == "xgboost":
        h = xp.maximum(h, xp.full_like(h, XGBOOST_HESSIAN_MIN))
    return h
