"""LDAM, LMF and deferred re-weighting (DRW): derivatives, reductions, errors, booster rounds."""

from __future__ import annotations

import numpy as np
import pytest

import gbloss
from gbloss import LDAMLoss

torch = pytest.importorskip("torch")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

RTOL = 1e-6


def _close(ours, ref, rtol=RTOL):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    floor = 1e-9 * max(1.0, float(np.max(np.abs(ref))))
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=floor)


# ----------------------------------------------------------- independent torch losses
def _margins(counts, max_margin):
    counts = np.asarray(counts, dtype=np.float64)
    return max_margin * (counts.min() / counts) ** 0.25


def torch_multiclass(t, z, *, focal_weight, ldam_weight, gamma, alpha, class_w, margins, scale):
    """Per-row LMF (multiclass), written from the papers' definitions in log space."""
    tt = torch.as_tensor(t, dtype=torch.int64)
    logp = torch.log_softmax(z, dim=1)
    logp_t = logp.gather(1, tt[:, None])[:, 0]
    cw = torch.ones(z.shape[1], dtype=z.dtype) if class_w is None else torch.as_tensor(class_w)
    al = torch.ones(z.shape[1], dtype=z.dtype) if alpha is None else torch.as_tensor(alpha)
    one_minus = -torch.expm1(logp_t)
    focal = -(one_minus ** gamma) * logp_t * al[tt] * cw[tt]
    onehot = torch.nn.functional.one_hot(tt, z.shape[1]).to(z.dtype)
    shifted = scale * (z - onehot * torch.as_tensor(margins)[tt][:, None])
    ldam = -torch.log_softmax(shifted, dim=1).gather(1, tt[:, None])[:, 0] * cw[tt]
    return focal_weight * focal + ldam_weight * ldam


def torch_binary(y, z, *, focal_weight, ldam_weight, gamma, alpha, class_w, margins, scale):
    y = torch.as_tensor(y)
    c0, c1 = (1.0, 1.0) if class_w is None else (float(class_w[0]), float(class_w[1]))
    a0, a1 = (1.0, 1.0) if alpha is None else (1 - alpha, alpha)
    lp, lq = torch.nn.functional.logsigmoid(z), torch.nn.functional.logsigmoid(-z)
    focal = (a1 * c1 * y * (-torch.exp(gamma * lq)) * lp
             + a0 * c0 * (1 - y) * (-torch.exp(gamma * lp)) * lq)
    m0, m1 = margins
    ldam = (c1 * y * -torch.nn.functional.logsigmoid(scale * (z - m1))
            + c0 * (1 - y) * -torch.nn.functional.logsigmoid(scale * (-z - m0)))
    return focal_weight * focal + ldam_weight * ldam


def autograd_grad_hess(fn, z0, w):
    """Gradient and Hessian diagonal of sum_i w_i l_i(z_i) (rows independent)."""
    z = torch.tensor(z0, dtype=torch.float64, requires_grad=True)
    wt = torch.ones(z.shape[0], dtype=torch.float64) if w is None else torch.as_tensor(w)
    total = torch.sum(wt * fn(z))
    (g,) = torch.autograd.grad(total, z, create_graph=True)
    if z.ndim == 1:
        (h,) = torch.autograd.grad(g.sum(), z)
        return g.detach().numpy(), h.numpy()
    cols = [torch.autograd.grad(g[:, j].sum(), z, retain_graph=True)[0][:, j]
            for j in range(z.shape[1])]
    return g.detach().numpy(), torch.stack(cols, dim=1).numpy()


CASES = {
    "ldam": {"focal_weight": 0.0, "ldam_weight": 1.0, "gamma": 0.0},
    "lmf": {"focal_weight": 1.0, "ldam_weight": 1.0, "gamma": 2.0},
    "lmf-weighted": {"focal_weight": 0.7, "ldam_weight": 0.3, "gamma": 1.5},
}


