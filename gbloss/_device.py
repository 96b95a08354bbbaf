"""Arrays on devices: host copies, device placement and the XGBoost GPU objective.

Every loss's math runs through an array namespace ``xp`` (see ``_array.py``),
so the same function runs on numpy, cupy, torch and array-api-strict arrays.
This module holds what the math itself must not do:

* :func:`to_numpy` -- a host copy of any array (label statistics and init
  scores are computed once, on the host, in float64);
* :func:`asarray_on` -- a constant (class factors, tables) on the device of
  the data, which ``xp.asarray`` without ``device=`` does not guarantee
  (torch puts it on the default device, array-api-strict on its CPU device);
* :func:`xgboost_device_call` -- the XGBoost objective and metric on a GPU.

XGBoost on a GPU
----------------
XGBoost hands a custom objective its margins as a host numpy array even with
``device="cuda"`` (dmlc/xgboost#10049) and accepts the gradient and Hessian as
device arrays (anything with ``__cuda_array_interface__``). When a loss is told
the device (:func:`with_device`; ``gbloss.xgboost.train`` does it from
``params["device"]``) or the margins arrive as cupy arrays, the objective

1. reads the labels and weights of the DMatrix once, validates them and
   computes the label statistics on the host, and keeps labels, weights and
   the kernel's constants on the device, keyed by the DMatrix;
2. each round copies the margins to the device (one host-to-device copy: the
   floor that gbloss cannot remove), runs the loss's kernel there, and returns
   device arrays to XGBoost.

LightGBM's objective interface takes host float32 arrays only (and its PyPI
wheel has no CUDA learner): a loss with a device still hands LightGBM host
float32 arrays.
"""

from __future__ import annotations

import copy
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._array import get_namespace, is_numpy

__all__ = ["asarray_on", "device_of", "to_numpy", "with_device", "xgboost_device_call"]

#: DMatrices (or label sets) whose device copies a loss keeps at once.
DEVICE_CACHE_SIZE = 4


# ---------------------------------------------------------------------------- helpers
def device_of(a: Any) -> Any:
    """The device of array ``a`` (``"cpu"`` for numpy)."""
    if isinstance(a, np.ndarray | np.generic):
        return "cpu"
    from array_api_compat import device

    return device(a)


def to_numpy(a: Any, dtype: Any = None) -> np.ndarray:
    """A host numpy copy (or view) of ``a``: numpy, cupy, torch, array-api-strict, dlpack."""
    if isinstance(a, np.ndarray | np.generic) or a is None or np.isscalar(a):
        return np.asarray(a, dtype=dtype)
    from array_api_compat import is_cupy_array, is_torch_array

    if is_cupy_array(a):
        out = a.get()
    elif is_torch_array(a):
        out = a.detach().cpu().numpy()
    else:
        try:
            out = np.asarray(a)
        except (TypeError, RuntimeError, ValueError):  # not on the CPU: go through dlpack
            out = np.from_dlpack(a)
    return np.asarray(out, dtype=dtype)


def asarray_on(value: Any, ref: Any, xp: Any, dtype: Any = None) -> Any:
    """``xp.asarray(value, dtype=dtype)`` on the device of the array ``ref``."""
    if is_numpy(xp):
        return np.asarray(value, dtype=dtype)
    return xp.asarray(value, dtype=dtype, device=device_of(ref))


def move_like(a: Any, raw: Any, xp: Any) -> Any:
    """``a`` (labels or weights, any array or None) in ``raw``'s namespace and on its device."""
    if a is None or is_numpy(xp):
        return a
    dev = device_of(raw)
    try:
        a_xp = get_namespace(a)
    except TypeError:  # lists, scalars
        a_xp = None
    if a_xp is not None and not is_numpy(a_xp) and type(a) is type(raw):
        if device_of(a) == dev:
            return a
        from array_api_compat import to_device

        return to_device(a, dev)
    return xp.asarray(to_numpy(a), device=dev)


# ------------------------------------------------------------------- device choice
def is_cuda_device(device: Any) -> bool:
    """Whether an XGBoost ``device`` parameter names a CUDA device."""
    return isinstance(device, str) and device.split(":")[0].lower() in ("cuda", "gpu")


def params_device(params: Any) -> str | None:
    """The CUDA device an XGBoost parameter dict trains on, or None (CPU)."""
    device = params.get("device")
    if is_cuda_device(device):
        return str(device)
    if str(params.get("tree_method", "")).startswith("gpu"):  # XGBoost < 2
        return "cuda"
    return None


def with_device(loss: Any, device: Any) -> Any:
    """A copy of ``loss`` (sharing its label cache) whose XGBoost objective runs on ``device``.

    ``device``: an XGBoost device string (``"cuda"``, ``"cuda:1"``, ``"gpu"``), or
    ``None``/``"cpu"`` for the host. A pair ``(xp, device)`` of an array namespace
    and one of its devices is accepted too (the tests use array-api-strict's
    second device to stand in for a GPU).
    """
    new = copy.deepcopy(loss)
    if device is None or (isinstance(device, str) and device.lower() == "cpu"):
        new.__dict__.pop("_device", None)
    else:
        new.__dict__["_device"] = device
    return new


