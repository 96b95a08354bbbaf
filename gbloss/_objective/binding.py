"""Per-training state: a :class:`Binding` of one loss to one data set.

A loss is its parameters (and, once fitted, its statistics). What a training
adds -- validated labels and weights, the statistics of its labels, groups,
device copies, kernels with their constants -- lives in a binding tied to that
training's data:

* calls that carry a data object (an XGBoost DMatrix, a LightGBM Dataset) find
  their binding through the object (held weakly: the binding goes with the
  data), checked against the labels, weights and groups read on every call;
* calls that carry only arrays (the boosters' scikit-learn forms) find it by
  the content of the labels and weights, in a small LRU table.

Bindings are keyed by the loss's *signature* (its class, parameters and
fitted statistics): LightGBM deep-copies the objective, and the copy and the
original (whose ``metric`` evaluates the validation sets) share bindings.

Which statistics a validation metric uses
-----------------------------------------
A fitted loss always uses its own. Otherwise a validation set given as a
DMatrix or Dataset is scored with the statistics of the training it belongs
to, found in this order: the set is itself a training set of this loss
(XGBoost's ``evals=[(dtrain, ...)]``, the train fold of ``xgb.cv``); the
booster links it to its training set (LightGBM's ``reference``, the
complementary fold of ``lgb.cv``); the training this thread called the
objective for last, while its data are alive (XGBoost evaluates each model
right after its update, in the same thread). Concurrent trainings in other
threads and other folds are never consulted. Metric calls on arrays (the
boosters' scikit-learn forms) carry nothing that ties them to a training:
they use the statistics of their own labels, except inside a distributed
training, where they too use those of the training this thread called the
objective for last.

Distributed training
--------------------
Inside an XGBoost collective (Dask, Ray, Spark barrier mode, a bare tracker)
the statistics of an unfitted loss are those of *all* the workers' training
labels (:meth:`gbloss.Loss._fit_stats_across`), computed once per training
before the first gradient, so every worker optimises the loss of the whole
data set. A binding found by content (the scikit-learn forms) may hold
statistics from an earlier training on one worker and not on another: there
the workers agree, with one all-reduce per call, whether to compute them, so
that all of them take part in the same collectives.
"""

from __future__ import annotations

import os
import pickle
import threading
import types
import weakref
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._core.groups import Reduce
from .._core.labels import Labels

__all__ = ["ArrayKey", "Binding", "CallContext", "Registry", "freeze", "registry"]

#: Bindings kept for calls that carry only arrays (scikit-learn forms).
CONTENT_CACHE_SIZE = 8


@dataclass(frozen=True)
class CallContext:
    """What one objective or metric call adds to the loss's inputs.

    ``round``: the boosting round (deferred re-weighting), None when the
    booster gave none. ``group_ptr``: row offsets of the groups (Dice, PEL).
    ``reduce``: the all-reduce across workers inside a distributed training.
    ``small_blocks``: the booster calls the loss very often on small blocks
    of rows (CatBoost's Python objective: at most 1,000 objects, or one),
    where a compiled kernel pays off whatever the size of the block.
    """

    round: int | None = None
    group_ptr: NDArray[np.int64] | None = None
    reduce: Reduce | None = None
    small_blocks: bool = False


class ArrayKey:
    """Hashable stand-in for the content of a numpy array.

    The hash covers the shape, the dtype and a sample of about 1,000 elements;
    equality compares every element (``np.array_equal``, about 0.25 ms per
    4 MB), so changed labels are never served from a table. A stored key holds
    its own copy (``own=True``), so the caller may modify the array afterwards;
    a probe key only refers to it.
    """

    __slots__ = ("_hash", "data")

    def __init__(self, a: Any, *, own: bool = False) -> None:
        self.data = np.array(a, copy=True) if own else np.asarray(a)
        step = max(1, self.data.size // 1024)
        sample = np.ascontiguousarray(self.data.reshape(-1)[::step])
        self._hash = hash((self.data.shape, self.data.dtype.str,
                           zlib.crc32(sample.tobytes())))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ArrayKey) and self._hash == other._hash
                and same_array(self.data, other.data))


