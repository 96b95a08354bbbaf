"""Every loss's public path on a strict array-API namespace, and the blocked numpy fast path.

* ``gradient_hessian``, ``loss``, ``init_score`` and ``transform`` of every loss
  (found from ``gbloss.__all__``) and every task it supports run on
  array-api-strict arrays placed on its second device (``device1``, which
  numpy cannot read: any host conversion or constant created on the default
  device fails, as it would for cupy or CUDA torch), with boolean indexing and
  data-dependent shapes switched off. The results are arrays of that namespace
  on that device and equal the numpy results.
* The numpy fast path (``run_blocked``: the same function on row blocks from a
  thread pool) equals one call on the whole arrays.
* The XGBoost device objective (what runs with ``device="cuda"``), driven on
  the CPU with array-api-strict's second device standing in for the GPU: same
  gradients as the host objective, labels read once per DMatrix, kernel
  constants built once; and a full ``xgb.train`` through that path gives the
  host model.
"""

from __future__ import annotations

import numpy as np
import pytest

xs = pytest.importorskip("array_api_strict")
xgb = pytest.importorskip("xgboost")

from _losses import loss_classes, make, variants

import gbloss
import gbloss._core.executor as garray
import gbloss.xgboost
from gbloss._core.namespace import to_numpy

DEV = xs.Device("device1")
K = 3
N = 60


@pytest.fixture
def strict():
    """array-api-strict without boolean indexing or data-dependent shapes."""
    xs.set_array_api_strict_flags(boolean_indexing=False, data_dependent_shapes=False)
    yield xs
    xs.reset_array_api_strict_flags()


def on_device(a):
    return None if a is None else xs.asarray(a, device=DEV)


# ------------------------------------------------------------------------ cases
EXTRA = {  # configurations beyond each class's default / exact / balanced variants
    "FocalLoss": [{"alpha": 0.25, "gamma": 0.5, "hessian": "xgboost"},
                  {"class_weight": "effective", "hessian": "lightgbm"}],
    "CrossEntropyLoss": [{"class_weight": "effective", "hessian": "xgboost"}],
    "LDAMLoss": [{"max_margin": 1.0, "scale": 2.0, "class_weight": "effective"}],
    "LMFLoss": [{"class_weight": "effective", "gamma": 1.5, "hessian": "lightgbm"}],
    "BalancedMSELoss": [{"prior": "bni"}, {"prior": "gai", "n_components": 3},
                        {"method": "exact"}, {"method": "fast"}, {"sigma": 0.5}],
    "ACBMSELoss": [{"zero_weight": 2.0, "nonzero_weight": 0.5},
                   {"classes": [0.5, 2.0], "class_weight": [1.0, 2.0, 3.0]}],
    "DiceLoss": [{"smooth": 0.0}],
    "PELoss": [{"alpha": 5.0, "power": 2.0}],
    "TverskyLoss": [{"gamma": 0.75, "smooth": 0.0}],
    "CostSensitiveLoss": [{"cost_matrix": [[0.0, 1.0, 3.0], [4.0, 0.0, 1.0], [12.0, 2.0, 0.0]]},
                          {"cost_matrix": [[1.0, 2.0], [9.0, 0.5]], "hessian": "exact"}],
}


def all_losses():
    out = []
    for cls in loss_classes():
        out += variants(cls)
        for params in EXTRA.get(cls.__name__, []):
            out.append((f"{cls.__name__}({params})", make(cls, **params)))
    return out


LOSSES = all_losses()


def test_every_loss_is_covered():
    names = {type(loss).__name__ for _, loss in LOSSES}
    assert names == {cls.__name__ for cls in loss_classes()}
    assert len(names) >= 8


def tasks_of(loss):
    tasks = []
    for task in loss._tasks:  # (a cost-sensitive loss's tasks follow its cost matrix)
        if task == "regression":
            tasks.append("regression")
            if not (getattr(loss, "prior", None) == "bni" or getattr(loss, "method", None) == "fast"):
                tasks.append("regression2d")
        else:
            tasks.append(task)
    return tasks


