r"""Asymmetric losses for PyTorch: ASL (Ridnik et al. 2021) and gbdtCBL's ACE / AWE.

The forward pass evaluates the boosting loss's own math in ``mode="value_grad"``
(:func:`gbloss.losses.focal.focal_branch` and
:func:`gbloss.losses.asymmetric.clipped_negative_branch` per element;
:func:`gbloss.losses.asymmetric.asymmetric_softmax_kernel` per row) and stores
the analytic gradient; backward multiplies it (first derivatives only: no
``create_graph`` second derivatives).
"""

from __future__ import annotations

import torch

from ..losses.asymmetric import (
    ACELoss,
    AsymmetricLoss,
    _negative_branch,
    ace_negative_branch,
    asymmetric_softmax_kernel,
)
from ..losses.focal import focal_branch
from ._common import (
    ValueGrad,
    binary_target,
    check_reduction,
    compute_dtype,
    namespace,
    reduce,
)

__all__ = ["ace_loss", "asymmetric_loss", "class_index_rows"]


def class_index_rows(input: torch.Tensor, target: torch.Tensor) -> bool:
    """Whether ``target`` holds class indices ``(N,)`` for ``(N, C)`` logits (softmax
    variant); otherwise it must be shaped like ``input`` (a sigmoid per element)."""
    if isinstance(target, torch.Tensor) and not target.is_floating_point() \
            and target.dtype != torch.bool and target.ndim == input.ndim - 1:
        if input.ndim != 2:
            raise ValueError(f"class-index targets need (N, C) logits, got {tuple(input.shape)}")
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= input.shape[1]):
            raise ValueError(f"target has class indices outside [0, {input.shape[1]})")
        return True
    return False


def asymmetric_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    label_smoothing: float = 0.1,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Asymmetric loss (ASL) on logits, the math of :func:`gbloss.asymmetric`.

    A target shaped like ``input`` (0/1 or soft labels): per element
    ``-y (1 - p)^gamma_pos log p - (1 - y) p_m^gamma_neg log(1 - p_m)`` with
    ``p = sigmoid(z)``, ``p_m = max(p - clip, 0)``; ``"mean"`` averages the
    elements (the reference ``AsymmetricLoss`` returns the sum: use
    ``reduction="sum"``). Class indices ``(N,)`` with ``(N, C)`` logits: the
    reference's ``ASLSingleLabel`` with label smoothing ``label_smoothing``,
    one value per row.

    References
    ----------
    T. Ridnik et al., "Asymmetric Loss For Multi-Label Classification", ICCV 2021,
    arXiv:2009.14119 (code: Alibaba-MIIL/ASL).
    """
    check_reduction(reduction)
    params = AsymmetricLoss(gamma_pos, gamma_neg, clip, label_smoothing)  # validates
    gp, gn, c = float(params.gamma_pos), float(params.gamma_neg), float(params.clip)
    dtype = input.dtype
    z = input.to(compute_dtype(input))
    xp = namespace(z)
    if class_index_rows(input, target):
        t = target.to(torch.int64)

        def rows(zz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return asymmetric_softmax_kernel(t, None, zz, xp, gamma_pos=gp, gamma_neg=gn,
                                             label_smoothing=float(params.label_smoothing),
                                             mode="value_grad", hessian="exact", scale=1.0)

        return reduce(ValueGrad.apply(z, rows), reduction, dtype)
    y, _ = binary_target(target, input, z.dtype)

    def elements(zz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f1, g1 = focal_branch(zz, gp, xp, "value_grad")
        f0, g0 = _negative_branch(zz, gn, c, xp, "value_grad")
        return y * f1 + (1 - y) * f0, y * g1 + (1 - y) * g0

    return reduce(ValueGrad.apply(z, elements), reduction, dtype)


def ace_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: float = 0.05,
    pos_weight: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""gbdtCBL's asymmetric cross-entropy (ACE; AWE with ``pos_weight``) on logits, the math
    of :func:`gbloss.ace`: per element ``-r y log p + (1 - y) KL(Bern(m) || Bern(p)) [p > m]``.
    The target is shaped like ``input`` (binary or multi-label); ``"mean"`` averages the
    elements."""
    check_reduction(reduction)
    params = ACELoss(margin, pos_weight)  # validates
    m, r = float(params.margin), float(params.pos_weight)
    dtype = input.dtype
    z = input.to(compute_dtype(input))
    xp = namespace(z)
    y, _ = binary_target(target, input, z.dtype)

    def elements(zz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f1, g1 = focal_branch(zz, 0.0, xp, "value_grad")
        f0, g0 = ace_negative_branch(zz, m, xp, "value_grad")
        return r * y * f1 + (1 - y) * f0, r * y * g1 + (1 - y) * g0

    return reduce(ValueGrad.apply(z, elements), reduction, dtype)
