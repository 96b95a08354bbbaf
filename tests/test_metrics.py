"""gbloss.metrics: the expected calibration error and its booster metric."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax

import gbloss
from gbloss.metrics import CalibrationMetric, calibration_error, calibration_metric

RNG = np.random.default_rng(0)


def ece_by_loop(confidence, outcome, n_bins, w=None):
    """A direct loop over the bins [b/B, (b+1)/B) (the last one closed)."""
    w = np.ones_like(confidence) if w is None else w
    total, out = w.sum(), 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (confidence >= lo) & ((confidence < hi) | (b == n_bins - 1))
        if inside.any():
            wb = w[inside]
            out += wb.sum() / total * abs(np.average(outcome[inside], weights=wb)
                                          - np.average(confidence[inside], weights=wb))
    return out


def ece_torchmetrics(confidence, accuracy, n_bins):
    """torchmetrics' binning (``_binning_bucketize``) and l1 norm, re-typed with torch."""
    torch = pytest.importorskip("torch")
    conf, acc = torch.as_tensor(confidence), torch.as_tensor(accuracy)
    boundaries = torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)
    acc_bin = torch.zeros(len(boundaries), dtype=conf.dtype)
    conf_bin = torch.zeros(len(boundaries), dtype=conf.dtype)
    count_bin = torch.zeros(len(boundaries), dtype=conf.dtype)
    indices = torch.bucketize(conf, boundaries, right=True) - 1
    count_bin.scatter_add_(0, indices, torch.ones_like(conf))
    conf_bin.scatter_add_(0, indices, conf)
    conf_bin = torch.nan_to_num(conf_bin / count_bin)
    acc_bin.scatter_add_(0, indices, acc)
    acc_bin = torch.nan_to_num(acc_bin / count_bin)
    prop_bin = count_bin / count_bin.sum()
    return float(torch.sum(torch.abs(acc_bin - conf_bin) * prop_bin))


@pytest.mark.parametrize("n_bins", [1, 5, 15, 40])
def test_binary_ece_matches_two_independent_implementations(n_bins):
    p = RNG.beta(0.5, 3.0, 5000)
    y = (RNG.random(p.size) < np.clip(1.3 * p, 0, 1)).astype(float)
    got = calibration_error(y, p, n_bins)
    assert got == pytest.approx(ece_by_loop(p, y, n_bins), rel=1e-12)
    assert got == pytest.approx(ece_torchmetrics(p, y, n_bins), rel=1e-10)
    assert got > 0.01  # miscalibrated on purpose: the comparison means something


def test_multiclass_ece_is_top_label():
    proba = softmax(RNG.normal(scale=2, size=(4000, 4)), axis=1)
    y = RNG.integers(0, 4, proba.shape[0]).astype(float)
    top = proba.argmax(1)
    conf, acc = proba.max(1), (top == y).astype(float)
    got = calibration_error(y, proba)
    assert got == pytest.approx(ece_by_loop(conf, acc, 15), rel=1e-12)
    assert got == pytest.approx(ece_torchmetrics(conf, acc, 15), rel=1e-10)


def test_sample_weight_equals_repeated_rows_and_multilabel_pools_columns():
    p = RNG.random(300)
    y = (RNG.random(300) < p ** 2).astype(float)
    k = RNG.integers(0, 4, 300)
    assert calibration_error(y, p, sample_weight=k) == pytest.approx(
        calibration_error(np.repeat(y, k), np.repeat(p, k)), rel=1e-12)
    assert calibration_error(y, p, sample_weight=k) == pytest.approx(
        ece_by_loop(p, y, 15, k.astype(float)), rel=1e-12)
    P = RNG.random((200, 3))
    Y = (RNG.random((200, 3)) < P).astype(float)
    w = RNG.uniform(0.5, 2, 200)
    assert calibration_error(Y, P, sample_weight=w) == pytest.approx(
        calibration_error(Y.ravel(), P.ravel(), sample_weight=np.repeat(w, 3)), rel=1e-12)


def test_bin_edges_and_a_perfect_model():
    # 0.5 opens the upper bin of 2; 1 falls in the last bin; 0 in the first
    assert calibration_error([1.0, 0.0], [0.5, 0.5], 2) == pytest.approx(0.0)
    assert calibration_error([0.0, 1.0, 1.0], [0.0, 1.0, 0.5], 2) == pytest.approx(
        (2 / 3) * abs(1.0 - 0.75))
    # a million rows drawn from their own probabilities: ECE near 0
    p = RNG.random(1_000_000)
    y = (RNG.random(p.size) < p).astype(float)
    assert calibration_error(y, p) < 0.003


