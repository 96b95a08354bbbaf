"""Property-based sweep (hypothesis) over every objective gbloss has.

The losses are discovered at test time (tests/_losses.py), so losses added
later are covered without editing this file. For every loss, each task it
supports and float32 / float64:

* grad and hess are finite, shaped and typed like the margins, for margins in
  [-1e4, 1e4] and any non-negative weights;
* the "auto" Hessian (or the only Hessian of a loss without the option) is
  positive on every row with positive weight;
* row-separable losses: weights scale grad and hess exactly (statistics held
  fixed; powers of two, so the scaling itself rounds nothing);
* init_score minimises the loss over constant margins (checked numerically
  against perturbed constants), where a finite minimiser exists.
"""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest
from _losses import loss_classes, variants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gbloss._core.labels import BINARY, MULTICLASS, MULTILABEL, REGRESSION

LOSSES = [(name, loss) for cls in loss_classes() for name, loss in variants(cls)]
CASES = [(name, loss, task) for name, loss in LOSSES for task in loss._tasks
         if task in (BINARY, MULTICLASS, MULTILABEL, REGRESSION)]
IDS = [f"{name}-{task}" for name, _, task in CASES]
#: Examples per case; GBLOSS_SWEEP_EXAMPLES=200 runs a deeper sweep (the default keeps CI fast).
EXAMPLES = int(os.environ.get("GBLOSS_SWEEP_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

MARGIN = st.one_of(
    st.floats(-1e4, 1e4, width=32),
    st.sampled_from([-1e4, 1e4, -88.0, 88.0, -30.0, 30.0, 0.0, -1e-7]),
)
WEIGHT = st.one_of(st.just(0.0), st.floats(1e-6, 1e6))


def test_the_sweep_found_the_losses():
    names = {cls.__name__ for cls in loss_classes()}
    assert {"CrossEntropyLoss", "FocalLoss"} <= names


def _hessian_is_auto(loss) -> bool:
    params = inspect.signature(type(loss).__init__).parameters
    return "hessian" not in params or loss.params["hessian"] == "auto"


@st.composite
def problems(draw, task: str, *, weights: st.SearchStrategy | None = WEIGHT,
             all_classes: bool = False):
    """``(y, raw, w, k)`` for ``task``; ``all_classes`` puts every class (with weight) first."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    k = draw(st.integers(3, 5)) if task == MULTICLASS else (
        draw(st.integers(2, 4)) if task == MULTILABEL else 1)
    lead = (2 if task in (BINARY, MULTILABEL) else k) if all_classes else 0
    if task == REGRESSION:
        lead = 2  # labels that vary (a default Balanced MSE sigma scales with their spread)
    n = draw(st.integers(max(lead, 1), max(lead, 1) + 20))
    shape = (n, k) if task in (MULTICLASS, MULTILABEL) else (n,)
    raw = draw(arrays(np.float64, shape, elements=MARGIN)).astype(dtype)
    if task == BINARY:
        y = draw(arrays(np.int8, n, elements=st.integers(0, 1))).astype(np.float64)
        y[:lead] = [0, 1][:lead]
    elif task == MULTICLASS:
        y = draw(arrays(np.int8, n, elements=st.integers(0, k - 1))).astype(np.float64)
        y[:lead] = np.arange(lead)
    elif task == MULTILABEL:
        y = draw(arrays(np.int8, (n, k), elements=st.integers(0, 1))).astype(np.float64)
        if lead:
            y[0], y[1] = 0, 1
    else:
        y = draw(arrays(np.float64, n, elements=st.floats(-100, 100, width=32)))
        y[1] = y[0] + draw(st.sampled_from([1e-3, 1.0, 50.0]))
    w = None
    if weights is not None and draw(st.booleans()):
        w = draw(arrays(np.float64, n, elements=weights))
        if lead:
            w[:lead] = np.maximum(w[:lead], 1e-3)  # present classes / varying labels weigh
    return y, raw, w, k


def _fit(loss, y, w, task, k):
    return loss.fit(y, w, n_classes=k if task == MULTICLASS else None)


@pytest.mark.parametrize(("name", "loss", "task"), CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_grad_hess_finite_and_auto_positive(name, loss, task, data):
    y, raw, w, _k = data.draw(problems(task))
    grad, hess = loss.gradient_hessian(y, raw, w)
    assert grad.shape == raw.shape
    assert hess.shape == raw.shape
    assert grad.dtype == raw.dtype
    assert hess.dtype == raw.dtype
    assert np.all(np.isfinite(grad)), f"{name}: non-finite gradient"
    assert np.all(np.isfinite(hess)), f"{name}: non-finite Hessian"
    if _hessian_is_auto(loss):
        rows = np.ones(raw.shape[0], bool) if w is None else w > 0
        h = hess.reshape(raw.shape[0], -1)[rows]
        assert np.all(h > 0), f"{name}: 'auto' Hessian not positive: {h.min()}"
    if w is not None:
        zero = w == 0
        if loss.row_separable and np.any(zero):
            assert np.all(grad.reshape(raw.shape[0], -1)[zero] == 0)


@pytest.mark.parametrize(("name", "loss", "task"),
                         [c for c in CASES if c[1].row_separable],
                         ids=[i for i, c in zip(IDS, CASES, strict=False) if c[1].row_separable])
@SETTINGS
@given(data=st.data())
def test_weights_scale_grad_and_hess(name, loss, task, data):
    powers = st.one_of(st.just(0.0), st.integers(-8, 8).map(lambda e: 2.0 ** e))
    y, raw, w, k = data.draw(problems(task, weights=None))
    w = data.draw(arrays(np.float64, raw.shape[0], elements=powers))
    fitted = _fit(loss, y, None, task, k)  # the same statistics for both calls
    g1, h1 = fitted.gradient_hessian(y, raw)
    gw, hw = fitted.gradient_hessian(y, raw, w)
    ww = w.reshape(-1, *([1] * (raw.ndim - 1))).astype(raw.dtype)
    tiny = np.finfo(raw.dtype).tiny * 2**9  # products that fall into the subnormals
    np.testing.assert_allclose(gw, g1 * ww, rtol=1e-6 if raw.dtype == np.float32 else 1e-12,
                               atol=tiny, err_msg=f"{name}: weighted gradient")
    np.testing.assert_allclose(hw, h1 * ww, rtol=1e-6 if raw.dtype == np.float32 else 1e-12,
                               atol=tiny, err_msg=f"{name}: weighted Hessian")


def _constant(init, n, task):
    init = np.asarray(init, dtype=np.float64)
    return np.full(n, float(init)) if init.ndim == 0 else np.tile(init, (n, 1))


@pytest.mark.parametrize(("name", "loss", "task"), CASES, ids=IDS)
@settings(max_examples=max(1, EXAMPLES // 2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_init_score_minimises_the_loss(name, loss, task, data):
    # every class present with positive weight; along each coordinate the loss is
    # scanned over +-60 around the init score: where its smallest value is at the
    # ends of the scan (to rounding) the minimiser is at infinity (e.g. Dice and
    # PEL decrease towards an all-positive prediction) and that direction is skipped
    y, _, w, k = data.draw(problems(task, all_classes=True))
    fitted = _fit(loss, y, w, task, k)
    init = np.asarray(fitted.init_score(y, w, n_classes=k if task == MULTICLASS else None),
                      dtype=np.float64)
    assert np.all(np.isfinite(init)), f"{name}: init score {init}"
    n = y.shape[0]
    base = fitted.loss(y, _constant(init, n, task), w)
    assert np.isfinite(base)
    scale = 1.0 if task != REGRESSION else max(1.0, float(np.std(y)))
    tol = 1e-9 * abs(base) + 1e-12
    steps = np.concatenate([np.linspace(-60, 60, 25), [-1e-2, -1e-3, 1e-3, 1e-2]]) * scale
    for j in range(init.size):
        values = []
        for step in steps:
            moved = init.copy().reshape(-1)
            moved[j] += step
            values.append(fitted.loss(y, _constant(moved.reshape(init.shape), n, task), w))
        values = np.asarray(values)
        if min(values[0], values[24]) <= values.min() + tol:
            continue  # no finite minimiser along this coordinate
        worst = int(np.argmin(values))
        assert values[worst] >= base - tol, (
            f"{name}: loss at the init score {init} is {base!r}; moving coordinate {j} by "
            f"{steps[worst]:g} gives {values[worst]!r}"
        )


def _extreme_problem(task: str, dtype: type, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels of every class and margins of both signs at ``scale`` (and moderate ones)."""
    signs = np.array([1.0, -1.0, 0.5, -0.5, 1.0, -1.0])
    if task == BINARY:
        return np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0]), (signs * scale).astype(dtype)
    if task == MULTICLASS:
        raw = np.stack([signs, -signs, signs[::-1]], axis=1) * scale
        return np.array([0.0, 1.0, 2.0, 0.0, 1.0, 2.0]), raw.astype(dtype)
    if task == MULTILABEL:
        raw = np.stack([signs, -signs], axis=1) * scale
        return np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1, 0], [0, 1]]), \
            raw.astype(dtype)
    return np.array([0.0, 1.0, 0.0, 2.0, 3.0, 0.5]), (signs * scale).astype(dtype)


@pytest.mark.parametrize(("name", "loss", "task"), CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_margins_up_to_the_float_maximum_give_finite_derivatives(name, loss, task, dtype, path,
                                                                 kernel_path):
    """Margins far beyond 1e4, up to the largest float: finite gradients and Hessians, a
    positive "auto" Hessian, and a loss value that is finite or +inf (never NaN), on both
    CPU kernels of the focal family."""
    top = float(np.finfo(dtype).max)
    for scale in (1e5, 1e10, 1e30, top / 2, top):
        y, raw = _extreme_problem(task, dtype, scale)
        fitted = loss.fit(y[:4] if task == REGRESSION else y)  # statistics of modest labels
        grad, hess = fitted.gradient_hessian(y, raw)
        assert np.all(np.isfinite(grad)), f"{name} at {scale:g}"
        assert np.all(np.isfinite(hess)), f"{name} at {scale:g}"
        if _hessian_is_auto(loss):
            assert np.all(hess > 0), f"{name} at {scale:g}: 'auto' Hessian not positive"
        value = fitted.loss(y, raw)
        assert not np.isnan(value), f"{name} at {scale:g}: loss {value}"
        assert value > -np.inf, f"{name} at {scale:g}: loss {value}"
