"""ACB-MSE and Balanced MSE (BMC, BNI, GAI): derivatives, peer values, reductions, errors, training.

Every expected value here comes from an independent definition written in the
test (torch, in log-space, float64), from the acb-mse package or from
scikit-learn -- never from gbloss itself.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import gbloss
from gbloss.losses.balanced_mse import BalancedMSELoss

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-6


# ----------------------------------------------------------------------------- helpers
def close(actual, expected, rtol=RTOL, floor=1e-9):
    """|a - e| <= rtol * max(|e|, floor * max|e|, floor) elementwise."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, (a.shape, e.shape)
    scale = np.maximum(np.abs(e), floor * max(1.0, float(np.max(np.abs(e))) if e.size else 1.0))
    bad = np.abs(a - e) > rtol * scale
    assert not bad.any(), (
        f"max rel err {np.max(np.abs(a - e) / scale):.3g} at {np.argwhere(bad)[:5].tolist()}: "
        f"{a[bad][:5]} vs {e[bad][:5]}")


def autograd_derivatives(total_fn, z):
    """Gradient and Hessian diagonal of ``total_fn(z)`` (a scalar) by torch autograd.

    The losses are separable over rows, so for 1-D ``z`` the row-sum of the
    Hessian is its diagonal; for (n, d) margins each column is taken alone.
    """
    zt = torch.tensor(np.asarray(z, dtype=np.float64), requires_grad=True)
    (g,) = torch.autograd.grad(total_fn(zt), zt, create_graph=True)
    if zt.ndim == 1:
        (h,) = torch.autograd.grad(g.sum(), zt)
    else:
        h = torch.stack([torch.autograd.grad(g[:, a].sum(), zt, retain_graph=True)[0][:, a]
                         for a in range(zt.shape[1])], axis=1)
    return g.detach().numpy(), h.numpy()


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def lognormal(n, seed=0, d=None):
    rng = np.random.default_rng(seed)
    return rng.lognormal(size=n if d is None else (n, d))


# --------------------------------------------------- independent torch definitions
def bmc_rows(z, y, centres, sigma, log_w=None):
    """||z - y||^2 + 2 sigma^2 logsumexp_j(log w_j - ||z - c_j||^2 / (2 sigma^2))."""
    z2 = z.reshape(z.shape[0], -1)
    y2 = y.reshape(y.shape[0], -1)
    c = centres.reshape(centres.shape[0], -1)
    logits = -torch.cdist(z2, c) ** 2 / (2 * sigma**2)
    if log_w is not None:
        logits = logits + log_w[None, :]
    return ((z2 - y2) ** 2).sum(1) + 2 * sigma**2 * torch.logsumexp(logits, dim=1)


def bni_rows(z, y, centres, freq, sigma):
    """The authors' BNILoss per row: (mse + bal) * 2 noise_var (1-D)."""
    nv = sigma**2
    mse = (z - y) ** 2 / (2 * nv)
    bal = torch.logsumexp(-0.5 * (z[:, None] - centres[None, :]) ** 2 / nv
                          + torch.log(freq)[None, :], dim=1)
    return (mse + bal) * 2 * nv


def gai_rows_1d(z, y, means, weights, variances, sigma):
    """The authors' GAILoss per row (1-D)."""
    nv = sigma**2
    mse = (z - y) ** 2 / (2 * nv) + 0.5 * np.log(nv)
    s = variances[None, :] + nv
    bal = torch.logsumexp(-0.5 * torch.log(s) - 0.5 * (z[:, None] - means[None, :]) ** 2 / s
                          + torch.log(weights)[None, :], dim=1)
    return (mse + bal) * 2 * nv


def gai_rows_md(z, y, means, weights, covs, sigma):
    """The authors' gai_loss_md per row: MVN log-densities."""
    d = z.shape[1]
    nv = sigma**2
    eye = torch.eye(d, dtype=torch.float64)
    mse = -torch.distributions.MultivariateNormal(z, nv * eye).log_prob(y)
    mvn = torch.distributions.MultivariateNormal(means, covs + nv * eye)
    bal = torch.logsumexp(mvn.log_prob(z[:, None, :]) + torch.log(weights)[None, :], dim=1)
    return (mse + bal) * 2 * nv


