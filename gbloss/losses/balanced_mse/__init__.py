"""Balanced MSE (Ren et al., CVPR 2022) for its three priors: BMC, BNI and GAI.

Each prior is a mixture over centres ``mu_j`` (the training labels, bin
centres or Gaussian components) with log-weights ``a_j`` and
prior covariances ``V_j`` (0 for point centres). With the noise variance
``sigma^2``, ``S_j = V_j + sigma^2 I``, ``P_j = S_j^{-1}`` and
``B_j = I - sigma^2 P_j``, the loss of row ``i`` (margin ``z``, label ``y``) is

.. math::

    \\ell = \\|z - y\\|^2 + 2\\sigma^2 \\Big[\\kappa + \\log \\sum_j
    \\exp\\big(a_j - \\tfrac12 (z - \\mu_j)^\\top P_j (z - \\mu_j)\\big)\\Big]

and, with the responsibilities ``r_j`` (softmax of the exponent) and the
posterior means ``e_j = mu_j + B_j (z - mu_j)`` of a training label given
``z`` under each component,

.. math::

    \\partial_z \\ell = 2 (\\bar e - y), \\qquad
    \\partial^2_{z_a} \\ell = 2\\Big[\\sum_j r_j (B_j)_{aa}
        + \\mathrm{Var}_r(e_{\\cdot a}) / \\sigma^2\\Big] \\ge 0,

that is twice the posterior mean minus the label, and twice the posterior
variance of a training label given ``z`` over ``sigma^2``. The exponents are
rewritten without cancellation (:func:`.mixture.mixture_moments`), so every
output is finite for margins up to ``+-1e4`` and beyond.

* :mod:`.mixture` -- the priors as mixtures and the posterior moments;
* :mod:`.table` -- the fast method's tabulated moments of 1-D priors.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from ..._core.checks import as_float_array, check_finite_scalar, check_option
from ..._core.hessian import HESSIAN_FLOOR
from ..._core.labels import REGRESSION, Labels, Task, check_regression_shapes
from ..._core.namespace import asarray_on, to_numpy
from ..._objective.binding import CallContext
from .._contract import Loss
from .._init import root
from .mixture import (
    SIGMA_FRACTION,
    Mixture,
    binned_mixture,
    gmm_parameters,
    mix_to,
    mixture_log_sum,
    mixture_moments,
    weighted_std,
)
from .table import Table, build_table, table_lookup

__all__ = ["BalancedMSELoss", "BalancedStats", "balanced_mse"]

Prior = Literal["bmc", "bni", "gai"]
Method = Literal["auto", "exact", "fast"]
PRIORS: tuple[Prior, ...] = ("bmc", "bni", "gai")
METHODS: tuple[Method, ...] = ("auto", "exact", "fast")
#: ``method="auto"`` uses the fast table when a 1-D prior has more centres than this.
FAST_ABOVE = 512


def _as_2d(a: Any, xp: Any) -> Any:
    return xp.reshape(a, (-1, 1)) if a.ndim == 1 else a


def balanced_kernel(y: Any, w: Any, z: Any, xp: Any, *, mix: Mixture | None,
                     table: dict | None, shift: Any, sigma2: float, kappa: float, mode: str,
                     hessian: str, floor: float, reach: tuple[Any, Any]) -> tuple[Any, ...]:
    """Balanced MSE of each row (``mode="value"``) or its gradient and Hessian diagonal.

    Margins beyond ``reach`` (``1e4`` times the prior's width outside its
    centres, where the posterior has settled on its outermost component) are
    evaluated at ``reach``: the moments there are those of that component, and
    the math stays finite up to the float maximum.
    """
    dtype = z.dtype
    lo, hi = reach
    z = xp.minimum(xp.maximum(xp.astype(z, xp.float64), lo), hi)
    if table is not None and mode == "grad_hess":
        # the table's lo and mean include the shift: margins and labels are used as they are
        mean, curv = table_lookup(xp.astype(z, xp.float64), table, xp, mode)
        grad = 2 * (mean - xp.astype(y, xp.float64))
        hess = 2 * curv
        if w is not None:
            wf = xp.astype(w, xp.float64)
            grad, hess = grad * wf, hess * wf
        if hessian == "auto":
            hess = xp.maximum(hess, 2 * floor if w is None else (2 * floor) * wf)
        else:
            hess = xp.maximum(hess, 0.0)
        return xp.astype(grad, dtype), xp.astype(hess, dtype)
    x = _as_2d(xp.astype(z, xp.float64), xp) - shift
    t = _as_2d(xp.astype(y, xp.float64), xp) - shift
    if mode == "value":
        if table is not None:
            (phi,) = table_lookup(x[:, 0], table, xp, "value")
            tt = t[:, 0]
            v = phi - 2 * x[:, 0] * tt + tt * tt + 2 * sigma2 * kappa
        else:
            assert mix is not None  # exactly one of the mixture and its table is given
            v = 2 * sigma2 * (kappa + mixture_log_sum(x, t, mix, sigma2, xp))
        return (xp.astype(v, dtype),)
    assert mix is not None
    mean, curv = mixture_moments(x, mix, sigma2, xp)
    grad = 2 * (mean - t)
    hess = 2 * curv
    if w is not None:
        wc = xp.astype(w, xp.float64)[:, None]
        grad, hess = grad * wc, hess * wc
    if hessian == "auto":
        hess = xp.maximum(hess, 2 * floor if w is None else (2 * floor) * wc)
    if z.ndim == 1:
        grad, hess = grad[:, 0], hess[:, 0]
    return xp.astype(grad, dtype), xp.astype(hess, dtype)


@dataclass(frozen=True)
class BalancedStats:
    """Training-label statistics of a Balanced-MSE loss (picklable, device-free)."""

    prior: str
    sigma: float
    dim: int
    shift: NDArray  # (d,), subtracted from margins and labels before the math
    kappa: float
    mixture: Mixture
    table: Table | None


class BalancedMSELoss(Loss):
    """Balanced MSE (Ren et al., CVPR 2022); see :func:`gbloss.balanced_mse`."""

    _name = "balanced_mse"
    _tasks = (REGRESSION,)
    link = "identity"
    _statistics_params = ("sigma", "prior", "bins", "n_components", "gmm", "method",
                          "random_state")

    def __init__(
        self,
        sigma: float | None = None,
        prior: Prior = "bmc",
        *,
        bins: int | ArrayLike | None = None,
        n_components: int = 8,
        gmm: Any = None,
        method: Method = "auto",
        hessian: Literal["auto", "exact"] = "auto",
        hessian_floor: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        self.sigma = sigma
        self.prior = prior
        self.bins = bins
        self.n_components = n_components
        self.gmm = gmm
        self.method = method
        self.hessian = hessian
        self.hessian_floor = hessian_floor
        self.random_state = random_state
        self._validate_params()

    # ---------------------------------------------------------------- params
    def _validate_params(self) -> None:
        if self.sigma is not None:
            check_finite_scalar("sigma", self.sigma, low=0.0, low_inclusive=False)
        check_option("prior", self.prior, PRIORS)
        check_option("method", self.method, METHODS)
        check_option("hessian", self.hessian, ("auto", "exact"))
        check_finite_scalar("hessian_floor", self.hessian_floor, low=0.0, high=1.0)
        if isinstance(self.n_components, bool) or not isinstance(self.n_components,
                                                                 int | np.integer) \
                or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}")
        if self.bins is not None:
            if isinstance(self.bins, int | np.integer) and not isinstance(self.bins, bool):
                if self.bins < 1:
                    raise ValueError(f"bins must be a positive integer or edges, got {self.bins!r}")
            else:
                edges = as_float_array("bins", self.bins)
                if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) \
                        or np.any(np.diff(edges) <= 0):
                    raise ValueError("bins must be a positive integer or a strictly increasing "
                                     "1-D array of at least 2 finite edges")
        if self.bins is not None and self.prior != "bni":
            raise ValueError(f"bins applies to prior='bni' only, not {self.prior!r}")
        if self.gmm is not None and self.prior != "gai":
            raise ValueError(f"gmm applies to prior='gai' only, not {self.prior!r}")

    def _task_of(self, y_shape: tuple, raw_shape: tuple) -> Task:
        check_regression_shapes(y_shape, raw_shape, "balanced_mse")
        return REGRESSION

    # ------------------------------------------------------------ statistics
    def _fit_stats(self, labels: Labels, w: Any, xp: Any) -> BalancedStats:
        y = to_numpy(labels.y).astype(np.float64)
        if y.shape[0] == 0:
            raise ValueError("balanced_mse needs at least one training label (y_true is empty); "
                             "fit it on the training labels (loss.fit(y)) to score empty sets")
        y2 = y.reshape(y.shape[0], -1)
        ww = None if w is None else to_numpy(w).astype(np.float64)
        if ww is not None:
            keep = ww > 0
            y2, ww = y2[keep], ww[keep]
        n, d = y2.shape
        if n == 0:
            raise ValueError("balanced_mse needs at least one training label with positive "
                             "weight")
        if self.sigma is None:
            spread = weighted_std(y2, ww)
            if not spread > 0:
                raise ValueError("the training labels do not vary, so the default sigma "
                                 f"({SIGMA_FRACTION} x their standard deviation) is 0; "
                                 "pass sigma explicitly")
            sigma = SIGMA_FRACTION * spread
        else:
            sigma = float(self.sigma)
        sigma2 = sigma * sigma
        shift = (y2 if ww is None else y2 * ww[:, None]).sum(axis=0) / \
            (n if ww is None else ww.sum())
        yc = y2 - shift
        fast = self.method == "fast"
        if fast and d > 1:
            raise ValueError("method='fast' supports 1-D targets only; use method='exact' "
                             "for targets of shape (n, d)")
        kappa = 0.0
        limits = None
        if self.prior == "bmc":
            if fast or (self.method == "auto" and d == 1 and n > FAST_ABOVE):
                mix = binned_mixture(yc[:, 0], ww, sigma)
                limits = (float(yc[:, 0].min()), float(yc[:, 0].max()))
                fast = True
            else:
                order = np.lexsort(yc.T[::-1]) if d > 1 else np.argsort(yc[:, 0], kind="stable")
                a = np.zeros(n) if ww is None else np.log(ww / ww.mean())
                mix = Mixture(yc[order], a[order], np.full(n, 0.5 / sigma2), None, None)
        elif self.prior == "bni":
            if d != 1:
                raise ValueError("prior='bni' supports 1-D targets only (as the authors' BNI); "
                                 "use 'bmc' or 'gai' for targets of shape (n, d)")
            mix = self._bin_mixture(y2[:, 0], ww, sigma, shift[0])
            fast = fast or (self.method == "auto" and mix.size > FAST_ABOVE)
        else:
            mix, kappa = self._gai_mixture(y2, ww, sigma, shift)
            fast = fast or (self.method == "auto" and d == 1 and mix.size > FAST_ABOVE)
        table = build_table(mix, sigma, limits=limits) if fast else None
        return BalancedStats(prior=self.prior, sigma=sigma, dim=d, shift=shift, kappa=kappa,
                             mixture=mix, table=table)

    def _bin_mixture(self, y: NDArray, w: NDArray | None, sigma: float, shift: float) -> Mixture:
        lo, hi = float(y.min()), float(y.max())
        if self.bins is None or isinstance(self.bins, int | np.integer):
            if self.bins is None:
                count = max(1, math.ceil((hi - lo) / (sigma / 4)))
            else:
                count = int(self.bins)
            if hi == lo:
                hi = lo + sigma / 4 * count
            edges = np.linspace(lo, hi, count + 1)
        else:
            edges = np.asarray(self.bins, dtype=np.float64)
            outside = int(np.sum((y < edges[0]) | (y > edges[-1])))
            if outside == y.size:
                raise ValueError(f"the bins [{edges[0]}, {edges[-1]}] hold none of the "
                                 f"{y.size} training labels")
            if outside:
                raise ValueError(
                    f"the bins [{edges[0]}, {edges[-1]}] leave {outside} of the {y.size} "
                    "training labels outside; they must cover every label")
        idx = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, edges.size - 2)
        counts = np.bincount(idx, weights=w, minlength=edges.size - 1)
        present = counts > 0
        if not np.any(present):
            raise ValueError("the bins leave no training labels (every bin is empty)")
        centres = 0.5 * (edges[:-1] + edges[1:])[present] - shift
        freq = counts[present] / counts.sum()
        m = centres.size
        return Mixture(centres[:, None], np.log(freq), np.full(m, 0.5 / (sigma * sigma)), None,
                       None)

    def _gai_mixture(self, y: NDArray, w: NDArray | None, sigma: float,
                     shift: NDArray) -> tuple[Mixture, float]:
        d = y.shape[1]
        if self.gmm is not None:
            means, weights, covs = gmm_parameters(self.gmm, d)
        else:
            from sklearn.mixture import GaussianMixture

            k = int(self.n_components)
            distinct = np.unique(y, axis=0).shape[0]
            if distinct < k:
                raise ValueError(f"prior='gai' with n_components={k} needs at least {k} distinct "
                                 f"training labels; got {distinct}")
            # fitted on the labels in sorted order: the mixture depends on the labels, not on
            # their order (the workers of a distributed training gather them in another)
            gm = GaussianMixture(n_components=k, random_state=self.random_state).fit(
                y[np.lexsort(y.T[::-1])])
            means, weights, covs = gm.means_, gm.weights_, gm.covariances_
        sigma2 = sigma * sigma
        s = covs + sigma2 * np.eye(d)[None]
        prec = np.linalg.inv(s)
        _, logdet = np.linalg.slogdet(s)
        a = np.log(weights) - 0.5 * logdet
        centres = means - shift
        kappa = 0.5 * d * math.log(sigma2)
        shrink = np.eye(d)[None] - sigma2 * prec
        if d == 1:
            return Mixture(centres, a, 0.5 * prec[:, 0, 0], None, shrink[:, 0, 0]), kappa
        return Mixture(centres, a, None, prec, shrink), kappa

    # --------------------------------------------------------------- kernel
    def _check_dim(self, labels: Labels, stats: BalancedStats) -> None:
        d = 1 if labels.y.ndim == 1 else int(labels.y.shape[1])
        if d != stats.dim:
            raise ValueError(f"balanced_mse was fitted on {stats.dim}-dimensional targets; "
                             f"got {d}-dimensional ones")

    def _kernel(self, labels: Labels, stats: BalancedStats, mode: str, xp: Any,
                dtype: Any, context: CallContext) -> Any:
        self._check_dim(labels, stats)
        table = None
        mix = None
        if stats.table is not None:
            tb = stats.table
            coef, lo = tb.coef, tb.lo
            if mode == "grad_hess":  # work in the margins' own frame: fold the shift in
                coef = coef.copy()
                coef[0] += stats.shift[0]
                lo = lo + float(stats.shift[0])
            table = {"lo": lo, "step": tb.step, "tails": tb.tails}
            for name, arr in (("first", tb.first), ("nsub", tb.nsub), ("coef", coef),
                              ("vcoef", tb.vcoef)):
                table[name] = asarray_on(arr, labels.y, xp, xp.float64)
        else:
            mix = mix_to(stats.mixture, xp, labels.y)
        shift = asarray_on(stats.shift[None, :], labels.y, xp, xp.float64)
        floor = max(float(self.hessian_floor), HESSIAN_FLOOR)
        centres = stats.mixture.centres + stats.shift[None, :]
        width = 1e4 * (stats.sigma + np.ptp(centres, axis=0))
        reach = tuple(asarray_on(v if labels.y.ndim == 2 else v[0], labels.y, xp, xp.float64)
                      for v in (centres.min(axis=0) - width, centres.max(axis=0) + width))
        return functools.partial(balanced_kernel, mix=mix, table=table, shift=shift,
                                 sigma2=stats.sigma ** 2, kappa=stats.kappa, mode=mode,
                                 hessian=self.hessian, floor=floor, reach=reach)

    def _init_constant(self, labels: Labels, w: Any, stats: BalancedStats) -> NDArray:
        self._check_dim(labels, stats)
        y = to_numpy(labels.y).astype(np.float64).reshape(labels.y.shape[0], -1)
        ww = np.ones(y.shape[0]) if w is None else to_numpy(w).astype(np.float64)
        if y.shape[0] == 0 or ww.sum() <= 0:
            return np.zeros(()) if labels.y.ndim == 1 else np.zeros(y.shape[1])
        # sum_i w_i l_i(z) = S * l(z; y_bar) + const: minimise one row's loss at the mean label
        ybar = (ww[:, None] * y).sum(axis=0) / ww.sum() - stats.shift
        mix, s2 = stats.mixture, stats.sigma ** 2

        def grad(z: NDArray) -> NDArray:
            mean, _ = mixture_moments(z[None, :], mix, s2, np)
            return 2 * (mean[0] - ybar)

        if stats.dim == 1:
            f = lambda v: float(grad(np.array([v]))[0])
            if f(ybar[0]) == 0:  # also when every label is the same: the loss is flat
                return np.asarray(ybar[0] + stats.shift[0])
            z = root(f, center=float(ybar[0]), step=stats.sigma, limit=stats.sigma * 2.0**60,
                     xtol=1e-12 * max(1.0, stats.sigma), rtol=1e-14)
            return np.asarray(z + stats.shift[0])

        def fun(z: NDArray) -> tuple[float, NDArray]:
            v = 2 * s2 * (stats.kappa + mixture_log_sum(z[None, :], ybar[None, :], mix, s2, np))
            return float(v[0]), grad(z)

        res = optimize.minimize(fun, ybar.copy(), jac=True, method="BFGS",
                                options={"gtol": 1e-10 * max(1.0, stats.sigma)})
        return res.x + stats.shift


def balanced_mse(
    sigma: float | None = None,
    prior: Prior = "bmc",
    *,
    bins: int | ArrayLike | None = None,
    n_components: int = 8,
    gmm: Any = None,
    method: Method = "auto",
    hessian: Literal["auto", "exact"] = "auto",
    hessian_floor: float = 0.1,
    random_state: int | None = 0,
) -> BalancedMSELoss:
    r"""Balanced MSE (Ren et al., CVPR 2022) as an XGBoost / LightGBM objective.

    .. math::

        \ell_i = 2\sigma^2 \Big[-\log \mathcal N(y_i; z_i, \sigma^2 I)
            + \log \int p_{\text{train}}(y') \, \mathcal N(y'; z_i, \sigma^2 I)\, dy'\Big]
            + \text{const}

    squared error ``||z - y||^2`` plus a term that lowers the loss where the
    training labels are dense, so rare target values are not drowned by
    frequent ones. The factor ``2 sigma^2`` (the authors' ``(2 noise_var)``
    rescale) keeps the squared-error scale, so ``learning_rate``, ``lambda``
    and ``min_child_weight`` mean what they mean for ``reg:squarederror``.

    Priors (the label distribution ``p_train``), one closed form for all:

    * ``"bmc"``: the training labels themselves (Batch-based Monte Carlo with
      the whole training set as the batch). The value equals the authors'
      ``BMCLoss`` on the training set: the mean over rows of the cross-entropy
      of the ``[N, N]`` logits ``-(z_i - y_j)^2 / (2 sigma^2)`` against the
      diagonal, times ``2 sigma^2``.
    * ``"bni"``: a histogram of the training labels (Bin-based Numerical
      Integration; centres at the bin midpoints, weights the bin frequencies;
      1-D targets only, as the authors' ``BNILoss``).
    * ``"gai"``: a Gaussian mixture fit to the training labels with
      scikit-learn (GMM-based Analytical Integration, as ``GAILoss`` and
      ``gai_loss_md``).

    With responsibilities ``r_j`` over the prior's centres (softmax of
    ``log w_j - (z - mu_j)' S_j^{-1} (z - mu_j) / 2 - log|S_j| / 2``,
    ``S_j = V_j + sigma^2 I``), the gradient is ``2 (e_bar - y)`` and the
    Hessian diagonal ``2 Var(y' | z) / sigma^2``: ``e_bar`` and ``Var`` are the
    mean and variance of a training label given the prediction ``z`` under
    the prior. The Hessian is non-negative (the loss is convex in ``z``) but
    tends to 0 where the responsibilities collapse onto one centre, e.g. for
    predictions outside the label range. Row ``i``'s loss depends on its own
    margin only: the Hessian is exactly diagonal.

    Parameters
    ----------
    sigma : float > 0, optional
        The label noise scale, in target units. Larger ``sigma`` balances more
        (it smooths the label density over a wider window); ``sigma -> 0``
        (but above the spacing of the labels) recovers squared error. Default:
        ``0.5`` x the standard deviation of the training labels (the root mean
        of the per-dimension variances for ``(n, d)`` targets). The authors
        used ``sigma`` of 8-10 years on ages (about 0.7 standard deviations)
        and 1 m on depth; tune it on a balanced validation metric (for
        example MAE averaged over target bins), trying 0.25-1 x the standard
        deviation.
    prior : {"bmc", "bni", "gai"}
    bins : int or array of edges, optional
        BNI only: the number of equal-width bins over the label range, or
        their edges (which must cover every training label). Default: bins
        of width ``sigma / 4``. Empty bins are dropped, as by the authors.
    n_components : int
        GAI only: mixture components (the authors used 8 on ages). The
        mixture is ``GaussianMixture(n_components, random_state=random_state)``
        with full covariances, fit to the training labels; sample weights are
        not used by the fit (scikit-learn's GaussianMixture takes none), rows
        of weight 0 are left out.
    gmm : fitted ``sklearn.mixture.GaussianMixture`` or dict, optional
        GAI only: a prior fitted elsewhere (the authors' ``gmm.pkl`` dict with
        ``means``, ``weights``, ``variances`` works).
    method : {"auto", "exact", "fast"}
        ``"exact"`` sums over every centre: ``O(n_rows x n_centres)`` per
        call (BMC on the full training set is ``O(N^2)``), in chunks of
        bounded memory. ``"fast"`` (1-D targets) tabulates the posterior
        mean, curvature and log-sum once per training set and interpolates
        them (cubic Hermite on an adaptively refined grid; ``O(1)`` per row).
        For BMC the labels are first merged into bins of ``sigma / 32``, each
        a Gaussian with the bin's count, mean and variance. Tabulated values
        are within about ``1e-7 sigma`` of those of the (binned) prior; see
        ``benchmarks/results/balanced_mse.md`` for the error against exact BMC.
        ``"auto"``: fast for 1-D priors with more than 512 centres, else exact.
    hessian : {"auto", "exact"}
        ``"exact"``: the exact diagonal, which may be 0. ``"auto"``: floored at
        ``hessian_floor x 2 w_i``, a fraction of the squared-error curvature
        ``2 w_i``.
    hessian_floor : float in [0, 1]
        Default 0.1: a Newton step is at most 10 times the squared-error step
        of the same gradient. (At 0 the floor is ``1e-6 x 2 w_i``.)
    random_state : int or None
        Seed of the GAI mixture fit.

    Returns
    -------
    BalancedMSELoss
        Label statistics (the prior, ``sigma``, the table) come from the
        training labels once and are cached; ``loss.fit(y)`` computes and
        freezes them (for instance once on the full labels of a cluster).

    Notes
    -----
    The value is the authors' formula (``(mse + bal) * 2 sigma^2``, BMC as
    the cross-entropy above), so it equals their implementations on the same
    data, constants included. ``sigma`` is fixed here; the authors can learn
    it. In the fast method, margins more than ``64 sigma`` beyond every
    centre continue the table's end values towards the posterior mean's
    limit there (the extreme label for BMC and BNI), exponentially with the
    rate that matches the table's end slope.

    References
    ----------
    J. Ren, M. Zhang, C. Yu, Z. Liu, "Balanced MSE for Imbalanced Visual
    Regression", CVPR 2022, arXiv:2203.16427; code: jiawei-ren/BalancedMSE.

    Examples
    --------
    >>> import numpy as np, gbloss
    >>> y = np.random.default_rng(0).lognormal(size=200)
    >>> loss = gbloss.balanced_mse(prior="bmc")
    >>> grad, hess = loss.gradient_hessian(y, np.full(200, y.mean()))
    >>> grad.shape, bool((hess > 0).all())
    ((200,), True)
    """
    return BalancedMSELoss(sigma=sigma, prior=prior, bins=bins, n_components=n_components,
                           gmm=gmm, method=method, hessian=hessian, hessian_floor=hessian_floor,
                           random_state=random_state)
