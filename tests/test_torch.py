"""gbloss.torch: values equal the boosting losses', derivatives equal autograd and
``gradient_hessian``, peers agree, torch conventions hold.

Expected numbers come from the boosting :class:`gbloss.Loss` (the oracle the
torch half must reproduce), from the independent float64 log-space torch
reference in ``conftest.py`` (with autograd derivatives), from
``torch.nn.functional.cross_entropy``, and from the torchvision / kornia focal
formulas re-implemented below (neither library is installed here; when
torchvision is importable its own ``sigmoid_focal_loss`` is used).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as TF

import gbloss
import gbloss.torch as gt
from gbloss.torch import functional as GF
from gbloss.torch.focal import _SigmoidFocal

GAMMAS = [0.0, 0.5, 2.0, 3.5]
RTOL = 1e-6
K = 4


def assert_close(actual, expected, rtol=RTOL, atol=1e-300, what=""):
    actual, expected = (np.asarray(a.detach().double() if isinstance(a, torch.Tensor) else a,
                                   dtype=np.float64) for a in (actual, expected))
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    assert np.all(np.isfinite(actual)), f"{what}: non-finite values"
    err = np.abs(actual - expected)
    bad = err > rtol * np.abs(expected) + atol
    if np.any(bad):
        i = np.unravel_index(np.argmax(err - rtol * np.abs(expected)), err.shape)
        raise AssertionError(f"{what}: {int(bad.sum())}/{bad.size} differ; worst at {i}: "
                             f"gbloss.torch {actual[i]!r}, expected {expected[i]!r}")


def t64(a):
    return torch.as_tensor(np.array(a, dtype=np.float64))


def boosting_rows(loss, y, z):
    """Per-row values of the boosting loss: ``Loss.loss`` of each row on its own."""
    return np.array([loss.loss(y[i:i + 1], z[i:i + 1]) for i in range(z.shape[0])])


def margins(rng, n, width=None):
    """Random margins plus exact zeros and large ones (shape (n,) or (n, width))."""
    shape = (n,) if width is None else (n, width)
    z = rng.normal(size=shape) * 4
    flat = z.reshape(-1)
    flat[:6] = [0.0, 0.0, 25.0, -25.0, 60.0, -60.0]
    return z


def sigmoid_hessian(out, z):
    (g,) = torch.autograd.grad(out, z, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), z)
    return g, h


def softmax_hessian(out, z):
    (g,) = torch.autograd.grad(out, z, create_graph=True)
    h = torch.stack([torch.autograd.grad(g[:, j].sum(), z, retain_graph=True)[0][:, j]
                     for j in range(z.shape[1])], dim=1)
    return g, h


# ------------------------------------------------------------------------------ import
def test_import_gbloss_does_not_import_torch():
    code = ("import sys, numpy as np, gbloss\n"
            "loss = gbloss.focal(gamma=2.0)\n"
            "loss.gradient_hessian(np.array([0.0, 1.0]), np.array([0.3, -0.2]))\n"
            "from gbloss import *\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "assert 'torch' not in dir(), 'star import bound torch'\n"
            "import gbloss.torch\n"
            "assert 'torch' in sys.modules and gbloss.torch.SigmoidFocalLoss\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_lazy_attribute():
    assert gbloss.torch is gt


# ------------------------------------------------------------------ one definition: values
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize(("alpha", "weight"), [(None, None), (0.25, None), (0.7, [0.5, 3.0])])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_sigmoid_values_equal_boosting_loss(rng, gamma, alpha, weight, soft, path, kernel_path):
    z = margins(rng, 40)
    y = rng.random(40) if soft else (rng.random(40) < 0.4).astype(float)
    loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=weight)
    expected = boosting_rows(loss, y, z)
    got = GF.sigmoid_focal_loss(t64(z), t64(y), gamma=gamma, alpha=alpha,
                                weight=None if weight is None else t64(weight), reduction="none")
    assert_close(got, expected, rtol=1e-12, what="values")
    # and the mean is Loss.loss (binary: one element per row)
    got_mean = GF.sigmoid_focal_loss(t64(z), t64(y), gamma=gamma, alpha=alpha,
                                     weight=None if weight is None else t64(weight))
    assert_close(got_mean, loss.loss(y, z), rtol=1e-12, what="mean")


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_multilabel_values_equal_boosting_loss(rng, gamma, path, kernel_path):
    z = margins(rng, 30, 3)
    y = (rng.random((30, 3)) < 0.3).astype(float)
    cw = np.array([[1.0, 4.0], [0.5, 2.0], [1.0, 1.0]])  # per column [neg, pos]
    loss = gbloss.focal(gamma=gamma, alpha=0.25, class_weight=cw)
    got = GF.sigmoid_focal_loss(t64(z), t64(y), gamma=gamma, alpha=0.25, weight=t64(cw),
                                reduction="none")
    assert got.shape == (30, 3)
    assert_close(got.sum(1), boosting_rows(loss, y, z), rtol=1e-12, what="row sums")
    # torch's mean averages the elements; Loss.loss averages row sums: a factor of C
    mean = GF.sigmoid_focal_loss(t64(z), t64(y), gamma=gamma, alpha=0.25, weight=t64(cw))
    assert_close(mean * 3, loss.loss(y, z), rtol=1e-12, what="mean")


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize(("alpha", "weight"), [(None, None), (0.5, None),
                                               ([0.25, 1.0, 0.5, 2.0], [1.0, 3.0, 0.5, 2.0])])
def test_softmax_values_equal_boosting_loss(rng, gamma, alpha, weight):
    z = margins(rng, 40, K)
    t = rng.integers(0, K, 40)
    loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=weight)
    expected = boosting_rows(loss, t.astype(float), z)
    got = GF.softmax_focal_loss(t64(z), torch.as_tensor(t), gamma=gamma,
                                alpha=None if alpha is None else alpha if np.ndim(alpha) == 0
                                else t64(alpha),
                                weight=None if weight is None else t64(weight), reduction="none")
    assert_close(got, expected, rtol=1e-12, what="values")
    # "mean" follows F.cross_entropy: sum / sum_i weight[t_i]; Loss.loss divides by n
    mean = GF.softmax_focal_loss(t64(z), torch.as_tensor(t), gamma=gamma,
                                 alpha=None if alpha is None else alpha if np.ndim(alpha) == 0
                                 else t64(alpha),
                                 weight=None if weight is None else t64(weight))
    denominator = 40.0 if weight is None else float(np.sum(np.asarray(weight)[t]))
    assert_close(mean, loss.loss(t.astype(float), z) * 40.0 / denominator, rtol=1e-12,
                 what="mean")


#: F.cross_entropy (the dispatched kernel) forms log p_t and p_t - 1 with an absolute
#: error of a few ulp of 1 (times the class weight); the definition keeps relative accuracy.
CE_ATOL = 4e-16


def test_cross_entropy_values_equal_boosting_loss(rng):
    z = margins(rng, 30, K)
    t = rng.integers(0, K, 30)
    w = np.array([1.0, 2.0, 0.5, 4.0])
    expected = boosting_rows(gbloss.cross_entropy(class_weight=w), t.astype(float), z)
    got = GF.cross_entropy(t64(z), torch.as_tensor(t), t64(w), reduction="none")
    assert_close(got, expected, rtol=1e-12, atol=CE_ATOL * w[t], what="values")
    got = gt.CrossEntropyLoss(t64(w), reduction="none")(t64(z), torch.as_tensor(t))
    assert_close(got, expected, rtol=1e-12, atol=CE_ATOL * w[t], what="module")


@pytest.mark.parametrize("shape", [(30, K), (3, K, 5, 2)])
def test_cross_entropy_dispatch_derivatives_equal_gradient_hessian(ref, rng, shape):
    """The fast kernel (F.cross_entropy) against the one definition: gradient and Hessian
    diagonal of gbloss.cross_entropy, and autograd of the independent reference."""
    z = rng.normal(size=shape) * 4
    z.reshape(-1)[:6] = [0.0, 0.0, 25.0, -25.0, 60.0, -60.0]
    t = rng.integers(0, K, (shape[0], *shape[2:]))
    w = np.array([1.0, 3.0, 0.5, 2.0])
    zt = t64(z).requires_grad_(True)
    out = GF.cross_entropy(zt, torch.as_tensor(t), t64(w), reduction="sum")
    z2 = np.moveaxis(z, 1, -1).reshape(-1, K)  # rows (N * d1 * ...) x classes
    t2 = t.reshape(-1)

    def rows(a):  # (N, C, d1, ...) -> (rows, C)
        return torch.movedim(a, 1, -1).reshape(-1, K)

    (g,) = torch.autograd.grad(out, zt, create_graph=True)
    h = torch.stack([rows(torch.autograd.grad(rows(g)[:, j].sum(), zt, retain_graph=True)[0])[:, j]
                     for j in range(K)], dim=1)
    g = rows(g)
    grad, hess = gbloss.cross_entropy(class_weight=w, hessian="exact").gradient_hessian(
        t2.astype(float), z2)
    scale = w[t2][:, None]
    assert_close(g, grad, rtol=1e-12, atol=CE_ATOL * scale, what="grad vs gradient_hessian")
    assert_close(h, hess, rtol=1e-10, atol=CE_ATOL * scale, what="hess vs gradient_hessian")
    _, rg, rh = ref.value_grad_hess(
        lambda v: ref.multiclass_rows(torch.as_tensor(t2), v, 0.0, t64(w)), z2)
    assert_close(g, rg, rtol=1e-12, atol=CE_ATOL * scale, what="grad vs reference autograd")
    assert_close(h, rh, rtol=1e-10, atol=CE_ATOL * scale, what="hess vs reference autograd")


def test_softmax_focal_gamma0_dispatches_to_cross_entropy(rng):
    x = t64(rng.normal(size=(9, K)))
    t = torch.as_tensor(rng.integers(0, K, 9))
    w = t64([1.0, 2.0, 0.5, 3.0])
    for reduction in ("none", "mean", "sum"):
        expected = TF.cross_entropy(x, t, w, reduction=reduction)
        assert torch.equal(GF.softmax_focal_loss(x, t, gamma=0.0, weight=w, reduction=reduction),
                           expected)
        assert_close(GF.softmax_focal_loss(x, t, gamma=0.0, alpha=0.5, weight=w,
                                           reduction=reduction), 0.5 * expected, rtol=1e-15)
    # uint8 / int32 targets (segmentation masks) and the ValueError of a bad index
    assert torch.equal(GF.cross_entropy(x, t.to(torch.uint8)), TF.cross_entropy(x, t))
    assert torch.equal(GF.cross_entropy(x, t.to(torch.int32)), TF.cross_entropy(x, t))
    with pytest.raises(ValueError, match="class indices"):
        GF.cross_entropy(x, torch.full((9,), -3))


# ------------------------------------------------------- one definition: derivatives
# Focal losses on the CPU have two kernels (gbloss/_fused.py): both face the oracle.
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_sigmoid_derivatives_equal_gradient_hessian(ref, rng, gamma, soft, path, kernel_path):
    z = margins(rng, 60)
    y = rng.random(60) if soft else (rng.random(60) < 0.4).astype(float)
    alpha, cw = 0.3, np.array([0.7, 2.5])
    loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=cw, hessian="exact")
    grad, hess = loss.gradient_hessian(y, z)
    zt = t64(z).requires_grad_(True)
    out = GF.sigmoid_focal_loss(zt, t64(y), gamma=gamma, alpha=alpha, weight=t64(cw),
                                reduction="sum")
    g, h = sigmoid_hessian(out, zt)
    assert_close(g, grad, rtol=1e-12, what="grad vs gradient_hessian")
    assert_close(h, hess, rtol=1e-10, atol=1e-300, what="hess vs gradient_hessian")
    # and both equal autograd of the independent reference (z = 0 included)
    c0, c1 = (1 - alpha) * cw[0], alpha * cw[1]
    _, rg, rh = ref.value_grad_hess(lambda v: ref.binary_rows(t64(y), v, gamma, c0, c1), z)
    assert_close(g, rg, what="grad vs reference autograd")
    assert_close(h, rh, atol=1e-14, what="hess vs reference autograd")


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_multilabel_derivatives_equal_gradient_hessian(rng, gamma, path, kernel_path):
    z = margins(rng, 30, 3)
    y = (rng.random((30, 3)) < 0.3).astype(float)
    cw = np.array([[1.0, 4.0], [0.5, 2.0], [1.0, 1.0]])
    grad, hess = gbloss.focal(gamma=gamma, class_weight=cw, hessian="exact").gradient_hessian(y, z)
    zt = t64(z).requires_grad_(True)
    g, h = sigmoid_hessian(GF.sigmoid_focal_loss(zt, t64(y), gamma=gamma, weight=t64(cw),
                                                 reduction="sum"), zt)
    assert_close(g, grad, rtol=1e-12, what="grad")
    assert_close(h, hess, rtol=1e-10, what="hess")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("shape", "weight"), [((300,), None), ((50, 3, 4), None),
                                               ((100, 3), [[1.0, 4.0], [0.5, 2.0], [1.0, 1.0]])])
def test_fused_cpu_kernel_equals_reference_path(rng, monkeypatch, dtype, shape, weight):
    """Values, gradients and double-backward Hessians: fused kernel vs the reference math."""
    z = torch.as_tensor(rng.normal(size=shape) * 5, dtype=dtype)
    y = torch.as_tensor(rng.random(shape) < 0.3, dtype=dtype)
    w = None if weight is None else torch.as_tensor(weight, dtype=dtype)
    results = {}
    for path, min_elements in (("fused", 0), ("reference", 10**15)):
        monkeypatch.setattr(gbloss.kernels.fused, "MIN_ELEMENTS", min_elements)
        zt = z.clone().requires_grad_(True)
        values = GF.sigmoid_focal_loss(zt, y, gamma=2.0, alpha=0.25, weight=w, reduction="none")
        g, h = sigmoid_hessian(values.sum(), zt)
        results[path] = [values.detach(), g.detach(), h]
    rtol = 1e-10 if dtype == torch.float64 else 1e-4
    for name, fused, reference in zip(("values", "grad", "hess"), results["fused"],
                                      results["reference"], strict=True):
        assert fused.dtype == dtype
        assert fused.shape == z.shape
        scale = float(reference.abs().max())
        torch.testing.assert_close(fused, reference, rtol=rtol, atol=rtol * 1e-2 * scale,
                                   msg=name)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_fused_softmax_equals_reference_path(rng, monkeypatch, dtype, gamma):
    """Softmax focal on (N, C): fused kernel vs reference math, values and gradients,
    with class weights and ignore_index."""
    z = torch.as_tensor(rng.normal(size=(400, 5)) * 6, dtype=dtype)
    t = torch.as_tensor(rng.integers(0, 5, 400))
    t[:7] = -100
    weight = torch.tensor([1.0, 3.0, 0.5, 2.0, 1.0], dtype=dtype)
    results = {}
    for path, min_elements in (("fused", 0), ("reference", 10**15)):
        monkeypatch.setattr(gbloss.kernels.fused, "MIN_ELEMENTS", min_elements)
        zt = z.clone().requires_grad_(True)
        values = GF.softmax_focal_loss(zt, t, gamma=gamma, alpha=0.5, weight=weight,
                                       reduction="none")
        (g,) = torch.autograd.grad(values.sum(), zt)
        results[path] = (values.detach(), g)
    rtol = 1e-12 if dtype == torch.float64 else 1e-4
    for fused, reference in zip(results["fused"], results["reference"], strict=True):
        assert fused.dtype == dtype
        torch.testing.assert_close(fused, reference, rtol=rtol,
                                   atol=rtol * 1e-2 * float(reference.abs().max()))


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_softmax_derivatives_equal_gradient_hessian(ref, rng, gamma, path, kernel_path):
    z = margins(rng, 40, K)
    t = rng.integers(0, K, 40)
    c = np.array([1.0, 3.0, 0.5, 2.0])
    loss = gbloss.focal(gamma=gamma, class_weight=c, hessian="exact")
    grad, hess = loss.gradient_hessian(t.astype(float), z)
    zt = t64(z).requires_grad_(True)
    out = GF.softmax_focal_loss(zt, torch.as_tensor(t), gamma=gamma, weight=t64(c),
                                reduction="sum")
    g, h = softmax_hessian(out, zt)
    scale = c[t][:, None]  # entries far below the row's scale are accurate in absolute terms
    assert_close(g, grad, rtol=1e-12, atol=1e-15 * scale, what="grad vs gradient_hessian")
    assert_close(h, hess, rtol=1e-7, atol=1e-14 * scale, what="hess vs gradient_hessian")
    _, rg, rh = ref.value_grad_hess(
        lambda v: ref.multiclass_rows(torch.as_tensor(t), v, gamma, t64(c)), z)
    assert_close(g, rg, atol=1e-14 * scale, what="grad vs reference autograd")
    assert_close(h, rh, atol=1e-14 * scale, what="hess vs reference autograd")


def test_gradient_exact_at_zero_logits():
    """Autograd of the value code would differentiate |z| at 0 as 0; the analytic
    backward gives the true derivative -(2 log 2 + 1) / 8 of focal gamma=2 at z=0."""
    zt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    out = GF.sigmoid_focal_loss(zt, t64([1.0, 0.0, 1.0]), gamma=2.0, reduction="sum")
    (g,) = torch.autograd.grad(out, zt)
    true = (2 * np.log(2) + 1) / 8
    assert_close(g, [-true, true, -true], rtol=1e-14)


def test_ignore_index_and_mean_match_boosting_with_zero_weights(rng):
    z = margins(rng, 20, K)
    t = rng.integers(0, K, 20)
    keep = rng.random(20) < 0.7
    tt = torch.as_tensor(np.where(keep, t, -100))
    got = GF.softmax_focal_loss(t64(z), tt, gamma=2.0, reduction="mean")
    expected = gbloss.focal(gamma=2.0).loss(t.astype(float), z, sample_weight=keep.astype(float))
    assert_close(got, expected, rtol=1e-12)
    zt = t64(z).requires_grad_(True)
    (g,) = torch.autograd.grad(GF.softmax_focal_loss(zt, tt, gamma=2.0, reduction="sum"), zt)
    grad, _ = gbloss.focal(gamma=2.0).gradient_hessian(t.astype(float), z, keep.astype(float))
    assert_close(g, grad, rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------------------ peers
def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss (torchvision 0.29 source, re-implemented)."""
    try:
        from torchvision.ops import sigmoid_focal_loss

        return sigmoid_focal_loss(inputs, targets, alpha=alpha, gamma=gamma, reduction=reduction)
    except ImportError:
        pass
    p = torch.sigmoid(inputs)
    ce_loss = TF.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def kornia_binary_focal_loss_with_logits(pred, target, alpha, gamma):
    """kornia.losses.binary_focal_loss_with_logits, reduction="none" (kornia 0.9 formula)."""
    log_probs_pos = TF.logsigmoid(pred)
    log_probs_neg = TF.logsigmoid(-pred)
    probs_pos, probs_neg = log_probs_pos.exp(), log_probs_neg.exp()
    return (-alpha * probs_neg.pow(gamma) * target * log_probs_pos
            - (1 - alpha) * probs_pos.pow(gamma) * (1 - target) * log_probs_neg)


