"""Dice and PointWise Exponential Loss: exact derivatives, groups, perfect predictions, boosters."""

from __future__ import annotations

import numpy as np
import pytest

import gbloss

torch = pytest.importorskip("torch")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")


# ------------------------------------------------------------ independent torch losses
def torch_dice(y, z, w, sizes, smooth):
    p = torch.sigmoid(z)
    out, start = [], 0
    for size in sizes:
        sl = slice(start, start + size)
        start += size
        inter = torch.sum(w[sl] * p[sl] * y[sl])
        den = torch.sum(w[sl] * p[sl]) + torch.sum(w[sl] * y[sl]) + smooth
        out.append(1 - (2 * inter + smooth) / den)
    return torch.stack(out).mean()


def torch_pel(y, z, w, sizes, alpha, power):
    p = torch.sigmoid(z)
    out, start = [], 0
    for size in sizes:
        sl = slice(start, start + size)
        start += size
        channels = []
        for r, t in ((p[sl], y[sl]), (1 - p[sl], 1 - y[sl])):
            # (r t)^beta, written so that rows with t = 0 have finite derivatives
            rt = torch.where(t > 0, r * t, torch.ones_like(r))
            a = alpha * torch.sum(w[sl] * torch.where(t > 0, rt ** power, torch.zeros_like(r)))
            u = torch.sum(w[sl] * r) + torch.sum(w[sl] * t)
            channels.append(1 - a / u)
        out.append((channels[0] + channels[1]) / 2)
    return torch.stack(out).mean()


def reference(kind, y, z, w, sizes, **params):
    """(L, S dL/dz, diag of S d2L/dz2) by autograd, S = sum of weights."""
    yt, wt = torch.as_tensor(y), torch.as_tensor(w)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    fn = torch_dice if kind == "dice" else torch_pel
    total = float(np.sum(w))
    value = fn(yt, zt, wt, sizes, **params)
    (g,) = torch.autograd.grad(value * total, zt, create_graph=True)
    diag = torch.stack([torch.autograd.grad(g[i], zt, retain_graph=True)[0][i]
                        for i in range(len(z))])
    return float(value.detach()), g.detach().numpy(), diag.numpy()


def _loss(kind, **params):
    return gbloss.dice(hessian="exact", **params) if kind == "dice" else \
        gbloss.pel(hessian="exact", **params)


def _data(n=36, seed=0, soft=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.float64)
    if soft:
        y = np.clip(y + rng.uniform(-0.4, 0.4, size=n), 0, 1)
    z = rng.normal(scale=2.5, size=n)
    w = rng.uniform(0.3, 2.0, size=n)
    return y, z, w


PARAMS = {"dice": [{"smooth": 1.0}, {"smooth": 0.1}],
          "pel": [{"alpha": 20.0, "power": 3.0}, {"alpha": 2.0, "power": 1.5}]}


@pytest.mark.parametrize("kind", ["dice", "pel"])
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("groups", [None, [10, 6, 20]])
@pytest.mark.parametrize("soft", [False, True])
def test_derivatives_match_autograd(kind, which, groups, soft):
    params = PARAMS[kind][which]
    y, z, w = _data(soft=soft)
    sizes = groups or [len(y)]
    value, ref_g, ref_h = reference(kind, y, z, w, sizes, **params)
    loss = _loss(kind, **params)
    grad, hess = loss.gradient_hessian(y, z, w, group=groups)
    floor = 1e-9 * max(1.0, np.max(np.abs(ref_g)))
    np.testing.assert_allclose(grad, ref_g, rtol=1e-6, atol=floor)
    np.testing.assert_allclose(hess, ref_h, rtol=1e-6, atol=1e-9 * max(1.0, np.max(np.abs(ref_h))))
    np.testing.assert_allclose(loss.loss(y, z, w, group=groups), value, rtol=1e-10)


@pytest.mark.parametrize("kind", ["dice", "pel"])
def test_unweighted_equals_unit_weights(kind):
    y, z, _ = _data()
    loss = _loss(kind)
    a = loss.gradient_hessian(y, z, group=[16, 20])
    b = loss.gradient_hessian(y, z, np.ones_like(z), group=[16, 20])
    for x, r in zip(a, b, strict=True):
        np.testing.assert_allclose(x, r, rtol=1e-13)


