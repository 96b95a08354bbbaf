r"""Focal-loss family for PyTorch: sigmoid and softmax focal loss, cross-entropy, and
:func:`focal_loss`, which takes the task from the target.

The sigmoid losses evaluate the boosting kernel's per-element math
(:func:`gbloss.losses.focal.focal_branch`, or its fused CPU kernel
:mod:`gbloss.kernels.fused`) inside an ``autograd.Function`` whose backward
multiplies the stored analytic gradient; the softmax focal loss is built on
``F.log_softmax`` with an exact backward, term by term
:func:`gbloss.losses.focal.softmax_focal`; cross-entropy dispatches to
``F.cross_entropy``. Conventions: :mod:`gbloss.torch.functional`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as TF

from .._core.special import int_power
from ..kernels import fused as _fused
from ..losses.focal import focal_branch, softmax_focal
from ._common import (
    REDUCTIONS,
    ClassRows,
    binary_target,
    check_class_index_shapes,
    check_class_vector,
    check_gamma,
    check_nonnegative,
    check_reduction,
    check_scalar_alpha,
    class_index_target,
    compiling,
    compute_dtype,
    is_scalar,
    namespace,
    reduce,
    run_blocked,
    upstream,
)

#: dtypes that F.cross_entropy computes in (half precision is computed in float32)
_FULL = (torch.float32, torch.float64)

__all__ = ["cross_entropy", "focal_loss", "sigmoid_focal_loss", "softmax_focal_loss"]


# ------------------------------------------------------------------ sigmoid family
def _sigmoid_math(z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float, hard: bool,
                  mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Elementwise ``l = c1 y f(z) + c0 (1 - y) f(-z)`` with ``f`` = :func:`focal_branch`.

    The composition of :func:`gbloss.losses.focal.sigmoid_kernel`, kept
    elementwise (the boosting kernel sums multi-label rows). ``mode="value_grad"``
    returns ``(l, dl/dz)``; ``mode="grad_hess"`` returns ``(dl/dz, d2l/dz2)``.
    ``c0 = c1 = None`` means unit factors.
    """
    xp = namespace(z)
    if hard:  # 0/1 labels: one branch at s z, s = +-1
        s = 2 * y - 1
        c = None if c0 is None else c1 * y + c0 * (1 - y)
        if mode == "value_grad":
            f, d1 = focal_branch(s * z, gamma, xp, mode)
            g = s * d1
            return (f, g) if c is None else (c * f, c * g)
        d1, d2, _ = focal_branch(s * z, gamma, xp, mode)
        g = s * d1
        return (g, d2) if c is None else (c * g, c * d2)
    k1 = y if c1 is None else c1 * y
    k0 = (1 - y) if c0 is None else c0 * (1 - y)
    if mode == "value_grad":
        f1, g1 = focal_branch(z, gamma, xp, mode)
        f0, g0 = focal_branch(-z, gamma, xp, mode)
        return k1 * f1 + k0 * f0, k1 * g1 - k0 * g0
    a1, b1, _ = focal_branch(z, gamma, xp, mode)
    a0, b0, _ = focal_branch(-z, gamma, xp, mode)
    return k1 * a1 - k0 * a0, k1 * b1 + k0 * b0