def data(task, dtype, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.2, 2.0, N)
    if task == "binary":
        y = (rng.uniform(size=N) < 0.3).astype(float)
        raw = rng.normal(scale=3, size=N)
    elif task == "multiclass":
        y = rng.choice(K, size=N, p=[0.6, 0.3, 0.1]).astype(float)
        raw = rng.normal(scale=3, size=(N, K))
    elif task == "multilabel":
        y = (rng.uniform(size=(N, K)) < [0.5, 0.2, 0.1]).astype(float)
        raw = rng.normal(scale=3, size=(N, K))
    elif task == "regression":
        y = rng.lognormal(size=N) * (rng.uniform(size=N) < 0.7)
        raw = y + rng.normal(size=N)
    else:  # regression2d
        y = rng.lognormal(size=(N, 2))
        raw = y + rng.normal(size=(N, 2))
    raw[:3] = np.array([1e4, -1e4, 0.0]).reshape((3,) + (1,) * (raw.ndim - 1))  # extremes
    return y.astype(dtype), raw.astype(dtype), w.astype(dtype)


CASES = [(name, loss, task, dtype) for name, loss in LOSSES for task in tasks_of(loss)
         for dtype in (np.float64, np.float32)]
IDS = [f"{name}-{task}-{np.dtype(dtype).name}" for name, _, task, dtype in CASES]


def rtol_of(dtype):
    return 1e-12 if dtype == np.float64 else 2e-6


def assert_same(strict_out, numpy_out, dtype):
    """``strict_out``: an array-api-strict array on DEV equal to the numpy ``numpy_out``."""
    assert type(strict_out).__module__.startswith("array_api_strict"), type(strict_out)
    assert strict_out.device == DEV
    host = to_numpy(strict_out)
    assert host.dtype == numpy_out.dtype == np.dtype(dtype)
    assert host.shape == numpy_out.shape
    scale = float(np.max(np.abs(numpy_out))) if numpy_out.size else 0.0
    np.testing.assert_allclose(host, numpy_out, rtol=rtol_of(dtype), atol=1e-12 * scale + 1e-300)


# -------------------------------------------------------------- strict namespace
@pytest.mark.parametrize(("name", "loss", "task", "dtype"), CASES, ids=IDS)
def test_strict_namespace_equals_numpy(strict, name, loss, task, dtype):
    y, raw, w = data(task, dtype)
    g, h = loss.gradient_hessian(y, raw, w)
    gs, hs = loss.gradient_hessian(on_device(y), on_device(raw), on_device(w))
    assert_same(gs, g, dtype)
    assert_same(hs, h, dtype)

    value = loss.loss(y, raw, w)
    value_s = loss.loss(on_device(y), on_device(raw), on_device(w))
    assert isinstance(value_s, float)
    np.testing.assert_allclose(value_s, value, rtol=rtol_of(dtype) * 10)

    n_classes = K if task == "multiclass" else None
    init = loss.init_score(y, w, n_classes=n_classes)
    init_s = loss.init_score(on_device(y), on_device(w), n_classes=n_classes)
    if isinstance(init, float):
        assert isinstance(init_s, float)
        np.testing.assert_allclose(init_s, init, rtol=1e-12, atol=1e-12)
    else:
        assert_same(init_s, np.asarray(init), np.float64)

    multilabel = task == "multilabel"
    assert_same(loss.transform(on_device(raw), multilabel=multilabel),
                loss.transform(raw, multilabel=multilabel), dtype)


@pytest.mark.parametrize("make_loss", [gbloss.dice, gbloss.pel], ids=["dice", "pel"])
def test_strict_groups(strict, make_loss):
    y, raw, w = data("binary", np.float64)
    sizes = np.array([10, 25, 25])
    loss = make_loss()
    g, h = loss.gradient_hessian(y, raw, w, group=sizes)
    gs, hs = loss.gradient_hessian(on_device(y), on_device(raw), on_device(w), group=sizes)
    assert_same(gs, g, np.float64)
    assert_same(hs, h, np.float64)
    np.testing.assert_allclose(loss.loss(on_device(y), on_device(raw), group=sizes),
                               loss.loss(y, raw, group=sizes), rtol=1e-12)


