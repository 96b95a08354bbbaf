"""gbloss.class_weights: "balanced" and "effective" (Cui et al. 2019) per-class weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

import gbloss


def row_mean(weights, y, sample_weight=None):
    """Mean class weight over the rows: sum_i s_i w_{y_i} / sum_i s_i."""
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    return np.sum(s * weights[np.asarray(y, dtype=int)]) / np.sum(s)


# ----------------------------------------------------------------------------- balanced
def test_balanced_binary_is_n_over_k_nc(rng):
    y = (rng.random(1000) < 0.1).astype(float)
    n0, n1 = np.sum(y == 0), np.sum(y == 1)
    w = gbloss.class_weights(y)
    assert w.shape == (2,)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, [1000 / (2 * n0), 1000 / (2 * n1)], rtol=1e-14)
    np.testing.assert_allclose(w, compute_class_weight("balanced", classes=np.array([0, 1]), y=y),
                               rtol=1e-14)
    assert row_mean(w, y) == pytest.approx(1.0, rel=1e-14)


def test_balanced_multiclass_matches_sklearn(rng):
    y = rng.choice(5, size=2000, p=[0.5, 0.3, 0.1, 0.07, 0.03])
    w = gbloss.class_weights(y)
    counts = np.bincount(y)
    assert w.shape == (5,)
    np.testing.assert_allclose(w, 2000 / (5 * counts), rtol=1e-14)
    np.testing.assert_allclose(w, compute_class_weight("balanced", classes=np.arange(5), y=y),
                               rtol=1e-14)
    assert row_mean(w, y) == pytest.approx(1.0, rel=1e-14)


# ---------------------------------------------------------------------------- effective
@pytest.mark.parametrize("beta", [0.9, 0.99, 0.999, 0.9999])
def test_effective_follows_cui_et_al(rng, beta, class_weight_ref):
    y = rng.choice(4, size=3000, p=[0.7, 0.2, 0.08, 0.02])
    counts = np.bincount(y).astype(float)
    w = gbloss.class_weights(y, "effective", beta=beta)
    # w_c proportional to (1 - beta) / (1 - beta^{n_c}), the inverse effective number
    raw = (1 - beta) / (1 - beta ** counts)
    np.testing.assert_allclose(w / w[0], raw / raw[0], rtol=1e-10)
    assert row_mean(w, y) == pytest.approx(1.0, rel=1e-13)
    np.testing.assert_allclose(w, class_weight_ref(counts, "effective", beta), rtol=1e-12)


def test_effective_limits(rng):
    y = rng.choice(3, size=1000, p=[0.8, 0.15, 0.05])
    # beta = 0: every class has effective number 1: equal weights
    np.testing.assert_allclose(gbloss.class_weights(y, "effective", beta=0.0), 1.0, rtol=1e-14)
    # beta -> 1: the effective number tends to n_c: "balanced"
    np.testing.assert_allclose(gbloss.class_weights(y, "effective", beta=1 - 1e-9),
                               gbloss.class_weights(y, "balanced"), rtol=1e-5)
    # the default beta is 0.9999
    np.testing.assert_array_equal(gbloss.class_weights(y, "effective"),
                                  gbloss.class_weights(y, "effective", beta=0.9999))


# ------------------------------------------------------------------------ sample weights
@pytest.mark.parametrize("scheme", ["balanced", "effective"])
def test_integer_sample_weights_equal_repeated_rows(rng, scheme):
    y = rng.choice(3, size=300, p=[0.6, 0.3, 0.1])
    s = rng.integers(1, 5, 300)
    w = gbloss.class_weights(y, scheme, sample_weight=s.astype(float))
    np.testing.assert_allclose(w, gbloss.class_weights(np.repeat(y, s), scheme), rtol=1e-12)
    assert row_mean(w, y, s) == pytest.approx(1.0, rel=1e-13)


def test_sample_weights_are_summed_per_class(rng, class_weight_ref):
    y = (rng.random(500) < 0.2).astype(float)
    s = rng.uniform(0.1, 3.0, 500)
    w = gbloss.class_weights(y, "balanced", sample_weight=s)
    s0, s1 = s[y == 0].sum(), s[y == 1].sum()
    np.testing.assert_allclose(w, [(s0 + s1) / (2 * s0), (s0 + s1) / (2 * s1)], rtol=1e-13)
    zero = s.copy()
    zero[y == 1] = 0.0  # a class whose rows all have weight 0 counts as absent
    w0 = gbloss.class_weights(y, "balanced", sample_weight=zero)
    np.testing.assert_allclose(w0, [1.0, 1.0], rtol=1e-14)


def test_soft_binary_labels_count_fractionally():
    y = np.array([0.0, 0.25, 0.5, 1.0])
    n1, n0 = y.sum(), (1 - y).sum()
    np.testing.assert_allclose(gbloss.class_weights(y), [4 / (2 * n0), 4 / (2 * n1)], rtol=1e-14)


# -------------------------------------------------------------------------- multi-label
@pytest.mark.parametrize("scheme", ["balanced", "effective"])
def test_multilabel_is_per_column(rng, scheme):
    Y = (rng.random((800, 4)) < np.array([0.5, 0.2, 0.05, 0.01])).astype(float)
    s = rng.uniform(0.5, 2.0, 800)
    w = gbloss.class_weights(Y, scheme, sample_weight=s)
    assert w.shape == (4, 2)  # [w_neg, w_pos] of each column
    for j in range(4):
        np.testing.assert_allclose(w[j], gbloss.class_weights(Y[:, j], scheme, sample_weight=s),
                                   rtol=1e-13)
        assert row_mean(w[j], Y[:, j], s) == pytest.approx(1.0, rel=1e-13)


# -------------------------------------------------------------------------- absent class
@pytest.mark.parametrize("scheme", ["balanced", "effective"])
def test_absent_class_gets_the_largest_weight(rng, scheme, class_weight_ref):
    y = rng.choice([0, 1, 3], size=600, p=[0.7, 0.2, 0.1])  # class 2 absent, k = 4
    w = gbloss.class_weights(y, scheme)
    assert w.shape == (4,)
    assert np.all(np.isfinite(w))
    present = [0, 1, 3]
    assert w[2] == pytest.approx(w[present].max(), rel=1e-14)
    assert row_mean(w, y) == pytest.approx(1.0, rel=1e-13)
    counts = np.bincount(y, minlength=4).astype(float)
    np.testing.assert_allclose(w, class_weight_ref(counts, scheme), rtol=1e-12)
    if scheme == "balanced":  # n / (k' n_c) over the k' = 3 present classes
        np.testing.assert_allclose(w[present], 600 / (3 * counts[present]), rtol=1e-14)
    Y = np.zeros((50, 2))
    Y[:10, 0] = 1  # column 1 has no positives
    wm = gbloss.class_weights(Y, scheme)
    np.testing.assert_allclose(wm[1], [1.0, 1.0], rtol=1e-14)


# ------------------------------------------------------------------- used by the losses
@pytest.mark.parametrize("scheme", ["balanced", "effective"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_loss_schemes_use_class_weights_of_training_labels(rng, scheme, task):
    n = 500
    if task == "binary":
        y, z = (rng.random(n) < 0.1).astype(float), rng.normal(size=n)
    elif task == "multiclass":
        y, z = rng.choice(3, size=n, p=[0.7, 0.2, 0.1]).astype(float), rng.normal(size=(n, 3))
    else:
        y, z = (rng.random((n, 3)) < 0.2).astype(float), rng.normal(size=(n, 3))
    s = rng.uniform(0.5, 2.0, n)
    explicit = gbloss.class_weights(y, scheme, sample_weight=s)
    for gamma in (0.0, 2.0):
        by_name = gbloss.focal(gamma=gamma, class_weight=scheme).gradient_hessian(y, z, s)
        by_array = gbloss.focal(gamma=gamma, class_weight=explicit).gradient_hessian(y, z, s)
        for a, b in zip(by_name, by_array, strict=False):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


# -------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((np.array([0, 1]),), {"scheme": "inverse"}, "scheme"),
    ((np.array([0, 1]),), {"scheme": "effective", "beta": 1.0}, "beta"),
    ((np.array([0, 1]),), {"scheme": "effective", "beta": -0.5}, "beta"),
    ((np.array([0, 1]),), {"scheme": "effective", "beta": float("nan")}, "beta"),
    ((np.array([0.0, np.nan]),), {}, "NaN"),
    ((np.array([0, 1.5, 2]),), {}, "integers"),
    ((np.array([0, -1, 2]),), {}, r"\[0, 1\]|non-negative"),
    ((np.array([]),), {}, "non-empty"),
    ((np.zeros((2, 2, 2)),), {}, "1-D or 2-D"),
    ((np.array([[0, 2.0]]),), {}, r"\[0, 1\]"),
    ((np.array([0, 1]),), {"sample_weight": np.array([1.0, -1.0])}, "sample_weight"),
    ((np.array([0, 1]),), {"sample_weight": np.array([1.0, np.nan])}, "sample_weight"),
    ((np.array([0, 1]),), {"sample_weight": np.ones(3)}, "sample_weight"),
])
def test_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gbloss.class_weights(*args, **kwargs)
