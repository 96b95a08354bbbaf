"""The call protocol: every booster's objective and metric calls, answered by one loss.

As LightGBM's ``_ObjectiveFunctionWrapper`` wraps a pure function, gbloss
separates the call protocol from the math: :class:`Objective` and
:class:`Metric` turn a booster's call into labels, margins, weights, groups,
threads and the round, find the training's :class:`~.binding.Binding`, and
ask the loss for values or derivatives. :class:`ObjectiveMixin` makes every
loss an objective and a metric as it is (``xgb.train(..., obj=loss)``), with
no settings; ``gbloss.xgboost.objective(loss, params)`` gives an
:class:`Objective` with the booster's threads and device.

Call forms (see :mod:`.xgboost` and :mod:`.lightgbm`):

* XGBoost native ``obj(predt, dtrain)``, XGBoost >= 3.2 ``obj(iteration, predt,
  dtrain)``, metric ``(predt, dmat) -> (name, value)``;
* LightGBM native ``fobj(preds, train_set)``, metric
  ``(preds, eval_data) -> (name, value, False)``;
* XGBoost scikit-learn ``obj(y_true, y_pred, sample_weight=w)``, metric
  ``(y_true, y_score, sample_weight=w) -> value``;
* LightGBM scikit-learn ``obj(y_true, y_pred, weight, group)``, metric
  ``(...) -> (name, value, False)``;
* CatBoost ``calc_ders_range(approxes, targets, weights)`` and
  ``calc_ders_multi(approx, target, weight)`` (methods), metric ``evaluate``,
  ``get_final_error``, ``is_max_optimal`` (see :mod:`.catboost`).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._core.checks import as_margins
from .._core.collective import Workers
from .._core.groups import Reduce, group_pointer
from .._core.labels import MULTICLASS, Labels
from .._core.namespace import is_numpy, move_like
from . import catboost as cb_calls
from . import lightgbm as lgb_calls
from . import xgboost as xgb_calls
from .binding import Binding, CallContext, registry
from .device import resolve
from .rounds import register_xgboost_objective, take_round

__all__ = ["NOT_GIVEN", "Metric", "Objective", "ObjectiveMixin", "evaluate"]

Form = Literal["xgboost", "lightgbm", "xgboost-sklearn", "lightgbm-sklearn", "direct"]


class _NotGiven:
    """Marks an argument that the caller did not pass (pickles and copies as the one
    instance, :data:`NOT_GIVEN`)."""

    def __reduce__(self) -> str:
        return "NOT_GIVEN"

    def __repr__(self) -> str:
        return "<not given>"


NOT_GIVEN = _NotGiven()


@dataclass
class Call:
    """One booster call, in one form: what the loss needs from it."""

    form: Form
    raw: Any
    y: Any
    w: Any
    groups: Any
    data: Any = None  # the DMatrix / Dataset (native forms)
    n_threads: int | None = None
    iteration: int | None = None  # XGBoost >= 3.2's objective form


def parse(a: Any, b: Any, sample_weight: Any, group: Any) -> Call:
    """The call form of ``(a, b, sample_weight, group)`` and its inputs."""
    if isinstance(a, numbers.Integral) and not isinstance(a, bool) \
            and xgb_calls.is_data(sample_weight):
        y, w, groups, threads = xgb_calls.read(sample_weight, b)
        return Call("xgboost", b, y, w, groups, sample_weight, threads, int(a))
    if xgb_calls.is_data(b):
        y, w, groups, threads = xgb_calls.read(b, a)
        return Call("xgboost", a, y, w, groups, b, threads)
    if lgb_calls.is_data(b):
        y, w, groups, threads = lgb_calls.read(b)
        return Call("lightgbm", a, y, w, groups, b, threads)
    if group is not NOT_GIVEN:
        return Call("lightgbm-sklearn", b, a, sample_weight, group)
    return Call("xgboost-sklearn", b, a, sample_weight, None)


def _margins(call: Call, device: Any, loss: Any, *, gradient: bool = True
             ) -> tuple[Any, Any, Any]:
    """``(xp, device, raw)``: the margins checked, in the namespace and on the device to use."""
    if gradient and call.form in ("lightgbm", "lightgbm-sklearn"):
        # LightGBM hands float64 scores (F-ordered when multiclass) and reads float32:
        # compute in float32 on a C-ordered copy so that nothing is converted twice.
        raw = np.ascontiguousarray(call.raw, dtype=np.float32)
        return np, "cpu", as_margins(raw, np)
    xp, dev = resolve(device, call.raw)
    raw = call.raw if is_numpy(xp) else xp.asarray(call.raw, device=dev)
    if tuple(raw.shape) == (0, 0):
        raw = xp.reshape(raw, _empty_shape(loss, call.y))
    return xp, dev, as_margins(raw, xp)


def _empty_shape(loss: Any, y: Any) -> tuple[int, ...]:
    """The margins' shape on a worker without rows, which XGBoost >= 3.4 hands as ``(0, 0)``:
    the columns of 2-D labels, else of the fitted or declared classes, else none (binary,
    regression). The worker then evaluates (and takes part in every all-reduce) as the others,
    and its gradient has the model's columns, which XGBoost requires of it."""
    if y is not None and np.ndim(y) == 2:
        return (0, int(np.shape(y)[1]))
    stats = loss.statistics_
    k = getattr(loss, "n_classes", None) or (
        getattr(stats, "n_classes", None) if getattr(stats, "task", None) == MULTICLASS
        else None)
    return (0, int(k)) if k else (0,)