def test_host_labels_with_device_margins(strict):
    """Labels and weights given as numpy go to the margins' device."""
    loss = gbloss.focal(class_weight="balanced")
    y, raw, w = data("multiclass", np.float32)
    gs, hs = loss.gradient_hessian(y, on_device(raw), w)
    g, h = loss.gradient_hessian(y, raw, w)
    assert_same(gs, g, np.float32)
    assert_same(hs, h, np.float32)


# ------------------------------------------------------- blocked numpy fast path
BLOCK_CASES = [(name, loss, task) for name, loss in LOSSES if type(loss).row_separable
               for task in tasks_of(loss)]


@pytest.mark.parametrize(("name", "loss", "task"), BLOCK_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in BLOCK_CASES])
def test_blocked_equals_whole_array(monkeypatch, name, loss, task):
    """``run_blocked`` on ragged blocks from 2 threads equals one whole-array call."""
    y, raw, w = data(task, np.float32, seed=1)
    y64, raw64, w64 = data(task, np.float64, seed=1)
    monkeypatch.setattr(garray, "BLOCK_ELEMENTS", 10**9)
    whole = [loss.gradient_hessian(y, raw, w), loss.gradient_hessian(y64, raw64, w64)]
    whole_value = loss.loss(y64, raw64, w64)
    width = raw.shape[1] if raw.ndim == 2 else 1
    monkeypatch.setattr(garray, "BLOCK_ELEMENTS", 7 * width)  # 7 rows a block: 9 blocks
    calls = []
    real = garray._get_pool

    def pool(n):
        calls.append(n)
        return real(n)

    monkeypatch.setattr(garray, "_get_pool", pool)
    blocked = [loss.gradient_hessian(y, raw, w, n_threads=2),
               loss.gradient_hessian(y64, raw64, w64, n_threads=2)]
    assert calls == [1, 1]  # the blocks did go through the pool (one helper besides the caller)
    for (gw, hw), (gb, hb), dtype in zip(whole, blocked, (np.float32, np.float64), strict=True):
        for a, b in ((gw, gb), (hw, hb)):
            assert b.dtype == a.dtype == dtype
            np.testing.assert_allclose(b, a, rtol=rtol_of(dtype), atol=0)
    np.testing.assert_allclose(loss.loss(y64, raw64, w64), whole_value, rtol=1e-12)


# ------------------------------------------------ XGBoost device objective (GPU path)
DEVICE_LOSSES = [
    ("focal-binary", lambda: gbloss.focal(class_weight="balanced"), "binary"),
    ("focal-multiclass", lambda: gbloss.focal(gamma=2.0), "multiclass"),
    ("ldam-drw", lambda: gbloss.ldam(drw_start_round=1), "multiclass"),
    ("lmf", lambda: gbloss.lmf(), "multiclass"),
    ("balanced_mse", lambda: gbloss.balanced_mse(), "regression"),
    ("acb_mse", lambda: gbloss.acb_mse(zero_weight=2.0), "regression"),
    ("focal_regression", lambda: gbloss.focal_regression(gamma=0.5), "regression"),
    ("focal_regression-l1", lambda: gbloss.focal_regression("l1", gamma=2.0), "regression"),
    ("dice", lambda: gbloss.dice(), "binary"),
    ("pel", lambda: gbloss.pel(), "binary"),
]


