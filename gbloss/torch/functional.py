r"""Functional forms of the gbloss losses for PyTorch (logits in).

One definition
--------------
Each function evaluates the *same* array-API code as the boosting objective
(:func:`gbloss._classification.focal_branch`, the Balanced-MSE mixture
functions of :mod:`gbloss._regression`, the ACB-MSE, Dice and PEL kernels)
on torch tensors, with ``xp = array_api_compat.array_namespace(tensor)``:

* the forward pass calls it in ``mode="value_grad"``, which returns the loss
  and its analytic first derivative in one pass (the derivative the boosters
  get from ``Loss.gradient_hessian``); the backward pass multiplies the stored
  derivative by the incoming gradient. This is 2-4x faster than letting
  autograd trace the value code, stores one tensor instead of a dozen, and is
  exact where autograd of the value code is not: the value code forms
  ``exp(-|z|)``, and autograd's derivative of ``|z|`` at ``z = 0`` is 0, which
  gives a wrong gradient at logits that are exactly 0 (a zero-initialised head).
* ``create_graph=True`` (double backward) is supported: the gradient is then
  recomputed from the same code with autograd recording, and for the
  elementwise sigmoid losses its derivative is the analytic Hessian
  (``mode="grad_hess"``), so ``torch.autograd`` second derivatives equal
  ``Loss.gradient_hessian(hessian="exact")``.

Two losses run fused torch kernels instead, each tested equal to the one
definition (values, gradients and Hessian diagonals against
``Loss.gradient_hessian`` and autograd of an independent definition):

* **fast kernel dispatched, tested equal to the one definition**:
  :func:`cross_entropy` (and :func:`softmax_focal_loss` with ``gamma=0`` and
  no per-class ``alpha``) calls ``torch.nn.functional.cross_entropy``, which
  computes the same definition (to an absolute error of about one ulp of 1:
  see :func:`cross_entropy`);
* :func:`softmax_focal_loss` (and the focal and LDAM terms of LMF and LDAM)
  is built on ``F.log_softmax`` in the input's ``(N, C, d1, ...)`` layout with
  an exact custom backward; its per-element formula is that of
  :func:`~gbloss._classification.softmax_focal` term by term, and under
  ``create_graph=True`` its gradient is recomputed by that function.

The tests check the values against the boosting :class:`gbloss.Loss`, the
derivatives against autograd of an independent torch definition, and the
peers (torchvision's ``sigmoid_focal_loss`` formula, kornia's focal formulas,
``F.cross_entropy``, kaidic's LDAM, the acb-mse package, the Balanced MSE
authors' BMC, BNI and GAI formulas).

Conventions
-----------
* ``input`` holds logits, shaped ``(N, C, d1, ...)`` (or ``(N,)`` / any shape
  for the elementwise sigmoid losses); float16, bfloat16, float32 and float64.
  Half precision is computed in float32 and the result returned in the input
  dtype.
* ``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"``; anything else
  raises ValueError.
* Class-index losses follow ``F.cross_entropy``: ``target`` is an integer
  tensor ``(N, d1, ...)``; ``ignore_index`` entries contribute 0 and are left
  out of the mean; with class weights ``"mean"`` divides by
  ``sum_i weight[target_i]``. :meth:`gbloss.Loss.loss` divides by the sum of the
  *sample* weights instead (class weights stay in the numerator), so with
  class weights the two means differ by the factor
  ``n / sum_i weight[target_i]``.
* Elementwise sigmoid losses follow ``torchvision.ops.sigmoid_focal_loss`` and
  ``BCEWithLogitsLoss``: ``"mean"`` averages over every element. For
  multi-label ``(N, C)`` input :meth:`gbloss.Loss.loss` averages the per-row sum
  over the ``C`` columns, i.e. it is ``C`` times this mean.
* Balanced MSE (:func:`bmc_loss`, :func:`bni_loss`, :func:`gai_loss`) takes
  predictions, not logits; ``"mean"`` averages the rows, as the authors' code.
  Dice and PEL (:func:`dice_loss`, :func:`pel_loss`) reduce over groups (one
  per sample, or the batch).
* No device is hard-coded: every tensor is created on the input's device.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as TF

from ..kernels import fused as _fused
from ..losses.focal import focal_branch, softmax_focal
from .._core.special import int_power
from ._common import (
    REDUCTIONS,
    check_class_vector,
    check_gamma,
    check_nonnegative,
    check_positive,
    check_reduction,
    check_scalar_alpha,
    compiling,
    compute_dtype,
    namespace,
    reduce,
    run_blocked,
    upstream,
)

#: dtypes that F.cross_entropy computes in (half precision is computed in float32)
_FULL = (torch.float32, torch.float64)

__all__ = [
    "acb_mse_loss",
    "bmc_loss",
    "bni_buckets",
    "bni_loss",
    "class_margins",
    "cross_entropy",
    "dice_loss",
    "drw_weights",
    "focal_loss",
    "gai_loss",
    "gmm_tensors",
    "ldam_loss",
    "lmf_loss",
    "pel_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
]


# ------------------------------------------------------------------ sigmoid family
def _sigmoid_math(z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float, hard: bool,
                  mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Elementwise ``l = c1 y f(z) + c0 (1 - y) f(-z)`` with ``f`` = :func:`focal_branch`.

    The composition of :func:`gbloss._classification._sigmoid_kernel`, kept
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
    """:func:`_sigmoid_math` by the fused CPU kernel of ``gbloss/_fused.py`` (the one the
    boosting objective uses), or None where it does not serve the input: another
    device or dtype, a small input, per-channel factors beyond (N, C), torch.compile."""
    dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(z.dtype)
    if (dtype is None or z.device.type != "cpu" or compiling()
            or not _fused.enabled(np, dtype, z.numel())):
        return None
    factors = [1.0 if c is None else c for c in (c0, c1)]
    if all(not isinstance(c, torch.Tensor) or c.ndim == 0 for c in factors):
        factors = [float(c) for c in factors]
        shape = (-1,)
    elif z.ndim == 2 and all(c.shape == (z.shape[1],) for c in factors):
        factors = [c.detach().cpu().numpy() for c in factors]
        shape = z.shape
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
        return run_blocked(fn, (z, y))
    a, b = run_blocked(fn, (z.reshape(-1), y.reshape(-1)))
    return a.reshape(z.shape), b.reshape(z.shape)


class _SigmoidFocal(torch.autograd.Function):
    """Per-element sigmoid focal loss; backward = stored analytic gradient."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float,
                hard: bool) -> torch.Tensor:
        value, grad = _sigmoid_blocked(z, y, c0, c1, gamma, hard, "value_grad")
        tensors = isinstance(c0, torch.Tensor)
        ctx.save_for_backward(z, y, grad, *((c0, c1) if tensors else ()))
        ctx.params = (tensors, None if tensors else (c0, c1), gamma, hard)
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        z, y, grad, *factors = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a gradient that can be differentiated
            tensors, floats, gamma, hard = ctx.params
            c0, c1 = factors if tensors else floats
            grad = _SigmoidFocalGrad.apply(z, y, c0, c1, gamma, hard)
        return upstream(g) * grad, None, None, None, None, None


