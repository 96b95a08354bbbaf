"""Asymmetric losses: ASL (gbloss.asymmetric) and gbdtCBL's ACE / AWE (gbloss.ace, gbloss.awe).

Oracles, none of them gbloss code:

* torch definitions written here from the formulas (Ridnik et al. 2021; the
  ``ASLSingleLabel`` definition; the ACE loss whose gradient is gbdtCBL's),
  differentiated by autograd in float64;
* the reference implementations re-typed from their stored copies:
  Alibaba-MIIL/ASL ``src/loss_functions/losses.py`` (commit 05b193d8) and
  Luojiaqimath/ClassbalancedLoss4GBDT ``ibloss/binary.py`` (commit 0e5d949d);
* scipy minimisers for the init scores, on the torch definitions.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit

import gbloss
from gbloss import ACELoss, AsymmetricLoss

torch = pytest.importorskip("torch")
Module: Any = torch.nn.Module  # (torch comes from importorskip: untyped for mypy)
F = torch.nn.functional


# --------------------------------------------------------------- torch definitions
def t64(a):
    return torch.as_tensor(np.array(a, dtype=np.float64))


def asl_rows(y, z, gp, gn, clip):
    """Binary / multi-label ASL per element: -y (1-p)^gp log p - (1-y) p_m^gn log(1 - p_m)."""
    pos = -torch.exp(gp * F.logsigmoid(-z)) * F.logsigmoid(z)
    if clip == 0:  # log space (p rounds to 1 at large z)
        neg = -torch.exp(gn * F.logsigmoid(z)) * F.logsigmoid(-z)
    else:
        pm = torch.clamp(torch.sigmoid(z) - clip, min=0)
        neg = -(pm ** gn) * torch.log1p(-pm) if gn else -torch.log1p(-pm)
    return y * pos + (1 - y) * neg


def single_label_rows(t, z, gp, gn, eps):
    """ASLSingleLabel per row, from its definition."""
    k = z.shape[1]
    log_p = torch.log_softmax(z, -1)
    p = log_p.exp()
    onehot = F.one_hot(t, k).double()
    focus = torch.where(onehot > 0, (1 - p) ** gp, p ** gn)
    target = onehot * (1 - eps) + eps / k
    return -(target * focus * log_p).sum(-1)


def ace_rows(y, z, m, r):
    """r y CE + (1 - y) KL(Bern(m) || Bern(p)) [p > m]."""
    p = torch.sigmoid(z)
    kl = m * (np.log(m) - F.logsigmoid(z)) + (1 - m) * (np.log1p(-m) - F.logsigmoid(-z))
    return -r * y * F.logsigmoid(z) + (1 - y) * torch.where(p > m, kl, torch.zeros_like(kl))


def autograd(rows_fn, z):
    """Per-row values, gradient and Hessian diagonal of sum(rows) in z."""
    zt = t64(z).requires_grad_(True)
    rows = rows_fn(zt)
    (grad,) = torch.autograd.grad(rows.sum(), zt, create_graph=True)
    if zt.ndim == 1:
        (hess,) = torch.autograd.grad(grad.sum(), zt)
    else:
        hess = torch.stack([torch.autograd.grad(grad[:, j].sum(), zt, retain_graph=True)[0][:, j]
                            for j in range(zt.shape[1])], 1)
    return rows.detach().numpy(), grad.detach().numpy(), hess.detach().numpy()


def margins(rng, shape, clip=None):
    """Normal margins plus extreme ones; none within 1e-6 of the kink logit(clip)."""
    z = rng.normal(0, 4, shape)
    z.reshape(-1)[:8] = [-40, -20, -9, 9, 20, 40, 0, 1e-7]
    if clip:
        kink = np.log(clip / (1 - clip))
        z = np.where(np.abs(z - kink) < 1e-6, z + 1e-3, z)
    return z


ASL_PARAMS = [(0.0, 4.0, 0.05), (1.0, 4.0, 0.05), (0.5, 0.5, 0.1), (0.0, 0.0, 0.05),
              (2.0, 2.0, 0.0), (1.5, 3.3, 0.2), (0.0, 1.0, 0.0)]


# ------------------------------------------------------------- derivatives vs autograd
@pytest.mark.parametrize(("gp", "gn", "clip"), ASL_PARAMS)
@pytest.mark.parametrize("task", ["binary", "multilabel", "soft"])
def test_sigmoid_asl_matches_autograd(rng, gp, gn, clip, task):
    shape = (60,) if task != "multilabel" else (40, 3)
    z = margins(rng, shape, clip)
    y = (rng.random(shape) < 0.3).astype(float) if task != "soft" else rng.random(shape)
    w = rng.uniform(0.2, 3, shape[0])
    loss = gbloss.asymmetric(gp, gn, clip, hessian="exact")
    ww = w if z.ndim == 1 else w[:, None]
    _, g_ref, h_ref = autograd(lambda zt: t64(ww) * asl_rows(t64(y), zt, gp, gn, clip), z)
    g, h = loss.gradient_hessian(y, z, w)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(h, h_ref, rtol=1e-9, atol=1e-13)
    values = autograd(lambda zt: asl_rows(t64(y), zt, gp, gn, clip), z)[0]
    values = values if values.ndim == 1 else values.sum(1)
    np.testing.assert_allclose(loss.loss(y, z, w), np.average(values, weights=w), rtol=1e-12)


@pytest.mark.parametrize(("gp", "gn", "eps"), [(0.0, 4.0, 0.1), (1.0, 2.0, 0.3), (0.5, 0.5, 0.1),
                                               (0.0, 0.0, 0.1), (2.0, 2.0, 0.0), (1.5, 3.3, 1.0)])
def test_single_label_asl_matches_autograd(rng, gp, gn, eps):
    k = 4
    z = margins(rng, (50, k))
    t = rng.integers(0, k, 50)
    loss = gbloss.asymmetric(gp, gn, label_smoothing=eps, hessian="exact")
    rows, g_ref, h_ref = autograd(lambda zt: single_label_rows(torch.as_tensor(t), zt, gp, gn,
                                                                eps), z)
    g, h = loss.gradient_hessian(t, z)
    np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h, h_ref, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(loss.loss(t, z), rows.mean(), rtol=1e-12)


@pytest.mark.parametrize(("m", "r"), [(0.05, 1.0), (0.2, 3.0), (0.5, 0.5)])
@pytest.mark.parametrize("shape", [(80,), (30, 3)])
def test_ace_matches_autograd(rng, m, r, shape):
    z = margins(rng, shape, m)
    y = (rng.random(shape) < 0.3).astype(float)
    loss = gbloss.awe(r, m, hessian="exact")
    rows, g_ref, h_ref = autograd(lambda zt: ace_rows(t64(y), zt, m, r), z)
    g, h = loss.gradient_hessian(y, z)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(h, h_ref, rtol=1e-10, atol=1e-13)
    rows = rows if rows.ndim == 1 else rows.sum(1)
    np.testing.assert_allclose(loss.loss(y, z), rows.mean(), rtol=1e-12)


def test_kink_takes_the_left_limit_and_hessian_policy():
    clip = 0.25
    kink = np.log(clip / (1 - clip))  # sigmoid(kink) rounds to clip or next to it
    z = np.array([kink - 1e-9, kink, kink + 1e-3, 3.0, 8.0, 20.0])
    y = np.zeros_like(z)
    g, h = gbloss.asymmetric(0.0, 0.0, clip, hessian="exact").gradient_hessian(y, z)
    assert g[0] == 0
    assert h[0] == 0
    p = expit(z[2])
    assert g[2] == pytest.approx(p * (1 - p) / (1 - p + clip), rel=1e-12)  # the jump (gamma=0)
    assert np.any(h < 0)  # a negative's loss is bounded: not convex
    g_auto, h_auto = gbloss.asymmetric(0.0, 0.0, clip).gradient_hessian(y, z)
    np.testing.assert_array_equal(g_auto, g)
    assert np.all(h_auto > 0)
    keep = h >= gbloss.HESSIAN_FLOOR
    np.testing.assert_array_equal(h_auto[keep], h[keep])


# ------------------------------------------------------------- reference code (re-typed)
class RefAsymmetricLoss(Module):
    """Alibaba-MIIL/ASL, src/loss_functions/losses.py (commit 05b193d8), AsymmetricLoss,
    re-typed (the commented-out `disable_torch_grad_focal_loss` lines left out)."""

    def __init__(self, gamma_neg=4, gamma_pos=1, clip=0.05, eps=1e-8):
        super().__init__()
        self.gamma_neg, self.gamma_pos, self.clip, self.eps = gamma_neg, gamma_pos, clip, eps

    def forward(self, x, y):
        x_sigmoid = torch.sigmoid(x)
        xs_pos = x_sigmoid
        xs_neg = 1 - x_sigmoid
        if self.clip is not None and self.clip > 0:
            xs_neg = (xs_neg + self.clip).clamp(max=1)
        los_pos = y * torch.log(xs_pos.clamp(min=self.eps))
        los_neg = (1 - y) * torch.log(xs_neg.clamp(min=self.eps))
        loss = los_pos + los_neg
        if self.gamma_neg > 0 or self.gamma_pos > 0:
            pt0 = xs_pos * y
            pt1 = xs_neg * (1 - y)
            pt = pt0 + pt1
            one_sided_gamma = self.gamma_pos * y + self.gamma_neg * (1 - y)
            one_sided_w = torch.pow(1 - pt, one_sided_gamma)
            loss *= one_sided_w
        return -loss.sum()


class RefASLSingleLabel(Module):
    """Alibaba-MIIL/ASL, src/loss_functions/losses.py (commit 05b193d8), ASLSingleLabel,
    re-typed."""

    def __init__(self, gamma_pos=0, gamma_neg=4, eps: float = 0.1, reduction="mean"):
        super().__init__()
        self.eps = eps
        self.logsoftmax = torch.nn.LogSoftmax(dim=-1)
        self.targets_classes: list = []
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg
        self.reduction = reduction

    def forward(self, inputs, target, reduction=None):
        num_classes = inputs.size()[-1]
        log_preds = self.logsoftmax(inputs)
        self.targets_classes = torch.zeros_like(inputs).scatter_(1, target.long().unsqueeze(1), 1)
        targets = self.targets_classes
        anti_targets = 1 - targets
        xs_pos = torch.exp(log_preds)
        xs_neg = 1 - xs_pos
        xs_pos = xs_pos * targets
        xs_neg = xs_neg * anti_targets
        asymmetric_w = torch.pow(1 - xs_pos - xs_neg,
                                 self.gamma_pos * targets + self.gamma_neg * anti_targets)
        log_preds = log_preds * asymmetric_w
        if self.eps > 0:
            self.targets_classes.mul_(1 - self.eps).add_(self.eps / num_classes)
        loss = - self.targets_classes.mul(log_preds)
        loss = loss.sum(dim=-1)
        if self.reduction == "mean":
            loss = loss.mean()
        return loss


@pytest.mark.parametrize(("gp", "gn", "clip"), [(1, 4, 0.05), (0, 4, 0.05), (2, 1, 0.1),
                                                (0, 2, 0.0)])
def test_multilabel_asl_equals_the_reference_code(rng, gp, gn, clip):
    z = rng.normal(0, 3, (64, 5))  # |z| < 18: the reference's log clamp at 1e-8 is inactive
    y = (rng.random((64, 5)) < 0.2).astype(float)
    zt = t64(z).requires_grad_(True)
    ref = RefAsymmetricLoss(gamma_neg=gn, gamma_pos=gp, clip=clip)(zt, t64(y))
    (ref_grad,) = torch.autograd.grad(ref, zt)
    loss = gbloss.asymmetric(gp, gn, clip)
    # the reference sums every element; Loss.loss averages the per-row sums
    assert loss.loss(y, z) * z.shape[0] == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.gradient_hessian(y, z)[0], ref_grad.numpy(), rtol=1e-10,
                               atol=1e-14)


@pytest.mark.parametrize(("gp", "gn", "eps"), [(0, 4, 0.1), (1, 2, 0.0), (2, 3, 0.2)])
def test_single_label_asl_equals_the_reference_code(rng, gp, gn, eps):
    z = rng.normal(0, 3, (64, 4))
    t = rng.integers(0, 4, 64)
    zt = t64(z).requires_grad_(True)
    ref = RefASLSingleLabel(gamma_pos=gp, gamma_neg=gn, eps=eps)(zt, torch.as_tensor(t))
    loss = gbloss.asymmetric(gp, gn, label_smoothing=eps)
    assert loss.loss(t, z) == pytest.approx(ref.item(), rel=1e-12)
    grad = loss.gradient_hessian(t, z)[0] / z.shape[0]  # of the mean
    if eps > 0:
        # the reference scales its targets in place after autograd saved them: its own
        # backward refuses (a defect of the reference); the same code without the in-place
        # update gives the gradient
        with pytest.raises(RuntimeError, match="inplace"):
            torch.autograd.grad(ref, zt)
        zt = t64(z).requires_grad_(True)
        ref = single_label_rows(torch.as_tensor(t), zt, gp, gn, eps).mean()
    (ref_grad,) = torch.autograd.grad(ref, zt)
    np.testing.assert_allclose(grad, ref_grad.numpy(), rtol=1e-10, atol=1e-15)


class RefACELoss:
    """Luojiaqimath/ClassbalancedLoss4GBDT, ibloss/binary.py (commit 0e5d949d), ACELoss."""

    def __init__(self, m, clip_value=1e-7):
        self.m = m
        self.clip_value = clip_value

    def __call__(self, y_true, preds):
        pred = 1 / (1 + np.exp(-preds))
        prob = np.clip(pred, self.clip_value, 1 - self.clip_value)
        prob_m = 1 - np.maximum(prob - self.m, self.clip_value)
        grad = y_true * self.grad(prob) - (1 - y_true) * self.grad(prob_m)
        hess = y_true * self.hess(prob) + (1 - y_true) * self.hess(prob_m)
        return grad, hess

    def grad(self, p):
        return p - 1

    def hess(self, p):
        return p * (1 - p)


class RefAWELoss:
    """ibloss/binary.py (commit 0e5d949d), AWELoss."""

    def __init__(self, r1, m, clip_value=1e-7):
        self.r1 = r1
        self.m = m
        self.clip_value = clip_value

    def __call__(self, y_true, preds):
        pred = 1 / (1 + np.exp(-preds))
        prob = np.clip(pred, self.clip_value, 1 - self.clip_value)
        prob_m = 1 - np.maximum(prob - self.m, self.clip_value)
        grad = self.r1 * y_true * self.grad(prob) - (1 - y_true) * self.grad(prob_m)
        hess = self.r1 * y_true * self.hess(prob) + (1 - y_true) * self.hess(prob_m)
        return grad, hess

    def grad(self, p):
        return p - 1

    def hess(self, p):
        return p * (1 - p)


class RefASLLoss:
    """ibloss/binary.py (commit 0e5d949d), ASLLoss."""

    def __init__(self, r1, r2, m, clip_value=1e-7):
        self.r1, self.r2, self.m, self.clip_value = r1, r2, m, clip_value

    def __call__(self, y_true, preds):
        pred = 1 / (1 + np.exp(-preds))
        prob = np.clip(pred, self.clip_value, 1 - self.clip_value)
        prob_m = 1 - np.maximum(prob - self.m, self.clip_value)
        grad = y_true * self.grad(prob, self.r1) - (1 - y_true) * self.grad(prob_m, self.r2)
        hess = y_true * (self.hess1(prob, self.r1) + self.hess2(prob, self.r1)) + \
            (1 - y_true) * (self.hess1(prob_m, self.r2) + self.hess2(prob_m, self.r2))
        return grad, hess

    def grad(self, p, r):
        return ((1 - p) ** r) * (r * p * np.log(p) + p - 1)

    def hess1(self, p, r):
        return ((1 - p) ** r) * (-r * (r - 1) * p ** 2 * np.log(p) - 2 * r * p * (p - 1)
                                 + (p - 1) ** 2)

    def hess2(self, p, r):
        return ((1 - p) ** r) * (1 - 2 * p) * (r * p * np.log(p) + p - 1)


@pytest.mark.parametrize(("m", "r"), [(0.05, 1.0), (0.1, 4.0), (0.3, 0.5)])
def test_ace_and_awe_equal_gbdtcbl(rng, m, r):
    z = rng.normal(0, 3, 400)  # |z| < 16: gbdtCBL's clip of p at 1e-7 is inactive
    y = (rng.random(400) < 0.3).astype(float)
    ref = RefACELoss(m) if r == 1 else RefAWELoss(r, m)
    g_ref, h_ref = ref(y, z)
    ours = gbloss.ace(m) if r == 1 else gbloss.awe(r, m)
    g, _ = ours.gradient_hessian(y, z)
    # gbdtCBL floors the negatives' gradient max(p - m, 0) at 1e-7
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1.01e-7)
    active = (y == 1) | (expit(z) > m + 1e-7)
    np.testing.assert_allclose(g[active], g_ref[active], rtol=1e-12, atol=1e-15)
    _, h2 = gbloss.awe(r, m, hessian="gbdtcbl").gradient_hessian(y, z)
    np.testing.assert_allclose(h2, h_ref, rtol=1e-12, atol=1e-15)  # gbdtCBL's Hessian
    # the exact Hessian: p (1 - p) where p > m, as gbdtCBL's p_m (1 - p_m) is not
    p = expit(z)
    exact = np.where(y == 1, r * p * (1 - p), np.where(p > m, p * (1 - p), 0))
    np.testing.assert_allclose(gbloss.awe(r, m, hessian="exact").gradient_hessian(y, z)[1],
                               exact, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("r1", "r2", "m"), [(0.0, 4.0, 0.05), (1.0, 2.0, 0.1), (2.0, 2.0, 0.2)])
def test_gbdtcbl_asl_is_asl_without_the_chain_rule(rng, r1, r2, m):
    """gbdtCBL's ASLLoss differentiates ASL with p_m (1 - p_m) in place of dp/dz = p (1 - p)."""
    z = rng.normal(0, 3, 400)
    y = (rng.random(400) < 0.3).astype(float)
    g_ref, _ = RefASLLoss(r1, r2, m)(y, z)
    g, _ = gbloss.asymmetric(r1, r2, m).gradient_hessian(y, z)
    pos = y == 1
    np.testing.assert_allclose(g[pos], g_ref[pos], rtol=1e-10, atol=1e-15)
    p = expit(z)
    neg = (y == 0) & (p > m + 1e-6)
    pm = p[neg] - m
    np.testing.assert_allclose(g[neg], g_ref[neg] * p[neg] * (1 - p[neg]) / (pm * (1 - pm)),
                               rtol=1e-9)


