"""LDS weights (gbloss.lds_weights) against the authors' code, re-typed below."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang

import gbloss
from gbloss.losses._lds import lds_kernel_window


# ------------------------------------------------- the reference, re-typed from the authors
# YyzHarry/imbalanced-regression, agedb-dir/utils.py (commit c37d6f4): get_lds_kernel_window
def get_lds_kernel_window(kernel, ks, sigma):
    assert kernel in ["gaussian", "triang", "laplace"]
    half_ks = (ks - 1) // 2
    if kernel == "gaussian":
        base_kernel = [0.] * half_ks + [1.] + [0.] * half_ks
        kernel_window = gaussian_filter1d(base_kernel, sigma=sigma) / max(
            gaussian_filter1d(base_kernel, sigma=sigma))
    elif kernel == "triang":
        kernel_window = triang(ks)
    else:
        laplace = lambda x: np.exp(-abs(x) / sigma) / (2. * sigma)
        kernel_window = list(map(laplace, np.arange(-half_ks, half_ks + 1))) / max(
            map(laplace, np.arange(-half_ks, half_ks + 1)))
    return kernel_window


# agedb-dir/datasets.py (commit c37d6f4): AgeDB._prepare_weights, with the labels passed in
# instead of read from self.df['age'], and `print` dropped
def _prepare_weights(labels, reweight, max_target=121, lds=False, lds_kernel="gaussian",
                     lds_ks=5, lds_sigma=2):
    assert reweight in {"none", "inverse", "sqrt_inv"}
    assert reweight != "none" if lds else True, \
        "Set reweight to 'sqrt_inv' (default) or 'inverse' when using LDS"

    value_dict = {x: 0 for x in range(max_target)}
    for label in labels:
        value_dict[min(max_target - 1, int(label))] += 1
    if reweight == "sqrt_inv":
        value_dict = {k: np.sqrt(v) for k, v in value_dict.items()}
    elif reweight == "inverse":
        value_dict = {k: np.clip(v, 5, 1000) for k, v in value_dict.items()}
    num_per_label = [value_dict[min(max_target - 1, int(label))] for label in labels]
    if not len(num_per_label) or reweight == "none":
        return None

    if lds:
        lds_kernel_window = get_lds_kernel_window(lds_kernel, lds_ks, lds_sigma)
        smoothed_value = convolve1d(
            np.asarray([v for _, v in value_dict.items()]), weights=lds_kernel_window,
            mode="constant")
        num_per_label = [smoothed_value[min(max_target - 1, int(label))] for label in labels]

    weights = [np.float32(1 / x) for x in num_per_label]
    scaling = len(weights) / np.sum(weights)
    weights = [scaling * x for x in weights]
    return weights


# sts-b-dir/tasks.py (commit c37d6f4): the weights of load_tsv (histogram bins on [0, 5])
def sts_weights(targs, bucket_num, reweight, lds, lds_kernel, lds_ks, lds_sigma):
    bins = bucket_num
    value_lst, bins_edges = np.histogram(targs, bins=bins, range=(0., 5.))

    def get_bin_idx(label):
        if label == 5.:
            return bins - 1
        else:
            return np.where(bins_edges > label)[0][0] - 1

    if reweight == "sqrt_inv":
        value_lst = [np.sqrt(x) for x in value_lst]
    num_per_label = [value_lst[get_bin_idx(label)] for label in targs]
    if lds:
        lds_kernel_window = get_lds_kernel_window(lds_kernel, lds_ks, lds_sigma)
        smoothed_value = convolve1d(value_lst, weights=lds_kernel_window, mode="constant")
        num_per_label = [smoothed_value[get_bin_idx(label)] for label in targs]
    weights = [np.float32(1 / x) for x in num_per_label]
    scaling = len(weights) / np.sum(weights)
    return [scaling * x for x in weights]


def ages(n=2000, seed=0):
    """Long-tailed ages in [0, 120]: most in their 20s-40s, a few old and very young."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.normal(32, 8, int(0.9 * n)), rng.uniform(0, 120, n - int(0.9 * n))])
    return np.clip(np.round(y, 1), 0, 125)  # a few above max_target, capped by the authors


# ------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("kernel", ["gaussian", "triang", "laplace"])
@pytest.mark.parametrize(("ks", "sigma"), [(5, 2.0), (3, 1.0), (9, 3.0), (1, 1.0)])
def test_kernel_window_equals_authors(kernel, ks, sigma):
    np.testing.assert_allclose(lds_kernel_window(kernel, ks, sigma),
                               get_lds_kernel_window(kernel, ks, sigma), rtol=1e-15)


@pytest.mark.parametrize("kernel", ["gaussian", "triang", "laplace"])
@pytest.mark.parametrize(("ks", "sigma"), [(5, 2.0), (9, 3.0)])
def test_sqrt_inv_equals_authors_age_code(kernel, ks, sigma):
    y = ages()
    ref = np.asarray(_prepare_weights(y, "sqrt_inv", lds=True, lds_kernel=kernel, lds_ks=ks,
                                      lds_sigma=sigma))
    for bins in (None, np.arange(0, 122)):
        w = gbloss.lds_weights(y, bins, kernel=kernel, kernel_size=ks, sigma=sigma,
                               reweight="sqrt_inv")
        np.testing.assert_allclose(w, ref, rtol=2e-6)  # theirs are float32
    assert w.mean() == pytest.approx(1.0, rel=1e-12)