def _dmatrix(task, seed=0, groups=False):
    y, raw, w = data(task, np.float32, seed)
    X = np.random.default_rng(seed).normal(size=(N, 3))
    d = xgb.DMatrix(X, y, weight=None if groups else w,
                    qid=np.repeat(np.arange(3), N // 3) if groups else None)
    return d, raw


def _call(obj, iteration, raw, d):
    loss = obj.loss if isinstance(obj, gbloss.Objective) else obj
    if getattr(loss, "drw_start_round", None) is not None:
        return obj(iteration, raw, d)
    return obj(raw, d)


@pytest.mark.parametrize(("name", "make_loss", "task"), DEVICE_LOSSES, ids=[c[0] for c in DEVICE_LOSSES])
def test_xgboost_device_objective(strict, monkeypatch, name, make_loss, task):
    loss = make_loss()
    d, raw = _dmatrix(task, groups=name == "pel")
    obj = gbloss.Objective(loss, device=(xs, DEV))
    validations, kernels = [], []
    real_validated, real_kernel = type(loss)._validated, type(loss)._kernel
    monkeypatch.setattr(type(loss), "_validated",
                        lambda self, *a: validations.append(1) or real_validated(self, *a))
    monkeypatch.setattr(type(loss), "_kernel",
                        lambda self, *a: kernels.append(a[2]) or real_kernel(self, *a))
    for iteration in range(3):
        step = raw + np.float32(0.1 * iteration)
        gs, hs = _call(obj, iteration, step, d)
        g, h = _call(loss, iteration, step, d)
        assert_same(gs, g, np.float32)
        assert_same(hs, h, np.float32)
    assert np.max(np.abs(g)) > 0
    # labels are validated once per training and device, not every round
    assert len(validations) == 2
    if type(loss).row_separable:
        # kernels are kept by the training's binding: one per DRW phase and device
        phases = 2 if name == "ldam-drw" else 1
        assert kernels.count("grad_hess") == 2 * phases
    name_, value = obj.metric(raw, d)
    assert name_ == loss.metric(raw, d)[0]
    np.testing.assert_allclose(value, loss.metric(raw, d)[1], rtol=1e-6)


def test_xgboost_sklearn_form_on_device(strict):
    """``obj(y_true, y_pred, sample_weight=w)`` (XGBClassifier) on the device path."""
    loss = gbloss.focal(class_weight="balanced")
    y, raw, w = data("multiclass", np.float32)
    obj = gbloss.Objective(loss, device=(xs, DEV))
    gs, hs = obj(y, raw, sample_weight=w)
    g, h = loss(y, raw, sample_weight=w)
    assert_same(gs, g, np.float32)
    assert_same(hs, h, np.float32)


def test_train_through_device_path_gives_host_model():
    """``xgb.train`` through the device code path (numpy as the 'device') = host model."""
    import array_api_compat.numpy as cnp

    for make_loss, task in ((lambda: gbloss.focal(class_weight="balanced"), "multiclass"),
                            (gbloss.dice, "binary")):
        d, _ = _dmatrix(task, seed=3)
        params = {"max_depth": 2, "nthread": 1}
        if task == "multiclass":
            params["num_class"] = K
        host = gbloss.xgboost.train(params, d, make_loss(), 4)
        obj = gbloss.Objective(make_loss(), device=(cnp, "cpu"))
        full = gbloss.xgboost.booster_params(params, obj.loss, d.get_label(), d.get_weight())
        dev = xgb.train(full, d, 4, obj=obj, custom_metric=obj.metric)
        np.testing.assert_array_equal(dev.predict(d, output_margin=True),
                                      host.predict(d, output_margin=True))


def test_params_device_sets_the_objective_device():
    loss = gbloss.focal()
    assert gbloss.xgboost.objective(loss, {"device": "cuda"}).device == "cuda"
    assert gbloss.xgboost.objective(loss, {"device": "cuda:1"}).device == "cuda:1"
    assert gbloss.xgboost.objective(loss, {"device": "cpu"}).device is None
    assert gbloss.xgboost.objective(loss, {}).device is None
    cuda = gbloss.xgboost.objective(loss, {"device": "cuda", "nthread": 3})
    import copy

    twin = copy.deepcopy(cuda)  # LightGBM / sklearn copies
    assert twin.device == "cuda"
    assert twin.n_threads == 3
    assert cuda.n_threads == 3
    assert twin.loss.params == loss.params