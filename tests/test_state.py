"""State: what a loss learned pickles and survives clone; what a training adds stays with it.

One test (or a few) per failure that the layout of gbloss 0.1 showed when tried
as a user would; each failed before the state moved out of the loss object.
Expected values are computed independently: class weights from counts
(``tests/conftest.py``), margins and metrics from the boosters' own
predictions.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import threading

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from scipy.special import expit, log_softmax
from sklearn.base import clone

import gbloss
import gbloss.lightgbm
import gbloss.xgboost
from gbloss.sklearn import GBLossClassifier

XGB = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1}
LGB = {"num_leaves": 7, "learning_rate": 0.3, "num_threads": 1, "verbose": -1,
       "min_data_in_leaf": 5}


def _data(n: int, rate: float, seed: int, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    score = X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.7, size=n)
    if k == 2:
        y = (score > np.quantile(score, 1 - rate)).astype(np.float64)
    else:
        y = np.digitize(score, np.quantile(score, [1 - rate, 1 - rate / 3])).astype(np.float64)
    return X, y


def _balanced_ce(y_train, y, z, counts_ref, class_weight_ref, k=2) -> float:
    """Weighted mean of class-weighted cross-entropy with the weights of ``y_train``."""
    task = "binary" if k == 2 else "multiclass"
    cw = class_weight_ref(counts_ref(y_train, k, task), "balanced")
    t = y.astype(int)
    if k == 2:
        ce = -(y * np.log(expit(z)) + (1 - y) * np.log(expit(-z)))
    else:
        ce = -log_softmax(z, axis=1)[np.arange(len(t)), t]
    return float(np.mean(cw[t] * ce))


# ---------------------------------------------------------------------------- 1. pickle
def test_pickling_a_loss_changes_nothing(counts_ref, class_weight_ref):
    X, y = _data(600, 0.1, 0)
    Xv, yv = _data(300, 0.5, 1)
    loss = gbloss.cross_entropy(class_weight="balanced")
    dtrain, dval = xgb.DMatrix(X, y), xgb.DMatrix(Xv, yv)
    booster = xgb.train(XGB, dtrain, 4, obj=loss, custom_metric=loss.metric,
                        evals=[(dval, "val")], verbose_eval=False)
    zv = booster.predict(dval, output_margin=True)
    before = (loss.metric(zv, dval), loss.loss(yv, zv), dict(loss.__dict__))
    pickle.dumps(loss)
    assert (loss.metric(zv, dval), loss.loss(yv, zv), dict(loss.__dict__)) == before
    # the validation metric is that of the training labels' class weights
    assert before[0][1] == pytest.approx(_balanced_ce(y, yv, zv, counts_ref, class_weight_ref),
                                         rel=1e-5)


def test_multilabel_transform_follows_the_fitted_task():
    rng = np.random.default_rng(2)
    Y = (rng.random((200, 3)) < 0.3).astype(float)
    z = rng.normal(size=(200, 3))
    fitted = gbloss.focal().fit(Y)
    expected = expit(z)
    np.testing.assert_allclose(fitted.transform(z), expected, rtol=1e-12)
    pickle.dumps(fitted)
    np.testing.assert_allclose(fitted.transform(z), expected, rtol=1e-12)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(fitted)).transform(z), expected,
                               rtol=1e-12)


# ----------------------------------------------------------------------------- 2. clone
def test_clone_keeps_fitted_statistics():
    _, y_all = _data(1000, 0.2, 3)
    part = y_all[:150].copy()
    part[:100] = 1.0  # the part's own balance is the opposite of the whole's
    z = np.random.default_rng(3).normal(size=150)
    fitted = gbloss.focal(class_weight="balanced").fit(y_all)
    twin = clone(fitted)
    np.testing.assert_array_equal(twin.statistics_.counts, fitted.statistics_.counts)
    np.testing.assert_array_equal(twin.gradient_hessian(part, z)[0],
                                  fitted.gradient_hessian(part, z)[0])
    assert not np.allclose(gbloss.focal(class_weight="balanced").gradient_hessian(part, z)[0],
                           fitted.gradient_hessian(part, z)[0])
    # inside the estimators that scikit-learn clones (GridSearchCV, cross_validate, dask-ml)
    est = clone(xgb.XGBClassifier(objective=fitted, n_estimators=2))
    np.testing.assert_array_equal(est.objective.statistics_.counts, fitted.statistics_.counts)
    # set_params of a parameter the statistics do not depend on keeps them
    assert twin.set_params(gamma=1.0).statistics_ is not None
    bmse = gbloss.balanced_mse().fit(np.random.default_rng(4).lognormal(size=200))
    assert bmse.set_params(hessian="exact").statistics_ is not None
    assert bmse.set_params(sigma=0.3).statistics_ is None  # sigma shapes the prior


# -------------------------------------------------- 3. concurrent trainings and cv folds
def test_concurrent_trainings_score_with_their_own_statistics(counts_ref, class_weight_ref):
    """Two threads train one loss object on data of opposite balance, round by round."""
    loss = gbloss.cross_entropy(class_weight="balanced")
    sets = [(_data(800, rate, seed), _data(300, 0.5, seed + 10))
            for rate, seed in ((0.1, 5), (0.9, 6))]
    barrier = threading.Barrier(2, timeout=60)

    def objective(predt, dtrain):
        grad_hess = loss(predt, dtrain)
        barrier.wait()  # both trainings have computed their gradients before either scores
        return grad_hess

    results: list = [None, None]

    def run(i: int) -> None:
        (X, y), (Xv, yv) = sets[i]
        history: dict = {}
        booster = xgb.train(XGB, xgb.DMatrix(X, y), 5, obj=objective,
                            custom_metric=loss.metric, evals=[(xgb.DMatrix(Xv, yv), "val")],
                            evals_result=history, verbose_eval=False)
        results[i] = (booster, history)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for i, ((_, y), (Xv, yv)) in enumerate(sets):
        booster, history = results[i]
        zv = booster.predict(xgb.DMatrix(Xv), output_margin=True)
        expected = _balanced_ce(y, yv, zv, counts_ref, class_weight_ref)
        assert history["val"]["cross_entropy"][-1] == pytest.approx(expected, rel=1e-5)


def _folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two folds of opposite balance: the positives are mostly in the first half."""
    n = len(y)
    order = np.argsort(-y, kind="stable")
    first, second = np.sort(order[: n // 2]), np.sort(order[n // 2:])
    return [(first, second), (second, first)]


def test_xgb_cv_folds_score_with_their_own_statistics(counts_ref, class_weight_ref):
    X, y = _data(600, 0.3, 7)
    folds = _folds(y)
    loss = gbloss.cross_entropy(class_weight="balanced")
    cv = xgb.cv(XGB, xgb.DMatrix(X, y), 4, folds=folds, obj=loss, custom_metric=loss.metric,
                as_pandas=False)
    expected = []
    for train, test in folds:
        d = xgb.DMatrix(X[train], y[train])
        booster = xgb.train(XGB, d, 4, obj=gbloss.cross_entropy(class_weight="balanced"))
        z = booster.predict(xgb.DMatrix(X[test]), output_margin=True)
        expected.append(_balanced_ce(y[train], y[test], z, counts_ref, class_weight_ref))
    assert cv["test-cross_entropy-mean"][-1] == pytest.approx(np.mean(expected), rel=1e-5)


def test_lgb_cv_folds_score_with_their_own_statistics(counts_ref, class_weight_ref):
    X, y = _data(600, 0.3, 8)
    folds = _folds(y)
    loss = gbloss.cross_entropy(class_weight="balanced")
    cv = lgb.cv({**LGB, "objective": loss, "metric": "None"}, lgb.Dataset(X, y), 4,
                folds=folds, feval=loss.metric, return_cvbooster=True)
    expected = [
        _balanced_ce(y[train], y[test], booster.predict(X[test], raw_score=True), counts_ref,
                     class_weight_ref)
        for (train, test), booster in zip(folds, cv["cvbooster"].boosters, strict=True)]
    assert cv["valid cross_entropy-mean"][-1] == pytest.approx(np.mean(expected), rel=1e-5)


# ------------------------------------------------------------------------------ 4. fork
def _large_call_in_child(queue) -> None:
    y = (np.arange(300_000) % 7 == 0).astype(np.float64)
    g, _ = gbloss.focal().gradient_hessian(y, np.zeros(y.size), n_threads=2)
    queue.put(float(g.sum()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs the fork start method")
# forking a process whose thread pool has run is what this test is about (Python >= 3.12
# warns about it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_computes_after_a_large_call_in_the_parent():
    y = (np.arange(300_000) % 7 == 0).astype(np.float64)
    expected = float(gbloss.focal().gradient_hessian(y, np.zeros(y.size), n_threads=2)[0].sum())
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_large_call_in_child, args=(queue,))
    child.start()
    child.join(120)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in its first large call")
    assert child.exitcode == 0
    assert queue.get(timeout=10) == pytest.approx(expected)


# -------------------------------------------------------------- 5, 6, 8, 9. LightGBM
def test_lightgbm_continued_training_adds_no_second_init_score():
    X, y = _data(800, 0.15, 9)
    loss = gbloss.focal()
    first = gbloss.lightgbm.train(LGB, lgb.Dataset(X, y), loss, 10)
    more = gbloss.lightgbm.train(LGB, lgb.Dataset(X, y), loss, 1, init_model=first)
    raw_first, raw_more = first.predict(X, raw_score=True), more.predict(X, raw_score=True)
    assert more.num_trees() == first.num_trees() + 1
    # one round moves the margins by at most one tree's leaves
    assert abs(raw_more.mean() - raw_first.mean()) < 0.3
    np.testing.assert_allclose(more.predict(X), expit(raw_more), rtol=1e-12)


@pytest.mark.parametrize("via", ["train", "estimator"])
def test_lightgbm_linear_trees_predict_with_the_init_score(via):
    X, y = _data(1500, 0.15, 10)
    loss = gbloss.cross_entropy()
    params = {**LGB, "linear_tree": True}
    if via == "train":
        booster = gbloss.lightgbm.train(params, lgb.Dataset(X, y), loss, 5)
        proba = booster.predict(X)
        init = loss.init_score(y)
        plain = lgb.train({**params, "objective": gbloss.cross_entropy(), "metric": "None"},
                          lgb.Dataset(X, y, init_score=np.full(len(y), init)), 5)
        np.testing.assert_allclose(booster.predict(X, raw_score=True),
                                   plain.predict(X, raw_score=True) + init, atol=1e-9)
    else:
        clf = GBLossClassifier(loss, booster="lightgbm", n_estimators=5, random_state=0,
                               booster_params={"linear_tree": True, "verbose": -1})
        proba = clf.fit(X, y).predict_proba(X)[:, 1]
    assert proba.mean() == pytest.approx(y.mean(), abs=0.02)


def test_lightgbm_train_leaves_the_callers_datasets_as_they_were():
    X, y = _data(600, 0.2, 11)
    Xv, yv = _data(200, 0.2, 12)
    train, valid = lgb.Dataset(X, y), lgb.Dataset(Xv, yv)
    gbloss.lightgbm.train(LGB, train, gbloss.focal(), 3, valid_sets=[valid])
    assert train.get_init_score() is None
    assert valid.get_init_score() is None
    # a later built-in model on the same Dataset starts where the built-in starts
    builtin = lgb.train({**LGB, "objective": "binary"}, train, 3)
    fresh = lgb.train({**LGB, "objective": "binary"}, lgb.Dataset(X, y), 3)
    np.testing.assert_allclose(builtin.predict(X), fresh.predict(X), rtol=1e-12)


def test_lightgbm_train_keeps_a_user_offset():
    X, y = _data(600, 0.2, 13)
    offset = np.random.default_rng(13).normal(scale=0.5, size=len(y))
    loss = gbloss.cross_entropy()
    ds = lgb.Dataset(X, y, init_score=offset)
    booster = gbloss.lightgbm.train(LGB, ds, loss, 4)
    np.testing.assert_array_equal(ds.get_init_score(), offset)
    # as LightGBM's built-in objectives: the offset is the start, no constant added
    plain = lgb.train({**LGB, "objective": gbloss.cross_entropy(), "metric": "None"},
                      lgb.Dataset(X, y, init_score=offset), 4)
    np.testing.assert_allclose(booster.predict(X, raw_score=True),
                               plain.predict(X, raw_score=True), atol=1e-9)


def test_nan_labels_are_refused_before_lightgbm_replaces_them():
    """gbloss reads the labels before LightGBM constructs the Dataset (which turns NaN into 0
    before any objective sees it: ``lgb.train(objective=loss)`` cannot tell)."""
    X, y = _data(300, 0.2, 14)
    y[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gbloss.lightgbm.train(LGB, lgb.Dataset(X, y), gbloss.focal(), 2)
    with pytest.raises(ValueError, match="NaN"):
        GBLossClassifier(booster="lightgbm", n_estimators=2).fit(X, y)


def test_multiclass_labels_without_num_class_are_refused_clearly():
    X, y = _data(300, 0.3, 15, k=3)
    with pytest.raises(ValueError, match="num_class"):
        gbloss.lightgbm.train(LGB, lgb.Dataset(X, y), gbloss.focal(), 2)
    with pytest.raises(ValueError, match="num_class"):
        lgb.train({**LGB, "objective": gbloss.focal()}, lgb.Dataset(X, y), 2)


# ---------------------------------------------------------------------------- 7. XGBoost
def test_xgboost_continued_training_keeps_the_loaded_base_score():
    X, y = _data(800, 0.1, 16)
    X2, y2 = _data(800, 0.6, 17)
    loss = gbloss.focal()
    first = gbloss.xgboost.train(XGB, xgb.DMatrix(X, y), loss, 5)
    again = gbloss.xgboost.train(XGB, xgb.DMatrix(X2, y2), loss, 0, xgb_model=first)
    d = xgb.DMatrix(X)
    np.testing.assert_allclose(again.predict(d, output_margin=True),
                               first.predict(d, output_margin=True), atol=1e-6)


def test_xgboost_train_keeps_a_user_base_score():
    X, y = _data(400, 0.2, 18)
    booster = gbloss.xgboost.train({**XGB, "base_score": 0.3}, xgb.DMatrix(X, y),
                                   gbloss.focal(), 0)
    margins = booster.predict(xgb.DMatrix(X), output_margin=True)
    np.testing.assert_allclose(margins, np.log(0.3 / 0.7), rtol=1e-6)


# ------------------------------------------------------------ 10, 11. the estimators
def test_readme_shows_no_estimator_call_that_returns_margins():
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    code = "".join(re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL))
    assert "LGBMClassifier(objective=" not in code.replace(" ", "")
    # the path it shows instead returns labels and probabilities
    X, y = _data(300, 0.3, 19)
    labels = np.where(y == 1, "yes", "no")
    clf = GBLossClassifier(gbloss.focal(), booster="lightgbm", n_estimators=3).fit(X, labels)
    assert set(clf.predict(X)) <= {"yes", "no"}
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_booster_estimators_get_no_loss_parameters(recwarn, capfd):
    X, y = _data(300, 0.3, 20)
    yi = y.astype(int)
    xgb.XGBClassifier(objective=gbloss.focal(), n_estimators=2, n_jobs=1).fit(X, yi)
    lgb.LGBMClassifier(objective=gbloss.focal(), n_estimators=2, n_jobs=1).fit(X, yi)
    assert not [str(w.message) for w in recwarn if "not used" in str(w.message)]
    assert "Unknown parameter" not in capfd.readouterr().out
    assert not [k for k in xgb.XGBClassifier(objective=gbloss.focal()).get_xgb_params()
                if k.startswith("objective__")]


def test_grid_search_over_loss_parameters_changes_the_loss():
    from sklearn.model_selection import GridSearchCV

    X, y = _data(300, 0.3, 21)
    search = GridSearchCV(GBLossClassifier(gbloss.focal(), n_estimators=3),
                          {"loss__gamma": [0.0, 3.0]}, cv=2, scoring="neg_log_loss")
    search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] != scores[1]  # the two candidates trained different losses
    assert search.best_estimator_.loss_.gamma in (0.0, 3.0)


def test_deep_copies_of_a_fitted_loss_share_nothing_mutable():
    fitted = gbloss.focal(class_weight="balanced").fit(np.array([0, 0, 0, 1.0]))
    twin = copy.deepcopy(fitted)
    twin.set_params(gamma=0.0)
    assert fitted.gamma == 2.0
    assert twin.statistics_ is not None
