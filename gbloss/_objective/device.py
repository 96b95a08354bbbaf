"""Where the objective computes: the host, or a GPU with cupy (the XGBoost GPU path).

XGBoost hands a custom objective its margins as a host numpy array even with
``device="cuda"`` (dmlc/xgboost#10049) and accepts the gradient and Hessian as
device arrays (anything with ``__cuda_array_interface__``). An objective told
the device (``gbloss.xgboost.objective(loss, {"device": "cuda"})``, which
``gbloss.xgboost.train`` uses) or handed cupy margins

1. reads the labels and weights of the DMatrix, validates them and computes the
   label statistics once per training (its binding keeps labels, weights and
   the kernel's constants on the device);
2. each round copies the margins to the device (one host-to-device copy: the
   floor that gbloss cannot remove), runs the loss's kernel there, and returns
   device arrays to XGBoost.

LightGBM's objective interface takes host float32 arrays only (and its PyPI
wheel has no CUDA learner): LightGBM always gets host float32 arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.namespace import device_of, get_namespace

__all__ = ["is_cuda_device", "params_device", "resolve"]


def is_cuda_device(device: Any) -> bool:
    """Whether an XGBoost ``device`` parameter names a CUDA device."""
    return isinstance(device, str) and device.split(":")[0].lower() in ("cuda", "gpu")


def params_device(params: Mapping[str, Any]) -> str | None:
    """The CUDA device an XGBoost parameter dict trains on, or None (CPU)."""
    device = params.get("device")
    if is_cuda_device(device):
        return str(device)
    if str(params.get("tree_method", "")).startswith("gpu"):  # XGBoost < 2
        return "cuda"
    return None


def resolve(device: Any, raw: Any) -> tuple[Any, Any]:
    """``(xp, device)`` to compute on: from ``device`` or, when None, from ``raw``'s array.

    ``device``: None (where ``raw`` lives), an XGBoost device string
    (``"cuda"``, ``"cuda:1"``, ``"gpu"``, ``"cpu"``), or a pair ``(xp, device)``
    of an array namespace and one of its devices (the tests use
    array-api-strict's second device to stand in for a GPU).
    """
    if isinstance(device, tuple):
        return device
    if device is None or not is_cuda_device(device):
        return get_namespace(raw), device_of(raw)
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