def same_array(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


def freeze(value: Any) -> Any:
    """A hashable form of a parameter value that two deep copies of it share.

    Arrays and containers by content; functions (which ``copy.deepcopy`` does
    not copy) by identity; other objects by their pickle, or identity.
    """
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, list | tuple):
        return (type(value).__name__, *(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *sorted((repr(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType
                  | types.MethodType):
        return ("id", id(value))
    try:
        return ("pickle", pickle.dumps(value))
    except Exception:  # noqa: BLE001 - unpicklable parameter: identity then
        return ("id", id(value))


@dataclass(eq=False)
class Binding:
    """One loss bound to one data set: validated inputs and, for a training, its statistics.

    ``source``: the labels, weights and group sizes as read from the data,
    to notice when they change (``set_label``). ``inputs``: the validated
    labels and weights for each dtype of margins. ``statistics``: those of the
    data's labels (the loss's fitted statistics when it has them), computed on
    first use; ``scope``: whose labels they are (None: these data's; ``("workers", n)``: the
    labels of all ``n`` workers of a distributed training). ``training``: an objective was
    called on the data.
    """

    source: tuple[Any, Any, Any]
    group_ptr: NDArray[np.int64] | None
    statistics: Any = None
    scope: Any = None
    training: bool = False
    inputs: dict[str, tuple[Labels, Any]] = field(default_factory=dict)
    kernels: dict[tuple, tuple[Any, Any]] = field(default_factory=dict)

    def matches(self, y: Any, w: Any, groups: Any) -> bool:
        sy, sw, sg = self.source
        return same_array(sy, y) and same_array(sw, w) and same_array(sg, groups)

    def validated(self, dtype: Any, make: Callable[[], tuple[Labels, Any]]
                  ) -> tuple[Labels, Any]:
        """The labels and weights validated for margins of ``dtype``, made once."""
        entry = self.inputs.get(str(dtype))
        if entry is None:
            entry = self.inputs[str(dtype)] = make()
        return entry

    def kernel(self, key: tuple, statistics: Any, make: Callable[[], Any]) -> Any:
        """The kernel for ``key`` and these statistics, made once per binding."""
        entry = self.kernels.get(key)
        if entry is None or entry[0] is not statistics:
            entry = self.kernels[key] = (statistics, make())
        return entry[1]


class Registry:
    """Where bindings live: weakly by data object, or by content in an LRU table."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._by_data: weakref.WeakKeyDictionary[Any, dict[tuple, Binding]] = \
            weakref.WeakKeyDictionary()
        # (key, binding) by key: a hit is re-inserted under its stored key, whose comparisons
        # are by identity, so a lookup compares the labels' content once
        self._by_content: dict[tuple, tuple[tuple, Binding]] = {}
        self._last = threading.local()

    def reset_after_fork(self) -> None:
        self.lock = threading.Lock()
        self._last = threading.local()

    # ----------------------------------------------------------------- lookup
    def find(self, key: tuple, data: Any, y: Any, w: Any, groups: Any) -> Binding | None:
        """The binding of ``key`` on this data, if its labels, weights and groups still match."""
        with self.lock:
            if data is not None:
                binding = self._by_data.get(data, {}).get(key)
            else:
                entry = self._by_content.pop((key, *_content(y, w, groups, own=False)), None)
                if entry is None:
                    return None
                self._by_content[entry[0]] = entry  # now the most recently used
                return entry[1]
        if binding is not None and not binding.matches(y, w, groups):
            return None
        return binding

    def store(self, key: tuple, data: Any, binding: Binding) -> Binding:
        y, w, groups = binding.source
        with self.lock:
            if data is not None:
                self._by_data.setdefault(data, {})[key] = binding
            else:
                ckey = (key, *_content(y, w, groups, own=True))
                self._by_content[ckey] = (ckey, binding)
                while len(self._by_content) > CONTENT_CACHE_SIZE:
                    del self._by_content[next(iter(self._by_content))]  # least recently used
        return binding

    def trainings(self, key: tuple) -> Iterator[tuple[Any, Binding]]:
        """``(data, binding)`` of every live training binding of ``key`` held by a data object."""
        with self.lock:
            items = [(d, b[key]) for d, b in self._by_data.items() if key in b]
        return ((d, b) for d, b in items if b.training)

    def binding_of(self, key: tuple, data: Any) -> Binding | None:
        with self.lock:
            return self._by_data.get(data, {}).get(key)

    # ------------------------------------------------ this thread's training
    def note_training(self, key: tuple, binding: Binding) -> None:
        table = getattr(self._last, "table", None)
        if table is None:
            table = self._last.table = {}
        table[key] = weakref.ref(binding)

    def last_training(self, key: tuple) -> Binding | None:
        ref = getattr(self._last, "table", {}).get(key)
        return None if ref is None else ref()


def _content(y: Any, w: Any, groups: Any, *, own: bool) -> tuple[Any, Any, Any]:
    return (ArrayKey(y, own=own), None if w is None else ArrayKey(w, own=own),
            None if groups is None else ArrayKey(groups, own=own))


#: The process's bindings.
registry = Registry()

if hasattr(os, "register_at_fork"):  # a lock held by another thread at fork stays held
    os.register_at_fork(after_in_child=registry.reset_after_fork)
