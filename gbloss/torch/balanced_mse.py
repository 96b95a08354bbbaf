r"""Balanced MSE (Ren et al., CVPR 2022) for PyTorch: BMC, BNI and GAI.

The math is that of :func:`gbloss.balanced_mse` (:mod:`gbloss.losses.balanced_mse`):
a prior over label centres ``mu_j`` with log-weights ``a_j`` and covariances
``S_j = V_j + sigma^2 I`` (a :class:`~gbloss.losses.balanced_mse.mixture.Mixture`), the loss of
a row (prediction ``x``, label ``y``)

.. math::

    \ell = 2\sigma_0^2 \Big[\frac{\|x - y\|^2}{2\sigma^2} + \kappa
        + \log \sum_j \exp\big(a_j - \tfrac12 (x - \mu_j)^\top S_j^{-1} (x - \mu_j)\big)\Big]

(``sigma_0 = sigma`` detached: the authors' ``(2 noise_var).detach()``
rescale), its value from :func:`~gbloss.losses.balanced_mse.mixture.mixture_log_sum` and the
posterior mean ``e`` and curvature ``c`` of a label given ``x`` from
:func:`~gbloss.losses.balanced_mse.mixture.mixture_moments`. Backward multiplies the stored
analytic derivatives:

.. math::

    \partial_x \ell = 2 (e - y), \qquad
    \partial_\sigma \ell = \frac{2}{\sigma}\Big[(y - e)\cdot(2x - e - y)
        + \sigma^2 \textstyle\sum_a c_a\Big]

(the second is ``2 sigma_0^2 d/dsigma`` of the bracket, the same for the three
priors: the ``log sigma`` and ``log |S_j|`` terms of GAI cancel out of it).
Under ``create_graph=True`` both are recomputed by the same functions with
autograd recording, so second derivatives (in ``x`` and ``sigma``) are exact.
Computed in float64 (as the boosting kernel), returned in the input's dtype. No
gradient flows to the labels: a target that requires grad is refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..losses.balanced_mse import BalancedMSELoss
from ..losses.balanced_mse.mixture import (
    SIGMA_FRACTION,
    Mixture,
    gmm_parameters,
    mixture_log_sum,
    mixture_moments,
    weighted_std,
)
from ._common import XP_TRACEABLE, check_reduction, compiling, refuse_target_grad

__all__ = ["bmc_loss", "bni_buckets", "bni_loss", "gai_loss", "gmm_tensors"]


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """float64, the boosting kernel's dtype (float32 on devices without float64)."""
    return torch.float32 if x.device.type == "mps" else torch.float64


class _Prior:
    """A Balanced-MSE prior whose mixture is rebuilt for each ``sigma^2`` (a 0-d tensor,
    live under ``create_graph``): point centres (BMC, BNI) or Gaussian components (GAI),
    in the frame shifted by ``shift`` (labels minus ``shift``)."""

    def __init__(self, centres: torch.Tensor, log_weight: torch.Tensor,
                 covariances: torch.Tensor | None = None) -> None:
        self.centres = centres  # (M, d)
        self.log_weight = log_weight  # (M,)
        self.covariances = covariances  # (M, d, d) or None

    def mixture(self, sigma2: torch.Tensor) -> tuple[Mixture, Any]:
        """``(Mixture, kappa)`` as :class:`gbloss.losses.balanced_mse.BalancedMSELoss` builds them."""
        _m, d = self.centres.shape
        if self.covariances is None:  # BMC, BNI: _binned / point mixtures, kappa = 0
            half = (0.5 / sigma2) * torch.ones_like(self.log_weight)
            return Mixture(self.centres, self.log_weight, half, None, None), 0.0
        # GAI, as BalancedMSELoss._gai_mixture
        eye = torch.eye(d, dtype=self.centres.dtype, device=self.centres.device)
        s = self.covariances + sigma2 * eye
        prec = torch.linalg.inv(s)
        logdet = torch.linalg.slogdet(s)[1]
        a = self.log_weight - 0.5 * logdet
        kappa = 0.5 * d * torch.log(sigma2)
        shrink = eye - sigma2 * prec
        if d == 1:
            return Mixture(self.centres, a, 0.5 * prec[:, 0, 0], None, shrink[:, 0, 0]), kappa
        return Mixture(self.centres, a, None, prec, shrink), kappa


