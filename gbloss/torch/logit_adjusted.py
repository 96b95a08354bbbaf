r"""Logit-adjusted losses for PyTorch: logit adjustment (Menon et al. 2021), Balanced Softmax
(Ren et al. 2020) and the VS loss (Kini et al. 2021).

Cross-entropy at the adjusted logits ``Delta * z + iota``, with ``Delta`` and
``iota`` from :func:`gbloss.losses.logit_adjusted.vs_parameters` (the boosting
losses' definition): class-index targets run
:func:`gbloss.torch.focal.softmax_focal_loss`'s kernel (``gamma = 0``), per-element
targets (binary, multi-label) :func:`gbloss.torch.focal.sigmoid_focal_loss`'s,
as :func:`gbloss.losses.logit_adjusted.vs_softmax_kernel` and
:func:`~gbloss.losses.logit_adjusted.vs_sigmoid_kernel` do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..losses.logit_adjusted import vs_parameters
from ._common import (
    ClassRows,
    binary_target,
    check_nonnegative,
    check_reduction,
    compute_dtype,
    reduce,
)
from .focal import _sigmoid_factors, _SigmoidFocal, _SoftmaxFocal, is_class_index_target

__all__ = ["balanced_softmax_loss", "logit_adjusted_loss", "vs_adjustment", "vs_loss"]


def vs_adjustment(class_counts: Any, gamma: float = 0.0, tau: float = 1.0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Delta, iota)`` as float64 tensors shaped like ``class_counts``.

    ``class_counts``: ``(C,)`` per class (class-index targets), ``[n_0, n_1]``
    (binary) or ``(C, 2)`` ``[n_neg, n_pos]`` per channel (multi-label); counts
    or frequencies, only their ratios matter; an empty class counts as the
    rarest present one (:func:`gbloss.losses.logit_adjusted.vs_parameters`).
    """
    if class_counts is None:
        raise ValueError("class_counts (the training samples, or frequencies, per class) is "
                         "required")
    counts = np.asarray(class_counts.detach().cpu().double().numpy()
                        if isinstance(class_counts, torch.Tensor) else class_counts,
                        dtype=np.float64)
    if counts.ndim not in (1, 2) or counts.shape[-1] < 2 or (counts.ndim == 2
                                                             and counts.shape[1] != 2) \
            or not np.all(np.isfinite(counts)) or np.any(counts < 0) \
            or not np.all(np.any(counts > 0, axis=-1)):
        raise ValueError("class_counts must be finite and non-negative, shaped (C,) or (C, 2), "
                         f"with a positive count in each group; got {class_counts!r}")
    delta, iota = vs_parameters(counts, check_nonnegative("gamma", gamma),
                                check_nonnegative("tau", tau))
    return torch.as_tensor(delta), torch.as_tensor(iota)