def _reduce(loss: Any, call: Call) -> Reduce | None:
    """The all-reduce across workers for a loss whose sums span rows, or None."""
    if loss.row_separable:
        return None
    if (call.form == "lightgbm" and lgb_calls.is_distributed(call.data)) or \
            (call.form == "lightgbm-sklearn" and lgb_calls.in_dask_worker()):
        raise lgb_calls.refusal(lgb_calls.REFUSE_DISTRIBUTED.format(name=type(loss).__name__))
    if call.form in ("xgboost", "xgboost-sklearn"):
        return xgb_calls.collective_reduce()
    return None


def _check_local_statistics(loss: Any, call: Call) -> None:
    """Refuse an unfitted loss with label statistics in distributed LightGBM (no collective to
    share them); warn where the call form cannot tell (the scikit-learn form in a Dask task)."""
    if loss.statistics_ is not None or not loss._uses_statistics():
        return
    text = {"loss": repr(loss)}
    if call.form == "lightgbm" and lgb_calls.is_distributed(call.data):
        raise lgb_calls.refusal(lgb_calls.REFUSE_UNFITTED.format(**text))
    if call.form == "lightgbm-sklearn" and lgb_calls.in_dask_worker():
        warnings.warn(lgb_calls.WARN_UNFITTED.format(**text), UserWarning, stacklevel=3)


def _bind(loss: Any, call: Call, xp: Any, dev: Any, raw: Any
          ) -> tuple[tuple, Binding, Labels, Any]:
    """The binding of ``loss`` to the call's data (found, or made and kept) and the labels
    and weights validated for these margins."""
    if call.form == "xgboost":
        register_with_xgboost()  # XGBoost is calling: its later rounds pass the iteration
    y = call.y
    if y is None:
        raise ValueError("the data have no labels (y_true is None)")
    if raw.ndim not in (1, 2):
        raise ValueError(f"raw_prediction must be 1-D or 2-D, got shape {tuple(raw.shape)}")
    key = (loss._signature(), str(dev), tuple(raw.shape[1:]))
    keep = call.data is not None or all(
        a is None or isinstance(a, np.ndarray) for a in (y, call.w, call.groups))
    binding = registry.find(key, call.data, y, call.w, call.groups) if keep else None
    if binding is None:
        binding = Binding((y, call.w, call.groups),
                          group_pointer(call.groups, int(raw.shape[0])))
        if keep:
            registry.store(key, call.data, binding)
    labels, w = binding.validated(raw.dtype, lambda: loss._validated(
        move_like(y, raw, xp), tuple(raw.shape), move_like(call.w, raw, xp), xp, raw.dtype))
    return key, binding, labels, w


