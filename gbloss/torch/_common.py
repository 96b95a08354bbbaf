"""Machinery shared by the gbloss.torch losses: argument checks, targets, dtypes, reductions.

Every loss here evaluates gbloss's array-API math (the functions the boosting
objectives use) on torch tensors, through ``array_api_compat``'s torch
namespace; nothing in this subpackage re-derives a loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from array_api_compat import array_namespace

REDUCTIONS = ("none", "mean", "sum")

#: dtypes computed in float32 (their results are cast back to the input dtype)
_HALF = (torch.float16, torch.bfloat16)


#: ``array_api_compat.array_namespace`` of a torch tensor (``array_api_compat.torch``),
#: resolved once: the lookup is per-call overhead and torch.compile warns while tracing it.
_XP = array_namespace(torch.empty(0))


def namespace(x: torch.Tensor) -> Any:
    """The array-API namespace of torch tensors, in which gbloss's math runs."""
    return _XP


class TorchNamespace:
    """``array_api_compat.torch`` with ``maximum``, ``minimum`` and ``where`` taking Python
    scalars through torch's own scalar overloads.

    The compat wrappers promote a Python scalar with ``torch.result_type``,
    which torch.compile cannot trace inside an ``autograd.Function``; the
    results are the same. ``exact_abs=True`` also differentiates ``abs`` as
    ``sign`` with ``sign(0) = +1``: gbloss's kernels pair ``|z|`` with the
    branch ``z >= 0`` (:func:`gbloss._core.special.sigmoid_pair`), so autograd of
    them is then exact at ``z = 0`` too, where torch's ``abs`` has slope 0.
    """

    def __init__(self, exact_abs: bool = False) -> None:
        self._exact_abs = exact_abs

    def __getattr__(self, name: str) -> Any:
        return getattr(_XP, name)

    def abs(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, x, -x) if self._exact_abs else torch.abs(x)

    @staticmethod
    def maximum(a: Any, b: Any) -> torch.Tensor:
        if isinstance(b, int | float):
            return torch.clamp_min(a, b)
        if isinstance(a, int | float):
            return torch.clamp_min(b, a)
        return _XP.maximum(a, b)

    @staticmethod
    def minimum(a: Any, b: Any) -> torch.Tensor:
        if isinstance(b, int | float):
            return torch.clamp_max(a, b)
        if isinstance(a, int | float):
            return torch.clamp_max(b, a)
        return _XP.minimum(a, b)

    @staticmethod
    def where(condition: torch.Tensor, a: Any, b: Any) -> torch.Tensor:
        return torch.where(condition, a, b)


#: The namespace of the kernels that run inside autograd Functions (Balanced MSE, Dice, PEL).
XP_TRACEABLE = TorchNamespace()
#: The same, with the exact derivative of ``abs`` at 0 (for recomputing gradients under autograd).
XP_EXACT_ABS = TorchNamespace(exact_abs=True)


def compiling() -> bool:
    """True while torch.compile traces: data-dependent checks are skipped then."""
    return torch.compiler.is_compiling()


def check_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, got {reduction!r}")
    return reduction


def check_gamma(gamma: Any) -> float:
    try:
        value = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}") from None
    if isinstance(gamma, bool) or not math.isfinite(value) or value < 0:
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
    return value


