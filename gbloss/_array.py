"""Array namespaces and the blocked CPU executor.

How gbloss keeps one definition per loss and still runs fast
-----------------------------------------------------------
Each loss's math is written once, as a pure function of arrays that uses only
array-API operations through a namespace argument ``xp`` (see
``gbloss/_classification.py`` for examples). That single function is run in
two ways:

* **Reference path** (cupy, array-api-strict, torch, small inputs): the
  function is called once on the whole arrays. It runs on the arrays' device
  and returns arrays there.
* **Fast CPU path** (numpy, large inputs): :func:`run_blocked` calls the *same*
  function on row blocks of about 32k elements from a thread pool. numpy
  releases the GIL inside its ufuncs, so the blocks run in parallel, and each
  block's temporaries stay in the CPU cache instead of streaming a dozen
  full-size temporaries through memory. On a 2-core machine this is 3-5x
  faster than the whole-array numpy expression, with no second copy of the
  math to keep in sync.

Tests check both paths against each other and against torch autograd.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_numpy_namespace

__all__ = ["default_n_threads", "get_namespace", "run_blocked"]

#: Elements per block. 32k float32 values (128 KiB) per temporary keeps the
#: dozen temporaries of a focal kernel inside a 2 MiB L2 cache.
BLOCK_ELEMENTS = 32_768

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def get_namespace(*arrays: Any) -> Any:
    """Return the array-API namespace of ``arrays`` (plain ``numpy`` for numpy input)."""
    arrays = tuple(a for a in arrays if a is not None)
    if all(isinstance(a, np.ndarray | np.generic) for a in arrays):
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


def default_n_threads() -> int:
    """Cores this process may use (CPU affinity), at most the Dask worker's thread count.

    Inside a Dask worker's task (``xgboost.dask``, ``lightgbm.dask``) the
    worker's ``nthreads`` caps it, so that workers sharing a machine do not
    oversubscribe its cores.
    """
    try:
        n = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        n = max(1, os.cpu_count() or 1)
    worker = _dask_worker_threads()
    return min(n, worker) if worker else n


def _dask_worker_threads() -> int | None:
    """``nthreads`` of the Dask worker running the current task, or None outside one."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ValueError, AttributeError, ImportError):  # not in a worker's task
        return None


def _get_pool(n_threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != n_threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(n_threads, thread_name_prefix="gbloss")
            _pool_size = n_threads
        return _pool


def run_blocked(
    fn: Callable[..., tuple[Any, ...]],
    arrays: Sequence[Any],
    *,
    xp: Any,
    n_threads: int | None = None,
) -> tuple[Any, ...]:
    """Evaluate ``fn(*arrays, xp)`` and return its tuple of outputs.

    ``arrays`` share their first dimension (rows); ``fn`` must be row-wise, i.e.
    its output rows depend only on the same input rows, and must return arrays
    of the shape of ``arrays[-1]`` (the raw prediction). For numpy input with
    more than one block the rows are split into cache-sized blocks evaluated on
    ``n_threads`` threads; any other namespace gets one call on whole arrays.
    An array of ndim 0, or ``None``, is passed unchanged to every block.
    """
    raw = arrays[-1]
    n_rows = raw.shape[0] if raw.ndim else 1
    width = int(np.prod(raw.shape[1:])) if raw.ndim > 1 else 1
    rows_per_block = max(1, BLOCK_ELEMENTS // max(width, 1))
    if not is_numpy(xp) or n_rows <= rows_per_block:
        with np.errstate(all="ignore"):
            return fn(*arrays, xp)

    n_threads = n_threads or default_n_threads()
    starts = range(0, n_rows, rows_per_block)
    first = None
    outputs: list[np.ndarray] = []

    def work(start: int) -> None:
        nonlocal first
        rows = slice(start, min(start + rows_per_block, n_rows))
        parts = [a if a is None or np.ndim(a) == 0 else a[rows] for a in arrays]
        with np.errstate(all="ignore"):
            result = fn(*parts, xp)
        for out, part in zip(outputs, result):
            out[rows] = part

    # The first block runs inline: it fixes the number and dtypes of the outputs.
    rows0 = slice(0, rows_per_block)
    with np.errstate(all="ignore"):
        first = fn(*[a if a is None or np.ndim(a) == 0 else a[rows0] for a in arrays], xp)
    for part in first:
        out = np.empty((n_rows, *part.shape[1:]), dtype=part.dtype)
        out[rows0] = part
        outputs.append(out)
    rest = starts[1:]
    if n_threads == 1 or len(rest) == 1:
        for start in rest:
            work(start)
    else:
        list(_get_pool(n_threads).map(work, rest))
    return tuple(outputs)
