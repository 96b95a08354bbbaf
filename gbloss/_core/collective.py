"""The workers of one distributed training, as a loss sees them.

Inside a distributed training (XGBoost on Dask, Ray, Spark barrier mode, a
bare tracker) each worker's objective sees its own rows only. A loss whose
statistics come from the labels computes them from *all* the workers' labels
through a :class:`Workers`: sums and maxima of arrays all-reduced across the
workers, and the rows of every worker gathered. It knows nothing of the
booster whose collective carries the reductions (:mod:`gbloss._objective`
builds it from XGBoost's).

Every worker has to issue the same collectives in the same order, whatever
its data (zero rows included), or the training deadlocks: each method here
issues a fixed number of all-reduces that does not depend on the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .groups import Reduce
from .labels import Labels
from .namespace import to_numpy

__all__ = ["Workers"]


class Workers:
    """The workers of a distributed training: ``rank`` of ``size``, and their all-reduce.

    Parameters
    ----------
    reduce : callable
        ``reduce(values, op)``: the float64 array ``values`` summed
        (``op="sum"``) or maximised (``"max"``) elementwise over the workers,
        same shape.
    rank, size : int
        This worker's rank and the number of workers.
    """

    def __init__(self, reduce: Reduce, rank: int, size: int) -> None:
        self.reduce, self.rank, self.size = reduce, int(rank), int(size)

    def __repr__(self) -> str:
        return f"Workers(rank={self.rank}, size={self.size})"

    def sum(self, values: Any) -> NDArray[np.float64]:
        """``values`` summed over the workers (float64, same shape)."""
        host = np.ascontiguousarray(values, dtype=np.float64)
        return np.asarray(self.reduce(host, "sum"), dtype=np.float64).reshape(host.shape)

    def max(self, values: Any) -> NDArray[np.float64]:
        """``values`` maximised over the workers (float64, same shape)."""
        host = np.ascontiguousarray(values, dtype=np.float64)
        return np.asarray(self.reduce(host, "max"), dtype=np.float64).reshape(host.shape)

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on some worker."""
        return bool(self.max(np.array([1.0 if flag else 0.0]))[0] > 0)

    def gather(self, rows: Any) -> NDArray[np.float64]:
        """Every worker's ``rows`` (float64, shape ``(n_w, ...)``) stacked in rank order.

        Two all-reduces: the row counts and widths, then the rows, each worker
        adding its own at its offset into zeros (``x + 0`` is exact, so the
        values arrive unchanged). The trailing shape is the widest worker's
        (a worker without rows may not know it).
        """
        a = np.asarray(to_numpy(rows), dtype=np.float64)
        n = int(a.shape[0]) if a.ndim else 0
        tail = tuple(int(s) for s in a.shape[1:])
        width = int(np.prod(tail)) if tail else 1
        shape = np.zeros((3, self.size))  # rows, row width and ndim of each rank
        shape[:, self.rank] = (n, width if n else 0, a.ndim)
        counts, widths, ndims = self.sum(shape)
        width_all = int(widths.max())
        if n and width != width_all:
            raise ValueError(f"the workers' rows have different widths ({width} here, "
                             f"{width_all} elsewhere)")
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        total = int(offsets[-1])
        out = np.zeros((total, max(width_all, 1)))
        if n:
            out[offsets[self.rank]:offsets[self.rank] + n] = a.reshape(n, -1)
        out = self.sum(out)
        return out[:, 0] if ndims.max() <= 1 else out

    def gather_labels(self, labels: Labels, w: Any) -> tuple[Labels, NDArray | None]:
        """All workers' labels and weights (host numpy, rank order), as if on one machine.

        Labels keep their dtype (class ids their integers); weights are
        gathered when some worker has them (a worker without rows reads none).
        """
        y = to_numpy(labels.y)
        has_w = self.any(w is not None)
        y_all = self.gather(y).astype(y.dtype, copy=False)
        w_all = None
        if has_w:
            w_local = np.ones(y.shape[0]) if w is None else to_numpy(w)
            w_all = self.gather(w_local).astype(np.asarray(w_local).dtype, copy=False)
        hard = not self.any(not labels.hard)
        return Labels(labels.task, y_all, labels.n_classes, hard), w_all
