"""``torch.nn.Module`` forms of the gbloss losses.

Each module stores its hyper-parameters, registers per-class tensors
(``weight``, a per-class ``alpha``) as buffers so that they follow
``.to(device)`` and ``state_dict``, and calls the function of the same name in
:mod:`gbloss.torch.functional` in ``forward``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._common import (
    as_buffer,
    check_gamma,
    check_nonnegative,
    check_positive,
    check_reduction,
    check_scalar_alpha,
)
from .acb_mse import acb_mse_loss
from .asymmetric import ace_loss, asymmetric_loss
from .balanced_mse import bmc_loss, bni_loss, gai_loss, gmm_tensors
from .cost_sensitive import cost_matrix_tensor, cost_sensitive_loss
from .focal import cross_entropy, focal_loss, sigmoid_focal_loss, softmax_focal_loss
from .focal_regression import focal_regression_loss
from .logit_adjusted import adjusted_loss, vs_adjustment
from .longtail import _margin_losses, class_margins
from .overlap import dice_loss, pel_loss, tversky_loss, tversky_params
from .poly import poly_loss

__all__ = ["ACBLoss", "ACELoss", "AsymmetricLoss", "BMCLoss", "BNILoss", "BalancedSoftmaxLoss",
           "CostSensitiveLoss", "CrossEntropyLoss", "DiceLoss", "FocalLoss",
           "FocalRegressionLoss", "GAILoss", "LDAMLoss", "LMFLoss", "LogitAdjustedLoss",
           "PELoss", "PolyLoss", "SigmoidFocalLoss", "SoftmaxFocalLoss", "TverskyLoss", "VSLoss"]


class _Loss(nn.Module):
    def __init__(self, reduction: str) -> None:
        super().__init__()
        self.reduction = check_reduction(reduction)


class SigmoidFocalLoss(_Loss):
    r"""Binary and multi-label focal loss on logits.

    See :func:`gbloss.torch.functional.sigmoid_focal_loss`.

    .. math::

        \ell = -c_1\, y\, (1 - p)^\gamma \log p - c_0\, (1 - y)\, p^\gamma \log(1 - p),
        \qquad p = \sigma(z)

    Parameters
    ----------
    gamma : float >= 0, default 2
    alpha : float in [0, 1] or None, default None
        Positive-class weight (negatives get ``1 - alpha``).
    weight : Tensor (2,) or (C, 2), optional
        ``[negative, positive]`` class weights (per channel ``C = input.shape[1]``);
        a buffer.
    reduction : {"mean", "sum", "none"}, default "mean"

    Shape: ``input`` any shape, ``target`` the same; output scalar, or the
    input's shape for ``reduction="none"``.

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> loss = gt.SigmoidFocalLoss(gamma=2.0, alpha=0.25)
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> loss(z, (torch.rand(8, 3) > 0.7).float()).backward()
    """

    weight: torch.Tensor | None

    def __init__(self, gamma: float = 2.0, alpha: float | None = None,
                 weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.gamma = check_gamma(gamma)
        self.alpha = check_scalar_alpha(alpha)
        self.register_buffer("weight", as_buffer(weight, "weight", ndim=(1, 2)))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sigmoid_focal_loss(input, target, gamma=self.gamma, alpha=self.alpha,
                                  weight=self.weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}"


class SoftmaxFocalLoss(_Loss):
    r"""Multiclass focal loss on logits; see :func:`gbloss.torch.functional.softmax_focal_loss`.

    .. math::

        \ell_i = -\alpha_{t_i} w_{t_i} (1 - p_{i t_i})^\gamma \log p_{i t_i},
        \qquad p_i = \operatorname{softmax}(z_i)

    Parameters
    ----------
    gamma : float >= 0, default 2
    alpha : float, sequence or Tensor (C,), optional
        Per-class factor (a buffer when per class).
    weight : Tensor (C,), optional
        Class weights, a buffer; ``"mean"`` divides by ``sum_i weight[target_i]``.
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}, default "mean"

    Shape: ``input`` ``(N, C, d1, ...)`` or ``(C,)``; ``target`` integer
    ``(N, d1, ...)`` or ``()``.

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> loss = gt.SoftmaxFocalLoss(gamma=2.0, weight=torch.tensor([1.0, 5.0, 1.0]))
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> loss(z, torch.randint(0, 3, (8,))).backward()
    """

    alpha: float | torch.Tensor | None  # a buffer when per class
    weight: torch.Tensor | None

    def __init__(self, gamma: float = 2.0, alpha: Any = None, weight: Any = None,
                 ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.gamma = check_gamma(gamma)
        if alpha is None or (isinstance(alpha, int | float) and not isinstance(alpha, bool)):
            self.alpha = None if alpha is None else check_nonnegative("alpha", alpha)
        else:
            self.register_buffer("alpha", as_buffer(alpha, "alpha"))
        self.register_buffer("weight", as_buffer(weight, "weight"))
        self.ignore_index = int(ignore_index)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(input, target, gamma=self.gamma, alpha=self.alpha,
                                  weight=self.weight, ignore_index=self.ignore_index,
                                  reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"gamma={self.gamma}, ignore_index={self.ignore_index}, "
                f"reduction={self.reduction!r}")


class CrossEntropyLoss(_Loss):
    r"""Class-weighted cross-entropy on logits; see :func:`gbloss.torch.functional.cross_entropy`.

    A drop-in for ``torch.nn.CrossEntropyLoss(weight, ignore_index=..., reduction=...)``
    with class-index targets, computed by the math of :func:`gbloss.cross_entropy`.

    .. math::

        \ell_i = -w_{t_i} \log \operatorname{softmax}(z_i)_{t_i}

    Parameters
    ----------
    weight : Tensor (C,), optional
        A buffer; ``"mean"`` divides by ``sum_i weight[target_i]``.
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> z, t = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    >>> w = torch.tensor([1.0, 2.0, 0.5])
    >>> bool(torch.isclose(gt.CrossEntropyLoss(w)(z, t), torch.nn.CrossEntropyLoss(w)(z, t)))
    True
    """

    weight: torch.Tensor | None

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", as_buffer(weight, "weight"))
        self.ignore_index = int(ignore_index)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class FocalLoss(SoftmaxFocalLoss):
    r"""Focal loss with the task taken from the target, as :func:`gbloss.focal`.

    Integer class indices with one dimension fewer than ``input`` select the
    softmax loss (:class:`SoftmaxFocalLoss`); a target shaped like ``input``
    selects the sigmoid loss (:class:`SigmoidFocalLoss`: ``alpha`` must then
    be a float in [0, 1] or None and ``weight`` ``(2,)`` or ``(C, 2)``).
    Parameters as in :class:`SoftmaxFocalLoss`.
    """

    def __init__(self, gamma: float = 2.0, alpha: Any = None, weight: Any = None,
                 ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(gamma=gamma, alpha=alpha, weight=None, ignore_index=ignore_index,
                         reduction=reduction)
        self.register_buffer("weight", as_buffer(weight, "weight", ndim=(1, 2)))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return focal_loss(input, target, gamma=self.gamma, alpha=self.alpha,
                          weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


def _alias(name: str, value: Any, alias: str, alias_value: Any, default: Any) -> Any:
    """``value``, else its published alias (kaidic/LDAM-DRW's keyword), else ``default``."""
    if value is not None and alias_value is not None:
        raise TypeError(f"give {name} or its alias {alias}, not both")
    if value is not None:
        return value
    return default if alias_value is None else alias_value


class LDAMLoss(_Loss):
    r"""LDAM loss on logits; see :func:`gbloss.torch.functional.ldam_loss`.

    .. math::

        \ell_i = -w_{t}\,\log \operatorname{softmax}\big(s\,(z_i - m_{t} e_{t})\big)_{t},
        \qquad m_j = C\,(n_{\min} / n_j)^{1/4}

    Called as kaidic/LDAM-DRW calls its ``LDAMLoss(cls_num_list, max_m=0.5,
    weight=None, s=30)``, positionally or by those keywords (equal values);
    the margins and ``weight`` are buffers (no CUDA tensor type is
    hard-coded). For deferred re-weighting assign
    :func:`gbloss.torch.functional.drw_weights` to ``weight`` each epoch.

    Parameters
    ----------
    class_counts : sequence or Tensor (C,)
        Training samples per class (alias ``cls_num_list``).
    max_margin : float >= 0, default 0.5
        The rarest class's margin (alias ``max_m``).
    weight : Tensor (C,), optional
    scale : float > 0, default 30
        The logit scale (alias ``s``).
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}, default "mean"
    cls_num_list, max_m, s
        The published keywords; giving one together with its gbloss name
        raises TypeError.

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> loss = gt.LDAMLoss([500, 50, 5], max_margin=0.5, scale=30.0)
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> loss(z, torch.randint(0, 3, (8,))).backward()
    >>> loss = gt.LDAMLoss(cls_num_list=[500, 50, 5], max_m=0.5, s=30, weight=None)
    """

    margins: torch.Tensor
    weight: torch.Tensor | None

    def __init__(self, class_counts: Any = None, max_margin: float | None = None,
                 weight: Any = None, scale: float | None = None, ignore_index: int = -100,
                 reduction: str = "mean", *, cls_num_list: Any = None,
                 max_m: float | None = None, s: float | None = None) -> None:
        super().__init__(reduction)
        class_counts = _alias("class_counts", class_counts, "cls_num_list", cls_num_list, None)
        self.max_margin = check_nonnegative(
            "max_margin", _alias("max_margin", max_margin, "max_m", max_m, 0.5))
        self.scale = check_positive("scale", _alias("scale", scale, "s", s, 30.0))
        self.register_buffer("margins", class_margins(class_counts, self.max_margin))  # float64
        self.register_buffer("weight", as_buffer(weight, "weight"))
        self.ignore_index = int(ignore_index)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _margin_losses(input, target, self.margins, focal_weight=0.0, ldam_weight=1.0,
                              gamma=0.0, alpha=None, scale=self.scale, weight=self.weight,
                              ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"max_margin={self.max_margin}, scale={self.scale}, "
                f"ignore_index={self.ignore_index}, reduction={self.reduction!r}")


class LMFLoss(_Loss):
    r"""LMF loss with the published signature (SanaNazari/LMFLoss); see
    :func:`gbloss.torch.functional.lmf_loss`.

    ``LMFLoss(cls_num_list, weight, alpha=0.2, beta=0.2, gamma=2, max_m=0.8, s=5)``
    computes ``alpha * focal + beta * LDAM``:

    .. math::

        \ell_i = \alpha\, w_t (1 - p_t)^\gamma (-\log p_t)
                + \beta\,\big(-\log \operatorname{softmax}(s (z_i - m_t e_t))_t\big)

    with ``weight`` weighting the focal term, and the LDAM term too when
    ``add_LDAM_weigth=True`` (the published spelling), which makes ``weight``
    a class weight of both terms (and of the ``"mean"`` denominator).

    Differences from the published code, which this class replaces: the focal
    factor is applied per element, not once to the batch-mean cross-entropy;
    with ``add_LDAM_weigth=False`` the mean divides by the element count; it
    runs on any device (the published code needs CUDA tensors and has no
    imports); ``cls_num_list`` may be a list or a tensor.

    Parameters
    ----------
    cls_num_list : sequence or Tensor (C,)
        Training samples per class.
    weight : Tensor (C,), optional
    alpha, beta : float >= 0, default 0.2
        Weights of the focal and the LDAM term.
    gamma : float >= 0, default 2
    max_m : float >= 0, default 0.8
        LDAM's largest margin.
    s : float > 0, default 5
        LDAM's scale.
    add_LDAM_weigth : bool, default False
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> loss = gt.LMFLoss([500, 50, 5], torch.tensor([0.2, 1.0, 3.0]), alpha=1.0, beta=1.0)
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> loss(z, torch.randint(0, 3, (8,))).backward()
    """

    margins: torch.Tensor
    weight: torch.Tensor | None

    def __init__(self, cls_num_list: Any, weight: Any = None, alpha: float = 0.2,
                 beta: float = 0.2, gamma: float = 2.0, max_m: float = 0.8, s: float = 5.0,
                 add_LDAM_weigth: bool = False, *, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = check_nonnegative("alpha", alpha)
        self.beta = check_nonnegative("beta", beta)
        if self.alpha == 0 and self.beta == 0:
            raise ValueError("alpha and beta are both 0: the loss would be 0")
        self.gamma = check_gamma(gamma)
        self.max_m = check_nonnegative("max_m", max_m)
        self.s = check_positive("s", s)
        self.add_LDAM_weigth = bool(add_LDAM_weigth)
        self.register_buffer("margins", class_margins(cls_num_list, self.max_m))  # float64
        self.register_buffer("weight", as_buffer(weight, "weight"))
        self.ignore_index = int(ignore_index)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        both = self.add_LDAM_weigth
        return _margin_losses(
            input, target, self.margins, focal_weight=self.alpha, ldam_weight=self.beta,
            gamma=self.gamma, alpha=None if both else self.weight, scale=self.s,
            weight=self.weight if both else None, ignore_index=self.ignore_index,
            reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"alpha={self.alpha}, beta={self.beta}, gamma={self.gamma}, max_m={self.max_m}, "
                f"s={self.s}, add_LDAM_weigth={self.add_LDAM_weigth}, "
                f"reduction={self.reduction!r}")


class ACBLoss(_Loss):
    r"""ACB-MSE with the ``acb-mse`` package's signature; see
    :func:`gbloss.torch.functional.acb_mse_loss`.

    ``ACBLoss(zero_weighting=1, nonzero_weighting=1)(prediction, target)``:

    .. math::

        L = A \operatorname{mean}_{y = 0} (\hat y - y)^2 + B \operatorname{mean}_{y \ne 0}
            (\hat y - y)^2

    over the whole batch. Equal to the package's value; unlike it, no host
    sync (its ``torch.isnan`` checks), an empty class contributes 0 without a
    NaN being formed, the result is always a tensor (0 for an empty batch, where
    the package returns the number 0), and a NaN prediction is not silently
    dropped. A target that requires grad gets its gradient, as in the package.

    Parameters
    ----------
    zero_weighting, nonzero_weighting : float >= 0, default 1
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"`` is the package's loss; ``"none"`` the per-element terms
        ``c_k (n / N_k) (\hat y - y)^2`` whose mean it is.

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> target = torch.tensor([0.0, 0.0, 0.0, 2.0])
    >>> gt.ACBLoss(1.0, 1.0)(torch.zeros(4), target)
    tensor(4.)
    """

    def __init__(self, zero_weighting: float = 1.0, nonzero_weighting: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.zero_weighting = check_nonnegative("zero_weighting", zero_weighting)
        self.nonzero_weighting = check_nonnegative("nonzero_weighting", nonzero_weighting)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return acb_mse_loss(input, target, zero_weight=self.zero_weighting,
                            nonzero_weight=self.nonzero_weighting, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"zero_weighting={self.zero_weighting}, "
                f"nonzero_weighting={self.nonzero_weighting}, reduction={self.reduction!r}")


# ------------------------------------------------------------------------ Balanced MSE
class _BalancedMSE(_Loss):
    """``noise_sigma``: an ``nn.Parameter`` (learnable, the authors' default) or, with
    ``fix_noise_sigma=True``, a buffer."""

    def __init__(self, init_noise_sigma: float, fix_noise_sigma: bool, reduction: str) -> None:
        super().__init__(reduction)
        sigma = torch.tensor(check_positive("init_noise_sigma", init_noise_sigma))
        self.fix_noise_sigma = bool(fix_noise_sigma)
        if self.fix_noise_sigma:
            self.register_buffer("noise_sigma", sigma)
        else:
            self.noise_sigma = nn.Parameter(sigma)

    def extra_repr(self) -> str:
        return (f"noise_sigma={float(self.noise_sigma.detach()):.4g}, "
                f"fix_noise_sigma={self.fix_noise_sigma}, reduction={self.reduction!r}")


class BMCLoss(_BalancedMSE):
    r"""Balanced MSE, Batch-based Monte-Carlo; see :func:`gbloss.torch.functional.bmc_loss`.

    The authors' ``BMCLoss(init_noise_sigma)`` (jiawei-ren/BalancedMSE), with
    ``noise_sigma`` a learnable ``nn.Parameter`` that goes in its own optimizer
    param group, as in their training scripts::

        criterion = gt.BMCLoss(init_noise_sigma=1.0)
        optimizer.add_param_group({"params": criterion.noise_sigma, "lr": sigma_lr,
                                   "name": "noise_sigma"})

    .. math::

        \ell_i = 2\sigma_0^2 \Big[\frac{\|x_i - y_i\|^2}{2\sigma^2}
            + \log \sum_{j=1}^{B} \exp\Big(-\frac{\|x_i - y_j\|^2}{2\sigma^2}\Big)\Big]

    Equal values (the authors' ``"mean"``) and ``noise_sigma`` gradients; no
    ``[B, B]`` matrix is formed, no device is hard-coded.

    Parameters
    ----------
    init_noise_sigma : float > 0, default 1
    fix_noise_sigma : bool, default False
        ``True``: ``noise_sigma`` is a buffer (the authors' ``--fix_noise_sigma``).
    reduction : {"mean", "sum", "none"}, default "mean"

    Shape: ``input`` ``(B,)``, ``(B, 1)`` or ``(B, d)``; ``target`` the same.

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> criterion = gt.BMCLoss(init_noise_sigma=1.0)
    >>> pred = torch.randn(16, 1, requires_grad=True)
    >>> criterion(pred, torch.randn(16, 1)).backward()
    >>> criterion.noise_sigma.grad is not None
    True
    """

    def __init__(self, init_noise_sigma: float = 1.0, *, fix_noise_sigma: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(init_noise_sigma, fix_noise_sigma, reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return bmc_loss(input, target, self.noise_sigma, reduction=self.reduction)


class BNILoss(_BalancedMSE):
    r"""Balanced MSE, Bin-based Numerical Integration; see
    :func:`gbloss.torch.functional.bni_loss`.

    The authors' ``BNILoss(init_noise_sigma, bucket_centers, bucket_weights)``
    (1-D labels; any input shape, every element a row). The buckets are
    buffers; :func:`gbloss.torch.functional.bni_buckets` computes them from
    training labels.

    .. math::

        \ell_i = 2\sigma_0^2 \Big[\frac{(x_i - y_i)^2}{2\sigma^2}
            + \log \sum_j w_j \exp\Big(-\frac{(x_i - c_j)^2}{2\sigma^2}\Big)\Big]

    Parameters
    ----------
    init_noise_sigma : float > 0
    bucket_centers, bucket_weights : sequence or Tensor (M,)
    fix_noise_sigma : bool, default False
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    bucket_centers: torch.Tensor
    bucket_weights: torch.Tensor

    def __init__(self, init_noise_sigma: float, bucket_centers: Any, bucket_weights: Any, *,
                 fix_noise_sigma: bool = False, reduction: str = "mean") -> None:
        super().__init__(init_noise_sigma, fix_noise_sigma, reduction)
        self.register_buffer("bucket_centers", _float64(bucket_centers, "bucket_centers"))
        self.register_buffer("bucket_weights", _float64(bucket_weights, "bucket_weights"))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return bni_loss(input, target, self.noise_sigma, self.bucket_centers,
                        self.bucket_weights, reduction=self.reduction)


class GAILoss(_BalancedMSE):
    r"""Balanced MSE, GMM-based Analytical Integration; see
    :func:`gbloss.torch.functional.gai_loss`.

    The authors' ``GAILoss(init_noise_sigma, gmm)`` (1-D) and its
    multi-dimensional form: ``gmm`` is the path of their ``gmm.pkl``, such a
    dict (``means``, ``weights``, ``variances``) or a fitted
    ``sklearn.mixture.GaussianMixture``; its means, weights and covariances
    become the buffers ``gmm_means`` (K, d), ``gmm_weights`` (K,) and
    ``gmm_covariances`` (K, d, d).

    .. math::

        \ell_i = 2\sigma_0^2 \Big[-\log \mathcal N(y_i; x_i, \sigma^2 I)
            + \log \sum_k \pi_k \mathcal N(x_i; \mu_k, \Sigma_k + \sigma^2 I)\Big]

    Parameters
    ----------
    init_noise_sigma : float > 0
    gmm : str, path, dict or fitted GaussianMixture
    fix_noise_sigma : bool, default False
    reduction : {"mean", "sum", "none"}, default "mean"

    Shape: for a 1-D mixture any shape (every element a row); for a
    ``d``-dimensional one ``(B, d)``.
    """

    gmm_means: torch.Tensor
    gmm_weights: torch.Tensor
    gmm_covariances: torch.Tensor

    def __init__(self, init_noise_sigma: float, gmm: Any, *, fix_noise_sigma: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(init_noise_sigma, fix_noise_sigma, reduction)
        means, weights, covs = gmm_tensors(gmm)
        self.register_buffer("gmm_means", means)
        self.register_buffer("gmm_weights", weights)
        self.register_buffer("gmm_covariances", covs)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return gai_loss(input, target, self.noise_sigma, self.gmm_means, self.gmm_weights,
                        self.gmm_covariances, reduction=self.reduction)


def _float64(value: Any, name: str) -> torch.Tensor:
    t = value.detach().clone() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    t = t.to(torch.float64).reshape(-1)
    if t.numel() == 0 or not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be a non-empty array of finite values")
    return t


# -------------------------------------------------------------------------- Dice, PEL
class DiceLoss(_Loss):
    r"""Soft Dice loss on logits (sigmoid); see :func:`gbloss.torch.functional.dice_loss`.

    .. math::

        D_g = 1 - \frac{2 \sum_{i \in g} p_i y_i + s}{\sum_{i \in g} p_i + \sum_{i \in g} y_i + s}

    per sample ``g`` (``batch=False``) or over the batch (``batch=True``).

    Parameters
    ----------
    smooth : float >= 0, default 1
    batch : bool, default False
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> z = torch.randn(2, 1, 8, 8, requires_grad=True)
    >>> gt.DiceLoss()(z, (torch.rand(2, 1, 8, 8) > 0.7).float()).backward()
    """

    def __init__(self, smooth: float = 1.0, batch: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.smooth = check_nonnegative("smooth", smooth)
        self.batch = bool(batch)

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        return dice_loss(input, target, smooth=self.smooth, batch=self.batch, weight=weight,
                         reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"smooth={self.smooth}, batch={self.batch}, reduction={self.reduction!r}"


class PELoss(_Loss):
    r"""PointWise Exponential Loss on logits (sigmoid); see
    :func:`gbloss.torch.functional.pel_loss`.

    .. math::

        E_c = 1 - \frac{\alpha \sum_i (r_i t_i)^\beta}{\sum_i r_i + \sum_i t_i},
        \qquad L_g = \tfrac12 (E_{fg} + E_{bg})

    Parameters
    ----------
    alpha : float > 0, default 20
    power : float > 0, default 3
    batch : bool, default False
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    def __init__(self, alpha: float = 20.0, power: float = 3.0, batch: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.alpha = check_positive("alpha", alpha)
        self.power = check_positive("power", power)
        self.batch = bool(batch)

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        return pel_loss(input, target, alpha=self.alpha, power=self.power, batch=self.batch,
                        weight=weight, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"alpha={self.alpha}, power={self.power}, batch={self.batch}, "
                f"reduction={self.reduction!r}")


class VSLoss(_Loss):
    r"""VS loss (Kini et al. 2021) on logits; see :func:`gbloss.torch.functional.vs_loss`.

    .. math::

        \ell_i = -w_t \log \operatorname{softmax}(\Delta \odot z_i + \iota)_t,
        \qquad \Delta_j = (n_j / n_{\max})^\gamma, \quad \iota_j = \tau \log \pi_j

    Called as orparask/VS-Loss calls its ``VSLoss(cls_num_list, gamma=0.3,
    tau=1.0, weight=None)`` (equal values; gbloss's default ``gamma`` is 0.2).
    ``Delta``, ``iota`` (float64) and ``weight`` are buffers.

    Parameters
    ----------
    class_counts : sequence or Tensor (C,), (2,) or (C, 2)
        Training samples (or frequencies) per class; ``(2,)`` / ``(C, 2)`` for
        per-element (binary, multi-label) targets.
    gamma, tau : float >= 0
    weight : Tensor (C,), (2,) or (C, 2), optional
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> loss = gt.VSLoss([500, 50, 5], gamma=0.2, tau=1.0)
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> loss(z, torch.randint(0, 3, (8,))).backward()
    """

    delta: torch.Tensor
    iota: torch.Tensor
    weight: torch.Tensor | None

    def __init__(self, class_counts: Any, gamma: float = 0.2, tau: float = 1.0,
                 weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.gamma = check_nonnegative("gamma", gamma)
        self.tau = check_nonnegative("tau", tau)
        delta, iota = vs_adjustment(class_counts, self.gamma, self.tau)
        self.register_buffer("delta", delta)
        self.register_buffer("iota", iota)
        self.register_buffer("weight", as_buffer(weight, "weight", ndim=(1, 2)))
        self.ignore_index = int(ignore_index)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return adjusted_loss(input, target, self.delta, self.iota, weight=self.weight,
                             ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"gamma={self.gamma}, tau={self.tau}, ignore_index={self.ignore_index}, "
                f"reduction={self.reduction!r}")


class LogitAdjustedLoss(VSLoss):
    r"""Logit-adjusted cross-entropy (Menon et al. 2021): :class:`VSLoss` with ``gamma=0``;
    see :func:`gbloss.torch.functional.logit_adjusted_loss`.

    .. math::

        \ell_i = -w_t \log \operatorname{softmax}(z_i + \tau \log \pi)_t
    """

    def __init__(self, class_counts: Any, tau: float = 1.0, weight: Any = None,
                 ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(class_counts, 0.0, tau, weight, ignore_index, reduction)


class BalancedSoftmaxLoss(VSLoss):
    r"""Balanced Softmax (Ren et al. 2020): :class:`VSLoss` with ``gamma=0, tau=1``;
    see :func:`gbloss.torch.functional.balanced_softmax_loss`.

    .. math::

        \ell_i = -w_t \log \operatorname{softmax}(z_i + \log \pi)_t
    """

    def __init__(self, class_counts: Any, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(class_counts, 0.0, 1.0, weight, ignore_index, reduction)


class FocalRegressionLoss(_Loss):
    r"""Focal-R (Yang et al., ICML 2021); see :func:`gbloss.torch.functional.focal_regression_loss`.

    ``FocalRegressionLoss(kind="mse", beta=0.2, gamma=1.0)(input, target, weight=None)``:

    .. math::

        \ell = |e|^p \big(2\sigma(\beta |e|) - 1\big)^\gamma, \qquad e = \text{input} - \text{target}

    with ``p = 2`` (``kind="mse"``, the authors' ``weighted_focal_mse_loss``)
    or ``p = 1`` (``"l1"``, ``weighted_focal_l1_loss``); equal to theirs with
    ``activate='sigmoid'``, weights included.

    Parameters
    ----------
    kind : {"mse", "l1"}
    beta : float > 0
    gamma : float >= 0
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> gt.FocalRegressionLoss(beta=0.2, gamma=1.0)(torch.tensor([10.0]), torch.tensor([0.0]))
    tensor(76.1594)
    """

    def __init__(self, kind: str = "mse", beta: float = 0.2, gamma: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        if kind not in ("mse", "l1"):
            raise ValueError(f"kind must be one of ['mse', 'l1'], got {kind!r}")
        self.kind = kind
        self.beta = check_positive("beta", beta)
        self.gamma = check_nonnegative("gamma", gamma)

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        return focal_regression_loss(input, target, weight, kind=self.kind, beta=self.beta,
                                     gamma=self.gamma, reduction=self.reduction)


class AsymmetricLoss(_Loss):
    r"""Asymmetric loss (ASL) on logits; see :func:`gbloss.torch.functional.asymmetric_loss`.

    .. math::

        \ell = -y (1 - p)^{\gamma_+} \log p - (1 - y) p_m^{\gamma_-} \log(1 - p_m),
        \qquad p_m = \max(p - \mathrm{clip}, 0)

    per element for targets shaped like ``input``; the ``ASLSingleLabel``
    variant for class indices ``(N,)`` with ``(N, C)`` logits.

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> z = torch.randn(8, 5, requires_grad=True)
    >>> gt.AsymmetricLoss(gamma_neg=4.0, clip=0.05)(z, (torch.rand(8, 5) > 0.8).float()).backward()
    """

    def __init__(self, gamma_pos: float = 0.0, gamma_neg: float = 4.0, clip: float = 0.05,
                 label_smoothing: float = 0.1, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.gamma_pos, self.gamma_neg, self.clip = gamma_pos, gamma_neg, clip
        self.label_smoothing = label_smoothing

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return asymmetric_loss(input, target, gamma_pos=self.gamma_pos,
                               gamma_neg=self.gamma_neg, clip=self.clip,
                               label_smoothing=self.label_smoothing, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"gamma_pos={self.gamma_pos}, gamma_neg={self.gamma_neg}, clip={self.clip}, "
                f"label_smoothing={self.label_smoothing}, reduction={self.reduction!r}")


class ACELoss(_Loss):
    r"""gbdtCBL's asymmetric cross-entropy (ACE; AWE with ``pos_weight``) on logits; see
    :func:`gbloss.torch.functional.ace_loss`."""

    def __init__(self, margin: float = 0.05, pos_weight: float = 1.0,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin, self.pos_weight = margin, pos_weight

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ace_loss(input, target, margin=self.margin, pos_weight=self.pos_weight,
                        reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, pos_weight={self.pos_weight}, reduction={self.reduction!r}"


class PolyLoss(_Loss):
    r"""Poly-1 loss on logits; see :func:`gbloss.torch.functional.poly_loss`.

    .. math::

        \ell = -(1 - p_t)^\gamma \log p_t + \epsilon (1 - p_t)^{\gamma + 1}

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> gt.PolyLoss(epsilon=1.0)(z, torch.randint(0, 3, (8,))).backward()
    """

    def __init__(self, epsilon: float = 1.0, gamma: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.epsilon, self.gamma = epsilon, gamma

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return poly_loss(input, target, epsilon=self.epsilon, gamma=self.gamma,
                         reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}, gamma={self.gamma}, reduction={self.reduction!r}"


# ----------------------------------------------------------------------- cost-sensitive
class CostSensitiveLoss(_Loss):
    r"""Expected misclassification cost on logits; see
    :func:`gbloss.torch.functional.cost_sensitive_loss`.

    .. math::

        \ell = \sum_k C_{y k}\, p_k

    A ``2 x 2`` matrix: a sigmoid per element (binary); ``k x k``: softmax over
    dimension 1 with class-index targets.

    Parameters
    ----------
    cost_matrix : array or Tensor (k, k)
        ``C[i, j]``: the cost of predicting ``j`` when the truth is ``i``; a buffer.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> criterion = gt.CostSensitiveLoss([[0.0, 1.0, 4.0], [2.0, 0.0, 1.0], [8.0, 2.0, 0.0]])
    >>> z = torch.randn(8, 3, requires_grad=True)
    >>> criterion(z, torch.randint(0, 3, (8,))).backward()
    """

    cost_matrix: torch.Tensor

    def __init__(self, cost_matrix: Any, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("cost_matrix", cost_matrix_tensor(cost_matrix))
        self.n_classes = int(self.cost_matrix.shape[0])

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cost_sensitive_loss(input, target, self.cost_matrix, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"n_classes={self.n_classes}, reduction={self.reduction!r}"


class TverskyLoss(_Loss):
    r"""(Focal) Tversky loss on logits (sigmoid); see
    :func:`gbloss.torch.functional.tversky_loss`.

    .. math::

        F_g = \Big(1 - \frac{TP_g + s}{TP_g + \alpha FP_g + \beta FN_g + s}\Big)^\gamma

    per sample ``g`` (``batch=False``) or over the batch (``batch=True``).

    Parameters
    ----------
    alpha : float >= 0, default 0.3
    beta : float >= 0, default 0.7
    gamma : float > 0, default 1
    smooth : float >= 0, default 1
    batch : bool, default False
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import torch, gbloss.torch as gt
    >>> z = torch.randn(2, 1, 8, 8, requires_grad=True)
    >>> gt.TverskyLoss(alpha=0.3, beta=0.7)(z, (torch.rand(2, 1, 8, 8) > 0.7).float()).backward()
    """

    def __init__(self, alpha: float = 0.3, beta: float = 0.7, gamma: float = 1.0,
                 smooth: float = 1.0, batch: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        params = tversky_params(alpha, beta, gamma, smooth)
        self.alpha, self.beta = params["alpha"], params["beta"]
        self.gamma, self.smooth = params["gamma"], params["smooth"]
        self.batch = bool(batch)

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        return tversky_loss(input, target, alpha=self.alpha, beta=self.beta, gamma=self.gamma,
                            smooth=self.smooth, batch=self.batch, weight=weight,
                            reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"alpha={self.alpha}, beta={self.beta}, gamma={self.gamma}, "
                f"smooth={self.smooth}, batch={self.batch}, reduction={self.reduction!r}")