def fit_gmm(y, k, seed=0):
    from sklearn.mixture import GaussianMixture

    y = y.reshape(y.shape[0], -1)
    # gbloss fits the mixture on the labels in sorted order (statistics free of the row order)
    gm = GaussianMixture(n_components=k, random_state=seed).fit(y[np.lexsort(y.T[::-1])])
    return gm.means_, gm.weights_, gm.covariances_


def weighted_total(rows_fn, w):
    wt = None if w is None else t64(w)
    return lambda zt: rows_fn(zt).sum() if wt is None else (wt * rows_fn(zt)).sum()


# ======================================================================== ACB-MSE
class TestACBMSE:
    @pytest.mark.parametrize(("a", "b"), [(1.0, 1.0), (2.5, 0.3), (0.0, 1.0)])
    @pytest.mark.parametrize("shape", [(257,), (64, 3)])
    def test_value_equals_acb_mse_package(self, a, b, shape):
        from acb_mse import ACBLoss

        rng = np.random.default_rng(1)
        y = rng.normal(size=shape)
        y[rng.random(shape) < 0.8] = 0.0  # mostly zero targets, as in sparse images
        z = rng.normal(size=shape)
        expected = float(ACBLoss(a, b)(t64(z), t64(y)))
        assert gbloss.acb_mse(a, b).loss(y, z) == pytest.approx(expected, rel=1e-12)

    @pytest.mark.parametrize("target", ["no_zeros", "all_zeros"])
    def test_absent_class_matches_package_and_gives_no_nan(self, target):
        from acb_mse import ACBLoss

        rng = np.random.default_rng(2)
        y = rng.normal(size=50) + 5 if target == "no_zeros" else np.zeros(50)
        z = rng.normal(size=50)
        loss = gbloss.acb_mse(3.0, 0.5)
        value = loss.loss(y, z)
        assert np.isfinite(value)
        assert value == pytest.approx(float(ACBLoss(3.0, 0.5)(t64(z), t64(y))), rel=1e-12)
        g, h = loss.gradient_hessian(y, z)
        assert np.all(np.isfinite(g))
        assert np.all(h > 0)

    def test_absent_class_on_validation_rows_is_weighted_as_rarest(self):
        y_train = np.array([0.0, 0.0, 0.0, 1.0])  # classes by edges [0.5, 2]: 3, 1, 0 rows
        loss = gbloss.acb_mse(classes=[0.5, 2.0], class_weight=[1.0, 1.0, 2.0]).fit(y_train)
        # factor of the absent class: weight 2 x S / min N_k = 2 * 4 / 1
        val = loss.loss(np.array([3.0]), np.array([4.0]))
        assert val == pytest.approx(8.0)

    def test_k_classes_of_equal_size_give_k_times_mse(self):
        rng = np.random.default_rng(3)
        y = rng.normal(size=400)
        z = y + rng.normal(size=400)
        edges = np.quantile(y, [0.25, 0.5, 0.75])  # 4 classes of 100 rows
        mse = np.mean((z - y) ** 2)
        assert gbloss.acb_mse(classes=edges).loss(y, z) == pytest.approx(4 * mse, rel=1e-12)
        ids = lambda v: np.searchsorted(edges, v, side="right")
        assert gbloss.acb_mse(classes=ids).loss(y, z) == pytest.approx(4 * mse, rel=1e-12)
        zero = np.where(np.arange(400) % 2 == 0, 0.0, y)
        assert gbloss.acb_mse().loss(zero, z) == pytest.approx(2 * np.mean((z - zero) ** 2),
                                                            rel=1e-12)

    @pytest.mark.parametrize("weighted", [False, True])
    @pytest.mark.parametrize("variant", ["zero", "edges", "callable", "2d"])
    def test_derivatives_match_autograd(self, weighted, variant):
        rng = np.random.default_rng(4)
        shape = (40, 2) if variant == "2d" else (120,)
        y = np.round(rng.normal(size=shape), 1)
        y[rng.random(shape) < 0.6] = 0.0
        z = rng.normal(size=shape) * 2
        w = rng.uniform(0.2, 3.0, size=shape[0]) if weighted else None
        edges = np.array([-0.5, 0.05, 0.7])
        cw = np.array([1.0, 0.5, 2.0, 3.0])
        if variant in ("zero", "2d"):
            loss = gbloss.acb_mse(1.7, 0.4, hessian="exact")
            ids, weights = (y != 0).astype(int), np.array([1.7, 0.4])
        elif variant == "edges":
            loss = gbloss.acb_mse(classes=edges, class_weight=cw, hessian="exact")
            ids, weights = np.searchsorted(edges, y, side="right"), cw
        else:
            loss = gbloss.acb_mse(classes=lambda v: (v > 0.3).astype(np.int64) * 2,
                                  class_weight=[1.0, 5.0, 0.25], hessian="exact")
            ids, weights = (y > 0.3).astype(int) * 2, np.array([1.0, 5.0, 0.25])
        ww = np.ones(shape[0]) if w is None else w
        we = ww if y.ndim == 1 else np.repeat(ww[:, None], y.shape[1], 1)

        def total(zt):  # S * sum_k c_k * weighted MSE of class k
            sq = (zt - t64(y)) ** 2 * t64(we)
            out = 0
            for k in np.unique(ids):
                mask = t64(ids == k)
                out = out + weights[k] * (sq * mask).sum() / float(we[ids == k].sum())
            return out * float(ww.sum())

        g_ref, h_ref = autograd_derivatives(total, z)
        g, h = loss.gradient_hessian(y, z, w)
        close(g, g_ref)
        close(h, h_ref)
        assert loss.loss(y, z, w) == pytest.approx(float(total(t64(z))) / ww.sum(), rel=1e-10)

    def test_init_score_minimises(self):
        rng = np.random.default_rng(5)
        y = np.where(rng.random(300) < 0.7, 0.0, rng.lognormal(size=300))
        w = rng.uniform(0.5, 2, size=300)
        loss = gbloss.acb_mse(1.0, 4.0)
        c = loss.init_score(y, w)
        # weighted MSE of each class, independently: the minimiser of A*MSE0 + B*MSE1
        m0, m1 = y == 0, y != 0
        expected = (1.0 * np.sum(w[m0] * y[m0]) / w[m0].sum() + 4.0 * np.sum(w[m1] * y[m1])
                    / w[m1].sum()) / 5.0
        assert c == pytest.approx(expected, rel=1e-12)

    def test_errors(self):
        with pytest.raises(ValueError, match="classes= give class_weight"):
            gbloss.acb_mse(zero_weight=2.0, classes=[0.0, 1.0])
        with pytest.raises(ValueError, match="class_weight needs classes"):
            gbloss.acb_mse(class_weight=[1.0, 2.0])
        with pytest.raises(ValueError, match="increasing"):
            gbloss.acb_mse(classes=[1.0, 0.0])
        with pytest.raises(ValueError, match="class_weight has 2"):
            gbloss.acb_mse(classes=[0.0, 1.0], class_weight=[1.0, 2.0])
        with pytest.raises(ValueError, match="zero_weight"):
            gbloss.acb_mse(zero_weight=-1.0)
        loss = gbloss.acb_mse()
        with pytest.raises(ValueError, match="NaN"):
            loss.gradient_hessian(np.array([0.0, np.nan]), np.zeros(2))
        with pytest.raises(ValueError, match="infinite"):
            loss.gradient_hessian(np.array([0.0, np.inf]), np.zeros(2))
        with pytest.raises(ValueError, match="does not fit"):
            loss.gradient_hessian(np.zeros(4), np.zeros((4, 2)))
        with pytest.raises(ValueError, match="non-negative integer"):
            gbloss.acb_mse(classes=lambda v: v - 5).gradient_hessian(np.ones(3), np.zeros(3))