def _make(case, **kw):
    params = dict(CASES[case])
    if params["focal_weight"] == 0:
        params.pop("focal_weight"), params.pop("ldam_weight"), params.pop("gamma")
        kw.pop("alpha", None)
        return gbloss.ldam(**kw)
    return gbloss.lmf(**params, **kw)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_multiclass_derivatives_match_autograd(case, weighted, scale):
    rng = np.random.default_rng(1)
    n, k = 40, 4
    t = rng.choice(k, size=n, p=[0.55, 0.25, 0.15, 0.05])
    t[:k] = np.arange(k)
    z = rng.normal(scale=3.0, size=(n, k))
    w = rng.uniform(0.2, 2.0, size=n) if weighted else None
    counts = np.bincount(t, weights=w, minlength=k)
    class_w = np.array([0.5, 1.0, 2.0, 3.0]) if weighted else None
    alpha = np.array([0.4, 0.3, 0.2, 0.1]) if weighted else None
    loss = _make(case, max_margin=0.6, scale=scale, class_weight=class_w, alpha=alpha,
                 hessian="exact")
    params = {"focal_weight": loss.focal_weight, "ldam_weight": loss.ldam_weight,
              "gamma": loss.gamma, "alpha": None if case == "ldam" else alpha}
    ref_g, ref_h = autograd_grad_hess(
        lambda zz: torch_multiclass(t, zz, **params, class_w=class_w,
                                    margins=_margins(counts, 0.6), scale=scale), z, w)
    grad, hess = loss.gradient_hessian(t, z, w)
    _close(grad, ref_g)
    _close(hess, ref_h)
    ref_value = np.sum((1.0 if w is None else w) * torch_multiclass(
        t, torch.tensor(z), **params, class_w=class_w, margins=_margins(counts, 0.6),
        scale=scale).numpy()) / (n if w is None else w.sum())
    _close(loss.loss(t, z, w), ref_value)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("soft", [False, True])
def test_binary_derivatives_match_autograd(case, soft):
    rng = np.random.default_rng(2)
    n = 50
    y = (rng.random(n) < 0.2).astype(np.float64)
    y[:2] = [0.0, 1.0]
    if soft:
        y = np.clip(y + rng.uniform(-0.3, 0.3, size=n), 0, 1)
    z = rng.normal(scale=3.0, size=n)
    w = rng.uniform(0.2, 2.0, size=n)
    counts = np.array([np.sum(w * (1 - y)), np.sum(w * y)])
    class_w = np.array([0.8, 2.5])
    alpha = 0.3
    loss = _make(case, max_margin=0.4, scale=2.0, class_weight=class_w, alpha=alpha,
                 hessian="exact")
    params = {"focal_weight": loss.focal_weight, "ldam_weight": loss.ldam_weight,
              "gamma": loss.gamma, "alpha": None if case == "ldam" else alpha}
    ref_g, ref_h = autograd_grad_hess(
        lambda zz: torch_binary(y, zz, **params, class_w=class_w,
                                margins=_margins(counts, 0.4), scale=2.0), z, w)
    grad, hess = loss.gradient_hessian(y, z, w)
    _close(grad, ref_g)
    _close(hess, ref_h)


def test_given_class_counts_set_the_margins():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 3, size=30)
    z = rng.normal(size=(30, 3))
    counts = [1000.0, 100.0, 10.0]
    loss = gbloss.ldam(max_margin=0.5, class_counts=counts, hessian="exact")
    ref_g, _ = autograd_grad_hess(
        lambda zz: torch_multiclass(t, zz, focal_weight=0.0, ldam_weight=1.0, gamma=0.0,
                                    alpha=None, class_w=None, margins=_margins(counts, 0.5),
                                    scale=1.0), z, None)
    _close(loss.gradient_hessian(t, z)[0], ref_g)


# ------------------------------------------------------------------------- reductions
def _data(k, seed=4, n=60):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.3, 2.0, size=n)
    if k == 2:
        return (rng.random(n) < 0.25).astype(np.float64), rng.normal(scale=2, size=n), w
    t = rng.choice(k, size=n, p=np.linspace(2, 1, k) / np.linspace(2, 1, k).sum())
    return t, rng.normal(scale=2, size=(n, k)), w


