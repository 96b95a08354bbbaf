r"""Soft Dice, (focal) Tversky and PointWise Exponential Loss (PEL) for PyTorch, sigmoid link.

All are ratios of sums over a group of elements: one group per sample
(``batch=False``: the sums run over each ``input[i]``) or one group for the
whole batch (``batch=True``). They run the kernels of :func:`gbloss.dice`,
:func:`gbloss.tversky` and :func:`gbloss.pel` (:func:`gbloss.losses.overlap.dice_kernel`,
:func:`~gbloss.losses.overlap.tversky_kernel`, :func:`~gbloss.losses.overlap.pel_kernel`) with the samples as the boosting loss's
groups: the forward pass takes the per-group values (``mode="value"``) and the
exact gradient (``mode="grad_hess"``) and stores the gradient; backward
multiplies it by each group's incoming gradient. Sums run in float64.

Under ``create_graph=True`` the gradient is recomputed by the same kernel with
autograd recording, in a namespace that differentiates ``|z|`` as
``sign(z)`` with ``sign(0) = +1`` (the kernels pair ``|z|`` with the branch
``z >= 0``, so every derivative is the exact one, also at ``z = 0``, where
torch's ``abs`` has slope 0). Second derivatives are then the kernel's exact
ones: the full Hessian within a group, whose diagonal is
``Loss.gradient_hessian(hessian="exact")``. No gradient flows to the labels: a
target that requires grad is refused.
"""

from __future__ import annotations

from typing import Any

import torch

from .._core.groups import Segments
from ..losses.overlap import dice_kernel, pel_kernel, tversky_kernel
from ._common import (
    XP_EXACT_ABS,
    XP_TRACEABLE,
    binary_target,
    check_nonnegative,
    check_positive,
    check_reduction,
    compiling,
    compute_dtype,
    refuse_target_grad,
    upstream,
)

__all__ = ["dice_loss", "pel_loss", "tversky_loss"]


class _GroupValues(Segments):
    """The kernels' group sums (the :class:`gbloss._core.groups.Segments` interface) for
    ``n_groups`` contiguous groups of ``size`` rows (the samples), by reshaping; ``mean``
    returns the per-group vector itself, so ``mode="value"`` gives each group's loss."""

    def __init__(self, n_groups: int, size: int, xp: Any) -> None:
        self.xp, self.ref, self.reduce = xp, None, None  # one machine (ref serves the all-reduce)
        self.n_groups = n_groups
        self.size = size
        self.ptr = None

    def sum(self, x: Any) -> Any:
        return self.xp.astype(x, torch.float64).reshape(self.n_groups, self.size).sum(1)

    def mean(self, v: Any) -> Any:
        return v

    def rows(self, v: Any, dtype: Any) -> Any:
        v = self.xp.astype(v, dtype)
        if self.n_groups == 1:
            return v  # (1,): broadcasts over the rows
        return v.reshape(self.n_groups, 1).expand(self.n_groups, self.size).reshape(-1)


class _Overlap(torch.autograd.Function):
    """Per-group Dice / PEL of flat float rows; backward = stored exact gradient."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None,
                kernel: Any, n_groups: int, params: dict) -> torch.Tensor:
        seg = _GroupValues(n_groups, z.shape[0] // n_groups, XP_TRACEABLE)
        (value,) = kernel(y, w, z, XP_TRACEABLE, seg=seg, mode="value", hessian="exact",
                          **params)
        grad, _ = kernel(y, w, z, XP_TRACEABLE, seg=seg, mode="grad_hess", hessian="exact",
                         **params)
        ctx.save_for_backward(z, y, w, _per_unit(grad, w, n_groups))
        ctx.args = (kernel, n_groups, params)
        return value.to(z.dtype)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        z, y, w, grad = ctx.saved_tensors
        kernel, n_groups, params = ctx.args
        if torch.is_grad_enabled():  # create_graph=True: record the kernel's gradient
            seg = _GroupValues(n_groups, z.shape[0] // n_groups, XP_EXACT_ABS)
            grad, _ = kernel(y, w, z, XP_EXACT_ABS, seg=seg, mode="grad_hess",
                             hessian="exact", **params)
            grad = _per_unit(grad, w, n_groups)
        g = upstream(g)
        if g.ndim:
            grad = (grad.reshape(n_groups, -1) * g.reshape(n_groups, 1)).reshape(-1)
        else:
            grad = g * grad
        return grad, None, None, None, None, None


def _per_unit(grad: torch.Tensor, w: torch.Tensor | None, n_groups: int) -> torch.Tensor:
    """The kernels' gradient is of ``k sum_g L_g`` with ``k = sum(w) / n_groups``: divide it out."""
    if w is None:
        return grad * (n_groups / grad.shape[0])
    k = w.sum() / n_groups
    return torch.where(k > 0, grad / torch.where(k > 0, k, 1.0), 0.0)