def check_nonnegative(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if isinstance(value, bool) or not 0 <= v < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def check_positive(name: str, value: Any) -> float:
    v = check_nonnegative(name, value)
    if v == 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def check_scalar_alpha(alpha: Any) -> float | None:
    """``None``, or a float in [0, 1] (torchvision's ``alpha=-1`` to disable is not used)."""
    if alpha is None:
        return None
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be None or a number in [0, 1], got {alpha!r}") from None
    if isinstance(alpha, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"alpha weights positives by alpha and negatives by 1 - alpha, so it must be "
            f"None or in [0, 1]; got {alpha!r}"
        )
    return value


def compute_dtype(x: torch.Tensor, name: str = "input") -> torch.dtype:
    """float32 for float16/bfloat16 input, the input dtype for float32/float64."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor of logits, got {x.dtype}")
    return torch.float32 if x.dtype in _HALF else x.dtype


def as_buffer(value: Any, name: str, *, ndim: Sequence[int] = (1,)) -> torch.Tensor | None:
    """A per-class parameter (weight, alpha) as a float tensor, checked finite and >= 0."""
    if value is None:
        return None
    t = value.detach().clone() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    if not t.is_floating_point():
        t = t.to(torch.get_default_dtype())
    if t.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), "
                         f"got shape {tuple(t.shape)}")
    if not compiling() and (not bool(torch.isfinite(t).all()) or bool((t < 0).any())):
        raise ValueError(f"{name} must be finite and non-negative")
    return t


def check_class_vector(value: torch.Tensor | None, name: str, n_classes: int,
                       like: torch.Tensor) -> torch.Tensor | None:
    """A ``(C,)`` tensor in ``like``'s dtype, on ``like``'s device (a no-op for buffers)."""
    if value is None:
        return None
    if not isinstance(value, torch.Tensor):
        value = as_buffer(value, name)
    if value.shape != (n_classes,):
        raise ValueError(f"{name} must have shape ({n_classes},) for {n_classes} classes, "
                         f"got {tuple(value.shape)}")
    return value.to(device=like.device, dtype=like.dtype)


def upstream(g: torch.Tensor) -> torch.Tensor:
    """The incoming gradient of a backward pass, made cheap to multiply.

    After ``"mean"``/``"sum"`` it is a scalar expanded to the loss's shape
    (all strides 0); broadcasting such a tensor against an ``(M, C)`` gradient
    is an order of magnitude slower than multiplying by a 0-d view of it.
    (Not under ``create_graph``, where ``g`` itself may be differentiated.)
    """
    if g.ndim and not any(g.stride()) and not torch.is_grad_enabled():
        return g[(0,) * g.ndim]
    return g


def reduce(loss: torch.Tensor, reduction: str, dtype: torch.dtype,
           denominator: torch.Tensor | None = None) -> torch.Tensor:
    """Apply ``reduction`` (in the compute dtype) and cast to the input ``dtype``."""
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = loss.sum()
    elif denominator is None:
        out = loss.mean()
    else:
        out = loss.sum() / denominator
    return out.to(dtype)


#: Elements per block of the CPU forward pass. 128k float32 values (512 KiB) per
#: temporary keep a loss's temporaries in the L2/L3 caches instead of streaming a
#: few dozen full-size ones through memory (the torch twin of gbloss._core.executor.run_blocked).
BLOCK_ELEMENTS = 1 << 17


def run_blocked(fn: Callable[..., tuple[torch.Tensor, ...]], rows: Sequence[torch.Tensor],
                block: int | None = None) -> tuple[torch.Tensor, ...]:
    """``fn(*rows)`` evaluated on row blocks of ``rows`` (tensors sharing dimension 0).

    ``fn`` must be row-wise and return tensors whose first dimension is the
    rows'. CPU tensors larger than one block are processed block by block
    (each op still uses torch's intra-op threads); on other devices, under
    torch.compile and for small inputs ``fn`` gets the whole tensors. Runs
    inside an autograd.Function's forward (no graph is recorded).
    """
    block = block or BLOCK_ELEMENTS
    z = rows[0]
    n = z.shape[0] if z.ndim else 1
    width = math.prod(z.shape[1:]) if z.ndim > 1 else 1
    per_block = max(1, block // max(width, 1))
    if z.device.type != "cpu" or n <= per_block or compiling():
        return fn(*rows)
    outputs: list[torch.Tensor] = []
    for start in range(0, n, per_block):
        parts = fn(*(r[start:start + per_block] for r in rows))
        if not outputs:
            outputs = [torch.empty((n, *p.shape[1:]), dtype=p.dtype, device=p.device)
                       for p in parts]
        for out, part in zip(outputs, parts, strict=True):
            out[start:start + per_block] = part
    return tuple(outputs)


# ------------------------------------------------------------------------------ targets
def refuse_target_grad(target: Any, name: str) -> None:
    """Raise where a target requires grad and the loss ``name`` (whose backward is analytic)
    would silently give it none; a no-op under ``torch.no_grad()``."""
    if isinstance(target, torch.Tensor) and target.requires_grad and torch.is_grad_enabled():
        raise ValueError(f"target requires grad; gbloss.torch.functional.{name} computes no "
                         "gradient for targets: pass target.detach()")


def binary_target(target: torch.Tensor, input: torch.Tensor, dtype: torch.dtype
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
        lo, hi = (float(v) for v in torch.aminmax(target.detach()))  # NaN propagates
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"targets of a sigmoid loss must be in [0, 1], got values in "
                             f"[{lo}, {hi}]")
    if not target.is_floating_point():
        return target.to(dtype), True
    if not check:
        return target.to(dtype), False
    return target.to(dtype), not bool(torch.frac(target).any())  # in [0, 1]: 0/1 iff frac = 0


def check_class_index_shapes(input: torch.Tensor, target: torch.Tensor) -> None:
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


def class_index_target(input: torch.Tensor, target: torch.Tensor, ignore_index: int
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, int]:
    """``(z, t, valid, n_classes)`` in F.cross_entropy's layout: logits ``(N, C, d1, ...)``
    (an unbatched ``(C,)`` becomes ``(1, C)``), int64 targets ``(N, d1, ...)``.

    Ignored targets are replaced by class 0 (their elements are masked by
    ``valid``, ``None`` when nothing is ignored).
    """
    check_class_index_shapes(input, target)
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


def is_scalar(value: Any) -> bool:
    """A Python number (not a bool): a factor of every class alike."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class ClassRows:
    """Class-index targets prepared once: ``(N, C, ...)`` logits in the compute dtype, safe
    targets, the not-ignored mask, class weights, and F.cross_entropy's reductions."""

    def __init__(self, input: torch.Tensor, target: torch.Tensor, ignore_index: int,
                 weight: Any) -> None:
        self.dtype = input.dtype
        cdtype = compute_dtype(input)
        self.out_shape = target.shape if isinstance(target, torch.Tensor) else None
        z, self.t, self.valid, self.n_classes = class_index_target(input, target,
                                                                   int(ignore_index))
        self.z = z.to(cdtype)
        self.w = check_class_vector(weight, "weight", self.n_classes, self.z)

    def factor(self, alpha: Any = None) -> torch.Tensor | None:
        """Per-element factor ``alpha_t * weight_t`` (0 where ignored), or None for all ones."""
        z, t = self.z, self.t
        a_scalar, a_vec = 1.0, None
        if is_scalar(alpha):
            a_scalar = check_nonnegative("alpha", alpha)
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



class ValueGrad(torch.autograd.Function):
    """A loss from a kernel that returns ``(value, dvalue/dz)`` in one pass (``mode="value_grad"``).

    ``fn(z)`` is called without autograd recording; backward multiplies the
    stored analytic gradient by the incoming one (first derivatives only).
    """

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, fn: Callable[[torch.Tensor], Any]) -> torch.Tensor:
        value, grad = fn(z)
        ctx.save_for_backward(grad)
        return value

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, ...]:
        (grad,) = ctx.saved_tensors
        gz = upstream(g)
        if gz.ndim < grad.ndim and gz.ndim:  # per-row values of (N, C) margins
            gz = gz.reshape(*gz.shape, *([1] * (grad.ndim - gz.ndim)))
        return gz * grad, None