def kornia_focal_loss(pred, target, alpha, gamma):
    """kornia.losses.focal_loss per element (softmax over dim 1; 1 - alpha for class 0,
    alpha for the other classes), summed over the class dimension."""
    log_p = TF.log_softmax(pred, dim=1)
    one_hot = TF.one_hot(target, pred.shape[1]).movedim(-1, 1).to(pred.dtype)
    a = torch.full((pred.shape[1],), alpha, dtype=pred.dtype)
    a[0] = 1 - alpha
    shape = (1, -1) + (1,) * (pred.ndim - 2)
    focal = -a.reshape(shape) * (1 - log_p.exp()).pow(gamma) * log_p
    return (one_hot * focal).sum(1)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sigmoid_matches_torchvision(rng, gamma, reduction):
    x = t64(rng.normal(size=(16, 5)) * 4)  # moderate logits: the peer's float range
    y = t64((rng.random((16, 5)) < 0.3).astype(float))
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    peer = torchvision_sigmoid_focal_loss(xa, y, alpha=0.25, gamma=gamma, reduction=reduction)
    ours = GF.sigmoid_focal_loss(xb, y, gamma=gamma, alpha=0.25, reduction=reduction)
    assert_close(ours, peer, rtol=1e-12, atol=1e-15, what="values")
    (ga,) = torch.autograd.grad(peer.sum(), xa)
    (gb,) = torch.autograd.grad(ours.sum(), xb)
    assert_close(gb, ga, rtol=1e-9, atol=1e-15, what="grad")


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_soft_labels_match_kornia(rng, gamma):
    x, y = t64(rng.normal(size=50) * 4), t64(rng.random(50))
    peer = kornia_binary_focal_loss_with_logits(x, y, 0.25, gamma)
    assert_close(GF.sigmoid_focal_loss(x, y, gamma=gamma, alpha=0.25, reduction="none"), peer,
                 rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_softmax_matches_kornia(rng, gamma):
    x = t64(rng.normal(size=(4, K, 3, 2)) * 3)
    t = torch.as_tensor(rng.integers(0, K, (4, 3, 2)))
    peer = kornia_focal_loss(x, t, 0.25, gamma)
    alpha = t64([0.75, 0.25, 0.25, 0.25])
    ours = GF.softmax_focal_loss(x, t, gamma=gamma, alpha=alpha, reduction="none")
    assert_close(ours, peer, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", [(12, K), (3, K, 5, 2)])
def test_cross_entropy_equals_torch(rng, reduction, dtype, shape):
    x = torch.as_tensor(rng.normal(size=shape) * 3, dtype=dtype)
    t = torch.as_tensor(rng.integers(0, K, (shape[0], *shape[2:])))
    t.view(-1)[::3] = 255  # ignored
    w = torch.as_tensor([1.0, 2.0, 0.5, 3.0], dtype=dtype)
    xa, xb = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    peer = TF.cross_entropy(xa, t, w, ignore_index=255, reduction=reduction)
    ours = gt.CrossEntropyLoss(w, ignore_index=255, reduction=reduction)(xb, t)
    assert ours.dtype == dtype
    assert ours.shape == peer.shape
    tol = 1e-12 if dtype == torch.float64 else 3e-6
    assert_close(ours, peer, rtol=tol, atol=tol, what="values")
    (ga,) = torch.autograd.grad(peer.sum(), xa)
    (gb,) = torch.autograd.grad(ours.sum(), xb)
    assert_close(gb, ga, rtol=tol, atol=tol, what="grad")


def test_cross_entropy_unbatched_and_all_ignored():
    x, t = torch.tensor([1.0, -2.0, 0.5]), torch.tensor(2)
    assert_close(GF.cross_entropy(x, t), TF.cross_entropy(x, t), rtol=1e-6)
    x2, t2 = torch.randn(3, 3), torch.full((3,), -100)
    assert torch.isnan(GF.cross_entropy(x2, t2))
    assert torch.isnan(TF.cross_entropy(x2, t2))


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_torchvision_formula_fails_at_saturation_gbloss_does_not(ref, gamma):
    """float32, confident logits: torchvision's (1 - p_t)**gamma is exactly 0, so its loss
    is 0 and, for gamma < 1, its gradient NaN; gbloss is finite and matches float64."""
    z = torch.tensor([20.0, 30.0, -40.0, 50.0], dtype=torch.float32)
    y = torch.tensor([1.0, 1.0, 0.0, 1.0])
    za, zb = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
    peer = torchvision_sigmoid_focal_loss(za, y, alpha=0.25, gamma=gamma)
    ours = GF.sigmoid_focal_loss(zb, y, gamma=gamma, alpha=0.25, reduction="none")
    (ga,) = torch.autograd.grad(peer.sum(), za)
    (gb,) = torch.autograd.grad(ours.sum(), zb)
    expected, grad64, _ = ref.value_grad_hess(
        lambda v: ref.binary_rows(t64(y.numpy()), v, gamma, 0.75, 0.25), z.double().numpy())
    assert_close(ours, expected, rtol=1e-5, atol=1e-38, what="gbloss float32 values")
    assert_close(gb, grad64, rtol=1e-5, atol=1e-38, what="gbloss float32 grad")
    assert torch.all(peer[1:] == 0)  # the true losses are positive
    if gamma < 1:
        assert torch.isnan(ga).any()


# ------------------------------------------------------------------- extremes, dtypes
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_extreme_logits_finite(dtype):
    z = torch.tensor([1e4, -1e4, 100.0, -100.0, 0.0, 17.0], dtype=dtype)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    zs = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 0.0, 0.0], [100.0, -100.0, 50.0]],
                      dtype=dtype)
    ts = torch.tensor([1, 1, 2, 2])
    for gamma in (0.0, 0.5, 2.0):
        for fn, args in ((GF.sigmoid_focal_loss, (z, y)), (GF.softmax_focal_loss, (zs, ts))):
            x = args[0].clone().requires_grad_(True)
            out = fn(x, args[1], gamma=gamma, reduction="none")
            (g,) = torch.autograd.grad(out.sum(), x)
            assert out.dtype == dtype
            assert g.dtype == dtype
            assert torch.isfinite(out).all(), (fn, gamma)
            assert torch.isfinite(g).all(), (fn, gamma)
    out = GF.sigmoid_focal_loss(z[:2], y[:2], gamma=0.0, reduction="none")
    assert_close(out, [1e4, 1e4], rtol=1e-2)  # exact: softplus(1e4)


