r"""PolyLoss for PyTorch (Leng et al. 2022): Poly-1 cross-entropy and focal loss.

The forward pass evaluates the boosting loss's math in ``mode="value_grad"``
(:func:`gbloss.losses.poly.poly_branch` per element,
:func:`gbloss.losses.poly.poly_softmax_kernel` per row) and stores the
analytic gradient; backward multiplies it (first derivatives only).
"""

from __future__ import annotations

import torch

from ..losses.poly import PolyLoss, poly_branch, poly_softmax_kernel
from ._common import ValueGrad, binary_target, check_reduction, compute_dtype, namespace, reduce
from .asymmetric import class_index_rows

__all__ = ["poly_loss"]


def poly_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    epsilon: float = 1.0,
    gamma: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Poly-1 loss on logits, the math of :func:`gbloss.poly`:
    ``-(1 - p_t)^gamma log p_t + epsilon (1 - p_t)^(gamma + 1)``.

    Class indices ``(N,)`` with ``(N, C)`` logits: softmax, one value per row
    (jahongir7174/PolyLoss's ``PolyLoss(epsilon)`` is
    ``poly_loss(x, t, epsilon=epsilon)``; its default is ``epsilon=2``). A
    target shaped like ``input``: a sigmoid per element, ``"mean"`` over the
    elements. ``epsilon >= -1``.

    References
    ----------
    Z. Leng et al., "PolyLoss: A Polynomial Expansion Perspective of
    Classification Loss Functions", ICLR 2022, arXiv:2204.12511.
    """
    check_reduction(reduction)
    params = PolyLoss(epsilon, gamma)  # validates
    eps, g = float(params.epsilon), float(params.gamma)
    dtype = input.dtype
    z = input.to(compute_dtype(input))
    xp = namespace(z)
    if class_index_rows(input, target):
        t = target.to(torch.int64)

        def rows(zz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return poly_softmax_kernel(t, None, zz, xp, gamma=g, epsilon=eps, mode="value_grad",
                                       hessian="exact", scale=1.0)

        return reduce(ValueGrad.apply(z, rows), reduction, dtype)
    y, _ = binary_target(target, input, z.dtype)

    def elements(zz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f1, g1 = poly_branch(zz, g, eps, xp, "value_grad")
        f0, g0 = poly_branch(-zz, g, eps, xp, "value_grad")
        return y * f1 + (1 - y) * f0, y * g1 - (1 - y) * g0

    return reduce(ValueGrad.apply(z, elements), reduction, dtype)
