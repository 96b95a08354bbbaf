"""CatBoost: the losses as CatBoost objectives and metrics, and gbloss.catboost.train.

Oracles: CatBoost's built-in ``Logloss``, ``Focal`` and ``RMSE`` (the same
model, tree for tree, on the same data and seed), and for multiclass a softmax
objective re-typed here from the formulas (CatBoost's built-in ``MultiClass``
takes another path than any Python objective: see ``test_builtin_multiclass``).
"""

from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np
import pytest

import gbloss

cb = pytest.importorskip("catboost")
import gbloss.catboost

#: The models are the same up to float64 rounding: CatBoost's Logloss keeps exp(margins).
TOL = 1e-10

NEWTON = {"learning_rate": 0.1, "depth": 3, "random_seed": 0, "leaf_estimation_method": "Newton",
          "leaf_estimation_iterations": 1, "boost_from_average": False, "verbose": 0,
          "thread_count": 1}


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # CatBoost writes catboost_info/ into the working directory


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=n) > 1.0).astype(float)
    w = rng.uniform(0.5, 2.0, size=n)
    return X, y, w


def _margins(loss_function, X, y, w=None, iterations=15, **params):
    metric = getattr(loss_function, "metric", None)
    extra = {} if metric is None or isinstance(loss_function, str) else {"eval_metric": metric}
    model = cb.CatBoost({"loss_function": loss_function, "iterations": iterations,
                         **NEWTON, **extra, **params})
    model.fit(cb.Pool(X, y, weight=w))
    return model.predict(X, prediction_type="RawFormulaVal")


# ------------------------------------------------------------------ parity with built-ins
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_is_logloss(weighted):
    X, y, w = _data()
    w = w if weighted else None
    ours = _margins(gbloss.cross_entropy(), X, y, w)
    theirs = _margins("Logloss", X, y, w)
    assert np.abs(theirs).max() > 0.5  # the models did learn
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_classifier_takes_the_loss_as_it_is():
    X, y, _ = _data()
    loss = gbloss.cross_entropy()
    clf = cb.CatBoostClassifier(loss_function=loss, eval_metric=loss.metric, iterations=10,
                                **NEWTON).fit(X, y)
    ref = cb.CatBoostClassifier(loss_function="Logloss", iterations=10, **NEWTON).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=0, atol=TOL)


@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, 0.25), (1.5, 0.6)])
def test_focal_is_catboost_focal(gamma, alpha):
    # CatBoost's Focal: -a_t (1 - p_t)^gamma log p_t, a_t = alpha for y = 1 and 1 - alpha for
    # y = 0 (gbloss's scalar alpha), exact first and second derivatives (hessian="exact")
    X, y, w = _data()
    ours = _margins(gbloss.focal(gamma, alpha, hessian="exact"), X, y, w)
    theirs = _margins(f"Focal:focal_alpha={alpha};focal_gamma={gamma}", X, y, w)
    assert np.abs(theirs).max() > 0.1
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_squared_error_is_rmse():
    # ACB-MSE with one class (no zero targets) and weight 1/2 is (z - y)^2 / 2: CatBoost's RMSE
    X, _, w = _data()
    y = 2 * X[:, 0] + np.random.default_rng(1).normal(size=X.shape[0]) + 3.0
    assert np.all(y != 0)
    loss = gbloss.acb_mse(nonzero_weight=0.5).fit(y, w)
    ours = _margins(loss, X, y, w)
    theirs = _margins("RMSE", X, y, w)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
    reg = cb.CatBoostRegressor(loss_function=loss, eval_metric=loss.metric, iterations=15,
                               **NEWTON).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(reg.predict(X), theirs, rtol=0, atol=TOL)


class _Softmax:
    """Softmax cross-entropy re-typed from the formulas, in CatBoost's sign convention."""

    no_jit = True

    def __init__(self, full_hessian):
        self.full_hessian = full_hessian

    def calc_ders_multi(self, approx, target, weight):
        e = np.exp(approx - approx.max())
        p = e / e.sum()
        onehot = np.arange(p.size) == int(target)
        hess = np.outer(p, p) - np.diag(p) if self.full_hessian else -np.diag(p * (1 - p))
        return (onehot - p) * weight, hess * weight