def _sigma_gradient(x: torch.Tensor, y: torch.Tensor, mean: torch.Tensor, curv: torch.Tensor,
                    sigma: torch.Tensor, sigma2: torch.Tensor, scale2: torch.Tensor
                    ) -> torch.Tensor:
    """``d l / d sigma`` per row: ``2 s0^2 [|x - e|^2 - |x - y|^2 + sigma^2 sum c] / sigma^3``,
    with ``|x - e|^2 - |x - y|^2`` written as ``(y - e).(2x - e - y)`` (no cancellation)."""
    diff = ((y - mean) * (2 * x - mean - y)).sum(1)
    return 2 * scale2 * (diff + sigma2 * curv.sum(1)) / (sigma * sigma2)


class _BalancedMSE(torch.autograd.Function):
    """Per-row Balanced MSE of ``(R, d)`` float64 predictions; backward = stored derivatives."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor,
                prior: _Prior) -> torch.Tensor:
        xp = XP_TRACEABLE
        s2 = sigma.detach() * sigma.detach()
        mix, kappa = prior.mixture(s2)
        value = 2 * s2 * (kappa + mixture_log_sum(x, y, mix, s2, xp))
        mean, curv = mixture_moments(x, mix, s2, xp)
        ctx.save_for_backward(x, y, sigma, mean, curv)
        ctx.prior = prior
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        x, y, sigma, mean, curv = ctx.saved_tensors
        s2 = sigma.detach() * sigma.detach()
        if torch.is_grad_enabled():  # create_graph=True: record the same functions
            live = sigma * sigma
            mix, _ = ctx.prior.mixture(live)
            mean, curv = mixture_moments(x, mix, live, XP_TRACEABLE)
            dx = (2 * s2 / live) * (mean - y)  # 2 s0^2 (e - y) / sigma^2, s0 detached
            gs = _sigma_gradient(x, y, mean, curv, sigma, live, s2) \
                if ctx.needs_input_grad[2] else None
        else:
            dx = 2 * (mean - y)
            gs = _sigma_gradient(x, y, mean, curv, sigma.detach(), s2, s2) \
                if ctx.needs_input_grad[2] else None
        g = g.reshape(-1)
        gx = g[:, None] * dx
        return gx, None, None if gs is None else (g * gs).sum(), None


def _as_sigma(noise_sigma: Any, like: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``noise_sigma`` (a float or a 0-d tensor, possibly a learnable parameter) as a 0-d
    tensor of ``dtype`` on ``like``'s device, differentiable."""
    if isinstance(noise_sigma, torch.Tensor):
        if noise_sigma.numel() != 1:
            raise ValueError(f"noise_sigma must be a scalar, got shape {tuple(noise_sigma.shape)}")
        if noise_sigma.device.type == "cpu" and not compiling():
            v = float(noise_sigma.detach())
            if not (math.isfinite(v) and v != 0):
                raise ValueError(f"noise_sigma must be finite and non-zero, got {v}")
        return noise_sigma.reshape(()).to(device=like.device, dtype=dtype)
    try:
        v = float(noise_sigma)
    except (TypeError, ValueError):
        raise ValueError(f"noise_sigma must be a positive number or a 0-d tensor, "
                         f"got {noise_sigma!r}") from None
    if isinstance(noise_sigma, bool) or not (math.isfinite(v) and v > 0):
        raise ValueError(f"noise_sigma must be a finite number > 0, got {noise_sigma!r}")
    return torch.tensor(v, dtype=dtype, device=like.device)