def _workers(loss: Any, call: Call) -> Workers | None:
    """The workers whose labels an unfitted loss's statistics come from: those of the
    XGBoost collective the call runs in, or None (this call's labels)."""
    if loss.statistics_ is not None or call.form not in ("xgboost", "xgboost-sklearn"):
        return None
    return xgb_calls.collective_workers()


def _statistics(loss: Any, binding: Binding, labels: Labels, w: Any, xp: Any,
                workers: Workers | None = None, *, by_content: bool = False) -> Any:
    """The statistics of the binding: the loss's fitted ones, else those of its labels or,
    given ``workers``, of all the workers' labels (computed once, kept on the binding)."""
    scope = None if workers is None else ("workers", workers.size)
    stale = binding.statistics is None or binding.scope != scope
    if workers is not None and by_content:
        stale = workers.any(stale)  # every worker takes part, or none (see .binding)
    if stale:
        binding.statistics = loss._statistics(labels, w, xp) if workers is None else \
            loss._fit_stats_across(labels, w, xp, workers)
        binding.scope = scope
    return binding.statistics


_NO_ROUND = (
    "{name}(drw_start_round={r}) needs the boosting round, and this call does not carry it. "
    "XGBoost >= 3.2 passes it to xgb.train, xgb.cv and XGBClassifier; for LightGBM "
    "(lgb.train, lgb.cv, LGBMClassifier.fit) and older XGBoost, pass "
    "callbacks=[gbloss.drw_callback()] to the training call."
)


class Objective:
    """A loss as a booster objective, with the booster's settings.

    Parameters
    ----------
    loss : gbloss.Loss
    n_threads : int, optional
        Threads of gbloss's CPU kernels; default: the booster's (XGBoost's
        ``nthread`` of the DMatrix, LightGBM's ``num_threads``), else the
        cores this process may use.
    device : optional
        Where to compute: an XGBoost device string (``"cuda"``, ``"cuda:1"``)
        or None (where the margins are). See :mod:`gbloss._objective.device`.

    Callable in every booster's objective form, and a CatBoost objective
    (``loss_function=``); :attr:`metric` is the matching evaluation metric.
    """

    #: CatBoost: do not try to numba-compile the methods (see :mod:`.catboost`).
    no_jit = cb_calls.NO_JIT

    def __init__(self, loss: Any, *, n_threads: int | None = None, device: Any = None) -> None:
        if not isinstance(loss, ObjectiveMixin):
            raise TypeError(f"loss must be a gbloss loss (for example gbloss.focal()), got "
                            f"{loss!r}")
        if n_threads is not None and (isinstance(n_threads, bool)
                                      or not isinstance(n_threads, numbers.Integral)):
            raise ValueError(f"n_threads must be an integer or None, got {n_threads!r}")
        self.loss: Any = loss  # a Loss: the protocol uses only its methods (no import of it)
        self.n_threads = None if n_threads is None or int(n_threads) <= 0 else int(n_threads)
        self.device = None if isinstance(device, str) and device.lower() == "cpu" else device

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in (("n_threads", self.n_threads),
                                                     ("device", self.device)) if v is not None)
        return f"Objective({self.loss!r}{extra})"

    @property
    def metric(self) -> Metric:
        """The loss as an evaluation metric on the same device."""
        return Metric(self.loss, device=self.device)

    def __call__(self, a: Any, b: Any, sample_weight: Any = None, group: Any = NOT_GIVEN
                 ) -> tuple[Any, Any]:
        """``(grad, hess)`` shaped like the margins, for whichever booster calls."""
        loss = self.loss
        call = parse(a, b, sample_weight, group)
        ticked = take_round()  # a callback's tick belongs to this call, used or not
        round_ = call.iteration if call.iteration is not None else ticked
        if round_ is None and loss._needs_round():
            raise RuntimeError(_NO_ROUND.format(name=type(loss).__name__,
                                                r=loss.drw_start_round))
        xp, dev, raw = _margins(call, self.device, loss)
        reduce = _reduce(loss, call)
        key, binding, labels, w = _bind(loss, call, xp, dev, raw)
        if binding.statistics is None:  # (the first call of a training)
            _check_local_statistics(loss, call)
        binding.training = True
        registry.note_training(key, binding)
        stats = _statistics(loss, binding, labels, w, xp, _workers(loss, call),
                            by_content=call.data is None)
        context = CallContext(round_, binding.group_ptr, reduce)
        return loss._evaluate("grad_hess", labels, w, raw, stats, xp, context,
                              n_threads=self.n_threads or call.n_threads, cache=binding.kernel)

    def calc_ders_range(self, approxes: Any, targets: Any, weights: Any) -> Any:
        """CatBoost objective (binary, regression): ``(n, 2)`` rows ``(-grad, -hess)``."""
        return cb_calls.ders_range(self.loss, approxes, targets, weights, self.n_threads)

    def calc_ders_multi(self, approx: Any, target: Any, weight: Any) -> tuple[Any, Any]:
        """CatBoost objective (multiclass, one object): ``(-grad, -diag(hess))``."""
        return cb_calls.ders_multi(self.loss, approx, target, weight)