# ------------------------------------------------------------- focal as a special case
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.0])
@pytest.mark.parametrize("task", ["binary", "multilabel", "multiclass"])
def test_equal_gammas_without_clip_is_focal(rng, gamma, task):
    shape = (50,) if task == "binary" else (50, 3)
    z = margins(rng, shape)
    y = rng.integers(0, 3, 50) if task == "multiclass" else (rng.random(shape) < 0.3) * 1.0
    w = rng.uniform(0.5, 2, 50)
    for hessian in ("exact", "auto"):
        asl = gbloss.asymmetric(gamma, gamma, clip=0.0, label_smoothing=0.0, hessian=hessian)
        focal = gbloss.focal(gamma, hessian=hessian)
        np.testing.assert_allclose(asl.loss(y, z, w), focal.loss(y, z, w), rtol=1e-14)
        for a, b in zip(asl.gradient_hessian(y, z, w), focal.gradient_hessian(y, z, w),
                        strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_the_clipped_term_tends_to_focal_as_the_clip_vanishes(rng, gamma):
    """Checks the clipped negative branch against focal's, which it must reach as clip -> 0."""
    z = rng.normal(0, 3, 200)
    y = np.zeros(200)
    tiny = gbloss.asymmetric(gamma, gamma, clip=1e-14, hessian="exact")
    focal = gbloss.focal(gamma, hessian="exact")
    for a, b in zip(tiny.gradient_hessian(y, z), focal.gradient_hessian(y, z), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


# ------------------------------------------------------------- extreme margins, init scores
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [gbloss.asymmetric(), gbloss.asymmetric(0.5, 0.3, 0.1),
                                  gbloss.asymmetric(0.0, 0.0, 0.05), gbloss.ace(),
                                  gbloss.awe(3.0, 0.1)], ids=repr)
def test_finite_and_positive_at_extreme_margins(loss, dtype):
    top = float(np.finfo(dtype).max)
    for scale in (30.0, 1e4, 1e30, top):
        base = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [0.0, 1.0, -1.0]])
        z = (base * scale).astype(dtype)
        y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
        tasks = [(y, z), (y[:, 0], z[:, 0])]
        if isinstance(loss, AsymmetricLoss):
            tasks.append((np.array([0, 1, 2]), z))
        for labels, raw in tasks:
            g, h = loss.gradient_hessian(labels, raw)
            assert g.dtype == raw.dtype
            assert np.all(np.isfinite(g))
            assert np.all(np.isfinite(h))
            assert np.all(h > 0)
            assert not np.isnan(loss.loss(labels, raw))


