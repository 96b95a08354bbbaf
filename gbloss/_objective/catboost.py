"""CatBoost's side of the objective protocol: its call forms, its sign, its limits.

CatBoost takes Python objects as ``loss_function`` and ``eval_metric``
(``catboost.CatBoostClassifier(loss_function=loss, eval_metric=loss.metric)``)
and calls them as follows (read from CatBoost's ``_catboost.pyx`` and checked
on catboost 1.2.8 and 1.2.10):

* ``calc_ders_range(approxes, targets, weights)`` for one-dimensional models
  (binary classification, regression): numpy views of one block of at most
  1,000 objects -- float64 margins, float32 targets, float32 weights or None.
  The result may be an ``(n, 2)`` float64 array of ``(der1, der2)`` rows,
  which CatBoost copies in a compiled loop; :func:`ders_range` returns that.
* ``calc_ders_multi(approx, target, weight)`` for multiclass models: one
  object per call -- a ``(k,)`` float64 view, the class id as a float and the
  weight as a float (1.0 without weights). The result is ``(der1, der2)``
  with ``der2`` a ``(k, k)`` matrix of which CatBoost reads the upper
  triangle. gbloss's Hessians are diagonal (as for XGBoost and LightGBM), so
  ``der2`` is a diagonal matrix.
* metric ``evaluate(approxes, target, weight) -> (error_sum, weight_sum)`` with
  ``approxes`` a tuple of ``k`` margin arrays, ``get_final_error(error, weight)``
  (their ratio) and ``is_max_optimal()`` (False: lower is better).

Sign: CatBoost *maximises*, so the derivatives it takes are those of minus the
loss: ``der1 = -grad`` and ``der2 = -hess``. As with XGBoost and LightGBM, the
sample weights are applied by the loss (CatBoost does not apply them to a
Python objective).

numba: unless the object has an attribute ``no_jit``, CatBoost tries
``numba.njit`` on these methods when numba is installed, and warns when that
fails. Here it always would (the methods reach gbloss's loss objects; the
arithmetic already runs in vectorised numpy or gbloss's own numba loops), so
the classes that carry the methods set ``no_jit = True``
(:data:`NO_JIT`): CatBoost skips the attempt, silently, and sets nothing on
the object.

Speed: CatBoost calls the objective once per block of at most 1,000 objects
for the gradient pass and once per leaf and block for the Newton leaf values,
so at small data and deep trees it is called thousands of times per
training, each call costing its Python overhead. CatBoost hands the same
blocks (the same memory, the same targets) every iteration: their validated
labels and kernels are kept (found by address, checked by content, about
2 million targets at most), and the focal family runs its compiled kernel
whatever the block size (``CallContext(small_blocks=True)``). The multiclass
objective is called once per object, which no Python objective makes fast.

What a block cannot tell
------------------------
The blocks are slices of CatBoost's permuted learn folds: they carry no row
index and no link to the training data. So a loss's statistics (class counts,
a label distribution) cannot come from the training labels here: a loss whose
statistics matter must be fitted first (``loss.fit(y_train)``;
:func:`gbloss.catboost.train` does it), and an unfitted one is refused with a
:class:`ValueError` that says so, never fitted to one block. Losses whose
statistics are unused (cross-entropy and focal loss without class weights)
run unfitted. Deferred re-weighting needs the boosting round, which CatBoost
does not pass; Dice and PEL need sums over whole groups: both are refused.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .binding import Binding, CallContext

__all__ = ["NO_JIT", "ders_multi", "ders_range", "final_error", "metric_value"]

#: The attribute value that tells CatBoost not to numba-compile an object's methods.
NO_JIT = True

_CONTEXT = CallContext(small_blocks=True)
#: Bindings of the blocks of ``calc_ders_range`` (validated labels, kernels), least recently
#: used first, holding at most about BLOCK_CACHE_ROWS targets.
_BLOCKS: OrderedDict[tuple, Binding] = OrderedDict()
_BLOCK_ROWS = 0
BLOCK_CACHE_ROWS = 1 << 21
_LOCK = threading.Lock()
#: Validated labels of one object, by (loss signature, class id, classes): CatBoost calls
#: the multiclass objective once per object, and a class id has only k values.
_OBJECT_LABELS: OrderedDict[tuple, tuple[Any, Any, Binding]] = OrderedDict()
_OBJECT_LABELS_SIZE = 256

UNFITTED = (
    "{name} needs statistics of the training labels (class counts, a label distribution), "
    "and CatBoost hands a Python objective and metric blocks of permuted objects that cannot "
    "give them. Fit the loss on the training labels first (fitted = loss.fit(y_train); "
    "loss_function=fitted, eval_metric=fitted.metric), or train with gbloss.catboost.train, "
    "which fits it."
)


def _check_supported(loss: Any) -> None:
    name = type(loss).__name__
    if not loss.row_separable:
        raise ValueError(
            f"{name} cannot train with CatBoost: its gradients depend on sums over whole "
            "groups, and CatBoost calls a Python objective on blocks of permuted objects "
            "with no groups. Use XGBoost (qid) or LightGBM (group).")
    if loss._needs_round():
        raise ValueError(
            f"{name}(drw_start_round=...) needs the boosting round, which CatBoost does not "
            "pass to a Python objective; use XGBoost or LightGBM for deferred re-weighting.")


def _statistics(loss: Any, labels: Any, w: Any) -> Any:
    """The loss's fitted statistics (checked against ``labels``); None for an unfitted loss
    that does not use them."""
    if loss.statistics_ is not None:
        return loss._statistics(labels, w, np)
    if loss._uses_statistics():
        raise ValueError(UNFITTED.format(name=type(loss).__name__))
    return None


def _pairs(grad: NDArray, hess: NDArray) -> NDArray[np.float64]:
    out = np.empty((grad.shape[0], 2), dtype=np.float64)
    np.negative(grad, out=out[:, 0])
    np.negative(hess, out=out[:, 1])
    return out


def _address(a: Any) -> int | None:
    return None if a is None else int(a.__array_interface__["data"][0])


def _block_binding(loss: Any, targets: Any, weights: Any) -> Binding:
    """The binding of one block: its validated labels and kernel, made once.

    CatBoost hands the same blocks (the same memory, the same targets) every
    iteration, so blocks are found by address and checked by content: changed
    targets or weights at an address are validated afresh.
    """
    key = (loss._signature(), _address(targets), targets.shape[0], _address(weights))
    with _LOCK:
        binding = _BLOCKS.get(key)
        if binding is not None:
            _BLOCKS.move_to_end(key)
    if binding is not None and binding.matches(targets, weights, None):
        return binding
    binding = Binding((np.array(targets), None if weights is None else np.array(weights), None),
                      None)
    with _LOCK:
        global _BLOCK_ROWS
        old = _BLOCKS.pop(key, None)
        _BLOCK_ROWS += targets.shape[0] - (0 if old is None else old.source[0].shape[0])
        _BLOCKS[key] = binding
        while _BLOCK_ROWS > BLOCK_CACHE_ROWS and len(_BLOCKS) > 1:
            _, dropped = _BLOCKS.popitem(last=False)
            _BLOCK_ROWS -= dropped.source[0].shape[0]
    return binding


def ders_range(loss: Any, approxes: Any, targets: Any, weights: Any,
               n_threads: int | None = None) -> NDArray[np.float64]:
    """``calc_ders_range``: ``(n, 2)`` rows ``(-grad, -hess)`` of one block of objects."""
    _check_supported(loss)
    raw = np.asarray(approxes, dtype=np.float64)
    if raw.shape[0] == 0:
        return np.empty((0, 2), dtype=np.float64)
    targets = np.asarray(targets)
    weights = None if weights is None else np.asarray(weights)
    binding = _block_binding(loss, targets, weights)
    labels, w = binding.validated(raw.dtype, lambda: loss._validated(
        targets, raw.shape, weights, np, np.float64))
    stats = _statistics(loss, labels, w)
    grad, hess = loss._evaluate("grad_hess", labels, w, raw, stats, np, _CONTEXT,
                                n_threads=n_threads or 1, cache=binding.kernel)
    return _pairs(grad, hess)


def _object_labels(loss: Any, target: Any, k: int) -> tuple[Any, Any, Binding]:
    """Validated labels, their statistics and the binding (kernels) of one object of
    class ``target``."""
    key = (loss._signature(), float(target), k)
    with _LOCK:
        entry = _OBJECT_LABELS.get(key)
        if entry is not None:
            _OBJECT_LABELS.move_to_end(key)
            return entry
    y = np.array([target], dtype=np.float64)
    labels, _ = loss._validated(y, (1, k), None, np, np.float64)
    entry = (labels, _statistics(loss, labels, None), Binding((y, None, None), None))
    with _LOCK:
        _OBJECT_LABELS[key] = entry
        while len(_OBJECT_LABELS) > _OBJECT_LABELS_SIZE:
            _OBJECT_LABELS.popitem(last=False)
    return entry


def ders_multi(loss: Any, approx: Any, target: Any, weight: Any,
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``calc_ders_multi``: ``(-grad, -diag(hess))`` of one object with ``k`` margins."""
    _check_supported(loss)
    raw = np.asarray(approx, dtype=np.float64).reshape(1, -1)
    if np.ndim(target) != 0:
        raise ValueError("CatBoost passed a vector target (a multi-target model): gbloss "
                         "supports CatBoost's binary, multiclass and regression models")
    labels, stats, binding = _object_labels(loss, target, raw.shape[1])
    w = None if weight is None else np.array([weight], dtype=np.float64)
    if w is not None and not (w[0] >= 0 and np.isfinite(w[0])):
        raise ValueError(f"sample weights must be finite and non-negative, got {weight!r}")
    grad, hess = loss._evaluate("grad_hess", labels, w, raw, stats, np, _CONTEXT, n_threads=1,
                                cache=binding.kernel)
    return -grad[0], np.diag(-hess[0])


def metric_value(loss: Any, approxes: Any, target: Any, weight: Any) -> tuple[float, float]:
    """``evaluate``: ``(sum_i w_i l_i, sum_i w_i)`` of a block (their ratio is the loss)."""
    _check_supported(loss)
    columns = [np.asarray(a, dtype=np.float64) for a in approxes]
    raw = columns[0] if len(columns) == 1 else np.stack(columns, axis=1)
    if raw.shape[0] == 0:
        return 0.0, 0.0
    labels, w = loss._validated(np.asarray(target), raw.shape, weight, np, np.float64)
    stats = _statistics(loss, labels, w)
    mean = loss._evaluate("value", labels, w, raw, stats, np, _CONTEXT)
    total = float(raw.shape[0]) if w is None else float(np.sum(w))
    return (mean * total if total > 0 else 0.0), total


def final_error(error: float, weight: float) -> float:
    """``get_final_error``: the weighted mean loss (NaN without weight)."""
    return error / weight if weight > 0 else float("nan")