class Metric:
    """A loss as an evaluation metric (lower is better), callable in each booster's form.

    * XGBoost native ``custom_metric(predt, dtrain) -> (name, value)``;
    * LightGBM native ``feval(preds, eval_data) -> (name, value, False)``;
    * XGBoost scikit-learn ``eval_metric(y_true, y_score, sample_weight=None) -> value``;
    * LightGBM scikit-learn ``eval_metric(y_true, y_pred, weight, group) -> (name, value, False)``;
    * CatBoost ``eval_metric=``: ``evaluate(approxes, target, weight)``,
      ``get_final_error(error, weight)``, ``is_max_optimal()``.

    The value is :meth:`gbloss.Loss.loss` on the margins, with the loss's
    fitted statistics, else with those of the training the evaluation set
    belongs to (see :mod:`.binding`). The scikit-learn forms carry arrays
    only, nothing that ties them to a training: an unfitted loss then uses
    the statistics of the labels given, so pass a fitted loss
    (``objective=loss.fit(y_train)``) to the boosters' estimators.
    """

    #: CatBoost: do not try to numba-compile the methods (see :mod:`.catboost`).
    no_jit = cb_calls.NO_JIT

    def __init__(self, loss: Any, *, device: Any = None) -> None:
        self.loss = loss
        self.device = device
        self.__name__ = loss._name

    def __repr__(self) -> str:
        return f"Metric({self.loss!r})"

    def __call__(self, a: Any, b: Any, sample_weight: Any = None, group: Any = NOT_GIVEN) -> Any:
        loss = self.loss
        call = parse(a, b, sample_weight, group)
        xp, dev, raw = _margins(call, self.device, loss, gradient=False)
        reduce = _reduce(loss, call)
        key, binding, labels, w = _bind(loss, call, xp, dev, raw)
        workers = _workers(loss, call)
        source = binding if binding.training else self._training(key, call, workers)
        # (calls on arrays -- the boosters' scikit-learn forms -- carry nothing that ties them
        # to a training: they use the fitted statistics or their own labels')
        if source is binding:
            registry.note_training(key, binding)  # xgb.cv scores each fold's train set first
        if source is not None and source.statistics is not None:
            stats = source.statistics
        else:  # no training to borrow from: a fitted loss's, or these labels' own
            stats = _statistics(loss, binding, labels, w, xp, workers,
                                by_content=call.data is None)
        context = CallContext(None, binding.group_ptr, reduce)
        value = self._value(labels, w, raw, stats, xp, context, binding)
        if call.form == "xgboost":
            return self.__name__, value
        if call.form == "xgboost-sklearn":
            return value
        return self.__name__, value, False

    def evaluate(self, approxes: Any, target: Any, weight: Any) -> tuple[float, float]:
        """CatBoost metric: ``(sum_i w_i l_i, sum_i w_i)`` over the objects given.

        The statistics are the loss's fitted ones (CatBoost's calls carry no
        link to a training); see :mod:`gbloss._objective.catboost`.
        """
        return cb_calls.metric_value(self.loss, approxes, target, weight)

    @staticmethod
    def get_final_error(error: float, weight: float) -> float:
        """CatBoost metric: the weighted mean loss ``error / weight``."""
        return cb_calls.final_error(error, weight)

    @staticmethod
    def is_max_optimal() -> bool:
        """CatBoost metric: lower is better."""
        return False

    def _value(self, labels: Labels, w: Any, raw: Any, stats: Any, xp: Any,
               context: CallContext, binding: Binding) -> float:
        """The metric on validated labels and margins (here: the loss)."""
        return self.loss._evaluate("value", labels, w, raw, stats, xp, context,
                                   cache=binding.kernel)

    @staticmethod
    def _training(key: tuple, call: Call, workers: Workers | None) -> Binding | None:
        if call.data is None:  # arrays: tied to a training only inside a distributed one
            return None if workers is None else registry.last_training(key)
        if call.form == "lightgbm":
            data = lgb_calls.training_data_of(call.data, (d for d, _ in registry.trainings(key)))
            if data is not None:
                return registry.binding_of(key, data)
        return registry.last_training(key)


