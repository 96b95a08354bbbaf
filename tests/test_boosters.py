"""gbloss losses inside XGBoost and LightGBM: reductions to the built-ins and usage forms.

Reductions: focal(gamma=0) with the booster's Hessian convention and the same
init score trains the same model as the booster's own logistic / softmax
objective; cross_entropy with class weights reproduces the booster's own
weighted training. The expected init scores are computed here from the label
frequencies, not taken from gbloss. Data: n = 2000, a few rounds, one thread.
"""

from __future__ import annotations

import copy
import inspect
import pickle
import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax

import gbloss
import gbloss.lightgbm
import gbloss.xgboost

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

ROUNDS = 8
TOL = 1e-5
XGB = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1}
LGB = {"num_leaves": 7, "learning_rate": 0.3, "num_threads": 1, "verbose": -1,
       "deterministic": True, "force_col_wise": True, "min_data_in_leaf": 20}


def wsum(w, mask):
    return float(np.sum(mask if w is None else w * mask))


def binary_init(y, w, pos_weight=1.0):
    """logit of the (class-)weighted positive rate: the cross-entropy argmin."""
    pos, neg = pos_weight * wsum(w, y == 1), wsum(w, y == 0)
    return float(np.log(pos / neg))


def softmax_init(y, w, k, class_weight=None):
    freq = np.array([wsum(w, y == c) for c in range(k)])
    if class_weight is not None:
        freq = freq * class_weight
    return np.log(freq) - np.log(freq).mean()


def sample_weights(weighted, w):
    return w if weighted else None


# ----------------------------------------------------------------- 7. reductions: XGBoost
@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_binary_logistic_reduction(binary_data, weighted):
    X, y, w = binary_data
    sw = sample_weights(weighted, w)
    d = xgb.DMatrix(X, y, weight=sw)
    init = binary_init(y, sw)
    builtin = xgb.train({**XGB, "objective": "binary:logistic", "base_score": expit(init)}, d,
                        ROUNDS)
    ours = gbloss.xgboost.train(XGB, d, gbloss.focal(gamma=0.0), ROUNDS)
    np.testing.assert_allclose(ours.predict(d), builtin.predict(d), atol=TOL)
    np.testing.assert_allclose(ours.predict(d, output_margin=True),
                               builtin.predict(d, output_margin=True), atol=TOL)
    # the plain form: obj=loss with the same base_score
    plain = xgb.train({**XGB, "objective": "binary:logistic", "base_score": expit(init)}, d,
                      ROUNDS, obj=gbloss.focal(gamma=0.0))
    np.testing.assert_allclose(plain.predict(d), builtin.predict(d), atol=TOL)
    # and focal with gamma > 0 trains a different model
    other = gbloss.xgboost.train(XGB, d, gbloss.focal(gamma=2.0), ROUNDS)
    assert np.max(np.abs(other.predict(d) - builtin.predict(d))) > 1e-2


@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_softprob_reduction(multiclass_data, weighted):
    X, y, w = multiclass_data
    k = 3
    sw = sample_weights(weighted, w)
    d = xgb.DMatrix(X, y, weight=sw)
    params = {**XGB, "num_class": k}
    base = [float(v) for v in softmax_init(y, sw, k)]
    builtin = xgb.train({**params, "objective": "multi:softprob", "base_score": base}, d, ROUNDS)
    ours = gbloss.xgboost.train(params, d, gbloss.focal(gamma=0.0, hessian="xgboost"), ROUNDS)
    np.testing.assert_allclose(ours.predict(d), builtin.predict(d), atol=TOL)
    # the Hessian convention matters: the exact p(1-p) is half of XGBoost's 2p(1-p)
    exact = gbloss.xgboost.train(params, d, gbloss.focal(gamma=0.0, hessian="exact"), ROUNDS)
    assert np.max(np.abs(exact.predict(d) - builtin.predict(d))) > 1e-3