# =================================================================== Balanced MSE
SIGMA = 0.6


class TestBalancedMSEDerivatives:
    @pytest.mark.parametrize("weighted", [False, True])
    def test_bmc(self, weighted):
        y_tr = lognormal(150, seed=10)
        rng = np.random.default_rng(11)
        y, z = lognormal(90, seed=12), rng.normal(1.5, 2.5, size=90)
        w_tr = rng.uniform(0.3, 2, size=150) if weighted else None
        w = rng.uniform(0.3, 2, size=90) if weighted else None
        loss = gbloss.balanced_mse(SIGMA, "bmc", method="exact", hessian="exact").fit(y_tr, w_tr)
        log_w = None if w_tr is None else t64(np.log(w_tr / w_tr.mean()))
        total = weighted_total(lambda zt: bmc_rows(zt, t64(y), t64(y_tr), SIGMA, log_w), w)
        g_ref, h_ref = autograd_derivatives(total, z)
        g, h = loss.gradient_hessian(y, z, w)
        close(g, g_ref)
        close(h, h_ref)

    def test_bmc_multi_dimensional(self):
        y_tr = lognormal(80, seed=13, d=3)
        rng = np.random.default_rng(14)
        y, z = lognormal(50, seed=15, d=3), rng.normal(1.5, 2, size=(50, 3))
        w = rng.uniform(0.3, 2, size=50)
        loss = gbloss.balanced_mse(SIGMA, "bmc", hessian="exact").fit(y_tr)
        total = weighted_total(lambda zt: bmc_rows(zt, t64(y), t64(y_tr), SIGMA), w)
        g_ref, h_ref = autograd_derivatives(total, z)
        g, h = loss.gradient_hessian(y, z, w)
        close(g, g_ref)
        close(h, h_ref)

    @pytest.mark.parametrize("weighted", [False, True])
    def test_bni(self, weighted):
        y_tr = lognormal(300, seed=16)
        edges = np.linspace(0, y_tr.max() + 0.5, 41)
        rng = np.random.default_rng(17)
        y, z = lognormal(80, seed=18), rng.normal(1.5, 3, size=80)
        w_tr = rng.uniform(0.3, 2, size=300) if weighted else None
        w = rng.uniform(0.3, 2, size=80) if weighted else None
        loss = gbloss.balanced_mse(SIGMA, "bni", bins=edges, hessian="exact").fit(y_tr, w_tr)
        counts, _ = np.histogram(y_tr, edges, weights=w_tr)
        keep = counts > 0
        centres = 0.5 * (edges[1:] + edges[:-1])[keep]
        freq = counts[keep] / counts.sum()
        total = weighted_total(lambda zt: bni_rows(zt, t64(y), t64(centres), t64(freq), SIGMA), w)
        g_ref, h_ref = autograd_derivatives(total, z)
        g, h = loss.gradient_hessian(y, z, w)
        close(g, g_ref)
        close(h, h_ref)

    @pytest.mark.parametrize("weighted", [False, True])
    def test_gai(self, weighted):
        y_tr = lognormal(400, seed=19)
        rng = np.random.default_rng(20)
        y, z = lognormal(80, seed=21), rng.normal(1.5, 3, size=80)
        w = rng.uniform(0.3, 2, size=80) if weighted else None
        loss = gbloss.balanced_mse(SIGMA, "gai", n_components=5, hessian="exact").fit(y_tr)
        means, weights, covs = fit_gmm(y_tr, 5)
        total = weighted_total(lambda zt: gai_rows_1d(
            zt, t64(y), t64(means[:, 0]), t64(weights), t64(covs[:, 0, 0]), SIGMA), w)
        g_ref, h_ref = autograd_derivatives(total, z)
        g, h = loss.gradient_hessian(y, z, w)
        close(g, g_ref)
        close(h, h_ref)

    def test_gai_multi_dimensional(self):
        rng = np.random.default_rng(22)
        y_tr = rng.multivariate_normal([0, 1], [[1, 0.6], [0.6, 2]], size=300) ** 2
        y, z = y_tr[:60] + 0.1, rng.normal(1, 2, size=(60, 2))
        w = rng.uniform(0.3, 2, size=60)
        loss = gbloss.balanced_mse(SIGMA, "gai", n_components=4, hessian="exact").fit(y_tr)
        means, weights, covs = fit_gmm(y_tr, 4)
        total = weighted_total(lambda zt: gai_rows_md(
            zt, t64(y), t64(means), t64(weights), t64(covs), SIGMA), w)
        g_ref, h_ref = autograd_derivatives(total, z)
        g, h = loss.gradient_hessian(y, z, w)
        close(g, g_ref)
        close(h, h_ref)

    def test_hessian_diagonal_is_the_whole_hessian_of_a_row(self):
        """Row i's loss depends on z_i only: off-diagonal entries across rows are 0."""
        y_tr = lognormal(50, seed=23)
        y, z = y_tr[:6], np.linspace(-1, 4, 6)
        zt = t64(z)
        full = torch.autograd.functional.hessian(
            lambda v: bmc_rows(v, t64(y), t64(y_tr), SIGMA).sum(), zt).numpy()
        _, h = gbloss.balanced_mse(SIGMA, hessian="exact").fit(y_tr).gradient_hessian(y, z)
        close(np.diag(full), h)
        assert np.allclose(full - np.diag(np.diag(full)), 0, atol=1e-12)