@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float16, 2e-3), (torch.bfloat16, 1e-2),
                                             (torch.float32, 1e-6)])
def test_low_precision_close_to_float64(rng, dtype, rtol):
    x64 = torch.as_tensor(rng.normal(size=(64, K)) * 3).to(dtype).double()  # representable
    t = torch.as_tensor(rng.integers(0, K, 64))
    y = (torch.rand(64, K, dtype=torch.float64) < 0.3).double()
    for fn, target in ((GF.softmax_focal_loss, t), (GF.sigmoid_focal_loss, y)):
        expected = fn(x64, target, gamma=2.0)
        x = x64.to(dtype).requires_grad_(True)
        out = fn(x, target.to(dtype) if target.is_floating_point() else target, gamma=2.0)
        assert out.dtype == dtype
        assert_close(out, expected, rtol=rtol, what=str(dtype))
        out.backward()
        assert x.grad.dtype == dtype
        assert torch.isfinite(x.grad).all()


# ------------------------------------------------------------------------- conventions
def test_reduction_and_parameter_validation():
    x, y, t = torch.randn(4, 3), torch.rand(4, 3), torch.tensor([0, 1, 2, 0])
    for bad in ("avg", None, "batchmean"):
        with pytest.raises(ValueError, match="reduction"):
            GF.sigmoid_focal_loss(x, y, reduction=bad)
        with pytest.raises(ValueError, match="reduction"):
            gt.CrossEntropyLoss(reduction=bad)
    with pytest.raises(ValueError, match="gamma"):
        gt.SoftmaxFocalLoss(gamma=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        gt.SigmoidFocalLoss(alpha=1.5)
    with pytest.raises(ValueError, match="weight"):
        GF.softmax_focal_loss(x, t, weight=torch.ones(5))
    with pytest.raises(ValueError, match="weight"):
        GF.sigmoid_focal_loss(x, y, weight=torch.ones(3))
    with pytest.raises(ValueError, match="weight"):
        gt.CrossEntropyLoss(weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="class indices"):
        GF.cross_entropy(x, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="integer"):
        GF.cross_entropy(x, y)
    with pytest.raises(ValueError, match="shape"):
        GF.sigmoid_focal_loss(x, y[:2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        GF.sigmoid_focal_loss(x, y + 1)
    with pytest.raises(ValueError, match="floating"):
        GF.sigmoid_focal_loss(t, t)


def test_any_number_of_dimensions(rng):
    x = t64(rng.normal(size=(2, K, 3, 4, 2)))
    t = torch.as_tensor(rng.integers(0, K, (2, 3, 4, 2)))
    out = GF.softmax_focal_loss(x, t, gamma=2.0, reduction="none")
    assert out.shape == t.shape
    flat = GF.softmax_focal_loss(x.movedim(1, -1).reshape(-1, K), t.reshape(-1), gamma=2.0,
                                 reduction="none")
    assert_close(out.reshape(-1), flat, rtol=1e-15)
    # gradients, first and (create_graph) second, in the (N, C, d1, ...) layout
    w = t64(rng.random(t.shape))  # an upstream gradient per element
    grads = []
    for inp, tt in ((x, t), (x.movedim(1, -1).reshape(-1, K), t.reshape(-1))):
        v = inp.clone().requires_grad_(True)
        loss = GF.softmax_focal_loss(v, tt, gamma=2.0, reduction="none")
        (g1,) = torch.autograd.grad((loss * w.reshape(loss.shape)).sum(), v, create_graph=True)
        (g2,) = torch.autograd.grad(g1.sum(), v)
        (g0,) = torch.autograd.grad((GF.softmax_focal_loss(v, tt, gamma=2.0, reduction="none")
                                     * w.reshape(loss.shape)).sum(), v)
        if inp.ndim > 2:
            g0, g1, g2 = (a.movedim(1, -1).reshape(-1, K) for a in (g0, g1, g2))
        grads.append((g0, g1, g2))
    for a, b in zip(*grads, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-15)
    assert_close(grads[0][0], grads[0][1], rtol=1e-12, atol=1e-15)  # stored == recomputed
    y = t64((rng.random((2, 3, 4)) < 0.5).astype(float))
    w = t64([[1.0, 2.0], [3.0, 4.0], [0.5, 1.0]])  # per channel (dim 1)
    out = GF.sigmoid_focal_loss(t64(rng.normal(size=(2, 3, 4))), y, weight=w, reduction="none")
    assert out.shape == (2, 3, 4)


def test_large_input_blocked_equals_whole(rng, monkeypatch):
    """CPU inputs above one block run block by block; results equal a single pass."""
    from gbloss.torch import _common

    x = torch.as_tensor(rng.normal(size=(3000, 7)) * 4)
    y = torch.as_tensor((rng.random((3000, 7)) < 0.2).astype(float))
    t = torch.as_tensor(rng.integers(0, 7, 3000))
    w = torch.rand(7, 2, dtype=torch.float64)
    results = []
    for block in (1 << 30, 1000):
        monkeypatch.setattr(_common, "BLOCK_ELEMENTS", block)
        outs = []
        for fn, target, kw in ((GF.sigmoid_focal_loss, y, {"weight": w}),
                               (GF.sigmoid_focal_loss, y, {}),
                               (GF.softmax_focal_loss, t, {})):
            xx = x.clone().requires_grad_(True)
            out = fn(xx, target, gamma=2.0, reduction="none", **kw)
            out.sum().backward()
            outs += [out.detach(), xx.grad]
        results.append(outs)
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)


def test_buffers_follow_module(rng):
    m = gt.SoftmaxFocalLoss(gamma=2.0, alpha=[1.0, 2.0, 1.0], weight=[1.0, 3.0, 0.5])
    assert {n for n, _ in m.named_buffers()} == {"alpha", "weight"}
    assert set(m.state_dict()) == {"alpha", "weight"}
    m = m.to(torch.float64)
    assert m.weight.dtype == torch.float64
    assert m.alpha.dtype == torch.float64
    s = gt.SigmoidFocalLoss(weight=[[1.0, 2.0], [1.0, 5.0]])
    assert "weight" in s.state_dict()
    c = gt.CrossEntropyLoss()
    assert c.weight is None
    x, t = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    assert_close(m(x.double(), t), GF.softmax_focal_loss(x.double(), t, gamma=2.0,
                                                         alpha=m.alpha, weight=m.weight))


def test_focal_loss_dispatches_on_target(rng):
    x = torch.randn(6, 3, dtype=torch.float64)
    t = torch.tensor([0, 1, 2, 1, 0, 2])
    y = (torch.rand(6, 3) < 0.5).double()
    m = gt.FocalLoss(gamma=2.0)
    assert_close(m(x, t), GF.softmax_focal_loss(x, t, gamma=2.0), rtol=0)
    assert_close(m(x, y), GF.sigmoid_focal_loss(x, y, gamma=2.0), rtol=0)
    assert_close(m(x, y.bool()), GF.sigmoid_focal_loss(x, y, gamma=2.0), rtol=1e-15)


@pytest.mark.parametrize("backend", ["inductor", "aot_eager"])
def test_torch_compile_cpu(backend):
    """Small compiled losses equal eager, values and gradients, with no graph break
    (``fullgraph=True``). Inductor (C++ codegen on the CPU) compiles the focal losses; the
    cheaper ``aot_eager`` backend traces every loss (dynamo + AOT autograd)."""
    torch._dynamo.reset()
    sig = gt.SigmoidFocalLoss(gamma=2.0, alpha=0.25, weight=[1.0, 3.0])
    soft = gt.SoftmaxFocalLoss(gamma=2.0, weight=[1.0, 2.0, 0.5])
    lmf = gt.LMFLoss([50, 10, 3], torch.tensor([1.0, 2.0, 0.5]), alpha=1.0, beta=1.0)
    acb = gt.ACBLoss(1.0, 3.0)
    regression = [gt.BMCLoss(1.0), gt.BNILoss(0.5, [0.0, 0.5, 1.0], [0.3, 0.3, 0.4]),
                  gt.GAILoss(0.5, {"means": [[0.0], [1.0]], "weights": [0.5, 0.5],
                                   "variances": [[[0.2]], [[0.1]]]}), gt.DiceLoss(), gt.PELoss()]

    def losses(x, y, xs, t):
        out = sig(x, y) + soft(xs, t)
        if backend != "inductor":  # (inductor compile time grows with the graph)
            out = out + lmf(xs, t) + acb(x, y) + gt.CrossEntropyLoss(ignore_index=-100)(xs, t)
            for loss in regression:  # (8, 3): BMC in 3 dimensions, the others per element
                out = out + loss(x, y)
        return out

    compiled = torch.compile(losses, fullgraph=True, backend=backend)
    x, y = torch.randn(8, 3), (torch.rand(8, 3) < 0.4).float()
    xs, t = torch.randn(8, 3, 2), torch.tensor([[0, 1], [2, -100], [1, 1], [0, 2]] * 2)
    results = []
    for fn in (compiled, losses):
        a, b = x.clone().requires_grad_(True), xs.clone().requires_grad_(True)
        out = fn(a, y, b, t)
        out.backward()
        results.append((out.detach(), a.grad, b.grad))
    for u, v in zip(*results, strict=True):
        assert_close(u, v, rtol=1e-5, atol=1e-7)


def test_two_branch_formula_equals_one_branch_on_hard_labels(rng):
    """CUDA / torch.compile run the soft-label (two-branch) formula on 0/1 labels too."""
    z = t64(margins(rng, 50)).requires_grad_(True)
    y = t64((rng.random(50) < 0.4).astype(float))
    outs = []
    for hard in (True, False):
        v = _SigmoidFocal.apply(z, y, 0.75, 0.25, 2.0, hard)
        (g,) = torch.autograd.grad(v.sum(), z)
        outs.append((v.detach(), g))
    for a, b in zip(*outs, strict=True):
        assert_close(a, b, rtol=1e-14, atol=1e-300)


# ------------------------------------------------------------------------ LDAM and LMF
COUNTS = [400, 100, 20, 5]


def kaidic_ldam(x, target, cls_num_list, max_m, weight, s):
    """kaidic/LDAM-DRW LDAMLoss.forward, re-implemented without its CUDA tensor types."""
    m_list = 1.0 / np.sqrt(np.sqrt(np.asarray(cls_num_list, dtype=np.float64)))
    m_list = torch.as_tensor(m_list * (max_m / np.max(m_list)), dtype=x.dtype)
    index = TF.one_hot(target, x.shape[1]).bool()
    batch_m = m_list[target][:, None]
    output = torch.where(index, x - batch_m, x)
    return TF.cross_entropy(s * output, target, weight=weight)


@pytest.mark.parametrize("weighted", [False, True])
def test_ldam_equals_boosting_and_kaidic(rng, weighted):
    z = margins(rng, 30, K)
    t = rng.integers(0, K, 30)
    w = np.array([0.5, 1.0, 2.0, 3.0]) if weighted else None
    loss = gbloss.ldam(max_margin=0.5, scale=3.0, class_counts=COUNTS, class_weight=w,
                       hessian="exact")
    wt = None if w is None else t64(w)
    got = GF.ldam_loss(t64(z), torch.as_tensor(t), COUNTS, scale=3.0, weight=wt,
                       reduction="none")
    assert_close(got, boosting_rows(loss, t.astype(float), z), rtol=1e-12, what="values")
    zt = t64(z).requires_grad_(True)
    g, h = softmax_hessian(gt.LDAMLoss(COUNTS, 0.5, wt, 3.0, reduction="sum")(zt,
                                                                               torch.as_tensor(t)),
                           zt)
    grad, hess = loss.gradient_hessian(t.astype(float), z)
    assert_close(g, grad, rtol=1e-10, atol=1e-14, what="grad")
    assert_close(h, hess, rtol=1e-7, atol=1e-13, what="hess")
    x = t64(rng.normal(size=(30, K)))  # cosine-like logits with the published scale
    peer = kaidic_ldam(x, torch.as_tensor(t), COUNTS, 0.5, wt, 30.0)
    assert_close(gt.LDAMLoss(COUNTS, 0.5, wt, 30.0)(x, torch.as_tensor(t)), peer, rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_ldam_published_call_equals_kaidic(rng, dtype, weighted):
    """kaidic/LDAM-DRW's train.py builds ``LDAMLoss(cls_num_list=..., max_m=0.5, s=30,
    weight=per_cls_weights)`` and calls ``criterion(output, target)``: the same call, equal
    values and gradients (``kaidic_ldam``: m_j = max_m / n_j^(1/4) scaled to a largest of
    max_m, cross-entropy of ``s * where(onehot, x - m_t, x)``)."""
    x = torch.as_tensor(rng.normal(size=(30, K)), dtype=dtype)
    t = torch.as_tensor(rng.integers(0, K, 30))
    w = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=dtype) if weighted else None
    rtol, atol = (1e-12, 1e-15) if dtype == torch.float64 else (2e-5, 1e-7)
    criterion = gt.LDAMLoss(cls_num_list=COUNTS, max_m=0.4, s=20, weight=w)
    values, grads = [], []
    for fn in (criterion, lambda a, b: kaidic_ldam(a, b, COUNTS, 0.4, w, 20.0)):
        xx = x.clone().requires_grad_(True)
        out = fn(xx, t)
        values.append(out)
        grads += torch.autograd.grad(out, xx)
    assert values[0].dtype == dtype
    assert_close(values[0], values[1], rtol=rtol, what="value")
    assert_close(grads[0], grads[1], rtol=rtol, atol=atol, what="grad")
    assert_close(gt.LDAMLoss(cls_num_list=COUNTS)(x, t),  # published defaults max_m=0.5, s=30
                 kaidic_ldam(x, t, COUNTS, 0.5, None, 30.0), rtol=rtol, what="defaults")


def test_ldam_takes_gbloss_and_published_keywords(rng):
    x = t64(rng.normal(size=(12, K)))
    t = torch.as_tensor(rng.integers(0, K, 12))
    published = gt.LDAMLoss(cls_num_list=COUNTS, max_m=0.3, s=10.0)
    for m in (gt.LDAMLoss(COUNTS, 0.3, None, 10.0),
              gt.LDAMLoss(class_counts=COUNTS, max_margin=0.3, scale=10.0),
              gt.LDAMLoss(COUNTS, max_m=0.3, scale=10.0)):
        assert torch.equal(m.margins, published.margins)
        assert torch.equal(m(x, t), published(x, t))
    for kw, match in (({"max_margin": 0.3, "max_m": 0.3}, "max_m"),
                      ({"scale": 5.0, "s": 5.0}, "alias s"),
                      ({"cls_num_list": COUNTS}, "cls_num_list")):
        with pytest.raises(TypeError, match=match):
            gt.LDAMLoss(COUNTS, **kw)
    with pytest.raises(ValueError, match="class_counts"):
        gt.LDAMLoss(max_m=0.5)


def test_lmf_equals_boosting(rng):
    z = margins(rng, 30, K)
    t = rng.integers(0, K, 30)
    alpha, w = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 1.0, 2.0, 3.0])
    loss = gbloss.lmf(focal_weight=0.7, ldam_weight=1.3, gamma=2.0, alpha=alpha, max_margin=0.5,
                      scale=3.0, class_counts=COUNTS, class_weight=w, hessian="exact")
    got = GF.lmf_loss(t64(z), torch.as_tensor(t), COUNTS, focal_weight=0.7, ldam_weight=1.3,
                      gamma=2.0, alpha=t64(alpha), scale=3.0, weight=t64(w), reduction="none")
    assert_close(got, boosting_rows(loss, t.astype(float), z), rtol=1e-12, what="values")
    zt = t64(z).requires_grad_(True)
    (g,) = torch.autograd.grad(
        GF.lmf_loss(zt, torch.as_tensor(t), COUNTS, focal_weight=0.7, ldam_weight=1.3,
                    gamma=2.0, alpha=t64(alpha), scale=3.0, weight=t64(w), reduction="sum"), zt)
    grad, _ = loss.gradient_hessian(t.astype(float), z)
    assert_close(g, grad, rtol=1e-10, atol=1e-13, what="grad")