def test_xgboost_multilabel_reduction(binary_data):
    X, _, w = binary_data
    r = np.random.default_rng(7)
    Y = (r.random((X.shape[0], 3)) < expit(2 * X[:, :3] - 1.5)).astype(np.float32)
    d = xgb.DMatrix(X, Y, weight=w)
    base = [float(expit(binary_init(Y[:, j], w))) for j in range(3)]
    builtin = xgb.train({**XGB, "objective": "binary:logistic", "base_score": base}, d, ROUNDS)
    ours = gbloss.xgboost.train(XGB, d, gbloss.cross_entropy(), ROUNDS)
    assert ours.predict(d).shape == (X.shape[0], 3)
    np.testing.assert_allclose(ours.predict(d), builtin.predict(d), atol=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_scale_pos_weight_is_binary_class_weight(binary_data, weighted):
    X, y, w = binary_data
    sw = sample_weights(weighted, w)
    d = xgb.DMatrix(X, y, weight=sw)  # the same weights in both data sets
    s = 4.0
    init = binary_init(y, sw, pos_weight=s)
    builtin = xgb.train({**XGB, "objective": "binary:logistic", "scale_pos_weight": s,
                         "base_score": expit(init)}, d, ROUNDS)
    ours = gbloss.xgboost.train(XGB, d, gbloss.cross_entropy(class_weight=[1.0, s]), ROUNDS)
    np.testing.assert_allclose(ours.predict(d), builtin.predict(d), atol=TOL)
    dict_form = gbloss.xgboost.train(XGB, d, gbloss.cross_entropy(class_weight={1: s}), ROUNDS)
    np.testing.assert_array_equal(dict_form.predict(d), ours.predict(d))


@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_multiclass_class_weights_are_row_weights(multiclass_data, weighted):
    """Class weights c equal the built-in trained on row weights w * c[y].

    ``tree_method="exact"``: hist's quantile sketch depends on the DMatrix
    weights, which here differ between the two runs.
    """
    X, y, w = multiclass_data
    k = 3
    sw = sample_weights(weighted, w)
    cw = np.array([0.5, 1.0, 3.0])
    row_w = cw[y.astype(int)] * (1.0 if sw is None else sw)
    params = {**XGB, "num_class": k, "tree_method": "exact"}
    base = [float(v) for v in softmax_init(y, sw, k, cw)]
    builtin = xgb.train({**params, "objective": "multi:softprob", "base_score": base},
                        xgb.DMatrix(X, y, weight=row_w), ROUNDS)
    d = xgb.DMatrix(X, y, weight=sw)
    ours = gbloss.xgboost.train(params, d, gbloss.cross_entropy(class_weight=cw,
                                                                hessian="xgboost"), ROUNDS)
    np.testing.assert_allclose(ours.predict(d), builtin.predict(d), atol=TOL)


# ---------------------------------------------------------------- 7. reductions: LightGBM
@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_binary_reduction(binary_data, weighted):
    X, y, w = binary_data
    sw = sample_weights(weighted, w)
    builtin = lgb.train({**LGB, "objective": "binary"}, lgb.Dataset(X, y, weight=sw), ROUNDS)
    ours = gbloss.lightgbm.train(LGB, lgb.Dataset(X, y, weight=sw), gbloss.focal(gamma=0.0),
                                 ROUNDS)
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X), atol=TOL)
    np.testing.assert_allclose(ours.predict(X, raw_score=True),
                               builtin.predict(X, raw_score=True), atol=TOL)
    # the plain form: objective=loss, init_score on the Dataset, metric off, feval=loss.metric
    init = binary_init(y, sw)
    loss = gbloss.focal(gamma=0.0)
    plain = lgb.train({**LGB, "objective": loss, "metric": "None"},
                      lgb.Dataset(X, y, weight=sw, init_score=np.full(len(y), init)), ROUNDS,
                      feval=loss.metric)
    np.testing.assert_allclose(plain.predict(X) + init, builtin.predict(X, raw_score=True),
                               atol=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_multiclass_reduction(multiclass_data, weighted):
    X, y, w = multiclass_data
    sw = sample_weights(weighted, w)
    params = {**LGB, "num_class": 3}
    builtin = lgb.train({**params, "objective": "multiclass"}, lgb.Dataset(X, y, weight=sw),
                        ROUNDS)
    ours = gbloss.lightgbm.train(params, lgb.Dataset(X, y, weight=sw),
                                 gbloss.focal(gamma=0.0, hessian="lightgbm"), ROUNDS)
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X), atol=TOL)
    exact = gbloss.lightgbm.train(params, lgb.Dataset(X, y, weight=sw),
                                  gbloss.focal(gamma=0.0, hessian="exact"), ROUNDS)
    assert np.max(np.abs(exact.predict(X) - builtin.predict(X))) > 1e-3