def test_exact_hessian_has_negative_rows():
    y, z, w = _data(n=200)
    for kind in ("dice", "pel"):
        _, hess = _loss(kind).gradient_hessian(y, z, w)
        assert np.any(hess < 0)


# --------------------------------------------------------------------- perfect values
@pytest.mark.parametrize("groups", [None, [5, 7, 8]])
def test_perfect_prediction_values(groups):
    y = np.array([1.0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 1, 1])
    raw = np.where(y > 0, 40.0, -40.0)
    assert abs(gbloss.dice().loss(y, raw, group=groups)) < 1e-12
    assert abs(gbloss.pel().loss(y, raw, group=groups) - (1 - 20.0 / 2)) < 1e-12
    assert abs(gbloss.pel(alpha=4.0).loss(y, raw, group=groups) - (1 - 4.0 / 2)) < 1e-12
    # a wrong prediction is worse
    assert gbloss.dice().loss(y, -raw, group=groups) > 0.8
    assert gbloss.pel().loss(y, -raw, group=groups) > 0.9


def test_group_without_positives():
    y = np.array([0.0, 0, 0, 1, 1, 0])
    raw = np.where(y > 0, 50.0, -50.0)
    # Dice with smooth: 0; PEL: the empty foreground channel scores 1
    assert abs(gbloss.dice().loss(y, raw, group=[3, 3])) < 1e-12
    expected = ((1 + (1 - 10)) / 2 + (1 - 10)) / 2
    assert abs(gbloss.pel().loss(y, raw, group=[3, 3]) - expected) < 1e-12


# ------------------------------------------------------------- hessian policy, numerics
@pytest.mark.parametrize("kind", ["dice", "pel"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auto_hessian_positive_and_finite_at_extremes(kind, dtype):
    rng = np.random.default_rng(3)
    y = (rng.random(60) < 0.3).astype(np.float64)
    w = rng.uniform(0.1, 3.0, size=60)
    loss = gbloss.dice() if kind == "dice" else gbloss.pel()
    for z in (rng.normal(scale=3, size=60), rng.choice([-1e4, -20.0, 0.0, 20.0, 1e4], size=60),
              np.full(60, -1e4), np.full(60, 1e4)):
        z = z.astype(dtype)
        grad, hess = loss.gradient_hessian(y, z, w, group=[30, 30])
        assert grad.dtype == dtype
        assert hess.dtype == dtype
        assert np.all(np.isfinite(grad))
        assert np.all(np.isfinite(hess))
        assert np.all(hess > 0)
        assert np.isfinite(loss.loss(y, z, w, group=[30, 30]))


def test_auto_keeps_the_exact_diagonal_where_positive():
    y, z, w = _data(n=80)
    for kind in ("dice", "pel"):
        _, exact = _loss(kind).gradient_hessian(y, z, w)
        _, auto = (gbloss.dice() if kind == "dice" else gbloss.pel()).gradient_hessian(y, z, w)
        keep = exact > 1e-3
        np.testing.assert_array_equal(auto[keep], exact[keep])


def test_array_namespaces_agree():
    y, z, w = _data()
    for loss in (gbloss.dice(), gbloss.pel()):
        ref = loss.gradient_hessian(y, z, w, group=[16, 20])
        out = loss.gradient_hessian(torch.as_tensor(y), torch.as_tensor(z), torch.as_tensor(w),
                                    group=[16, 20])
        for a, b in zip(out, ref, strict=True):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15)
        strict = pytest.importorskip("array_api_strict")
        out = loss.gradient_hessian(strict.asarray(y), strict.asarray(z), strict.asarray(w),
                                    group=[16, 20])
        for a, b in zip(out, ref, strict=True):
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(loss.loss(torch.as_tensor(y), torch.as_tensor(z), group=[16, 20]),
                                   loss.loss(y, z, group=[16, 20]), rtol=1e-12)


def test_init_score_is_the_log_odds():
    y, _, w = _data(n=100)
    expected = np.log(np.sum(w * y) / np.sum(w * (1 - y)))
    assert abs(gbloss.dice().init_score(y, w) - expected) < 1e-12
    assert abs(gbloss.pel().init_score(y, w) - expected) < 1e-12


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("group", "match"), [
    ([10, 10], "add up to 20 rows but the data have 36"),
    ([36, 0], "positive integers"),
    ([18.5, 17.5], "positive integers"),
    ([[36]], "1-D"),
])
def test_bad_groups_raise(group, match):
    y, z, w = _data()
    for loss in (gbloss.dice(), gbloss.pel()):
        with pytest.raises(ValueError, match=match):
            loss.gradient_hessian(y, z, w, group=group)
        with pytest.raises(ValueError, match=match):
            loss.loss(y, z, w, group=group)