class TestBalancedMSEPeerValues:
    def test_bmc_equals_authors_cross_entropy(self):
        rng = np.random.default_rng(30)
        y = lognormal(200, seed=31)
        z = y + rng.normal(size=200)
        logits = -(t64(z)[:, None] - t64(y)[None, :]) ** 2 / (2 * SIGMA**2)
        expected = float(F.cross_entropy(logits, torch.arange(200))) * 2 * SIGMA**2
        assert gbloss.balanced_mse(SIGMA, method="exact").loss(y, z) == \
            pytest.approx(expected, rel=1e-12)

    def test_bmc_md_equals_authors(self):
        rng = np.random.default_rng(32)
        y = lognormal(100, seed=33, d=2)
        z = y + rng.normal(size=(100, 2))
        eye = torch.eye(2, dtype=torch.float64)
        logits = torch.distributions.MultivariateNormal(
            t64(z)[:, None, :], SIGMA**2 * eye).log_prob(t64(y)[None, :, :])
        expected = float(F.cross_entropy(logits, torch.arange(100))) * 2 * SIGMA**2
        assert gbloss.balanced_mse(SIGMA).loss(y, z) == pytest.approx(expected, rel=1e-12)

    def test_bni_equals_authors(self):
        rng = np.random.default_rng(34)
        y = np.round(rng.gamma(2.0, 8.0, size=500))  # integer "ages"
        z = y + rng.normal(0, 4, size=500)
        edges = np.arange(-0.5, y.max() + 1.5)  # one bucket per integer, centres = integers
        counts, _ = np.histogram(y, edges)
        keep = counts > 0
        centres = t64(np.arange(0, y.max() + 1)[keep])
        freq = t64(counts[keep] / counts.sum())
        expected = float(bni_rows(t64(z), t64(y), centres, freq, 5.0).mean())
        assert gbloss.balanced_mse(5.0, "bni", bins=edges).loss(y, z) == \
            pytest.approx(expected, rel=1e-12)

    def test_gai_equals_authors_with_a_supplied_mixture(self):
        rng = np.random.default_rng(35)
        y = lognormal(300, seed=36)
        z = y + rng.normal(size=300)
        means, weights, covs = fit_gmm(y, 6)
        gmm = {"means": means, "weights": weights, "variances": covs}  # the authors' gmm.pkl
        expected = float(gai_rows_1d(t64(z), t64(y), t64(means[:, 0]), t64(weights),
                                     t64(covs[:, 0, 0]), SIGMA).mean())
        assert gbloss.balanced_mse(SIGMA, "gai", gmm=gmm).loss(y, z) == \
            pytest.approx(expected, rel=1e-12)
        # the same mixture fitted by the loss itself
        assert gbloss.balanced_mse(SIGMA, "gai", n_components=6).loss(y, z) == \
            pytest.approx(expected, rel=1e-9)