@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_scale_pos_weight_is_binary_class_weight(binary_data, weighted):
    """LightGBM's own boost_from_average ignores scale_pos_weight: both get the same init."""
    X, y, w = binary_data
    sw = sample_weights(weighted, w)
    s = 4.0
    init = binary_init(y, sw, pos_weight=s)
    builtin = lgb.train({**LGB, "objective": "binary", "scale_pos_weight": s},
                        lgb.Dataset(X, y, weight=sw, init_score=np.full(len(y), init)), ROUNDS)
    ours = gbloss.lightgbm.train(LGB, lgb.Dataset(X, y, weight=sw),
                                 gbloss.cross_entropy(class_weight=[1.0, s]), ROUNDS)
    np.testing.assert_allclose(ours.predict(X, raw_score=True),
                               builtin.predict(X, raw_score=True) + init, atol=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_multiclass_class_weights_are_row_weights(multiclass_data, weighted):
    X, y, w = multiclass_data
    sw = sample_weights(weighted, w)
    cw = np.array([0.5, 1.0, 3.0])
    row_w = cw[y.astype(int)] * (1.0 if sw is None else sw)
    params = {**LGB, "num_class": 3}
    builtin = lgb.train({**params, "objective": "multiclass"}, lgb.Dataset(X, y, weight=row_w),
                        ROUNDS)
    ours = gbloss.lightgbm.train(params, lgb.Dataset(X, y, weight=sw),
                                 gbloss.cross_entropy(class_weight=cw, hessian="lightgbm"),
                                 ROUNDS)
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X), atol=TOL)


def test_lightgbm_sklearn_balanced_class_weight(binary_data):
    """cross_entropy("balanced") reproduces LGBMClassifier(class_weight="balanced")."""
    X, y, _ = binary_data
    kw = {"n_estimators": ROUNDS, "num_leaves": 7, "learning_rate": 0.3, "n_jobs": 1,
          "verbose": -1, "deterministic": True, "force_col_wise": True}
    builtin = lgb.LGBMClassifier(objective="binary", class_weight="balanced", **kw).fit(X, y)
    ours = lgb.LGBMClassifier(objective=gbloss.cross_entropy(class_weight="balanced"),
                              **kw).fit(X, y)
    # balanced weights put half the weight on each class: the init score is 0 for both
    np.testing.assert_allclose(ours.predict(X, raw_score=True),
                               builtin.predict(X, raw_score=True), atol=TOL)


# --------------------------------------------------------------- 8. usage forms: native
def balanced_ce(y_train, y, z, counts_ref, class_weight_ref, k=2):
    task = "binary" if k == 2 else "multiclass"
    cw = class_weight_ref(counts_ref(y_train, k, task), "balanced")
    z = np.asarray(z, dtype=np.float64)
    if k == 2:
        ce = -(y * np.log(expit(z)) + (1 - y) * np.log(expit(-z)))
    else:
        ce = -np.log(softmax(z, axis=1)[np.arange(len(y)), y.astype(int)])
    return float(np.mean(cw[y.astype(int)] * ce))


def split(data, n_train=1500):
    X, y, w = data
    return (X[:n_train], y[:n_train], w[:n_train]), (X[n_train:], y[n_train:], w[n_train:])


