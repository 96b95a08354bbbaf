"""Focal loss and cross-entropy: values, gradients and Hessians against torch autograd.

The expected numbers come from the torch reference in ``conftest.py`` (float64,
log space, autograd), from the torchvision ``sigmoid_focal_loss`` formula
re-implemented here, and from scikit-learn's ``log_loss``; never from gbloss.

Tolerance: relative error <= 1e-6 plus an absolute floor of 1e-300: only true
underflow is excused, for binary, multi-label and multiclass data alike. gbloss
never forms ``1 - p`` by subtraction where it cancels (XGBoost and LightGBM
do), so even softmax entries far below the row's scale keep their relative
accuracy (see ``test_multiclass_relative_accuracy_extreme``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss

import gbloss
from gbloss import HESSIAN_FLOOR

GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0]
K_MULTICLASS = 4
K_MULTILABEL = 3
RTOL = 1e-6
UNDERFLOW = 1e-300


# ------------------------------------------------------------------------------ helpers
def assert_close(actual, expected, atol, rtol=RTOL, what=""):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    assert np.all(np.isfinite(actual)), f"{what}: non-finite values"
    err = np.abs(actual - expected)
    bound = rtol * np.abs(expected) + np.broadcast_to(atol, expected.shape)
    bad = err > bound
    if np.any(bad):
        i = np.unravel_index(np.argmax(err / np.maximum(bound, 1e-308)), err.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} entries differ; worst at {i}: "
            f"gbloss {actual[i]!r}, reference {expected[i]!r}"
        )


def binary_margins(rng, kind):
    if kind == "random":
        return rng.uniform(-8, 8, 300)
    grid = np.array([1e4, 1e3, 700.0, 100.0, 40.0, 30.0, 10.0, 2.8, 1e-8, 0.0])
    grid = np.concatenate([grid, -grid[:-1]])
    return np.concatenate([grid, grid, rng.uniform(-30, 30, 40)])


def multiclass_margins(rng, kind):
    k = K_MULTICLASS
    if kind == "random":
        return rng.normal(size=(300, k)) * 3
    rows = [rng.normal(size=(60, k)) * 30, rng.normal(size=(60, k)) * 1e4,
            np.array([[1e4, -1e4, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0], [30.0, 30.0, -30.0, 0.0],
                      [-1e4, -1e4, -1e4, 1e4], [3.0, 3.0, 3.0, -40.0]])]
    return np.concatenate(rows)


def multilabel_margins(rng, kind):
    k = K_MULTILABEL
    if kind == "random":
        return rng.uniform(-8, 8, (200, k))
    grid = binary_margins(rng, "extreme")
    return np.stack([grid, rng.permutation(grid), -grid], axis=1)


def make_case(rng, task, kind, weighted, soft=False):
    """Labels, margins and sample weights (with a few zero weights) for one task."""
    if task == "binary":
        z = binary_margins(rng, kind)
        y = rng.random(z.shape[0]) if soft else (rng.random(z.shape[0]) < 0.3).astype(float)
        if soft:
            y[:10] = np.round(y[:10])  # some hard labels among the soft ones
    elif task == "multiclass":
        z = multiclass_margins(rng, kind)
        y = rng.choice(K_MULTICLASS, size=z.shape[0], p=[0.55, 0.25, 0.15, 0.05]).astype(float)
    else:
        z = multilabel_margins(rng, kind)
        y = (rng.random(z.shape) < np.array([0.5, 0.2, 0.05])).astype(float)
    w = None
    if weighted:
        w = rng.uniform(0.1, 5.0, z.shape[0])
        w[[3, 7]] = 0.0
    return y, z, w


def reference(ref, task, y, z, w, gamma, factors):
    """Per-row values, grad and Hessian diagonal of sum_i w_i l_i from torch autograd."""
    if task == "multiclass":
        t, c = ref.torch.as_tensor(y.astype(np.int64)), ref.tensor(factors)
        fn = lambda zz: ref.multiclass_rows(t, zz, gamma, c)
    else:
        yt, c0, c1 = ref.tensor(y), ref.tensor(factors[0]), ref.tensor(factors[1])
        rows = ref.binary_rows if task == "binary" else ref.multilabel_rows
        fn = lambda zz: rows(yt, zz, gamma, c0, c1)
    return ref.value_grad_hess(fn, z, w)


def floor(task, y, w, factors):
    return UNDERFLOW


def check_against_reference(ref, loss, task, y, z, w, gamma, factors):
    rows, g_ref, h_ref = reference(ref, task, y, z, w, gamma, factors)
    grad, hess = loss.gradient_hessian(y, z, w)
    atol = floor(task, y, w, factors)
    assert_close(grad, g_ref, atol, what="grad")
    assert_close(hess, h_ref, atol, what="hess")
    wt = np.ones(z.shape[0]) if w is None else w
    expected = np.sum(wt * rows) / np.sum(wt)
    assert loss.loss(y, z, w) == pytest.approx(expected, rel=1e-10, abs=1e-300)


# ------------------------------------------------------------------ 1. derivatives vs torch
# Every task has two CPU kernels (gbloss/_fused.py): the reference array-API math,
# and the fused numba loop that serves large numpy inputs. Both face the oracle.
TASK_PATHS = [(task, path) for task in ("binary", "multiclass", "multilabel")
              for path in ("reference", "fused")]


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize(("task", "path"), TASK_PATHS)
@pytest.mark.parametrize("kind", ["random", "extreme"])
@pytest.mark.parametrize("weighted", [False, True])
def test_focal_matches_autograd(ref, rng, gamma, task, path, kernel_path, kind, weighted,
                                factors_ref):
    y, z, w = make_case(rng, task, kind, weighted)
    k = z.shape[1] if z.ndim == 2 else 2
    factors = factors_ref(task, k, None, None, y, w)
    loss = gbloss.focal(gamma=gamma, hessian="exact")
    check_against_reference(ref, loss, task, y, z, w, gamma, factors)


ALPHAS = {
    "binary": [0.25, [0.7, 0.2]],
    "multiclass": [0.5, [0.1, 0.2, 0.3, 0.4]],
    "multilabel": [0.25, [0.9, 0.5, 0.1]],
}


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize(("task", "path"), TASK_PATHS)
@pytest.mark.parametrize("which", [0, 1], ids=["scalar", "per_class"])
def test_alpha_matches_autograd(ref, rng, gamma, task, path, kernel_path, which, factors_ref):
    alpha = ALPHAS[task][which]
    y, z, w = make_case(rng, task, "random", weighted=True)
    k = z.shape[1] if z.ndim == 2 else 2
    factors = factors_ref(task, k, alpha, None, y, w)
    loss = gbloss.focal(gamma=gamma, alpha=alpha, hessian="exact")
    check_against_reference(ref, loss, task, y, z, w, gamma, factors)


CLASS_WEIGHTS = {
    "binary": ["balanced", "effective", {1: 4.0}, [0.5, 3.0]],
    "multiclass": ["balanced", "effective", {3: 10.0, 0: 0.5}, [1.0, 2.0, 3.0, 4.0]],
    "multilabel": ["balanced", "effective", {1: 4.0}, [[1.0, 2.0], [0.5, 5.0], [1.0, 20.0]]],
}


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize(("task", "path"), TASK_PATHS)
@pytest.mark.parametrize("which", range(4), ids=["balanced", "effective", "dict", "array"])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_weight_matches_autograd(ref, rng, gamma, task, path, kernel_path, which, weighted,
                                       factors_ref):
    class_weight = CLASS_WEIGHTS[task][which]
    y, z, w = make_case(rng, task, "random", weighted)
    k = z.shape[1] if z.ndim == 2 else 2
    alpha = {"binary": 0.25, "multiclass": [0.1, 0.2, 0.3, 0.4], "multilabel": 0.4}[task]
    # class weights alone (cross-entropy and focal), and multiplied by alpha
    for a in (None, alpha):
        factors = factors_ref(task, k, a, class_weight, y, w)
        loss = gbloss.focal(gamma=gamma, alpha=a, class_weight=class_weight, hessian="exact")
        check_against_reference(ref, loss, task, y, z, w, gamma, factors)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("kind", ["random", "extreme"])
@pytest.mark.parametrize("path", ["reference", "fused"])
def test_soft_binary_labels_match_autograd(ref, rng, gamma, kind, path, kernel_path,
                                           factors_ref):
    y, z, w = make_case(rng, "binary", kind, weighted=True, soft=True)
    for alpha, cw in [(None, None), (0.3, "balanced")]:
        factors = factors_ref("binary", 2, alpha, cw, y, w)
        loss = gbloss.focal(gamma=gamma, alpha=alpha, class_weight=cw, hessian="exact")
        check_against_reference(ref, loss, "binary", y, z, w, gamma, factors)
        ce = gbloss.cross_entropy(class_weight=cw, hessian="exact")
        if alpha is None and gamma == 0:
            check_against_reference(ref, ce, "binary", y, z, w, gamma, factors)


def test_single_row_losses_on_extreme_margins(ref, rng):
    """Each row's loss value, not just the mean, for |z| up to 1e4."""
    z = binary_margins(rng, "extreme")
    for y_value in (0.0, 1.0, 0.3):
        y = np.full(z.shape, y_value)
        for gamma in (0.0, 2.0):
            loss = gbloss.focal(gamma=gamma)
            rows = ref.rows(lambda zz, y=y, gamma=gamma: ref.binary_rows(ref.tensor(y), zz, gamma,
                                                                          1.0, 1.0), z)
            got = [loss.loss(y[i:i + 1], z[i:i + 1]) for i in range(z.shape[0])]
            assert_close(got, rows, UNDERFLOW, rtol=1e-12, what=f"y={y_value} gamma={gamma}")


