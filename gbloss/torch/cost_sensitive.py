r"""The expected misclassification cost for PyTorch (the math of :func:`gbloss.cost_sensitive`).

The loss is :func:`gbloss.losses.cost_sensitive.binary_expected_cost` (a ``2 x 2``
matrix: a sigmoid per element) or
:func:`~gbloss.losses.cost_sensitive.softmax_expected_cost` (a ``k x k`` matrix:
softmax over dimension 1) evaluated on torch tensors, in a namespace that
differentiates ``|z|`` as ``sign(z)`` with ``sign(0) = +1``; autograd of that
code is the exact gradient (and, with ``create_graph=True``, the exact
Hessian), the gradient the boosters get from ``Loss.gradient_hessian``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..losses.cost_sensitive import (
    binary_expected_cost,
    check_cost_matrix,
    softmax_expected_cost,
)
from ._common import (
    XP_EXACT_ABS,
    binary_target,
    check_class_index_shapes,
    check_reduction,
    compiling,
    compute_dtype,
    reduce,
)

__all__ = ["cost_sensitive_loss"]


def cost_matrix_tensor(cost_matrix: Any) -> torch.Tensor:
    """``cost_matrix`` checked (:func:`gbloss.losses.cost_sensitive.check_cost_matrix`), as a
    float64 tensor (a tensor keeps its device; it is checked on the host, outside
    torch.compile)."""
    if isinstance(cost_matrix, torch.Tensor):
        if not compiling():
            check_cost_matrix(cost_matrix.detach().cpu().double().numpy())
        return cost_matrix.detach().to(torch.float64)
    return torch.as_tensor(check_cost_matrix(cost_matrix))


def cost_sensitive_loss(input: torch.Tensor, target: torch.Tensor, cost_matrix: Any, *,
                        reduction: str = "mean") -> torch.Tensor:
    r"""Expected misclassification cost on logits.

    .. math::

        \ell = \sum_k C_{y k}\, p_k

    ``C[i, j]``: the cost of predicting ``j`` when the truth is ``i``.

    * ``2 x 2`` matrix: binary, a sigmoid per element; ``input`` of any shape,
      ``target`` of the same shape in [0, 1] (soft labels give the expected
      cost under a Bernoulli(y) label), ``l = C[y, 0] (1 - p) + C[y, 1] p``.
    * ``k x k`` matrix, ``k > 2``: softmax over dimension 1 of ``(N, k, d1, ...)``
      logits (an unbatched ``(k,)`` too), integer ``target`` ``(N, d1, ...)``.

    Values equal ``gbloss.cost_sensitive(cost_matrix).loss`` on the same rows
    (``"mean"``) and the gradient its ``gradient_hessian`` divided by the
    number of rows.

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor
        As above; no gradient flows to it.
    cost_matrix : array or Tensor (k, k)
        Finite, non-negative, not constant.
    reduction : {"mean", "sum", "none"}
        Over the elements (binary) or the rows ``(N, d1, ...)`` (multiclass).

    References
    ----------
    C. Elkan, "The Foundations of Cost-Sensitive Learning", IJCAI 2001.

    Examples
    --------
    >>> import torch
    >>> from gbloss.torch.functional import cost_sensitive_loss
    >>> z = torch.zeros(2, requires_grad=True)
    >>> cost_sensitive_loss(z, torch.tensor([0.0, 1.0]), [[0.0, 1.0], [10.0, 0.0]])
    tensor(2.7500, grad_fn=<MeanBackward0>)
    """
    check_reduction(reduction)
    cost = cost_matrix_tensor(cost_matrix)
    k = int(cost.shape[0])
    dtype = input.dtype
    cdtype = compute_dtype(input)
    if k == 2:
        y, _ = binary_target(target, input, cdtype)
        z = input.to(cdtype)
        c = cost.cpu().numpy() if cost.device.type == "cpu" else np.asarray(cost.tolist())
        (loss,) = binary_expected_cost(y.detach(), z, c, XP_EXACT_ABS, "value")
        return reduce(loss, reduction, dtype)
    check_class_index_shapes(input, target)
    if input.ndim == 1:  # unbatched (k,)
        input, target = input[None], target.reshape(1)
    if input.shape[1] != k:
        raise ValueError(f"cost_matrix is {k} x {k} but input has {input.shape[1]} classes "
                         f"(dimension 1)")
    out_shape = target.shape
    z = torch.movedim(input.to(cdtype), 1, -1).reshape(-1, k)
    t = target.reshape(-1).to(torch.int64)
    if t.device.type == "cpu" and not compiling() and t.numel() \
            and bool(((t < 0) | (t >= k)).any()):
        raise ValueError(f"target has class indices outside [0, {k})")
    (loss,) = softmax_expected_cost(t, z, cost.to(device=z.device, dtype=cdtype), XP_EXACT_ABS,
                                    "value")
    return reduce(loss.reshape(out_shape), reduction, dtype)
