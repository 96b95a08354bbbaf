r"""Long-tail losses for PyTorch: LDAM (Cao et al. 2019), LMF (Sadi et al. 2022) and the
deferred re-weighting schedule (DRW).

Both losses are :func:`gbloss.torch.focal.softmax_focal_loss`'s kernel at
shifted, scaled logits (the math of :func:`gbloss.ldam`, :func:`gbloss.lmf`),
with the margins of :func:`gbloss.losses.longtail.ldam_margins`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..losses._weights import weights_from_counts
from ..losses.longtail import check_class_counts, ldam_margins
from ._common import (
    ClassRows,
    check_class_vector,
    check_gamma,
    check_nonnegative,
    check_positive,
    check_reduction,
)
from .focal import _SoftmaxFocal

__all__ = ["class_margins", "drw_weights", "ldam_loss", "lmf_loss"]


def class_margins(class_counts: Any, max_margin: float = 0.5) -> torch.Tensor:
    """LDAM's per-class margins ``m_j = max_margin (n_min / n_j)^(1/4)`` as a float64 tensor
    (:func:`gbloss.losses.longtail.ldam_margins`, the boosting loss's definition)."""
    if class_counts is None:
        raise ValueError("class_counts (the training samples per class) is required")
    counts = class_counts.detach().cpu().double().numpy() \
        if isinstance(class_counts, torch.Tensor) else class_counts
    check_class_counts(counts)
    return torch.as_tensor(ldam_margins(np.asarray(counts, dtype=np.float64),
                                        check_nonnegative("max_margin", max_margin)))


def _margin_losses(input: torch.Tensor, target: torch.Tensor, margins: torch.Tensor, *,
                   focal_weight: float, ldam_weight: float, gamma: float, alpha: Any,
                   scale: float, weight: Any, ignore_index: int, reduction: str) -> torch.Tensor:
    """``a * alpha_t w_t FL_gamma(z) + b * w_t CE(s (z - m_t e_t))`` per element (LMF; LDAM
    is ``a = 0``), as :func:`gbloss.losses.longtail.lmf_softmax_kernel`: both terms are
    :func:`gbloss.losses.focal.softmax_focal`, the LDAM one at the shifted, scaled logits."""
    check_reduction(reduction)
    if focal_weight == 0 and ldam_weight == 0:
        raise ValueError("focal_weight and ldam_weight are both 0: the loss would be 0")
    rows = ClassRows(input, target, ignore_index, weight)
    z, t = rows.z, rows.t
    m = check_class_vector(margins, "margins", rows.n_classes, z)
    loss = None
    if focal_weight != 0:
        loss = _SoftmaxFocal.apply(z, t, rows.factor(alpha), check_gamma(gamma))
        loss = loss if focal_weight == 1 else focal_weight * loss
    if ldam_weight != 0:
        assert m is not None  # (margins are required)
        shift = torch.zeros_like(z).scatter(1, t.unsqueeze(1), m[t].unsqueeze(1))
        ldam = _SoftmaxFocal.apply(scale * (z - shift), t, rows.factor(), 0.0)
        ldam = ldam if ldam_weight == 1 else ldam_weight * ldam
        loss = ldam if loss is None else loss + ldam
    assert loss is not None  # (the weights are not both 0)
    return rows.reduce(loss, reduction)


def ldam_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    class_counts: Any,
    *,
    max_margin: float = 0.5,
    scale: float = 30.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""LDAM loss (label-distribution-aware margin, Cao et al. 2019) on logits.

    .. math::

        \ell_i = -w_{t}\,\log \operatorname{softmax}\big(s\,(z_i - m_{t} e_{t})\big)_{t},
        \qquad m_j = C\,(n_{\min} / n_j)^{1/4}

    The math of :func:`gbloss.ldam` (multiclass, class-index targets).
    kaidic/LDAM-DRW's ``LDAMLoss(cls_num_list, max_m, weight, s)`` is
    ``ldam_loss(x, t, cls_num_list, max_margin=max_m, scale=s, weight=weight)``
    (equal values, on any device).

    Parameters
    ----------
    input : Tensor (N, C, d1, ...)
        Logits (Cao et al. use cosine logits in [-1, 1] with ``scale=30``).
    target : integer Tensor (N, d1, ...)
    class_counts : sequence or Tensor (C,)
        Training samples per class (all positive).
    max_margin : float >= 0, default 0.5
        ``C``: the rarest class's margin.
    scale : float > 0, default 30
        ``s``; the boosting loss defaults to 1 (raw margins are not normalised).
    weight, ignore_index, reduction
        As in :func:`cross_entropy` (``"mean"`` divides by ``sum_i weight[t_i]``).

    References
    ----------
    K. Cao et al., "Learning Imbalanced Datasets with Label-Distribution-Aware
    Margin Loss", NeurIPS 2019, arXiv:1906.07413.
    """
    scale = check_positive("scale", scale)
    return _margin_losses(input, target, class_margins(class_counts, max_margin),
                          focal_weight=0.0, ldam_weight=1.0, gamma=0.0, alpha=None, scale=scale,
                          weight=weight, ignore_index=ignore_index, reduction=reduction)


def lmf_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    class_counts: Any,
    *,
    focal_weight: float = 1.0,
    ldam_weight: float = 1.0,
    gamma: float = 2.0,
    alpha: float | torch.Tensor | None = None,
    max_margin: float = 0.5,
    scale: float = 30.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""LMF loss (Large-Margin-aware Focal, Sadi et al. 2022) on logits.

    .. math::

        \ell_i = a\,\alpha_t w_t (1 - p_t)^\gamma (-\log p_t) + b\,\mathrm{LDAM}_i

    with ``a = focal_weight``, ``b = ldam_weight`` and LDAM as in
    :func:`ldam_loss` (``weight`` applies to both terms, ``alpha`` to the focal
    term only). The math of :func:`gbloss.lmf`. ``"mean"`` divides the sum by
    ``sum_i weight[t_i]`` (the count without ``weight``).

    Differs from the published code (SanaNazari/LMFLoss) in that the focal
    factor ``(1 - p_t)^gamma`` is applied per element (the published code
    applies it once to the batch-mean cross-entropy); see
    :class:`gbloss.torch.LMFLoss` for the published signature.
    """
    scale = check_positive("scale", scale)
    for name, value in (("focal_weight", focal_weight), ("ldam_weight", ldam_weight)):
        check_nonnegative(name, value)
    return _margin_losses(input, target, class_margins(class_counts, max_margin),
                          focal_weight=float(focal_weight), ldam_weight=float(ldam_weight),
                          gamma=gamma, alpha=alpha, scale=scale, weight=weight,
                          ignore_index=ignore_index, reduction=reduction)


def drw_weights(class_counts: Any, epoch: int, start_epoch: int = 160, beta: float = 0.9999,
                ) -> torch.Tensor:
    """Deferred re-weighting (Cao et al. 2019): class weights for ``epoch``.

    Ones before ``start_epoch``; from it on the inverse effective number of
    samples ``(1 - beta) / (1 - beta^{n_j})`` (Cui et al. 2019), scaled as
    :func:`gbloss.class_weights` scales them (mean 1 over the training rows;
    LDAM-DRW normalises them to sum to C instead, which changes no
    ``"mean"``-reduced loss). Assign the result to a loss's ``weight`` buffer
    at the start of each epoch::

        criterion.weight = gt.drw_weights(cls_num_list, epoch, 160).to(device)
    """
    counts = np.asarray(class_counts.detach().cpu() if isinstance(class_counts, torch.Tensor)
                        else class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or not np.all(np.isfinite(counts)) \
            or np.any(counts < 0):
        raise ValueError("class_counts must be a 1-D array of non-negative counts")
    if not 0 <= float(beta) < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    if epoch < start_epoch:
        return torch.ones(counts.size, dtype=torch.get_default_dtype())
    w = weights_from_counts(counts, "effective", float(beta))
    return torch.as_tensor(w, dtype=torch.get_default_dtype())