def test_multiclass_relative_accuracy_extreme(ref, rng):
    """Multiclass derivatives stay relatively accurate far below the row's scale.

    The reference agrees with mpmath (80 digits) on these rows. Forming
    ``1 - u`` by subtraction would give, e.g., 0 for the true class's gradient
    when ``1 - u`` is below 1e-16; only underflow is excused here.
    """
    y, z, w = make_case(rng, "multiclass", "extreme", weighted=False)
    factors = np.ones(K_MULTICLASS)
    for gamma in (0.0, 0.5, 2.0, 5.0):
        _rows, g_ref, h_ref = reference(ref, "multiclass", y, z, w, gamma, factors)
        grad, hess = gbloss.focal(gamma=gamma, hessian="exact").gradient_hessian(y, z)
        assert_close(grad, g_ref, UNDERFLOW, what=f"grad gamma={gamma}")
        assert_close(hess, h_ref, UNDERFLOW, what=f"hess gamma={gamma}")


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_softmax_gradient_rows_sum_to_zero(rng, gamma):
    """Softmax losses are invariant to adding a constant to a row: each grad row sums to 0."""
    z = rng.normal(size=(400, 4)) * 30
    t = rng.integers(0, 4, 400).astype(float)
    grad, _ = gbloss.focal(gamma=gamma).gradient_hessian(t, z)
    scale = np.max(np.abs(grad), axis=1)
    assert np.all(np.abs(grad.sum(axis=1)) <= 1e-12 * scale)