def _overlap(name: str, kernel: Any, params: dict, input: torch.Tensor, target: torch.Tensor,
             weight: torch.Tensor | None, batch: bool, reduction: str) -> torch.Tensor:
    check_reduction(reduction)
    refuse_target_grad(target, name)
    dtype = input.dtype
    cdtype = compute_dtype(input)
    if input.ndim == 0 or input.numel() == 0:
        raise ValueError(f"{name}: input must have a batch dimension and at least one element, "
                         f"got shape {tuple(input.shape)}")
    y, _ = binary_target(target, input, cdtype)
    n_groups = 1 if batch else int(input.shape[0])
    z = input.to(cdtype).reshape(-1)
    y = y.reshape(-1)
    w = None
    if weight is not None:
        if not isinstance(weight, torch.Tensor) or weight.shape != input.shape:
            raise ValueError(f"{name}: weight must be a tensor of the input's shape "
                             f"{tuple(input.shape)}")
        w = weight.detach().to(device=z.device, dtype=cdtype).reshape(-1)
        if w.device.type == "cpu" and not compiling() and not bool((w >= 0).all()):
            raise ValueError(f"{name}: weight must be non-negative")
    value = _Overlap.apply(z, y, w, kernel, n_groups, params)
    if reduction == "none":
        out = value if not batch else value.reshape(())
    elif reduction == "sum":
        out = value.sum()
    else:
        out = value.mean()
    return out.to(dtype)


def dice_loss(input: torch.Tensor, target: torch.Tensor, *, smooth: float = 1.0,
              batch: bool = False, weight: torch.Tensor | None = None,
              reduction: str = "mean") -> torch.Tensor:
    r"""Soft Dice loss on logits (a sigmoid per element), per sample or over the batch.

    .. math::

        D_g = 1 - \frac{2 \sum_{i \in g} w_i p_i y_i + s}
            {\sum_{i \in g} w_i p_i + \sum_{i \in g} w_i y_i + s},
        \qquad p = \sigma(z)

    over the groups ``g``: each sample ``input[n]`` (all its elements, every
    channel) with ``batch=False``, the whole batch with ``batch=True``
    (MONAI's ``batch`` argument). The kernel of :func:`gbloss.dice` with the
    samples as its groups, so the values equal ``gbloss.dice(smooth).loss(
    target.ravel(), input.ravel(), group=[input[0].numel()] * N)`` (``"mean"``)
    and the gradient and Hessian diagonal equal its ``gradient_hessian``.
    For one Dice per (sample, channel) pass ``input.flatten(0, 1)`` and the
    target alike.

    Parameters
    ----------
    input : Tensor (N, ...)
        Logits.
    target : Tensor, same shape
        Labels in [0, 1] (soft labels allowed; no gradient flows to them).
    smooth : float >= 0, default 1
        ``s``: keeps samples without positives finite.
    batch : bool, default False
        One group for the whole batch instead of one per sample.
    weight : Tensor, same shape, optional
        Per-element weights (a mask, for example); no gradient.
    reduction : {"mean", "sum", "none"}
        Over the groups; ``"none"`` gives ``(N,)`` (a 0-d tensor with
        ``batch=True``).

    References
    ----------
    F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net", 3DV 2016, arXiv:1606.04797.

    Examples
    --------
    >>> import torch
    >>> from gbloss.torch.functional import dice_loss
    >>> z = torch.tensor([[-30.0, 30.0], [30.0, -30.0]])
    >>> loss = dice_loss(z, torch.tensor([[0.0, 1.0], [1.0, 0.0]]), reduction="none")
    >>> loss.shape, bool(loss.abs().max() < 1e-12)  # one Dice per sample, perfect: 0
    (torch.Size([2]), True)
    """
    smooth = check_nonnegative("smooth", smooth)
    return _overlap("dice_loss", dice_kernel, {"smooth": smooth}, input, target, weight,
                    bool(batch), reduction)