def test_errors():
    with pytest.raises(ValueError, match="n_bins"):
        calibration_error([0, 1], [0.2, 0.8], n_bins=0)
    with pytest.raises(ValueError, match="probabilities"):
        calibration_error([0, 1], [0.2, 1.8])
    with pytest.raises(ValueError, match="shape"):
        calibration_error([0, 1, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="class ids"):
        calibration_error([0, 3], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="sample_weight"):
        calibration_error([0, 1], [0.2, 0.8], sample_weight=[1.0, -1.0])
    assert np.isnan(calibration_error([0, 1], [0.2, 0.8], sample_weight=[0.0, 0.0]))
    with pytest.raises(ValueError, match="regression loss"):
        calibration_metric(gbloss.acb_mse())
    with pytest.raises(ValueError, match="n_bins"):
        calibration_metric(gbloss.focal(), n_bins=0)


# ------------------------------------------------------------- the booster metric
def _data(n, seed):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 3))
    eta = expit(X @ np.array([1.2, -0.9, 0.5]) - 2.5)
    return X, (r.random(n) < eta).astype(float)


def test_metric_call_forms_measure_the_corrected_probabilities():
    y = (RNG.random(500) < 0.1).astype(float)
    raw = RNG.normal(-1, 2, 500)
    w = RNG.uniform(0.5, 2, 500)
    loss = gbloss.focal(gamma=2.0, class_weight="balanced").fit(y)
    metric = calibration_metric(loss, n_bins=10)
    assert isinstance(metric, CalibrationMetric)
    assert metric.__name__ == "ece"
    expect = calibration_error(y, loss.predict_proba(raw), 10, sample_weight=w)
    assert expect != pytest.approx(calibration_error(y, loss.transform(raw), 10, sample_weight=w))
    assert metric(y, raw, sample_weight=w) == pytest.approx(expect, rel=1e-12)  # XGBoost sklearn
    name, value, higher = metric(y, raw, w, None)  # LightGBM sklearn
    assert (name, higher) == ("ece", False)
    assert value == pytest.approx(expect, rel=1e-12)
    y3 = RNG.integers(0, 3, 400).astype(float)
    loss3 = gbloss.focal(gamma=1.0).fit(y3)
    raw3 = RNG.normal(size=(400, 3))
    assert calibration_metric(loss3)(y3, raw3) == pytest.approx(
        calibration_error(y3, loss3.predict_proba(raw3)), rel=1e-12)


def test_xgboost_early_stopping_on_calibration():
    xgb = pytest.importorskip("xgboost")
    X, y = _data(3000, 0)
    Xv, yv = _data(3000, 1)
    loss = gbloss.focal(gamma=2.0, class_weight="balanced").fit(y)
    dtrain, dval = xgb.DMatrix(X, label=y), xgb.DMatrix(Xv, label=yv)
    history: dict = {}
    booster = gbloss.xgboost.train(
        {"max_depth": 4, "eta": 0.5, "nthread": 1}, dtrain, loss, 200,
        evals=[(dval, "val")], custom_metric=calibration_metric(loss), evals_result=history,
        early_stopping_rounds=5, verbose_eval=False)
    curve = history["val"]["ece"]
    assert booster.best_iteration == int(np.argmin(curve))
    assert len(curve) == booster.best_iteration + 6 < 200  # stopped 5 rounds after the best
    best = booster.predict(dval, output_margin=True,
                           iteration_range=(0, booster.best_iteration + 1))
    assert curve[booster.best_iteration] == pytest.approx(
        calibration_error(yv, loss.predict_proba(best)), rel=1e-4)  # (XGBoost rounds it)


def test_lightgbm_early_stopping_on_calibration():
    lgb = pytest.importorskip("lightgbm")
    X, y = _data(3000, 0)
    Xv, yv = _data(3000, 1)
    loss = gbloss.cross_entropy(class_weight="balanced").fit(y)
    train_set = lgb.Dataset(X, y)
    val_set = lgb.Dataset(Xv, yv, reference=train_set)
    history: dict = {}
    booster = gbloss.lightgbm.train(
        {"num_leaves": 15, "learning_rate": 0.5, "num_threads": 1, "verbose": -1}, train_set,
        loss, 200, valid_sets=[val_set], valid_names=["val"], feval=calibration_metric(loss),
        callbacks=[lgb.early_stopping(5, verbose=False), lgb.record_evaluation(history)])
    curve = history["val"]["ece"]
    assert booster.best_iteration == int(np.argmin(curve)) + 1  # LightGBM counts from 1
    assert len(curve) == booster.best_iteration + 5 < 200
    best = booster.predict(Xv, raw_score=True, num_iteration=booster.best_iteration)
    assert curve[booster.best_iteration - 1] == pytest.approx(
        calibration_error(yv, loss.predict_proba(best)), rel=1e-6)