class _SigmoidFocalGrad(torch.autograd.Function):
    """The gradient of :class:`_SigmoidFocal`, whose derivative is the analytic Hessian."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, y: torch.Tensor, c0: Any, c1: Any, gamma: float,
                hard: bool) -> torch.Tensor:
        grad, hess = _sigmoid_blocked(z, y, c0, c1, gamma, hard, "grad_hess")
        ctx.save_for_backward(hess)
        return grad

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        (hess,) = ctx.saved_tensors
        return g * hess, None, None, None, None, None


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


def _binary_target(target: torch.Tensor, input: torch.Tensor, dtype: torch.dtype
                   ) -> tuple[torch.Tensor, bool]:
    """Target as ``dtype`` and whether every label is exactly 0 or 1.

    Soft labels in [0, 1] are allowed. Float targets are checked (and 0/1 ones
    take the one-branch formula) only on the CPU outside torch.compile; elsewhere
    the two-branch formula runs, which gives the same result for 0/1 labels.
    """
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if target.shape != input.shape:
        raise ValueError(f"target shape {tuple(target.shape)} must equal input shape "
                         f"{tuple(input.shape)}")
    if target.dtype == torch.bool:
        return target.to(dtype), True
    if target.is_complex():
        raise ValueError("target must be real")
    check = target.device.type == "cpu" and not compiling() and target.numel() > 0
    if check:
        lo, hi = (float(v) for v in torch.aminmax(target))  # NaN propagates
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"targets of a sigmoid loss must be in [0, 1], got values in "
                             f"[{lo}, {hi}]")
    if not target.is_floating_point():
        return target.to(dtype), True
    if not check:
        return target.to(dtype), False
    return target.to(dtype), not bool(torch.frac(target).any())  # in [0, 1]: 0/1 iff frac = 0


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
        Labels in [0, 1] (float, integer or bool).
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
    y, hard = _binary_target(target, input, cdtype)
    z = input.to(cdtype)
    c0, c1 = _sigmoid_factors(alpha, weight, z)
    loss = _SigmoidFocal.apply(z, y, c0, c1, gamma, hard)
    return reduce(loss, reduction, dtype)


# ------------------------------------------------------------------ softmax family
def _focal_rows(log_pt: torch.Tensor, q: torch.Tensor, gamma: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per element ``(l, G1)`` of the softmax focal loss from ``log p_t`` and ``q = 1 - p_t``.

    The row part of :func:`gbloss._classification.softmax_focal`, term by term:
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
    ``gbloss/_fused.py`` (the boosting objective's), or None where it does not
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
    :func:`gbloss._classification.softmax_focal` with autograd recording, so
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


def _class_index_target(input: torch.Tensor, target: torch.Tensor, ignore_index: int
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, int]:
    """``(z, t, valid, n_classes)`` in F.cross_entropy's layout: logits ``(N, C, d1, ...)``
    (an unbatched ``(C,)`` becomes ``(1, C)``), int64 targets ``(N, d1, ...)``.

    Ignored targets are replaced by class 0 (their elements are masked by
    ``valid``, ``None`` when nothing is ignored).
    """
    _check_class_index_shapes(input, target)
    if input.ndim == 1:  # unbatched (C,) with a scalar target, as F.cross_entropy
        input, target = input[None], target.reshape(1)
    n_classes = input.shape[1]
    t = target.to(torch.int64)
    masked = True  # on other devices, and under torch.compile, the mask is always applied
    if target.device.type == "cpu" and not compiling() and t.numel():  # no device sync
        lo, hi = (int(v) for v in torch.aminmax(t))
        if lo < 0 or hi >= n_classes:
            ignored = t == ignore_index
            if bool((((t < 0) | (t >= n_classes)) & ~ignored).any()):
                raise ValueError(f"target has class indices outside [0, {n_classes}) "
                                 f"(ignore_index={ignore_index})")
        masked = (lo <= ignore_index <= hi) and bool((t == ignore_index).any())
    valid = None
    if masked:
        valid = t != ignore_index
        t = torch.where(valid, t, torch.zeros_like(t))
    return input, t, valid, n_classes


def _check_class_index_shapes(input: torch.Tensor, target: torch.Tensor) -> None:
    """Metadata checks only (no pass over the data)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise ValueError(f"target must hold class indices (an integer tensor), got {target.dtype}; "
                         "for probabilities per element use sigmoid_focal_loss")
    if input.ndim == 0:
        raise ValueError("input must have a class dimension")
    expected = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"target shape {tuple(target.shape)} must be {expected} for input of "
                         f"shape {tuple(input.shape)} (class dimension 1)")


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
    definition (:func:`gbloss._classification.softmax_focal`) to a few ulp, as
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
    if gamma == 0 and (alpha is None or _is_scalar(alpha)):
        scale = 1.0 if alpha is None else _check_scalar_factor(alpha)
        out = cross_entropy(input, target, weight, ignore_index=ignore_index, reduction=reduction)
        return out if scale == 1.0 else out * scale
    rows = _ClassRows(input, target, ignore_index, weight)
    loss = _SoftmaxFocal.apply(rows.z, rows.t, rows.factor(alpha), gamma)
    return rows.reduce(loss, reduction)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_scalar_factor(value: Any) -> float:
    v = float(value)
    if not 0 <= v < float("inf"):
        raise ValueError(f"alpha must be finite and non-negative, got {value!r}")
    return v


