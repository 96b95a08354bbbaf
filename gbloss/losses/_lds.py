"""Label Distribution Smoothing (LDS): per-row weights for imbalanced regression.

Not a loss: :func:`lds_weights` turns training targets into ``sample_weight``
for any regression loss or booster (Yang et al., ICML 2021).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._core.checks import as_float_array, check_finite_scalar, check_option

__all__ = ["lds_kernel_window", "lds_weights"]

Kernel = Literal["gaussian", "triang", "laplace"]
Reweight = Literal["inverse", "sqrt_inv", "none"]
KERNELS: tuple[str, ...] = ("gaussian", "triang", "laplace")
REWEIGHTS: tuple[str, ...] = ("inverse", "sqrt_inv", "none")


def _check_kernel_size(kernel_size: Any) -> int:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int | np.integer) \
            or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be an odd positive integer, got {kernel_size!r}")
    return int(kernel_size)


def lds_kernel_window(kernel: Kernel = "gaussian", kernel_size: int = 5,
                      sigma: float = 2.0) -> NDArray[np.float64]:
    """The symmetric LDS kernel window of ``kernel_size`` bins, peak 1.

    As the authors' ``get_lds_kernel_window``: ``"gaussian"`` is
    ``scipy.ndimage.gaussian_filter1d`` (default ``mode="reflect"``) of a
    unit impulse, ``"triang"`` is ``scipy.signal.windows.triang``,
    ``"laplace"`` is ``exp(-|k| / sigma)``, each divided by its maximum.
    """
    check_option("kernel", kernel, KERNELS)
    ks = _check_kernel_size(kernel_size)
    sigma = check_finite_scalar("sigma", sigma, low=0.0, low_inclusive=False)
    half = (ks - 1) // 2
    if kernel == "gaussian":
        from scipy.ndimage import gaussian_filter1d

        impulse = np.zeros(ks)
        impulse[half] = 1.0
        window = gaussian_filter1d(impulse, sigma=sigma)
    elif kernel == "triang":
        from scipy.signal.windows import triang

        window = triang(ks)
    else:
        window = np.exp(-np.abs(np.arange(-half, half + 1)) / sigma)
    return np.asarray(window / window.max(), dtype=np.float64)


def _edges(y: NDArray, bins: Any) -> NDArray:
    if bins is None:  # unit bins [k, k + 1): the authors' int(label) on non-negative labels
        first, last = math.floor(float(y.min())), math.floor(float(y.max())) + 1
        return np.arange(first, last + 1, dtype=np.float64)
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        if bins < 1:
            raise ValueError(f"bins must be a positive integer or edges, got {bins!r}")
        lo, hi = float(y.min()), float(y.max())
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5  # as np.histogram
        return np.linspace(lo, hi, int(bins) + 1)
    edges = as_float_array("bins", bins)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) \
            or np.any(np.diff(edges) <= 0):
        raise ValueError("bins must be None, a positive integer or a strictly increasing 1-D "
                         "array of at least 2 finite edges")
    return edges


def lds_weights(
    y: ArrayLike,
    bins: int | ArrayLike | None = None,
    *,
    kernel: Kernel | None = "gaussian",
    kernel_size: int = 5,
    sigma: float = 2.0,
    reweight: Reweight = "inverse",
    clip: tuple[float, float] | None = None,
) -> NDArray[np.float64]:
    r"""Label Distribution Smoothing (LDS) weights: one per row, for ``sample_weight``.

    The training targets are counted in bins, the counts ``n_b`` (or
    ``sqrt(n_b)``) are convolved with a symmetric kernel window ``k``
    (the *effective* label density), and each row is weighted by the inverse
    of its bin's smoothed count, rescaled to mean 1:

    .. math::

        \tilde n_b = \sum_j k_j \, g(n_{b - j}), \qquad
        w_i = \frac{N}{\sum_{i'} 1 / \tilde n_{b(i')}} \cdot \frac{1}{\tilde n_{b(i)}}

    with ``g(n) = n`` (``reweight="inverse"``) or ``sqrt(n)``
    (``"sqrt_inv"``), bins beyond the ends counted as 0. This is the authors'
    ``_prepare_weights`` with ``lds=True`` (YyzHarry/imbalanced-regression,
    ``agedb-dir/datasets.py``, ``imdb-wiki-dir/datasets.py``;
    ``sts-b-dir/tasks.py`` for histogram bins) and ``get_lds_kernel_window``
    (``utils.py``, here :func:`lds_kernel_window`). Pass the result as
    ``sample_weight`` to any regression loss or booster, e.g.
    :func:`gbloss.focal_regression` (the paper's LDS + Focal-R) or the
    built-in squared error.

    Parameters
    ----------
    y : array of shape (n,)
        Training targets (finite).
    bins : None, int or array of edges
        ``None`` (default): unit-width bins ``[k, k + 1)`` for integers ``k``
        from ``floor(min y)``: the authors' binning of ages, ``int(label)``
        (identical for non-negative targets: their empty bins beyond the
        labels count 0, as the zero padding here). An int: that many
        equal-width bins over ``[min y, max y]``, as ``np.histogram``. An
        array: the bin edges; the last bin includes its right edge (as
        ``np.histogram`` and the authors' STS-B code) and targets outside the
        edges count in the first or last bin (as the authors' cap
        ``min(max_target - 1, int(label))``). The authors' settings:
        AgeDB / IMDB-WIKI ``bins=np.arange(0, 122)`` (``max_target=121``);
        STS-B ``bins=np.linspace(0, 5, bucket_num + 1)``.
    kernel : {"gaussian", "triang", "laplace"} or None
        The kernel window (:func:`lds_kernel_window`); ``None``: no smoothing
        (the authors' re-weighting without LDS).
    kernel_size : int, odd
        Bins in the window (the authors' ``lds_ks``, default 5).
    sigma : float > 0
        Width of the gaussian and laplace windows, in bins (``lds_sigma``,
        default 2).
    reweight : {"inverse", "sqrt_inv", "none"}
        Inverse of the smoothed counts, or of the smoothed square roots of the
        counts; ``"none"``: all weights 1.
    clip : (low, high), optional
        Clip the bin counts into ``[low, high]`` before smoothing (empty bins
        included). The authors' AgeDB / IMDB-WIKI code does this for
        ``reweight="inverse"`` with ``(5, 1000)``; their STS-B code does not.
        Empty bins then count as ``low``, so the bins matter beyond the
        labels: for their weights pass their bins, ``np.arange(0, 122)``.

    Returns
    -------
    ndarray of shape (n,), float64
        Positive weights with mean 1.

    Notes
    -----
    The authors compute the weights in float32 (``np.float32(1 / x)``); these
    are float64 and equal theirs to float32 rounding. One difference: with
    ``reweight="inverse"`` their counts are an integer array, which
    ``scipy.ndimage.convolve1d`` returns as integers (the smoothed counts are
    truncated); here the smoothed counts are not rounded. With
    ``"sqrt_inv"``, without smoothing, or with ``"triang"`` / integer results
    the two agree.

    References
    ----------
    Y. Yang, K. Zha, Y.-C. Chen, H. Wang, D. Katabi, "Delving into Deep
    Imbalanced Regression", ICML 2021, arXiv:2102.09554; code:
    YyzHarry/imbalanced-regression.

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.array([20.0, 21.0, 21.0, 22.0, 60.0])
    >>> w = gbloss.lds_weights(y, kernel="gaussian", kernel_size=5, sigma=2.0)
    >>> float(w.mean()), bool(w[4] > w[1])
    (1.0, True)
    """
    check_option("reweight", reweight, REWEIGHTS)
    window = None if kernel is None else lds_kernel_window(kernel, kernel_size, sigma)
    labels = as_float_array("y", y)
    if labels.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {labels.shape}")
    if labels.size and not np.all(np.isfinite(labels)):
        raise ValueError("y must be finite (it has NaN or infinite values)")
    if clip is not None:
        try:
            low, high = (float(v) for v in clip)
        except (TypeError, ValueError):
            raise ValueError(f"clip must be None or (low, high), got {clip!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
            raise ValueError(f"clip must be (low, high) with 0 <= low <= high, got {clip!r}")
    edges = None if labels.size == 0 else _edges(labels, bins)
    if labels.size == 0 or reweight == "none":
        return np.ones(labels.size)
    assert edges is not None
    idx = np.clip(np.searchsorted(edges, labels, side="right") - 1, 0, edges.size - 2)
    counts = np.bincount(idx, minlength=edges.size - 1).astype(np.float64)
    if clip is not None:
        counts = np.clip(counts, low, high)
    if reweight == "sqrt_inv":
        counts = np.sqrt(counts)
    if window is not None:
        from scipy.ndimage import convolve1d

        counts = convolve1d(counts, weights=window, mode="constant")
    per_row = counts[idx]
    if np.any(per_row <= 0):
        raise ValueError("a label's smoothed count is 0 (clip=(0, ...) with an empty bin?): "
                         "the inverse weight is undefined")
    weights = 1.0 / per_row
    return weights * (labels.size / weights.sum())
