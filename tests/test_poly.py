"""PolyLoss (gbloss.poly): Poly-1 cross-entropy and Poly-1 focal loss.

Oracles: torch definitions written here from the paper's formula (Leng et al.
2022, eq. for Poly-1) differentiated by autograd in float64; the reference
implementation jahongir7174/PolyLoss ``polyloss/polyloss.py`` (commit 2e0561eb)
re-typed; scipy minimisers for the init scores.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit

import gbloss
from gbloss import PolyLoss

torch = pytest.importorskip("torch")
Module: Any = torch.nn.Module  # (torch comes from importorskip: untyped for mypy)
F = torch.nn.functional


def t64(a):
    return torch.as_tensor(np.array(a, dtype=np.float64))


def sigmoid_rows(y, z, eps, gamma):
    """Per element: y g(z) + (1 - y) g(-z), g = -(1-p)^gamma log p + eps (1-p)^(gamma+1)."""
    def g(u):
        log_p, log_q = F.logsigmoid(u), F.logsigmoid(-u)
        return -torch.exp(gamma * log_q) * log_p + eps * torch.exp((gamma + 1) * log_q)

    return y * g(z) + (1 - y) * g(-z)


def softmax_rows(t, z, eps, gamma):
    log_pt = torch.log_softmax(z, -1).gather(1, t[:, None])[:, 0]
    q = -torch.expm1(log_pt)
    return -q ** gamma * log_pt + eps * q ** (gamma + 1)


def autograd(rows_fn, z):
    zt = t64(z).requires_grad_(True)
    rows = rows_fn(zt)
    (grad,) = torch.autograd.grad(rows.sum(), zt, create_graph=True)
    if zt.ndim == 1:
        (hess,) = torch.autograd.grad(grad.sum(), zt)
    else:
        hess = torch.stack([torch.autograd.grad(grad[:, j].sum(), zt, retain_graph=True)[0][:, j]
                            for j in range(zt.shape[1])], 1)
    return rows.detach().numpy(), grad.detach().numpy(), hess.detach().numpy()


def margins(rng, shape):
    z = rng.normal(0, 4, shape)
    z.reshape(-1)[:8] = [-40, -20, -9, 9, 20, 40, 0, 1e-7]
    return z


PARAMS = [(1.0, 0.0), (-1.0, 0.0), (2.0, 0.0), (1.0, 2.0), (-1.0, 0.5), (3.0, 1.5), (0.0, 2.0)]


@pytest.mark.parametrize(("eps", "gamma"), PARAMS)
@pytest.mark.parametrize("task", ["binary", "multilabel", "soft"])
def test_sigmoid_poly_matches_autograd(rng, eps, gamma, task):
    shape = (60,) if task != "multilabel" else (40, 3)
    z = margins(rng, shape)
    y = (rng.random(shape) < 0.3).astype(float) if task != "soft" else rng.random(shape)
    w = rng.uniform(0.2, 3, shape[0])
    ww = w if z.ndim == 1 else w[:, None]
    _, g_ref, h_ref = autograd(lambda zt: t64(ww) * sigmoid_rows(t64(y), zt, eps, gamma), z)
    loss = gbloss.poly(eps, gamma, hessian="exact")
    g, h = loss.gradient_hessian(y, z, w)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(h, h_ref, rtol=1e-9, atol=1e-13)
    rows = autograd(lambda zt: sigmoid_rows(t64(y), zt, eps, gamma), z)[0]
    rows = rows if rows.ndim == 1 else rows.sum(1)
    np.testing.assert_allclose(loss.loss(y, z, w), np.average(rows, weights=w), rtol=1e-12)


@pytest.mark.parametrize(("eps", "gamma"), PARAMS)
def test_softmax_poly_matches_autograd(rng, eps, gamma):
    k = 4
    z = margins(rng, (50, k))
    t = rng.integers(0, k, 50)
    w = rng.uniform(0.2, 3, 50)
    rows, g_ref, h_ref = autograd(
        lambda zt: t64(w) * softmax_rows(torch.as_tensor(t), zt, eps, gamma), z)
    loss = gbloss.poly(eps, gamma, hessian="exact")
    g, h = loss.gradient_hessian(t, z, w)
    np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h, h_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(loss.loss(t, z, w), rows.sum() / w.sum(), rtol=1e-12)


class RefPolyLoss(Module):
    """jahongir7174/PolyLoss, polyloss/polyloss.py (commit 2e0561eb), PolyLoss, re-typed."""

    def __init__(self, epsilon=2.0):
        super().__init__()
        self.epsilon = epsilon

    def forward(self, outputs, targets):
        ce = F.cross_entropy(outputs, targets)
        pt = F.one_hot(targets, outputs.size()[1]) * F.softmax(outputs, 1)
        return (ce + self.epsilon * (1.0 - pt.sum(dim=1))).mean()


@pytest.mark.parametrize("eps", [2.0, 1.0, -1.0, 0.0])
def test_equals_the_reference_code(rng, eps):
    z = rng.normal(0, 3, (64, 5))
    t = rng.integers(0, 5, 64)
    zt = t64(z).requires_grad_(True)
    ref = RefPolyLoss(eps)(zt, torch.as_tensor(t))
    (ref_grad,) = torch.autograd.grad(ref, zt)
    loss = gbloss.poly(eps)
    assert loss.loss(t, z) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.gradient_hessian(t, z)[0] / 64, ref_grad.numpy(),
                               rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_epsilon_zero_is_focal_and_cross_entropy(rng, task, gamma):
    shape = (40,) if task == "binary" else (40, 3)
    z = margins(rng, shape)
    y = rng.integers(0, 3, 40) if task == "multiclass" else (rng.random(shape) < 0.4) * 1.0
    poly, focal = gbloss.poly(0.0, gamma), gbloss.focal(gamma)
    assert poly.loss(y, z) == pytest.approx(focal.loss(y, z), rel=1e-14)
    for a, b in zip(poly.gradient_hessian(y, z), focal.gradient_hessian(y, z), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300)


def test_poly1_cross_entropy_is_convex_for_epsilon_up_to_one(rng):
    z = np.linspace(-30, 30, 601)
    y = np.ones_like(z)
    for eps in (-1.0, 0.5, 1.0):
        assert np.all(gbloss.poly(eps, hessian="exact").gradient_hessian(y, z)[1] >= 0)
    h = gbloss.poly(3.0, hessian="exact").gradient_hessian(y, z)[1]
    assert np.any(h < 0)  # epsilon > 1: not convex, the policy takes over
    h_auto = gbloss.poly(3.0).gradient_hessian(y, z)[1]
    assert np.all(h_auto > 0)
    np.testing.assert_array_equal(h_auto[h >= gbloss.HESSIAN_FLOOR], h[h >= gbloss.HESSIAN_FLOOR])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_epsilon_minus_one_is_the_edge_of_a_valid_loss(gamma):
    """At epsilon = -1 the loss is non-negative and decreasing in p_t; below, it is refused."""
    z = np.linspace(-20, 35, 500)
    y = np.ones_like(z)
    loss = gbloss.poly(-1.0, gamma, hessian="exact")
    values = [loss.loss(y[:1], z[i:i + 1]) for i in range(z.size)]
    assert np.all(np.array(values) >= -1e-15)  # (0 to rounding as p_t -> 1)
    assert np.all(loss.gradient_hessian(y, z)[0] <= 1e-15)
    with pytest.raises(ValueError, match="epsilon"):
        gbloss.poly(-1.01)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [gbloss.poly(), gbloss.poly(-1.0, 2.0), gbloss.poly(3.0, 0.5)],
                         ids=repr)
def test_finite_and_positive_at_extreme_margins(loss, dtype):
    top = float(np.finfo(dtype).max)
    for scale in (30.0, 1e4, 1e30, top):
        base = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [0.0, 1.0, -1.0]])
        z = (base * scale).astype(dtype)
        y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
        for labels, raw in ((y, z), (y[:, 0], z[:, 0]), (np.array([0, 1, 2]), z)):
            g, h = loss.gradient_hessian(labels, raw)
            assert g.dtype == raw.dtype
            assert np.all(np.isfinite(g))
            assert np.all(np.isfinite(h))
            assert np.all(h > 0)
            assert not np.isnan(loss.loss(labels, raw))


@pytest.mark.parametrize(("eps", "gamma"), [(1.0, 0.0), (-1.0, 0.0), (4.0, 0.0), (2.0, 2.0)])
def test_init_scores_are_the_argmin(rng, eps, gamma):
    """Against scipy on numpy definitions of the constant-margin totals (the paper's formula)."""
    y = (rng.random(400) < 0.15).astype(float)
    pos, neg = y.sum(), (1 - y).sum()

    def poly1(p_t):
        return -(1 - p_t) ** gamma * np.log(p_t) + eps * (1 - p_t) ** (gamma + 1)

    def total(c):
        return pos * poly1(expit(c)) + neg * poly1(expit(-c))

    grid = np.linspace(-30, 30, 601)
    start = grid[np.argmin([total(c) for c in grid])]
    best = optimize.minimize_scalar(total, bracket=(start - 0.1, start + 0.1), tol=1e-12).x
    assert gbloss.poly(eps, gamma).init_score(y) == pytest.approx(best, abs=1e-5)
    t = rng.choice(3, 400, p=[0.6, 0.3, 0.1])
    counts = np.bincount(t, minlength=3)

    def total_mc(c):
        c = np.append(c, -c.sum())
        return float(counts @ poly1(np.exp(c - np.logaddexp.reduce(c))))

    best = optimize.minimize(total_mc, np.zeros(2), method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000}).x
    init = gbloss.poly(eps, gamma).init_score(t, n_classes=3)
    np.testing.assert_allclose(init[:2], best, atol=1e-5)