def _same(a, b, y, z, w, init=True):
    for x, r in zip(a.gradient_hessian(y, z, w), b.gradient_hessian(y, z, w), strict=True):
        np.testing.assert_allclose(x, r, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.loss(y, z, w), b.loss(y, z, w), rtol=1e-12)
    if init:
        np.testing.assert_allclose(a.init_score(y, w, n_classes=z.shape[1] if z.ndim == 2
                                                else None),
                                   b.init_score(y, w, n_classes=z.shape[1] if z.ndim == 2
                                                else None), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_ldam_without_margin_and_scale_is_cross_entropy(k, class_weight):
    y, z, w = _data(k)
    _same(gbloss.ldam(max_margin=0.0, scale=1.0, class_weight=class_weight),
          gbloss.cross_entropy(class_weight=class_weight), y, z, w)


@pytest.mark.parametrize("k", [2, 4])
def test_lmf_reduces_to_focal_and_to_ldam(k):
    y, z, w = _data(k)
    alpha = 0.3 if k == 2 else np.array([0.1, 0.2, 0.3, 0.4])
    _same(gbloss.lmf(ldam_weight=0.0, gamma=2.0, alpha=alpha, class_weight="effective"),
          gbloss.focal(gamma=2.0, alpha=alpha, class_weight="effective"), y, z, w)
    _same(gbloss.lmf(focal_weight=0.0, max_margin=0.7, scale=2.0, class_weight="balanced"),
          gbloss.ldam(max_margin=0.7, scale=2.0, class_weight="balanced"), y, z, w)


def test_lmf_is_the_weighted_sum_of_focal_and_ldam():
    y, z, w = _data(3)
    lmf = gbloss.lmf(focal_weight=0.3, ldam_weight=2.0, gamma=1.0, hessian="exact")
    f = gbloss.focal(gamma=1.0, hessian="exact").gradient_hessian(y, z, w)
    d = gbloss.ldam(hessian="exact").gradient_hessian(y, z, w)
    for ours, a, b in zip(lmf.gradient_hessian(y, z, w), f, d, strict=True):
        np.testing.assert_allclose(ours, 0.3 * a + 2.0 * b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("make", [gbloss.ldam, gbloss.lmf])
def test_init_score_is_the_constant_minimum(k, make):
    y, _, w = _data(k, n=200)
    loss = make()
    init = loss.init_score(y, w, n_classes=k if k > 2 else None)
    raw = np.full(len(y), init) if k == 2 else np.tile(init, (len(y), 1))
    grad, _ = loss.gradient_hessian(y, raw, w)
    assert np.all(np.abs(grad.sum(axis=0)) < 1e-6 * w.sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [2, 3])
def test_finite_and_positive_at_extreme_margins(dtype, k):
    rng = np.random.default_rng(5)
    n = 40
    y = rng.integers(0, k, size=n).astype(np.float64)
    shape = (n,) if k == 2 else (n, k)
    z = (rng.choice([-1e4, -30.0, 0.0, 30.0, 1e4], size=shape)).astype(dtype)
    for loss in (gbloss.ldam(scale=5.0), gbloss.lmf(gamma=0.5), gbloss.lmf(drw_start_round=0)):
        grad, hess = loss.gradient_hessian(y, z)
        assert grad.dtype == dtype
        assert hess.dtype == dtype
        assert np.all(np.isfinite(grad))
        assert np.all(np.isfinite(hess))
        assert np.all(hess > 0)
        assert np.isfinite(loss.loss(y, z))


def test_array_namespaces_agree():
    y, z, w = _data(3)
    loss = gbloss.lmf(class_weight="balanced")
    ref = loss.gradient_hessian(y, z, w)
    out = loss.gradient_hessian(torch.as_tensor(y), torch.as_tensor(z), torch.as_tensor(w))
    for a, b in zip(out, ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15)
    strict = pytest.importorskip("array_api_strict")
    out = loss.gradient_hessian(strict.asarray(y.astype(np.int64)), strict.asarray(z),
                                strict.asarray(w))
    for a, b in zip(out, ref, strict=True):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"class_counts": [10, 0, 3]}, "class 1 has"),
    ({"class_counts": [10, 5, np.nan]}, "finite"),
    ({"max_margin": -0.1}, "max_margin"),
    ({"scale": 0.0}, "scale"),
    ({"scale": -1.0}, "scale"),
    ({"drw_start_round": -1}, "drw_start_round"),
    ({"drw_start_round": 2.5}, "drw_start_round"),
    ({"hessian": "newton"}, "hessian"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gbloss.ldam(**kwargs)
    with pytest.raises(ValueError, match=match):
        gbloss.lmf(**kwargs)


def test_more_bad_input_raises():
    with pytest.raises(ValueError, match="both 0"):
        gbloss.lmf(focal_weight=0.0, ldam_weight=0.0)
    with pytest.raises(ValueError, match="drw_start_round"):
        gbloss.focal(drw_start_round=-2)
    with pytest.raises(ValueError, match="3 entries but the data have 4 classes"):
        gbloss.ldam(class_counts=[5, 4, 3]).gradient_hessian(np.arange(4), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="does not support multilabel"):
        gbloss.ldam().gradient_hessian(np.eye(3), np.zeros((3, 3)))


# ------------------------------------------------------------------------------ DRW
FACTORIES = {"cross_entropy": gbloss.cross_entropy, "focal": gbloss.focal,
             "ldam": gbloss.ldam, "lmf": gbloss.lmf}


@pytest.mark.parametrize("name", list(FACTORIES))
@pytest.mark.parametrize("k", [2, 3])
def test_drw_switches_the_effective_number_weights_on(name, k):
    y, z, w = _data(k, n=80)
    make = FACTORIES[name]
    drw = make(drw_start_round=5)
    before, after = make(), make(class_weight="effective")
    for ours, ref in zip(drw.at_round(4).gradient_hessian(y, z, w), before.gradient_hessian(y, z, w), strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    for ours, ref in zip(drw.at_round(5).gradient_hessian(y, z, w), after.gradient_hessian(y, z, w), strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    assert not np.allclose(before.gradient_hessian(y, z, w)[0], after.gradient_hessian(y, z, w)[0])
    # the loss itself (value, init score) is that of round 0
    np.testing.assert_allclose(drw.loss(y, z, w), before.loss(y, z, w), rtol=1e-12)
    n_classes = k if k > 2 else None
    np.testing.assert_allclose(drw.init_score(y, w, n_classes=n_classes),
                               before.init_score(y, w, n_classes=n_classes), rtol=1e-9)


def test_drw_uses_a_given_class_weight():
    y, z, w = _data(3)
    drw = gbloss.ldam(class_weight=[1.0, 2.0, 5.0], drw_start_round=1)
    ref = gbloss.ldam(class_weight=[1.0, 2.0, 5.0]).gradient_hessian(y, z, w)
    np.testing.assert_allclose(drw.at_round(1).gradient_hessian(y, z, w)[0], ref[0], rtol=1e-12)


SEEN: list = []


class SpyLDAM(LDAMLoss):
    """Records the round of every objective call (survives LightGBM's deep copies)."""

    def _kernel_variant(self, context):
        weights_on = super()._kernel_variant(context)
        if context.round is not None:  # metric calls carry no round
            SEEN.append((int(context.round), weights_on))
        return weights_on


def _multiclass_data(n=120, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = rng.choice(3, size=n, p=[0.7, 0.2, 0.1]).astype(np.float64)
    y[:6] = [0, 1, 2, 0, 1, 2]
    return X, y


XGB = {"num_class": 3, "max_depth": 2, "nthread": 1}
LGB = {"num_class": 3, "num_leaves": 4, "verbose": -1, "num_threads": 1, "min_data_in_leaf": 5}


def _rounds():
    out = [r for r, _ in SEEN]
    on = [r for r, flag in SEEN if flag]
    SEEN.clear()
    return out, on


def test_drw_round_in_xgb_train_and_cv():
    X, y = _multiclass_data()
    d = xgb.DMatrix(X, label=y)
    SEEN.clear()
    xgb.train(XGB, d, 4, obj=SpyLDAM(drw_start_round=2))
    assert _rounds() == ([0, 1, 2, 3], [2, 3])
    xgb.cv(XGB, d, 3, nfold=2, obj=SpyLDAM(drw_start_round=1), seed=0)
    assert _rounds() == ([0, 0, 1, 1, 2, 2], [1, 1, 2, 2])
    # continued training counts from the start of the call
    first = xgb.train(XGB, d, 2, obj=SpyLDAM(drw_start_round=2))
    SEEN.clear()
    xgb.train(XGB, d, 2, obj=SpyLDAM(drw_start_round=2), xgb_model=first)
    assert _rounds() == ([0, 1], [])


def test_drw_round_in_lgb_train_and_cv():
    X, y = _multiclass_data()
    ds = lgb.Dataset(X, label=y, free_raw_data=False)
    SEEN.clear()
    loss = SpyLDAM(drw_start_round=2)
    first = lgb.train({**LGB, "objective": loss}, ds, 4, callbacks=[gbloss.drw_callback()])
    assert _rounds() == ([0, 1, 2, 3], [2, 3])
    lgb.cv({**LGB, "objective": loss}, ds, 3, nfold=2, stratified=False, seed=0,
           callbacks=[loss.callback()])
    assert _rounds() == ([0, 0, 1, 1, 2, 2], [2, 2])
    lgb.train({**LGB, "objective": loss}, ds, 2, init_model=first,
              callbacks=[gbloss.drw_callback()])
    assert _rounds() == ([0, 1], [])


def test_drw_round_in_the_sklearn_wrappers():
    X, y = _multiclass_data()
    SEEN.clear()
    lgb.LGBMClassifier(objective=SpyLDAM(drw_start_round=1), n_estimators=3, num_leaves=4,
                       verbose=-1, n_jobs=1).fit(X, y, callbacks=[gbloss.drw_callback()])
    assert _rounds() == ([0, 1, 2], [1, 2])
    xgb.XGBClassifier(objective=SpyLDAM(drw_start_round=1), n_estimators=3, max_depth=2,
                      n_jobs=1, callbacks=[gbloss.drw_callback()]).fit(X, y)
    assert _rounds() == ([0, 1, 2], [1, 2])


def test_drw_without_a_round_raises():
    X, y = _multiclass_data()
    ds = lgb.Dataset(X, label=y)
    with pytest.raises(RuntimeError, match="drw_callback"):
        lgb.train({**LGB, "objective": gbloss.lmf(drw_start_round=1)}, ds, 2)
    # a finished training's round is never reused by the next one
    lgb.train({**LGB, "objective": gbloss.lmf(drw_start_round=1)}, ds, 2,
              callbacks=[gbloss.drw_callback()])
    with pytest.raises(RuntimeError, match="drw_callback"):
        lgb.train({**LGB, "objective": gbloss.lmf(drw_start_round=1)}, ds, 2)
    with pytest.raises(RuntimeError, match="drw_callback"):
        xgb.XGBClassifier(objective=gbloss.focal(drw_start_round=1), n_estimators=2,
                          n_jobs=1).fit(X, y)
    with pytest.raises(RuntimeError, match="drw_callback"):
        gbloss.cross_entropy(drw_start_round=0)(y, np.zeros((len(y), 3)))


def test_drw_training_equals_switching_the_loss_by_hand():
    """Rounds < r train like the plain loss, rounds >= r like the class-weighted one."""
    X, y = _multiclass_data(n=150)
    d = xgb.DMatrix(X, label=y)
    drw = xgb.train(XGB, d, 4, obj=gbloss.ldam(drw_start_round=2))
    by_hand = xgb.train(XGB, d, 2, obj=gbloss.ldam(class_weight="effective"),
                        xgb_model=xgb.train(XGB, d, 2, obj=gbloss.ldam()))
    plain = xgb.train(XGB, d, 4, obj=gbloss.ldam())
    m = {name: b.predict(d, output_margin=True) for name, b in
         (("drw", drw), ("hand", by_hand), ("plain", plain))}
    np.testing.assert_allclose(m["drw"], m["hand"], rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(m["drw"] - m["plain"])) > 1e-3

    ds = lgb.Dataset(X, label=y, free_raw_data=False)
    drw = lgb.train({**LGB, "objective": gbloss.lmf(drw_start_round=2)}, ds, 4,
                    callbacks=[gbloss.drw_callback()])
    first = lgb.train({**LGB, "objective": gbloss.lmf()}, ds, 2)
    by_hand = lgb.train({**LGB, "objective": gbloss.lmf(class_weight="effective")}, ds, 2,
                        init_model=first)
    np.testing.assert_allclose(drw.predict(X, raw_score=True), by_hand.predict(X, raw_score=True),
                               rtol=1e-5, atol=1e-6)


def test_losses_are_xgboost_objectives_and_keep_plain_calls():
    from xgboost.objective import Objective

    assert isinstance(gbloss.ldam(), Objective)
    assert isinstance(gbloss.focal(), Objective)
    X, y = _multiclass_data()
    d = xgb.DMatrix(X, label=y)
    raw = np.zeros((len(y), 3), dtype=np.float32)
    loss = gbloss.focal()
    a = loss(3, raw, d)  # Objective form: obj(iteration, y_pred, dtrain)
    b = loss(raw, d)  # plain form
    for x, r in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, r)