def test_xgboost_train_metric_uses_training_statistics(binary_data, counts_ref,
                                                       class_weight_ref):
    (X, y, _), (Xv, yv, _) = split(binary_data)
    yv = yv.copy()
    yv[: len(yv) // 2] = 1.0  # a validation set with a different class balance
    dtrain, dvalid = xgb.DMatrix(X, y), xgb.DMatrix(Xv, yv)
    loss = gbloss.cross_entropy(class_weight="balanced")
    result: dict = {}
    booster = xgb.train({**XGB, "objective": "binary:logistic", "base_score": 0.5,
                         "disable_default_eval_metric": 1}, dtrain, ROUNDS, obj=loss,
                        custom_metric=loss.metric, evals=[(dtrain, "train"), (dvalid, "valid")],
                        evals_result=result, verbose_eval=False)
    values = result["valid"]["cross_entropy"]
    assert len(values) == ROUNDS
    margin = booster.predict(dvalid, output_margin=True)
    expected = balanced_ce(y, yv, margin, counts_ref, class_weight_ref)
    assert values[-1] == pytest.approx(expected, rel=1e-4)
    own = balanced_ce(yv, yv, margin, counts_ref, class_weight_ref)
    assert abs(own - expected) > 1e-2 * expected  # the check can tell the two apart
    train_values = result["train"]["cross_entropy"]
    assert train_values[-1] < train_values[0]


def test_lightgbm_train_metric_uses_training_statistics(multiclass_data, counts_ref,
                                                        class_weight_ref):
    (X, y, _), (Xv, yv, _) = split(multiclass_data)
    yv = yv.copy()
    yv[: len(yv) // 2] = 2.0
    loss = gbloss.cross_entropy(class_weight="balanced")
    result: dict = {}
    params = {**LGB, "objective": loss, "metric": "None", "num_class": 3}
    train_set = lgb.Dataset(X, y)
    booster = lgb.train(params, train_set, ROUNDS, valid_sets=[lgb.Dataset(Xv, yv)],
                        valid_names=["valid"], feval=loss.metric,
                        callbacks=[lgb.record_evaluation(result)])
    # LightGBM deep-copied the objective; the original's metric saw the copy's statistics
    assert params["objective"] is loss
    values = result["valid"]["cross_entropy"]
    assert len(values) == ROUNDS
    expected = balanced_ce(y, yv, booster.predict(Xv, raw_score=True), counts_ref,
                           class_weight_ref, k=3)
    assert values[-1] == pytest.approx(expected, rel=1e-5)
    own = balanced_ce(yv, yv, booster.predict(Xv, raw_score=True), counts_ref,
                      class_weight_ref, k=3)
    assert abs(own - expected) > 1e-2 * expected


def test_xgboost_cv(binary_data):
    X, y, w = binary_data
    loss = gbloss.focal(gamma=2.0, alpha=0.25)
    res = xgb.cv({**XGB, "objective": "binary:logistic", "disable_default_eval_metric": 1,
                  "base_score": expit(loss.init_score(y, w))}, xgb.DMatrix(X, y, weight=w),
                 ROUNDS, nfold=3, obj=loss, custom_metric=loss.metric, seed=0)
    col = res["test-focal-mean"].to_numpy()
    assert len(col) == ROUNDS
    assert np.all(np.isfinite(col))
    assert col[-1] < col[0]


def test_lightgbm_cv(multiclass_data):
    X, y, w = multiclass_data
    loss = gbloss.focal(gamma=2.0, class_weight="effective")
    res = lgb.cv({**LGB, "objective": loss, "metric": "None", "num_class": 3},
                 lgb.Dataset(X, y, weight=w), ROUNDS, nfold=3, feval=loss.metric, seed=0)
    col = np.asarray(res["valid focal-mean"])
    assert len(col) == ROUNDS
    assert np.all(np.isfinite(col))
    assert col[-1] < col[0]


# -------------------------------------------------------------- 8. usage forms: sklearn
XGB_SK = {"n_estimators": ROUNDS, "max_depth": 3, "learning_rate": 0.3, "n_jobs": 1,
          "tree_method": "hist"}
LGB_SK = {"n_estimators": ROUNDS, "num_leaves": 7, "learning_rate": 0.3, "n_jobs": 1,
          "verbose": -1, "deterministic": True, "force_col_wise": True}


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*are not used")  # see the xfail below
        return fn()


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_xgb_classifier_with_sample_weights(binary_data, multiclass_data, task):
    X, y, w = binary_data if task == "binary" else multiclass_data
    y = y.astype(int)
    loss = gbloss.cross_entropy(hessian="xgboost")  # binary: the exact Hessian p(1-p)
    weighted = _quiet(lambda: xgb.XGBClassifier(objective=loss, **XGB_SK).fit(
        X, y, sample_weight=w))
    unweighted = _quiet(lambda: xgb.XGBClassifier(objective=loss, **XGB_SK).fit(X, y))
    assert np.max(np.abs(weighted.predict_proba(X) - unweighted.predict_proba(X))) > 1e-2
    # a custom objective starts from base_score 0.5 (margin 0): so must the built-in
    base = 0.5 if task == "binary" else [0.0, 0.0, 0.0]
    objective = "binary:logistic" if task == "binary" else "multi:softprob"
    builtin = xgb.XGBClassifier(objective=objective, base_score=base, **XGB_SK).fit(
        X, y, sample_weight=w)
    np.testing.assert_allclose(weighted.predict_proba(X), builtin.predict_proba(X), atol=TOL)


def test_xgb_classifier_passes_no_unknown_parameters(binary_data):
    X, y, _ = binary_data
    clf = xgb.XGBClassifier(objective=gbloss.focal(), **XGB_SK)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y.astype(int))
    assert not [str(c.message) for c in caught if "not used" in str(c.message)]
    assert not [k for k in clf.get_xgb_params() if k.startswith("objective__")]


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_lgbm_classifier_with_sample_weights(binary_data, multiclass_data, task):
    X, y, w = binary_data if task == "binary" else multiclass_data
    y = y.astype(int)
    loss = gbloss.focal(gamma=0.0, hessian="lightgbm")
    weighted = lgb.LGBMClassifier(objective=loss, **LGB_SK).fit(X, y, sample_weight=w)
    unweighted = lgb.LGBMClassifier(objective=loss, **LGB_SK).fit(X, y)
    raw_w, raw_u = weighted.predict(X, raw_score=True), unweighted.predict(X, raw_score=True)
    assert np.max(np.abs(raw_w - raw_u)) > 1e-2
    # a custom objective starts from 0: so must the built-in
    builtin = lgb.LGBMClassifier(objective="binary" if task == "binary" else "multiclass",
                                 boost_from_average=False, **LGB_SK).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(raw_w, builtin.predict(X, raw_score=True), atol=TOL)
    # the loss as the sklearn eval_metric: (name, value, is_higher_better)
    evals = {"eval_X": (X,), "eval_y": (y,)} if "eval_X" in inspect.signature(
        lgb.LGBMClassifier.fit).parameters else {"eval_set": [(X, y)]}  # lightgbm >= 4.7
    fitted = lgb.LGBMClassifier(objective=loss, **LGB_SK).fit(
        X, y, sample_weight=w, eval_sample_weight=[w], eval_names=["valid"],
        eval_metric=loss.metric, **evals)
    values = fitted.evals_result_["valid"]["focal"]
    assert values[-1] < values[0]
    assert values[-1] == pytest.approx(loss.loss(y, fitted.predict(X, raw_score=True), w),
                                       rel=1e-5)


# ---------------------------------------------------- 8. gbloss.xgboost / gbloss.lightgbm
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_gbloss_xgboost_train_predict_save_reload(binary_data, multiclass_data, task,
                                                  tmp_path):
    X, y, w = binary_data if task == "binary" else multiclass_data
    d = xgb.DMatrix(X, y, weight=w)
    params = dict(XGB) if task == "binary" else {**XGB, "num_class": 3}
    loss = gbloss.focal(gamma=2.0, class_weight="balanced")
    # with a zero learning rate the trees add nothing: predictions are the init score
    flat = gbloss.xgboost.train({**params, "eta": 0.0}, d, loss, 2)
    init = loss.init_score(y, w, n_classes=None if task == "binary" else 3)
    expected = expit(init) if task == "binary" else softmax(init)
    np.testing.assert_allclose(flat.predict(d), np.broadcast_to(expected, flat.predict(d).shape),
                               rtol=1e-6)
    booster = gbloss.xgboost.train(params, d, loss, ROUNDS)
    proba, margin = booster.predict(d), booster.predict(d, output_margin=True)
    link = expit(margin) if task == "binary" else softmax(margin, axis=1)
    np.testing.assert_allclose(proba, link, rtol=1e-5, atol=1e-7)
    for name in ("model.json", "model.ubj"):
        booster.save_model(tmp_path / name)
        back = xgb.Booster(model_file=str(tmp_path / name))
        np.testing.assert_array_equal(back.predict(d), proba)
        np.testing.assert_array_equal(back.predict(d, output_margin=True), margin)
    with pytest.raises(ValueError, match="objective"):
        gbloss.xgboost.train({**params, "objective": "binary:logistic"}, d, loss, 1)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_gbloss_lightgbm_train_predict_save_reload(binary_data, multiclass_data, task,
                                                   tmp_path):
    X, y, w = binary_data if task == "binary" else multiclass_data
    params = dict(LGB) if task == "binary" else {**LGB, "num_class": 3}
    loss = gbloss.focal(gamma=2.0, class_weight="balanced")
    init = loss.init_score(y, w, n_classes=None if task == "binary" else 3)
    init_rows = np.full(len(y), init) if task == "binary" else np.tile(init, (len(y), 1))
    # the plain form with the same init score: raw scores without the init
    plain = lgb.train({**params, "objective": copy.deepcopy(loss), "metric": "None"},
                      lgb.Dataset(X, y, weight=w, init_score=init_rows), ROUNDS)
    valid = lgb.Dataset(X[:300], y[:300], weight=w[:300])
    booster = gbloss.lightgbm.train(params, lgb.Dataset(X, y, weight=w), loss, ROUNDS,
                                    valid_sets=[valid])
    raw = booster.predict(X, raw_score=True)
    np.testing.assert_allclose(raw, plain.predict(X) + init, atol=1e-9)  # init baked in
    proba = booster.predict(X)
    link = expit(raw) if task == "binary" else softmax(raw, axis=1)
    np.testing.assert_allclose(proba, link, rtol=1e-12, atol=1e-15)
    path = tmp_path / "model.txt"
    booster.save_model(path)
    back = lgb.Booster(model_file=str(path))
    np.testing.assert_array_equal(back.predict(X), proba)
    np.testing.assert_array_equal(back.predict(X, raw_score=True), raw)
    # the validation set had the init score during training (the metric saw margins that
    # include it) and has none afterwards: the caller's Datasets are left as they were
    assert booster.best_score == {} or booster.best_score
    assert valid.get_init_score() is None
    with pytest.raises(ValueError, match="objective"):
        gbloss.lightgbm.train({**params, "objective": "binary"}, lgb.Dataset(X, y), loss, 1)


# --------------------------------------------------------------- pickling and statistics
def test_pickled_loss_trains_the_same_model(binary_data):
    X, y, w = binary_data
    d = xgb.DMatrix(X, y, weight=w)
    loss = gbloss.focal(gamma=2.0, class_weight="effective")
    first = gbloss.xgboost.train(XGB, d, loss, ROUNDS)
    blob = pickle.dumps(loss)  # after training: the label cache is not pickled
    assert b"_label_cache" not in blob
    assert len(blob) < 2000
    again = gbloss.xgboost.train(XGB, d, pickle.loads(blob), ROUNDS)
    np.testing.assert_array_equal(again.predict(d), first.predict(d))
    copied = gbloss.xgboost.train(XGB, d, copy.deepcopy(loss), ROUNDS)
    np.testing.assert_array_equal(copied.predict(d), first.predict(d))


def test_fitted_loss_keeps_global_statistics_in_training(binary_data, counts_ref,
                                                         class_weight_ref):
    """loss.fit(y_all) freezes class counts: training on a part uses the global weights."""
    X, y, _ = binary_data
    part = slice(0, 500)
    fitted = gbloss.cross_entropy(class_weight="balanced").fit(y)
    cw = class_weight_ref(counts_ref(y, 2, "binary"), "balanced")
    explicit = gbloss.cross_entropy(class_weight=cw)
    d = xgb.DMatrix(X[part], y[part])
    a = gbloss.xgboost.train(XGB, d, fitted, ROUNDS)
    b = gbloss.xgboost.train(XGB, d, explicit, ROUNDS)
    np.testing.assert_allclose(a.predict(d), b.predict(d), atol=1e-6)
    c = gbloss.xgboost.train(XGB, d, gbloss.cross_entropy(class_weight="balanced"), ROUNDS)
    assert np.max(np.abs(c.predict(d) - a.predict(d))) > 1e-3


# ------------------------------------------------------------------------------- threads
def test_kernel_threads_follow_the_booster(binary_data, monkeypatch):
    """The CPU kernels use the booster's nthread / num_threads."""
    import gbloss.losses._contract as contract

    seen: list = []
    original = contract.run_blocked

    def spy(fn, arrays, *, xp, n_threads=None):
        seen.append(n_threads)
        return original(fn, arrays, xp=xp, n_threads=n_threads)

    monkeypatch.setattr(contract, "run_blocked", spy)
    X, y, _ = binary_data
    loss = gbloss.focal()
    gbloss.xgboost.train({**XGB, "nthread": 1}, xgb.DMatrix(X, y), loss, 2)
    assert seen
    assert set(seen) == {1}
    seen.clear()
    xgb.train({**XGB, "objective": "binary:logistic", "nthread": 2},
              xgb.DMatrix(X, y, nthread=2), 2, obj=loss)
    assert seen
    assert set(seen) == {2}
    seen.clear()
    gbloss.lightgbm.train({**LGB, "num_threads": 1}, lgb.Dataset(X, y), loss, 2)
    assert seen
    assert set(seen) == {1}
    seen.clear()
    lgb.train({**LGB, "objective": loss, "metric": "None", "num_threads": 2},
              lgb.Dataset(X, y), 2)
    assert seen
    assert set(seen) == {2}