def evaluate(loss: Any, mode: Literal["value", "grad_hess"], y_true: Any, raw_prediction: Any,
             sample_weight: Any, context: CallContext, n_threads: int | None = None) -> Any:
    """A direct call of the loss (``gradient_hessian``, ``loss``) on arrays.

    The statistics are the loss's fitted ones, else those of ``y_true``
    (computed once per content of the labels and weights).
    """
    call = Call("direct", raw_prediction, y_true, sample_weight, None)
    xp, dev, raw = _margins(call, None, loss)
    _, binding, labels, w = _bind(loss, call, xp, dev, raw)
    stats = _statistics(loss, binding, labels, w, xp)
    return loss._evaluate(mode, labels, w, raw, stats, xp, context, n_threads=n_threads)


class ObjectiveMixin:
    """Makes a loss the objective and metric of every booster as it is.

    The loss provides ``_signature``, ``_validated``, ``_statistics``,
    ``_needs_round`` and ``_evaluate`` (see :class:`gbloss.Loss`).
    """

    #: CatBoost: do not try to numba-compile the methods (see :mod:`.catboost`).
    no_jit = cb_calls.NO_JIT

    def __call__(self, a: Any, b: Any, sample_weight: Any = None, group: Any = NOT_GIVEN
                 ) -> tuple[Any, Any]:
        """Custom objective: ``(grad, hess)`` for whichever booster calls.

        * XGBoost native: ``obj(predt, dtrain)`` (>= 3.2: ``obj(iteration, predt, dtrain)``);
        * LightGBM native: ``fobj(preds, train_set)``;
        * XGBoost scikit-learn: ``obj(y_true, y_pred, sample_weight=w)``;
        * LightGBM scikit-learn: ``obj(y_true, y_pred, weight, group)``.
        """
        return Objective(self)(a, b, sample_weight, group)

    def calc_ders_range(self, approxes: Any, targets: Any, weights: Any) -> Any:
        """CatBoost objective (binary, regression; ``loss_function=loss``): one block of
        objects, ``(n, 2)`` rows ``(-grad, -hess)`` (CatBoost maximises)."""
        return cb_calls.ders_range(self, approxes, targets, weights)

    def calc_ders_multi(self, approx: Any, target: Any, weight: Any) -> tuple[Any, Any]:
        """CatBoost objective (multiclass): one object, ``(-grad, -diag(hess))``."""
        return cb_calls.ders_multi(self, approx, target, weight)

    @property
    def metric(self) -> Metric:
        """The loss as an evaluation metric, callable in each booster's form."""
        return Metric(self)


def register_with_xgboost() -> None:
    """Make losses and :class:`Objective` virtual ``xgboost.objective.Objective`` classes
    (XGBoost >= 3.2 then passes them the iteration)."""
    register_xgboost_objective(ObjectiveMixin)
    register_xgboost_objective(Objective)