def _sigmoid_fused(z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float,
                   hard: bool, mode: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    """:func:`_sigmoid_math` by the fused CPU kernel of :mod:`gbloss.kernels.fused` (the one the
    boosting objective uses), or None where it does not serve the input: another
    device or dtype, a small input, per-channel factors beyond (N, C), torch.compile."""
    dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(z.dtype)
    if (dtype is None or z.device.type != "cpu" or compiling()
            or not _fused.enabled(np, dtype, z.numel())):
        return None
    factors: list[Any] = [1.0 if c is None else c for c in (c0, c1)]
    shape: tuple[int, ...]
    if all(not isinstance(c, torch.Tensor) or c.ndim == 0 for c in factors):
        factors = [float(c) for c in factors]
        shape = (-1,)
    elif z.ndim == 2 and all(c.shape == (z.shape[1],) for c in factors):
        factors = [c.detach().cpu().numpy() for c in factors]
        shape = tuple(z.shape)
    else:
        return None
    zn, yn = (t.detach().contiguous().reshape(shape).numpy() for t in (z, y))
    out = _fused.sigmoid_focal(yn, None, zn, np, gamma=gamma, c0=factors[0], c1=factors[1],
                               hard=hard, mode=mode, hessian="exact",
                               n_threads=torch.get_num_threads())
    a, b = (torch.from_numpy(o).reshape(z.shape) for o in out)
    return a, b


def _sigmoid_blocked(z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float,
                     hard: bool, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_sigmoid_math` on cache-sized blocks (flat, unless the factors are per channel),
    or in the fused CPU kernel where it applies."""
    fused = _sigmoid_fused(z, y, c0, c1, gamma, hard, mode)
    if fused is not None:
        return fused

    def fn(zb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _sigmoid_math(zb, yb, c0, c1, gamma, hard, mode)

    if isinstance(c0, torch.Tensor) and c0.ndim:  # (C, 1, ...) factors: blocks of rows
        a, b = run_blocked(fn, (z, y))
        return a, b
    a, b = run_blocked(fn, (z.reshape(-1), y.reshape(-1)))
    return a.reshape(z.shape), b.reshape(z.shape)


def _save(ctx: Any, tensors: tuple[torch.Tensor, ...], c0: Any, c1: Any, gamma: float,
          hard: bool) -> None:
    """Save ``tensors`` and the loss's parameters (tensor factors by ``save_for_backward``)."""
    factor_tensors = isinstance(c0, torch.Tensor)
    ctx.save_for_backward(*tensors, *((c0, c1) if factor_tensors else ()))
    ctx.params = (len(tensors), None if factor_tensors else (c0, c1), gamma, hard)


def _restore(ctx: Any) -> tuple[tuple[torch.Tensor, ...], tuple[Any, Any, float, bool]]:
    """``(tensors, (c0, c1, gamma, hard))`` as :func:`_save` stored them."""
    n, floats, gamma, hard = ctx.params
    saved = ctx.saved_tensors
    c0, c1 = saved[n:] if floats is None else floats
    return saved[:n], (c0, c1, gamma, hard)


def _label_slope(fn: type[torch.autograd.Function], z: torch.Tensor, c0: Any, c1: Any,
                 gamma: float) -> torch.Tensor:
    """``h(z, 1) - h(z, 0)`` with ``h = fn`` (the loss, or its gradient in ``z``): both are
    affine in the label ``y``, so this is their exact derivative in ``y``."""
    return (fn.apply(z, torch.ones_like(z), c0, c1, gamma, True)
            - fn.apply(z, torch.zeros_like(z), c0, c1, gamma, True))


class _SigmoidFocal(torch.autograd.Function):
    """Per-element sigmoid focal loss. Backward: the stored analytic gradient in ``z``; in a
    target that requires grad, :func:`_label_slope`."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float,
                hard: bool) -> torch.Tensor:
        value, grad = _sigmoid_blocked(z, y, c0, c1, gamma, hard, "value_grad")
        _save(ctx, (z, y, grad), c0, c1, gamma, hard)
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        (z, y, grad), (c0, c1, gamma, hard) = _restore(ctx)
        gz = gy = None
        if ctx.needs_input_grad[0]:
            if torch.is_grad_enabled():  # create_graph=True: a gradient that can be differentiated
                grad = _SigmoidFocalGrad.apply(z, y, c0, c1, gamma, hard)
            gz = upstream(g) * grad
        if ctx.needs_input_grad[1]:
            gy = g * _label_slope(_SigmoidFocal, z, c0, c1, gamma)
        return gz, gy, None, None, None, None


class _SigmoidFocalGrad(torch.autograd.Function):
    """The gradient of :class:`_SigmoidFocal`, whose derivatives are the analytic Hessian
    (in ``z``) and :func:`_label_slope` (in ``y``)."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float,
                hard: bool) -> torch.Tensor:
        grad, hess = _sigmoid_blocked(z, y, c0, c1, gamma, hard, "grad_hess")
        _save(ctx, (z, hess), c0, c1, gamma, hard)
        return grad

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        (z, hess), (c0, c1, gamma, _) = _restore(ctx)
        gy = g * _label_slope(_SigmoidFocalGrad, z, c0, c1, gamma) \
            if ctx.needs_input_grad[1] else None
        return g * hess, gy, None, None, None, None


def _sigmoid_factors(alpha: float | None, weight: Any, z: torch.Tensor) -> tuple[Any, Any]:
    """``(c0, c1)``: the negative- and positive-class factors ``alpha_t * weight_t``."""
    if alpha is None and weight is None:
        return None, None
    a0, a1 = (1.0, 1.0) if alpha is None else (1.0 - alpha, alpha)
    if weight is None:
        return a0, a1
    if not isinstance(weight, torch.Tensor):
        weight = torch.as_tensor(weight, dtype=z.dtype, device=z.device)
    weight = weight.to(device=z.device, dtype=z.dtype)
    if weight.shape == (2,):
        w0, w1 = weight[0], weight[1]
    elif weight.ndim == 2 and weight.shape[1] == 2 and z.ndim >= 2 \
            and weight.shape[0] == z.shape[1]:
        trail = (1,) * (z.ndim - 2)
        w0 = weight[:, 0].reshape(weight.shape[0], *trail)
        w1 = weight[:, 1].reshape(weight.shape[0], *trail)
    else:
        raise ValueError(
            "weight must have shape (2,) ([negative, positive]) or (C, 2) with C = input.shape[1]; "
            f"got {tuple(weight.shape)} for input of shape {tuple(z.shape)}"
        )
    return a0 * w0, a1 * w1



def sigmoid_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary and multi-label focal loss on logits (a sigmoid per element).

    .. math::

        \ell = -c_1\, y\, (1 - p)^\gamma \log p \;-\; c_0\, (1 - y)\, p^\gamma \log(1 - p),
        \qquad p = \sigma(z)

    with ``c_1 = alpha * weight[..., 1]`` and ``c_0 = (1 - alpha) * weight[..., 0]``
    (factors left out are 1). Soft labels ``y`` in [0, 1] give the focal loss
    expected under a Bernoulli(y) label, as kornia's
    ``binary_focal_loss_with_logits``; on 0/1 labels this is
    ``torchvision.ops.sigmoid_focal_loss``. ``gamma=0`` is class-weighted binary
    cross-entropy. The same math as :func:`gbloss.focal` (binary, multi-label).

    Parameters
    ----------
    input : Tensor of any shape
        Logits.
    target : Tensor, same shape
        Labels in [0, 1] (float, integer or bool). A float target that requires
        grad gets its exact gradient ``l(z; y=1) - l(z; y=0)`` (the loss is affine
        in ``y``), second derivatives included.
    gamma : float >= 0, default 2
    alpha : float in [0, 1] or None, default None
        Weight of the positive class (negatives get ``1 - alpha``).
        torchvision's default is 0.25; its ``alpha=-1`` is ``alpha=None`` here.
    weight : Tensor of shape (2,) or (C, 2), optional
        Class weights ``[negative, positive]``, or one pair per channel
        ``C = input.shape[1]``; multiply ``alpha``.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over all elements (as torchvision and
        ``BCEWithLogitsLoss``); ``"none"`` returns the shape of ``input``.

    Returns
    -------
    Tensor
        In the dtype of ``input``.

    Notes
    -----
    Finite for every finite logit (log-space softplus); the gradient is the
    boosting objective's analytic one. torchvision's formula takes
    ``(1 - p_t) ** gamma`` from a float32 sigmoid, which saturates: for
    ``|z| > 17`` it yields 0 instead of a tiny positive loss and gradient, and
    for ``gamma < 1`` its gradient at saturation is NaN; gbloss's is not.

    References
    ----------
    T.-Y. Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, arXiv:1708.02002.

    Examples
    --------
    >>> import torch
    >>> from gbloss.torch.functional import sigmoid_focal_loss
    >>> z = torch.tensor([2.0, -1.0, 0.5])
    >>> y = torch.tensor([1.0, 0.0, 0.0])
    >>> sigmoid_focal_loss(z, y, gamma=2.0, alpha=0.25, reduction="sum").shape
    torch.Size([])
    """
    check_reduction(reduction)
    gamma = check_gamma(gamma)
    alpha = check_scalar_alpha(alpha)
    dtype = input.dtype
    cdtype = compute_dtype(input)
    y, hard = binary_target(target, input, cdtype)
    z = input.to(cdtype)
    c0, c1 = _sigmoid_factors(alpha, weight, z)
    loss = _SigmoidFocal.apply(z, y, c0, c1, gamma, hard)
    return reduce(loss, reduction, dtype)


# ------------------------------------------------------------------ softmax family
def _focal_rows(log_pt: torch.Tensor, q: torch.Tensor, gamma: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per element ``(l, G1)`` of the softmax focal loss from ``log p_t`` and ``q = 1 - p_t``.

    The row part of :func:`gbloss.losses.focal.softmax_focal`, term by term:
    ``log u = log1p(-q)`` while ``q < 1/2`` (else the log-softmax entry),
    ``l = -q^gamma log u`` and ``G1 = q^gamma (gamma u log(u) / q - 1)``, so that
    the gradient is ``G1 ([k = t] - p_k)``. Finite for every ``gamma >= 0``
    (``log(u) / q -> -1`` as ``q -> 0``).
    """
    small = q < 0.5
    log_u = torch.where(small, torch.log1p(-torch.where(small, q, 0.0)), log_pt)
    if gamma == 0:
        return -log_u, torch.full_like(q, -1.0)
    has_q = q > 0
    qg = int_power(q, gamma, torch)
    if qg is None:
        qg = torch.where(has_q, torch.exp(gamma * torch.log(torch.where(has_q, q, 1.0))), 0.0)
    rho = torch.where(has_q, log_u / torch.where(has_q, q, 1.0), -1.0)
    return -qg * log_u, qg * (gamma * torch.exp(log_u) * rho - 1)


def _softmax_fused(z: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None, gamma: float
                   ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Row losses and gradient of (N, C) logits by the fused CPU kernel of
    :mod:`gbloss.kernels.fused` (the boosting objective's), or None where it does not
    serve the input: another device, dtype or shape, a small input, torch.compile."""
    dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(z.dtype)
    if (dtype is None or z.ndim != 2 or z.device.type != "cpu" or compiling()
            or not _fused.enabled(np, dtype, z.numel())):
        return None
    w = None if c is None else c.detach().contiguous().numpy()  # per-row factors
    value, grad = _fused.softmax_focal(t.numpy(), w, z.detach().contiguous().numpy(), np,
                                       gamma=gamma, factors=None, mode="value_grad",
                                       hessian="exact", scale=1.0,
                                       n_threads=torch.get_num_threads())
    return torch.from_numpy(value), torch.from_numpy(grad)


class _SoftmaxFocal(torch.autograd.Function):
    """Softmax focal loss per element of ``(N, C, d1, ...)`` logits, from fused torch kernels.

    Forward: ``F.log_softmax`` over dimension 1, ``p = exp`` of it in place,
    ``q = sum_{k != t} p_k`` (the true class zeroed, so ``q`` keeps its relative
    accuracy as ``p_t -> 1``) and :func:`_focal_rows`. Backward: the exact
    gradient ``G1 ([k = t] - p_k)`` from the stored ``p`` (with ``q`` at the true
    class). Under ``create_graph=True`` the gradient is recomputed by
    :func:`gbloss.losses.focal.softmax_focal` with autograd recording, so
    second derivatives are those of the boosting definition.
    """

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None,
                gamma: float) -> torch.Tensor:
        ctx.gamma = gamma
        fused = _softmax_fused(z, t, c, gamma)
        if fused is not None:  # the fused CPU kernel: value and gradient in one pass
            value, grad = fused
            ctx.save_for_backward(z, t, c, grad)
            return value
        tt = t.unsqueeze(1)
        logp = torch.log_softmax(z, 1)
        log_pt = logp.gather(1, tt).squeeze(1)
        p = logp.exp_()  # logp is not needed any more: p takes its memory
        zeros = torch.zeros_like(log_pt).unsqueeze(1)
        p.scatter_(1, tt, zeros)  # (a tensor source: scatter_ of a Python scalar is slower)
        q = p.sum(1)
        value, g1 = _focal_rows(log_pt, q, gamma)
        if c is not None:
            value, g1 = value * c, g1 * c
        ctx.save_for_backward(z, t, c, p, q, g1)
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        z, t, c, *saved = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: autograd records the definition
            n_classes = z.shape[1]
            z2 = torch.movedim(z, 1, -1).reshape(-1, n_classes)
            _, grad = softmax_focal(t.reshape(-1), z2, ctx.gamma, namespace(z), "value_grad")
            if c is not None:
                grad = grad * c.reshape(-1, 1)
            grad = torch.movedim(grad.reshape(*t.shape, n_classes), -1, 1)
            return g.unsqueeze(1) * grad, None, None, None
        if len(saved) == 1:  # from the fused kernel: the gradient itself
            return upstream(g).reshape(-1, 1) * saved[0], None, None, None
        p, q, g1 = saved
        gr = upstream(g) * g1
        grad = p * (-gr).unsqueeze(1)
        grad.scatter_(1, t.unsqueeze(1), (gr * q).unsqueeze(1))
        return grad, None, None, None


def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multiclass focal loss on logits (softmax over dimension 1).

    .. math::

        \ell_i = -\alpha_{t_i}\, w_{t_i}\, (1 - p_{i t_i})^\gamma \log p_{i t_i},
        \qquad p_i = \operatorname{softmax}(z_i)

    The same math as :func:`gbloss.focal` on multiclass data; ``gamma=0`` is
    :func:`cross_entropy` (and is computed by it: ``F.cross_entropy``).

    Parameters
    ----------
    input : Tensor (N, C, d1, ...) or (C,)
        Logits.
    target : integer Tensor (N, d1, ...) or ()
        Class indices in ``[0, C)`` or ``ignore_index``.
    gamma : float >= 0, default 2
    alpha : float, Tensor (C,) or None
        Per-class factor (a float scales every class alike).
    weight : Tensor (C,), optional
        Class weights, as in ``F.cross_entropy``.
    ignore_index : int, default -100
        Targets equal to it contribute 0 and are left out of the mean.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is ``sum_i l_i / sum_i weight[t_i]`` over the non-ignored
        elements (the count of them without ``weight``), as ``F.cross_entropy``;
        ``alpha`` stays in the numerator only. ``"none"`` has the shape of
        ``target``.

    Returns
    -------
    Tensor
        In the dtype of ``input``.

    Notes
    -----
    Computed from ``F.log_softmax`` (max-subtracted: finite for every finite
    logit) in the input's layout; ``1 - p_t`` is summed from the other
    classes, never formed by cancellation, and ``log p_t`` is ``log1p(-q)``
    while ``q < 1/2``, so values and gradients keep their relative accuracy
    at confident logits and are finite for ``gamma < 1``. Equal to the boosting
    definition (:func:`gbloss.losses.focal.softmax_focal`) to a few ulp, as
    the tests check; its double backward is that definition's.

    References
    ----------
    T.-Y. Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, arXiv:1708.02002.

    Examples
    --------
    >>> import torch
    >>> from gbloss.torch.functional import softmax_focal_loss
    >>> z = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> softmax_focal_loss(z, torch.tensor([0, 2]), gamma=2.0).shape
    torch.Size([])
    """
    check_reduction(reduction)
    gamma = check_gamma(gamma)
    if gamma == 0 and (alpha is None or is_scalar(alpha)):
        scale = 1.0 if alpha is None else check_nonnegative("alpha", alpha)
        out = cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction)
        return out if scale == 1.0 else out * scale
    rows = ClassRows(input, target, ignore_index, weight)
    loss = _SoftmaxFocal.apply(rows.z, rows.t, rows.factor(alpha), gamma)
    return rows.reduce(loss, reduction)



def cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Class-weighted cross-entropy on logits, with class-index targets.

    .. math::

        \ell_i = -w_{t_i} \log \operatorname{softmax}(z_i)_{t_i}

    The ``gamma = 0`` member of :func:`softmax_focal_loss` and the math of
    :func:`gbloss.cross_entropy`. **Fast kernel dispatched, tested equal to
    the one definition**: it runs ``torch.nn.functional.cross_entropy`` (one
    fused log-softmax and NLL, forward and backward), which computes this
    definition; the tests check its values, gradients and Hessian diagonals
    against ``Loss.gradient_hessian`` of :func:`gbloss.cross_entropy`. The one
    numerical difference: ``F.cross_entropy`` forms ``log p_t`` and
    ``p_t - 1`` with an absolute error of about one ulp of 1, so a loss below
    the machine epsilon (``p_t`` within eps of 1) rounds to 0 where the
    boosting kernel keeps its relative accuracy; no training step notices.

    Integer targets only (``F.cross_entropy``'s class-probability targets
    are not taken); half precision is computed in float32 and returned in the
    input dtype. Parameters as in :func:`softmax_focal_loss`.

    Examples
    --------
    >>> import torch
    >>> from gbloss.torch.functional import cross_entropy
    >>> z = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> t = torch.tensor([0, 2])
    >>> bool(torch.isclose(cross_entropy(z, t), torch.nn.functional.cross_entropy(z, t)))
    True
    """
    if reduction not in REDUCTIONS:
        check_reduction(reduction)
    # Only metadata checks here (a few microseconds): F.cross_entropy validates the data,
    # and its errors are translated below.
    dtype = input.dtype
    half = dtype not in _FULL
    z = input.to(compute_dtype(input)) if half else input
    if not isinstance(target, torch.Tensor) or target.dtype is not torch.int64 \
            or target.ndim != z.ndim - 1:
        check_class_index_shapes(input, target)
        if target.dtype is not torch.int64:  # uint8 masks, int32: F.cross_entropy takes int64
            target = target.to(torch.int64)
    if weight is not None and (not isinstance(weight, torch.Tensor) or weight.dtype is not z.dtype
                               or weight.device != z.device or weight.ndim != 1):
        weight = check_class_vector(weight, "weight", z.shape[0 if z.ndim == 1 else 1], z)
    try:
        out = TF.cross_entropy(z, target, weight, ignore_index=ignore_index, reduction=reduction)
    except (IndexError, RuntimeError, ValueError):
        check_class_index_shapes(input, target)
        if weight is not None:
            check_class_vector(weight, "weight", z.shape[0 if z.ndim == 1 else 1], z)
        class_index_target(input, target, int(ignore_index))  # raises the ValueError
        raise
    return out.to(dtype) if half else out


# ----------------------------------------------------------------------- dispatch
def is_class_index_target(input: torch.Tensor, target: torch.Tensor) -> bool:
    """Whether ``target`` holds class indices for ``input``: an integer tensor with one
    dimension fewer (the class dimension 1). Otherwise the target is per element."""
    return (isinstance(target, torch.Tensor) and not target.is_floating_point()
            and target.dtype != torch.bool and target.ndim == input.ndim - 1)


def focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss with the task taken from the target, as :func:`gbloss.focal` does.

    Integer class indices with one dimension fewer than ``input``: multiclass,
    :func:`softmax_focal_loss`. A target shaped like ``input``: binary or
    multi-label, :func:`sigmoid_focal_loss` (``ignore_index`` unused; ``alpha``
    must be a float or None).
    """
    if is_class_index_target(input, target):
        return softmax_focal_loss(input, target, gamma=gamma, alpha=alpha, weight=weight,
                                  ignore_index=ignore_index, reduction=reduction)
    if isinstance(alpha, torch.Tensor):
        if alpha.ndim:
            raise ValueError("alpha of a binary / multi-label focal loss must be a float or None")
        alpha = float(alpha)
    return sigmoid_focal_loss(input, target, gamma=gamma, alpha=alpha, weight=weight,
                              reduction=reduction)
