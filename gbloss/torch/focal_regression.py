r"""Focal-R (Yang et al., ICML 2021) for PyTorch: the kernel of :func:`gbloss.focal_regression`
(:func:`gbloss.losses.focal_regression.focal_regression_kernel`) on tensors.

The forward pass computes the loss and its analytic derivative in one pass;
the backward pass multiplies the stored derivative. Under
``create_graph=True`` the derivative is recomputed by a function whose own
backward is the analytic (exact) Hessian, so ``torch.autograd`` second
derivatives equal ``Loss.gradient_hessian(hessian="exact")``. Autograd of the
authors' formula is not used: at ``e = 0`` it forms ``0 * inf`` for
``gamma < 1`` (a NaN gradient) where the true gradient is 0.
"""

from __future__ import annotations

from typing import Any

import torch

from ..losses.focal_regression import KINDS, focal_regression_kernel
from ._common import (
    XP_TRACEABLE,
    check_nonnegative,
    check_positive,
    check_reduction,
    compute_dtype,
    reduce,
)

__all__ = ["focal_regression_loss"]


def _kernel(z: torch.Tensor, y: torch.Tensor, params: dict, mode: str) -> tuple[Any, ...]:
    return focal_regression_kernel(y, None, z, XP_TRACEABLE, mode=mode, hessian="exact",
                                   **params)


class _Slope(torch.autograd.Function):
    """``d l / d z`` per element; backward = the exact second derivative."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, params: dict) -> torch.Tensor:
        ctx.save_for_backward(z, y)
        ctx.params = params
        return _kernel(z, y, params, "value_grad")[1]

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        z, y = ctx.saved_tensors
        _, h = _kernel(z, y, ctx.params, "grad_hess")
        gz = g * h
        return gz, -gz if ctx.needs_input_grad[1] else None, None


class _FocalR(torch.autograd.Function):
    """Focal-R per element; backward = the stored analytic derivative."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, params: dict) -> torch.Tensor:
        value, slope = _kernel(z, y, params, "value_grad")
        ctx.save_for_backward(z, y, slope)
        ctx.params = params
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        z, y, slope = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a slope whose derivative is the Hessian
            slope = _Slope.apply(z, y, ctx.params)
        gz = g * slope
        return gz, -gz if ctx.needs_input_grad[1] else None, None


def focal_regression_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    kind: str = "mse",
    beta: float = 0.2,
    gamma: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Focal-R of predictions against targets, elementwise.

    .. math::

        \ell = |e|^p \big(2\sigma(\beta |e|) - 1\big)^\gamma, \qquad e = \text{input} - \text{target},
        \quad p = 2 \ (\text{"mse"}), \ 1 \ (\text{"l1"})

    The authors' ``weighted_focal_mse_loss`` / ``weighted_focal_l1_loss``
    (``activate='sigmoid'``, YyzHarry/imbalanced-regression ``loss.py``):
    with ``weight`` each element is multiplied by it and ``"mean"`` averages
    the products over the elements, as theirs. The per-element values are
    those of :func:`gbloss.focal_regression` (the same kernel); with weights
    of mean 1 (as :func:`gbloss.lds_weights` returns) ``"mean"`` equals
    ``Loss.loss``.

    Parameters
    ----------
    input, target : Tensor of the same shape
        Predictions and targets. A target that requires grad gets its
        gradient (``-dl/dinput``).
    weight : Tensor, optional
        Per-element weights broadcastable to ``input`` (e.g. LDS weights of
        shape ``(N,)`` or ``(N, 1)``).
    kind : {"mse", "l1"}
    beta : float > 0
    gamma : float >= 0
    reduction : {"mean", "sum", "none"}

    References
    ----------
    Y. Yang et al., "Delving into Deep Imbalanced Regression", ICML 2021,
    arXiv:2102.09554.
    """
    check_reduction(reduction)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    params = {"kind": kind, "beta": check_positive("beta", beta),
              "gamma": check_nonnegative("gamma", gamma)}
    dtype = input.dtype
    cdtype = compute_dtype(input)
    if not isinstance(target, torch.Tensor) or target.shape != input.shape:
        raise ValueError(f"target must be a tensor of the input's shape {tuple(input.shape)}")
    loss = _FocalR.apply(input.to(cdtype), target.to(cdtype), params)
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            weight = torch.as_tensor(weight)
        loss = loss * weight.to(device=loss.device, dtype=cdtype).expand_as(loss)
    return reduce(loss, reduction, dtype)