def test_lmf_published_signature(rng):
    x = t64(rng.normal(size=(12, K)))
    t = torch.as_tensor(rng.integers(0, K, 12))
    w = t64([0.5, 1.0, 2.0, 3.0])
    for add in (False, True):
        m = gt.LMFLoss(COUNTS, w, alpha=0.6, beta=0.4, gamma=2.0, max_m=0.8, s=5.0,
                       add_LDAM_weigth=add)
        focal = GF.softmax_focal_loss(x, t, gamma=2.0, alpha=None if add else w,
                                      weight=w if add else None, reduction="sum")
        ldam = GF.ldam_loss(x, t, COUNTS, max_margin=0.8, scale=5.0, weight=w if add else None,
                            reduction="sum")
        denominator = float(w[t].sum()) if add else 12.0
        assert_close(m(x, t), (0.6 * focal + 0.4 * ldam) / denominator, rtol=1e-12)
    assert set(gt.LMFLoss(COUNTS, w).state_dict()) == {"margins", "weight"}


def test_drw_weights():
    w = gt.drw_weights(COUNTS, epoch=3, start_epoch=5)
    assert torch.equal(w, torch.ones(4))
    w = gt.drw_weights(COUNTS, epoch=5, start_epoch=5, beta=0.99).double().numpy()
    n = np.asarray(COUNTS, dtype=float)
    raw = (1 - 0.99) / (1 - 0.99 ** n)  # Cui et al. 2019
    assert_close(w / w[0], raw / raw[0], rtol=1e-6)
    assert_close(np.sum(n * w), n.sum(), rtol=1e-6)  # mean 1 over the training rows