def test_trains_in_both_boosters_and_the_estimators():
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    from sklearn.metrics import roc_auc_score

    import gbloss.lightgbm
    import gbloss.xgboost
    from gbloss.sklearn import GBLossClassifier

    r = np.random.default_rng(11)
    X = r.normal(size=(900, 5)).astype(np.float32)
    t = np.digitize(X[:, 0] + 0.5 * r.normal(size=900), [-1.0, 1.2]).astype(np.float32)
    loss = gbloss.poly(1.0)
    d = xgb.DMatrix(X, t)
    bst = gbloss.xgboost.train({"num_class": 3, "max_depth": 3, "eta": 0.3, "nthread": 1},
                               d, loss, 15)
    assert np.mean(bst.predict(d).argmax(1) == t) > 0.8
    lgb_bst = gbloss.lightgbm.train({"num_class": 3, "num_leaves": 7, "verbose": -1,
                                     "num_threads": 1}, lgb.Dataset(X, t), loss, 15)
    assert np.mean(lgb_bst.predict(X, raw_score=True).argmax(1) == t) > 0.8
    y = (t == 2).astype(np.float32)
    raw = xgb.train({"max_depth": 3, "nthread": 1, "disable_default_eval_metric": 1,
                     "base_score": float(expit(loss.init_score(y)))}, xgb.DMatrix(X, y), 10,
                    obj=loss).predict(xgb.DMatrix(X, y), output_margin=True)
    assert loss.loss(y, raw) < 0.7 * loss.loss(y, np.full(y.size, loss.init_score(y)))
    scores = [
        xgb.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1,
                          **gbloss.xgboost.estimator_params(loss, y))
        .fit(X, y).predict_proba(X)[:, 1],
        lgb.LGBMClassifier(objective=loss, n_estimators=10, verbose=-1, n_jobs=1).fit(X, y)
        .predict(X, raw_score=True),
        *(GBLossClassifier(loss, booster=b, n_estimators=10, n_jobs=1).fit(X, y)
          .predict_proba(X)[:, 1] for b in ("xgboost", "lightgbm"))]
    for score in scores:
        assert roc_auc_score(y, score) > 0.85


