r"""ACB-MSE (automatic class-balanced MSE, the ``acb-mse`` package) for PyTorch: the kernel
of :func:`gbloss.acb_mse` (:func:`gbloss.losses.acb_mse.acb_kernel`) with the batch as its
training set."""

from __future__ import annotations

import torch

from ..losses.acb_mse import acb_kernel
from ._common import check_nonnegative, check_reduction, compute_dtype, namespace, reduce

__all__ = ["acb_mse_loss"]


def acb_mse_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    zero_weight: float = 1.0,
    nonzero_weight: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ACB-MSE (automatic class-balanced MSE) of a batch.

    .. math::

        L = A \operatorname{mean}_{y_i = 0} (\hat y_i - y_i)^2
          + B \operatorname{mean}_{y_i \ne 0} (\hat y_i - y_i)^2

    over every element of the batch (as the ``acb-mse`` package's ``ACBLoss``;
    a class with no element contributes 0). Per element
    ``l_i = c_k (n / N_k) (\hat y_i - y_i)^2`` with ``N_k`` the batch's count of
    class ``k`` and ``n`` its size: the per-row loss of :func:`gbloss.acb_mse`
    (the same kernel) with the batch as its training set, so ``"mean"`` is
    ``L`` (= ``gbloss.acb_mse(A, B).loss(y, z)`` on the batch), ``"sum"`` is
    ``n L`` and ``"none"`` returns ``l`` in the shape of ``input``.

    Parameters
    ----------
    input : Tensor
        Predictions (any shape).
    target : Tensor, same shape
        Targets; the classes are ``target == 0`` (exactly) and the rest. A
        target that requires grad gets the gradient of ``L`` with the classes
        held fixed (as autograd of the package's loss).
    zero_weight, nonzero_weight : float >= 0, default 1
        A and B (``zero_weighting``, ``nonzero_weighting`` in ``acb-mse``).
    reduction : {"mean", "sum", "none"}
        An empty batch gives 0 (as the package), with a gradient path.

    References
    ----------
    The ``acb-mse`` package (PyPI 1.0.6, Adillwma/ACB-MSE).
    """
    check_reduction(reduction)
    a, b = check_nonnegative("zero_weight", zero_weight), \
        check_nonnegative("nonzero_weight", nonzero_weight)
    dtype = input.dtype
    cdtype = compute_dtype(input)
    if not isinstance(target, torch.Tensor) or target.shape != input.shape:
        raise ValueError(f"target must be a tensor of the input's shape {tuple(input.shape)}")
    z = input.to(cdtype).reshape(-1)
    y = target.to(cdtype).reshape(-1)
    n = z.shape[0]
    n0 = (y == 0).sum().to(cdtype)
    n1 = n - n0
    # factor_k = weight_k * n / N_k (0 for an empty class), as ACBMSELoss._fit_stats
    f0 = torch.where(n0 > 0, a * n / n0.clamp(min=1), torch.zeros_like(n0))
    f1 = torch.where(n1 > 0, b * n / n1.clamp(min=1), torch.zeros_like(n1))
    (loss,) = acb_kernel(y, None, z, namespace(z), factors=(f0, f1), classes=None,
                         mode="value", hessian="exact")
    if reduction == "mean" and n == 0:  # no terms: 0 (their sum), as the package
        reduction = "sum"
    return reduce(loss.reshape(input.shape), reduction, dtype)
