"""Array namespaces and devices: one definition of each loss runs on numpy, cupy,
torch and array-api-strict arrays through a namespace argument ``xp``.

* :func:`get_namespace` -- the namespace of some arrays (plain ``numpy`` for numpy);
* :func:`to_numpy` -- a host copy of any array (statistics and init scores are
  computed on the host, in float64);
* :func:`asarray_on` / :func:`move_like` -- constants and labels on the device of
  the margins, which ``xp.asarray`` without ``device=`` does not guarantee (torch
  puts it on the default device, array-api-strict on its CPU device).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj, is_numpy_namespace

__all__ = ["arange_like", "asarray_on", "device_of", "get_namespace", "is_numpy", "move_like",
           "to_numpy"]


def get_namespace(*arrays: Any) -> Any:
    """Return the array-API namespace of ``arrays`` (plain ``numpy`` for numpy input).

    Objects that are not arrays of a namespace (lists, scalars, pandas and
    scipy objects) count as numpy: they are read with ``np.asarray``, or
    refused by the checks that read them.
    """
    arrays = tuple(a for a in arrays if a is not None and is_array_api_obj(a)
                   and not isinstance(a, np.ndarray | np.generic))
    if not arrays:
        return np
    return array_namespace(*arrays)


def is_numpy(xp: Any) -> bool:
    return xp is np or is_numpy_namespace(xp)


def arange_like(n: int, ref: Any, xp: Any) -> Any:
    """``xp.arange(n)`` with the dtype and device of ``ref`` (torch and cupy put arrays
    created without a device on the default one, which need not be ``ref``'s)."""
    if xp is np:  # (array_api_compat's numpy namespace takes device=)
        return xp.arange(n, dtype=ref.dtype)
    return xp.arange(n, dtype=ref.dtype, device=ref.device)  # the array API's .device


def device_of(a: Any) -> Any:
    """The device of array ``a`` (``"cpu"`` for numpy)."""
    if isinstance(a, np.ndarray | np.generic) or not is_array_api_obj(a):
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