def test_pickle_clone_and_bad_parameters(rng):
    from sklearn.base import clone

    loss = gbloss.poly(-0.5, 1.5, hessian="lightgbm")
    y, z = rng.integers(0, 3, 20), rng.normal(size=(20, 3))
    for copy in (pickle.loads(pickle.dumps(loss)), clone(loss)):
        assert isinstance(copy, PolyLoss)
        assert copy.params == loss.params
        for a, b in zip(copy.gradient_hessian(y, z), loss.gradient_hessian(y, z), strict=True):
            np.testing.assert_array_equal(a, b)
    for kwargs, match in (({"epsilon": float("inf")}, "epsilon"), ({"gamma": -0.1}, "gamma"),
                          ({"hessian": "newton"}, "hessian"), ({"n_classes": 1}, "n_classes")):
        with pytest.raises(ValueError, match=match):
            gbloss.poly(**kwargs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("eps", "gamma"), [(1.0, 0.0), (-1.0, 2.0), (2.0, 0.5)])
def test_torch_twin_equals_the_boosting_loss(rng, dtype, eps, gamma):
    import gbloss.torch as gt

    z = margins(rng, (30, 4))
    y = (rng.random((30, 4)) < 0.3).astype(float)
    t = rng.integers(0, 4, 30)
    loss = gbloss.poly(eps, gamma)
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    for labels, target, n in ((y, torch.as_tensor(y, dtype=dtype), 30),
                              (t, torch.as_tensor(t), 30)):
        zt = torch.as_tensor(z, dtype=dtype).requires_grad_(True)
        value = gt.PolyLoss(eps, gamma, reduction="sum")(zt, target)
        (grad,) = torch.autograd.grad(value, zt)
        assert value.dtype == dtype
        np.testing.assert_allclose(value.item(), loss.loss(labels, z) * n, rtol=rtol)
        np.testing.assert_allclose(grad.numpy(), loss.gradient_hessian(labels, z)[0],
                                   rtol=rtol, atol=1e-6 if dtype == torch.float32 else 1e-14)
    # the reference's call: mean over rows
    ref = RefPolyLoss(2.0)(t64(z), torch.as_tensor(t))
    assert gt.functional.poly_loss(t64(z), torch.as_tensor(t), epsilon=2.0).item() == \
        pytest.approx(ref.item(), rel=1e-12)
    with pytest.raises(ValueError, match="epsilon"):
        gt.PolyLoss(epsilon=-2.0)(t64(z), torch.as_tensor(t))
