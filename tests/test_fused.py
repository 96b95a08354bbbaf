"""The fused numba kernels (gbloss/_fused.py) against the reference array-API math.

tests/test_classification_derivatives.py puts both kernel paths in front of the
torch oracle in float64; here: float32 accuracy, every Hessian policy, the
dispatch rule, and the public API on inputs large enough to be dispatched.
"""

from __future__ import annotations

import numpy as np
import pytest

import gbloss
from gbloss.kernels import fused as _fused
from gbloss.losses.focal import sigmoid_kernel as _sigmoid_kernel
from gbloss.losses.focal import softmax_kernel as _softmax_kernel

pytestmark = pytest.mark.skipif(not _fused.HAVE_NUMBA, reason="numba is not installed")

HESSIANS = ["exact", "auto", "xgboost", "lightgbm"]


def make_data(rng, task, hard, dtype, n=3000):
    shape = (n,) if task == "binary" else (n, 3)
    z = rng.normal(size=shape) * 6
    flat = z.reshape(-1)
    flat[:8] = [1e4, -1e4, 90.0, -90.0, 88.0, -88.0, 1e-9, 0.0]  # float32 exp limits, zero
    y = (rng.random(shape) < 0.3).astype(float) if hard else rng.random(shape)
    w = rng.uniform(0.0, 3.0, n)
    if task == "binary":
        c0, c1 = 0.3, 1.7
    else:
        c0, c1 = np.array([0.5, 1.0, 2.0]), np.array([4.0, 1.0, 0.25])
    return y.astype(dtype), z.astype(dtype), w.astype(dtype), c0, c1


def both(y, w, z, **options):
    """(reference outputs, fused outputs) of one kernel call."""
    with np.errstate(all="ignore"):
        expected = _sigmoid_kernel(y, w, z, np, **options)
    return expected, _fused.sigmoid_focal(y, w, z, np, **options)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
@pytest.mark.parametrize("hard", [True, False], ids=["hard", "soft"])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.0])
def test_float64_equals_reference(rng, task, hard, gamma):
    """Every Hessian policy and the values, with and without weights, to ~1e-12."""
    y, z, w, c0, c1 = make_data(rng, task, hard, np.float64)
    for hessian in HESSIANS:
        for weights in (w, None):
            options = {"gamma": gamma, "c0": c0, "c1": c1, "hard": hard, "hessian": hessian}
            for mode in ("grad_hess", "value"):
                expected, actual = both(y, weights, z, mode=mode, **options)
                for e, a in zip(expected, actual, strict=True):
                    assert a.dtype == np.float64
                    assert a.shape == e.shape
                    # absolute slack only where the exact Hessian crosses zero
                    np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-13 * np.max(np.abs(e)))


def float32_error(x32, x64):
    """Largest error of a float32 result, relative to each value or 1e-4 of the largest."""
    x32, x64 = np.asarray(x32, np.float64), np.asarray(x64, np.float64)
    return float(np.max(np.abs(x32 - x64) / (np.abs(x64) + 1e-4 * np.max(np.abs(x64)))))


@pytest.mark.parametrize("task", ["binary", "multilabel"])
@pytest.mark.parametrize("hard", [True, False], ids=["hard", "soft"])
@pytest.mark.parametrize("gamma", [0.0, 2.0, 0.5])
def test_float32_as_accurate_as_reference(rng, task, hard, gamma):
    """The float32 polynomials (exp, log1p) keep float32 accuracy.

    Both float32 kernels are compared with the float64 reference; the fused
    one may not be more than twice as far off as the reference's own float32
    evaluation (and is within 1e-5 in any case: 170 float32 ulp).
    """
    y, z, w, c0, c1 = make_data(rng, task, hard, np.float64)
    options = {"gamma": gamma, "c0": c0, "c1": c1, "hard": hard, "hessian": "exact"}
    for mode in ("grad_hess", "value"):
        with np.errstate(all="ignore"):
            exact = _sigmoid_kernel(y, w, z, np, mode=mode, **options)
        y32, z32, w32 = y.astype(np.float32), z.astype(np.float32), w.astype(np.float32)
        reference, fused = both(y32, w32, z32, mode=mode, **options)
        for e, r, f in zip(exact, reference, fused, strict=True):
            assert f.dtype == np.float32
            assert np.all(np.isfinite(f))
            assert float32_error(f, e) <= max(2 * float32_error(r, e), 1e-5)


def test_float32_tails_keep_relative_accuracy():
    """Gradients of confident correct rows are relatively accurate, down to 1e-33.

    There ``f' = q^2 (2 p log p - q) = -3 q^3`` to first order: a ``log1p``
    that lost its small-argument accuracy would give ``-q^3``.
    """
    z = np.array([5.0, 15.0, 25.0], dtype=np.float32)
    y = np.ones_like(z)
    _, (grad, _) = both(y, None, z, gamma=2.0, c0=1.0, c1=1.0, hard=True, hessian="exact",
                        mode="grad_hess")
    zz = z.astype(np.float64)
    q = np.exp(-zz) / (1 + np.exp(-zz))
    p = 1 / (1 + np.exp(-zz))
    expected = q**2 * (p * 2 * -np.log1p(np.exp(-zz)) - q)  # f'(z) = q^g (g p log p - q)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def multiclass_data(rng, dtype, n=3000, k=5):
    z = rng.normal(size=(n, k)) * 8
    z[:3] = [[1e4, 0, 0, 0, 0], [-1e4, 0, 3.0, 0, 90.0], [0.0, 0, 0, 0, 0]]  # extremes, ties
    t = rng.integers(0, k, n).astype(np.int32)
    t[:3] = [0, 4, 2]
    return t, z.astype(dtype), rng.uniform(0.0, 3.0, n).astype(dtype), rng.uniform(0.5, 2.0, k)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.0])