def _multiclass(n=150):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 4))
    y = np.digitize(X[:, 0] + rng.normal(size=n), [-0.5, 1.0]).astype(float)
    return X, y, rng.uniform(0.5, 2.0, size=n)


@pytest.mark.parametrize(("method", "full"), [("Newton", False), ("Gradient", True)])
def test_multiclass_matches_softmax_objective(method, full):
    # Newton: gbloss's diagonal Hessian (as for XGBoost and LightGBM); gradient leaves use
    # the first derivatives only, which then match the full-Hessian objective's
    X, y, w = _multiclass()
    kw = {"iterations": 4, "classes_count": 3, "leaf_estimation_method": method}
    ours = _margins(gbloss.cross_entropy(), X, y, w, **kw)
    theirs = _margins(_Softmax(full), X, y, w, eval_metric="MultiClass", **kw)
    assert ours.shape == (X.shape[0], 3)
    assert np.abs(theirs).max() > 0.02
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_builtin_multiclass():
    # Why the multiclass oracle is re-typed: CatBoost's built-in MultiClass differs from a
    # Python objective with its very derivatives (full softmax Hessian), even with gradient
    # leaves; if this starts to fail, CatBoost has aligned the two and MultiClass can be
    # the oracle.
    X, y, _ = _multiclass()
    kw = {"iterations": 2, "classes_count": 3, "leaf_estimation_method": "Gradient",
              "eval_metric": "MultiClass"}
    builtin = _margins("MultiClass", X, y, **kw)
    retyped = _margins(_Softmax(True), X, y, **kw)
    assert np.abs(builtin - retyped).max() > 1e-3


# ----------------------------------------------------------------------- call protocol
def test_ders_range_is_minus_gradient_hessian():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3, size=700)
    y = (rng.random(700) < 0.3).astype(np.float32)
    w = rng.uniform(0, 2, size=700).astype(np.float32)
    loss = gbloss.focal(2.0, 0.25)
    ders = loss.calc_ders_range(z, y, w)
    grad, hess = loss.gradient_hessian(y.astype(np.float64), z, w.astype(np.float64))
    assert ders.shape == (700, 2)
    assert ders.dtype == np.float64
    np.testing.assert_allclose(ders[:, 0], -grad, rtol=1e-12)
    np.testing.assert_allclose(ders[:, 1], -hess, rtol=1e-12)
    assert np.all(ders[:, 1] < 0)  # CatBoost maximises: minus a positive Hessian
    assert loss.calc_ders_range(z[:0], y[:0], None).shape == (0, 2)


def test_ders_multi_one_object():
    loss = gbloss.focal(2.0)
    approx = np.array([0.3, -1.0, 2.0])
    der1, der2 = loss.calc_ders_multi(approx, 1.0, 2.0)
    grad, hess = loss.gradient_hessian(np.array([1]), approx[None, :], np.array([2.0]))
    np.testing.assert_allclose(der1, -grad[0], rtol=1e-12)
    np.testing.assert_allclose(der2, np.diag(-hess[0]), rtol=1e-12)
    with pytest.raises(ValueError, match="multiclass labels"):
        loss.calc_ders_multi(approx, 3.0, 1.0)


def test_metric_protocol():
    _X, y, w = _data()
    loss = gbloss.focal(2.0, 0.25)
    z = np.random.default_rng(2).normal(size=y.size)
    metric = loss.metric
    error, weight = metric.evaluate((z,), y.astype(np.float32), w.astype(np.float32))
    assert weight == pytest.approx(w.astype(np.float32).sum())
    assert metric.get_final_error(error, weight) == pytest.approx(
        loss.loss(y, z, w.astype(np.float32)), rel=1e-12)
    assert metric.is_max_optimal() is False
    assert metric.evaluate((z[:0],), y[:0], None) == (0.0, 0.0)