def pel_loss(input: torch.Tensor, target: torch.Tensor, *, alpha: float = 20.0,
             power: float = 3.0, batch: bool = False, weight: torch.Tensor | None = None,
             reduction: str = "mean") -> torch.Tensor:
    r"""PointWise Exponential Loss (PEL) on logits, per sample or over the batch.

    .. math::

        E_c = 1 - \frac{\alpha \sum_i w_i (r_i t_i)^\beta}{\sum_i w_i r_i + \sum_i w_i t_i},
        \qquad L_g = \tfrac12 (E_{fg} + E_{bg})

    with the foreground channel ``(r, t) = (p, y)`` and the background channel
    ``(1 - p, 1 - y)``, ``p = sigmoid(z)``, sums over each group as in
    :func:`dice_loss`. The kernel of :func:`gbloss.pel` (see it for the
    authors' code and how this follows it); values and derivatives equal that
    loss's with the samples as groups. Not bounded below by 0: a perfect
    prediction of a sample with both classes gives ``1 - alpha / 2``.

    Parameters
    ----------
    input, target, batch, weight, reduction
        As in :func:`dice_loss`.
    alpha : float > 0, default 20
    power : float > 0, default 3
        ``beta``.

    References
    ----------
    github.com/bluesky314/PointWise-Exponential-Loss (commit a23a992, loss.py).
    """
    params = {"alpha": check_positive("alpha", alpha), "power": check_positive("power", power)}
    return _overlap("pel_loss", pel_kernel, params, input, target, weight, bool(batch),
                    reduction)


def tversky_loss(input: torch.Tensor, target: torch.Tensor, *, alpha: float = 0.3,
                 beta: float = 0.7, gamma: float = 1.0, smooth: float = 1.0,
                 batch: bool = False, weight: torch.Tensor | None = None,
                 reduction: str = "mean") -> torch.Tensor:
    r"""(Focal) Tversky loss on logits (a sigmoid per element), per sample or over the batch.

    .. math::

        F_g = (1 - TI_g)^\gamma, \qquad
        TI_g = \frac{TP_g + s}{TP_g + \alpha FP_g + \beta FN_g + s}

    with the soft counts ``TP = sum w p y``, ``FP = sum w p (1 - y)``,
    ``FN = sum w (1 - p) y``, ``p = sigmoid(z)``, over the groups of
    :func:`dice_loss` (each sample, or the batch). The kernel of
    :func:`gbloss.tversky` with the samples as its groups: values and
    derivatives equal that loss's. MONAI's ``TverskyLoss(sigmoid=True,
    smooth_nr=s, smooth_dr=s)`` is ``gamma=1`` on ``(N, 1, ...)`` input;
    ``alpha = beta = 1/2``, ``gamma = 1`` is :func:`dice_loss` with ``2 s``.

    Parameters
    ----------
    input, target, batch, weight, reduction
        As in :func:`dice_loss`.
    alpha : float >= 0, default 0.3
        Weight of false positives.
    beta : float >= 0, default 0.7
        Weight of false negatives.
    gamma : float > 0, default 1
        Focal exponent (Abraham and Khan's ``1/gamma``).
    smooth : float >= 0, default 1

    References
    ----------
    S. S. M. Salehi et al., arXiv:1706.05721 (2017); N. Abraham, N. M. Khan,
    arXiv:1810.07842 (2019).
    """
    params = tversky_params(alpha, beta, gamma, smooth)
    return _overlap("tversky_loss", tversky_kernel, params, input, target, weight, bool(batch),
                    reduction)


def tversky_params(alpha: Any, beta: Any, gamma: Any, smooth: Any) -> dict[str, float]:
    """The Tversky parameters checked as :class:`gbloss.TverskyLoss` checks them."""
    params = {"alpha": check_nonnegative("alpha", alpha), "beta": check_nonnegative("beta", beta),
              "gamma": check_positive("gamma", gamma), "smooth": check_nonnegative("smooth", smooth)}
    if params["alpha"] == 0 and params["beta"] == 0:
        raise ValueError("alpha and beta are both 0: the Tversky index would be 1 for every "
                         "prediction")
    return params
