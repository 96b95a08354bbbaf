"""Every loss gbloss has, found at test time (used by test_robustness and test_sklearn).

A loss is found when its class, or a factory returning it, is in ``gbloss.__all__``,
or when it is a public ``Loss`` subclass defined in a ``gbloss`` module. Losses
that cannot be built without arguments need an entry in ``REQUIRED_ARGS``: the
sweep fails, rather than skips, a loss it cannot build.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import gbloss
from gbloss.losses import Loss

#: Constructor arguments for losses without a no-argument default, by class name.
REQUIRED_ARGS: dict[str, dict[str, Any]] = {
    "CostSensitiveLoss": {"cost_matrix": [[0.0, 1.0], [5.0, 0.0]]},
}

_MODULES = {"xgboost", "lightgbm", "torch", "sklearn"}


def _subclasses(cls: type[Loss]) -> set[type[Loss]]:
    out: set[type[Loss]] = set()
    for sub in cls.__subclasses__():
        out.add(sub)
        out |= _subclasses(sub)
    return out


def loss_classes() -> list[type[Loss]]:
    """Every concrete gbloss loss class, sorted by name."""
    found: set[type[Loss]] = set()
    for name in gbloss.__all__:
        if name in _MODULES:
            continue
        obj = getattr(gbloss, name)
        if isinstance(obj, type) and issubclass(obj, Loss) and obj is not Loss:
            found.add(obj)
        elif inspect.isfunction(obj) and "Loss" in str(inspect.signature(obj).return_annotation):
            try:  # a factory
                made = obj()
            except TypeError:
                continue  # needs arguments: found through its class below
            if isinstance(made, Loss):
                found.add(type(made))
    for sub in _subclasses(Loss):
        if sub.__module__.startswith("gbloss.") and not sub.__name__.startswith("_") \
                and "torch" not in sub.__module__:
            found.add(sub)
    return sorted(found, key=lambda c: c.__name__)


def make(cls: type, **params: Any) -> Loss:
    """``cls(**REQUIRED_ARGS[cls], **params)``; a clear error when arguments are missing."""
    args = {**REQUIRED_ARGS.get(cls.__name__, {}), **params}
    try:
        return cls(**args)
    except TypeError as exc:
        raise AssertionError(
            f"{cls.__name__} cannot be built with {args}: add its required arguments to "
            f"REQUIRED_ARGS in tests/_losses.py so that the robustness sweep covers it"
        ) from exc


def variants(cls: type) -> list[tuple[str, Loss]]:
    """The default instance, plus the exact Hessian and balanced class weights where offered."""
    params = inspect.signature(cls).parameters
    out = [(cls.__name__, make(cls))]
    for name, value in (("hessian", "exact"), ("class_weight", "balanced")):
        if name in params:
            # (ValueError: the option needs other arguments, e.g. ACB-MSE's classes=)
            with contextlib.suppress(ValueError):
                out.append((f"{cls.__name__}({name}={value})", make(cls, **{name: value})))
    return out