def test_margin_losses_validation():
    x, t = torch.randn(4, 4), torch.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match="class_counts"):
        GF.ldam_loss(x, t, [10, 0, 3, 4])
    with pytest.raises(ValueError, match="margins"):
        GF.ldam_loss(x, t, [10, 5, 3])
    with pytest.raises(ValueError, match="scale"):
        gt.LDAMLoss(COUNTS, scale=0.0)
    with pytest.raises(ValueError, match="both 0"):
        gt.LMFLoss(COUNTS, alpha=0.0, beta=0.0)


# ---------------------------------------------------------------------------- ACB-MSE
@pytest.mark.parametrize("case", ["mixed", "no zeros", "all zeros"])
def test_acb_equals_package_and_boosting(rng, case):
    y = rng.normal(size=(3, 2, 4, 4))
    if case == "mixed":
        y[y < 0.3] = 0
    elif case == "all zeros":
        y[:] = 0
    y[y == 0] = 0.0 if case != "no zeros" else 1.0
    z = rng.normal(size=y.shape)
    got = gt.ACBLoss(0.7, 2.0)(t64(z), t64(y))
    expected = gbloss.acb_mse(0.7, 2.0).loss(y.reshape(-1), z.reshape(-1))
    assert_close(got, expected, rtol=1e-12, what="vs gbloss.acb_mse")
    try:
        from acb_mse import ACBLoss as Peer
    except ImportError:
        pass
    else:
        assert_close(got, Peer(0.7, 2.0)(t64(z), t64(y)), rtol=1e-12, what="vs acb-mse")
    zt = t64(z).requires_grad_(True)
    (g,) = torch.autograd.grad(GF.acb_mse_loss(zt, t64(y), zero_weight=0.7, nonzero_weight=2.0,
                                               reduction="sum"), zt)
    grad, _ = gbloss.acb_mse(0.7, 2.0, hessian="exact").gradient_hessian(y.reshape(-1),
                                                                         z.reshape(-1))
    assert_close(g.reshape(-1), grad, rtol=1e-12, what="grad")
    per = GF.acb_mse_loss(t64(z), t64(y), zero_weight=0.7, nonzero_weight=2.0, reduction="none")
    assert per.shape == y.shape
    assert_close(per.mean(), got, rtol=1e-12)


