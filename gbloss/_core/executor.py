"""The blocked CPU executor: one definition of a loss, run fast on numpy arrays.

How gbloss keeps one definition per loss and still runs fast
-----------------------------------------------------------
Each loss's math is written once, as a pure function of arrays that uses only
array-API operations through a namespace argument ``xp`` (see
``gbloss/losses/focal.py`` for examples). That single function is run in
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

Where even the blocked numpy chain costs several times a booster's built-in
objective (the focal family that XGBoost calls on every round), a loss may
dispatch large numpy inputs to a fused compiled loop instead; see
``gbloss/kernels/fused.py``. That loop splits its rows over the same threads
(:func:`run_row_ranges`).

Tests check every path against the others and against torch autograd.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .namespace import is_numpy

__all__ = ["default_n_threads", "run_blocked", "run_row_ranges"]

#: Elements per block. 32k float32 values (128 KiB) per temporary keeps the
#: dozen temporaries of a focal kernel inside a 2 MiB L2 cache.
BLOCK_ELEMENTS = 32_768

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def default_n_threads() -> int:
    """Cores this process may use (its CPU affinity), at most ``OMP_NUM_THREADS`` when set.

    The boosters' own thread settings take precedence: the objective reads
    XGBoost's ``nthread`` and LightGBM's ``num_threads`` from the data it is
    called with (``xgboost.dask`` and ``lightgbm.dask`` set them per worker).
    ``OMP_NUM_THREADS`` is the usual cap of numeric libraries' threads; Dask's
    worker processes set it to 1.
    """
    try:
        n = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        n = max(1, os.cpu_count() or 1)
    cap = os.environ.get("OMP_NUM_THREADS", "")
    return min(n, int(cap)) if cap.isdigit() and int(cap) > 0 else n


def _forget_pool() -> None:
    """In a forked child: drop the parent's pool, whose threads do not exist in the child.

    Without this, the child's first large call would submit to a pool with no
    threads and wait for ever (``multiprocessing``, joblib and DataLoader workers fork).
    """
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _get_pool(n_threads: int) -> ThreadPoolExecutor:
    """A pool of at least ``n_threads`` threads (callers submit at most that many tasks).

    It only grows. A replaced pool is not shut down: another thread may be about
    to submit to it; its threads exit once it is garbage-collected.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n_threads:
            _pool = ThreadPoolExecutor(n_threads, thread_name_prefix="gbloss")
            _pool_size = n_threads
        return _pool


def run_row_ranges(
    fn: Callable[[slice], None], n_rows: int, n_threads: int, *, row_elements: int = 1,
) -> None:
    """Call ``fn(rows)`` on ``n_threads`` contiguous row ranges covering ``range(n_rows)``:
    one on this thread, the others on the pool (``fn`` must release the GIL to
    run in parallel). Ranges hold at least ``BLOCK_ELEMENTS`` elements.

    Range bounds are multiples of 256 rows, so that a vectorised loop treats
    every element alike (SIMD body or scalar tail) whatever the thread count:
    results are bit-identical for any ``n_threads``.
    """
    n_ranges = max(1, min(n_threads, n_rows * row_elements // BLOCK_ELEMENTS))
    bounds = [n_rows * i // n_ranges // 256 * 256 for i in range(n_ranges)] + [n_rows]
    ranges = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    helpers = [_get_pool(n_threads - 1).submit(fn, rows) for rows in ranges[1:]]
    fn(ranges[0])
    for helper in helpers:
        helper.result()


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
    ``n_threads`` threads (the calling one and ``n_threads - 1`` pool threads,
    each taking the next block in turn); any other namespace gets one call on
    whole arrays.

    A kernel whose function has ``splits_rows = True`` (the fused kernels of
    ``gbloss/kernels/fused.py``, possibly inside a :func:`functools.partial`) gets a
    single call with ``n_threads=``: it splits the rows itself and writes into
    one set of outputs, since per-block calls and copies would cost more than
    its whole work.
    An array of ndim 0, or ``None``, is passed unchanged to every block.
    """
    if getattr(getattr(fn, "func", fn), "splits_rows", False) and is_numpy(xp):
        with np.errstate(all="ignore"):
            return fn(*arrays, xp, n_threads=n_threads or default_n_threads())
    raw = arrays[-1]
    n_rows = raw.shape[0] if raw.ndim else 1
    width = int(np.prod(raw.shape[1:])) if raw.ndim > 1 else 1
    rows_per_block = max(1, BLOCK_ELEMENTS // max(width, 1))
    if not is_numpy(xp) or n_rows <= rows_per_block:
        with np.errstate(all="ignore"):
            return fn(*arrays, xp)

    n_threads = n_threads or default_n_threads()
    outputs: list[np.ndarray] = []

    def evaluate(rows: slice) -> tuple[Any, ...]:
        with np.errstate(all="ignore"):
            return fn(*[a if a is None or np.ndim(a) == 0 else a[rows] for a in arrays], xp)

    # The first block runs inline: it fixes the number and dtypes of the outputs.
    first = evaluate(slice(0, rows_per_block))
    for part in first:
        out = np.empty((n_rows, *part.shape[1:]), dtype=part.dtype)
        out[:rows_per_block] = part
        outputs.append(out)
    # The other blocks go to n_threads workers (this thread is one of them), each
    # taking the next block from a shared counter: one task per thread, not per block.
    next_block = iter(range(rows_per_block, n_rows, rows_per_block))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                start = next(next_block, None)
            if start is None:
                return
            rows = slice(start, min(start + rows_per_block, n_rows))
            for out, part in zip(outputs, evaluate(rows), strict=True):
                out[rows] = part

    n_blocks = -(-n_rows // rows_per_block) - 1
    helpers = [_get_pool(n_threads - 1).submit(worker)
               for _ in range(min(n_threads, n_blocks) - 1)] if n_threads > 1 else []
    worker()
    for helper in helpers:
        helper.result()
    return tuple(outputs)