def test_eval_metric_and_early_stopping():
    X, y, w = _data(n=800, seed=4)
    fitted = gbloss.focal(2.0, class_weight="balanced").fit(y[:500], w[:500])
    model = cb.CatBoost({"loss_function": fitted, "eval_metric": fitted.metric,
                         "iterations": 300, "learning_rate": 0.5, "depth": 6,
                         "random_seed": 0, "verbose": 0, "thread_count": 1})
    model.fit(cb.Pool(X[:500], y[:500], weight=w[:500]),
              eval_set=cb.Pool(X[500:], y[500:], weight=w[500:]), early_stopping_rounds=10)
    history = np.asarray(model.get_evals_result()["validation"]["Metric"])
    assert model.tree_count_ < 300  # stopped early
    assert model.best_iteration_ == int(np.argmin(history))
    raw = model.predict(X[500:], prediction_type="RawFormulaVal")  # the best model's
    assert fitted.loss(y[500:], raw, w[500:]) == pytest.approx(history.min(), rel=1e-9)


def test_no_numba_attempt():
    X, y, _ = _data(n=300)
    loss = gbloss.cross_entropy()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cb.CatBoostClassifier(loss_function=loss, eval_metric=loss.metric, iterations=2,
                              verbose=0).fit(X, y)
    assert not [m for m in seen if "optimiz" in str(m.message)]
    assert loss.no_jit
    assert loss.metric.no_jit
    assert gbloss.Objective(loss).no_jit
    assert "_jited" not in vars(loss)


# ---------------------------------------------------------------------- what is refused
def test_unfitted_loss_with_statistics_is_refused():
    X, y, _ = _data(n=300)
    loss = gbloss.focal(2.0, class_weight="balanced")
    with pytest.raises(ValueError, match="fit"):
        loss.calc_ders_range(np.zeros(3), np.array([0.0, 1.0, 0.0]), None)
    with pytest.raises(ValueError, match="fit"):
        loss.metric.evaluate((np.zeros(3),), np.array([0.0, 1.0, 0.0]), None)
    with pytest.raises(cb.CatBoostError, match=r"loss\.fit"):
        cb.CatBoostClassifier(loss_function=loss, eval_metric="Logloss", iterations=2,
                              verbose=0).fit(X, y)
    # fitted, it runs: the class weights of the training labels, not of a block
    fitted = loss.fit(y)
    cb.CatBoostClassifier(loss_function=fitted, eval_metric=fitted.metric, iterations=2,
                          verbose=0).fit(X, y)


@pytest.mark.parametrize("loss", [gbloss.dice(), gbloss.cross_entropy(drw_start_round=5)],
                         ids=["dice", "drw"])
def test_refused_losses(loss):
    with pytest.raises(ValueError, match="CatBoost"):
        loss.calc_ders_range(np.zeros(3), np.array([0.0, 1.0, 0.0]), None)