def resolve(device: Any, raw: Any) -> tuple[Any, Any]:
    """``(xp, device)`` to compute on: from ``device`` or, when None, from ``raw``'s array."""
    if isinstance(device, tuple):
        return device
    if device is None or not is_cuda_device(device):
        xp = get_namespace(raw)
        return xp, device_of(raw)
    try:
        import array_api_compat.cupy as cxp
        import cupy
    except ImportError as exc:
        raise ImportError(
            f"device={device!r}: gbloss runs the objective on the GPU with cupy, which is not "
            "installed (pip install 'gbloss[gpu]', or cupy-cuda12x)"
        ) from exc
    from array_api_compat import is_cupy_array

    if is_cupy_array(raw) and ":" not in device:
        return cxp, raw.device
    index = int(device.split(":")[1]) if ":" in device else cupy.cuda.runtime.getDevice()
    return cxp, cupy.cuda.Device(index)


# ------------------------------------------------------------------ device objective
@dataclass
class _Entry:
    """Labels, weights and label statistics of one DMatrix, on a device."""

    ref: Any  # weak reference to the DMatrix (None: keyed by label content)
    n_rows: int
    labels: Any  # gbloss._base.Labels on the device
    w: Any  # device array or None
    stats: Any
    kernels: dict = field(default_factory=dict)


def _device_cache(loss: Any) -> OrderedDict:
    cache = loss._cache
    table = getattr(cache, "device", None)
    if table is None:
        table = cache.device = OrderedDict()
    return table


def _entry(loss: Any, dmatrix: Any, y: Any, w: Any, raw: Any, xp: Any, dev: Any,
           training: bool) -> _Entry:
    from ._base import Labels, _fingerprint, _owned, _xgboost_labels
    from ._validation import check_sample_weight

    cache = loss._cache
    table = _device_cache(loss)
    np_dtype = np.dtype(str(raw.dtype).split(".")[-1])  # cupy, numpy, strict, torch dtypes
    if dmatrix is not None:
        key: tuple = ("dmatrix", int(dmatrix.handle.value or 0), tuple(raw.shape), str(np_dtype),
                      str(dev))
    else:
        y_h, w_h = to_numpy(y), None if w is None else to_numpy(w)
        key = ("labels", _fingerprint(y_h, tuple(raw.shape), w_h, np), str(np_dtype), str(dev))
    with cache.lock:
        entry = table.get(key)
        if entry is not None and entry.ref is not None and entry.ref() is not dmatrix:
            entry = None  # a new DMatrix at the address of a freed one
        if entry is not None:
            table.move_to_end(key)
            return entry
    if dmatrix is not None:
        y_h, w_h = _xgboost_labels(dmatrix, raw)
    labels_h = loss._labels(y_h, tuple(raw.shape), np, np_dtype)
    w_h = check_sample_weight(w_h, raw.shape[0], np, np_dtype)
    stats = loss._training_stats(labels_h, w_h, np, training=training)
    labels = Labels(labels_h.task, xp.asarray(labels_h.y, device=dev), labels_h.n_classes,
                    labels_h.hard)
    entry = _Entry(None if dmatrix is None else weakref.ref(dmatrix), int(raw.shape[0]), labels,
                   None if w_h is None else xp.asarray(w_h, device=dev), stats)
    with cache.lock:
        table[_owned(key)] = entry
        while len(table) > DEVICE_CACHE_SIZE:
            table.popitem(last=False)
    return entry


def _stats(loss: Any, entry: _Entry, training: bool) -> Any:
    """The statistics ``Loss._training_stats`` would return, without touching the labels."""
    frozen = loss.__dict__.get("_frozen")
    if frozen is not None:
        return frozen
    if training:
        loss._cache.last_training = entry.stats
        loss._cache.last_task = entry.labels.task
        return entry.stats
    last = loss._cache.last_training
    return entry.stats if last is None else last


def xgboost_device_call(loss: Any, raw: Any, dmatrix: Any = None, *, mode: str = "grad_hess",
                        device: Any = None, y: Any = None, w: Any = None) -> Any:
    """The XGBoost objective (``mode="grad_hess"``) or metric (``"value"``) on a device.

    ``raw``: the margins (host numpy from XGBoost, or device arrays). Labels and
    weights come from ``dmatrix`` (read once per DMatrix) or from ``y`` / ``w``
    (keyed by their content). Returns ``(grad, hess)`` as device arrays shaped
    like ``raw``, or the weighted mean loss as a float.
    """
    from ._validation import check_finite_array

    xp, dev = resolve(device, raw)
    raw_d = xp.asarray(raw, device=dev)  # the one host-to-device copy of a round
    if not xp.isdtype(raw_d.dtype, "real floating"):
        raw_d = xp.astype(raw_d, xp.float64)
    check_finite_array("raw_prediction", raw_d, xp)
    training = mode == "grad_hess"
    entry = _entry(loss, dmatrix, y, w, raw_d, xp, dev, training)
    stats = _stats(loss, entry, training)
    labels = entry.labels
    fn = None
    if loss.row_separable:  # the kernel and its device constants are kept per DMatrix
        kkey = (mode, str(raw_d.dtype), id(stats), bool(loss.__dict__.get("_drw_on", True)))
        fn = entry.kernels.get(kkey)
        if fn is None:
            fn = entry.kernels[kkey] = loss._kernel(labels, stats, mode, xp, raw_d.dtype)
    if training:
        return loss._run_grad_hess(labels, entry.w, raw_d, stats, xp, fn=fn)
    return loss._run_loss(labels, entry.w, raw_d, stats, xp, fn=fn)