def test_inverse_without_smoothing_equals_authors_age_code():
    y = ages(seed=1)
    ref = np.asarray(_prepare_weights(y, "inverse", lds=False))
    w = gbloss.lds_weights(y, np.arange(0, 122), kernel=None, reweight="inverse",
                           clip=(5, 1000))
    np.testing.assert_allclose(w, ref, rtol=2e-6)


@pytest.mark.parametrize("kernel", ["gaussian", "laplace"])
def test_inverse_with_smoothing_differs_from_authors_only_by_their_integer_truncation(kernel):
    """Their inverse counts are an int array, which convolve1d returns truncated to integers;
    with the counts as floats (the one change) their code gives our weights."""
    y = ages(seed=2)
    w = gbloss.lds_weights(y, np.arange(0, 122), kernel=kernel, reweight="inverse",
                           clip=(5, 1000))
    labels = y

    def as_float(v):
        return np.asarray(v, dtype=np.float64)

    value_dict = {x: 0 for x in range(121)}
    for label in labels:
        value_dict[min(120, int(label))] += 1
    value_dict = {k: np.clip(v, 5, 1000) for k, v in value_dict.items()}
    window = get_lds_kernel_window(kernel, 5, 2)
    smoothed = convolve1d(as_float([v for _, v in value_dict.items()]), weights=window,
                          mode="constant")
    num = [smoothed[min(120, int(label))] for label in labels]
    ref = np.array([np.float32(1 / x) for x in num])
    ref = ref * (len(ref) / np.sum(ref))
    np.testing.assert_allclose(w, ref, rtol=2e-6)
    verbatim = np.asarray(_prepare_weights(y, "inverse", lds=True, lds_kernel=kernel))
    assert not np.allclose(w, verbatim, rtol=1e-3)  # the truncation is visible
    np.testing.assert_allclose(w, verbatim, rtol=0.25)  # but small


@pytest.mark.parametrize("reweight", ["inverse", "sqrt_inv"])
@pytest.mark.parametrize("bucket_num", [50, 20])
def test_histogram_bins_equal_authors_sts_code(reweight, bucket_num):
    rng = np.random.default_rng(3)
    y = np.clip(np.round(np.concatenate([rng.beta(5, 2, 900) * 5, rng.uniform(0, 5, 100)]),
                         2), 0, 5)
    y[:2] = [0.0, 5.0]  # both ends of the range
    ref = np.asarray(sts_weights(list(y), bucket_num, reweight, True, "gaussian", 5, 2))
    # their counts are floats only with sqrt_inv (see the truncation test above)
    w = gbloss.lds_weights(y, np.linspace(0, 5, bucket_num + 1), reweight=reweight)
    if reweight == "sqrt_inv":
        np.testing.assert_allclose(w, ref, rtol=2e-6)
    else:
        np.testing.assert_allclose(w, ref, rtol=0.1)
    # an int count of bins spans [min y, max y] = [0, 5] here: the same edges
    np.testing.assert_allclose(gbloss.lds_weights(y, bucket_num, reweight=reweight), w,
                               rtol=1e-12)


def test_reweight_none_and_edge_cases():
    y = ages(200)
    np.testing.assert_array_equal(gbloss.lds_weights(y, reweight="none"), np.ones(200))
    assert gbloss.lds_weights(np.array([])).shape == (0,)
    np.testing.assert_allclose(gbloss.lds_weights(np.full(5, 3.0)), np.ones(5), rtol=1e-15)
    np.testing.assert_allclose(gbloss.lds_weights(np.full(5, 3.0), 4), np.ones(5), rtol=1e-15)
    # targets outside explicit edges count in the end bins
    w = gbloss.lds_weights(np.array([-5.0, 0.5, 1.5, 9.0]), np.array([0.0, 1.0, 2.0]),
                           kernel=None)
    np.testing.assert_allclose(w, np.ones(4))
    # rarer targets weigh more
    w = gbloss.lds_weights(y)
    assert w[np.argmax(np.abs(y - 32))] > w[np.argmin(np.abs(y - 32))]
    assert np.all(w > 0)


def test_errors():
    y = ages(50)
    with pytest.raises(ValueError, match="reweight"):
        gbloss.lds_weights(y, reweight="inv")
    with pytest.raises(ValueError, match="kernel"):
        gbloss.lds_weights(y, kernel="box")
    with pytest.raises(ValueError, match="kernel_size"):
        gbloss.lds_weights(y, kernel_size=4)
    with pytest.raises(ValueError, match="sigma"):
        gbloss.lds_weights(y, sigma=0.0)
    with pytest.raises(ValueError, match="bins"):
        gbloss.lds_weights(y, bins=0)
    with pytest.raises(ValueError, match="bins"):
        gbloss.lds_weights(y, bins=[3.0, 1.0])
    with pytest.raises(ValueError, match="clip"):
        gbloss.lds_weights(y, clip=(5, 1))
    with pytest.raises(ValueError, match="finite"):
        gbloss.lds_weights(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="1-D"):
        gbloss.lds_weights(np.ones((3, 2)))


def test_weights_with_a_loss_and_the_builtin_squared_error():
    """The weights go in as sample_weight: Loss.loss weighs rows by them."""
    y = ages(300, seed=4)
    w = gbloss.lds_weights(y)
    z = np.full(y.shape, 32.0)
    loss = gbloss.focal_regression(beta=0.2)
    rows = (z - y) ** 2 * (2 / (1 + np.exp(-0.2 * np.abs(z - y))) - 1)
    expected = np.sum(w * rows) / w.sum()
    assert loss.loss(y, z, w) == pytest.approx(expected, rel=1e-12)
