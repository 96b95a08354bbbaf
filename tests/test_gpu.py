"""cupy arrays and XGBoost ``device="cuda"`` (skipped without cupy and a CUDA device).

* Every loss's public path on cupy arrays returns cupy arrays on the input's
  device, equal to the numpy results (CUDA's math library is within a few ulp
  of numpy's: float64 to 1e-10, float32 to 1e-5 relative to the output's scale).
* The XGBoost objective with ``device="cuda"`` returns cupy gradients, reads a
  DMatrix's labels once, and trains the model that the host objective trains
  on the same GPU booster.
"""

from __future__ import annotations

import numpy as np
import pytest

cupy = pytest.importorskip("cupy")
xgb = pytest.importorskip("xgboost")


def _n_devices() -> int:
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # noqa: BLE001 - no driver, no device: any CUDA runtime error
        return 0


pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(_n_devices() == 0, reason="needs a CUDA device")]

from test_array_api import CASES, IDS, K, N, data

import gbloss
import gbloss.xgboost


def tolerances(dtype):
    return (1e-10, 1e-10) if dtype == np.float64 else (1e-5, 1e-5)


def assert_close(gpu, host, dtype):
    assert isinstance(gpu, cupy.ndarray), type(gpu)
    assert gpu.device.id == cupy.cuda.Device().id
    assert gpu.dtype == host.dtype == np.dtype(dtype)
    assert gpu.shape == host.shape
    rtol, scale_tol = tolerances(dtype)
    scale = float(np.max(np.abs(host))) if host.size else 0.0
    np.testing.assert_allclose(cupy.asnumpy(gpu), host, rtol=rtol, atol=scale_tol * scale)


@pytest.mark.parametrize(("name", "loss", "task", "dtype"), CASES, ids=IDS)
def test_cupy_equals_numpy(name, loss, task, dtype):
    y, raw, w = data(task, dtype)
    g, h = loss.gradient_hessian(y, raw, w)
    gc, hc = loss.gradient_hessian(cupy.asarray(y), cupy.asarray(raw), cupy.asarray(w))
    assert_close(gc, g, dtype)
    assert_close(hc, h, dtype)
    value = loss.loss(cupy.asarray(y), cupy.asarray(raw), cupy.asarray(w))
    np.testing.assert_allclose(value, loss.loss(y, raw, w), rtol=tolerances(dtype)[0] * 10)
    init = loss.init_score(y, w, n_classes=K if task == "multiclass" else None)
    init_c = loss.init_score(cupy.asarray(y), cupy.asarray(w),
                             n_classes=K if task == "multiclass" else None)
    if isinstance(init, float):
        np.testing.assert_allclose(init_c, init, rtol=1e-10, atol=1e-10)
    else:
        assert_close(init_c, np.asarray(init), np.float64)
    multilabel = task == "multilabel"
    assert_close(loss.transform(cupy.asarray(raw), multilabel=multilabel),
                 loss.transform(raw, multilabel=multilabel), dtype)


GPU_LOSSES = [
    ("focal-binary", lambda: gbloss.focal(class_weight="balanced"), "binary"),
    ("focal-multiclass", lambda: gbloss.focal(), "multiclass"),
    ("ldam-drw", lambda: gbloss.ldam(drw_start_round=2), "multiclass"),
    ("lmf", lambda: gbloss.lmf(), "multiclass"),
    ("balanced_mse", lambda: gbloss.balanced_mse(), "regression"),
    ("dice", lambda: gbloss.dice(), "binary"),
]


def _dmatrix(task, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 8, (n, 5)).astype(np.float32)
    if task == "binary":
        y = (X[:, 0] + rng.normal(size=n) > 5).astype(np.float32)
    elif task == "multiclass":
        y = np.clip((X[:, 0] + X[:, 1] + rng.normal(size=n)) // 5, 0, K - 1).astype(np.float32)
    else:
        y = np.exp(0.3 * X[:, 0] + 0.5 * rng.normal(size=n)).astype(np.float32)
    w = rng.uniform(0.5, 2.0, n).astype(np.float32)
    return xgb.DMatrix(cupy.asarray(X), cupy.asarray(y), weight=cupy.asarray(w)), X


@pytest.mark.parametrize(("name", "make_loss", "task"), GPU_LOSSES, ids=[c[0] for c in GPU_LOSSES])
def test_xgboost_cuda_objective(monkeypatch, name, make_loss, task):
    import gbloss._base as base

    loss = make_loss()
    d, _ = _dmatrix(task)
    params = {"device": "cuda", "max_depth": 3, "min_child_weight": 0.0}
    if task == "multiclass":
        params["num_class"] = K
    reads = []
    real = base._xgboost_labels
    monkeypatch.setattr(base, "_xgboost_labels", lambda *a: reads.append(1) or real(*a))
    outputs = []
    obj = gbloss.xgboost.objective(loss, params)
    real_call = type(obj).__call__

    def spy(self, *args, **kwargs):
        out = real_call(self, *args, **kwargs)
        outputs.append(out)
        return out

    monkeypatch.setattr(type(obj), "__call__", spy)
    gpu = gbloss.xgboost.train(params, d, loss, 5)
    assert outputs
    assert all(isinstance(g, cupy.ndarray) for g, _ in outputs)
    assert all(isinstance(h, cupy.ndarray) for _, h in outputs)
    assert len(reads) == 1  # labels and weights went to the device once
    monkeypatch.setattr(type(obj), "__call__", real_call)
    # the same GPU booster with the host objective (numpy gradients)
    full = gbloss.xgboost.booster_params(params, loss, d.get_label(), d.get_weight())
    host = xgb.train(full, d, 5, obj=loss, custom_metric=loss.metric)
    np.testing.assert_allclose(gpu.predict(d, output_margin=True),
                               host.predict(d, output_margin=True), rtol=1e-4, atol=1e-4)


def test_cupy_margins_without_device_param():
    """Margins that arrive as cupy (a future XGBoost) take the device path by themselves."""
    loss = gbloss.focal()
    d, _ = _dmatrix("binary")
    raw = np.linspace(-3, 3, d.num_row()).astype(np.float32)
    g, h = loss(cupy.asarray(raw), d)
    assert isinstance(g, cupy.ndarray)
    g0, h0 = loss(raw, d)
    assert_close(g, g0, np.float32)
    assert_close(h, h0, np.float32)


def test_lightgbm_gets_host_float32():
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N * 10, 3))
    y = (X[:, 0] > 0).astype(float)
    obj = gbloss.xgboost.objective(gbloss.focal(), {"device": "cuda"})  # a loss told the GPU
    grads = []

    def fobj(preds, train_set):
        g, h = obj(preds, train_set)
        grads.append(g)
        return g, h

    lgb.train({"objective": fobj, "verbose": -1}, lgb.Dataset(X, y), 2)
    assert grads
    assert all(isinstance(g, np.ndarray) for g in grads)
    assert all(g.dtype == np.float32 for g in grads)