def _asl_pos(p, gp):
    return -(1 - p) ** gp * np.log(p)


def _asl_neg(p, gn, clip):
    pm = np.maximum(p - clip, 0)
    return -pm ** gn * np.log1p(-pm)


def _ace_neg(p, m):
    return np.where(p > m, m * np.log(m / p) + (1 - m) * np.log((1 - m) / (1 - p)), 0.0)


@pytest.mark.parametrize(("loss", "pos_fn", "neg_fn"), [
    (gbloss.asymmetric(), lambda p: _asl_pos(p, 0.0), lambda p: _asl_neg(p, 4.0, 0.05)),
    (gbloss.asymmetric(1.0, 2.0, 0.2), lambda p: _asl_pos(p, 1.0),
     lambda p: _asl_neg(p, 2.0, 0.2)),
    (gbloss.ace(0.1), lambda p: -np.log(p), lambda p: _ace_neg(p, 0.1)),
    (gbloss.awe(4.0, 0.05), lambda p: -4.0 * np.log(p), lambda p: _ace_neg(p, 0.05)),
], ids=["asl", "asl-2", "ace", "awe"])
@pytest.mark.parametrize("rate", [0.05, 0.3, 0.7])
def test_binary_init_score_is_the_argmin(rng, loss, pos_fn, neg_fn, rate):
    """Against scipy on numpy definitions of the constant-margin total (the formulas)."""
    y = (rng.random(500) < rate).astype(float)
    w = rng.uniform(0.5, 2.0, 500)
    pos, neg = float(w @ y), float(w @ (1 - y))

    def total(c):
        p = expit(c)
        return float(pos * pos_fn(p) + neg * neg_fn(p))

    grid = np.linspace(-30, 30, 1201)
    start = grid[np.argmin([total(c) for c in grid])]
    best = optimize.minimize_scalar(total, bracket=(start - 0.05, start + 0.05), tol=1e-12).x
    init = loss.init_score(y, w)
    assert init == pytest.approx(best, abs=1e-5)
    assert total(init) <= total(best) + 1e-12 * abs(total(best))