# ----------------------------------------------------------------- peer formulas (values)
def torchvision_sigmoid_focal_loss(torch, inputs, targets, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss (reduction="none"), as published."""
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets,
                                                                   reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("alpha", [-1.0, 0.25, 0.9])
def test_binary_focal_matches_torchvision_formula(ref, rng, gamma, alpha):
    torch = ref.torch
    z = rng.uniform(-8, 8, 500)
    y = (rng.random(500) < 0.3).astype(float)
    w = rng.uniform(0.1, 3, 500)
    zt = ref.tensor(z).requires_grad_(True)
    rows = torchvision_sigmoid_focal_loss(torch, zt, ref.tensor(y), alpha, gamma)
    (g_ref,) = torch.autograd.grad((ref.tensor(w) * rows).sum(), zt)
    loss = gbloss.focal(gamma=gamma, alpha=None if alpha < 0 else alpha)
    expected = np.sum(w * rows.detach().numpy()) / np.sum(w)
    assert loss.loss(y, z, w) == pytest.approx(expected, rel=1e-9)
    grad, _ = loss.gradient_hessian(y, z, w)
    assert_close(grad, g_ref.numpy(), 1e-15, rtol=1e-8, what="grad vs torchvision")


def test_cross_entropy_matches_sklearn_log_loss(rng):
    z = rng.uniform(-6, 6, 400)
    y = (rng.random(400) < 0.3).astype(float)
    w = rng.uniform(0.1, 3, 400)
    p = 1 / (1 + np.exp(-z))
    assert gbloss.cross_entropy().loss(y, z, w) == pytest.approx(
        log_loss(y, p, sample_weight=w), rel=1e-10)
    zm = rng.normal(size=(400, 3)) * 2
    t = rng.integers(0, 3, 400)
    pm = np.exp(zm) / np.exp(zm).sum(1, keepdims=True)
    assert gbloss.cross_entropy().loss(t.astype(float), zm, w) == pytest.approx(
        log_loss(t, pm, sample_weight=w), rel=1e-10)
    cw = np.array([1.0, 5.0, 0.5])
    assert gbloss.cross_entropy(class_weight=cw).loss(t.astype(float), zm, w) == pytest.approx(
        np.sum(w * cw[t] * -np.log(pm[np.arange(400), t])) / np.sum(w), rel=1e-10)


def test_multiclass_cross_entropy_matches_torch_cross_entropy(ref, rng):
    torch = ref.torch
    z = rng.normal(size=(300, 5)) * 4
    t = rng.integers(0, 5, 300)
    cw = rng.uniform(0.5, 4, 5)
    rows = torch.nn.functional.cross_entropy(ref.tensor(z), torch.as_tensor(t),
                                             weight=ref.tensor(cw), reduction="none").numpy()
    assert gbloss.cross_entropy(class_weight=cw).loss(t.astype(float), z) == pytest.approx(
        rows.mean(), rel=1e-12)


# -------------------------------------------------------------- 2. gamma = 0 is the logistic
def test_gamma0_is_logistic_gradient(rng):
    z = np.concatenate([rng.uniform(-20, 20, 500), [0.0, 1e-8, -1e-8]])
    y = (rng.random(z.shape[0]) < 0.4).astype(float)
    w = rng.uniform(0.1, 3, z.shape[0])
    p, q = sigmoid(z), sigmoid(-z)
    # p - y, with 1 - p written as sigmoid(-z) so that the expected value has no cancellation
    grad, hess = gbloss.focal(gamma=0, hessian="exact").gradient_hessian(y, z, w)
    np.testing.assert_allclose(grad, np.where(y == 1, -q, p) * w, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(hess, p * q * w, rtol=1e-12, atol=1e-300)
    # the default policy changes nothing where p(1-p) is above the floor
    g2, h2 = gbloss.focal(gamma=0).gradient_hessian(y, z, w)
    np.testing.assert_array_equal(g2, grad)
    keep = hess >= HESSIAN_FLOOR * w
    np.testing.assert_array_equal(h2[keep], hess[keep])
    # float32 in, float32 out, to float32 accuracy (1 - p as sigmoid(-z): no cancellation)
    g32, h32 = gbloss.focal(gamma=0, hessian="exact").gradient_hessian(
        y.astype(np.float32), z.astype(np.float32))
    assert g32.dtype == np.float32
    assert h32.dtype == np.float32
    z32 = z.astype(np.float32).astype(np.float64)
    p, q = sigmoid(z32), sigmoid(-z32)
    np.testing.assert_allclose(g32, np.where(y == 1, -q, p), rtol=1e-5, atol=1e-40)
    np.testing.assert_allclose(h32, p * q, rtol=1e-5, atol=1e-40)


def test_gamma0_is_softmax_gradient(rng):
    z = rng.normal(size=(400, 4)) * 3
    t = rng.integers(0, 4, 400)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(4)[t]
    grad, hess = gbloss.focal(gamma=0, hessian="exact").gradient_hessian(t.astype(float), z)
    np.testing.assert_allclose(grad, p - onehot, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(hess, p * (1 - p), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("cw", [None, "balanced", "effective"])
def test_cross_entropy_is_focal_gamma0(rng, task, cw):
    y, z, w = make_case(rng, task, "extreme", weighted=True)
    for hessian in ("auto", "exact"):
        ce = gbloss.cross_entropy(class_weight=cw, hessian=hessian)
        fo = gbloss.focal(gamma=0, class_weight=cw, hessian=hessian)
        for a, b in zip(ce.gradient_hessian(y, z, w), fo.gradient_hessian(y, z, w), strict=False):
            np.testing.assert_array_equal(a, b)
        assert ce.loss(y, z, w) == fo.loss(y, z, w)
    k = {"multiclass": K_MULTICLASS}.get(task)
    init_ce = gbloss.cross_entropy(class_weight=cw).init_score(y, w, n_classes=k)
    init_focal = gbloss.focal(gamma=0, class_weight=cw).init_score(y, w, n_classes=k)
    np.testing.assert_array_equal(init_ce, init_focal)


# ------------------------------------------------------------------------ 3. Hessian policy
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_auto_equals_exact_above_floor_and_is_positive(rng, gamma, task):
    for kind in ("random", "extreme"):
        y, z, w = make_case(rng, task, kind, weighted=True)
        cw = "balanced"
        exact = gbloss.focal(gamma=gamma, class_weight=cw, hessian="exact")
        auto = gbloss.focal(gamma=gamma, class_weight=cw)
        g_e, h_e = exact.gradient_hessian(y, z, w)
        g_a, h_a = auto.gradient_hessian(y, z, w)
        np.testing.assert_array_equal(g_a, g_e)  # the policy never touches the gradient
        # the row's total weight: sample weight times the class factor of the label
        counts = np.bincount(y.astype(int), weights=w) if task == "multiclass" else None
        if task == "multiclass":
            cwv = np.where(counts > 0, counts.sum() / (np.count_nonzero(counts) * counts), 0)
            weight = (w * cwv[y.astype(int)])[:, None]
        else:
            ww = w if task == "binary" else w[:, None]
            n1, n0 = np.sum(ww * y, axis=0), np.sum(ww * (1 - y), axis=0)
            c1, c0 = (n1 + n0) / (2 * n1), (n1 + n0) / (2 * n0)
            weight = ww * np.where(y == 1, c1, c0)
        weight = np.broadcast_to(weight, z.shape)
        keep = h_e >= HESSIAN_FLOOR * weight
        np.testing.assert_array_equal(h_a[keep], h_e[keep])
        positive = weight > 0
        assert np.all(h_a[positive] > 0)
        np.testing.assert_array_equal(h_a[~positive], 0.0)
        # below the floor: the surrogate, itself at least the floor
        assert np.all(h_a[~keep & positive] >= HESSIAN_FLOOR * weight[~keep & positive] * 0.999)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 5.0])
def test_binary_auto_surrogate_is_scaled_logistic_curvature(rng, gamma):
    """Below the floor "auto" is max(alpha_t (1-p_t)^gamma p (1-p) w, 1e-6 alpha_t w)."""
    z = np.linspace(-12, 12, 2001)
    y = np.ones_like(z)
    w = rng.uniform(0.5, 2, z.shape[0])
    alpha = 0.25
    _, h_e = gbloss.focal(gamma=gamma, alpha=alpha, hessian="exact").gradient_hessian(y, z, w)
    _, h_a = gbloss.focal(gamma=gamma, alpha=alpha).gradient_hessian(y, z, w)
    assert np.any(h_e < 0), "focal's exact Hessian is negative for confidently wrong rows"
    p = sigmoid(z)
    weight = alpha * w
    surrogate = np.maximum(weight * (1 - p) ** gamma * p * (1 - p), HESSIAN_FLOOR * weight)
    below = h_e < HESSIAN_FLOOR * weight
    np.testing.assert_allclose(h_a[below], surrogate[below], rtol=1e-9)
    # where the exact Hessian is negative, z is negative (confidently wrong positives)
    assert np.all(z[h_e < 0] < -2.0)


def test_exact_hessian_negative_region_matches_lin_et_al():
    """Focal's exact Hessian for a positive row is negative below z of about -2.8 (gamma=2)."""
    z = np.linspace(-6, 0, 60001)
    _, h = gbloss.focal(gamma=2.0, hessian="exact").gradient_hessian(np.ones_like(z), z)
    crossing = z[np.nonzero(h >= 0)[0][0]]
    assert -2.9 < crossing < -2.7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_auto_positive_at_huge_margins(rng, dtype, task):
    y, z, w = make_case(rng, task, "extreme", weighted=True)
    for gamma in GAMMAS:
        for loss in (gbloss.focal(gamma=gamma), gbloss.focal(gamma=gamma, alpha=0.25),
                     gbloss.cross_entropy(class_weight="effective")):
            grad, hess = loss.gradient_hessian(y.astype(dtype), z.astype(dtype), w.astype(dtype))
            assert grad.dtype == dtype
            assert hess.dtype == dtype
            assert np.all(np.isfinite(grad))
            assert np.all(np.isfinite(hess))
            wb = np.broadcast_to(w[:, None] if z.ndim == 2 else w, z.shape)
            assert np.all(hess[wb > 0] > 0)


def test_multiclass_booster_hessian_conventions(rng):
    k = 5
    z = rng.normal(size=(500, k)) * 3
    z[:5] = [[40.0, -40.0, 0.0, 0.0, 0.0]] * 5  # p(1-p) underflows for some classes
    t = rng.integers(0, k, 500).astype(float)
    w = rng.uniform(0.1, 3, 500)
    e = np.exp(z - z.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    others = np.array([[np.delete(row, j).sum() for j in range(k)] for row in e])
    one_minus_p = others / e.sum(1, keepdims=True)  # summed from the other classes: no cancellation
    pq = p * one_minus_p * w[:, None]
    _, h_x = gbloss.cross_entropy(hessian="xgboost").gradient_hessian(t, z, w)
    _, h_l = gbloss.cross_entropy(hessian="lightgbm").gradient_hessian(t, z, w)
    np.testing.assert_allclose(h_x, np.maximum(2 * pq, 1e-16), rtol=1e-10)
    np.testing.assert_allclose(h_l, k / (k - 1) * pq, rtol=1e-10, atol=1e-300)
    # the gradient is the same under every convention
    g = [gbloss.cross_entropy(hessian=h).gradient_hessian(t, z, w)[0]
         for h in ("auto", "exact", "xgboost", "lightgbm")]
    for gi in g[1:]:
        np.testing.assert_array_equal(gi, g[0])


# ------------------------------------------------------------------------------ 4. numerics
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("hessian", ["auto", "exact"])
def test_finite_everywhere(rng, dtype, task, hessian):
    y, z, w = make_case(rng, task, "extreme", weighted=True)
    z = z.astype(dtype)
    with np.errstate(all="raise"):
        for gamma in GAMMAS:
            loss = gbloss.focal(gamma=gamma, alpha=0.25 if task != "multiclass" else None,
                                class_weight="balanced", hessian=hessian)
            grad, hess = loss.gradient_hessian(y, z, w)
            assert grad.dtype == dtype
            assert hess.dtype == dtype
            assert grad.shape == z.shape
            assert hess.shape == z.shape
            assert np.all(np.isfinite(grad))
            assert np.all(np.isfinite(hess))
            assert np.isfinite(loss.loss(y, z, w))


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_float32_agrees_with_float64(rng, task):
    y, z, w = make_case(rng, task, "random", weighted=True)
    for gamma in (0.0, 2.0):
        loss = gbloss.focal(gamma=gamma, class_weight="balanced")
        g64, h64 = loss.gradient_hessian(y, z, w)
        g32, h32 = loss.gradient_hessian(y.astype(np.float32), z.astype(np.float32),
                                         w.astype(np.float32))
        scale = np.max(np.abs(g64))
        np.testing.assert_allclose(g32, g64, rtol=2e-4, atol=1e-6 * scale)
        np.testing.assert_allclose(h32, h64, rtol=2e-4, atol=1e-6 * np.max(np.abs(h64)))


def test_shapes_n_and_n1(rng):
    z = rng.normal(size=300) * 3
    y = (rng.random(300) < 0.3).astype(float)
    loss = gbloss.focal(gamma=2.0)
    g1, h1 = loss.gradient_hessian(y, z)
    g2, h2 = loss.gradient_hessian(y, z[:, None])
    assert g1.shape == (300,)
    assert g2.shape == (300, 1)
    assert h2.shape == (300, 1)
    np.testing.assert_array_equal(g2[:, 0], g1)
    np.testing.assert_array_equal(h2[:, 0], h1)
    assert loss.loss(y, z[:, None]) == loss.loss(y, z)
