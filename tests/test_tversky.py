"""(Focal) Tversky loss: exact derivatives, Dice as a special case, MONAI and kornia parity,
groups in the boosters and estimators, the torch twin."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from scipy import optimize

import gbloss

torch = pytest.importorskip("torch")
xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")


# ------------------------------------------------------------ independent torch loss
def torch_tversky(y, z, w, sizes, alpha, beta, gamma, smooth):
    """mean over groups of (1 - TI)^gamma, from the definition (torch.sigmoid, float64)."""
    p = torch.sigmoid(z)
    out, start = [], 0
    for size in sizes:
        sl = slice(start, start + size)
        start += size
        tp = torch.sum(w[sl] * p[sl] * y[sl])
        fp = torch.sum(w[sl] * p[sl] * (1 - y[sl]))
        fn = torch.sum(w[sl] * (1 - p[sl]) * y[sl])
        ti = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
        out.append((1 - ti) ** gamma)
    return torch.stack(out).mean()


def reference(y, z, w, sizes, **params):
    """(L, S dL/dz, diag of S d2L/dz2) by autograd, S = sum of weights."""
    yt, wt = torch.as_tensor(y), torch.as_tensor(w)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    value = torch_tversky(yt, zt, wt, sizes, **params)
    total = float(np.sum(w))
    (g,) = torch.autograd.grad(value * total, zt, create_graph=True)
    diag = torch.stack([torch.autograd.grad(g[i], zt, retain_graph=True)[0][i]
                        for i in range(len(z))])
    return float(value.detach()), g.detach().numpy(), diag.numpy()


def _data(n=36, seed=0, soft=False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.float64)
    if soft:
        y = np.clip(y + rng.uniform(-0.4, 0.4, size=n), 0, 1)
    return y, rng.normal(scale=2.5, size=n), rng.uniform(0.3, 2.0, size=n)


PARAMS = [
    {"alpha": 0.3, "beta": 0.7, "gamma": 1.0, "smooth": 1.0},
    {"alpha": 0.3, "beta": 0.7, "gamma": 0.75, "smooth": 1.0},  # Abraham and Khan's 4/3
    {"alpha": 0.7, "beta": 0.2, "gamma": 2.0, "smooth": 0.1},
    {"alpha": 1.0, "beta": 1.0, "gamma": 1.5, "smooth": 0.0},  # Tanimoto, no smoothing
]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("groups", [None, [10, 6, 20]])
@pytest.mark.parametrize("soft", [False, True])
def test_derivatives_match_autograd(params, groups, soft):
    y, z, w = _data(soft=soft)
    sizes = groups or [len(y)]
    value, ref_g, ref_h = reference(y, z, w, sizes, **params)
    loss = gbloss.tversky(hessian="exact", **params)
    grad, hess = loss.gradient_hessian(y, z, w, group=groups)
    np.testing.assert_allclose(grad, ref_g, rtol=1e-8, atol=1e-12 * max(1, np.abs(ref_g).max()))
    np.testing.assert_allclose(hess, ref_h, rtol=1e-7, atol=1e-12 * max(1, np.abs(ref_h).max()))
    np.testing.assert_allclose(loss.loss(y, z, w, group=groups), value, rtol=1e-12)


def test_auto_hessian_is_dices_policy():
    """Where the exact diagonal is below 1e-6 w: m w p (1 - p), m the mean over the group of
    |S dL/dp_i| per unit weight (dL/dp by autograd of the reference, p as the variable)."""
    y, z, w = _data(n=200)
    params = {"alpha": 0.3, "beta": 0.7, "gamma": 0.75, "smooth": 1.0}
    exact = gbloss.tversky(hessian="exact", **params).gradient_hessian(y, z, w)[1]
    auto = gbloss.tversky(**params).gradient_hessian(y, z, w)[1]
    assert np.any(exact < 0)
    p = torch.sigmoid(torch.as_tensor(z)).requires_grad_(True)
    logit = torch.log(p) - torch.log1p(-p)
    value = torch_tversky(torch.as_tensor(y), logit, torch.as_tensor(w), [len(y)], **params)
    (d_p,) = torch.autograd.grad(value * w.sum(), p)
    pn = p.detach().numpy()
    mean_abs = np.sum(np.abs(d_p.numpy())) / np.sum(w)
    floor = 1e-6 * w  # (S/G = sum w with one group)
    expected = np.where(exact >= floor, exact, np.maximum(mean_abs * w * pn * (1 - pn), floor))
    np.testing.assert_allclose(auto, expected, rtol=1e-9)
    assert np.all(auto > 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("params", [*PARAMS, {"gamma": 0.5, "smooth": 0.0}])
def test_finite_at_extreme_margins(dtype, params):
    top = float(np.finfo(dtype).max)
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])
    for scale in (30.0, 1e4, 1e30, top):
        z = (np.array([-1.0, 1.0, -1.0, 1.0, 0.5, -0.5]) * scale).astype(dtype)
        for groups in (None, [2, 4]):
            for hessian in ("auto", "exact"):
                loss = gbloss.tversky(hessian=hessian, **params)
                g, h = loss.gradient_hessian(y, z, group=groups)
                assert np.all(np.isfinite(g)), (scale, g)
                assert np.all(np.isfinite(h)), (scale, h)
                if hessian == "auto":
                    assert np.all(h > 0)
                assert np.isfinite(loss.loss(y, z, group=groups))
        if scale >= 1e4:  # a perfect prediction: 0
            assert gbloss.tversky(**params).loss(y, (np.where(y > 0, 1.0, -1.0) * scale)
                                                 .astype(dtype)) < 1e-300


def test_dice_is_tversky_at_one_half_with_twice_the_smoothing():
    """(I + s) / ((P + Y)/2 + s) = (2 I + 2 s) / (P + Y + 2 s): the two smoothing conventions."""
    y, z, w = _data(soft=True)
    for hessian in ("auto", "exact"):
        for groups in (None, [16, 20]):
            a = gbloss.tversky(alpha=0.5, beta=0.5, gamma=1.0, smooth=0.7, hessian=hessian)
            b = gbloss.dice(smooth=1.4, hessian=hessian)
            assert a.loss(y, z, w, group=groups) == pytest.approx(
                b.loss(y, z, w, group=groups), rel=1e-13)
            for x, r in zip(a.gradient_hessian(y, z, w, group=groups),
                            b.gradient_hessian(y, z, w, group=groups), strict=True):
                np.testing.assert_allclose(x, r, rtol=1e-10, atol=1e-15)
    # with the same smooth they differ
    assert gbloss.tversky(0.5, 0.5, 1.0, 1.0).loss(y, z) != pytest.approx(
        gbloss.dice(1.0).loss(y, z), rel=1e-6)


# ------------------------------------------------------------------- reference code
def monai_compute_tp_fp_fn(input, target, reduce_axis, ord, soft_label, decoupled=True):
    """Project-MONAI/MONAI, monai/losses/utils.py ``compute_tp_fp_fn``, re-typed (the
    ``ord == 1 and not soft_label`` branch, which TverskyLoss takes with decoupled=False)."""
    assert ord == 1
    assert not soft_label
    tp = torch.sum(input * target, dim=reduce_axis)
    if decoupled:
        fp = torch.sum(input, dim=reduce_axis) - tp
        fn = torch.sum(target, dim=reduce_axis) - tp
    else:
        fp = torch.sum(input * (1 - target), dim=reduce_axis)
        fn = torch.sum((1 - input) * target, dim=reduce_axis)
    return tp, fp, fn


def monai_tversky(input, target, alpha, beta, smooth_nr, smooth_dr, batch=False):
    """Project-MONAI/MONAI, monai/losses/tversky.py ``TverskyLoss.forward`` with
    ``sigmoid=True`` and ``reduction="mean"`` (no one-hot, background kept), re-typed."""
    input = torch.sigmoid(input)
    reduce_axis = list(range(2, len(input.shape)))
    if batch:
        reduce_axis = [0, *reduce_axis]
    tp, fp, fn = monai_compute_tp_fp_fn(input, target, reduce_axis, 1, False, False)
    fp = fp * alpha
    fn = fn * beta
    numerator = tp + smooth_nr
    denominator = tp + fp + fn + smooth_dr
    score = 1.0 - numerator / denominator
    return torch.mean(score)


def kornia_tversky_loss(input, target, alpha, beta, eps=1e-8):
    """kornia/kornia, kornia/losses/tversky.py ``tversky_loss``, re-typed (softmax over the
    classes of (B, C, H, W) logits; class-index targets one-hot encoded)."""
    input_soft = torch.softmax(input, dim=1)
    target_one_hot = torch.nn.functional.one_hot(target, num_classes=input.shape[1])
    target_one_hot = target_one_hot.permute(0, 3, 1, 2).to(input.dtype)
    dims = (1, 2, 3)
    intersection = torch.sum(input_soft * target_one_hot, dims)
    fps = torch.sum(input_soft * (-target_one_hot + 1.0), dims)
    fns = torch.sum((-input_soft + 1.0) * target_one_hot, dims)
    numerator = intersection
    denominator = intersection + alpha * fps + beta * fns
    tversky_loss = numerator / (denominator + eps)
    return torch.mean(-tversky_loss + 1.0)


@pytest.mark.parametrize("batch", [False, True])
def test_matches_monai(batch):
    rng = np.random.default_rng(3)
    z = rng.normal(scale=2.0, size=(3, 1, 4, 5))
    y = (rng.random(z.shape) < 0.35).astype(np.float64)
    zt = torch.tensor(z, requires_grad=True)
    theirs = monai_tversky(zt, torch.as_tensor(y), 0.3, 0.7, 0.5, 0.5, batch=batch)
    (their_grad,) = torch.autograd.grad(theirs, zt)
    loss = gbloss.tversky(alpha=0.3, beta=0.7, smooth=0.5)
    groups = None if batch else [20, 20, 20]
    assert loss.loss(y.ravel(), z.ravel(), group=groups) == pytest.approx(float(theirs.detach()),
                                                                           rel=1e-13)
    grad, _ = loss.gradient_hessian(y.ravel(), z.ravel(), group=groups)
    np.testing.assert_allclose(grad / z.size, their_grad.numpy().ravel(), rtol=1e-10,
                               atol=1e-16)


def test_matches_kornia_two_class_softmax():
    """kornia sums TP, FP and FN over every class channel as well (dims (1, 2, 3)): one index
    per sample. With two classes and logits [0, z] the channels are the foreground
    (p = sigmoid(z), y) and the background (sigmoid(-z), 1 - y), so kornia's loss is gbloss's
    with each sample's rows and their background twins (1 - y, -z) in one group. (This makes
    alpha and beta act alike there: FP of one channel is FN of the other.) kornia adds
    eps = 1e-8 to the denominator only; gbloss's smooth is 0."""
    rng = np.random.default_rng(4)
    z = rng.normal(scale=2.0, size=(2, 3, 4))
    y = (rng.random(z.shape) < 0.4).astype(np.int64)
    logits = torch.stack([torch.zeros(z.shape, dtype=torch.float64), torch.as_tensor(z)], 1)
    theirs = float(kornia_tversky_loss(logits, torch.as_tensor(y), 0.3, 0.7))
    yf = y.astype(np.float64).reshape(2, -1)
    zf = z.reshape(2, -1)
    rows_y = np.concatenate([yf, 1 - yf], axis=1).ravel()
    rows_z = np.concatenate([zf, -zf], axis=1).ravel()
    ours = gbloss.tversky(alpha=0.3, beta=0.7, smooth=0.0).loss(rows_y, rows_z, group=[24, 24])
    assert ours == pytest.approx(theirs, rel=1e-7)