def test_multilabel_and_multiclass_init_scores_are_the_argmin(rng):
    Y = (rng.random((400, 3)) < [0.05, 0.2, 0.6]).astype(float)
    init = gbloss.asymmetric().init_score(Y)
    for j in range(3):
        assert init[j] == pytest.approx(gbloss.asymmetric().init_score(Y[:, j]), abs=1e-12)
    t = rng.choice(3, 400, p=[0.7, 0.2, 0.1])
    counts = np.bincount(t, minlength=3)
    loss = gbloss.asymmetric(1.0, 4.0, label_smoothing=0.2)

    def total(c):  # ASLSingleLabel at constant margins, from its definition
        c = np.append(c, -c.sum())
        log_p = c - np.logaddexp.reduce(c)
        p = np.exp(log_p)
        rows = [-(1 - 0.2 + 0.2 / 3) * (1 - p[j]) * log_p[j]
                - sum(0.2 / 3 * p[i] ** 4 * log_p[i] for i in range(3) if i != j)
                for j in range(3)]
        return float(counts @ rows)

    best = optimize.minimize(total, np.zeros(2), method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000}).x
    init = loss.init_score(t, n_classes=3)
    assert init.sum() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(init[:2], best, atol=1e-5)


# ------------------------------------------------------------- boosters and estimators
def _multilabel(n=1500, k=4, seed=3):
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 6)).astype(np.float32)
    Y = (r.random((n, k)) < expit(2 * X[:, :k] - 3.5)).astype(np.float32)  # ~6% positives
    return X, Y


