"""Loss.predict_proba: what each loss does to the probabilities, undone.

Reference values come from outside the code under test: the minimiser of the
expected loss found by scipy from the loss written out here, the formulas of
King and Zeng (2001) and Charoenphakdee et al. (2021) typed from the papers,
empirical class frequencies, and boosters trained on data whose class
probabilities are known.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit, log_expit, logit, softmax

import gbloss
from gbloss.losses import ClassCounts
from gbloss.metrics import calibration_error

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ references
def focal_term(q, gamma):
    """f(q) = -(1 - q)^gamma log q (Lin et al. 2017)."""
    return -((1 - q) ** gamma) * np.log(q)


def focal_slope(q, gamma, qc=None, log_q=None):
    """f'(q) = gamma (1 - q)^(gamma - 1) log q - (1 - q)^gamma / q; ``qc`` and ``log_q``:
    1 - q and log q when known more accurately than from q."""
    qc = 1 - q if qc is None else qc
    log_q = np.log(q) if log_q is None else log_q
    return gamma * qc ** (gamma - 1) * log_q - qc ** gamma / q


def paper_binary(z, gamma, c0=1.0, c1=1.0):
    """Charoenphakdee et al. (2021), with class factors: eta / (1 - eta) =
    c0 f'(1 - q) / (c1 f'(q)), q = sigmoid(z) (1 - q = sigmoid(-z), no cancellation)."""
    q, qc = expit(z), expit(-z)
    a = c1 * focal_slope(q, gamma, qc, log_expit(z))
    b = c0 * focal_slope(qc, gamma, q, log_expit(-z))
    return b / (a + b)


def minimiser_binary(eta, value):
    """argmin_z eta value(1, z) + (1 - eta) value(0, z), by scipy."""
    res = optimize.minimize_scalar(lambda z: eta * value(1, z) + (1 - eta) * value(0, z),
                                   bounds=(-40, 40), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 2000})
    return res.x


def minimiser_softmax(eta, value, k):
    """argmin_z sum_t eta_t value(t, z) over centred margins, by scipy (BFGS)."""
    res = optimize.minimize(lambda z: sum(eta[t] * value(t, z) for t in range(k)),
                            np.log(eta) - np.log(eta).mean(), method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 5000})
    return res.x


def simulate(n, seed, rate_shift=-3.3):
    """Features, labels drawn from a known logistic posterior (about 7% positives), and it."""
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 4))
    eta = expit(X @ np.array([1.0, -0.8, 0.6, 0.4]) + rate_shift)
    return X, (r.random(n) < eta).astype(np.float64), eta


# ---------------------------------------------------- exact identities (no booster)
def test_class_weights_at_the_init_score_give_the_class_frequencies():
    # King and Zeng: weighting class k by c_k makes the minimiser q_k propto c_k eta_k.
    # At the constant margin that minimises the weighted loss the corrected
    # probability is the empirical class frequency.
    y = (RNG.random(2000) < 0.067).astype(float)
    w = RNG.uniform(0.5, 2.0, y.size)
    for loss in (gbloss.cross_entropy(class_weight="balanced"),
                 gbloss.cross_entropy(class_weight="effective"),
                 gbloss.cross_entropy(class_weight={1: 9.0}),
                 gbloss.focal(gamma=2.0, alpha=0.25),
                 gbloss.focal(gamma=0.5, class_weight="balanced"),
                 gbloss.focal(gamma=3.0, alpha=0.9, class_weight="effective"),
                 gbloss.ldam(), gbloss.lmf(class_weight="balanced")):
        fitted = loss.fit(y, w)
        raw = fitted.init_score(y, w)
        assert abs(fitted.transform(np.array([raw]))[0] - np.average(y, weights=w)) > 1e-3
        np.testing.assert_allclose(fitted.predict_proba(np.array([raw])),
                                   [np.average(y, weights=w)], rtol=1e-7, err_msg=repr(loss))


def test_multiclass_class_weights_at_the_init_score_give_the_class_frequencies():
    y = RNG.choice(4, size=3000, p=[0.7, 0.2, 0.07, 0.03]).astype(float)
    freq = np.bincount(y.astype(int)) / y.size
    for loss in (gbloss.cross_entropy(class_weight="balanced"),
                 gbloss.focal(gamma=2.0, alpha=[0.1, 0.2, 0.3, 0.4]),
                 gbloss.focal(gamma=1.0, class_weight="effective"),
                 gbloss.ldam(max_margin=0.5), gbloss.lmf(class_weight="balanced")):
        fitted = loss.fit(y, n_classes=4)
        raw = fitted.init_score(y, n_classes=4)
        np.testing.assert_allclose(fitted.predict_proba(raw[None, :])[0], freq, rtol=1e-6,
                                   err_msg=repr(loss))


def test_weighted_cross_entropy_is_king_and_zeng_prior_correction():
    c = np.array([0.3, 4.0])
    z = np.linspace(-20, 20, 81)
    got = gbloss.cross_entropy(class_weight=c).predict_proba(z)
    np.testing.assert_allclose(got, expit(z - np.log(c[1] / c[0])), rtol=1e-12)
    cm = np.array([0.5, 1.0, 3.0])
    zm = RNG.normal(scale=3, size=(50, 3))
    gotm = gbloss.cross_entropy(class_weight=cm).predict_proba(zm)
    ref = softmax(zm, axis=1) / cm
    np.testing.assert_allclose(gotm, ref / ref.sum(1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
def test_binary_focal_inverse_is_the_papers_formula(gamma):
    z = np.linspace(-25, 25, 201)
    np.testing.assert_allclose(gbloss.focal(gamma=gamma).predict_proba(z),
                               paper_binary(z, gamma), rtol=1e-9, atol=1e-300)
    # alpha weights the two branches: alpha for positives, 1 - alpha for negatives
    np.testing.assert_allclose(gbloss.focal(gamma=gamma, alpha=0.25).predict_proba(z),
                               paper_binary(z, gamma, c0=0.75, c1=0.25), rtol=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("eta", [1e-4, 0.01, 0.067, 0.5, 0.93, 0.9999])
def test_focal_minimiser_maps_back_to_the_posterior(gamma, eta):
    def value(t, z):
        return focal_term(expit(z if t == 1 else -z), gamma)

    zstar = minimiser_binary(eta, value)
    got = gbloss.focal(gamma=gamma).predict_proba(np.array([zstar]))[0]
    assert got == pytest.approx(eta, rel=1e-5, abs=1e-9)
    # the plain sigmoid of the focal minimiser is not the posterior (the test can fail)
    if 0.01 <= eta <= 0.93 and eta != 0.5:  # (symmetric at 1/2)
        assert abs(expit(zstar) - eta) > 0.01 * eta


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0])
def test_multiclass_focal_minimiser_maps_back_to_the_posterior(gamma):
    alpha = np.array([0.2, 0.5, 1.0, 2.0])
    for eta in (np.array([0.7, 0.2, 0.07, 0.03]), np.array([0.05, 0.05, 0.1, 0.8])):
        def value(t, z):
            return alpha[t] * focal_term(softmax(z)[t], gamma)

        zstar = minimiser_softmax(eta, value, 4)
        got = gbloss.focal(gamma=gamma, alpha=alpha).predict_proba(zstar[None, :])[0]
        np.testing.assert_allclose(got, eta, rtol=1e-5, atol=1e-8)
        # the paper's multiclass formula, eta_k propto 1 / (c_k |f'(q_k)|)
        zz = RNG.normal(scale=2, size=(20, 4))
        ref = 1 / (alpha * np.abs(focal_slope(softmax(zz, axis=1), gamma)))
        np.testing.assert_allclose(gbloss.focal(gamma=gamma, alpha=alpha).predict_proba(zz),
                                   ref / ref.sum(1, keepdims=True), rtol=1e-9)


def test_multilabel_is_the_binary_map_per_column():
    alpha = np.array([0.25, 0.5, 0.9])
    z = RNG.normal(scale=4, size=(30, 3))
    got = gbloss.focal(gamma=2.0, alpha=alpha).predict_proba(z, multilabel=True)
    for j in range(3):
        np.testing.assert_allclose(got[:, j], paper_binary(z[:, j], 2.0, 1 - alpha[j],
                                                           alpha[j]), rtol=1e-9)
    y = (RNG.random((500, 3)) < [0.05, 0.2, 0.5]).astype(float)
    fitted = gbloss.cross_entropy(class_weight="balanced").fit(y)
    raw = fitted.init_score(y)
    # fitted on multi-label labels: 2-D margins are multi-label without being told
    np.testing.assert_allclose(fitted.predict_proba(raw[None, :])[0], y.mean(0), rtol=1e-7)


@pytest.mark.parametrize("eta", [0.02, 0.2, 0.6])
def test_ldam_and_lmf_minimisers_map_back_to_the_posterior(eta):
    counts = np.array([900.0, 100.0])
    m = 0.5 * (counts.min() / counts) ** 0.25  # LDAM margins (Cao et al. 2019)
    s = 2.0

    def ldam(t, z):  # two-class form with margins (0, z)
        return -log_expit(s * (z - m[1])) if t == 1 else -log_expit(s * (-z - m[0]))

    def lmf(t, z):
        return focal_term(expit(z if t == 1 else -z), 2.0) + ldam(t, z)

    for loss, value in ((gbloss.ldam(scale=s, class_counts=counts), ldam),
                        (gbloss.lmf(scale=s, class_counts=counts), lmf)):
        zstar = minimiser_binary(eta, value)
        got = loss.predict_proba(np.array([zstar]))[0]  # class_counts given: no fit needed
        assert got == pytest.approx(eta, rel=1e-5), repr(loss)
        assert abs(expit(zstar) - eta) > 1e-3  # LDAM moves the minimiser


def test_multiclass_ldam_minimiser_maps_back_to_the_posterior():
    counts = np.array([700.0, 200.0, 70.0, 30.0])
    m = 0.5 * (counts.min() / counts) ** 0.25
    eta = np.array([0.1, 0.5, 0.3, 0.1])

    def value(t, z):
        zt = z.copy()
        zt[t] -= m[t]
        return -np.log(softmax(zt)[t])

    zstar = minimiser_softmax(eta, value, 4)
    got = gbloss.ldam(class_counts=counts).predict_proba(zstar[None, :])[0]
    np.testing.assert_allclose(got, eta, rtol=1e-5)
    assert np.max(np.abs(softmax(zstar) - eta)) > 0.01


def test_deferred_reweighting_uses_the_last_rounds_weights():
    y = (RNG.random(1000) < 0.1).astype(float)
    z = np.linspace(-8, 8, 33)
    drw = gbloss.focal(gamma=2.0, drw_start_round=10).fit(y)
    on = gbloss.focal(gamma=2.0, class_weight="effective").fit(y)
    np.testing.assert_allclose(drw.predict_proba(z), on.predict_proba(z), rtol=1e-12)
    drw_b = gbloss.cross_entropy(class_weight="balanced", drw_start_round=5).fit(y)
    np.testing.assert_allclose(drw_b.predict_proba(z),
                               gbloss.cross_entropy(class_weight="balanced").fit(y)
                               .predict_proba(z), rtol=1e-12)


def test_extreme_margins_stay_finite_and_ordered():
    big = np.finfo(np.float64).max
    for loss in (gbloss.focal(gamma=2.0), gbloss.focal(gamma=0.5, alpha=0.3),
                 gbloss.focal(gamma=1.0), gbloss.ldam(class_counts=[90, 10]),
                 gbloss.lmf(class_counts=[90, 10])):
        for dtype in (np.float64, np.float32):
            top = np.finfo(dtype).max
            z = np.array([-top, -1e4, -800, -40, -1, 0, 1, 40, 800, 1e4, top], dtype=dtype)
            with np.errstate(all="raise", under="ignore"):
                p = loss.predict_proba(z)
            assert np.all(np.isfinite(p)), repr(loss)
            assert np.all((p >= 0) & (p <= 1)), repr(loss)
            assert np.all(np.diff(p) >= 0), repr(loss)
            assert p[0] < 1e-30
            assert p[-1] == 1.0
    zm = np.array([[big, 0, -big], [1e4, -1e4, 0], [800, 0, -800], [0, 0, 0],
                   [-big, -big, -big]])
    for loss in (gbloss.focal(gamma=2.0), gbloss.focal(gamma=0.5),
                 gbloss.ldam(class_counts=[80, 15, 5])):
        p = loss.predict_proba(zm)
        assert np.all(np.isfinite(p)), repr(loss)
        np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
        if isinstance(loss, gbloss.FocalLoss):  # (LDAM's margins move equal margins)
            np.testing.assert_allclose(p[3], 1 / 3, rtol=1e-9)


def test_dice_and_pel_keep_the_plain_link():
    z = np.linspace(-5, 5, 11)
    for loss in (gbloss.dice(), gbloss.pel()):
        np.testing.assert_allclose(loss.predict_proba(z), expit(z), rtol=1e-15)


# -------------------------------------------------------------------------- priors
def test_prior_shift_binary_multiclass_multilabel():
    y = (RNG.random(4000) < 0.08).astype(float)
    loss = gbloss.focal(gamma=2.0).fit(y)
    pi = y.mean()
    assert loss.statistics_.class_prior() == pytest.approx([1 - pi, pi])
    z = np.linspace(-6, 6, 25)
    eta = loss.predict_proba(z)
    np.testing.assert_allclose(loss.predict_proba(z, prior="uniform"),
                               expit(logit(eta) - logit(pi)), rtol=1e-10)
    np.testing.assert_allclose(loss.predict_proba(z, prior=[0.7, 0.3]),
                               expit(logit(eta) - logit(pi) + logit(0.3)), rtol=1e-10)
    np.testing.assert_allclose(loss.predict_proba(z, prior=[1 - pi, pi]), eta, rtol=1e-10)

    y3 = RNG.choice(3, size=3000, p=[0.75, 0.2, 0.05]).astype(float)
    loss3 = gbloss.cross_entropy(class_weight="balanced").fit(y3)
    freq = np.bincount(y3.astype(int)) / y3.size
    zm = RNG.normal(size=(40, 3))
    eta3 = loss3.predict_proba(zm)
    new = np.array([2.0, 1.0, 1.0])  # unnormalised: normalised by predict_proba
    ref = eta3 * (new / new.sum()) / freq
    np.testing.assert_allclose(loss3.predict_proba(zm, prior=new),
                               ref / ref.sum(1, keepdims=True), rtol=1e-10)
    ref = eta3 / freq
    np.testing.assert_allclose(loss3.predict_proba(zm, prior="uniform"),
                               ref / ref.sum(1, keepdims=True), rtol=1e-10)
    # the weighted model read under a uniform prior is its plain softmax with the
    # balanced weights: the weights and the prior shift cancel
    np.testing.assert_allclose(loss3.predict_proba(zm, prior="uniform"), softmax(zm, axis=1),
                               rtol=1e-9)

    yl = (RNG.random((2000, 2)) < [0.1, 0.4]).astype(float)
    lossl = gbloss.focal(gamma=1.0).fit(yl)
    zl = RNG.normal(size=(20, 2))
    etal = lossl.predict_proba(zl)
    rates = yl.mean(0)
    got = lossl.predict_proba(zl, prior=[0.5, 0.5])
    np.testing.assert_allclose(got, expit(logit(etal) - logit(rates)), rtol=1e-10)
    np.testing.assert_allclose(lossl.predict_proba(zl, prior="uniform"), got, rtol=1e-12)


def test_errors_say_what_to_do():
    z = np.zeros(5)
    with pytest.raises(ValueError, match=r"loss = loss\.fit\(y_train\)"):
        gbloss.cross_entropy(class_weight="balanced").predict_proba(z)
    with pytest.raises(ValueError, match=r"loss\.fit"):
        gbloss.focal(drw_start_round=3).predict_proba(z)
    with pytest.raises(ValueError, match=r"loss\.fit"):
        gbloss.focal().predict_proba(z, prior="uniform")
    with pytest.raises(ValueError, match=r"loss\.fit"):
        gbloss.ldam().predict_proba(z)
    with pytest.raises(ValueError, match="regression loss"):
        gbloss.acb_mse().predict_proba(z)
    fitted = gbloss.focal().fit(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="prior must be"):
        fitted.predict_proba(z, prior="balanced")
    with pytest.raises(ValueError, match="shape"):
        fitted.predict_proba(z, prior=[0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        fitted.predict_proba(z, prior=[-0.2, 1.2])
    with pytest.raises(ValueError, match="fitted on binary"):
        fitted.predict_proba(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="3 classes"):
        gbloss.focal(n_classes=3).predict_proba(np.zeros((5, 4)))
    # needing nothing fitted: explicit weights, alpha, plain focal
    assert gbloss.focal(alpha=0.25, class_weight=[1.0, 3.0]).predict_proba(z).shape == (5,)


def test_class_counts_class_prior():
    stats = ClassCounts("multilabel", 2, np.array([[3.0, 1.0], [0.0, 0.0]]))
    np.testing.assert_allclose(stats.class_prior(), [[0.75, 0.25], [0.5, 0.5]])


# ------------------------------------------------------ boosters on known posteriors
XGB_PARAMS = {"max_depth": 2, "eta": 0.3, "nthread": 1, "verbosity": 0, "tree_method": "hist"}


@pytest.fixture(scope="module")
def binary_data():
    xgb = pytest.importorskip("xgboost")
    # The ratio of two small ECEs is noisy. A weighted loss sees fewer effective rows (Kish:
    # about a quarter with balanced weights at 7% positives), so its corrected estimates are
    # unbiased but noisier. Measured on 20,000 test rows, seeds 0-2, xgboost 3.2 and 3.4:
    # ratios 0.8-1.4, except 2.6 once (focal, 3.2, seed 1: the log-loss's ECE fell to 0.0017).
    # The data here are seed 0's (ratios 0.8-1.4 on both versions).
    X, y, _ = simulate(80_000, seed=0)
    Xt, yt, _ = simulate(20_000, seed=99)
    dtrain, dtest = xgb.DMatrix(X, label=y), xgb.DMatrix(Xt)
    base = xgb.train({**XGB_PARAMS, "objective": "binary:logistic"}, dtrain, 100)
    return dtrain, dtest, y, yt, calibration_error(yt, base.predict(dtest))


@pytest.mark.parametrize("loss", [
    gbloss.cross_entropy(class_weight="balanced"),
    gbloss.focal(gamma=2.0),
    gbloss.focal(gamma=2.0, alpha=0.25),
    gbloss.cross_entropy(class_weight="effective"),
    gbloss.cross_entropy(class_weight="balanced", drw_start_round=30),
], ids=repr)
def test_xgboost_probabilities_are_as_calibrated_as_the_log_loss(binary_data, loss):
    dtrain, dtest, y, yt, base_ece = binary_data
    fitted = loss.fit(y)
    booster = gbloss.xgboost.train(XGB_PARAMS, dtrain, fitted, 100)
    raw = booster.predict(dtest, output_margin=True)
    ece = calibration_error(yt, fitted.predict_proba(raw))
    assert ece < 1.5 * base_ece, (ece, base_ece)
    assert calibration_error(yt, fitted.transform(raw)) > 5 * base_ece  # the test can fail


def test_lightgbm_raw_scores_give_calibrated_probabilities():
    lgb = pytest.importorskip("lightgbm")
    X, y, _ = simulate(30_000, seed=0)
    Xt, yt, _ = simulate(100_000, seed=99)
    params = {"num_leaves": 4, "learning_rate": 0.3, "num_threads": 1, "verbose": -1}
    base = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, y), 100)
    base_ece = calibration_error(yt, base.predict(Xt))
    loss = gbloss.cross_entropy(class_weight="balanced").fit(y)
    booster = gbloss.lightgbm.train(params, lgb.Dataset(X, y), loss, 100)
    raw = booster.predict(Xt, raw_score=True)
    assert calibration_error(yt, loss.predict_proba(raw)) < 1.5 * base_ece
    assert calibration_error(yt, booster.predict(Xt)) > 5 * base_ece


def _multiclass_data(n, seed):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 3))
    logits = X @ np.array([[0.0, 1.0, -1.0], [0.0, -0.7, 0.8], [0.0, 0.5, 0.6]]) + [0, -1.5, -3]
    eta = softmax(logits, axis=1)
    y = (r.random(n)[:, None] > np.cumsum(eta, 1)).sum(1).astype(float)
    return X, y


def test_xgboost_multiclass_probabilities_are_calibrated():
    xgb = pytest.importorskip("xgboost")
    # (class weights and focusing cost the booster statistical efficiency: with 20 000
    # rows their corrected probabilities had 1.7x the built-in's ECE, with 80 000 1.0x)
    X, y = _multiclass_data(60_000, 0)
    Xt, yt = _multiclass_data(60_000, 1)
    params = {**XGB_PARAMS, "num_class": 3}
    dtrain, dtest = xgb.DMatrix(X, label=y), xgb.DMatrix(Xt)
    base = xgb.train({**params, "objective": "multi:softprob"}, dtrain, 60)
    base_ece = calibration_error(yt, base.predict(dtest))
    for loss in (gbloss.cross_entropy(class_weight="balanced"), gbloss.focal(gamma=2.0)):
        fitted = loss.fit(y, n_classes=3)
        booster = gbloss.xgboost.train(params, dtrain, fitted, 60)
        raw = booster.predict(dtest, output_margin=True)
        ece = calibration_error(yt, fitted.predict_proba(raw))
        assert ece < 1.5 * base_ece, (loss, ece, base_ece)
        assert calibration_error(yt, fitted.transform(raw)) > 3 * base_ece


def test_xgboost_multilabel_probabilities_are_calibrated():
    xgb = pytest.importorskip("xgboost")
    X, y1, _ = simulate(20_000, seed=0)
    _, y2, _ = simulate(20_000, seed=0, rate_shift=-1.0)
    Xt, yt1, _ = simulate(60_000, seed=5)
    _, yt2, _ = simulate(60_000, seed=5, rate_shift=-1.0)
    y, yt = np.stack([y1, y2], 1), np.stack([yt1, yt2], 1)
    dtrain, dtest = xgb.DMatrix(X, label=y), xgb.DMatrix(Xt)
    base = xgb.train({**XGB_PARAMS, "objective": "binary:logistic"}, dtrain, 60)
    base_ece = calibration_error(yt, base.predict(dtest))
    loss = gbloss.focal(gamma=2.0, class_weight="balanced").fit(y)
    raw = gbloss.xgboost.train(XGB_PARAMS, dtrain, loss, 60).predict(dtest, output_margin=True)
    assert calibration_error(yt, loss.predict_proba(raw)) < 1.5 * base_ece
    assert calibration_error(yt, loss.transform(raw)) > 5 * base_ece


# ------------------------------------------------------------------ the estimators
def test_estimator_probabilities_and_scikit_learn_calibration_tools():
    pytest.importorskip("xgboost")
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import TunedThresholdClassifierCV

    from gbloss.sklearn import GBLossClassifier

    X, y, _ = simulate(6000, seed=3)
    Xv, yv, _ = simulate(6000, seed=4)
    clf = GBLossClassifier(gbloss.focal(gamma=2.0, class_weight="balanced"), n_estimators=40,
                           learning_rate=0.3, max_depth=2, n_jobs=1, random_state=0).fit(X, y)
    raw = clf.decision_function(Xv)
    proba = clf.predict_proba(Xv)
    np.testing.assert_allclose(proba[:, 1], clf.loss_.predict_proba(raw), rtol=1e-12)
    assert not np.allclose(proba[:, 1], expit(raw), rtol=0.05)  # corrected, not the link
    np.testing.assert_array_equal(clf.predict(Xv), clf.classes_[np.argmax(proba, 1)])
    assert calibration_error(yv, proba[:, 1]) < 0.02 < calibration_error(yv, expit(raw))

    calibrated = CalibratedClassifierCV(FrozenEstimator(clf), method="isotonic").fit(Xv, yv)
    assert calibrated.predict_proba(Xv).shape == (yv.size, 2)
    tuned = TunedThresholdClassifierCV(clf, scoring="balanced_accuracy", cv=2,
                                       random_state=0).fit(Xv, yv)
    assert 0.0 < tuned.best_threshold_ < 1.0
    assert set(np.unique(tuned.predict(Xv))) <= {0.0, 1.0}


# ------------------------------------------------ every classification loss, swept
def _classification_variants():
    from _losses import loss_classes, variants

    from gbloss._core.labels import REGRESSION

    return [(name, loss) for cls in loss_classes() for name, loss in variants(cls)
            if cls._tasks != (REGRESSION,)]


@pytest.mark.parametrize("loss", [v[1] for v in _classification_variants()],
                         ids=[v[0] for v in _classification_variants()])
def test_every_classification_loss_maps_its_init_score_to_the_class_frequencies(loss):
    # the init score minimises the loss over constant margins, so an exact map gives back the
    # (weighted) class frequencies; at extreme margins every map stays a distribution
    from gbloss._core.labels import MULTICLASS, MULTILABEL

    w = RNG.uniform(0.5, 2.0, 600)
    top = np.finfo(np.float64).max
    cases = [((RNG.random(600) < 0.1).astype(float), None)]
    if MULTICLASS in loss._tasks:
        cases.append((RNG.choice(3, size=600, p=[0.7, 0.2, 0.1]).astype(float), 3))
    if MULTILABEL in loss._tasks:
        cases.append(((RNG.random((600, 2)) < [0.1, 0.4]).astype(float), None))
    for y, k in cases:
        fitted = loss.fit(y, w, n_classes=k)
        init = np.atleast_1d(fitted.init_score(y, w, n_classes=k))
        if y.ndim == 1 and k is None:
            freq = np.array([np.average(y, weights=w)])
            extreme = np.array([-top, -1e4, -50.0, 0.0, 50.0, 1e4, top])
        elif k is not None:
            freq = np.bincount(y.astype(int), weights=w) / w.sum()
            extreme = np.array([[top, 0, -top], [1e4, -1e4, 0], [0, 0, 0], [-50, 50, 0]])
        else:
            freq = np.average(y, axis=0, weights=w)
            extreme = np.array([[top, -top], [-1e4, 1e4], [0.0, 0.0]])
        raw = init if y.ndim == 1 and k is None else init[None, :]
        got = np.ravel(fitted.predict_proba(raw))
        np.testing.assert_allclose(got, freq, rtol=1e-6, err_msg=repr(loss))
        p = fitted.predict_proba(extreme)
        assert np.all(np.isfinite(p)), repr(loss)
        assert np.all((p >= 0) & (p <= 1)), repr(loss)
        if k is not None:
            np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
        elif y.ndim == 1:
            assert np.all(np.diff(p) >= 0), repr(loss)


def test_the_adapters_hand_back_the_fitted_loss():
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    import pickle

    X, y, _ = simulate(2000, seed=7)
    loss = gbloss.cross_entropy(class_weight="balanced")  # not fitted
    booster = gbloss.xgboost.train({"nthread": 1}, xgb.DMatrix(X, y), loss, 5)
    margins = booster.predict(xgb.DMatrix(X), output_margin=True)
    with pytest.raises(ValueError, match=r"booster\.fitted_loss"):
        loss.predict_proba(margins)
    expect = loss.fit(y).predict_proba(margins)
    np.testing.assert_allclose(booster.fitted_loss.predict_proba(margins), expect, rtol=1e-12)
    again = pickle.loads(pickle.dumps(booster))
    np.testing.assert_allclose(again.fitted_loss.predict_proba(margins), expect, rtol=1e-12)
    lbooster = gbloss.lightgbm.train({"num_threads": 1, "verbose": -1}, lgb.Dataset(X, y),
                                     loss, 5)
    raw = lbooster.predict(X, raw_score=True)
    np.testing.assert_allclose(lbooster.fitted_loss.predict_proba(raw),
                               loss.fit(y).predict_proba(raw), rtol=1e-12)
