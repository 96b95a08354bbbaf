"""Groups of rows (one image = one group) and sums over them.

Dice and PEL are ratios of sums over a group's rows. :class:`Segments` gives
per-group sums and per-row gathers with array-API operations, on one machine
or, given a ``reduce`` function (an all-reduce across workers), over the rows
of every worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .namespace import asarray_on, device_of, is_numpy, to_numpy

__all__ = ["Reduce", "Segments", "group_pointer"]

#: ``reduce(values, op)``: the element-wise sum (``op="sum"``) or maximum (``"max"``) of a
#: float64 host array over the workers of a distributed training; every worker calls it
#: with the same shape, in the same order.
Reduce = Callable[[NDArray[np.float64], Literal["sum", "max"]], NDArray[np.float64]]


def group_pointer(group: Any, n_rows: int) -> NDArray[np.int64] | None:
    """Row offsets ``[0, n_1, n_1 + n_2, ..., n]`` of groups given by their sizes.

    ``group``: None (one group: the whole data set) or the group sizes
    (LightGBM ``group`` / XGBoost ``group``), which must be positive integers
    adding up to ``n_rows``.
    """
    if group is None:
        return None
    sizes = np.asarray(group)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"group must be a 1-D array of group sizes, got shape {sizes.shape}")
    if not np.issubdtype(sizes.dtype, np.number) or np.any(~np.isfinite(sizes)) \
            or np.any(sizes != np.round(sizes)) or np.any(sizes < 1):
        raise ValueError("group sizes must be positive integers")
    sizes = sizes.astype(np.int64)
    total = int(sizes.sum())
    if total != n_rows:
        raise ValueError(f"group sizes add up to {total} rows but the data have {n_rows} rows")
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


class Segments:
    """Per-group sums and per-row gathers for contiguous groups (array-API ops only).

    ``ptr``: row offsets from :func:`group_pointer`, or None (one group). ``ref``:
    an array on the device of the data. ``reduce``: None on one machine; across
    workers, the all-reduce of :data:`Reduce`. Every worker then issues the same
    collectives in the same order whatever its data (zero rows included), or
    training would deadlock:

    * one all-reduce (max) decides whether the data set has groups;
    * without groups the data set is one group: every :meth:`sum` is all-reduced;
    * with groups each group lies on one worker: :meth:`sum` is local, and the
      number of groups, :meth:`total` and :meth:`mean` are all-reduced.
    """

    def __init__(self, ptr: NDArray | None, ref: Any, xp: Any, reduce: Reduce | None = None
                 ) -> None:
        self.xp, self.ref, self.reduce = xp, ref, reduce
        self.grouped = ptr is not None
        if reduce is not None:
            self.grouped = float(reduce(np.asarray([1.0 if self.grouped else 0.0]), "max")[0]) > 0
            if self.grouped and ptr is None:
                if int(ref.shape[0]):
                    raise ValueError("the training data have groups (qid) on some workers and "
                                     "not on others")
                ptr = np.zeros(1, dtype=np.int64)  # a worker without rows holds zero groups
        self.ptr = ptr
        if ptr is None:
            self.n_groups = 1
            return
        sizes = np.diff(ptr)
        n_local = int(sizes.size)
        gid = np.repeat(np.arange(n_local, dtype=np.int64), sizes)
        if is_numpy(xp):
            self.lo, self.hi, self.gid = ptr[:-1], ptr[1:], gid
        else:
            dev = device_of(ref)
            self.lo = xp.asarray(ptr[:-1], device=dev)
            self.hi = xp.asarray(ptr[1:], device=dev)
            self.gid = xp.asarray(gid, device=dev)
        self.n_groups = n_local if reduce is None else \
            round(float(reduce(np.asarray([float(n_local)]), "sum")[0]))

    def _all(self, x: Any) -> Any:
        """``x`` (float64) summed over the workers, on ``x``'s device."""
        assert self.reduce is not None  # (called only inside a distributed training)
        host = np.ascontiguousarray(to_numpy(x), dtype=np.float64)
        out = np.asarray(self.reduce(host, "sum"), dtype=np.float64).reshape(host.shape)
        xp = self.xp
        return out if is_numpy(xp) else asarray_on(out, self.ref, xp, xp.float64)

    def _local_sum(self, x: Any) -> Any:
        xp = self.xp
        x = xp.astype(x, xp.float64)
        if self.ptr is None:
            return xp.reshape(xp.sum(x), (1,))
        cumulative_sum = getattr(xp, "cumulative_sum", None)
        if cumulative_sum is not None:
            cs = cumulative_sum(x, include_initial=True)
        else:  # numpy < 2.1
            cs = xp.concat([asarray_on([0.0], x, xp, x.dtype), xp.cumsum(x)])
        return xp.take(cs, self.hi) - xp.take(cs, self.lo)

    def sum(self, x: Any) -> Any:
        """Float64 sums of ``x`` over each group: shape ``(n_groups,)`` (local groups)."""
        local = self._local_sum(x)
        return local if self.reduce is None or self.grouped else self._all(local)

    def total(self, x: Any) -> Any:
        """Float64 sum of ``x`` over all rows (all workers' rows)."""
        xp = self.xp
        s = xp.reshape(xp.sum(xp.astype(x, xp.float64)), (1,))
        return (s if self.reduce is None else self._all(s))[0]

    def mean(self, v: Any) -> Any:
        """Mean over the groups of a per-group vector (all workers' groups)."""
        xp = self.xp
        if self.reduce is None or not self.grouped:
            return xp.mean(v)
        s = xp.reshape(xp.sum(xp.astype(v, xp.float64)), (1,))
        return self._all(s)[0] / max(self.n_groups, 1)

    def rows(self, v: Any, dtype: Any) -> Any:
        """A per-group float64 vector gathered to the rows, cast to ``dtype``."""
        xp = self.xp
        if self.ptr is not None:
            v = xp.take(v, self.gid)
        return xp.astype(v, dtype)