def test_asl_raises_recall_on_multilabel_data_in_xgboost_and_lightgbm():
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    import gbloss.lightgbm
    import gbloss.xgboost

    X, Y = _multilabel()
    recall = {}
    for name, loss in (("ce", gbloss.cross_entropy()), ("asl", gbloss.asymmetric())):
        d = xgb.DMatrix(X, Y)
        bst = gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, d, loss, 20)
        p = bst.predict(d)
        assert p.shape == Y.shape
        recall[name] = float(((p > 0.5) & (Y == 1)).sum() / Y.sum())
        # trained: the ASL loss falls well below its value at the init score
        raw = bst.predict(d, output_margin=True)
        base = np.tile(loss.init_score(Y), (Y.shape[0], 1))
        assert loss.loss(Y, raw) < 0.8 * loss.loss(Y, base)
    assert recall["asl"] > recall["ce"] + 0.1
    # LightGBM: binary data, one column (a copy: LightGBM warns about sliced arrays)
    y = np.ascontiguousarray(Y[:, 0])
    ds = lgb.Dataset(X, y)
    params = {"num_leaves": 7, "learning_rate": 0.3, "num_threads": 1, "verbose": -1}
    preds = {}
    for name, loss in (("ce", gbloss.cross_entropy()), ("asl", gbloss.asymmetric())):
        bst = gbloss.lightgbm.train(params, ds, loss, 20)
        preds[name] = expit(bst.predict(X, raw_score=True))
    rec = {k: float(((v > 0.5) & (y == 1)).sum() / y.sum()) for k, v in preds.items()}
    assert rec["asl"] > rec["ce"] + 0.1