def _rows(input: torch.Tensor, target: torch.Tensor, d: int | None, name: str
          ) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...], int]:
    """``(x, y, out_shape, d)``: predictions and labels as ``(R, d)`` float64 rows.

    ``d = 1`` (1-D labels): every element is a row and ``"none"`` has the
    input's shape. ``d > 1``: input ``(B, d)``, ``"none"`` is ``(B,)``.
    ``d = None`` (BMC): 1 for ``(B,)`` and ``(B, 1)``, else ``input.shape[1]``.
    """
    refuse_target_grad(target, name)
    for arg, label in ((input, "input"), (target, "target")):
        if not isinstance(arg, torch.Tensor):
            raise TypeError(f"{label} must be a torch.Tensor, got {type(arg).__name__}")
        if not arg.is_floating_point():
            raise ValueError(f"{name}: {label} must be a floating-point tensor, got {arg.dtype}")
    if target.shape != input.shape:
        raise ValueError(f"{name}: target shape {tuple(target.shape)} must equal input shape "
                         f"{tuple(input.shape)}")
    if d is None:  # BMC: the batch is the prior
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: input must be (B,) or (B, d), got shape "
                             f"{tuple(input.shape)} (for per-pixel targets use bni_loss or "
                             "gai_loss, whose priors do not grow with the batch)")
        d = 1 if input.ndim == 1 else int(input.shape[1])
    cdtype = _compute_dtype(input)
    if d == 1:
        out_shape = tuple(input.shape)
        x, y = input.reshape(-1, 1), target.reshape(-1, 1)
    else:
        if input.ndim != 2 or input.shape[1] != d:
            raise ValueError(f"{name}: the prior is {d}-dimensional, so input must be (B, {d}); "
                             f"got shape {tuple(input.shape)}")
        out_shape = (int(input.shape[0]),)
        x, y = input, target
    return x.to(cdtype), y.detach().to(cdtype), out_shape, d


def _finish(value: torch.Tensor, out_shape: tuple[int, ...], reduction: str,
            dtype: torch.dtype) -> torch.Tensor:
    if reduction == "none":
        out = value.reshape(out_shape)
    elif reduction == "sum":
        out = value.sum()
    else:
        out = value.mean()
    return out.to(dtype)


def bmc_loss(input: torch.Tensor, target: torch.Tensor, noise_sigma: float | torch.Tensor, *,
             reduction: str = "mean") -> torch.Tensor:
    r"""Balanced MSE with Batch-based Monte-Carlo (BMC): the batch's labels are the prior.

    .. math::

        \ell_i = 2\sigma_0^2 \Big[\frac{\|x_i - y_i\|^2}{2\sigma^2}
            + \log \sum_{j=1}^{B} \exp\Big(-\frac{\|x_i - y_j\|^2}{2\sigma^2}\Big)\Big]

    The authors' ``bmc_loss`` (cross-entropy of the ``[B, B]`` logits
    ``-||x_i - y_j||^2 / (2 sigma^2)`` against the diagonal, times
    ``(2 sigma^2).detach()``; ``bmc_loss_md`` for ``(B, d)``), computed by the
    math of :func:`gbloss.balanced_mse` (``prior="bmc"`` with the batch as the
    training set) in chunks of bounded memory, without the ``[B, B]`` matrix.

    Parameters
    ----------
    input : Tensor (B,), (B, 1) or (B, d)
        Predictions.
    target : Tensor, same shape
        Labels (no gradient flows to them: one that requires grad is refused).
    noise_sigma : float or 0-d Tensor
        ``sigma``; a tensor that requires grad (an ``nn.Parameter``) gets the
        gradient of the authors' loss, whose ``2 sigma^2`` factor is detached.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is the authors' loss and :meth:`gbloss.Loss.loss` of
        ``gbloss.balanced_mse(sigma, "bmc", method="exact")`` fitted on the
        batch; ``"none"`` gives ``l_i`` in the input's shape (``(B,)`` for
        ``d > 1``).

    Notes
    -----
    A batch of one row gives 0 (its only label is its own; the authors'
    issues #14, #19). Row ``i`` depends on its own prediction only, so the
    Hessian in ``input`` is block-diagonal.

    References
    ----------
    J. Ren, M. Zhang, C. Yu, Z. Liu, "Balanced MSE for Imbalanced Visual
    Regression", CVPR 2022, arXiv:2203.16427; code: jiawei-ren/BalancedMSE.
    """
    check_reduction(reduction)
    x, y, out_shape, _ = _rows(input, target, None, "bmc_loss")
    sigma = _as_sigma(noise_sigma, x, x.dtype)
    shift = y.mean(0, keepdim=True) if y.shape[0] else torch.zeros_like(y[:1])
    y = y - shift
    prior = _Prior(y, torch.zeros_like(y[:, 0]))
    value = _BalancedMSE.apply(x - shift, y, sigma, prior)
    return _finish(value, out_shape, reduction, input.dtype)