class _ClassRows:
    """Class-index targets prepared once: ``(N, C, ...)`` logits in the compute dtype, safe
    targets, the not-ignored mask, class weights, and F.cross_entropy's reductions."""

    def __init__(self, input: torch.Tensor, target: torch.Tensor, ignore_index: int,
                 weight: Any) -> None:
        self.dtype = input.dtype
        cdtype = compute_dtype(input)
        self.out_shape = target.shape if isinstance(target, torch.Tensor) else None
        z, self.t, self.valid, self.n_classes = _class_index_target(input, target,
                                                                    int(ignore_index))
        self.z = z.to(cdtype)
        self.w = check_class_vector(weight, "weight", self.n_classes, self.z)

    def factor(self, alpha: Any = None) -> torch.Tensor | None:
        """Per-element factor ``alpha_t * weight_t`` (0 where ignored), or None for all ones."""
        z, t = self.z, self.t
        a_scalar, a_vec = 1.0, None
        if _is_scalar(alpha):
            a_scalar = _check_scalar_factor(alpha)
        else:
            a_vec = check_class_vector(alpha, "alpha", self.n_classes, z)
        w = self.w
        factors = w if a_vec is None else (a_vec if w is None else a_vec * w)
        c = None if factors is None else factors[t]
        if a_scalar != 1.0:
            c = torch.full_like(z[:, 0], a_scalar) if c is None else c * a_scalar
        if self.valid is not None:
            mask = self.valid.to(z.dtype)
            c = mask if c is None else c * mask
        return c

    def reduce(self, loss: torch.Tensor, reduction: str) -> torch.Tensor:
        """``"mean"`` divides by ``sum weight[t]`` over the non-ignored elements (F.cross_entropy)."""
        if reduction == "none":
            return loss.reshape(self.out_shape).to(self.dtype)
        denominator = None
        if reduction == "mean":
            if self.w is not None:
                wt = self.w[self.t]
                denominator = (wt if self.valid is None else wt * self.valid.to(wt.dtype)).sum()
            elif self.valid is not None:
                denominator = self.valid.to(self.z.dtype).sum()
        return reduce(loss, reduction, self.dtype, denominator)


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
        _check_class_index_shapes(input, target)
        if target.dtype is not torch.int64:  # uint8 masks, int32: F.cross_entropy takes int64
            target = target.to(torch.int64)
    if weight is not None and (not isinstance(weight, torch.Tensor) or weight.dtype is not z.dtype
                               or weight.device != z.device or weight.ndim != 1):
        weight = check_class_vector(weight, "weight", z.shape[0 if z.ndim == 1 else 1], z)
    try:
        out = TF.cross_entropy(z, target, weight, ignore_index=ignore_index, reduction=reduction)
    except (IndexError, RuntimeError, ValueError):
        _check_class_index_shapes(input, target)
        if weight is not None:
            check_class_vector(weight, "weight", z.shape[0 if z.ndim == 1 else 1], z)
        _class_index_target(input, target, int(ignore_index))  # raises the ValueError
        raise
    return out.to(dtype) if half else out