@pytest.mark.parametrize("loss", [gbloss.asymmetric(), gbloss.awe(3.0, 0.05)], ids=repr)
def test_native_and_sklearn_apis(loss):
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    import gbloss.xgboost
    from gbloss.sklearn import GBLossClassifier

    X, Y = _multilabel(800, 1)
    y = Y[:, 0]
    d = xgb.DMatrix(X, y)
    bst = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1, "disable_default_eval_metric": 1,
                     "base_score": float(expit(loss.init_score(y)))}, d, 10, obj=loss,
                    custom_metric=loss.metric)
    native = bst.predict(d)
    lgb_bst = lgb.train({"objective": loss, "metric": "None", "verbose": -1, "num_threads": 1},
                        lgb.Dataset(X, y), 10, feval=loss.metric)
    clf_x = xgb.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1,
                              **gbloss.xgboost.estimator_params(loss, y)).fit(X, y)
    clf_l = lgb.LGBMClassifier(objective=loss, n_estimators=10, verbose=-1, n_jobs=1).fit(X, y)
    ours = [GBLossClassifier(loss, booster=b, n_estimators=10, n_jobs=1, random_state=0)
            .fit(X, y) for b in ("xgboost", "lightgbm")]
    from sklearn.metrics import roc_auc_score

    scores = [roc_auc_score(y, native), roc_auc_score(y, lgb_bst.predict(X, raw_score=True)),
              roc_auc_score(y, clf_x.predict_proba(X)[:, 1]),
              roc_auc_score(y, clf_l.predict(X, raw_score=True)),
              *(roc_auc_score(y, c.predict_proba(X)[:, 1]) for c in ours)]
    assert min(scores) > 0.85, scores


