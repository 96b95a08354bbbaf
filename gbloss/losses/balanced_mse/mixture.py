"""Balanced-MSE priors as mixtures, and the moments of a training label given a margin.

Each prior is a mixture over centres ``mu_j`` (the training labels, bin
centres or Gaussian components) with log-weights ``a_j`` and prior
covariances ``V_j`` (0 for point centres); see :mod:`gbloss.losses.balanced_mse`
for the loss these moments differentiate. :func:`mixture_moments` and
:func:`mixture_log_sum` use only array-API operations through ``xp``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..._core.namespace import asarray_on

__all__ = [
    "SIGMA_FRACTION",
    "Mixture",
    "binned_mixture",
    "chunk_terms",
    "gmm_parameters",
    "mix_to",
    "mixture_log_sum",
    "mixture_moments",
    "weighted_std",
]

#: Default ``sigma`` as a fraction of the standard deviation of the training labels.
SIGMA_FRACTION = 0.5
#: Pairs (rows x centres x dims) per chunk of the exact kernel: bounds its memory.
PAIR_BUDGET = 1 << 17


@dataclass(frozen=True)
class Mixture:
    """A Balanced-MSE prior as a mixture, in the shifted frame (labels minus ``shift``).

    ``centres`` (M, d); ``log_weight`` (M,); ``half_prec`` (M,) = 1 / (2 s_j)
    for isotropic components ``S_j = s_j I`` or ``None`` when ``prec`` (M, d, d)
    holds full precisions; ``shrink`` = ``B_j`` as (M,) (isotropic), (M, d, d)
    (full) or ``None`` (point centres, ``B = 0``). The arrays are of one namespace
    (numpy for the boosters, torch for :mod:`gbloss.torch`), hence typed ``Any``.
    """

    centres: Any
    log_weight: Any
    half_prec: Any
    prec: Any
    shrink: Any

    @property
    def size(self) -> int:
        return int(self.centres.shape[0])

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])


def mix_to(mix: Mixture, xp: Any, ref: Any = None) -> Mixture:
    """``mix`` as float64 arrays of ``xp`` on the device of the array ``ref``."""
    def conv(a: Any) -> Any:
        return None if a is None else asarray_on(np.ascontiguousarray(a), ref, xp, xp.float64)

    return Mixture(conv(mix.centres), conv(mix.log_weight), conv(mix.half_prec),
                   conv(mix.prec), conv(mix.shrink))


def chunk_terms(x: Any, y: Any | None, mix: Mixture, lo: int, hi: int, sigma2: float,
                 xp: Any, *, exact_rows: bool = False) -> tuple[Any, Any]:
    """Exponents and posterior means of rows ``x`` (R, d) over centres ``lo:hi``.

    Without ``y``: ``g_j = a_j - (x - mu_j)' P_j (x - mu_j) / 2``, up to a
    per-row constant when every centre is a point of the same variance (unless
    ``exact_rows``). With ``y``:
    ``g_j + ||x - y||^2 / (2 sigma^2)``, written as
    ``a_j + [(mu_j - y).(2x - y - mu_j) + (x - mu_j)' B_j (x - mu_j)] / (2 sigma^2)``,
    which has no cancellation for large margins. Returns ``(g (R, m), e)`` with
    ``e`` (R, m, d) the posterior means, or ``None`` for point centres (``e = mu``).
    """
    mu = mix.centres[lo:hi, :]
    a = mix.log_weight[lo:hi]
    d = x.shape[1]
    if y is None and mix.prec is None and mix.shrink is None and not exact_rows:
        # point centres with one variance (BMC, BNI): up to a per-row constant,
        # g_j = x . mu_j / sigma^2 + a_j - ||mu_j||^2 / (2 sigma^2), one matrix product
        k = mix.half_prec[lo:hi]
        lin = mu * (2 * k)[:, None]
        bias = a - k * xp.sum(mu * mu, axis=1)
        return xp.matmul(x, xp.permute_dims(lin, (1, 0))) + bias[None, :], None
    diff = x[:, None, :] - mu[None, :, :]  # (R, m, d)
    e = None
    if mix.prec is not None:  # full covariances
        p = mix.prec[lo:hi, ...]
        bdiff = xp.sum(mix.shrink[None, lo:hi, :, :] * diff[:, :, None, :], axis=-1)
        e = mu[None, :, :] + bdiff
        if y is None:
            pdiff = xp.sum(p[None, :, :, :] * diff[:, :, None, :], axis=-1)
            return a[None, :] - 0.5 * xp.sum(diff * pdiff, axis=-1), e
        quad_b = xp.sum(diff * bdiff, axis=-1)
    else:
        sq = diff[:, :, 0] * diff[:, :, 0] if d == 1 else xp.sum(diff * diff, axis=-1)
        if mix.shrink is not None:
            b = mix.shrink[lo:hi]
            e = mu[None, :, :] + b[None, :, None] * diff
        if y is None:
            return a[None, :] - sq * mix.half_prec[None, lo:hi], e
        quad_b = None if mix.shrink is None else mix.shrink[None, lo:hi] * sq
    dy = mu[None, :, :] - y[:, None, :]
    cross = dy * (2 * x[:, None, :] - y[:, None, :] - mu[None, :, :])
    cross = cross[:, :, 0] if d == 1 else xp.sum(cross, axis=-1)
    if quad_b is not None:
        cross = cross + quad_b
    return a[None, :] + cross / (2 * sigma2), e


def _chunk_shape(n_rows: int, n_centres: int, d: int) -> tuple[int, int]:
    per_row = max(1, n_centres * d * d)
    if per_row * 64 <= PAIR_BUDGET:
        return max(1, PAIR_BUDGET // per_row), n_centres
    rows = min(max(n_rows, 1), 256)
    return rows, max(1, PAIR_BUDGET // (rows * d * d))


def mixture_log_sum(x: Any, y: Any, mix: Mixture, sigma2: Any, xp: Any) -> Any:
    """``log sum_j exp(h_j)`` per row (R,), with ``h`` of :func:`chunk_terms` given ``y``.

    Chunked over rows and centres with a running maximum: memory stays bounded.
    """
    n, m = x.shape[0], mix.size
    if n == 0:
        return x[0:0, 0]
    rb, cb = _chunk_shape(n, m, x.shape[1])
    out = []
    for r0 in range(0, n, rb):
        r1 = min(r0 + rb, n)
        xr, yr = x[r0:r1, :], y[r0:r1, :]
        mx = s = None
        for c0 in range(0, m, cb):
            h, _ = chunk_terms(xr, yr, mix, c0, min(c0 + cb, m), sigma2, xp)
            mc = xp.max(h, axis=1)
            if mx is None:
                mx, s = mc, xp.sum(xp.exp(h - mc[:, None]), axis=1)
            else:
                mn = xp.maximum(mx, mc)
                s = s * xp.exp(mx - mn) + xp.sum(xp.exp(h - mn[:, None]), axis=1)
                mx = mn
        out.append(mx + xp.log(s))
    return out[0] if len(out) == 1 else xp.concat(out, axis=0)


def mixture_moments(x: Any, mix: Mixture, sigma2: Any, xp: Any) -> tuple[Any, Any]:
    """Posterior mean ``e_bar`` (R, d) and ``sum_j r_j B_jaa + Var_r(e_a) / sigma^2`` (R, d).

    The responsibilities ``r`` are the softmax over centres of the exponents
    ``g``; chunks over centres are merged with Chan's pairwise update of the
    weighted mean and sum of squares (weights relative to a running maximum),
    so the variance has no cancellation and memory stays bounded.
    """
    n, m, d = x.shape[0], mix.size, x.shape[1]
    if n == 0:
        return x[0:0, :], x[0:0, :]
    rb, cb = _chunk_shape(n, m, d)
    if mix.shrink is None:
        bdiag = None
    elif mix.prec is not None:
        bdiag = xp.stack([mix.shrink[:, a, a] for a in range(d)], axis=1)  # (M, d)
    else:
        bdiag = mix.shrink[:, None]  # (M, 1) broadcasts over d
    means, curv = [], []
    for r0 in range(0, n, rb):
        xr = x[r0:min(r0 + rb, n), :]
        state = None
        for c0 in range(0, m, cb):
            c1 = min(c0 + cb, m)
            g, e = chunk_terms(xr, None, mix, c0, c1, sigma2, xp)
            mc = xp.max(g, axis=1, keepdims=True)
            eps = xp.exp(g - mc)  # (r, m)
            wc = xp.sum(eps, axis=1, keepdims=True)  # (r, 1)
            if e is None:
                mu = mix.centres[c0:c1, :]
                ref = xp.mean(mu, axis=0, keepdims=True)
                dmu = mu - ref
                d1 = xp.matmul(eps, dmu)
                meanc = ref + d1 / wc
                m2c = xp.maximum(xp.matmul(eps, dmu * dmu) - d1 * d1 / wc, 0.0)
            else:
                meanc = xp.sum(eps[:, :, None] * e, axis=1) / wc
                dev = e - meanc[:, None, :]
                m2c = xp.sum(eps[:, :, None] * dev * dev, axis=1)
            bc = None if bdiag is None else xp.matmul(eps, bdiag[c0:c1, :]) / wc
            if state is None:
                state = [mc, wc, meanc, m2c, bc]
                continue
            mx, wa, mean, m2, bbar = state
            mn = xp.maximum(mx, mc)
            al, be = xp.exp(mx - mn), xp.exp(mc - mn)
            wa, wb = wa * al, wc * be
            wn = wa + wb
            delta = meanc - mean
            frac = wb / wn
            mean = mean + delta * frac
            m2 = m2 * al + m2c * be + delta * delta * (wa * frac)
            if bbar is not None:
                bbar = bbar + (bc - bbar) * frac
            state = [mn, wn, mean, m2, bbar]
        assert state is not None  # (at least one centre)
        _, wt, mean, m2, bbar = state
        c = m2 / (wt * sigma2)
        if bbar is not None:
            c = c + bbar
        means.append(mean)
        curv.append(c)
    if len(means) == 1:
        return means[0], curv[0]
    return xp.concat(means, axis=0), xp.concat(curv, axis=0)



def weighted_std(y: NDArray, w: NDArray | None) -> float:
    ww = np.ones(y.shape[0]) if w is None else w
    tot = ww.sum()
    mean = (ww[:, None] * y).sum(axis=0) / tot
    var = (ww[:, None] * (y - mean) ** 2).sum(axis=0) / tot
    return float(math.sqrt(var.mean()))


def binned_mixture(y: NDArray, w: NDArray | None, sigma: float,
                    per_sigma: int = 32) -> Mixture:
    """The fast BMC prior: labels in bins of ``sigma / per_sigma``, each a Gaussian with the bin's
    count, mean and variance (moment matching), so that
    ``sum_{y in bin} exp(-(x - y)^2 / 2 sigma^2) ~= n sqrt(sigma^2 / s) exp(-(x - m)^2 / 2 s)``
    with ``s = sigma^2 + v``."""
    h = sigma / per_sigma
    lo = float(y.min())
    idx = np.floor((y - lo) / h).astype(np.int64)
    ww = np.ones(y.size) if w is None else w
    nb = int(idx.max()) + 1
    cnt = np.bincount(idx, weights=ww, minlength=nb)
    s1 = np.bincount(idx, weights=ww * y, minlength=nb)
    present = cnt > 0
    cnt, s1 = cnt[present], s1[present]
    mean = s1 / cnt
    dev = y - mean[np.searchsorted(np.flatnonzero(present), idx)]
    s2 = np.bincount(idx, weights=ww * dev * dev, minlength=nb)[present]
    var = np.maximum(s2 / cnt, 0.0)
    sigma2 = sigma * sigma
    s = sigma2 + var
    a = np.log(cnt / ww.mean()) - 0.5 * np.log(s / sigma2)
    return Mixture(mean[:, None], a, 0.5 / s, None, var / s)


def gmm_parameters(gmm: Any, d: int) -> tuple[NDArray, NDArray, NDArray]:
    """(means (K, d), weights (K,), full covariances (K, d, d)) of a fitted mixture or a dict."""
    if isinstance(gmm, Mapping):
        means, weights = gmm.get("means"), gmm.get("weights")
        covs = gmm.get("covariances", gmm.get("variances"))
        ctype = "full"
    else:
        means, weights = getattr(gmm, "means_", None), getattr(gmm, "weights_", None)
        covs, ctype = getattr(gmm, "covariances_", None), getattr(gmm, "covariance_type", "full")
    if means is None or weights is None or covs is None:
        raise ValueError("gmm must be a fitted sklearn GaussianMixture or a dict with 'means', "
                         "'weights' and 'covariances' (or 'variances')")
    means = np.asarray(means, dtype=np.float64).reshape(-1, d)
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    k = means.shape[0]
    covs = np.asarray(covs, dtype=np.float64)
    if ctype == "tied":
        covs = np.broadcast_to(covs, (k, d, d))
    elif ctype == "diag" or (covs.shape == (k, d) and d > 1):
        covs = np.einsum("ka,ab->kab", covs.reshape(k, d), np.eye(d))
    elif ctype == "spherical" or covs.size == k:
        covs = covs.reshape(k, 1, 1) * np.eye(d)[None]
    covs = covs.reshape(k, d, d)
    if weights.shape != (k,) or not np.all(weights > 0) or not np.all(np.isfinite(means)):
        raise ValueError("gmm weights must be positive, one per component, and means finite")
    return means, weights / weights.sum(), covs