class TestBalancedMSEReductions:
    def test_bni_with_fine_bins_approaches_bmc(self):
        y = lognormal(3000, seed=40)
        rng = np.random.default_rng(41)
        z, yy = rng.uniform(0, 6, size=200), lognormal(200, seed=42)
        g_bmc, _ = gbloss.balanced_mse(SIGMA, method="exact").fit(y).gradient_hessian(yy, z)
        errs = []
        for width in (SIGMA / 4, SIGMA / 40, SIGMA / 400):
            edges = np.arange(y.min(), y.max() + width, width)
            g, _ = gbloss.balanced_mse(SIGMA, "bni", bins=edges, method="exact").fit(y) \
                .gradient_hessian(yy, z)
            errs.append(np.max(np.abs(g - g_bmc)) / np.max(np.abs(g_bmc)))
        assert errs[0] > errs[1] > errs[2]
        assert errs[2] < 1e-3

    def test_small_sigma_gives_the_squared_error_gradient(self):
        rng = np.random.default_rng(43)
        y_tr = rng.normal(size=20000)  # spacing ~1e-4 in the bulk
        z, y = rng.uniform(-1, 1, size=200), rng.normal(size=200)
        se = 2 * (z - y)

        def dev(sigma):
            g, _ = gbloss.balanced_mse(sigma, method="exact").fit(y_tr).gradient_hessian(y, z)
            return np.max(np.abs(g - se)) / np.max(np.abs(se))

        assert dev(0.02) < 5e-3
        assert dev(1.0) > 0.1  # not squared error when sigma is large

    def test_fast_method_matches_exact(self):
        y = lognormal(4000, seed=44)
        rng = np.random.default_rng(45)
        z = np.concatenate([y[:1000] + rng.normal(size=1000), [-1e4, 1e4, -40.0, 90.0]])
        yy = np.concatenate([y[:1000], [1.0, 2.0, 3.0, 4.0]])
        for prior in ("bmc", "bni"):
            ex = gbloss.balanced_mse(SIGMA, prior, method="exact", hessian="exact").fit(y)
            fa = gbloss.balanced_mse(SIGMA, prior, method="fast", hessian="exact").fit(y)
            assert fa.statistics_.table is not None
            assert ex.statistics_.table is None
            ge, he = ex.gradient_hessian(yy, z)
            gf, hf = fa.gradient_hessian(yy, z)
            assert np.max(np.abs(gf - ge)) <= 1e-3 * np.max(np.abs(ge))
            assert np.max(np.abs(gf - ge)[:1000]) <= 1e-6 * np.max(np.abs(ge))
            assert np.max(np.abs(hf - he)[:1000]) <= 1e-5
            assert fa.loss(yy[:1000], z[:1000]) == pytest.approx(ex.loss(yy[:1000], z[:1000]),
                                                                  rel=1e-7)


