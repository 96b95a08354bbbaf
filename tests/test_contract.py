"""The Loss contract of issue 2: init score, input checks, API forms, pickling, caches.

Expected init scores come from scipy minimising the torch reference loss
(``conftest.py``) over constants, never from gbloss.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit, softmax
from sklearn.base import clone

import gbloss

EPS = np.finfo(np.float64).eps


# ------------------------------------------------------------------------- 5. init score
def binary_objective(ref, y, w, gamma, c0, c1):
    yt = ref.tensor(y)
    wt = np.ones(y.shape[0]) if w is None else w

    def f(c):
        return float(np.sum(wt * ref.rows(
            lambda zz: ref.binary_rows(yt, zz, gamma, ref.tensor(c0), ref.tensor(c1)),
            np.full(y.shape[0], c))))

    def fprime(c):
        _, g, _ = ref.value_grad_hess(
            lambda zz: ref.binary_rows(yt, zz, gamma, ref.tensor(c0), ref.tensor(c1)),
            np.full(y.shape[0], c), w)
        return float(np.sum(g))

    return f, fprime


def argmin_1d(f):
    res = optimize.minimize_scalar(f, bracket=(0.0, 1.0), method="brent",
                                   options={"xtol": 1e-12})
    return res.x


BINARY_INIT_CASES = [
    (0.0, None, None), (2.0, None, None), (0.5, 0.25, None), (5.0, None, "balanced"),
    (2.0, 0.25, "effective"), (1.0, [0.3, 0.9], {1: 3.0}), (0.0, None, [1.0, 7.0]),
]


@pytest.mark.parametrize(("gamma", "alpha", "cw"), BINARY_INIT_CASES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("soft", [False, True])
def test_binary_init_score_is_argmin(ref, rng, gamma, alpha, cw, weighted, soft, factors_ref):
    n = 400
    y = rng.random(n) if soft else (rng.random(n) < 0.15).astype(float)
    w = rng.uniform(0.2, 4.0, n) if weighted else None
    loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=cw)
    init = loss.init_score(y, w)
    assert isinstance(init, float)
    c0, c1 = factors_ref("binary", 2, alpha, cw, y, w)
    f, fprime = binary_objective(ref, y, w, gamma, c0, c1)
    best = argmin_1d(f)
    assert init == pytest.approx(best, abs=1e-6)
    scale = np.sum(np.ones(n) if w is None else w) * max(float(c0), float(c1))
    assert abs(fprime(init)) <= 1e-9 * scale  # a stationary point of the loss
    assert f(init) <= f(best) * (1 + 1e-13)
    if gamma == 0 and alpha is None and cw is None:  # closed form: the weighted log-odds
        ww = np.ones(n) if w is None else w
        assert init == pytest.approx(np.log(np.sum(ww * y) / np.sum(ww * (1 - y))), abs=1e-12)


MULTICLASS_INIT_CASES = [
    (0.0, None, None), (2.0, None, None), (0.5, [0.1, 0.2, 0.3, 0.4], None),
    (2.0, None, "balanced"), (5.0, 0.5, "effective"), (1.0, None, {3: 5.0}),
]


@pytest.mark.parametrize(("gamma", "alpha", "cw"), MULTICLASS_INIT_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_init_score_is_centred_argmin(ref, rng, gamma, alpha, cw, weighted,
                                                 factors_ref):
    k, n = 4, 500
    y = rng.choice(k, size=n, p=[0.6, 0.25, 0.1, 0.05]).astype(float)
    w = rng.uniform(0.2, 4.0, n) if weighted else None
    loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=cw)
    init = loss.init_score(y, w, n_classes=k)
    assert init.shape == (k,)
    assert init.dtype == np.float64
    assert abs(init.sum()) <= 1e-12 * np.max(np.abs(init))
    c = factors_ref("multiclass", k, alpha, cw, y, w)
    t = ref.torch.as_tensor(y.astype(np.int64))
    ct = ref.tensor(c)

    def fun(v):
        values, grad, _ = ref.value_grad_hess(
            lambda zz: ref.multiclass_rows(t, zz, gamma, ct), np.tile(v, (n, 1)), w)
        ww = np.ones(n) if w is None else w
        return float(np.sum(ww * values)), grad.sum(axis=0)

    res = optimize.minimize(fun, np.zeros(k), jac=True, method="BFGS",
                            options={"gtol": 1e-11, "maxiter": 1000})
    best = res.x - res.x.mean()
    np.testing.assert_allclose(init, best, atol=1e-6)
    scale = np.sum(np.ones(n) if w is None else w) * c.max()
    assert np.max(np.abs(fun(init)[1])) <= 1e-8 * scale  # a stationary point
    if gamma == 0:  # closed form: centred log of the class-weighted frequencies
        ww = np.ones(n) if w is None else w
        freq = np.array([np.sum(ww[y == j]) for j in range(k)]) * c
        expected = np.log(freq) - np.log(freq).mean()
        np.testing.assert_allclose(init, expected, atol=1e-12)


@pytest.mark.parametrize(("gamma", "alpha", "cw"), [(0.0, None, None), (2.0, 0.25, "balanced"),
                                            (1.0, [0.2, 0.5, 0.8], None)])
def test_multilabel_init_score_is_columnwise_argmin(ref, rng, gamma, alpha, cw, factors_ref):
    k, n = 3, 400
    y = (rng.random((n, k)) < np.array([0.5, 0.2, 0.05])).astype(float)
    w = rng.uniform(0.2, 4.0, n)
    loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=cw)
    init = loss.init_score(y, w)
    assert init.shape == (k,)
    c0, c1 = factors_ref("multilabel", k, alpha, cw, y, w)
    for j in range(k):
        f, _ = binary_objective(ref, y[:, j], w, gamma, c0[j], c1[j])
        assert init[j] == pytest.approx(argmin_1d(f), abs=1e-6)


def test_init_score_when_a_class_is_absent():
    """Absent classes get probability eps (float64 machine epsilon): finite scores."""
    for y, sign in ((np.zeros(50), -1), (np.ones(50), 1)):
        for loss in (gbloss.cross_entropy(), gbloss.focal(gamma=2.0, alpha=0.25),
                     gbloss.focal(class_weight="balanced")):
            init = loss.init_score(y)
            assert np.isfinite(init)
            assert np.sign(init) == sign
            assert expit(-sign * init) == pytest.approx(EPS, rel=1e-6)
    y = np.array([0, 0, 0, 1, 1, 3, 3, 3, 3], dtype=float)  # class 2 absent
    for loss in (gbloss.cross_entropy(), gbloss.focal(gamma=2.0),
                 gbloss.focal(class_weight="balanced")):
        init = loss.init_score(y, n_classes=5)  # class 4 absent too
        assert init.shape == (5,)
        assert np.all(np.isfinite(init))
        assert abs(init.sum()) < 1e-12 * np.max(np.abs(init))
        p = softmax(init)
        np.testing.assert_allclose(p[[2, 4]], EPS, rtol=1e-6)
    p = softmax(gbloss.cross_entropy().init_score(y, n_classes=5))
    np.testing.assert_allclose(p[[0, 1, 3]], np.array([3, 2, 4]) / 9, rtol=1e-12)
    ym = np.zeros((20, 3))
    ym[:5, 0] = 1
    init = gbloss.focal(gamma=2.0).init_score(ym)
    assert np.all(np.isfinite(init))
    assert init[1] == init[2] < -30


def test_init_score_shapes_and_task_inference():
    y = np.array([0, 1, 1, 0, 1], dtype=np.float32)
    assert isinstance(gbloss.cross_entropy().init_score(y), float)
    two = gbloss.cross_entropy().init_score(y, n_classes=2)  # softmax over 2 classes
    assert two.shape == (2,)
    assert two[1] - two[0] == pytest.approx(np.log(3 / 2))
    three = gbloss.cross_entropy(n_classes=3).init_score(y)
    assert three.shape == (3,)
    assert np.all(np.isfinite(three))
    assert gbloss.cross_entropy().init_score(np.array([0, 2, 1, 2.0])).shape == (3,)


# --------------------------------------------------------------------------- 6. bad input
BAD_INPUTS = [
    ("binary labels outside [0, 1]", np.array([0.0, 1.2, 0.0]), np.zeros(3), None,
     r"\[0, 1\]"),
    ("negative binary label", np.array([0.0, -0.1, 0.0]), np.zeros(3), None, r"\[0, 1\]"),
    ("multiclass label not an integer", np.array([0.0, 1.5, 2.0]), np.zeros((3, 3)), None,
     "integers"),
    ("multiclass label out of range", np.array([0.0, 3.0, 2.0]), np.zeros((3, 3)), None,
     r"\[0, 3\)"),
    ("negative multiclass label", np.array([0.0, -1.0, 2.0]), np.zeros((3, 3)), None,
     "integers"),
    ("NaN label", np.array([0.0, np.nan, 1.0]), np.zeros(3), None, "NaN"),
    ("NaN multiclass label", np.array([0.0, np.nan, 1.0]), np.zeros((3, 3)), None, "NaN"),
    ("multi-label outside [0, 1]", np.array([[0.0, 2.0], [1.0, 0.0]]), np.zeros((2, 2)), None,
     r"\[0, 1\]"),
    ("rows do not match", np.array([0.0, 1.0]), np.zeros(3), None, "rows"),
    ("multi-label shape mismatch", np.zeros((3, 2)), np.zeros((3, 3)), None, "shape"),
    ("2-D labels with 1-D margins", np.zeros((3, 2)), np.zeros(3), None, "1-D"),
    ("3-D margins", np.zeros(3), np.zeros((3, 2, 2)), None, "1-D or 2-D"),
    ("NaN margin", np.array([0.0, 1.0, 0.0]), np.array([0.0, np.nan, 1.0]), None, "NaN"),
    ("infinite margin", np.array([0.0, 1.0, 0.0]), np.array([0.0, np.inf, 1.0]), None,
     "infinite"),
    ("negative weight", np.array([0.0, 1.0, 0.0]), np.zeros(3), np.array([1.0, -1.0, 1.0]),
     "negative"),
    ("NaN weight", np.array([0.0, 1.0, 0.0]), np.zeros(3), np.array([1.0, np.nan, 1.0]),
     "NaN"),
    ("weight length", np.array([0.0, 1.0, 0.0]), np.zeros(3), np.ones(2), "sample_weight"),
]


@pytest.mark.parametrize(("what", "y", "z", "w", "match"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
@pytest.mark.parametrize("method", ["gradient_hessian", "loss"])
def test_bad_input_raises_value_error(what, y, z, w, match, method):
    for loss in (gbloss.focal(), gbloss.cross_entropy(class_weight="balanced")):
        with pytest.raises(ValueError, match=match):
            getattr(loss, method)(y, z, w)


BAD_PARAMS = [
    (gbloss.focal, {"gamma": -0.5}, "gamma"),
    (gbloss.focal, {"gamma": float("nan")}, "gamma"),
    (gbloss.focal, {"gamma": "2"}, "gamma"),
    (gbloss.focal, {"alpha": 1.5}, "alpha"),
    (gbloss.focal, {"alpha": -0.1}, "alpha"),
    (gbloss.focal, {"alpha": [[0.1, 0.2]]}, "alpha"),
    (gbloss.focal, {"hessian": "newton"}, "hessian"),
    (gbloss.cross_entropy, {"hessian": "Auto"}, "hessian"),
    (gbloss.focal, {"class_weight": "balance"}, "class_weight"),
    (gbloss.cross_entropy, {"class_weight": "inverse"}, "class_weight"),
    (gbloss.cross_entropy, {"class_weight": [1.0, -2.0]}, "class_weight"),
    (gbloss.cross_entropy, {"class_weight": [1.0, np.nan]}, "class_weight"),
    (gbloss.cross_entropy, {"n_classes": 1}, "n_classes"),
    (gbloss.cross_entropy, {"n_classes": 2.5}, "n_classes"),
]


@pytest.mark.parametrize(("factory", "params", "match"), BAD_PARAMS,
                         ids=[f"{f.__name__}-{p}" for f, p, _ in BAD_PARAMS])
def test_bad_parameters_raise_value_error(factory, params, match):
    with pytest.raises(ValueError, match=match):
        factory(**params)


def test_set_params_validates():
    loss = gbloss.focal()
    with pytest.raises(ValueError, match="gamma"):
        loss.set_params(gamma=-1.0)
    with pytest.raises(ValueError, match="hessian"):
        gbloss.focal().set_params(hessian="exactly")


def test_parameters_that_do_not_fit_the_data():
    y3, z3 = np.array([0.0, 1.0, 2.0]), np.zeros((3, 3))
    with pytest.raises(ValueError, match="alpha"):
        gbloss.focal(alpha=[0.2, 0.3]).gradient_hessian(y3, z3)
    with pytest.raises(ValueError, match="class_weight"):
        gbloss.cross_entropy(class_weight=[1.0, 2.0]).gradient_hessian(y3, z3)
    with pytest.raises(ValueError, match="class_weight"):
        gbloss.cross_entropy(class_weight={5: 2.0}).gradient_hessian(y3, z3)
    with pytest.raises(ValueError, match="n_classes"):
        gbloss.cross_entropy(n_classes=4).gradient_hessian(y3, z3)
    with pytest.raises(ValueError, match="class_weight"):
        gbloss.cross_entropy(class_weight=np.ones((2, 2))).gradient_hessian(
            np.zeros((3, 3)), z3)


# ---------------------------------------------------------------------- API and objects
def test_transform(rng):
    z = np.array([-1e4, -30.0, 0.0, 2.0, 1e4], dtype=np.float32)
    loss = gbloss.focal()
    p = loss.transform(z)
    assert p.dtype == np.float32
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, expit(z.astype(np.float64)), rtol=1e-6, atol=1e-45)
    zm = rng.normal(size=(20, 4)) * 1e3
    np.testing.assert_allclose(loss.transform(zm), softmax(zm, axis=1), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(loss.transform(zm, multilabel=True), expit(zm), rtol=1e-12,
                               atol=1e-300)


def test_integer_margins_become_float64():
    g, h = gbloss.focal().gradient_hessian(np.array([0, 1, 1]), np.array([0, 1, -2]))
    assert g.dtype == np.float64
    assert h.dtype == np.float64


def test_objective_and_metric_call_forms(rng):
    """The sklearn call forms of both boosters give the same numbers as the methods."""
    y = (rng.random(200) < 0.3).astype(np.float64)
    z = rng.normal(size=200)
    w = rng.uniform(0.5, 2, 200)
    loss = gbloss.focal(gamma=2.0, class_weight="balanced")
    g, h = loss.gradient_hessian(y, z, w)
    gx, hx = loss(y, z, sample_weight=w)  # XGBoost sklearn: obj(y_true, y_pred, sample_weight)
    np.testing.assert_array_equal(gx, g)
    np.testing.assert_array_equal(hx, h)
    gl, hl = loss(y, z, w, None)  # LightGBM sklearn: obj(y_true, y_pred, weight, group)
    g32, h32 = loss.gradient_hessian(y, z.astype(np.float32), w)
    np.testing.assert_array_equal(gl, g32)
    np.testing.assert_array_equal(hl, h32)
    value = loss.loss(y, z, w)
    assert loss.metric(y, z, sample_weight=w) == value
    name, v, higher_better = loss.metric(y, z, w, None)
    assert (name, v, higher_better) == ("focal", value, False)
    assert gbloss.cross_entropy().metric.__name__ == "cross_entropy"


def test_params_clone_and_set_params():
    loss = gbloss.focal(gamma=1.5, alpha=0.3, class_weight="effective", hessian="exact")
    params = loss.params
    assert {k: params[k] for k in ("gamma", "alpha", "class_weight", "hessian")} == {
        "gamma": 1.5, "alpha": 0.3, "class_weight": "effective", "hessian": "exact"}
    twin = clone(loss)
    assert twin is not loss
    assert twin.params == params
    loss.set_params(gamma=0.0)
    assert loss.gamma == 0.0
    assert twin.gamma == 1.5
    with pytest.raises(ValueError, match="invalid parameter"):
        loss.set_params(gama=1.0)
    assert repr(gbloss.focal(gamma=1.5)) == "FocalLoss(gamma=1.5)"


def test_pickle_keeps_parameters_only_and_changes_nothing(rng):
    y = (rng.random(5000) < 0.2).astype(float)
    z = rng.normal(size=5000)
    loss = gbloss.focal(gamma=2.0, class_weight="balanced")
    g, h = loss.gradient_hessian(y, z)
    before = dict(loss.__dict__)
    blob = pickle.dumps(loss)
    assert loss.__dict__ == before
    assert len(blob) < 2000  # parameters only: no labels, no statistics
    back = pickle.loads(blob)
    assert back.params == loss.params
    assert back.statistics_ is None
    g2, h2 = back.gradient_hessian(y, z)
    np.testing.assert_array_equal(g2, g)
    np.testing.assert_array_equal(h2, h)
    metric = pickle.loads(pickle.dumps(loss.metric))
    assert metric(y, z) == loss.loss(y, z)


def test_deepcopy_behaves_the_same(rng):
    y = (rng.random(300) < 0.2).astype(float)
    z = rng.normal(size=300)
    loss = gbloss.focal(gamma=2.0, class_weight="balanced")
    twin = copy.deepcopy(loss)
    for a, b in zip(twin.gradient_hessian(y, z), loss.gradient_hessian(y, z), strict=True):
        np.testing.assert_array_equal(a, b)
    fitted = loss.fit(y)
    twin = copy.deepcopy(fitted)
    np.testing.assert_array_equal(twin.statistics_.counts, fitted.statistics_.counts)


def test_direct_calls_use_the_statistics_of_their_labels(rng, counts_ref, class_weight_ref):
    """A loss is its parameters: calls on some labels do not change what later calls compute."""
    y = (rng.random(400) < 0.1).astype(float)  # training: 10% positives
    z = rng.normal(size=400)
    yv = (rng.random(300) < 0.5).astype(float)  # validation: 50% positives
    zv = rng.normal(size=300)
    loss = gbloss.cross_entropy(class_weight="balanced")
    ce = -(yv * np.log(expit(zv)) + (1 - yv) * np.log(expit(-zv)))
    own = class_weight_ref(counts_ref(yv, 2, "binary"), "balanced")
    before = loss.loss(yv, zv)
    loss.gradient_hessian(y, z)
    assert loss.loss(yv, zv) == before == pytest.approx(np.mean(own[yv.astype(int)] * ce),
                                                        rel=1e-12)
    # fitted on the training labels, the validation loss uses their statistics
    cw = class_weight_ref(counts_ref(y, 2, "binary"), "balanced")
    assert loss.fit(y).loss(yv, zv) == pytest.approx(np.mean(cw[yv.astype(int)] * ce),
                                                     rel=1e-12)


def test_fit_freezes_statistics(rng, counts_ref, class_weight_ref):
    y_all = rng.choice(3, size=600, p=[0.7, 0.2, 0.1]).astype(float)
    part = y_all[:150]
    z = rng.normal(size=(150, 3))
    loss = gbloss.cross_entropy(class_weight="balanced", hessian="exact")
    fitted = loss.fit(y_all, n_classes=3)
    assert fitted is not loss
    assert loss.statistics_ is None
    cw = class_weight_ref(counts_ref(y_all, 3, "multiclass"), "balanced")
    p = softmax(z, axis=1)
    expected_grad = cw[part.astype(int)][:, None] * (p - np.eye(3)[part.astype(int)])
    g, _ = fitted.gradient_hessian(part, z)
    np.testing.assert_allclose(g, expected_grad, rtol=1e-12, atol=1e-15)
    # the unfitted loss uses the part's own counts: a different gradient
    g_part, _ = loss.gradient_hessian(part, z)
    assert not np.allclose(g_part, g)
    # frozen statistics survive pickling and drive init_score and validation losses
    back = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(back.gradient_hessian(part, z)[0], g)
    counts = np.bincount(y_all.astype(int), minlength=3)
    init_part = back.init_score(part, n_classes=3)
    freq = np.bincount(part.astype(int), minlength=3) * cw
    np.testing.assert_allclose(init_part, np.log(freq) - np.log(freq).mean(), atol=1e-12)
    assert counts.sum() == 600


def test_label_cache_tells_different_labels_apart(rng):
    """Labels of the same shape and sum must not share cached validation results."""
    z = rng.normal(size=1000)
    y1 = (rng.random(1000) < 0.3).astype(float)
    y2 = y1.copy()
    i, j = np.nonzero(y1 == 1)[0][0], np.nonzero(y1 == 0)[0][0]
    y2[i], y2[j] = y2[j], y2[i]  # same shape, same sum, different labels
    loss = gbloss.focal()
    g1, _ = loss.gradient_hessian(y1, z)
    g2, _ = loss.gradient_hessian(y2, z)
    g2_fresh, _ = gbloss.focal().gradient_hessian(y2, z)
    np.testing.assert_array_equal(g2, g2_fresh)
    assert not np.array_equal(g1, g2)


def test_label_cache_tells_large_label_arrays_apart(rng):
    n = 100_000
    z = rng.normal(size=n)
    y1 = (rng.random(n) < 0.3).astype(float)
    y2 = y1.copy()
    i = np.nonzero(y1 == 1)[0][1]
    j = np.nonzero(y1 == 0)[0][1]
    y2[i], y2[j] = y2[j], y2[i]
    loss = gbloss.focal()
    loss.gradient_hessian(y1, z)
    g2, _ = loss.gradient_hessian(y2, z)
    np.testing.assert_array_equal(g2, gbloss.focal().gradient_hessian(y2, z)[0])


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_blocked_executor_matches_small_calls(rng, task, monkeypatch):
    """Large inputs run on row blocks from a thread pool: results equal whole small calls.

    (The reference kernels on both sides: tests/test_fused.py compares the fused ones.)
    """
    monkeypatch.setattr(gbloss.kernels.fused, "MIN_ELEMENTS", 10**12)
    n = 3 * 32768 + 17 if task == "binary" else 40_003
    z = rng.normal(size=n) * 5 if task == "binary" else rng.normal(size=(n, 4)) * 5
    y = (rng.random(n) < 0.3).astype(float) if task == "binary" else \
        rng.integers(0, 4, n).astype(float)
    w = rng.uniform(0.1, 2, n)
    loss = gbloss.focal(gamma=2.0, alpha=0.25 if task == "binary" else None)
    g1, h1 = loss.gradient_hessian(y, z, w, n_threads=1)
    g2, h2 = loss.gradient_hessian(y, z, w, n_threads=2)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(h1, h2)
    chunk = 997
    parts = [loss.gradient_hessian(y[s:s + chunk], z[s:s + chunk], w[s:s + chunk])
             for s in range(0, n, chunk)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), g1)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), h1)
    assert loss.loss(y, z, w) == pytest.approx(
        sum(loss.loss(y[s:s + chunk], z[s:s + chunk], w[s:s + chunk]) * w[s:s + chunk].sum()
            for s in range(0, n, chunk)) / w.sum(), rel=1e-12)