# ------------------------------------------------------------------------ init score
def test_no_finite_constant_minimiser_so_the_init_is_the_log_odds():
    """At a constant p the Tversky index is monotone in p (its derivative has the sign of
    (alpha N - beta Y) s - beta Y^2 whatever p): scipy on the torch reference ends at a
    bound; the init score is the log-odds of the positive rate, as Dice's."""
    y, _, w = _data(n=120)
    yt, wt = torch.as_tensor(y), torch.as_tensor(w)
    for params in PARAMS[:3]:
        def objective(p, params=params):  # over the constant probability p
            z = torch.full((len(y),), float(np.log(p / (1 - p))), dtype=torch.float64)
            return float(torch_tversky(yt, z, wt, [len(y)], **params))

        res = optimize.minimize_scalar(objective, bounds=(1e-6, 1 - 1e-6), method="bounded",
                                       options={"xatol": 1e-10})
        assert min(res.x, 1 - res.x) < 1e-5  # at a bound
        pos, neg = np.sum(w * y), np.sum(w * (1 - y))
        slope = (params["alpha"] * neg - params["beta"] * pos) * params["smooth"] \
            - params["beta"] * pos ** 2
        assert (res.x < 0.5) == (slope > 0)  # dr/dp > 0: p -> 0
        init = gbloss.tversky(**params).init_score(y, w)
        assert init == pytest.approx(np.log(pos / neg), rel=1e-12)