# ------------------------------------------------------------------- gbloss.catboost.train
def test_train_sets_and_keeps_the_init_score(tmp_path):
    X, y, w = _data(n=500)
    y = (X[:, 0] > 1.2).astype(float)  # about 12% positives: a non-zero init score
    pool, valid = cb.Pool(X[:400], y[:400], weight=w[:400]), cb.Pool(X[400:], y[400:])
    loss = gbloss.focal(2.0, 0.4)
    params = {"depth": 3, "learning_rate": 0.1, "random_seed": 0, "verbose": 0,
              "thread_count": 1}
    model = gbloss.catboost.train(params, pool, loss, 20, eval_set=valid)
    init = float(np.float32(loss.init_score(y[:400], w[:400])))  # a Pool's baseline is float32
    assert abs(init) > 0.3
    assert model.get_scale_and_bias() == (1.0, init)
    # the Pools get their own (no) baseline back
    assert pool.get_baseline().shape[1] == 0
    assert valid.get_baseline().shape[1] == 0
    # the same model as CatBoost trained from the init score by hand
    by_hand = cb.CatBoost({**params, "iterations": 20, "loss_function": loss.fit(y[:400], w[:400]),
                           "eval_metric": "Logloss"})
    by_hand.fit(cb.Pool(X[:400], y[:400], weight=w[:400], baseline=np.full(400, init)))
    raw = model.predict(X, prediction_type="RawFormulaVal")
    np.testing.assert_allclose(raw, by_hand.predict(X, prediction_type="RawFormulaVal") + init,
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(model.predict(X, prediction_type="Probability")[:, 1],
                               loss.transform(raw), rtol=1e-12)
    # the metric on the validation set saw the margins with the init score
    last = model.get_evals_result()["validation"]["Metric"][-1]
    assert loss.fit(y[:400], w[:400]).loss(y[400:], raw[400:]) == pytest.approx(last, rel=1e-9)
    path = tmp_path / "model.cbm"
    model.save_model(str(path))
    loaded = cb.CatBoost().load_model(str(path))
    np.testing.assert_allclose(loaded.predict(X, prediction_type="RawFormulaVal"), raw,
                               rtol=0, atol=TOL)


def test_train_early_stopping_on_an_eval_tuple():
    X, y, _ = _data(n=600, seed=5)
    loss = gbloss.cross_entropy(class_weight="balanced")
    model = gbloss.catboost.train({"depth": 6, "learning_rate": 0.5, "random_seed": 0,
                                   "verbose": 0, "thread_count": 1},
                                  cb.Pool(X[:400], y[:400]), loss, 300,
                                  eval_set=(X[400:], y[400:]), early_stopping_rounds=10)
    history = np.asarray(model.get_evals_result()["validation"]["Metric"])
    assert model.tree_count_ == int(np.argmin(history)) + 1 < 300  # the best model is kept
    raw = model.predict(X[400:], prediction_type="RawFormulaVal")  # its bias included
    assert loss.fit(y[:400]).loss(y[400:], raw) == pytest.approx(history.min(), rel=1e-9)


def test_train_multiclass_and_regression():
    X, y, w = _multiclass(n=120)
    model = gbloss.catboost.train({"depth": 2, "verbose": 0, "thread_count": 1},
                                  cb.Pool(X, y, weight=w), gbloss.cross_entropy(), 2)
    _, bias = model.get_scale_and_bias()
    np.testing.assert_allclose(bias, gbloss.cross_entropy().init_score(y, w, n_classes=3),
                               rtol=1e-6)
    assert model.predict(X, prediction_type="Probability").shape == (120, 3)
    yr = 3.0 + X[:, 0]
    loss = gbloss.balanced_mse(sigma=1.0)
    model = gbloss.catboost.train({"depth": 2, "verbose": 0}, cb.Pool(X, yr), loss, 5)
    assert model.get_scale_and_bias()[1] == pytest.approx(loss.init_score(yr), rel=1e-6)


def test_train_keeps_a_pool_baseline_as_offset():
    X, y, _ = _data(n=300)
    offset = np.linspace(-1, 1, 300)
    pool = cb.Pool(X, y, baseline=offset)
    model = gbloss.catboost.train({"depth": 2, "verbose": 0}, pool, gbloss.cross_entropy(), 3)
    assert model.get_scale_and_bias() == (1.0, 0.0)
    np.testing.assert_allclose(pool.get_baseline()[:, 0], offset, rtol=1e-6)


def test_train_refuses():
    X, y, _ = _data(n=100)
    pool = cb.Pool(X, y)
    loss = gbloss.cross_entropy()
    with pytest.raises(ValueError, match="loss_function"):
        gbloss.catboost.train({"loss_function": "Logloss"}, pool, loss, 2)
    with pytest.raises(ValueError, match="GPU"):
        gbloss.catboost.train({"task_type": "GPU"}, pool, loss, 2)
    with pytest.raises(TypeError, match="gbloss loss"):
        gbloss.catboost.train({}, pool, "Logloss", 2)
    with pytest.raises(TypeError, match="Pool"):
        gbloss.catboost.train({}, (X, y), loss, 2)
    with pytest.raises(ValueError, match="no labels"):
        gbloss.catboost.train({}, cb.Pool(X), loss, 2)


def test_import_without_catboost_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "catboost", None)
    monkeypatch.delitem(sys.modules, "gbloss.catboost")
    with pytest.raises(ImportError, match=r"pip install \"gbloss\[catboost\]\""):
        importlib.import_module("gbloss.catboost")