@pytest.mark.parametrize(("make", "kwargs", "match"), [
    (gbloss.dice, {"smooth": -1.0}, "smooth"),
    (gbloss.dice, {"hessian": "xgboost"}, "hessian"),
    (gbloss.pel, {"alpha": 0.0}, "alpha"),
    (gbloss.pel, {"power": -2.0}, "power"),
])
def test_bad_parameters_raise(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def test_multiclass_data_is_rejected():
    with pytest.raises(ValueError, match="does not support"):
        gbloss.dice().gradient_hessian(np.array([0, 1, 2]), np.zeros((3, 3)))


# ----------------------------------------------------------------------------- boosters
def _pixels(n_groups=6, size=50, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_groups * size, 3))
    y = ((X[:, 0] + 0.5 * rng.normal(size=len(X))) > 1.0).astype(np.float64)
    return X, y, np.full(n_groups, size)


@pytest.mark.parametrize("kind", ["dice", "pel"])
def test_boosters_hand_the_groups_to_the_loss(kind):
    X, y, sizes = _pixels()
    raw = np.random.default_rng(0).normal(size=len(y)).astype(np.float32)
    loss = gbloss.dice() if kind == "dice" else gbloss.pel()
    per_group = loss.gradient_hessian(y, raw, group=sizes)
    whole = loss.gradient_hessian(y, raw)
    assert not np.allclose(per_group[0], whole[0])
    d = xgb.DMatrix(X, label=y, qid=np.repeat(np.arange(len(sizes)), sizes))
    for ours, ref in zip(loss(raw, d), per_group, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-6)
    ds = lgb.Dataset(X, label=y, group=sizes, params={"verbose": -1}).construct()
    for ours, ref in zip(loss(raw.astype(np.float64), ds), per_group, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    for ours, ref in zip(loss(y, raw.astype(np.float64), None, sizes), per_group, strict=True):  # LGBM sklearn
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    for ours, ref in zip(loss(y, raw, sample_weight=None), whole, strict=True):  # XGBoost sklearn: no groups
        np.testing.assert_allclose(ours, ref, rtol=1e-6)
    name, value = loss.metric(raw, d)
    assert name == kind
    np.testing.assert_allclose(value, loss.loss(y, raw, group=sizes), rtol=1e-6)
    _, value, higher_better = loss.metric(raw.astype(np.float64), ds)
    np.testing.assert_allclose(value, loss.loss(y, raw, group=sizes), rtol=1e-5)
    assert higher_better is False


@pytest.mark.parametrize("kind", ["dice", "pel"])
def test_training_lowers_the_loss(kind):
    X, y, sizes = _pixels(n_groups=8, size=60)
    loss = gbloss.dice() if kind == "dice" else gbloss.pel()
    qid = np.repeat(np.arange(len(sizes)), sizes)
    d = xgb.DMatrix(X, label=y, qid=qid)
    history: dict = {}
    gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, d, loss, 15,
                         evals=[(d, "train")], evals_result=history, verbose_eval=False)
    values = history["train"][kind]
    assert values[-1] < values[0] - 0.05
    booster = gbloss.lightgbm.train({"num_leaves": 7, "learning_rate": 0.3, "verbose": -1,
                                     "num_threads": 1, "min_data_in_leaf": 5},
                                    lgb.Dataset(X, label=y, group=sizes), loss, 15)
    raw = booster.predict(X, raw_score=True)
    start = loss.loss(y, np.full(len(y), loss.init_score(y)), group=sizes)
    assert loss.loss(y, raw, group=sizes) < start - 0.05