def test_acb_half_precision_and_empty():
    z, y = torch.randn(8, 8, dtype=torch.bfloat16), torch.zeros(8, 8, dtype=torch.bfloat16)
    out = gt.ACBLoss()(z, y)
    assert out.dtype == torch.bfloat16
    assert torch.isfinite(out)
    empty = gt.ACBLoss()(torch.zeros(0, requires_grad=True), torch.zeros(0))
    assert isinstance(empty, torch.Tensor)


@pytest.mark.parametrize("shape", [(0,), (0, 3, 8)])
def test_acb_empty_batch_is_zero_with_a_gradient_path(shape):
    """An empty batch: 0, as the acb-mse package (which returns the number 0.0), not NaN;
    a tensor that backpropagates (a zero gradient of the input's shape)."""
    z, y = torch.zeros(shape, requires_grad=True), torch.zeros(shape)
    out = gt.ACBLoss(0.7, 2.0)(z, y)
    assert isinstance(out, torch.Tensor)
    assert out.shape == ()
    assert out.dtype == z.dtype
    assert out.item() == 0.0
    (g,) = torch.autograd.grad(out, z)
    assert g.shape == shape
    assert GF.acb_mse_loss(z, y, reduction="sum").item() == 0.0
    assert GF.acb_mse_loss(z, y, reduction="none").shape == shape
    try:
        from acb_mse import ACBLoss as Peer
    except ImportError:
        pass
    else:
        assert float(Peer(0.7, 2.0)(z, y)) == out.item()


# ----------------------------------------------------------------------- Balanced MSE
# The authors' formulas (jiawei-ren/BalancedMSE, imdb-wiki-dir/balanaced_mse.py and
# synthetic_benchmark/loss.py), written here in torch without their CUDA types; per row
# (the authors return the mean).
def authors_bmc_rows(pred, target, noise_sigma):
    """bmc_loss / bmc_loss_md: cross-entropy of the [B, B] logits against the diagonal."""
    noise_var = noise_sigma ** 2
    p2, t2 = pred.reshape(pred.shape[0], -1), target.reshape(target.shape[0], -1)
    eye = torch.eye(p2.shape[1], dtype=pred.dtype)
    logits = torch.distributions.MultivariateNormal(
        p2.unsqueeze(1), noise_var * eye).log_prob(t2.unsqueeze(0))
    loss = TF.cross_entropy(logits, torch.arange(p2.shape[0]), reduction="none")
    return loss * (2 * noise_var).detach()


def authors_bni_rows(pred, target, noise_sigma, bucket_centers, bucket_weights):
    noise_var = noise_sigma ** 2
    pred, target = pred.reshape(-1, 1), target.reshape(-1, 1)
    mse_term = TF.mse_loss(pred, target, reduction="none") / 2 / noise_var
    balancing_term = (-0.5 * (pred - bucket_centers[None, :]).pow(2) / noise_var
                      + bucket_weights[None, :].log())
    balancing_term = torch.logsumexp(balancing_term, dim=-1, keepdim=True)
    return ((mse_term + balancing_term) * (2 * noise_var).detach())[:, 0]


def authors_gai_rows(pred, target, noise_sigma, means, weights, covs):
    """gai_loss (1-D, d = 1) and gai_loss_md: multivariate-normal log-densities."""
    noise_var = noise_sigma ** 2
    d = means.shape[1]
    pred, target = pred.reshape(-1, d), target.reshape(-1, d)
    eye = torch.eye(d, dtype=pred.dtype)
    mse_term = -torch.distributions.MultivariateNormal(pred, noise_var * eye).log_prob(target)
    balancing_term = torch.distributions.MultivariateNormal(
        means, covs + noise_var * eye).log_prob(pred.unsqueeze(1)) + weights.log()
    balancing_term = torch.logsumexp(balancing_term, dim=1)
    return (mse_term + balancing_term) * (2 * noise_var).detach()


def value_and_derivatives(fn, pred, sigma):
    """Per-row values; gradients of the sum in pred and sigma; the full Hessian."""
    x = pred.clone().requires_grad_(True)
    s = torch.tensor(sigma, dtype=torch.float64, requires_grad=True)
    rows = fn(x, s)
    gx, gs = torch.autograd.grad(rows.sum(), (x, s))
    hess = torch.autograd.functional.hessian(lambda a, b: fn(a, b).sum(), (pred, s.detach()))
    return rows.detach(), gx, gs, hess


def assert_same_derivatives(ours, theirs, what):
    (v1, gx1, gs1, h1), (v2, gx2, gs2, h2) = ours, theirs
    assert_close(v1, v2, rtol=1e-12, what=f"{what} values")
    assert_close(gx1, gx2, rtol=1e-10, atol=1e-14, what=f"{what} d/dpred")
    assert_close(gs1, gs2, rtol=1e-10, atol=1e-14, what=f"{what} d/dsigma")
    for i in range(2):
        for j in range(2):
            scale = float(h2[i][j].abs().max())
            assert_close(h1[i][j], h2[i][j], rtol=1e-8, atol=1e-12 * scale,
                         what=f"{what} hessian block {i}{j}")


def lognormal_batch(rng, n, d=None):
    shape = (n,) if d is None else (n, d)
    y = rng.lognormal(size=shape)
    return y, y + rng.normal(size=shape)


@pytest.mark.parametrize("d", [None, 1, 3])
def test_bmc_equals_authors_and_boosting(rng, d):
    y, z = lognormal_batch(rng, 40, d)
    sigma = 0.75  # exact in float32 (the modules' noise_sigma parameter)
    ours = value_and_derivatives(
        lambda a, s: GF.bmc_loss(a, t64(y), s, reduction="none").reshape(-1), t64(z), sigma)
    theirs = value_and_derivatives(lambda a, s: authors_bmc_rows(a, t64(y), s), t64(z), sigma)
    assert_same_derivatives(ours, theirs, "bmc")
    # the boosting loss with the batch as its training set: "mean" is Loss.loss, the
    # per-row values its rows, the gradient and Hessian diagonal its gradient_hessian
    loss = gbloss.balanced_mse(sigma, "bmc", method="exact", hessian="exact").fit(y)
    assert_close(gt.BMCLoss(sigma).double()(t64(z), t64(y)), loss.loss(y, z), rtol=1e-12)
    assert_close(ours[0], boosting_rows(loss, y, z), rtol=1e-12, what="rows")
    grad, hess = loss.gradient_hessian(y, z)
    zt = t64(z).requires_grad_(True)
    out = GF.bmc_loss(zt, t64(y), sigma, reduction="sum")
    (g,) = torch.autograd.grad(out, zt, create_graph=True)
    h = torch.stack([torch.autograd.grad(g.reshape(len(y), -1)[:, a].sum(), zt,
                                         retain_graph=True)[0].reshape(len(y), -1)[:, a]
                     for a in range(1 if d is None else d)], dim=1).reshape(z.shape)
    assert_close(g, grad, rtol=1e-10, atol=1e-14, what="grad vs gradient_hessian")
    assert_close(h, hess, rtol=1e-8, atol=1e-14, what="hess vs gradient_hessian")
    none = GF.bmc_loss(t64(z), t64(y), sigma, reduction="none")
    assert none.shape == (z.shape if d in (None, 1) else (40,))