# ------------------------------------------------------------------------ bad params
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"alpha": -0.1}, "alpha"), ({"beta": np.nan}, "beta"), ({"gamma": 0.0}, "gamma"),
    ({"smooth": -1.0}, "smooth"), ({"alpha": 0.0, "beta": 0.0}, "both 0"),
    ({"hessian": "xgboost"}, "hessian"), ({"alpha": "0.3"}, "alpha"),
])
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gbloss.tversky(**kwargs)
    if "hessian" not in kwargs and not isinstance(kwargs.get("alpha"), str):
        with pytest.raises(ValueError, match=match):
            gbloss.torch.TverskyLoss(**kwargs)


def test_multiclass_data_is_rejected():
    with pytest.raises(ValueError, match="does not support"):
        gbloss.tversky().gradient_hessian(np.array([0, 1, 2]), np.zeros((3, 3)))


# ----------------------------------------------------------------------------- boosters
def _pixels(n_groups=6, size=50, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_groups * size, 3))
    y = ((X[:, 0] + 0.5 * rng.normal(size=len(X))) > 1.0).astype(np.float64)
    return X, y, np.full(n_groups, size)


def test_boosters_hand_the_groups_to_the_loss():
    X, y, sizes = _pixels()
    raw = np.random.default_rng(0).normal(size=len(y)).astype(np.float32)
    loss = gbloss.tversky(gamma=0.75)
    per_group = loss.gradient_hessian(y, raw, group=sizes)
    whole = loss.gradient_hessian(y, raw)
    assert not np.allclose(per_group[0], whole[0])
    d = xgb.DMatrix(X, label=y, qid=np.repeat(np.arange(len(sizes)), sizes))
    for ours, ref in zip(loss(raw, d), per_group, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-6)
    ds = lgb.Dataset(X, label=y, group=sizes, params={"verbose": -1}).construct()
    for ours, ref in zip(loss(raw.astype(np.float64), ds), per_group, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    for ours, ref in zip(loss(y, raw.astype(np.float64), None, sizes), per_group, strict=True):
        np.testing.assert_allclose(ours, ref, rtol=1e-5)  # LightGBM's scikit-learn call
    name, value = loss.metric(raw, d)
    assert name == "tversky"
    np.testing.assert_allclose(value, loss.loss(y, raw, group=sizes), rtol=1e-6)


def test_training_lowers_the_loss():
    X, y, sizes = _pixels(n_groups=8, size=60)
    loss = gbloss.tversky()
    qid = np.repeat(np.arange(len(sizes)), sizes)
    d = xgb.DMatrix(X, label=y, qid=qid)
    history: dict = {}
    gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, d, loss, 15,
                         evals=[(d, "train")], evals_result=history, verbose_eval=False)
    values = history["train"]["tversky"]
    assert values[-1] < values[0] - 0.05
    booster = gbloss.lightgbm.train({"num_leaves": 7, "learning_rate": 0.3, "verbose": -1,
                                     "num_threads": 1, "min_data_in_leaf": 5},
                                    lgb.Dataset(X, label=y, group=sizes), loss, 15)
    raw = booster.predict(X, raw_score=True)
    start = loss.loss(y, np.full(len(y), loss.init_score(y)), group=sizes)
    assert loss.loss(y, raw, group=sizes) < start - 0.05


