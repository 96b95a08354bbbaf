"""Fused CPU kernels: the focal family (focal loss, cross-entropy) in one compiled pass.

Why a second evaluation of the same math
----------------------------------------
The reference math (:func:`gbloss.losses.focal.focal_branch` and
:func:`gbloss.losses.focal.softmax_focal`, run by
:func:`gbloss._core.executor.run_blocked`) is a chain of about 35 numpy passes per
element. For the objective XGBoost calls on every round that cost 2-4x the
built-in objective. Here the same formulas are evaluated element by element
(sigmoid tasks) or row by row (softmax) in one numba loop that LLVM
vectorises (AVX2 on x86-64): per element one ``exp``, one ``log1p`` and about
30 flops in registers, with no temporaries.

Scheme: :class:`gbloss.FocalLoss` (and so :class:`gbloss.CrossEntropyLoss`)
dispatches to :func:`sigmoid_focal` (binary, multi-label) and
:func:`softmax_focal` (multiclass) for numpy float32 and float64 inputs of at
least :data:`MIN_ELEMENTS` elements when numba is installed, and to the
reference otherwise (cupy, torch on GPU, array-api-strict, small inputs,
``GBLOSS_DISABLE_NUMBA=1``); :mod:`gbloss.torch` does the same for large CPU
tensors. Both paths face the torch autograd oracle
(``tests/test_classification_derivatives.py``, ``tests/test_torch.py``), and
``tests/test_fused.py`` compares them for every option: hard and soft labels,
alpha and class factors, weights, gamma regimes, every Hessian policy,
extreme margins, float32 accuracy, thread counts (bit-identical results).

Transcendentals: float64 uses libm (``math.exp``, ``math.log``,
``math.log1p``). In float32, libm calls would stop LLVM vectorising the loop,
so ``exp`` is the Cephes single-precision polynomial (S. L. Moshier, Cephes
Math Library, ``expf.c``; 2 ulp here, flushing results below the smallest
normal float32 to zero), ``log1p`` on [0, 1] the ``2 atanh(e / (2 + e))``
series (3 ulp), and ``log`` that series on the mantissa plus the exponent.

The loops are compiled with fast-math flags, re-association included (without
it LLVM does not vectorise them). The formulas are therefore written so that
no result depends on the order of rounding: no ``(1 + e) - 1 - e`` corrections,
and the ``exp`` argument reduction uses explicit fused multiply-adds.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._core.executor import run_row_ranges
from .._core.versions import satisfied

__all__ = ["HAVE_NUMBA", "MIN_ELEMENTS", "enabled", "sigmoid_focal", "softmax_focal"]

#: numba is a dependency, but gbloss stays importable (and correct) without it, or with
#: a numba older than its floor (which may not support the installed numpy).
HAVE_NUMBA = satisfied("numba")

_HESSIAN_CODES = {"exact": 0, "auto": 1, "xgboost": 2, "lightgbm": 3}
_MODES = ("value", "grad_hess", "value_grad")  # the codes of gbloss.kernels._numba

#: Smallest input (elements) that the fused kernels serve. Below it, the
#: reference path's few milliseconds cost less than numba's compilation of a
#: new kernel variant (about a second, once per machine: numba caches it on disk).
MIN_ELEMENTS = 1 << 16


def enabled(xp: Any, dtype: Any, size: int, *, min_elements: int = MIN_ELEMENTS) -> bool:
    """Whether the fused kernels serve this input: numpy float32 or float64 with at
    least ``min_elements`` elements (:data:`MIN_ELEMENTS`; 0 where a booster calls
    the loss very often on small blocks), numba installed and not disabled."""
    return (
        HAVE_NUMBA
        and xp is np
        and size >= min_elements
        and np.dtype(dtype) in (np.float32, np.float64)
        and os.environ.get("GBLOSS_DISABLE_NUMBA", "0").lower() in ("", "0", "false", "no")
    )


def _integer_gamma(gamma: float) -> int:
    """gamma 0 to 4 as an int (``q^gamma`` by products, compiled in), else -1 (``exp``)."""
    return int(gamma) if gamma == int(gamma) and gamma <= 4 else -1


def sigmoid_focal(
    y: Any, w: Any, z: Any, xp: Any, *, gamma: float, c0: Any, c1: Any, hard: bool,
    mode: str, hessian: str, n_threads: int = 1,
) -> tuple[Any, ...]:
    """Fused evaluation of :func:`gbloss.losses.focal._sigmoid_kernel` (same arguments).

    ``z`` and ``y``: (n,) binary or (n, k) multi-label; ``w``: (n,) or None;
    ``c0``, ``c1``: the negative and positive class factors, scalars or (k,).
    Returns ``(value,)`` of shape (n,) for ``mode="value"``, ``(grad, hess)``
    shaped like ``z`` for ``mode="grad_hess"``, and the unweighted
    ``(value, grad)`` of each element for ``mode="value_grad"``. The rows are
    split into ``n_threads`` contiguous ranges written in place (see
    :func:`gbloss._core.executor.run_row_ranges`).
    """
    dtype = z.dtype
    k = 1 if z.ndim == 1 else z.shape[1]
    c0, c1 = (np.broadcast_to(np.asarray(c, dtype=dtype), (k,)) for c in (c0, c1))
    y = np.asarray(y, dtype=dtype)
    gamma = float(gamma)
    int_gamma = _integer_gamma(gamma)
    from ._numba import VALUE, kernel  # numba is imported on first use

    code = _MODES.index(mode)
    if code == VALUE:
        out1 = out2 = np.empty((z.shape[0], 1)[:z.ndim], dtype=dtype)
    else:
        out1, out2 = np.empty_like(z), np.empty_like(z)
    compiled = kernel(z.ndim == 2, bool(hard), code, int_gamma)
    no_weights = np.empty(0, dtype=dtype)
    hessian_code = _HESSIAN_CODES[hessian]

    def run(rows: slice) -> None:
        compiled(y[rows], no_weights if w is None else w[rows], z[rows], c0, c1,
                 dtype.type(gamma), hessian_code, out1[rows], out2[rows])

    run_row_ranges(run, z.shape[0], n_threads, row_elements=k)
    return (out1.reshape(-1),) if code == VALUE else (out1, out2)


def softmax_focal(
    t: Any, w: Any, z: Any, xp: Any, *, gamma: float, factors: Any, mode: str, hessian: str,
    scale: float, n_threads: int = 1,
) -> tuple[Any, ...]:
    """Fused evaluation of :func:`gbloss.losses.focal._softmax_kernel` (same arguments).

    ``t``: (n,) class indices; ``z``: (n, k) margins; ``w``: (n,) or None;
    ``factors``: (k,) per-class factors or None. Returns ``(value,)`` of shape
    (n,) for ``mode="value"``, ``(grad, hess)`` of shape (n, k) for
    ``mode="grad_hess"``, and ``(value, grad)`` for ``mode="value_grad"``, where
    the sample weights ``w`` also scale the value.
    """
    from ._numba import VALUE, VALUE_GRAD, softmax_kernel  # numba: on first use

    dtype = z.dtype
    n, k = z.shape
    factors = np.ones(k, dtype=dtype) if factors is None else np.asarray(factors, dtype=dtype)
    t = np.asarray(t).astype(np.intp, copy=False)
    gamma = float(gamma)
    int_gamma = _integer_gamma(gamma)
    code = _MODES.index(mode)
    if code == VALUE:
        out1 = out2 = np.empty((n, 1), dtype=dtype)
    elif code == VALUE_GRAD:  # out1: the gradient, out2: the row losses
        out1, out2 = np.empty_like(z), np.empty((n, 1), dtype=dtype)
    else:
        out1, out2 = np.empty_like(z), np.empty_like(z)
    compiled = softmax_kernel(code, int_gamma)
    no_weights = np.empty(0, dtype=dtype)
    hessian_code = _HESSIAN_CODES[hessian]

    def run(rows: slice) -> None:
        compiled(t[rows], no_weights if w is None else w[rows], z[rows], factors,
                 dtype.type(gamma), hessian_code, dtype.type(scale), out1[rows], out2[rows])

    run_row_ranges(run, n, n_threads, row_elements=k)
    if code == VALUE_GRAD:
        return out2.reshape(-1), out1
    return (out1.reshape(-1),) if code == VALUE else (out1, out2)


#: Marks the kernels that split their rows over threads themselves (see gbloss._core.executor.run_blocked).
sigmoid_focal.splits_rows = True  # type: ignore[attr-defined]
softmax_focal.splits_rows = True  # type: ignore[attr-defined]