class TestBalancedMSEBehaviour:
    @pytest.mark.parametrize(("prior", "method"), [("bmc", "exact"), ("bmc", "fast"),
                                              ("bni", "exact"), ("gai", "exact"),
                                              ("gai", "fast")])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_dtype_and_finite_at_extreme_margins(self, prior, method, dtype):
        y = lognormal(400, seed=50).astype(dtype)
        z = np.linspace(-1e4, 1e4, 400).astype(dtype)
        loss = gbloss.balanced_mse(SIGMA, prior, method=method, n_components=3)
        g, h = loss.gradient_hessian(y, z)
        assert g.dtype == dtype
        assert h.dtype == dtype
        assert g.shape == z.shape
        assert np.all(np.isfinite(g))
        assert np.all(np.isfinite(h))
        assert np.all(h > 0)
        assert np.isfinite(loss.loss(y, z))

    def test_hessian_floor(self):
        y = lognormal(200, seed=51)
        z = np.array([-500.0, 0.5, 1.0, 500.0])
        w = np.array([1.0, 2.0, 3.0, 0.5])
        exact = gbloss.balanced_mse(SIGMA, hessian="exact").fit(y)
        auto = gbloss.balanced_mse(SIGMA, hessian_floor=0.1).fit(y)
        _, he = exact.gradient_hessian(y[:4], z, w)
        _, ha = auto.gradient_hessian(y[:4], z, w)
        assert he[0] < 1e-100
        assert he[3] < 1e-100
        assert np.all(ha == np.maximum(he, 0.2 * w))

    def test_statistics_are_computed_once_and_can_be_supplied(self, monkeypatch):
        y = lognormal(300, seed=52)
        z = y + 0.3
        loss = gbloss.balanced_mse(prior="bni")
        calls = []
        original = BalancedMSELoss._fit_stats
        monkeypatch.setattr(BalancedMSELoss, "_fit_stats",
                            lambda self, *a: calls.append(1) or original(self, *a))
        for _ in range(3):
            loss.gradient_hessian(y, z)
        assert len(calls) == 1
        # fitted on other labels: those statistics are used for any y
        fitted = gbloss.balanced_mse(prior="bni").fit(y * 3)
        g1, _ = fitted.gradient_hessian(y, z)
        g2, _ = gbloss.balanced_mse(prior="bni").gradient_hessian(y, z)
        assert not np.allclose(g1, g2)
        assert fitted.statistics_.sigma == pytest.approx(0.5 * np.std(y * 3))
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.gradient_hessian(y, z)[0], g1)

    def test_default_sigma_is_half_the_label_std(self):
        y = lognormal(500, seed=53)
        z = y + 0.2
        assert gbloss.balanced_mse().loss(y, z) == \
            gbloss.balanced_mse(0.5 * float(np.std(y))).loss(y, z)

    @pytest.mark.parametrize(("prior", "d"), [("bmc", 1), ("bni", 1), ("gai", 1), ("bmc", 2),
                                         ("gai", 2)])
    def test_init_score_minimises_the_loss(self, prior, d):
        y = lognormal(300, seed=54, d=None if d == 1 else d)
        w = np.random.default_rng(55).uniform(0.5, 2, size=300)
        loss = gbloss.balanced_mse(SIGMA, prior, n_components=3).fit(y, w)
        c = np.atleast_1d(loss.init_score(y, w))
        base = loss.loss(y, np.broadcast_to(c, y.shape).reshape(y.shape), w)
        for a in range(d):
            for step in (1e-3, -1e-3):
                cc = c.copy()
                cc[a] += step
                assert loss.loss(y, np.broadcast_to(cc, y.shape).reshape(y.shape), w) > base

    def test_errors(self):
        y = lognormal(50, seed=56)
        with pytest.raises(ValueError, match="sigma must be > 0"):
            gbloss.balanced_mse(sigma=0.0)
        with pytest.raises(ValueError, match="sigma must be > 0"):
            gbloss.balanced_mse(sigma=-1.0)
        with pytest.raises(ValueError, match="prior"):
            gbloss.balanced_mse(prior="xyz")
        for bad in (np.nan, np.inf):
            yb = y.copy()
            yb[3] = bad
            with pytest.raises(ValueError, match=r"NaN|infinite"):
                gbloss.balanced_mse().gradient_hessian(yb, np.zeros(50))
            with pytest.raises(ValueError, match=r"NaN|infinite"):
                gbloss.balanced_mse().fit(yb)
        with pytest.raises(ValueError, match="at least 8 distinct"):
            gbloss.balanced_mse(prior="gai").fit(np.repeat([1.0, 2.0, 3.0], 10))
        with pytest.raises(ValueError, match="hold none of the 3 training labels"):
            gbloss.balanced_mse(prior="bni", bins=[5.0, 6.0, 7.0]).fit(np.array([0.5, 1, 2]))
        with pytest.raises(ValueError, match="leave 1 of the 2 training labels outside"):
            gbloss.balanced_mse(prior="bni", bins=[0.0, 1.0]).fit(np.array([0.5, 3.0]))
        with pytest.raises(ValueError, match="positive weight"):
            gbloss.balanced_mse(prior="bni").fit(np.array([0.5, 3.0]), np.zeros(2))
        with pytest.raises(ValueError, match="does not fit"):
            gbloss.balanced_mse().gradient_hessian(y, np.zeros((50, 2)))
        with pytest.raises(ValueError, match="does not fit"):
            gbloss.balanced_mse().gradient_hessian(y, np.zeros(49))
        with pytest.raises(ValueError, match="2-dimensional"):
            gbloss.balanced_mse().fit(np.ones((5, 2)) * np.arange(5)[:, None]) \
                .gradient_hessian(y, y)
        with pytest.raises(ValueError, match="1-D targets only"):
            gbloss.balanced_mse(method="fast").fit(lognormal(20, d=2))
        with pytest.raises(ValueError, match="1-D targets only"):
            gbloss.balanced_mse(prior="bni").fit(lognormal(20, d=2))
        with pytest.raises(ValueError, match="do not vary"):
            gbloss.balanced_mse().fit(np.ones(10))
        with pytest.raises(ValueError, match="bins applies"):
            gbloss.balanced_mse(prior="bmc", bins=10)

    def test_torch_inputs_match_numpy(self):
        y = lognormal(200, seed=57)
        z = y + np.random.default_rng(58).normal(size=200)
        for loss in (gbloss.balanced_mse(SIGMA, "bmc", method="fast").fit(y),
                     gbloss.balanced_mse(SIGMA, "gai", n_components=3).fit(y),
                     gbloss.acb_mse(2.0, 1.0)):
            g, h = loss.gradient_hessian(y, z)
            gt, ht = loss.gradient_hessian(t64(y), t64(z))
            assert isinstance(gt, torch.Tensor)
            np.testing.assert_allclose(gt.numpy(), g, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(ht.numpy(), h, rtol=1e-12, atol=1e-14)


# ======================================================================== training
def learned(loss, y, pred, before):
    """Training lowered the loss and the predictions explain most of the label variance."""
    pred = np.asarray(pred, dtype=np.float64).reshape(y.shape)
    return loss.loss(y, pred) < before and np.mean((pred - y) ** 2) < 0.5 * np.mean(
        (y - y.mean(axis=0)) ** 2)


def regression_data(n=600, d=None, seed=60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    base = np.exp(0.8 * X[:, 0] + 0.3 * X[:, 1])
    y = base + 0.2 * rng.normal(size=n)
    if d:
        y = np.stack([y, np.exp(0.5 * X[:, 2]) + 0.1 * rng.normal(size=n)], axis=1)
    return X, y


@pytest.mark.parametrize("loss", [gbloss.acb_mse(), gbloss.balanced_mse(prior="bmc"),
                                  gbloss.balanced_mse(prior="gai", n_components=4)],
                         ids=["acb", "bmc", "gai"])
def test_xgboost_train(loss):
    xgb = pytest.importorskip("xgboost")
    X, y = regression_data()
    dtrain = xgb.DMatrix(X, label=y)
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "base_score": float(np.mean(y))}
    before = loss.loss(y, np.full(y.shape, np.mean(y)))
    booster = xgb.train(params, dtrain, 20, obj=loss, custom_metric=loss.metric)
    assert learned(loss, y, booster.predict(dtrain, output_margin=True), before)
    booster = gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1}, dtrain, loss, 20)
    assert learned(loss, y, booster.predict(dtrain), before)