def bni_loss(input: torch.Tensor, target: torch.Tensor, noise_sigma: float | torch.Tensor,
             bucket_centers: torch.Tensor, bucket_weights: torch.Tensor, *,
             reduction: str = "mean") -> torch.Tensor:
    r"""Balanced MSE with Bin-based Numerical Integration (BNI): a histogram prior, 1-D labels.

    .. math::

        \ell_i = 2\sigma_0^2 \Big[\frac{(x_i - y_i)^2}{2\sigma^2}
            + \log \sum_j w_j \exp\Big(-\frac{(x_i - c_j)^2}{2\sigma^2}\Big)\Big]

    The authors' ``bni_loss`` (no ``log sigma`` term), computed by the math of
    :func:`gbloss.balanced_mse` (``prior="bni"``). Every element of ``input``
    is a row (any shape: per-pixel depth works).

    Parameters
    ----------
    input, target : Tensor, any shape (the same)
    noise_sigma : float or 0-d Tensor
        As in :func:`bmc_loss`.
    bucket_centers : Tensor (M,)
        Bin centres ``c_j``.
    bucket_weights : Tensor (M,)
        Bin frequencies ``w_j``, positive (the authors normalise them to sum
        to 1; other sums add ``2 sigma^2 log(sum w)`` to every row, as in
        their code). :func:`bni_buckets` computes both from training labels
        as :func:`gbloss.balanced_mse` does.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is the authors' loss; ``"none"`` has the input's shape.
    """
    check_reduction(reduction)
    x, y, out_shape, _ = _rows(input, target, 1, "bni_loss")
    sigma = _as_sigma(noise_sigma, x, x.dtype)
    c = torch.as_tensor(bucket_centers).to(device=x.device, dtype=x.dtype).reshape(-1, 1)
    w = torch.as_tensor(bucket_weights).to(device=x.device, dtype=x.dtype).reshape(-1)
    if c.shape[0] != w.shape[0] or c.shape[0] == 0:
        raise ValueError(f"bucket_centers ({c.shape[0]}) and bucket_weights ({w.shape[0]}) must "
                         "have the same positive length")
    if w.device.type == "cpu" and not compiling() and not bool((w > 0).all()):
        raise ValueError("bucket_weights must be positive (drop empty buckets, as the authors do)")
    shift = (c * w[:, None]).sum(0, keepdim=True) / w.sum()
    prior = _Prior(c - shift, torch.log(w))
    value = _BalancedMSE.apply(x - shift, y - shift, sigma, prior)
    return _finish(value, out_shape, reduction, input.dtype)