# ------------------------------------------------------------------- LDAM and LMF
def class_margins(class_counts: Any, max_margin: float = 0.5) -> torch.Tensor:
    """LDAM's per-class margins ``m_j = max_margin (n_min / n_j)^(1/4)`` as a float64 tensor
    (:func:`gbloss._longtail.ldam_margins`, the boosting loss's definition)."""
    from ..losses.longtail import check_class_counts as _check_counts
    from ..losses.longtail import ldam_margins

    if class_counts is None:
        raise ValueError("class_counts (the training samples per class) is required")
    counts = class_counts.detach().cpu().double().numpy() \
        if isinstance(class_counts, torch.Tensor) else class_counts
    _check_counts(counts)
    return torch.as_tensor(ldam_margins(np.asarray(counts, dtype=np.float64),
                                        check_nonnegative("max_margin", max_margin)))


def _margin_losses(input: torch.Tensor, target: torch.Tensor, margins: torch.Tensor, *,
                   focal_weight: float, ldam_weight: float, gamma: float, alpha: Any,
                   scale: float, weight: Any, ignore_index: int, reduction: str) -> torch.Tensor:
    """``a * alpha_t w_t FL_gamma(z) + b * w_t CE(s (z - m_t e_t))`` per element (LMF; LDAM
    is ``a = 0``), as :func:`gbloss._longtail._lmf_softmax_kernel`: both terms are
    :func:`softmax_focal`, the LDAM one at the shifted, scaled logits."""
    check_reduction(reduction)
    if focal_weight == 0 and ldam_weight == 0:
        raise ValueError("focal_weight and ldam_weight are both 0: the loss would be 0")
    rows = _ClassRows(input, target, ignore_index, weight)
    z, t = rows.z, rows.t
    m = check_class_vector(margins, "margins", rows.n_classes, z)
    loss = None
    if focal_weight != 0:
        loss = _SoftmaxFocal.apply(z, t, rows.factor(alpha), check_gamma(gamma))
        loss = loss if focal_weight == 1 else focal_weight * loss
    if ldam_weight != 0:
        shift = torch.zeros_like(z).scatter(1, t.unsqueeze(1), m[t].unsqueeze(1))
        ldam = _SoftmaxFocal.apply(scale * (z - shift), t, rows.factor(), 0.0)
        ldam = ldam if ldam_weight == 1 else ldam_weight * ldam
        loss = ldam if loss is None else loss + ldam
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
    from ..losses._weights import weights_from_counts as _weights_from_counts

    counts = np.asarray(class_counts.detach().cpu() if isinstance(class_counts, torch.Tensor)
                        else class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or not np.all(np.isfinite(counts)) \
            or np.any(counts < 0):
        raise ValueError("class_counts must be a 1-D array of non-negative counts")
    if not 0 <= float(beta) < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    if epoch < start_epoch:
        return torch.ones(counts.size, dtype=torch.get_default_dtype())
    w = _weights_from_counts(counts, "effective", float(beta))
    return torch.as_tensor(w, dtype=torch.get_default_dtype())


# ------------------------------------------------------------------------ ACB-MSE
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
        Targets; the classes are ``target == 0`` (exactly) and the rest.
    zero_weight, nonzero_weight : float >= 0, default 1
        A and B (``zero_weighting``, ``nonzero_weighting`` in ``acb-mse``).
    reduction : {"mean", "sum", "none"}

    References
    ----------
    The ``acb-mse`` package (PyPI 1.0.6, Adillwma/ACB-MSE).
    """
    from ..losses.acb_mse import acb_kernel as _acb_kernel

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
    (loss,) = _acb_kernel(y, None, z, namespace(z), factors=(f0, f1), classes=None,
                          mode="value", hessian="exact")
    return reduce(loss.reshape(input.shape), reduction, dtype)


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


# ------------------------------------------------- Balanced MSE, Dice and PEL (submodules)
from ._balanced import bmc_loss, bni_buckets, bni_loss, gai_loss, gmm_tensors
from ._overlap import dice_loss, pel_loss