def test_bni_equals_authors_and_boosting(rng):
    y_train = np.round(rng.gamma(2.0, 8.0, size=400))  # integer "ages"
    edges = np.arange(-0.5, y_train.max() + 1.5)
    centres, weights = GF.bni_buckets(y_train, bins=edges)
    y, _ = lognormal_batch(rng, 30)
    y = np.round(y * 10)
    z = y + rng.normal(0, 4, size=30)
    sigma = 3.0
    ours = value_and_derivatives(
        lambda a, s: GF.bni_loss(a, t64(y), s, centres, weights, reduction="none"), t64(z), sigma)
    theirs = value_and_derivatives(
        lambda a, s: authors_bni_rows(a, t64(y), s, centres, weights), t64(z), sigma)
    assert_same_derivatives(ours, theirs, "bni")
    loss = gbloss.balanced_mse(sigma, "bni", bins=edges, method="exact",
                               hessian="exact").fit(y_train)
    assert_close(gt.BNILoss(sigma, centres, weights).double()(t64(z), t64(y)), loss.loss(y, z),
                 rtol=1e-12)
    grad, hess = loss.gradient_hessian(y, z)
    assert_close(ours[1], grad, rtol=1e-10, atol=1e-14, what="grad vs gradient_hessian")
    assert_close(torch.diagonal(ours[3][0][0]), hess, rtol=1e-8, atol=1e-14, what="hess")
    # any shape: every element is a row
    img = GF.bni_loss(t64(z).reshape(2, 3, 5), t64(y).reshape(2, 3, 5), sigma, centres, weights,
                      reduction="none")
    assert_close(img.reshape(-1), ours[0], rtol=1e-14)


@pytest.mark.parametrize("d", [1, 2])
def test_gai_equals_authors_and_boosting(rng, d):
    from sklearn.mixture import GaussianMixture

    y_train, _ = lognormal_batch(rng, 300, d)
    gm = GaussianMixture(n_components=3, random_state=0).fit(y_train.reshape(300, -1))
    means, weights, covs = GF.gmm_tensors(gm)
    y, z = lognormal_batch(rng, 25, None if d == 1 else d)
    sigma = 0.625
    ours = value_and_derivatives(
        lambda a, s: GF.gai_loss(a, t64(y), s, means, weights, covs,
                                 reduction="none").reshape(-1), t64(z), sigma)
    theirs = value_and_derivatives(
        lambda a, s: authors_gai_rows(a, t64(y), s, means, weights, covs), t64(z), sigma)
    assert_same_derivatives(ours, theirs, "gai")
    loss = gbloss.balanced_mse(sigma, "gai", gmm=gm, hessian="exact").fit(y_train)
    module = gt.GAILoss(sigma, gm).double()
    assert_close(module(t64(z), t64(y)), loss.loss(y, z), rtol=1e-12)
    grad, _ = loss.gradient_hessian(y, z)
    assert_close(ours[1], grad, rtol=1e-10, atol=1e-14, what="grad vs gradient_hessian")


def test_gai_reads_the_authors_pickle(rng, tmp_path):
    import joblib
    from sklearn.mixture import GaussianMixture

    y_train = rng.lognormal(size=(200, 1))
    gm = GaussianMixture(n_components=2, random_state=0).fit(y_train)
    path = tmp_path / "gmm.pkl"  # as the authors' preprocess_gmm.py writes it
    joblib.dump({"means": gm.means_, "weights": gm.weights_, "variances": gm.covariances_}, path)
    y, z = lognormal_batch(rng, 16, 1)
    a = gt.GAILoss(1.0, str(path))(t64(z), t64(y))
    b = gt.GAILoss(1.0, gm)(t64(z), t64(y))
    assert_close(a, b, rtol=1e-14)