@pytest.mark.parametrize("booster", ["xgboost", "lightgbm"])
def test_estimator_with_groups(booster):
    from gbloss.sklearn import GBLossClassifier

    X, y, sizes = _pixels(n_groups=8, size=60)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    loss = gbloss.tversky()
    start = loss.loss(y, np.full(len(y), loss.init_score(y)), group=sizes)
    clf = GBLossClassifier(loss, booster=booster, n_estimators=15, learning_rate=0.3,
                           n_jobs=1, random_state=0).fit(X, y, groups=groups)
    raw = clf.decision_function(X)
    assert loss.loss(y, raw, group=sizes) < start - 0.05
    assert clf.predict_proba(X).shape == (len(y), 2)


# ----------------------------------------------------------------------------- state, torch
def test_pickle_clone_and_params():
    from sklearn.base import clone

    loss = gbloss.tversky(alpha=0.2, beta=0.8, gamma=0.75, smooth=0.5, hessian="exact")
    for other in (pickle.loads(pickle.dumps(loss)), clone(loss), copy.deepcopy(loss)):
        assert other.params == loss.params
    assert repr(loss) == ("TverskyLoss(alpha=0.2, beta=0.8, gamma=0.75, smooth=0.5, "
                          "hessian='exact')")


@pytest.mark.parametrize("batch", [False, True])
def test_torch_twin_equals_the_boosting_loss(batch):
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3, 2, 4)) * 2
    z.reshape(-1)[:2] = [0.0, 1e4]
    y = (rng.random((3, 2, 4)) < 0.4).astype(float)
    w = rng.random((3, 2, 4))
    params = {"alpha": 0.3, "beta": 0.7, "gamma": 0.75, "smooth": 1.0}
    sizes = None if batch else [8, 8, 8]
    loss = gbloss.tversky(hessian="exact", **params)
    zt = torch.tensor(z, requires_grad=True)
    fn = gbloss.torch.functional.tversky_loss
    mean = fn(zt, torch.as_tensor(y), batch=batch, weight=torch.as_tensor(w), **params)
    assert float(mean.detach()) == pytest.approx(
        loss.loss(y.ravel(), z.ravel(), w.ravel(), group=sizes), rel=1e-12)
    (g,) = torch.autograd.grad(mean, zt, create_graph=True)
    grad, hess = loss.gradient_hessian(y.ravel(), z.ravel(), w.ravel(), group=sizes)
    np.testing.assert_allclose(g.detach().numpy().ravel() * w.sum(), grad, rtol=1e-10,
                               atol=1e-14)
    full = torch.autograd.functional.hessian(
        lambda v: fn(v.reshape(z.shape), torch.as_tensor(y), batch=batch,
                     weight=torch.as_tensor(w), **params) * w.sum(),
        torch.as_tensor(z).reshape(-1))
    np.testing.assert_allclose(torch.diagonal(full).numpy(), hess, rtol=1e-8, atol=1e-13)
    module = gbloss.torch.TverskyLoss(batch=batch, reduction="sum", **params)
    none = fn(zt, torch.as_tensor(y), batch=batch, reduction="none", **params)
    assert float(module(zt, torch.as_tensor(y)).detach()) == pytest.approx(
        float(none.detach().sum()), rel=1e-13)