@pytest.mark.parametrize("prior", ["bmc", "gai"])
def test_xgboost_multi_output(prior):
    xgb = pytest.importorskip("xgboost")
    X, y = regression_data(d=2)
    loss = gbloss.balanced_mse(prior=prior, n_components=4)
    dtrain = xgb.DMatrix(X, label=y)
    booster = gbloss.xgboost.train({"max_depth": 3, "eta": 0.3, "nthread": 1,
                                    "tree_method": "hist"}, dtrain, loss, 20)
    pred = booster.predict(dtrain)
    assert pred.shape == y.shape
    before = loss.loss(y, np.broadcast_to(y.mean(axis=0), y.shape).copy())
    assert learned(loss, y, pred, before)


@pytest.mark.parametrize("loss", [gbloss.acb_mse(), gbloss.balanced_mse(prior="bni")],
                         ids=["acb", "bni"])
def test_lightgbm_train(loss):
    lgb = pytest.importorskip("lightgbm")
    X, y = regression_data()
    before = loss.loss(y, np.full(y.shape, np.mean(y)))
    params = {"objective": loss, "metric": "None", "num_leaves": 8, "learning_rate": 0.3,
              "num_threads": 1, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X, y, init_score=np.full(y.shape, np.mean(y))), 20)
    assert learned(loss, y, booster.predict(X) + np.mean(y), before)
    booster = gbloss.lightgbm.train({"num_leaves": 8, "learning_rate": 0.3, "num_threads": 1,
                                     "verbose": -1}, lgb.Dataset(X, y), loss, 20)
    assert learned(loss, y, booster.predict(X), before)


def test_gai_prior_does_not_depend_on_the_row_order():
    """The workers of a distributed training gather the labels in another order than one
    machine holds them: GAI's mixture must be the same."""
    y = lognormal(300, seed=31)
    order = np.random.default_rng(32).permutation(y.size)
    a = gbloss.balanced_mse(prior="gai", n_components=4).fit(y).statistics_.mixture
    b = gbloss.balanced_mse(prior="gai", n_components=4).fit(y[order]).statistics_.mixture
    np.testing.assert_allclose(a.centres, b.centres, rtol=1e-12)
    np.testing.assert_allclose(a.log_weight, b.log_weight, rtol=1e-12)