def test_softmax_float64_equals_reference(rng, gamma):
    """Multiclass: every Hessian policy (with its booster scale) and the values, to ~1e-10."""
    t, z, w, factors = multiclass_data(rng, np.float64)
    k = z.shape[1]
    for hessian in HESSIANS:
        scale = {"xgboost": 2.0, "lightgbm": k / (k - 1)}.get(hessian, 1.0)
        for weights, f in ((w, factors), (None, None)):
            for mode in ("grad_hess", "value"):
                options = {"gamma": gamma, "factors": f, "mode": mode, "hessian": hessian,
                           "scale": scale}
                with np.errstate(all="ignore"):
                    expected = _softmax_kernel(t, weights, z, np, **options)
                actual = _fused.softmax_focal(t, weights, z, np, **options)
                for e, a in zip(expected, actual, strict=True):
                    assert a.dtype == np.float64
                    assert a.shape == e.shape
                    np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-13 * np.max(np.abs(e)))


@pytest.mark.parametrize("gamma", [0.0, 2.0, 0.5])
def test_softmax_float32_as_accurate_as_reference(rng, gamma):
    t, z, w, factors = multiclass_data(rng, np.float64)
    options = {"gamma": gamma, "factors": factors, "hessian": "exact", "scale": 1.0}
    for mode in ("grad_hess", "value"):
        with np.errstate(all="ignore"):
            exact = _softmax_kernel(t, w, z, np, mode=mode, **options)
            reference = _softmax_kernel(t, w.astype(np.float32), z.astype(np.float32), np,
                                        mode=mode, **options)
        fused = _fused.softmax_focal(t, w.astype(np.float32), z.astype(np.float32), np,
                                     mode=mode, **options)
        for e, r, f in zip(exact, reference, fused, strict=True):
            assert f.dtype == np.float32
            assert np.all(np.isfinite(f))
            assert float32_error(f, e) <= max(2 * float32_error(r, e), 1e-5)


@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_public_api_dispatches_large_numpy_inputs(rng, task, monkeypatch):
    """Large float inputs take the fused kernel, small ones, float16 and multiclass do not."""
    calls = []
    real = _fused.sigmoid_focal

    def spy(*args, **kwargs):
        calls.append(kwargs["mode"])
        return real(*args, **kwargs)

    spy.splits_rows = True
    monkeypatch.setattr(_fused, "sigmoid_focal", spy)
    n = _fused.MIN_ELEMENTS if task == "binary" else -(-_fused.MIN_ELEMENTS // 3)
    y, z, w, *_ = make_data(rng, task, True, np.float32, n=n)
    # (exact Hessian: "auto" switches to its surrogate at a threshold, where float32
    # rounding may fall either side; the float64 test compares every policy)
    loss = gbloss.focal(gamma=2.0, alpha=0.25, hessian="exact")
    grad, hess = loss.gradient_hessian(y, z, w)
    value = loss.loss(y, z, w)
    assert calls
    assert set(calls) == {"grad_hess", "value"}

    calls.clear()
    monkeypatch.setenv("GBLOSS_DISABLE_NUMBA", "1")
    grad_ref, hess_ref = loss.gradient_hessian(y, z, w)
    assert calls == []
    assert value == pytest.approx(loss.loss(y, z, w), rel=1e-6)
    assert float32_error(grad, grad_ref) < 1e-5
    # the exact Hessian crosses zero (near z = -2.8): absolute slack there
    np.testing.assert_allclose(hess, hess_ref, rtol=1e-5, atol=1e-6 * np.max(np.abs(hess_ref)))
    monkeypatch.delenv("GBLOSS_DISABLE_NUMBA")

    loss.gradient_hessian(y[:100], z[:100], w[:100])
    t = rng.integers(0, 4, size=_fused.MIN_ELEMENTS)
    gbloss.focal().gradient_hessian(t, rng.normal(size=(t.size, 4)))
    assert calls == []


def test_threads_give_identical_results(rng):
    """Blocks from 1 or 2 threads: the same numbers, bit for bit."""
    y, z, w, *_ = make_data(rng, "binary", True, np.float32, n=3 * _fused.MIN_ELEMENTS + 5)
    loss = gbloss.focal(gamma=2.0)
    one = loss.gradient_hessian(y, z, w, n_threads=1)
    two = loss.gradient_hessian(y, z, w, n_threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_multiclass_dispatch_and_threads(rng, monkeypatch):
    """Large multiclass input takes the fused softmax kernel; 1 or 2 threads: same bits."""
    calls = []
    real = _fused.softmax_focal

    def spy(*args, **kwargs):
        calls.append(kwargs["mode"])
        return real(*args, **kwargs)

    spy.splits_rows = True  # one call per gradient_hessian, like the real kernel
    monkeypatch.setattr(_fused, "softmax_focal", spy)
    t, z, w, _ = multiclass_data(rng, np.float32, n=_fused.MIN_ELEMENTS // 5 + 1000)
    loss = gbloss.focal(gamma=2.0, alpha=[0.5, 1.0, 2.0, 1.5, 0.25])  # fixed class factors
    one = loss.gradient_hessian(t, z, w, n_threads=1)
    two = loss.gradient_hessian(t, z, w, n_threads=2)
    assert calls == ["grad_hess", "grad_hess"]
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    small = loss.gradient_hessian(t[:50], z[:50], w[:50])
    assert len(calls) == 2  # small inputs stay on the reference path
    np.testing.assert_allclose(small[0], one[0][:50], rtol=1e-5, atol=1e-7)
