"""The fast method of Balanced MSE: the posterior moments of a 1-D prior, tabulated.

:func:`build_table` tabulates the posterior mean, its slope and the log-sum on
an adaptively refined grid once per training set; :func:`table_lookup`
interpolates them at the margins in ``O(1)`` per row with array-API
operations only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .mixture import PAIR_BUDGET, Mixture, chunk_terms

__all__ = ["Table", "build_table", "table_lookup"]


def _hermite(f0: Any, f1: Any, d0: Any, d1: Any, t: Any) -> Any:
    """Cubic Hermite on [0, 1] with end values ``f`` and end slopes ``d`` (per unit ``t``)."""
    t2 = t * t
    t3 = t2 * t
    return (f0 + t2 * (3 * (f1 - f0) - 2 * d0 - d1) + t3 * (2 * (f0 - f1) + d0 + d1)
            + t * d0)


@dataclass(frozen=True)
class Table:
    """Tabulated posterior mean, curvature and log-sum of a 1-D prior (the fast method).

    Uniform cells of width ``step`` from ``lo``; cell ``k`` is split into
    ``nsub[k]`` (a power of 2) equal intervals, the first of which is interval
    ``first[k]``. Interval ``i`` holds cubic polynomials in the local
    coordinate ``t`` in [0, 1]: ``coef[0:4, i]`` for the posterior mean
    ``e_bar``, ``coef[4:8, i]`` for ``eta = Var / sigma^2`` (the slope of
    ``e_bar``) and ``vcoef[:, i]`` for ``phi = 2 sigma^2 log-sum + x^2`` (slope
    ``2 e_bar``): cubic Hermite interpolants of exact values and slopes at the
    interval's ends. ``tails`` = ``(b, gap, rho)`` below and above the table:
    beyond an end the mean continues as ``end + b dx + gap ((1 + rho |dx|)^-2 - 1)``,
    which keeps the end value and slope and tends to the limit line of slope ``b``.
    """

    lo: float
    step: float
    first: NDArray  # (K,) float64
    nsub: NDArray  # (K,) float64
    coef: NDArray  # (8, n_intervals)
    vcoef: NDArray  # (4, n_intervals)
    tails: tuple[tuple[float, float, float], tuple[float, float, float]]

    @property
    def n_intervals(self) -> int:
        return int(self.coef.shape[1])


def table_lookup(x: Any, tab: Any, xp: Any, mode: str) -> tuple[Any, ...]:
    """Interpolate a :class:`Table` (its arrays in namespace ``xp``) at margins ``x`` (R,).

    Returns ``(mean, curv)`` for ``mode="grad_hess"`` and ``(phi,)`` for
    ``"value"``, float64. ``tab["lo"]`` may include a shift of the margins
    (then ``coef[0]`` includes it too). Every step is a contiguous elementwise
    operation or a 1-D gather.
    """
    n_cells = tab["nsub"].shape[0]
    step = tab["step"]
    q = x * (1.0 / step) - tab["lo"] / step
    # just below n_cells, so that floor() <= n_cells - 1 and t < 1 without more passes
    qc = xp.clip(q, 0.0, n_cells * (1 - 2**-50))
    k = xp.floor(qc)
    ki = xp.astype(k, xp.int64)
    s = (qc - k) * xp.take(tab["nsub"], ki)
    j = xp.floor(s)
    t = s - j
    idx = xp.astype(xp.take(tab["first"], ki) + j, xp.int64)
    coef = tab["coef"]

    def poly(c: Any, r: int) -> Any:
        a = [xp.take(c[r + i, :], idx) for i in range(4)]
        return ((a[3] * t + a[2]) * t + a[1]) * t + a[0]

    mean = poly(coef, 0)
    # beyond the ends (dx != 0 on one side only): the tails
    dx = (q - qc) * step
    dn, dp = xp.minimum(dx, 0.0), xp.maximum(dx, 0.0)
    (b_lo, g_lo, r_lo), (b_hi, g_hi, r_hi) = tab["tails"]
    il, ih = 1 / (1 - r_lo * dn), 1 / (1 + r_hi * dp)
    if mode == "value":
        phi = poly(tab["vcoef"], 0)
        return (phi + 2 * mean * dx + b_lo * dn * dn + b_hi * dp * dp
                + 2 * g_lo * dn * (il - 1) + 2 * g_hi * dp * (ih - 1),)
    il2, ih2 = il * il, ih * ih
    mean = mean + (g_lo * il2 + g_hi * ih2 - (g_lo + g_hi))
    il3, ih3 = il2 * il, ih2 * ih
    curv = poly(coef, 4) * (il3 * ih3)
    if b_lo != 0 or b_hi != 0:  # limit lines with a slope (Gaussian components)
        mean = mean + (b_lo * dn + b_hi * dp)
        curv = curv + (b_lo * (1 - il3) + b_hi * (1 - ih3))
    return mean, curv


# ---------------------------------------------------------------- table construction
def _dense_cumulants(t: NDArray, mix: Mixture, sigma2: float) -> tuple[NDArray, ...]:
    """Exact log-sum, mean, eta and d(eta)/dx of the 1-D posterior at points ``t`` (numpy)."""
    g, e = chunk_terms(t[:, None], None, mix, 0, mix.size, sigma2, np, exact_rows=True)
    mx = g.max(axis=1, keepdims=True)
    eps = np.exp(g - mx)
    wt = eps.sum(axis=1, keepdims=True)
    r = eps / wt
    ev = np.broadcast_to(mix.centres[None, :, 0], g.shape) if e is None else e[:, :, 0]
    mean = np.sum(r * ev, axis=1)
    dev = ev - mean[:, None]
    cvar = 0.0 if mix.shrink is None else sigma2 * mix.shrink[None, :]  # component variances
    var = np.sum(r * (dev * dev + cvar), axis=1)
    k3 = np.sum(r * dev * (dev * dev + 3 * cvar), axis=1)
    lse = (mx[:, 0] + np.log(wt[:, 0]))
    return lse, mean, var / sigma2, k3 / (sigma2 * sigma2)


def _banded_cumulants(t: NDArray, mix: Mixture, sigma2: float) -> tuple[NDArray, ...]:
    """:func:`_dense_cumulants` at sorted points ``t``, each chunk against the centres that matter.

    A centre is skipped when its exponent is below the nearest centre's by more
    than 50 for every point of the chunk (its weight relative to the total is
    below ``M e^-50``).
    """
    mu = mix.centres[:, 0]  # sorted
    a = mix.log_weight
    hp = mix.half_prec
    kmax, kmin = float(hp.max()), float(hp.min())
    amax, amin = float(a.max()), float(a.min())
    idx = np.clip(np.searchsorted(mu, t), 1, mu.size - 1) if mu.size > 1 else np.zeros(t.size, int)
    dist = np.minimum(np.abs(t - mu[idx - 1]), np.abs(t - mu[idx])) if mu.size > 1 else \
        np.abs(t - mu[0])
    outs = [np.empty(t.size) for _ in range(4)]
    chunk = max(16, min(1024, PAIR_BUDGET // max(1, min(mu.size, 4096))))
    for s0 in range(0, t.size, chunk):
        sl = slice(s0, min(s0 + chunk, t.size))
        dmax = float(dist[sl].max())
        reach = math.sqrt((amax - amin + kmax * dmax * dmax + 50.0) / kmin)
        lo_c = int(np.searchsorted(mu, t[sl.start] - reach, side="left"))
        hi_c = int(np.searchsorted(mu, t[sl.stop - 1] + reach, side="right"))
        lo_c, hi_c = min(lo_c, mu.size - 1), max(hi_c, lo_c + 1)
        sub = Mixture(mix.centres[lo_c:hi_c], a[lo_c:hi_c], hp[lo_c:hi_c], None,
                      None if mix.shrink is None else mix.shrink[lo_c:hi_c])
        for o, v in zip(outs, _dense_cumulants(t[sl], sub, sigma2), strict=False):
            o[sl] = v
    return tuple(outs)


def build_table(mix: Mixture, sigma: float, *, limits: tuple[float, float] | None = None,
                tail: float = 64.0, cell: float = 0.25, tol: float = 1e-7,
                max_level: int = 16) -> Table:
    """Tabulate a 1-D isotropic prior for :func:`table_lookup`.

    Cells of ``cell * sigma`` cover the centres plus ``tail * sigma`` either
    side; a cell is halved until cubic Hermite interpolation from the current
    points predicts the exact mean (within ``tol * sigma``), eta (within
    ``100 tol (1 + |eta|)``) and phi (within ``tol * sigma^2``) at every
    midpoint, or ``max_level`` halvings are reached.
    """
    sigma2 = sigma * sigma
    order = np.argsort(mix.centres[:, 0], kind="stable")
    mix = Mixture(mix.centres[order], mix.log_weight[order], mix.half_prec[order], None,
                  None if mix.shrink is None else mix.shrink[order])
    mu = mix.centres[:, 0]
    step = cell * sigma
    lo = float(mu.min()) - tail * sigma
    n_cells = math.ceil((float(mu.max()) + tail * sigma - lo) / step)
    grid = lo + step * np.arange(n_cells + 1)

    def exact(tt: NDArray) -> tuple[NDArray, ...]:
        order = np.argsort(tt, kind="stable")
        res = _banded_cumulants(tt[order], mix, sigma2)
        out = []
        for v in res:
            back = np.empty_like(v)
            back[order] = v
            out.append(back)
        lse, mean, curv, dcurv = out
        return mean, curv, dcurv, 2 * sigma2 * lse + tt * tt

    vals = exact(grid)
    # pending cells: arrays (n_pending, 2^level + 1) per quantity
    pend = np.arange(n_cells)
    cur = [np.stack([v[:-1], v[1:]], axis=1) for v in vals]
    done: dict[int, list[NDArray]] = {}
    levels = np.zeros(n_cells, dtype=np.int64)
    level = 0
    while pend.size:
        n_pts = cur[0].shape[1]
        width = step / (n_pts - 1)
        left = pend[:, None] * step + lo + width * np.arange(n_pts - 1)[None, :]
        mid = (left + width / 2).reshape(-1)
        mvals = [v.reshape(pend.size, n_pts - 1) for v in exact(mid)]
        m, c, dc, ph = cur
        hm = _hermite(m[:, :-1], m[:, 1:], width * c[:, :-1], width * c[:, 1:], 0.5)
        hc = _hermite(c[:, :-1], c[:, 1:], width * dc[:, :-1], width * dc[:, 1:], 0.5)
        hp = _hermite(ph[:, :-1], ph[:, 1:], 2 * width * m[:, :-1], 2 * width * m[:, 1:], 0.5)
        err = np.maximum.reduce([
            np.abs(hm - mvals[0]) / (tol * sigma),
            np.abs(hc - mvals[1]) / (100 * tol * (1 + np.abs(mvals[1]))),
            np.abs(hp - mvals[3]) / (tol * sigma2 * (1 + np.abs(mvals[3]) * 1e-3)),
        ]).max(axis=1)
        ok = (err <= 1.0) | (level >= max_level)
        for i in np.flatnonzero(ok):
            done[int(pend[i])] = [v[i] for v in cur]
            levels[pend[i]] = level
        keep = ~ok
        merged = []
        for v, mv in zip(cur, mvals, strict=False):
            v, mv = v[keep], mv[keep]
            out = np.empty((v.shape[0], 2 * (n_pts - 1) + 1))
            out[:, 0::2] = v
            out[:, 1::2] = mv
            merged.append(out)
        pend, cur = pend[keep], merged
        level += 1
    nsub = (1 << levels).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(nsub)[:-1]])
    pts = [np.concatenate([done[k][q] for k in range(n_cells)]) for q in range(4)]
    starts = np.concatenate([[0], np.cumsum(nsub + 1)[:-1]])
    left = np.concatenate([starts[k] + np.arange(nsub[k]) for k in range(n_cells)])
    width = np.repeat(step / nsub, nsub)

    def hermite_coef(f: NDArray, df: NDArray) -> list[NDArray]:
        f0, f1 = f[left], f[left + 1]
        d0, d1 = width * df[left], width * df[left + 1]
        return [f0, d0, 3 * (f1 - f0) - 2 * d0 - d1, 2 * (f0 - f1) + d0 + d1]

    mean, curv, dcurv, phi = pts
    coef = np.stack(hermite_coef(mean, curv) + hermite_coef(curv, dcurv), axis=0)
    vcoef = np.stack(hermite_coef(phi, 2 * mean), axis=0)
    # tails: the component dominating as x -> -inf / +inf, and the decay towards its line
    hp = mix.half_prec
    wide = np.flatnonzero(hp <= hp.min() * (1 + 1e-12))
    ends = (int(wide[np.argmin(mu[wide])]), int(wide[np.argmax(mu[wide])]))
    b_all = np.zeros(mu.size) if mix.shrink is None else mix.shrink
    tails = []
    for side, j, x_end in ((-1.0, ends[0], grid[0]), (1.0, ends[1], grid[-1])):
        end = 0 if side < 0 else -1
        m_star = float(mu[j]) if limits is None else float(limits[end])
        b_star = float(b_all[j]) if limits is None else 0.0
        gap = float(mean[end] - (m_star + b_star * (x_end - m_star)))
        rho = side * (b_star - float(curv[end])) / (2 * gap) if gap != 0 else 0.0
        if not (np.isfinite(rho) and rho > 0):
            rho, gap = 1.0 / sigma, 0.0
        tails.append((b_star, gap, float(rho)))
    return Table(lo=lo, step=step, first=first.astype(np.float64),
                 nsub=nsub.astype(np.float64), coef=coef, vcoef=vcoef,
                 tails=(tails[0], tails[1]))