def test_bmc_published_usage_trains_sigma_in_its_own_param_group():
    """README of jiawei-ren/BalancedMSE: BMCLoss(init_noise_sigma), sigma in its own group."""
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = (x[:, :1] * 2).exp()  # skewed targets
    model = torch.nn.Linear(3, 1)
    init_noise_sigma, sigma_lr = 1.0, 1e-2
    criterion = gt.BMCLoss(init_noise_sigma)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    optimizer.add_param_group({"params": criterion.noise_sigma, "lr": sigma_lr,
                               "name": "noise_sigma"})
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert criterion.noise_sigma.grad is not None
    assert criterion.noise_sigma.item() != init_noise_sigma  # sigma was trained
    assert all(np.isfinite(losses))
    assert list(dict(criterion.named_parameters())) == ["noise_sigma"]
    fixed = gt.BMCLoss(init_noise_sigma, fix_noise_sigma=True)
    assert list(fixed.parameters()) == []
    assert "noise_sigma" in fixed.state_dict()
    with torch.no_grad():
        fixed.noise_sigma.copy_(criterion.noise_sigma)
        assert_close(fixed(model(x), y), criterion(model(x), y), rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_balanced_mse_low_precision_and_extremes(rng, dtype):
    y, z = lognormal_batch(rng, 64)
    z[:2] = [1e4, -1e4]
    x = t64(z).to(dtype).requires_grad_(True)
    s = torch.nn.Parameter(torch.tensor(0.5))
    out = gt.functional.bmc_loss(x, t64(y).to(dtype), s)
    out.backward()
    assert out.dtype == dtype
    assert x.grad.dtype == dtype
    assert s.grad.dtype == torch.float32
    assert torch.isfinite(out)
    assert torch.isfinite(x.grad).all()
    assert torch.isfinite(s.grad)
    expected = GF.bmc_loss(x.detach().double(), t64(y).to(dtype).double(), 0.5)
    assert_close(out, expected, rtol=1e-2 if dtype == torch.bfloat16 else 1e-6)


def test_balanced_mse_validation():
    x = torch.randn(8)
    with pytest.raises(ValueError, match="noise_sigma"):
        GF.bmc_loss(x, x, 0.0)
    with pytest.raises(ValueError, match="init_noise_sigma"):
        gt.BMCLoss(-1.0)
    with pytest.raises(ValueError, match="shape"):
        GF.bmc_loss(x, x[:4], 1.0)
    with pytest.raises(ValueError, match=r"\(B,\) or \(B, d\)"):
        GF.bmc_loss(x.reshape(2, 2, 2), x.reshape(2, 2, 2), 1.0)
    with pytest.raises(ValueError, match="positive"):
        GF.bni_loss(x, x, 1.0, torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        GF.gai_loss(x, x, 1.0, torch.zeros(3, 2), torch.ones(3) / 3, torch.eye(2).expand(3, 2, 2))
    with pytest.raises(ValueError, match="reduction"):
        gt.GAILoss(1.0, {"means": [0.0], "weights": [1.0], "variances": [1.0]}, reduction="avg")


# ------------------------------------------------------------------------ Dice and PEL
def ref_dice(z, y, smooth, groups):
    """Soft Dice per group, written from the definition (torch.sigmoid, float64)."""
    p = torch.sigmoid(z).reshape(groups, -1)
    y = y.reshape(groups, -1)
    return 1 - (2 * (p * y).sum(1) + smooth) / (p.sum(1) + y.sum(1) + smooth)


def ref_pel(z, y, alpha, power, groups):
    """PEL per group: the mean of the foreground and background channels' scores."""
    out = 0
    for r, t in ((torch.sigmoid(z), y), (torch.sigmoid(-z), 1 - y)):
        r, t = r.reshape(groups, -1), t.reshape(groups, -1)
        out = out + 1 - alpha * ((r * t) ** power).sum(1) / (r.sum(1) + t.sum(1))
    return out / 2


OVERLAP = {
    "dice": (lambda **kw: gbloss.dice(smooth=1.0, **kw), GF.dice_loss, {"smooth": 1.0},
             lambda z, y, g: ref_dice(z, y, 1.0, g)),
    "pel": (lambda **kw: gbloss.pel(alpha=20.0, power=3.0, **kw), GF.pel_loss,
            {"alpha": 20.0, "power": 3.0}, lambda z, y, g: ref_pel(z, y, 20.0, 3.0, g)),
}


@pytest.mark.parametrize("name", ["dice", "pel"])
@pytest.mark.parametrize("batch", [False, True])
def test_overlap_equals_boosting_loss(rng, name, batch):
    make, fn, kw, ref_fn = OVERLAP[name]
    z = rng.normal(size=(3, 2, 4)) * 2
    z.reshape(-1)[:3] = [0.0, 0.0, 9.0]  # exact zeros: the gradient there is exact too
    y = (rng.random((3, 2, 4)) < 0.4).astype(float)
    groups = 1 if batch else 3
    sizes = None if batch else [8, 8, 8]
    loss = make(hessian="exact")
    zt = t64(z).requires_grad_(True)
    none = fn(zt, t64(y), batch=batch, reduction="none", **kw)
    assert none.shape == (() if batch else (3,))
    per_group = [loss.loss(y.reshape(-1), z.reshape(-1))] if batch else \
        [loss.loss(y[i].reshape(-1), z[i].reshape(-1)) for i in range(3)]
    assert_close(none.reshape(-1), per_group, rtol=1e-12, what="per group")
    mean = fn(zt, t64(y), batch=batch, **kw)
    assert_close(mean, loss.loss(y.reshape(-1), z.reshape(-1), group=sizes), rtol=1e-12)
    assert_close(fn(zt, t64(y), batch=batch, reduction="sum", **kw),
                 np.sum(per_group), rtol=1e-12)
    # derivatives: the mean's gradient times S = n equals gradient_hessian (derivatives of
    # S * mean over groups); its Hessian diagonal the exact one; the full Hessian (rows of
    # a group are coupled) autograd's of the independent definition
    grad, hess = loss.gradient_hessian(y.reshape(-1), z.reshape(-1), group=sizes)
    n = z.size
    flat = t64(z).reshape(-1)
    full = torch.autograd.functional.hessian(
        lambda v: fn(v.reshape(z.shape), t64(y), batch=batch, **kw) * n, flat)
    (g,) = torch.autograd.grad(mean * n, zt)
    assert_close(g.reshape(-1), grad, rtol=1e-10, atol=1e-14, what="grad")
    assert_close(torch.diagonal(full), hess, rtol=1e-8, atol=1e-13, what="hess diagonal")
    full_ref = torch.autograd.functional.hessian(
        lambda v: ref_fn(v, t64(y).reshape(-1), groups).mean() * n, flat)
    assert_close(full, full_ref, rtol=1e-8, atol=1e-13, what="full Hessian vs reference")
    value_ref = ref_fn(t64(z).reshape(-1), t64(y).reshape(-1), groups)
    assert_close(none.reshape(-1), value_ref, rtol=1e-12, what="values vs reference")


@pytest.mark.parametrize("name", ["dice", "pel"])
def test_overlap_weights_half_precision_and_extremes(rng, name):
    make, fn, kw, _ = OVERLAP[name]
    z = rng.normal(size=(2, 16)) * 3
    z[0, :2] = [1e4, -1e4]
    y = (rng.random((2, 16)) < 0.5).astype(float)
    w = rng.random((2, 16))
    got = fn(t64(z), t64(y), weight=t64(w), **kw)
    expected = make().loss(y.reshape(-1), z.reshape(-1), w.reshape(-1), group=[16, 16])
    assert_close(got, expected, rtol=1e-12, what="weighted")
    for dtype in (torch.float32, torch.float16):
        x = t64(z).to(dtype).requires_grad_(True)
        out = fn(x, t64(y).to(dtype), **kw)
        out.backward()
        assert out.dtype == dtype
        assert x.grad.dtype == dtype
        assert torch.isfinite(out)
        assert torch.isfinite(x.grad).all()
    module = gt.DiceLoss(batch=True) if name == "dice" else gt.PELoss(batch=True)
    assert_close(module(t64(z), t64(y)), fn(t64(z), t64(y), batch=True, **kw), rtol=0)


# ------------------------------------------------------------- targets that require grad
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_sigmoid_focal_target_gradient_equals_reference_autograd(ref, rng, gamma, soft, path,
                                                                 kernel_path):
    """A target that requires grad (soft labels from a teacher) gets the exact gradient, and
    the mixed second derivatives are exact: autograd of the float64 reference."""
    z = margins(rng, 20, 3)
    y = rng.random((20, 3)) if soft else (rng.random((20, 3)) < 0.4).astype(float)
    cw = np.array([[1.0, 4.0], [0.5, 2.0], [1.0, 1.0]])  # per channel [negative, positive]
    c0, c1 = t64(0.7 * cw[:, 0]), t64(0.3 * cw[:, 1])
    v = t64(rng.normal(size=(20, 3)))  # a direction for the mixed derivatives

    def ours(a, b):
        return GF.sigmoid_focal_loss(a, b, gamma=gamma, alpha=0.3, weight=t64(cw),
                                     reduction="sum")

    results = []
    for fn in (ours, lambda a, b: ref.binary_rows(b, a, gamma, c0, c1).sum()):
        zt, yt = t64(z).requires_grad_(True), t64(y).requires_grad_(True)
        gz, gy = torch.autograd.grad(fn(zt, yt), (zt, yt), create_graph=True)
        (gzy,) = torch.autograd.grad((gz * v).sum(), yt)  # d/dy of the z-gradient
        (gyz,) = torch.autograd.grad((gy * v).sum(), zt)  # d/dz of the y-gradient
        results.append((gy, gzy, gyz))
    for what, a, b in zip(("d/dy", "d2/dz dy", "d2/dy dz"), *results, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-15, what=what)
    # the module and the dispatching focal loss pass it on alike; only the target needs grad
    yt = t64(y).requires_grad_(True)
    for loss in (gt.SigmoidFocalLoss(gamma=gamma, alpha=0.3, weight=t64(cw), reduction="sum"),
                 gt.FocalLoss(gamma=gamma, alpha=0.3, weight=t64(cw), reduction="sum")):
        (g,) = torch.autograd.grad(loss(t64(z), yt), yt)
        assert_close(g, results[1][0], rtol=1e-12, atol=1e-15, what=type(loss).__name__)


def acb_package_formula(pred, target, a, b):
    """acb-mse's ``ACBLoss.forward`` (PyPI 1.0.6), written here: ``a`` times the MSE over the
    zero targets plus ``b`` times the MSE over the others (an empty class adds 0)."""
    zero = target == 0
    return sum(w * TF.mse_loss(pred[m], target[m]) for w, m in ((a, zero), (b, ~zero))
               if bool(m.any()))


@pytest.mark.parametrize("case", ["mixed", "no zeros"])
def test_acb_target_gradient_equals_package_autograd(rng, case):
    """ACB-MSE passes a target that requires grad the gradient of the package's loss (classes
    held fixed), as autograd of the package's formula; the prediction's gradient too."""
    y = rng.normal(size=(3, 2, 4, 4))
    y[y < (0.3 if case == "mixed" else -np.inf)] = 0
    z = rng.normal(size=y.shape)
    grads = []
    for fn in (lambda a, b: GF.acb_mse_loss(a, b, zero_weight=0.7, nonzero_weight=2.0),
               lambda a, b: acb_package_formula(a, b, 0.7, 2.0)):
        zt, yt = t64(z).requires_grad_(True), t64(y).requires_grad_(True)
        grads.append(torch.autograd.grad(fn(zt, yt), (zt, yt)))
    for what, a, b in zip(("d/dz", "d/dy"), *grads, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-300, what=what)
    yt = t64(y).requires_grad_(True)
    (g,) = torch.autograd.grad(gt.ACBLoss(0.7, 2.0)(t64(z), yt), yt)  # the module
    assert_close(g, grads[1][1], rtol=1e-12, atol=1e-300, what="module")


#: The losses whose backward gives the prediction only: each refuses a target that requires
#: grad (it used to get none, silently). ``(functional, module)`` on (6, 4) predictions.
NO_TARGET_GRADIENT = {
    "bmc_loss": (lambda x, y: GF.bmc_loss(x, y, 1.0), gt.BMCLoss(1.0)),
    "bni_loss": (lambda x, y: GF.bni_loss(x, y, 0.5, t64([0.0, 0.5, 1.0]), t64([0.3, 0.3, 0.4])),
                 gt.BNILoss(0.5, [0.0, 0.5, 1.0], [0.3, 0.3, 0.4])),
    "gai_loss": (lambda x, y: GF.gai_loss(x, y, 0.5, t64([0.0, 1.0]), t64([0.5, 0.5]),
                                          t64([0.2, 0.1])),
                 gt.GAILoss(0.5, {"means": [[0.0], [1.0]], "weights": [0.5, 0.5],
                                  "variances": [[[0.2]], [[0.1]]]})),
    "dice_loss": (GF.dice_loss, gt.DiceLoss()),
    "pel_loss": (GF.pel_loss, gt.PELoss()),
}


@pytest.mark.parametrize("name", sorted(NO_TARGET_GRADIENT))
def test_target_that_requires_grad_is_refused_where_no_gradient_flows(rng, name):
    functional, module = NO_TARGET_GRADIENT[name]
    x = t64(rng.normal(size=(6, 4))).requires_grad_(True)
    y = t64(rng.random((6, 4)))
    for fn in (functional, module.double()):
        with pytest.raises(ValueError, match=rf"target requires grad; gbloss\.torch\.functional"
                                             rf"\.{name} .*target\.detach\(\)"):
            fn(x, y.clone().requires_grad_(True))
        fn(x, y).backward()  # a plain target
        with torch.no_grad():  # no graph: nothing is refused
            fn(x, y.clone().requires_grad_(True))


@pytest.mark.parametrize("name", ["cross_entropy", "softmax_focal_loss", "ldam_loss", "lmf_loss"])
def test_class_index_losses_refuse_a_float_target_that_requires_grad(rng, name):
    """Class indices are integer tensors, which cannot require grad; a float target (one that
    requires grad included) is refused, never silently given no gradient."""
    fn = getattr(GF, name)
    args = (COUNTS,) if name in ("ldam_loss", "lmf_loss") else ()
    x = t64(rng.normal(size=(6, K))).requires_grad_(True)
    y = t64(rng.integers(0, K, 6)).requires_grad_(True)
    with pytest.raises(ValueError, match="class indices"):
        fn(x, y, *args)
    with pytest.raises(RuntimeError):
        torch.as_tensor(rng.integers(0, K, 6)).requires_grad_(True)