def test_multiclass_single_label_trains():
    xgb = pytest.importorskip("xgboost")
    import gbloss.xgboost

    r = np.random.default_rng(5)
    X = r.normal(size=(900, 5)).astype(np.float32)
    t = np.digitize(X[:, 0] + 0.5 * r.normal(size=900), [-1.0, 1.2]).astype(np.float32)
    loss = gbloss.asymmetric(0.0, 4.0, label_smoothing=0.1)
    d = xgb.DMatrix(X, t)
    bst = gbloss.xgboost.train({"num_class": 3, "max_depth": 3, "eta": 0.3, "nthread": 1},
                               d, loss, 15)
    p = bst.predict(d)
    assert p.shape == (900, 3)
    assert np.mean(p.argmax(1) == t) > 0.8


# ------------------------------------------------------------- state, errors
@pytest.mark.parametrize("loss", [gbloss.asymmetric(1.0, 3.0, 0.1, label_smoothing=0.2),
                                  gbloss.awe(2.0, 0.1, hessian="gbdtcbl")], ids=repr)
def test_pickle_and_clone(rng, loss):
    from sklearn.base import clone

    y, z = (rng.random(30) < 0.4) * 1.0, rng.normal(size=30)
    for copy in (pickle.loads(pickle.dumps(loss)), clone(loss)):
        assert type(copy) is type(loss)
        assert copy.params == loss.params
        for a, b in zip(copy.gradient_hessian(y, z), loss.gradient_hessian(y, z), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("factory", "kwargs", "match"), [
    (gbloss.asymmetric, {"gamma_pos": -1.0}, "gamma_pos"),
    (gbloss.asymmetric, {"gamma_neg": float("nan")}, "gamma_neg"),
    (gbloss.asymmetric, {"clip": 1.0}, "clip"),
    (gbloss.asymmetric, {"clip": -0.1}, "clip"),
    (gbloss.asymmetric, {"label_smoothing": 1.5}, "label_smoothing"),
    (gbloss.asymmetric, {"hessian": "gbdtcbl"}, "hessian"),
    (gbloss.ace, {"margin": 1.0}, "margin"),
    (gbloss.ace, {"pos_weight": 0.0}, "pos_weight"),
    (gbloss.awe, {"pos_weight": -2.0}, "pos_weight"),
    (gbloss.ace, {"hessian": "xgboost"}, "hessian"),
])
def test_bad_parameters_raise(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_ace_refuses_multiclass_data():
    with pytest.raises(ValueError, match="does not support multiclass"):
        gbloss.ace().gradient_hessian(np.array([0, 1, 2]), np.zeros((3, 3)))
    assert isinstance(gbloss.awe(), ACELoss)


# ------------------------------------------------------------- gbloss.torch twins
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("params", [(0.0, 4.0, 0.05), (1.0, 2.0, 0.0), (0.5, 0.0, 0.1)])
def test_torch_twin_equals_the_boosting_loss(rng, dtype, params):
    import gbloss.torch as gt

    z = margins(rng, (30, 4))
    y = (rng.random((30, 4)) < 0.3).astype(float)
    t = rng.integers(0, 4, 30)
    loss = gbloss.asymmetric(*params, label_smoothing=0.2)
    module = gt.AsymmetricLoss(*params, label_smoothing=0.2, reduction="sum")
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    for labels, target in ((y, torch.as_tensor(y, dtype=dtype)), (t, torch.as_tensor(t))):
        zt = torch.as_tensor(z, dtype=dtype).requires_grad_(True)
        value = module(zt, target)
        (grad,) = torch.autograd.grad(value, zt)
        assert value.dtype == dtype
        np.testing.assert_allclose(value.item(), loss.loss(labels, z) * 30, rtol=rtol)
        np.testing.assert_allclose(grad.numpy(), loss.gradient_hessian(labels, z)[0],
                                   rtol=rtol, atol=1e-6 if dtype == torch.float32 else 1e-14)
    per = gt.functional.asymmetric_loss(torch.as_tensor(z), torch.as_tensor(y),
                                        gamma_pos=params[0], gamma_neg=params[1],
                                        clip=params[2], reduction="none")
    assert per.shape == (30, 4)
    np.testing.assert_allclose(per.numpy().sum(1).mean(), loss.loss(y, z), rtol=1e-12)


def test_torch_ace_twin_and_reference_sum(rng):
    import gbloss.torch as gt

    z = rng.normal(0, 3, (20, 3))
    y = (rng.random((20, 3)) < 0.3).astype(float)
    zt = t64(z).requires_grad_(True)
    value = gt.ACELoss(0.1, 3.0, reduction="sum")(zt, t64(y))
    (grad,) = torch.autograd.grad(value, zt)
    loss = gbloss.awe(3.0, 0.1)
    assert value.item() == pytest.approx(loss.loss(y, z) * 20, rel=1e-12)
    np.testing.assert_allclose(grad.numpy(), loss.gradient_hessian(y, z)[0], rtol=1e-12)
    # the reference AsymmetricLoss returns the sum: reduction="sum" matches it
    ref = RefAsymmetricLoss(gamma_neg=4, gamma_pos=1, clip=0.05)(t64(z), t64(y))
    ours = gt.functional.asymmetric_loss(t64(z), t64(y), gamma_pos=1, reduction="sum")
    assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        gt.AsymmetricLoss(reduction="avg")
    with pytest.raises(ValueError, match="clip"):
        gt.functional.asymmetric_loss(t64(z), t64(y), clip=1.5)