def adjusted_loss(input: torch.Tensor, target: torch.Tensor, delta: torch.Tensor,
                  iota: torch.Tensor, *, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy at ``Delta * z + iota`` (class indices) or its binary form (per-element
    targets), for ``(Delta, iota)`` from :func:`vs_adjustment`."""
    check_reduction(reduction)
    if is_class_index_target(input, target):
        rows = ClassRows(input, target, ignore_index, weight)
        z = rows.z
        if delta.shape != (rows.n_classes,):
            raise ValueError(f"class_counts must have shape ({rows.n_classes},) for "
                             f"{rows.n_classes} classes, got {tuple(delta.shape)}")
        trail = (1,) * (z.ndim - 2)
        d, i = (v.to(device=z.device, dtype=z.dtype).reshape(-1, *trail) for v in (delta, iota))
        loss = _SoftmaxFocal.apply(z * d + i, rows.t, rows.factor(), 0.0)
        return rows.reduce(loss, reduction)
    dtype = input.dtype
    z = input.to(compute_dtype(input))
    y, hard = binary_target(target, input, z.dtype)
    d, i = (v.to(device=z.device, dtype=z.dtype) for v in (delta, iota))
    if d.shape == (2,):
        d0, d1, b = d[0], d[1], i[1] - i[0]
    elif d.ndim == 2 and z.ndim >= 2 and d.shape[0] == z.shape[1]:
        trail = (1,) * (z.ndim - 2)
        d0, d1 = d[:, 0].reshape(-1, *trail), d[:, 1].reshape(-1, *trail)
        b = (i[:, 1] - i[:, 0]).reshape(-1, *trail)
    else:
        raise ValueError("class_counts of a per-element target must have shape (2,) or (C, 2) "
                         f"with C = input.shape[1]; got {tuple(d.shape)} for input of shape "
                         f"{tuple(z.shape)}")
    c0, c1 = _sigmoid_factors(None, weight, z)
    c0, c1 = (1.0 if c0 is None else c0), (1.0 if c1 is None else c1)
    if torch.equal(d0, d1):
        loss = _SigmoidFocal.apply(d1 * z + b, y, c0, c1, 0.0, hard)
    else:  # Delta of the row's label: the two branches at their own adjusted logits
        zero = 0.0 if isinstance(c0, float) else torch.zeros_like(c0)
        loss = (_SigmoidFocal.apply(d1 * z + b, y, zero, c1, 0.0, False)
                + _SigmoidFocal.apply(d0 * z + b, y, c0, zero, 0.0, False))
    return reduce(loss, reduction, dtype)


def vs_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    class_counts: Any,
    *,
    gamma: float = 0.2,
    tau: float = 1.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""VS loss (vector scaling, Kini et al. 2021) on logits.

    .. math::

        \ell_i = -w_t \log \operatorname{softmax}(\Delta \odot z_i + \iota)_t,
        \qquad \Delta_j = (n_j / n_{\max})^\gamma, \quad \iota_j = \tau \log \pi_j

    The math of :func:`gbloss.vs_loss`: class-index targets (N, d1, ...) as
    ``F.cross_entropy``; a target shaped like ``input`` is binary / multi-label,
    ``w_y BCE(Delta_y z + tau log(pi_1 / pi_0), y)`` per element with
    ``class_counts`` ``[n_0, n_1]`` or ``(C, 2)`` and ``weight`` ``(2,)`` or
    ``(C, 2)`` as in :func:`sigmoid_focal_loss` (``"mean"`` over elements).
    orparask/VS-Loss's ``VSLoss(cls_num_list, gamma, tau, weight)`` is
    ``vs_loss(x, t, cls_num_list, gamma=gamma, tau=tau, weight=weight)``.

    Parameters
    ----------
    input : Tensor (N, C, d1, ...), or any shape for per-element targets
    target : integer Tensor (N, d1, ...), or a Tensor shaped like ``input``
    class_counts : sequence or Tensor (C,), (2,) or (C, 2)
        Training samples (or frequencies) per class.
    gamma, tau : float >= 0
    weight : Tensor, optional
        Class weights.
    ignore_index : int, default -100
        Class-index targets only.
    reduction : {"mean", "sum", "none"}

    References
    ----------
    G. R. Kini et al., "Label-Imbalanced and Group-Sensitive Classification
    under Overparameterization", NeurIPS 2021, arXiv:2103.01550.
    """
    delta, iota = vs_adjustment(class_counts, gamma, tau)
    return adjusted_loss(input, target, delta, iota, weight=weight, ignore_index=ignore_index,
                         reduction=reduction)


def logit_adjusted_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    class_counts: Any,
    *,
    tau: float = 1.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Logit-adjusted cross-entropy (Menon et al. 2021) on logits.

    .. math::

        \ell_i = -w_t \log \operatorname{softmax}(z_i + \tau \log \pi)_t

    The math of :func:`gbloss.logit_adjusted` (:func:`vs_loss` with
    ``gamma = 0``): class-index targets, or per-element targets
    (``BCE(z + tau log(pi_1 / pi_0), y)``, ``class_counts`` ``(2,)`` or ``(C, 2)``).
    The google-research ``logit_adjustment`` loss with ``base_probs`` is
    ``logit_adjusted_loss(x, t, base_probs, tau=tau)`` (it adds 1e-12 to
    ``base_probs ** tau`` inside the logarithm).

    References
    ----------
    A. K. Menon et al., "Long-tail learning via logit adjustment", ICLR 2021,
    arXiv:2007.07314.
    """
    return vs_loss(input, target, class_counts, gamma=0.0, tau=tau, weight=weight,
                   ignore_index=ignore_index, reduction=reduction)


def balanced_softmax_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    class_counts: Any,
    *,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Balanced Softmax (Ren et al. 2020) on logits: ``-log softmax(z + log n)_t``.

    :func:`logit_adjusted_loss` with ``tau = 1``; the math of
    :func:`gbloss.balanced_softmax`. jiawei-ren/BalancedMetaSoftmax's
    ``balanced_softmax_loss(labels, logits, sample_per_class, reduction)`` is
    ``balanced_softmax_loss(logits, labels, sample_per_class, reduction=reduction)``.

    References
    ----------
    J. Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition",
    NeurIPS 2020, arXiv:2007.10740.
    """
    return vs_loss(input, target, class_counts, gamma=0.0, tau=1.0, weight=weight,
                   ignore_index=ignore_index, reduction=reduction)