def gai_loss(input: torch.Tensor, target: torch.Tensor, noise_sigma: float | torch.Tensor,
             means: torch.Tensor, weights: torch.Tensor, covariances: torch.Tensor, *,
             reduction: str = "mean") -> torch.Tensor:
    r"""Balanced MSE with GMM-based Analytical Integration (GAI): a Gaussian-mixture prior.

    .. math::

        \ell_i = 2\sigma_0^2 \Big[-\log \mathcal N(y_i; x_i, \sigma^2 I)
            + \log \sum_k \pi_k \mathcal N(x_i; \mu_k, \Sigma_k + \sigma^2 I)\Big]

    The authors' ``gai_loss`` (1-D) and ``gai_loss_md``, computed by the math
    of :func:`gbloss.balanced_mse` (``prior="gai"``).

    Parameters
    ----------
    input, target : Tensor
        For a 1-D mixture any shape (every element a row; ``"none"`` has the
        input's shape); for a ``d``-dimensional one ``(B, d)`` (``"none"``:
        ``(B,)``).
    noise_sigma : float or 0-d Tensor
        As in :func:`bmc_loss`.
    means : Tensor (K, d) or (K,)
    weights : Tensor (K,)
        Mixture weights ``pi_k`` (positive, summing to 1 as a fitted mixture's).
    covariances : Tensor (K, d, d), or (K,) / (K, 1, 1) variances for d = 1
        Use :func:`gmm_tensors` to get all three from a fitted
        ``sklearn.mixture.GaussianMixture`` or the authors' ``gmm.pkl`` dict.
    reduction : {"mean", "sum", "none"}
    """
    check_reduction(reduction)
    mu = torch.as_tensor(means)
    k = int(mu.shape[0]) if mu.ndim else 1
    d = 1 if mu.ndim <= 1 else int(mu.shape[1])
    x, y, out_shape, _ = _rows(input, target, d, "gai_loss")
    sigma = _as_sigma(noise_sigma, x, x.dtype)
    mu = mu.to(device=x.device, dtype=x.dtype).reshape(k, d)
    pi = torch.as_tensor(weights).to(device=x.device, dtype=x.dtype).reshape(-1)
    cov = torch.as_tensor(covariances).to(device=x.device, dtype=x.dtype)
    if pi.shape[0] != k or cov.numel() != k * d * d:
        raise ValueError(f"means ({k}, {d}), weights {tuple(pi.shape)} and covariances "
                         f"{tuple(cov.shape)} do not describe one mixture of {k} components")
    cov = cov.reshape(k, d, d)
    shift = (mu * pi[:, None]).sum(0, keepdim=True) / pi.sum()
    prior = _Prior(mu - shift, torch.log(pi), cov)
    value = _BalancedMSE.apply(x - shift, y - shift, sigma, prior)
    return _finish(value, out_shape, reduction, input.dtype)


# ------------------------------------------------------------------------------ priors
def bni_buckets(labels: Any, bins: int | Any = None, sigma: float | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(bucket_centers, bucket_weights)`` of training labels, as :func:`gbloss.balanced_mse`
    with ``prior="bni"`` builds its histogram (float64 tensors).

    ``bins``: a number of equal-width bins over the label range or their edges
    (which must cover every label); default: bins of width ``sigma / 4``
    (``sigma`` default: half the labels' standard deviation, the boosting
    loss's default). Empty bins are dropped; the weights are the bin
    frequencies (summing to 1), as the authors' ``BNILoss`` expects.
    """
    y = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels,
                   dtype=np.float64).reshape(-1)
    if y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError("labels must be a non-empty array of finite values")
    if sigma is None:
        spread = weighted_std(y[:, None], None)
        if not spread > 0 and bins is None:
            raise ValueError("the labels do not vary: give sigma or bins")
        sigma = SIGMA_FRACTION * spread if spread > 0 else 1.0
    loss = BalancedMSELoss(sigma=float(sigma), prior="bni", bins=bins)
    mix = loss._bin_mixture(y, None, float(sigma), 0.0)
    return (torch.as_tensor(mix.centres[:, 0].copy()),
            torch.as_tensor(np.exp(mix.log_weight)))


def gmm_tensors(gmm: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(means (K, d), weights (K,), covariances (K, d, d))`` as float64 tensors from a fitted
    ``sklearn.mixture.GaussianMixture`` (any ``covariance_type``), a dict with ``means``,
    ``weights`` and ``covariances`` or ``variances`` (the authors' ``gmm.pkl``), or the path
    of such a pickle (read with joblib, as the authors' ``GAILoss``)."""
    if isinstance(gmm, str | bytes) or hasattr(gmm, "__fspath__"):
        import joblib

        gmm = joblib.load(gmm)
    means = gmm.get("means") if isinstance(gmm, dict) else getattr(gmm, "means_", None)
    if means is None:
        raise ValueError("gmm must be a fitted sklearn GaussianMixture, a dict with 'means', "
                         "'weights' and 'covariances' (or 'variances'), or a path to one")
    means = np.asarray(means, dtype=np.float64)
    d = 1 if means.ndim <= 1 else int(means.shape[-1])
    mu, pi, cov = gmm_parameters(gmm, d)
    return torch.as_tensor(mu), torch.as_tensor(pi), torch.as_tensor(cov)
